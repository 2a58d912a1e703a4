#!/usr/bin/env bash
# `memhp mount` end to end: unmodified tools (cat, bash's echo, lsmem) against the model over
# FUSE, 8 concurrent clients, then SIGINT and a clean unmount.
# Usage: tests/fuse/mount.sh MEMHP [SECONDS]   (SECONDS of concurrent load, default 3; the soak
# is `tests/fuse/mount.sh MEMHP 60`). Exit 0 = pass, 77 = skipped (not root or no /dev/fuse).
set -uo pipefail
MEMHP=${1:?usage: mount.sh MEMHP [SECONDS]}
SECONDS_OF_LOAD=${2:-3}
if [ "$(id -u)" != 0 ] || [ ! -c /dev/fuse ]; then
    echo "SKIP: memhp mount needs root and /dev/fuse"; exit 77
fi
MNT=$(mktemp -d /tmp/memhp-mnt.XXXXXX)
LOG=$(mktemp /tmp/memhp-mount-log.XXXXXX)
MEM=$MNT/sys/devices/system/memory
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
check() { # check NAME EXPECTED ACTUAL
    if [ "$2" == "$3" ]; then echo "ok: $1"; else fail "$1: expected [$2], got [$3]"; fi
}

"$MEMHP" mount "$MNT" --mem 1G --maxmem 4G --slots 4 --dimm 512M --dimm 512M >"$LOG" 2>&1 &
PID=$!
cleanup() { kill -INT $PID 2>/dev/null; sleep 0.5; umount -l "$MNT" 2>/dev/null; rmdir "$MNT" 2>/dev/null; rm -f "$LOG"; }
trap cleanup EXIT
for _ in $(seq 100); do [ -e "$MEM/block_size_bytes" ] && break; sleep 0.1; done
[ -e "$MEM/block_size_bytes" ] || { cat "$LOG"; fail "the mount did not come up"; exit 1; }

# Reads: the model's text, as the kernel prints it.
check block_size_bytes 8000000 "$(cat $MEM/block_size_bytes)"
check memory32/state offline "$(cat $MEM/memory32/state)"
check memory32/valid_zones "Normal Movable" "$(cat $MEM/memory32/valid_zones)"
check memory0/valid_zones none "$(cat $MEM/memory0/valid_zones)"
check node-symlink ../../node/node0 "$(readlink $MEM/memory32/node0)"
check meminfo-first-line MemTotal "$(head -1 $MNT/proc/meminfo | cut -d: -f1)"
check online_policy contig-zones "$(cat $MNT/sys/module/memory_hotplug/parameters/online_policy)"

# Bad writes: the same shell error text as on Linux 6.1.
check bad-state "bash: line 1: echo: write error: Invalid argument" "$(bash -c "echo foo > $MEM/memory32/state" 2>&1)"
check offline-memory0 "bash: line 1: echo: write error: Invalid argument" "$(bash -c "echo offline > $MEM/memory0/state" 2>&1)"
check explain-memory0 "memory0: memory0 spans several zones or nodes (valid_zones: none): mem->zone is NULL, offline is EINVAL" \
    "$(grep -o 'memory0: memory0 spans.*' $MNT/sys/kernel/debug/memhp/explain | tail -1)"
check read-only-attribute "bash: line 1: $MEM/memory32/valid_zones: Permission denied" "$(bash -c "echo x > $MEM/memory32/valid_zones" 2>&1)"
check memmap_on_memory-0444 "bash: line 1: $MNT/sys/module/memory_hotplug/parameters/memmap_on_memory: Permission denied" \
    "$(bash -c "echo Y > $MNT/sys/module/memory_hotplug/parameters/memmap_on_memory" 2>&1)"
check pagetypeinfo-0400-for-nobody "cat: $MNT/proc/pagetypeinfo: Permission denied" \
    "$(su nobody -s /bin/sh -c "cat $MNT/proc/pagetypeinfo" 2>&1)"

# Good writes change the model's state.
echo online_movable > $MEM/memory32/state || fail "online_movable memory32"
echo online_kernel > $MEM/memory33/state || fail "online_kernel memory33"
echo online > $MEM/memory34/state || fail "online memory34"
check memory32-after "online Movable" "$(cat $MEM/memory32/state) $(cat $MEM/memory32/valid_zones)"
check memory33-after "online Normal" "$(cat $MEM/memory33/state) $(cat $MEM/memory33/valid_zones)"
check memory34-after "online Normal" "$(cat $MEM/memory34/state) $(cat $MEM/memory34/valid_zones)"
if command -v lsmem >/dev/null; then
    check lsmem-over-fuse "0x0000000100000000-0x0000000107ffffff  128M  online       yes    32        Movable" \
        "$(LC_ALL=C lsmem --sysroot $MNT -o +ZONES | grep ' 32 ')"
fi

# 8 concurrent clients: 4 each toggle a block of their own (35..38) between online_movable and
# offline and check the read-back, 4 read the /proc views and the block list.
client() {
    local i=$1 end=$((SECONDS + SECONDS_OF_LOAD)) n=0
    if [ "$i" -lt 4 ]; then
        local b=$MEM/memory$((35 + i))
        while [ $SECONDS -lt $end ]; do
            echo online_movable > $b/state || { echo "client $i: online failed"; return 1; }
            [ "$(cat $b/state)" == online ] || { echo "client $i: not online"; return 1; }
            echo offline > $b/state || { echo "client $i: offline failed"; return 1; }
            [ "$(cat $b/state)" == offline ] || { echo "client $i: not offline"; return 1; }
            n=$((n + 1))
        done
    else
        while [ $SECONDS -lt $end ]; do
            grep -q '^MemFree:' $MNT/proc/meminfo || { echo "client $i: meminfo"; return 1; }
            grep -q 'zone   Normal' $MNT/proc/zoneinfo || { echo "client $i: zoneinfo"; return 1; }
            [ "$(ls $MEM | grep -c '^memory[0-9]')" == 16 ] || { echo "client $i: ls"; return 1; }
            n=$((n + 1))
        done
    fi
    echo "client $i: $n rounds"
}
pids=()
for i in $(seq 0 7); do client $i & pids+=($!); done
for p in "${pids[@]}"; do wait $p || fail "a concurrent client failed"; done

# SIGINT: memhp detaches the mount and exits 0.
kill -INT $PID
for _ in $(seq 50); do kill -0 $PID 2>/dev/null || break; sleep 0.1; done
if kill -0 $PID 2>/dev/null; then fail "memhp mount still running after SIGINT"; else
    wait $PID; check exit-status-after-SIGINT 0 $?
fi
if grep -q " $MNT " /proc/mounts; then fail "still mounted after SIGINT"; else echo "ok: unmounted"; fi
[ $fails == 0 ] && echo "PASS: memhp mount" || { echo "$fails failure(s)"; exit 1; }
