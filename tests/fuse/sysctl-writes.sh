#!/usr/bin/env bash
# Large sysctl writes over `memhp mount` as 6.1's proc_sys_call_handler takes them (issue 11
# item 4). FUSE splits one write(2) into 128 KiB requests and never says the total; the server
# reads it from the writer's /proc/PID/syscall. So, as on Linux:
#   - a write of exactly 2 x 128 KiB (and a 3 x 128 KiB writev) is applied once, whole, and the
#     value is there as soon as write(2) returns (read on another descriptor before closing);
#   - a write of 4 MiB (KMALLOC_MAX_SIZE) fails with -1/ENOMEM and changes nothing;
#   - 4 MiB - 1 byte is applied;
#   - a pwrite at offset 5 is ignored (sysctl_writes_strict) and returns its count.
# Usage: tests/fuse/sysctl-writes.sh MEMHP. Exit 0 = pass, 77 = skipped (not root or no /dev/fuse).
set -uo pipefail
MEMHP=${1:?usage: sysctl-writes.sh MEMHP}
if [ "$(id -u)" != 0 ] || [ ! -c /dev/fuse ]; then echo "SKIP: memhp mount needs root and /dev/fuse"; exit 77; fi
command -v python3 >/dev/null || { echo "SKIP: needs python3"; exit 77; }
MNT=$(mktemp -d /tmp/memhp-mnt.XXXXXX)
LOG=$(mktemp /tmp/memhp-mount-log.XXXXXX)
"$MEMHP" mount "$MNT" --mem 1G >"$LOG" 2>&1 &
PID=$!
cleanup() { kill -INT $PID 2>/dev/null; sleep 0.5; umount -l "$MNT" 2>/dev/null; rmdir "$MNT" 2>/dev/null; rm -f "$LOG"; }
trap cleanup EXIT
F=$MNT/proc/sys/vm/min_free_kbytes
for _ in $(seq 100); do [ -e "$F" ] && break; sleep 0.1; done
[ -e "$F" ] || { cat "$LOG"; echo "FAIL: the mount did not come up"; exit 1; }

python3 - "$F" <<'EOF'
import errno, os, sys
path = sys.argv[1]
K = 128 * 1024
fails = 0

def check(name, expected, actual):
    global fails
    if expected == actual:
        print(f"ok: {name}")
    else:
        print(f"FAIL: {name}: expected {expected!r}, got {actual!r}")
        fails += 1

def value():
    with open(path) as f:
        return f.read().strip()

def padded(text, size):
    # The number, then blanks up to `size`: __do_proc_dointvec reads only the first 4095
    # bytes and skips blanks, so the whole count is consumed (a number further in is EINVAL).
    return text + b" " * (size - len(text) - 1) + b"\n"

# One write(2) of exactly 2 x 128 KiB: applied whole, visible before close.
fd = os.open(path, os.O_WRONLY)
n = os.write(fd, padded(b"12345", 2 * K))
check("write 256 KiB returns its count", 2 * K, n)
check("256 KiB value visible before close", "12345", value())
os.close(fd)
check("256 KiB value after close", "12345", value())

# writev of 3 x 128 KiB from two buffers: the iovec total is the write's size.
fd = os.open(path, os.O_WRONLY)
n = os.writev(fd, [b"23456" + b" " * (K - 5), b" " * (2 * K - 1) + b"\n"])
check("writev 384 KiB returns its count", 3 * K, n)
check("384 KiB writev value visible before close", "23456", value())
os.close(fd)

# 4 MiB: ENOMEM from the first request, nothing changed.
fd = os.open(path, os.O_WRONLY)
try:
    n = os.write(fd, padded(b"34567", 4 << 20))
    check("write 4 MiB fails", "ENOMEM", f"returned {n}")
except OSError as e:
    check("write 4 MiB fails", "ENOMEM", errno.errorcode.get(e.errno, e.errno))
os.close(fd)
check("4 MiB changed nothing", "23456", value())

# 4 MiB - 1: below KMALLOC_MAX_SIZE, applied.
fd = os.open(path, os.O_WRONLY)
n = os.write(fd, padded(b"45678", (4 << 20) - 1))
check("write 4 MiB - 1 returns its count", (4 << 20) - 1, n)
check("4 MiB - 1 value", "45678", value())
os.close(fd)

# A write at an offset: ignored under sysctl_writes_strict, yet its whole count is returned
# (__do_proc_dointvec jumps past the `*lenp -= left`).
fd = os.open(path, os.O_WRONLY)
n = os.pwrite(fd, b"50000\n", 5)
check("pwrite at offset 5 returns its count", 6, n)
check("pwrite at offset 5 changed nothing", "45678", value())
os.close(fd)
sys.exit(1 if fails else 0)
EOF
rc=$?
[ $rc == 0 ] && echo "PASS: large and offset sysctl writes as 6.1" || { echo "FAIL: sysctl writes"; exit 1; }
