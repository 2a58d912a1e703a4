#!/usr/bin/env bash
# `memhp sandbox`: unmodified chmem 2.38 onlines 512M of the b-hotadd-dimms guest's DIMMs.
# Without -z, chmem writes online_movable because valid_zones lists Movable, lowest blocks first,
# so memory32-35 end up online in ZONE_MOVABLE and 36-39 stay offline. Then chmem -d -b on an
# offline block and -e -z Movable -b on an online one (both no-ops that exit 0, as on Linux), and
# hugeadm --pool-list over nr_hugepages=8. The host is untouched.
# Usage: tests/fuse/sandbox.sh MEMHP. Exit 0 = pass, 77 = skipped.
set -uo pipefail
MEMHP=${1:?usage: sandbox.sh MEMHP}
if [ "$(id -u)" != 0 ] || [ ! -c /dev/fuse ]; then echo "SKIP: memhp sandbox needs root and /dev/fuse"; exit 77; fi
if [ ! -d /sys/devices/system/memory ]; then echo "SKIP: this host has no /sys/devices/system/memory to bind over"; exit 77; fi
command -v chmem >/dev/null || { echo "FAIL: chmem (util-linux) is not installed"; exit 1; }
command -v hugeadm >/dev/null || { echo "FAIL: hugeadm (libhugetlbfs-bin) is not installed"; exit 1; }
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

# chmem -d -b 34 on a block that is already offline: chmem_range reads state "offline", counts the
# block as done without writing, and exits 0 (Linux would give the same). Nothing changes.
out=$("$MEMHP" sandbox --mem 1G --maxmem 4G --slots 4 --dimm 512M --dimm 512M -- sh -c '
    chmem -d -b 34 2>&1; echo rc=$?
    for b in 32 33 34 35 36 37 38 39; do echo "memory$b $(cat /sys/devices/system/memory/memory$b/state)"; done')
rc=$?
expected="rc=0
memory32 offline
memory33 offline
memory34 offline
memory35 offline
memory36 offline
memory37 offline
memory38 offline
memory39 offline"
[ $rc == 0 ] || { echo "FAIL: sandbox exit status $rc (chmem -d -b 34)"; fails=1; }
[ "$out" == "$expected" ] || { echo "FAIL: chmem -d -b 34 on an offline block:"; echo "$out"; fails=1; }

# chmem -e -z Movable -b 35 on a block already online (here in ZONE_NORMAL via online_kernel):
# chmem compares only the first 6 characters of state ("online"), so it does nothing, prints
# nothing and exits 0; the block stays online in Normal. The others stay offline.
out=$("$MEMHP" sandbox --mem 1G --maxmem 4G --slots 4 --dimm 512M --dimm 512M \
    --write /sys/devices/system/memory/memory35/state=online_kernel -- sh -c '
    chmem -e -z Movable -b 35 2>&1; echo rc=$?
    for b in 32 33 34 35 36 37 38 39; do echo "memory$b $(cat /sys/devices/system/memory/memory$b/state)"; done
    echo "memory35 zones: $(cat /sys/devices/system/memory/memory35/valid_zones)"')
rc=$?
expected="rc=0
memory32 offline
memory33 offline
memory34 offline
memory35 online
memory36 offline
memory37 offline
memory38 offline
memory39 offline
memory35 zones: Normal"
[ $rc == 0 ] || { echo "FAIL: sandbox exit status $rc (chmem -e -z Movable -b 35)"; fails=1; }
[ "$out" == "$expected" ] || { echo "FAIL: chmem -e -z Movable -b 35 on an online block:"; echo "$out"; fails=1; }

# hugeadm --pool-list (libhugetlbfs-bin) over a pool of 8 2 MiB pages set up through the sysctl.
# Minimum = nr_hugepages - surplus, Current = nr_hugepages, Maximum = Minimum + overcommit (0);
# the guest (qemu64 CPU, no pdpe1gb) has only the 2 MiB size, which is the default.
out=$("$MEMHP" sandbox --mem 1G --maxmem 4G --slots 4 --dimm 512M --dimm 512M \
    --write /proc/sys/vm/nr_hugepages=8 -- sh -c 'hugeadm --pool-list 2>&1; echo rc=$?')
rc=$?
expected="      Size  Minimum  Current  Maximum  Default
   2097152        8        8        8        *
rc=0"
[ $rc == 0 ] || { echo "FAIL: sandbox exit status $rc (hugeadm --pool-list)"; fails=1; }
[ "$out" == "$expected" ] || { echo "FAIL: hugeadm --pool-list with nr_hugepages=8:"; echo "$out"; fails=1; }

# Machine state that outlives a process: one sandbox changes the machine and saves it, the next
# starts from the saved state (its own machine options are ignored) and changes it again.
st=$(mktemp -u /tmp/memhp-state.XXXXXX)
"$MEMHP" sandbox --mem 1G --maxmem 4G --slots 4 --dimm 512M --state "$st" -- \
    sh -c 'echo online_movable > /sys/devices/system/memory/memory32/state; echo 4 > /proc/sys/vm/nr_hugepages' \
    || { echo "FAIL: sandbox --state (first run)"; fails=1; }
out=$("$MEMHP" sandbox --mem 2G --state "$st" -- sh -c 'cat /sys/devices/system/memory/memory32/state /sys/devices/system/memory/memory32/valid_zones /proc/sys/vm/nr_hugepages; echo offline > /sys/devices/system/memory/memory32/state')
[ "$out" == $'online\nMovable\n4' ] || { echo "FAIL: state not restored:"; echo "$out"; fails=1; }
out=$("$MEMHP" sandbox --state "$st" -- cat /sys/devices/system/memory/memory32/state)
[ "$out" == "offline" ] || { echo "FAIL: state not saved back: $out"; fails=1; }
echo junk > "$st"
"$MEMHP" sandbox --state "$st" -- true 2>/dev/null; [ $? == 2 ] || { echo "FAIL: a malformed state file is not exit status 2"; fails=1; }
rm -f "$st"

# The command's exit status comes back, and nothing leaks onto the host.
"$MEMHP" sandbox -- sh -c 'exit 3'; [ $? == 3 ] || { echo "FAIL: exit status not passed through"; fails=1; }
[ "$host_before" == "$(cat /sys/devices/system/memory/memory*/state | sort | uniq -c)" ] || { echo "FAIL: host block states changed"; fails=1; }
[ "$mounts_before" == "$(wc -l < /proc/self/mountinfo)" ] || { echo "FAIL: mounts leaked onto the host"; fails=1; }
[ $fails == 0 ] && echo "PASS: memhp sandbox (chmem -e 512M, -d -b 34, -e -z Movable -b 35; hugeadm --pool-list; --state)" || exit 1
