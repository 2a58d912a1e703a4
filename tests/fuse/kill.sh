#!/usr/bin/env bash
# kill -9 (issue 11 item 6): a killed `memhp mount` leaves a dead mount, which the next mount
# on the same directory detaches instead of stacking on it (and a live one is refused); a
# killed `memhp sandbox` leaves no temporary directory behind.
# Usage: tests/fuse/kill.sh MEMHP. Exit 0 = pass, 77 = skipped.
set -uo pipefail
MEMHP=${1:?usage: kill.sh MEMHP}
if [ "$(id -u)" != 0 ] || [ ! -c /dev/fuse ]; then echo "SKIP: memhp mount needs root and /dev/fuse"; exit 77; fi
d=$(mktemp -d /tmp/memhp-kill.XXXXXX)
fails=0
wait_for() { for _ in $(seq 300); do [ -e "$1" ] && return 0; sleep 0.1; done; return 1; }
"$MEMHP" mount "$d" 2>/dev/null & p1=$!
wait_for "$d/proc/meminfo" || { echo "FAIL: the first mount did not come up"; exit 1; }
kill -9 $p1; wait $p1 2>/dev/null
stat "$d" >/dev/null 2>&1 && { echo "FAIL: no dead mount after kill -9 (nothing tested)"; fails=1; }
"$MEMHP" mount "$d" 2>"$d.err" & p2=$!
wait_for "$d/proc/meminfo" || { echo "FAIL: the second mount did not come up: $(cat "$d.err")"; fails=1; }
grep -q "dead memhp mount" "$d.err" || { echo "FAIL: the dead mount was not reported"; fails=1; }
[ "$(grep -c " $d " /proc/self/mountinfo)" == 1 ] || { echo "FAIL: mounts stacked on $d"; fails=1; }
"$MEMHP" mount "$d" 2>/dev/null && { echo "FAIL: a mount over a live one was not refused"; fails=1; }
kill $p2; wait $p2 2>/dev/null
[ "$(grep -c " $d " /proc/self/mountinfo)" == 0 ] || { echo "FAIL: the mount stayed after SIGTERM"; fails=1; umount -l "$d"; }
rm -f "$d.err"; rmdir "$d"

if [ -d /sys/devices/system/memory ]; then
    before=$(ls -d /tmp/memhp-sandbox.* 2>/dev/null | wc -l)
    "$MEMHP" sandbox -- sleep 30 & p3=$!
    sleep 5
    kill -9 $p3; wait $p3 2>/dev/null
    after=$(ls -d /tmp/memhp-sandbox.* 2>/dev/null | wc -l)
    [ "$after" == "$before" ] || { echo "FAIL: a killed sandbox left its temporary directory"; fails=1; }
fi
[ $fails == 0 ] && echo "PASS: dead mount detached, live mount refused, killed sandbox leaves no directory"
exit $fails
