#!/bin/sh
# Prepares what `memhp kernel-run` needs, idempotently:
#   - Debian packages: qemu-system-x86, busybox-static, cpio, gcc + libc6-dev (the guest runner is
#     compiled -static), xz-utils (modules are .ko.xz);
#   - the Linux 6.1 kernel that linux-image-amd64 currently depends on, unpacked (apt-get download
#     + dpkg -x, never installed as the host's kernel) into $MEMHP_CACHE/kernel-<abi>/, with the
#     modules the scenarios load decompressed (busybox/finit_module take plain .ko files).
# Usage: scripts/kernel-setup.sh [--check]   (--check: only print what Debian serves and what is cached)
# Prints the kernel directory on the last line.
set -eu

CACHE=${MEMHP_CACHE:-/var/cache/memhp}
export DEBIAN_FRONTEND=noninteractive

need_pkgs=""
for p in qemu-system-x86 busybox-static cpio gcc libc6-dev xz-utils; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' || need_pkgs="$need_pkgs $p"
done
if [ "${1:-}" != "--check" ] && [ -n "$need_pkgs" ]; then
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $need_pkgs >/dev/null
fi

# The kernel package the metapackage depends on now (e.g. linux-image-6.1.0-56-amd64) and its version.
[ -n "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages' -mmin -1440 2>/dev/null | head -1)" ] || apt-get update -qq
pkg=$(apt-cache depends linux-image-amd64 | sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -1)
[ -n "$pkg" ] || { echo "kernel-setup: cannot find the kernel linux-image-amd64 depends on" >&2; exit 1; }
abi=${pkg#linux-image-}
debver=$(apt-cache policy "$pkg" | sed -n 's/^ *Candidate: //p')
dir="$CACHE/kernel-$abi"
echo "kernel-setup: Debian serves $pkg $debver" >&2
if [ -f "$dir/VERSION" ]; then
	cached=$(sed -n 's/^deb_version=//p' "$dir/VERSION")
	if [ "$cached" != "$debver" ]; then
		echo "kernel-setup: cached $dir is $cached, Debian now serves $debver: re-unpacking" >&2
		rm -rf "$dir"
	fi
fi
if [ "${1:-}" = "--check" ]; then
	ls -d "$CACHE"/kernel-* 2>/dev/null | sed 's/^/kernel-setup: cached /' >&2 || true
	echo "$dir"
	exit 0
fi

if [ ! -f "$dir/VERSION" ]; then
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	(cd "$tmp" && apt-get download -qq "$pkg=$debver")
	mkdir -p "$dir.tmp"
	dpkg -x "$tmp"/*.deb "$dir.tmp/root"
	cp "$dir.tmp/root/boot/vmlinuz-$abi" "$dir.tmp/vmlinuz"
	cp "$dir.tmp/root/boot/config-$abi" "$dir.tmp/config"
	mv "$dir.tmp/root/lib/modules/$abi" "$dir.tmp/modules"
	rm -rf "$dir.tmp/root"
	sha=$(sha256sum "$tmp"/*.deb | cut -d' ' -f1)
	printf 'package=%s\nabi=%s\ndeb_version=%s\ndeb_sha256=%s\n' "$pkg" "$abi" "$debver" "$sha" > "$dir.tmp/VERSION"
	rm -rf "$dir"
	mv "$dir.tmp" "$dir"
fi

# The uncompressed kernel for QEMU's PVH boot (kernel-run uses it when present: no XZ
# decompression under TCG, the same memory layout; `memhp kernel-run --bzimage` boots vmlinuz).
# vmlinuz's payload is one XZ stream; its ELF must carry the PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY, 18).
if [ ! -f "$dir/vmlinux-pvh" ]; then
	off=$(grep -abo "$(printf '\3757zXZ')" "$dir/vmlinuz" | head -1 | cut -d: -f1)
	if [ -n "$off" ] && tail -c +$((off + 1)) "$dir/vmlinuz" | xz -dc --single-stream > "$dir/vmlinux-pvh.tmp" 2>/dev/null &&
		[ "$(head -c 4 "$dir/vmlinux-pvh.tmp" | od -An -c | tr -d ' ')" = "177ELF" ] &&
		{ ! command -v readelf >/dev/null || readelf -n "$dir/vmlinux-pvh.tmp" | grep -q '(0x00000012)'; }; then
		mv "$dir/vmlinux-pvh.tmp" "$dir/vmlinux-pvh"
	else
		rm -f "$dir/vmlinux-pvh.tmp"
		echo "kernel-setup: no PVH kernel could be extracted; kernel-run boots the bzImage" >&2
	fi
fi

# The modules scenarios use, with their dependencies (the `depends=` of each .ko's .modinfo),
# as plain .ko files in $dir/ko/ (Debian 12 ships them uncompressed; newer builds use .ko.xz).
mkdir -p "$dir/ko"
find_ko() {   # NAME -> path of NAME.ko or NAME.ko.xz ('-' and '_' are the same in module names)
	alt=$(echo "$1" | tr '_-' '-_')
	find "$dir/modules/kernel" \( -name "$1.ko" -o -name "$1.ko.xz" -o -name "$alt.ko" -o -name "$alt.ko.xz" \) | head -1
}
add_ko() {
	f=$(find_ko "$1")
	[ -n "$f" ] || { echo "kernel-setup: module $1 not found (built in?)" >&2; return 0; }
	base=$(basename "$f"); base=${base%.xz}
	[ -f "$dir/ko/$base" ] && return 0
	case "$f" in *.xz) xz -dc "$f" > "$dir/ko/$base" ;; *) cp "$f" "$dir/ko/$base" ;; esac
	for d in $(tr '\0' '\n' < "$dir/ko/$base" | sed -n 's/^depends=//p' | tr ',' ' '); do add_ko "$d"; done
}
for m in virtio_mem virtio_pci memory-notifier-error-inject; do add_ko "$m"; done
ls "$dir/ko" >&2
cat "$dir/VERSION" >&2
echo "$dir"
