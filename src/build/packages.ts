// The one list of Debian packages the lab needs, and what each provides; the Dagger base image reuses it.

import type { Requirement } from "../tools/requirement.ts";
export type { Requirement } from "../tools/requirement.ts";

/**
 * Debian's kernel source packages, by the version each holds: what `build --kernel 6.1|6.12`
 * compiles (kernels.ts BUILT_KERNELS). bookworm-security carries 6.12 (Debian's LTS kernel for
 * bookworm), and bookworm-backports too.
 */
export const LINUX_SOURCES: Readonly<Record<string, Requirement & { file: string }>> = {
  "6.1": { package: "linux-source-6.1", file: "/usr/src/linux-source-6.1.tar.xz" },
  "6.12": { package: "linux-source-6.12", file: "/usr/src/linux-source-6.12.tar.xz" },
};
/** The version a plain `build` builds, published to out/ itself. */
export const DEFAULT_KERNEL = "6.1";

const MAKE: Requirement = { package: "make", bin: "make" };
const GCC: Requirement = { package: "gcc", bin: "gcc" };
const BUSYBOX: Requirement = { package: "busybox-static", file: "/bin/busybox" };
const IPROUTE2: Requirement = { package: "iproute2", bin: "ip" };
const NFTABLES: Requirement = { package: "nftables", bin: "nft" };
const QEMU: Requirement = { package: "qemu-system-x86", bin: "qemu-system-x86_64" };

/**
 * Build toolchain for the kernel: kbuild's documented minimal requirements, pahole (BTF from the
 * DWARF), lz4 (the image's compression) and bpftool (vmlinux.h from the BTF).
 */
export const KERNEL_TOOLCHAIN: Requirement[] = [
  MAKE,
  GCC,
  { package: "libc6-dev", file: "/usr/include/stdio.h" },
  { package: "binutils", bin: "ld" },
  { package: "bc", bin: "bc" },
  { package: "flex", bin: "flex" },
  { package: "bison", bin: "bison" },
  { package: "libelf-dev", file: "/usr/include/libelf.h" },
  { package: "libssl-dev", file: "/usr/include/openssl/ssl.h" },
  { package: "xz-utils", bin: "xz" },
  { package: "ccache", bin: "ccache" },
  { package: "kmod", bin: "depmod" },
  { package: "dwarves", bin: "pahole" },
  // resolve_btfids (module BTF) builds the kernel's libbpf, whose bpf_helper_defs.h a Python script writes.
  { package: "python3", file: "/usr/bin/python3" },
  { package: "lz4", bin: "lz4" },
  { package: "bpftool", bin: "bpftool" },
  LINUX_SOURCES[DEFAULT_KERNEL]!,
];

/**
 * The kernel sources besides the default one's (a KERNEL_TOOLCHAIN requirement): in the lock, so
 * the container image holds each and `build --container --kernel 6.12` compiles the locked source;
 * on the host, `build --kernel 6.12` installs its package when missing (kernels.ts ensureKernelSource).
 */
export const KERNEL_SOURCES: Requirement[] = Object.entries(LINUX_SOURCES).flatMap(([v, r]) => (v === DEFAULT_KERNEL ? [] : [r]));

/** Compiling XDP programs: clang's BPF target, llvm-strip, libbpf's headers, the kernel's UAPI headers. */
export const BPF_TOOLCHAIN: Requirement[] = [
  MAKE,
  { package: "clang", bin: "clang" },
  { package: "llvm", bin: "llvm-strip" },
  { package: "libbpf-dev", file: "/usr/include/bpf/bpf_helpers.h" },
  { package: "linux-libc-dev", file: "/usr/include/linux/bpf.h" },
  { package: "bpftool", bin: "bpftool" },
];

