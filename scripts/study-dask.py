#!/usr/bin/env python3
"""Run `memhp study hvo` as N shards on a Dask distributed cluster, then `memhp study merge`.

Dask schedules; memhp does the work: each task runs `memhp study hvo ... --shard K/N` into its
own directory, and the merge joins them into exactly what one machine would have written.

  scripts/study-dask.py --memhp .build/release/memhp --shards 4 --out study-out -- --reps 20
  scripts/study-dask.py --scheduler tcp://host:8786 ...   (an existing cluster; the workers need
                                                            memhp at the same path and a shared --out)
Without --scheduler a LocalCluster with --workers processes is started.
"""
import argparse
import os
import subprocess
import sys


def run_shard(memhp, study_args, k, n, out):
    shard_dir = os.path.join(out, "shards", f"{k}-of-{n}")
    cmd = [memhp, "study", "hvo", *study_args, "--shard", f"{k}/{n}", "--plain", "--jobs", "1", "-o", shard_dir]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"shard {k}/{n} failed ({p.returncode}): {p.stderr.strip()}")
    return shard_dir


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--memhp", required=True, help="the memhp binary")
    ap.add_argument("--shards", type=int, default=4)
    ap.add_argument("--out", required=True, help="output directory (shards go to OUT/shards)")
    ap.add_argument("--scheduler", help="address of a running Dask scheduler")
    ap.add_argument("--workers", type=int, default=2, help="LocalCluster worker processes")
    ap.add_argument("study_args", nargs=argparse.REMAINDER, help="-- then `memhp study hvo` options")
    a = ap.parse_args()
    study_args = a.study_args[1:] if a.study_args[:1] == ["--"] else a.study_args
    if a.shards < 1:
        sys.exit("study-dask: --shards must be at least 1")
    from dask.distributed import Client, LocalCluster

    memhp = os.path.abspath(a.memhp)
    out = os.path.abspath(a.out)
    cluster = None
    if a.scheduler:
        client = Client(a.scheduler)
    else:
        cluster = LocalCluster(n_workers=a.workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    try:
        futures = [client.submit(run_shard, memhp, study_args, k, a.shards, out, pure=False) for k in range(1, a.shards + 1)]
        dirs = client.gather(futures)
        workers_used = sorted({w for f in futures for w in client.who_has(f).get(f.key, ())})
        print(f"study-dask: {a.shards} shards done on {len(client.scheduler_info()['workers'])} workers", file=sys.stderr)
    finally:
        client.close()
        if cluster:
            cluster.close()
    merge_args = [a for a in study_args if a.startswith("--validation")]
    if "--validation" in study_args:
        i = study_args.index("--validation")
        merge_args = study_args[i:i + 2]
    subprocess.run([memhp, "study", "merge", *dirs, *merge_args, "-o", out], check=True)


if __name__ == "__main__":
    main()
