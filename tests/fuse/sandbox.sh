#!/usr/bin/env bash
# `memhp sandbox`: unmodified chmem 2.38 onlines 512M of the b-hotadd-dimms guest's DIMMs.
# Without -z, chmem writes online_movable because valid_zones lists Movable, lowest blocks first,
# so memory32-35 end up online in ZONE_MOVABLE and 36-39 stay offline. The host is untouched.
# Usage: tests/fuse/sandbox.sh MEMHP. Exit 0 = pass, 77 = skipped.
set -uo pipefail
MEMHP=${1:?usage: sandbox.sh MEMHP}
if [ "$(id -u)" != 0 ] || [ ! -c /dev/fuse ]; then echo "SKIP: memhp sandbox needs root and /dev/fuse"; exit 77; fi
if [ ! -d /sys/devices/system/memory ]; then echo "SKIP: this host has no /sys/devices/system/memory to bind over"; exit 77; fi
command -v chmem >/dev/null || { echo "FAIL: chmem (util-linux) is not installed"; exit 1; }
host_before=$(cat /sys/devices/system/memory/memory*/state | sort | uniq -c)
mounts_before=$(wc -l < /proc/self/mountinfo)

out=$("$MEMHP" sandbox --mem 1G --maxmem 4G --slots 4 --dimm 512M --dimm 512M -- sh -c '
    chmem -e 512M || exit 10
    for b in 32 33 34 35 36 37 38 39; do
        echo "memory$b $(cat /sys/devices/system/memory/memory$b/state) $(cat /sys/devices/system/memory/memory$b/valid_zones)"
    done')
rc=$?
expected="memory32 online Movable
memory33 online Movable
memory34 online Movable
memory35 online Movable
memory36 offline Normal Movable
memory37 offline Normal Movable
memory38 offline Normal Movable
memory39 offline Normal Movable"
fails=0
[ $rc == 0 ] || { echo "FAIL: sandbox exit status $rc"; fails=1; }
[ "$out" == "$expected" ] || { echo "FAIL: block states after chmem -e 512M:"; echo "$out"; fails=1; }
# The command's exit status comes back, and nothing leaks onto the host.
"$MEMHP" sandbox -- sh -c 'exit 3'; [ $? == 3 ] || { echo "FAIL: exit status not passed through"; fails=1; }
[ "$host_before" == "$(cat /sys/devices/system/memory/memory*/state | sort | uniq -c)" ] || { echo "FAIL: host block states changed"; fails=1; }
[ "$mounts_before" == "$(wc -l < /proc/self/mountinfo)" ] || { echo "FAIL: mounts leaked onto the host"; fails=1; }
[ $fails == 0 ] && echo "PASS: memhp sandbox (chmem -e 512M)" || exit 1
