#!/bin/sh
# Assembles the initramfs tree in a temporary directory and writes it as a reproducible, compressed cpio:
# sorted entries, owner 0:0, every mtime at SOURCE_DATE_EPOCH, compressed with COMPRESS: lz4
# (LZ4's legacy frame, the one the kernel unpacks), gzip (without name or time) or none.
# Usage: mkinitramfs.sh OUTPUT BUSYBOX "BINARY..." [BPF_DIR] [KMOD_DIR] [APP_DIR] [EXTRA_DIR] [XDP_OBJECTS_DIR]
set -eu
output=$1 busybox=$2 binaries=$3 bpf=${4:-} kmod=${5:-} app=${6:-} extra=${7:-} xdp_objects=${8:-}
here=$(cd "$(dirname "$0")" && pwd)
umask 022

for f in "$busybox" $binaries; do
	[ -x "$f" ] || { echo "rootfs: $f is missing: install the Debian package that provides it (dpkg -S $f on a machine that has it)" >&2; exit 1; }
done
if [ -n "$xdp_objects" ] && [ ! -f "$xdp_objects/xdp-dispatcher.o" ]; then
	echo "rootfs: $xdp_objects has no xdp-dispatcher.o: install libxdp1 (it holds libxdp's BPF objects), or pass XDP_OBJECTS=<where they are>" >&2; exit 1
fi
"$busybox" --list-full >/dev/null 2>&1 || { echo "rootfs: $busybox is not a busybox binary with --list-full (install busybox-static)" >&2; exit 1; }
if file -L "$busybox" 2>/dev/null | grep -q 'dynamically linked'; then
	echo "rootfs: $busybox is dynamically linked: install busybox-static" >&2; exit 1
fi

tmp=$(mktemp -d "${output%/*}/.rootfs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
mkdir -p "$root"
cd "$root"
mkdir -p bin sbin usr/bin usr/sbin lib64 lib/x86_64-linux-gnu etc root tmp run proc sys dev \
	var/log etc/xdp-lab/rc.d
ln -s ../run var/run
chmod 1777 tmp

cp "$busybox" bin/busybox
"$busybox" --list-full | while read -r applet; do
	[ -e "$applet" ] || [ -L "$applet" ] || ln -s /bin/busybox "$applet"
done

# Each binary and every library ldd resolves for it, at the path the loader will look for it.
# --remove-destination: never write through a symlink already in the tree (busybox's point at
# /bin/busybox, which on this machine is the host's own).
copy() { mkdir -p "$root$(dirname "$2")" && cp -L --remove-destination "$1" "$root$2"; }
for bin in $binaries; do
	copy "$bin" "$bin"
	ldd "$bin" | awk '/=> \// { print $3 } /^[[:space:]]*\/[^ ]*ld-linux/ { print $1 }' | while read -r lib; do
		[ -e "$root$lib" ] || copy "$lib" "$lib"
	done
done

ln -sfn /usr/bin/bash bin/sh
ln -sfn /usr/bin/bash bin/bash
cp --remove-destination "$here/init" init
cp -R --remove-destination "$here"/etc/. etc/
chmod 0755 init
if [ -n "$xdp_objects" ]; then
	mkdir -p "$root$xdp_objects"
	cp --remove-destination "$xdp_objects"/*.o "$root$xdp_objects/"
fi
if [ -n "$bpf" ]; then
	mkdir -p usr/lib/xdp-lab/bpf
	cp --remove-destination "$bpf"/*.bpf.o usr/lib/xdp-lab/bpf/
fi
if [ -n "$kmod" ]; then
	mkdir -p usr/lib/xdp-lab/kmod
	cp --remove-destination "$kmod"/*.ko usr/lib/xdp-lab/kmod/
fi
if [ -n "$app" ]; then
	cp --remove-destination "$app/xdp-lab-app" usr/bin/xdp-lab-app
	mkdir -p usr/lib/xdp-lab/lua
	cp --remove-destination "$app"/*.lua usr/lib/xdp-lab/lua/
fi
[ -z "$extra" ] || cp -a --remove-destination "$extra"/. .

find . -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
find . -print0 | LC_ALL=C sort -z \
	| cpio --null --create --format=newc --reproducible --owner=0:0 --quiet \
	| case ${COMPRESS:-lz4} in
		gzip) gzip -9 -n ;;
		# A legacy LZ4 stream has no end of its own: the kernel would read an archive appended
		# later (the lab's overlay) as one more LZ4 block. A zero block length ends it.
		lz4) lz4 -l -9 -q && printf '\0\0\0\0' ;;
		none) cat ;;
		*) echo "rootfs: COMPRESS=$COMPRESS: choose gzip, lz4 or none" >&2; exit 1 ;;
	esac >"$tmp/rootfs.cpio"
mv "$tmp/rootfs.cpio" "$output"
