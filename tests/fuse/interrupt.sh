#!/usr/bin/env bash
# A blocked offline over `memhp mount`, as on Linux 6.1: `echo offline` on a block with pinned
# pages blocks in write(2) (the kernel's offline_pages() retries until a signal) while other
# readers see `going-offline`; the writer's signal (SIGINT from timeout) ends it, the block is
# back online. Then the same write with a handled signal (bash's `trap`) shows EINTR's text,
# and --trace has logged both refusals with the model's reason.
# Usage: tests/fuse/interrupt.sh MEMHP. Exit 0 = pass, 77 = skipped (not root or no /dev/fuse).
set -uo pipefail
MEMHP=${1:?usage: interrupt.sh MEMHP}
if [ "$(id -u)" != 0 ] || [ ! -c /dev/fuse ]; then echo "SKIP: memhp mount needs root and /dev/fuse"; exit 77; fi
HERE=$(cd "$(dirname "$0")" && pwd)
MNT=$(mktemp -d /tmp/memhp-mnt.XXXXXX)
LOG=$(mktemp /tmp/memhp-mount-log.XXXXXX)
MEM=$MNT/sys/devices/system/memory
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
check() { if [ "$2" == "$3" ]; then echo "ok: $1"; else fail "$1: expected [$2], got [$3]"; fi; }

"$MEMHP" mount "$MNT" --scenario "$HERE/pinned-block.scn" --trace >"$LOG" 2>&1 &
PID=$!
cleanup() { kill -INT $PID 2>/dev/null; sleep 0.5; umount -l "$MNT" 2>/dev/null; rmdir "$MNT" 2>/dev/null; rm -f "$LOG"; }
trap cleanup EXIT
for _ in $(seq 100); do [ -e "$MEM/block_size_bytes" ] && break; sleep 0.1; done
[ -e "$MEM/block_size_bytes" ] || { cat "$LOG"; fail "the mount did not come up"; exit 1; }
check memory33-before "online Normal" "$(cat $MEM/memory33/state) $(cat $MEM/memory33/valid_zones)"

# The writer blocks; a reader meanwhile sees going-offline; SIGINT after 3 s ends the write.
start=$(date +%s%N)
timeout -s INT 3 sh -c "echo offline > $MEM/memory33/state" &
WRITER=$!
sleep 1
check state-while-blocked going-offline "$(cat $MEM/memory33/state)"
check online-while-blocked 1 "$(cat $MEM/memory33/online)"
check other-block-readable online "$(cat $MEM/memory0/state)"
wait $WRITER
rc=$?
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
check timeout-status 124 "$rc"
[ "$elapsed_ms" -ge 2900 ] && echo "ok: blocked ${elapsed_ms} ms" || fail "returned after ${elapsed_ms} ms, before the signal"
check state-after-signal online "$(cat $MEM/memory33/state)"

# A handled signal: write(2) returns EINTR to the shell, which reports it.
msg=$(bash -c "trap : USR1; (sleep 1; kill -USR1 \$\$) & echo offline > $MEM/memory33/state" 2>&1)
check eintr-text "bash: line 1: echo: write error: Interrupted system call" "$msg"
check state-after-eintr online "$(cat $MEM/memory33/state)"

# --trace: the refused writes with the kernel's answer and the model's reason.
grep -q 'memory33/state <- "offline\\n": EINTR (Interrupted system call)' "$LOG" && echo "ok: trace-eintr" || fail "trace: no EINTR line in $(cat "$LOG")"
grep -q 'why: memory33: .*pinned.*retried until the signal' "$LOG" && echo "ok: trace-why" || fail "trace: no reason in $(cat "$LOG")"

kill -INT $PID
for _ in $(seq 50); do kill -0 $PID 2>/dev/null || break; sleep 0.1; done
if kill -0 $PID 2>/dev/null; then fail "memhp mount did not exit on SIGINT"; fi
[ "$fails" = 0 ] && echo "PASS: blocked offline interrupted over FUSE" || { echo "$fails failure(s)"; exit 1; }
