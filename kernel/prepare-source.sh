#!/bin/sh
# Extracts a kernel tarball into DEST once per tarball content, or checks that KSRC is a kernel tree.
set -eu
ksrc=$1 dest=$2

is_tree() { [ -f "$1/Makefile" ] && [ -f "$1/Kconfig" ] && [ -d "$1/arch/x86" ]; }

if [ -d "$ksrc" ]; then
	is_tree "$ksrc" && exit 0
	echo "KSRC=$ksrc is not a kernel source tree (no Makefile, Kconfig or arch/x86): pass the top of a Linux tree or a .tar.* of one" >&2
	exit 1
fi
if [ ! -f "$ksrc" ]; then
	echo "KSRC=$ksrc does not exist: pass a kernel tree or tarball, or install Debian's linux-source-6.1 (apt-get install linux-source-6.1)" >&2
	exit 1
fi

# Identify the tarball by content, not by name or mtime, so a changed file at the same path re-extracts.
id=$(sha256sum "$ksrc" | cut -d' ' -f1)
[ -f "$dest/.xdp-lab-source" ] && [ "$(cat "$dest/.xdp-lab-source")" = "$id" ] && exit 0

echo "  EXTRACT $ksrc"
tmp="$dest.tmp.$$"
rm -rf "$tmp" && mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
tar -xf "$ksrc" -C "$tmp" --strip-components=1 --no-same-owner
if ! is_tree "$tmp"; then
	echo "KSRC=$ksrc does not unpack to a kernel source tree (expected one top directory with Makefile, Kconfig and arch/x86)" >&2
	exit 1
fi
echo "$id" >"$tmp/.xdp-lab-source"
rm -rf "$dest" && mv "$tmp" "$dest"
trap - EXIT
