#!/usr/bin/env bash
# Ctrl-C (SIGINT) during `memhp study hvo`: no new run starts, the finished runs are written
# (study.json says complete=false; runs.csv holds them), and the exit status is 130.
# Usage: tests/study/sigint.sh MEMHP_BINARY
set -uo pipefail
memhp=${1:?usage: sigint.sh MEMHP_BINARY}
tmp=$(mktemp -d)
"$memhp" study hvo --mem 1G --maxmem 4G --dimm 1G --reps 200 --plain --validation none -o "$tmp/o" >"$tmp/out" 2>"$tmp/err" &
pid=$!
for _ in $(seq 1 600); do grep -q "runs/min" "$tmp/err" 2>/dev/null && break; sleep 0.2; done
kill -INT "$pid"
rc=0; wait "$pid" || rc=$?
fail() { echo "sigint.sh: $*"; cat "$tmp/err"; exit 1; }
[ "$rc" = 130 ] || fail "exit $rc, 130 expected"
grep -q '"complete" : false' "$tmp/o/study.json" || fail "study.json does not say complete=false"
rows=$(($(wc -l <"$tmp/o/runs.csv") - 1))
total=$(grep -o '^memhp study: [0-9]* runs' "$tmp/err" | grep -o '[0-9]*' | head -1)
[ "$rows" -ge 1 ] && [ "$rows" -lt "$total" ] || fail "$rows runs written of $total"
json_runs=$(grep -c '"point" : ' "$tmp/o/study.json")
[ "$json_runs" -ge "$rows" ] || fail "study.json has $json_runs run/point entries, runs.csv $rows"
awk -F, 'NR > 1 && $20 != 1 { bad = 1 } END { exit bad }' "$tmp/o/runs.csv" || fail "an unfinished run was written"
grep -q "<svg id=\"chart-blocks\"" "$tmp/o/report.html" || fail "no report"
rm -rf "$tmp"
echo "sigint.sh: interrupted after $rows of $total runs; they are written and complete"