/** The in-VM app, linked statically against libbpf, libelf, zlib and Lua 5.4. */
export const APP_TOOLCHAIN: Requirement[] = [
  MAKE,
  GCC,
  { package: "libbpf-dev", file: "/usr/lib/x86_64-linux-gnu/libbpf.a" },
  { package: "libelf-dev", file: "/usr/lib/x86_64-linux-gnu/libelf.a" },
  { package: "zlib1g-dev", file: "/usr/lib/x86_64-linux-gnu/libz.a" },
  { package: "liblua5.4-dev", file: "/usr/lib/x86_64-linux-gnu/liblua5.4.a" },
  { package: "linux-libc-dev", file: "/usr/include/linux/genetlink.h" },
];

/** What the initramfs is assembled from and with. */
export const ROOTFS_CONTENT: Requirement[] = [
  BUSYBOX,
  { package: "bash", file: "/usr/bin/bash" },
  IPROUTE2,
  { package: "bpftool", bin: "bpftool" },
  NFTABLES,
  { package: "dropbear-bin", bin: "dropbear" },
  { package: "iproute2", bin: "tc" },
  { package: "xdp-tools", bin: "xdp-loader" },
  { package: "libxdp1", file: "/usr/lib/x86_64-linux-gnu/bpf/xdp-dispatcher.o" },
  { package: "tcpdump", bin: "tcpdump" },
  // The real tools in place of busybox's applets (rootfs/Makefile BINARIES).
  { package: "iputils-ping", file: "/usr/bin/ping" },
  { package: "ethtool", file: "/usr/sbin/ethtool" },
  { package: "coreutils", file: "/usr/bin/timeout" },
  { package: "cpio", bin: "cpio" },
  { package: "lz4", bin: "lz4" },
  { package: "gzip", bin: "gzip" },
  { package: "file", bin: "file" },
];

/**
 * Fetching a stock Debian kernel (--kernel debian-*): depmod on the unpacked modules, xz for them,
 * and what kbuild needs to build the echo module against the package's headers (pahole: its BTF).
 */
export const STOCK_KERNEL_TOOLS: Requirement[] = [
  MAKE,
  GCC,
  { package: "kmod", bin: "depmod" },
  { package: "xz-utils", bin: "xz" },
  { package: "libelf-dev", file: "/usr/include/libelf.h" },
  { package: "dwarves", bin: "pahole" },
  // The kernel image's vmlinux, decompressed for its BTF (vmlinux.h): Debian's 6.12 is zstd, 6.1 LZ4.
  { package: "zstd", bin: "zstd" },
  { package: "lz4", bin: "lz4" },
  { package: "bpftool", bin: "bpftool" },
];

/** Where Debian's xdp-tests installs upstream's lib/testing runner and the suites. */
export const XDP_TESTS_DIR = "/usr/libexec/xdp-tools";

/**
 * xdp-tools' own test suites in the guest under --guest-root host (src/testing/xdp-tools-suites.ts):
 * what they need on this machine, whose root the guest runs on: the tests (Debian's xdp-tests),
 * and the runner's NEEDED_TOOLS (lib/testing/test_runner.sh) as the real programs, not busybox's.
 * These are also what Debian's own autopkgtest of xdp-tools installs (Testsuite-Triggers).
 */
export const PEER_SUITE_TOOLS: Requirement[] = [
  { package: "xdp-tests", file: `${XDP_TESTS_DIR}/test_runner.sh` },
  { package: "xdp-tools", bin: "xdp-loader" },
  { package: "tshark", bin: "tshark" },
  { package: "wireshark-common", bin: "capinfos" },
  { package: "ethtool", bin: "ethtool" },
  { package: "iputils-ping", bin: "ping" },
  { package: "netcat-openbsd", bin: "nc.openbsd" },
  { package: "tcpdump", bin: "tcpdump" },
  { package: "iproute2", bin: "tc" },
  { package: "coreutils", bin: "timeout" },
];

/** `build --container`: the engine (runc: crun fails on Debian bookworm's hybrid cgroups) and the image's base. */
export const CONTAINER_RUNTIME: Requirement[] = [
  { package: "podman", bin: "podman" },
  { package: "runc", bin: "runc" },
  { package: "debootstrap", bin: "debootstrap" },
];

/** Running the guest. */
export const VM_RUNTIME: Requirement[] = [QEMU];

