#!/bin/sh
# Writes vmlinux.h, every type of this kernel as C, from the kernel's own BTF: CO-RE programs
# (bpf/*.bpf.c that include it) compile against it and libbpf relocates them on load.
# Usage: export-vmlinux-h.sh BPFTOOL VMLINUX CONFIG DEST
set -eu
bpftool=$1 vmlinux=$2 config=$3 dest=$4

if ! grep -q '^CONFIG_DEBUG_INFO_BTF=y' "$config"; then
	echo "vmlinux.h needs the kernel's BTF: keep CONFIG_DEBUG_INFO_BTF=y (kernel/lab.config) and remove the fragment that turns it off" >&2
	exit 1
fi
"$bpftool" btf dump file "$vmlinux" format c >"$dest.tmp"
mv "$dest.tmp" "$dest"
