#!/usr/bin/env bash
# The kernel's own memory-hotplug selftest (tools/testing/selftests/memory-hotplug/
# mem-on-off-test.sh from Debian's linux-source-6.1), run unmodified in `memhp sandbox`.
# The script is fetched at test time from the package and cached, never committed.
# Usage: tests/fuse/selftest.sh MEMHP_BINARY     exit 77 = skipped (not root, no /dev/fuse)
set -u
MEMHP=$1
[ "$(id -u)" = 0 ] && [ -e /dev/fuse ] || { echo "SKIP: selftest needs root and /dev/fuse"; exit 77; }
command -v bc >/dev/null || apt-get install -y -qq bc >/dev/null
cache=${MEMHP_CACHE:-/var/cache/memhp}/selftests
script=$cache/mem-on-off-test.sh
if [ ! -s "$script" ]; then
	mkdir -p "$cache"
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	(cd "$tmp" && apt-get download -qq linux-source-6.1) || { echo "FAIL: apt-get download linux-source-6.1"; exit 1; }
	dpkg --fsys-tarfile "$tmp"/linux-source-6.1_*.deb | tar -xO ./usr/src/linux-source-6.1.tar.xz \
		| tar -xJO linux-source-6.1/tools/testing/selftests/memory-hotplug/mem-on-off-test.sh > "$tmp/t.sh" \
		&& [ -s "$tmp/t.sh" ] && mv "$tmp/t.sh" "$script" || { echo "FAIL: could not extract mem-on-off-test.sh"; exit 1; }
fi
# The b-hotadd-dimms guest: 1 GiB boot memory and two offline 512 MiB DIMMs.
# memory-notifier-error-inject is loaded in the model (the sandbox has no module loader, so the
# script's own /sbin/modprobe calls fail harmlessly); its error-injection phase then runs.
out=$(timeout 600 "$MEMHP" sandbox --mem 1G --maxmem 4G --slots 4 --dimm 512M --dimm 512M \
	--module memory-notifier-error-inject -- bash "$script" 2>&1)
rc=$?
# The script's own modprobe calls fail in the sandbox (no module loader; the model provides the
# module): expected, so they are counted rather than shown as errors.
n_modprobe=$(echo "$out" | grep -c "modprobe" || true)
echo "$out" | grep -v "modprobe" | tail -8
[ "$n_modprobe" = 0 ] || echo "note: $n_modprobe modprobe message(s) from the script, expected: the sandbox has no module loader (the model loaded memory-notifier-error-inject)"
if [ $rc != 0 ] || echo "$out" | grep -q "unexpected"; then echo "FAIL: mem-on-off-test.sh exited $rc"; exit 1; fi
echo "$out" | grep -q "offline 2% hot-pluggable memory in online state" || { echo "FAIL: the selftest did not run its offline phase"; exit 1; }
echo "$out" | grep -q "Test with memory notifier error injection" && ! echo "$out" | grep -q "skip extra tests" \
	|| { echo "FAIL: the selftest skipped its notifier error-injection phase"; exit 1; }
echo "PASS: kernel selftest mem-on-off-test.sh in memhp sandbox"
