#!/bin/sh
# Records campaign seeds on the real kernel, one QEMU at a time, niced, resumable (tests/campaign/RUNS).
# Usage: scripts/campaign-record.sh FIRST LAST   (MEMHP: the binary, default .build-campaign/memhp,
# a copy so that rebuilding the worktree does not replace it mid-run)
set -u
cd "$(dirname "$0")/.."
MEMHP=${MEMHP:-.build-campaign/memhp}
s=${1:-0}; last=${2:-199}
while [ "$s" -le "$last" ]; do
	timeout 900 nice -n 10 "$MEMHP" campaign record --seeds "$s" --runs "${RUNS:-2}" 2>>"${LOG:-campaign-record.stderr}"
	s=$((s + 1))
done
