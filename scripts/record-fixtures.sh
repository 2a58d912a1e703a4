#!/bin/sh
# Records the real kernel's observation logs for the conformance corpus:
# tests/conformance/NAME.scn -> tests/conformance/NAME.kernel.txt, two QEMU runs at a time
# (TCG is CPU-bound; the machines have 2 cores). Each run is bounded by the scenario's
# `timeout:` inside memhp, and by an outer `timeout` in case memhp itself hangs.
# Usage: scripts/record-fixtures.sh [MEMHP] [NAME...]   (default: all scenarios, memhp from .build-kr)
set -u
cd "$(dirname "$0")/.."
MEMHP=${MEMHP:-.build-kr/debug/memhp}
JOBS=${JOBS:-2}
LOGDIR=${LOGDIR:-/tmp/memhp-fixtures}
mkdir -p "$LOGDIR"
if [ $# -gt 0 ]; then names="$*"; else names=$(ls tests/conformance/*.scn | sed 's|.*/||; s|\.scn$||'); fi

run_one() {
	n=$1
	t=$(sed -n 's/^timeout: *//p' "tests/conformance/$n.scn"); t=${t:-300}
	start=$(date +%s)
	timeout $((t + 180)) "$MEMHP" kernel-run "tests/conformance/$n.scn" -o "tests/conformance/$n.kernel.txt" \
		--console "$LOGDIR/$n.console.txt" > "$LOGDIR/$n.stderr" 2>&1
	rc=$?
	echo "$n rc=$rc wall_s=$(( $(date +%s) - start )) $(grep '^end ' "tests/conformance/$n.kernel.txt" 2>/dev/null)"
}

# Two lanes: each takes every JOBS-th scenario.
i=0
for lane in $(seq 0 $((JOBS - 1))); do
	(
		k=0
		for n in $names; do
			[ $((k % JOBS)) -eq "$lane" ] && run_one "$n"
			k=$((k + 1))
		done
	) &
	i=$((i + 1))
done
wait
