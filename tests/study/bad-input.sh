#!/usr/bin/env bash
# Bad input to `memhp study` gets a clear message and exit status 2, before any run starts.
# Usage: tests/study/bad-input.sh MEMHP_BINARY
set -uo pipefail
memhp=${1:?usage: bad-input.sh MEMHP_BINARY}
tmp=$(mktemp -d)
touch "$tmp/afile"
small=(--mem 1G --maxmem 4G --dimm 1G --pool 25 --page-size 2M --pressure none --online movable --reps 1 --validation none)
failures=0
expect() { # expect "MESSAGE PART" ARGS...
	local want=$1; shift
	local err rc=0
	err=$("$memhp" "$@" 2>&1 >/dev/null) || rc=$?
	if [ "$rc" != 2 ] || ! grep -qF -- "$want" <<<"$err"; then
		echo "FAIL: memhp $*: exit $rc, wanted 2 and '$want'; got: $err"; failures=$((failures + 1))
	else echo "ok: $want"; fi
}
expect "--hvo: the list is empty" study hvo "${small[@]}" --hvo "" -o "$tmp/o"
expect "--pool: a value is listed twice" study hvo "${small[@]}" --pool 25,25 -o "$tmp/o"
expect "--reps: 0 repetitions" study hvo "${small[@]}" --reps 0 -o "$tmp/o"
expect "a pool larger than memory cannot exist" study hvo "${small[@]}" --pool 150 -o "$tmp/o"
expect "do not fit in 2G of RAM" study hvo "${small[@]}" --pool 99 -o "$tmp/o"
expect "--page-size: '4M' is not 2M or 1G" study hvo "${small[@]}" --page-size 4M -o "$tmp/o"
expect "--pressure: 'fill' is not" study hvo "${small[@]}" --pressure fill -o "$tmp/o"
expect "--output $tmp/afile: exists and is not a directory" study hvo "${small[@]}" -o "$tmp/afile"
expect "--output /proc/memhp-study: cannot create the directory" study hvo "${small[@]}" -o /proc/memhp-study
expect "--output /proc: the directory is not writable" study hvo "${small[@]}" -o /proc
expect "--shard 3/2: K must be between 1 and N" study hvo "${small[@]}" --shard 3/2 -o "$tmp/o"
expect "--shard: 'x' is not K/N" study hvo "${small[@]}" --shard x -o "$tmp/o"
expect "merge: no shard results given" study merge -o "$tmp/o"
expect "$tmp/afile: not a memhp study result" study merge "$tmp/afile" -o "$tmp/o"
[ ! -e "$tmp/o/study.json" ] || { echo "FAIL: a refused study wrote results"; failures=$((failures + 1)); }
rm -rf "$tmp"
[ "$failures" = 0 ] || { echo "bad-input.sh: $failures failures"; exit 1; }
echo "bad-input.sh: all refused with exit 2"
