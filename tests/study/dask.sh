#!/usr/bin/env bash
# `memhp study hvo --shard K/N` fanned out over Dask distributed (PyPI `distributed`, installed
# here with pip): a LocalCluster with two workers runs three shards, `memhp study merge` joins
# them, and every output file equals the single-machine study byte for byte.
# Usage: tests/study/dask.sh MEMHP_BINARY. 77 = distributed cannot be installed.
set -euo pipefail
memhp=${1:?usage: dask.sh MEMHP_BINARY}
cd "$(dirname "$0")/../.."
if ! python3 -c "import distributed" 2>/dev/null; then
	python3 -m pip install -q distributed >/dev/null 2>&1 || pip install -q distributed >/dev/null 2>&1 || true
	python3 -c "import distributed" 2>/dev/null || { echo "dask.sh: cannot install distributed; skipped"; exit 77; }
fi
tmp=$(mktemp -d)
grid=(--mem 1G --maxmem 4G --dimm 1G --pool 10,25 --page-size 2M --pressure none,fill:1M --online movable --reps 3 --validation none)
"$memhp" study hvo "${grid[@]}" --plain -o "$tmp/single" >/dev/null 2>&1
python3 scripts/study-dask.py --memhp "$memhp" --shards 3 --workers 2 --out "$tmp/dask" -- "${grid[@]}" >/dev/null 2>"$tmp/dask.log" \
	|| { cat "$tmp/dask.log"; exit 1; }
grep -q "3 shards done on 2 workers" "$tmp/dask.log" || { cat "$tmp/dask.log"; echo "dask.sh: not 2 workers"; exit 1; }
for f in study.json runs.csv points.csv report.html; do
	cmp "$tmp/single/$f" "$tmp/dask/$f" || { echo "dask.sh: $f differs from the single-machine result"; exit 1; }
done
runs=$(($(wc -l <"$tmp/dask/runs.csv") - 1))
[ "$runs" = 24 ] || { echo "dask.sh: $runs runs merged, 24 expected"; exit 1; }
rm -rf "$tmp"
echo "dask.sh: 3 shards on a 2-worker LocalCluster merged byte for byte into the single result ($runs runs)"
