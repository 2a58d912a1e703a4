#!/usr/bin/env bash
# `--state` sessions reload exactly (issue 11 item 2): a refused write with an effect (EINVAL
# from `online_kernel` on an online block sets online_type) survives the save, so do root's
# chmod and chown of sysfs files (kernfs keeps them in the inode), restarting the
# same command line does not apply its --write options twice, a different --write list is
# refused (status 2), and a state file cut mid-line is an error with FILE:LINE (status 2).
# Usage: tests/fuse/state.sh MEMHP. Exit 0 = pass, 77 = skipped.
set -uo pipefail
MEMHP=${1:?usage: state.sh MEMHP}
if [ "$(id -u)" != 0 ] || [ ! -c /dev/fuse ]; then echo "SKIP: memhp sandbox needs root and /dev/fuse"; exit 77; fi
if [ ! -d /sys/devices/system/memory ]; then echo "SKIP: this host has no /sys/devices/system/memory to bind over"; exit 77; fi
work=$(mktemp -d /tmp/memhp-state.XXXXXX)
trap 'rm -rf "$work"' EXIT
st="$work/s.state"
m=/sys/devices/system/memory/memory33
args=(--state "$st" --mem 1G --maxmem 4G --slots 4 --dimm 512M --write "$m/state=online_movable")
fails=0

out=$("$MEMHP" sandbox "${args[@]}" -- sh -c "
    echo online_kernel > $m/state 2>/dev/null && echo accepted || echo refused
    echo offline > $m/state && echo offlined
    chmod 600 $m/online && chown 1:2 $m/valid_zones && stat -c '%a %u:%g' $m/online $m/valid_zones" 2>&1)
[ "$out" == "refused
offlined
600 0:0
444 1:2" ] || { echo "FAIL: first session: $out"; fails=1; }

# The same command line again: its --write is in the state already (not applied twice: the
# block stays offline), and online_type=online_kernel came back with the refused write.
out=$("$MEMHP" sandbox "${args[@]}" -- sh -c "cat $m/state; echo 1 > $m/online && cat $m/valid_zones
    stat -c '%a %u:%g' $m/online $m/valid_zones" 2>&1)
rc=$?
[ $rc == 0 ] && [ "$out" == "offline
Normal
600 0:0
444 1:2" ] || { echo "FAIL: restarted session ($rc): $out"; fails=1; }

# A different --write list with an existing state: status 2.
"$MEMHP" sandbox --state "$st" --write "$m/state=offline" -- true > "$work/err" 2>&1
rc=$?
[ $rc == 2 ] || { echo "FAIL: a different --write list gave $rc: $(cat "$work/err")"; fails=1; }

# Cut mid-line: FILE:LINE, status 2.
head -c -7 "$st" > "$work/cut.state"
lines=$(wc -l < "$work/cut.state")
"$MEMHP" sandbox --state "$work/cut.state" -- true > "$work/err" 2>&1
rc=$?
[ $rc == 2 ] && grep -q "cut.state:$((lines + 1)):" "$work/err" || { echo "FAIL: a cut state gave $rc: $(cat "$work/err")"; fails=1; }

[ $fails == 0 ] && echo "PASS: refused writes' effects and chmod/chown reload, no double --write, bad files exit 2 with FILE:LINE"
exit $fails
