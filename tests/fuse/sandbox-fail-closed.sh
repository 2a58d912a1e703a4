#!/usr/bin/env bash
# `memhp sandbox` fails closed (issue 11 item 1): a served path that exists on the host but
# cannot be covered stops the sandbox before COMMAND runs. Made real, not simulated: in a mount
# namespace of its own this test puts a tmpfs over /proc/sys/vm holding a *directory* named
# min_free_kbytes, so the sandbox's bind of the model's file onto it fails (ENOTDIR, mount(2)
# binds only a file onto a file), and likewise a *file* named memory where the model's
# /sys/devices/system/memory directory must go. Each time: exit status 1, a message naming
# the path, COMMAND never started, no temporary directory left. Then a control run in the same
# namespace setup without the trap runs COMMAND (the refusal is the trap's doing).
# Usage: tests/fuse/sandbox-fail-closed.sh MEMHP (KEEP=1 keeps the outputs). Exit 0 = pass, 77 = skipped.
set -uo pipefail
MEMHP=${1:?usage: sandbox-fail-closed.sh MEMHP}
if [ "$(id -u)" != 0 ] || [ ! -c /dev/fuse ]; then echo "SKIP: memhp sandbox needs root and /dev/fuse"; exit 77; fi
command -v unshare >/dev/null || { echo "SKIP: no unshare(1)"; exit 77; }
[ -d /proc/sys/vm ] && [ -d /sys/devices/system ] || { echo "SKIP: no /proc/sys/vm or /sys/devices/system"; exit 77; }
work=$(mktemp -d /tmp/memhp-failclosed.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
MEMHP=$(readlink -f "$MEMHP")
fails=0
sandboxes() { find /tmp -maxdepth 1 -name 'memhp-sandbox.*' 2>/dev/null | wc -l; }

# $1: name; $2: shell that sets up the trap inside the private namespace; $3: the path that must
# be named. The command would create $work/ran-$1.
refuses() {
    local name=$1 setup=$2 path=$3 before rc
    before=$(sandboxes)
    unshare -m --propagation private bash -c "$setup"'
        exec "$0" sandbox --mem 1G --maxmem 4G --slots 4 --dimm 512M -- touch "$1"' \
        "$MEMHP" "$work/ran-$name" > "$work/$name.out" 2> "$work/$name.err"
    rc=$?
    [ $rc == 1 ] || { echo "FAIL: $name: exit status $rc, expected 1"; fails=$((fails + 1)); }
    [ ! -e "$work/ran-$name" ] || { echo "FAIL: $name: COMMAND ran although $path was not covered"; fails=$((fails + 1)); }
    grep -q "cannot cover $path (bind: Not a directory); not running touch" "$work/$name.err" || {
        echo "FAIL: $name: no refusal naming $path:"; cat "$work/$name.err"; fails=$((fails + 1))
    }
    [ "$(sandboxes)" == "$before" ] || { echo "FAIL: $name: a /tmp/memhp-sandbox.* directory was left"; fails=$((fails + 1)); }
}

refuses sysctl-file 'mount -t tmpfs none /proc/sys/vm && mkdir /proc/sys/vm/min_free_kbytes || exit 99' \
    /proc/sys/vm/min_free_kbytes
refuses sysfs-dir 'mount -t tmpfs none /sys/devices/system && touch /sys/devices/system/memory || exit 99' \
    /sys/devices/system/memory

# Control: the same tmpfs, with a file where the file goes: the sandbox covers it and runs.
unshare -m --propagation private bash -c 'mount -t tmpfs none /proc/sys/vm && echo 67584 > /proc/sys/vm/min_free_kbytes || exit 99
    exec "$0" sandbox --mem 1G --maxmem 4G --slots 4 --dimm 512M -- sh -c "cat /proc/sys/vm/min_free_kbytes > $1"' \
    "$MEMHP" "$work/control" 2> "$work/control.err"
rc=$?
[ $rc == 0 ] || { echo "FAIL: control: exit status $rc"; cat "$work/control.err"; fails=$((fails + 1)); }
# The model's min_free_kbytes (as `memhp export` writes it for the same machine), not the tmpfs's.
"$MEMHP" export "$work/tree" --mem 1G --maxmem 4G --slots 4 --dimm 512M 2>/dev/null || { echo "FAIL: export"; fails=$((fails + 1)); }
model=$(cat "$work/tree/proc/sys/vm/min_free_kbytes" 2>/dev/null)
[ -n "$model" ] && [ "$model" != 67584 ] && [ "$(cat "$work/control" 2>/dev/null)" == "$model" ] || {
    echo "FAIL: control: the command read '$(cat "$work/control" 2>/dev/null)', the model serves '$model'"; fails=$((fails + 1))
}

[ $fails == 0 ] && echo "PASS: sandbox-fail-closed (2 uncoverable paths refused, control ran: min_free_kbytes $(cat "$work/control"))"
exit $((fails > 0))