/** The host side of a lab: namespaces and bridges, NAT, ssh keys, the hosts' web servers. */
export const LAB_RUNTIME: Requirement[] = [
  IPROUTE2,
  NFTABLES,
  BUSYBOX,
  { package: "dropbear-bin", bin: "dropbearkey" },
  { package: "curl", bin: "curl" },
  // What `up`, `demo` and the README tell users to run on the hosts.
  { package: "iputils-ping", bin: "ping" },
  QEMU,
];

/** `xdp-lab capture`: tcpdump on the host reads the lab's taps, and the pcap xdpdump sends from the guest. */
export const CAPTURE_TOOLS: Requirement[] = [{ package: "tcpdump", bin: "tcpdump" }];

/** Measuring throughput through the lab (bench:lab) and the tmux layout. */
export const LAB_TOOLS: Requirement[] = [
  { package: "iperf3", bin: "iperf3" },
  { package: "tmux", bin: "tmux" },
];

/** `xdp-lab test`'s traffic steps and captures on the namespace hosts (the host image has them too: host-image.ts). */
export const TEST_TOOLS: Requirement[] = [
  { package: "tcpdump", bin: "tcpdump" },
  { package: "iperf3", bin: "iperf3" },
  { package: "tcpreplay", bin: "tcpreplay" },
  { package: "curl", bin: "curl" },
];

/** Checking the reports `xdp-lab test` writes: its JUnit file against the Jenkins JUnit schema (unit and system tests). */
export const REPORT_TOOLS: Requirement[] = [{ package: "libxml2-utils", bin: "xmllint" }];

/** The Debian packages of some requirement lists, sorted and unique. */
function packagesOf(...lists: Requirement[][]): string[] {
  return [...new Set(lists.flat().map((r) => r.package))].sort();
}

/** What the build stages need: the Dagger build container installs exactly these. */
export function buildPackages(): string[] {
  return packagesOf(KERNEL_TOOLCHAIN, KERNEL_SOURCES, BPF_TOOLCHAIN, APP_TOOLCHAIN, ROOTFS_CONTENT);
}

/** Every package: what a fresh machine installs to build, boot and run labs. */
export function allPackages(): string[] {
  return packagesOf(KERNEL_TOOLCHAIN, BPF_TOOLCHAIN, APP_TOOLCHAIN, ROOTFS_CONTENT, VM_RUNTIME, LAB_RUNTIME, LAB_TOOLS, CAPTURE_TOOLS, TEST_TOOLS, REPORT_TOOLS, STOCK_KERNEL_TOOLS);
}

/**
 * Debian packages of programs users commonly run on the lab's hosts, for the hint when one is missing
 * (the client, server and internet run the machine's own programs).
 */
export const PROGRAM_PACKAGES: Readonly<Record<string, string>> = {
  ping: "iputils-ping",
  ping6: "iputils-ping",
  tracepath: "iputils-tracepath",
  traceroute: "traceroute",
  curl: "curl",
  wget: "wget",
  iperf3: "iperf3",
  tcpdump: "tcpdump",
  tcpreplay: "tcpreplay",
  tshark: "tshark",
  nc: "netcat-openbsd",
  socat: "socat",
  hping3: "hping3",
  nmap: "nmap",
  ethtool: "ethtool",
  dig: "dnsutils",
  nft: "nftables",
  iptables: "iptables",
  tc: "iproute2",
  ss: "iproute2",
  bpftool: "bpftool",
  "xdp-loader": "xdp-tools",
  "xdp-filter": "xdp-tools",
  "xdp-bench": "xdp-tools",
  xdpdump: "xdp-tools",
  "xdp-monitor": "xdp-tools",
  python3: "python3",
  scapy: "python3-scapy",
  tmux: "tmux",
};

/** "apt-get install PKG" for a program, or how to find its package. */
export function installHint(program: string): string {
  const pkg = PROGRAM_PACKAGES[program];
  return pkg ? `apt-get install ${pkg}` : `install the Debian package that provides it (apt-file search bin/${program} finds it)`;
}
