#!/bin/sh
# Writes vmlinux.h, every type of this kernel as C, from the kernel's own BTF: CO-RE programs
# (bpf/*.bpf.c that include it) compile against it and libbpf relocates them on load.
# The kernel has BTF: the Makefile's config step checks that before anything compiles.
# Usage: export-vmlinux-h.sh BPFTOOL VMLINUX DEST
set -eu
bpftool=$1 vmlinux=$2 dest=$3

"$bpftool" btf dump file "$vmlinux" format c >"$dest.tmp"
mv "$dest.tmp" "$dest"
