#!/usr/bin/env bash
# Runs the study's validation points on the real Linux 6.1 under QEMU TCG (`memhp kernel-run`),
# one after another, niced: each run takes about a minute of a core. The kernel's logs become
# fixtures (tests/study/validation/NAME-repK.kernel.txt) that `memhp study hvo` shows beside the
# model. Usage: scripts/study-validate.sh [MEMHP_BINARY] [NAME_GLOB]; scripts/kernel-setup.sh first.
set -euo pipefail
cd "$(dirname "$0")/.."
memhp=${1:-.build/debug/memhp}
glob=${2:-*}
dir=tests/study/validation
"$memhp" study validation-scenarios "$dir" >/dev/null
# Repetition-major: every point gets its first run before any gets its second.
for scn in $(for r in 1 2 3 4 5 6 7 8 9; do ls "$dir"/$glob-rep$r.scn 2>/dev/null; done); do
	log=${scn%.scn}.kernel.txt
	[ -s "$log" ] && grep -q '^end completed=1' "$log" && { echo "have $log"; continue; }
	echo "kernel-run $scn" >&2
	nice -n 10 "$memhp" kernel-run "$scn" -o "$log.tmp" 2>"${log%.kernel.txt}.stderr.tmp" || true
	if grep -q '^end completed=1' "$log.tmp"; then mv "$log.tmp" "$log"; rm -f "${log%.kernel.txt}.stderr.tmp"; else echo "incomplete: $scn" >&2; fi
done
