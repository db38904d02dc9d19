#!/bin/sh
# Exports what an out-of-tree module build needs (make -C DEST M=...), like Debian's linux-headers:
# the build system and headers from the source tree, plus .config, generated headers, host tools
# and Module.symvers from the object tree. With module BTF (CONFIG_DEBUG_INFO_BTF_MODULES) also
# what kbuild encodes a module's BTF with: the kernel's BTF as its base (a `vmlinux` holding only
# the .BTF section, megabytes instead of the whole image with its DWARF) and resolve_btfids.
# Usage: export-kbuild.sh SRC OBJ DEST
set -eu
src=$1 obj=$2 dest=$3
tmp="$dest.tmp.$$"
rm -rf "$tmp" && mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT

(cd "$src" && find . -name 'Makefile*' -o -name 'Kbuild*' -o -name 'Kconfig*' -o -name '*.lds' \
	| grep -v -e '^./Documentation' -e '^./tools' \
	| cpio -pdm --quiet "$tmp")
(cd "$src" && cp -a --parents include scripts arch/x86/include arch/x86/entry/syscalls "$tmp")
(cd "$obj" && cp -a --parents .config Module.symvers include/generated include/config \
	arch/x86/include/generated scripts "$tmp")
[ -f "$obj/tools/objtool/objtool" ] && (cd "$obj" && cp -a --parents tools/objtool/objtool "$tmp")
if grep -q '^CONFIG_DEBUG_INFO_BTF_MODULES=y' "$obj/.config"; then
	objcopy --only-section=.BTF "$obj/vmlinux" "$tmp/vmlinux"
	(cd "$obj" && cp -a --parents tools/bpf/resolve_btfids/resolve_btfids "$tmp")
fi
find "$tmp" \( -name '*.o' -o -name '.*.cmd' \) -delete
rm -rf "$dest" && mv "$tmp" "$dest"
trap - EXIT
