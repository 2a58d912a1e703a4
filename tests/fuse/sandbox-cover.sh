#!/usr/bin/env bash
# `memhp sandbox` covers every path the model serves (issue 11 item 1): inside the sandbox each
# file of `memhp export`'s tree (the model's /sys and /proc files, /proc/sys/vm and /proc/iomem
# included, and with the module loaded the debugfs files of memory-notifier-error-inject) is on
# the FUSE mount and reads exactly as exported; then every writable one is written inside, and
# the host's values of every served path that the host has — read before and after, outside
# the sandbox — are unchanged.
# Usage: tests/fuse/sandbox-cover.sh MEMHP. Exit 0 = pass, 77 = skipped.
set -uo pipefail
MEMHP=${1:?usage: sandbox-cover.sh MEMHP}
if [ "$(id -u)" != 0 ] || [ ! -c /dev/fuse ]; then echo "SKIP: memhp sandbox needs root and /dev/fuse"; exit 77; fi
work=$(mktemp -d /tmp/memhp-cover.XXXXXX)
trap 'rm -rf "$work"' EXIT
# The module makes the model serve its debugfs area too, so the list below holds every kind of path.
opts=(--mem 1G --maxmem 4G --slots 4 --dimm 512M --module memory-notifier-error-inject)
"$MEMHP" export "$work/tree" "${opts[@]}" 2>/dev/null || { echo "FAIL: export"; exit 1; }
(cd "$work/tree" && find . -type f | sed 's|^\.||' | LC_ALL=C sort) > "$work/files"
# Every name of the tree, /sys before /proc as export walks them: a name's first lookup takes
# its dentry, inode and LSM blob in the model (VFS/DentryCache.swift), and export looks every
# name up before it reads a file, so the sandbox does the same before it compares (in the same
# order of filesystems: proc's inodes come from another cache than sysfs's).
(cd "$work/tree" && find . -mindepth 1 | sed 's|^\.||' | LC_ALL=C sort) > "$work/all"
{ grep -v '^/proc' "$work/all"; grep '^/proc' "$work/all"; } > "$work/entries"
nfiles=$(wc -l < "$work/files")
[ "$nfiles" -gt 100 ] || { echo "FAIL: only $nfiles exported files"; exit 1; }
grep -qx /proc/sys/vm/min_free_kbytes "$work/files" && grep -qx /proc/iomem "$work/files" \
    && grep -qx /proc/sys/vm/drop_caches "$work/files" || { echo "FAIL: the export lacks /proc/sys/vm or /proc/iomem"; exit 1; }
ndebug=$(grep -c '^/sys/kernel/debug/' "$work/files")
[ "$ndebug" -gt 0 ] || { echo "FAIL: the export lacks the module's debugfs files"; exit 1; }

# The host's values of every served path it has and can read (before).
host_values() {
    while read -r f; do
        [ -r "$f" ] && [ -e "$f" ] || continue
        case "$f" in /proc/kpageflags) continue ;; esac
        # Counters move on their own: only the files a write could change (a write mode in
        # the model's tree) are compared.
        [ $(( 0$(stat -c %a "$work/tree$f") & 0222 )) != 0 ] || continue
        printf '%s\t%s\n' "$f" "$(timeout 5 cat "$f" 2>&1 | tr '\n' ' ')"
    done < "$work/files"
}
host_values > "$work/host-before"
mounts_before=$(wc -l < /proc/self/mountinfo)

"$MEMHP" sandbox "${opts[@]}" -- bash -c '
    work=$1; fails=0; covered=0; absent=0
    while read -r f; do stat "$f" > /dev/null 2>&1; done < "$work/entries"
    while read -r f; do
        if [ ! -e "$f" ] && [ ! -L "$f" ]; then
            # Absent paths: the host has no such file, so nothing of the host is exposed.
            absent=$((absent + 1)); continue
        fi
        t=$(stat -f -c %T "$f")
        case "$t" in fuse*) ;; *) echo "FAIL: $f is on $t, not the model"; fails=$((fails + 1)); continue ;; esac
        covered=$((covered + 1))
        mode=$(stat -c %a "$work/tree$f")
        case "$f" in /proc/kpageflags) continue ;; esac
        if [ "$f" == /sys/kernel/debug/memhp/explain ]; then
            # The explanation log keeps the order in which names were first looked up, and the
            # sandbox looks its bind mounts'"'"' /proc sources up before anything else: the same
            # slab pages, in another order. Everything else in the log must agree.
            lookups="a first-time path lookup found no free"
            if ! cmp -s <(grep -v "$lookups" "$f") <(grep -v "$lookups" "$work/tree$f"); then
                echo "FAIL: $f reads differently in the sandbox than the model exported"; fails=$((fails + 1))
            fi
        elif [ $(( 0$mode & 0444 )) != 0 ]; then
            if ! cmp -s <(cat "$f") "$work/tree$f"; then
                echo "FAIL: $f reads differently in the sandbox than the model exported"; fails=$((fails + 1))
            fi
        fi
    done < "$work/files"
    # Writes to every writable served file (values the model accepts or refuses alike).
    while read -r f; do
        [ -e "$f" ] || continue
        mode=$(stat -c %a "$work/tree$f")
        [ $(( 0$mode & 0222 )) != 0 ] || continue
        case "$f" in
            */memory*/state) v=offline ;;
            */memory*/online) v=0 ;;
            /proc/sys/vm/drop_caches) v=3 ;;
            *) v=1 ;;
        esac
        echo "$v" > "$f" 2>/dev/null
    done < "$work/files"
    echo 12345 > /proc/sys/vm/min_free_kbytes
    [ "$(cat /proc/sys/vm/min_free_kbytes)" == 12345 ] || { echo "FAIL: the model did not take min_free_kbytes"; fails=$((fails + 1)); }
    echo "covered=$covered absent=$absent"
    exit $fails
' _ "$work" > "$work/out" 2>&1
rc=$?
cat "$work/out" | head -40
fails=0
[ $rc == 0 ] || { echo "FAIL: sandbox exited $rc"; fails=1; }
grep -q '^covered=' "$work/out" || fails=1

host_values > "$work/host-after"
if ! diff "$work/host-before" "$work/host-after" > "$work/host-diff"; then
    echo "FAIL: host values changed:"; head -20 "$work/host-diff"; fails=1
fi
[ "$(wc -l < /proc/self/mountinfo)" == "$mounts_before" ] || { echo "FAIL: mounts leaked into the host namespace"; fails=1; }
ls -d /tmp/memhp-sandbox.* 2>/dev/null && { echo "FAIL: a sandbox left its temporary directory"; fails=1; }
[ $fails == 0 ] && echo "PASS: $nfiles served paths ($ndebug of them debugfs) covered in the sandbox, host values of $(wc -l < "$work/host-before") writable ones unchanged"
exit $fails
