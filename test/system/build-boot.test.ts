// Builds the real kernel and initramfs with the CLI, then boots them in qemu. Needs root (apt, qemu).
import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile, symlink } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { sha256File } from "../../src/build/hash.ts";
import type { Manifest } from "../../src/build/manifest.ts";
import { REPO } from "../../src/paths.ts";
import { cleanup, tempDir } from "../helpers.ts";
import { bootOk, latestKernelEntry, xdpLab } from "./cli.ts";
import { parsePing } from "../../src/testing/traffic.ts";

const t = suite("build and boot (system)");
t.after(cleanup);

const OUT = join(REPO, "out");
const events = (stdout: string) => stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

t("build: kernel and initramfs into out/ with a manifest of their hashes", async () => {
  const r = await xdpLab(["build", "--json"]);
  assert.is(r.exitCode, 0, r.stderr + r.stdout.slice(-3000));
  const manifest = JSON.parse(await readFile(join(OUT, "manifest.json"), "utf8")) as Manifest;
  for (const name of ["bzImage", "initramfs.img", "kernel.config", "kernel-config.report", "vmlinux.h", "proto_count.bpf.o", "tc_count.bpf.o"]) {
    assert.ok(existsSync(join(OUT, name)), name);
    assert.is(manifest.artifacts[name]?.sha256, await sha256File(join(OUT, name)), `${name} hash in manifest`);
  }
  assert.match(await readFile(join(OUT, "kernel.config"), "utf8"), /CONFIG_XDP_SOCKETS=y/);
  assert.match(await readFile(join(OUT, "kernel.config"), "utf8"), /CONFIG_DEBUG_INFO_BTF=y/);
  assert.match(await readFile(join(OUT, "vmlinux.h"), "utf8"), /struct xdp_md \{/, "vmlinux.h is the kernel's types as C");
  assert.not.match(await readFile(join(OUT, "kernel-config.report"), "utf8"), /DROPPED|UNKNOWN/);
});

t("build again: every stage is a cache hit, no compiler runs, and --verify finds the same artifacts", async () => {
  const before = await readFile(join(OUT, "manifest.json"), "utf8");
  const copy = join(await tempDir(), "manifest.json");
  await writeFile(copy, before);
  const r = await xdpLab(["build", "--json", "--verify", copy]);
  assert.is(r.exitCode, 0, r.stderr);
  const ev = events(r.stdout);
  const stages = ev.filter((e) => e.event === "stage");
  assert.equal(stages.map((e) => `${e.stage}:${e.status}`), ["kernel:cached", "kmod:cached", "bpf:cached", "app:cached", "rootfs:cached"]);
  assert.not.ok(ev.some((e) => e.event === "progress"), "no compile output");
  const verify = ev.find((e) => e.event === "verify") as { differences: { status: string }[] };
  assert.ok(verify.differences.length >= 4 && verify.differences.every((d) => d.status === "same"));
  assert.is(await readFile(join(OUT, "manifest.json"), "utf8"), before);
});

t("--verify against a manifest with another hash names the artifact and fails", async () => {
  const m = JSON.parse(await readFile(join(OUT, "manifest.json"), "utf8")) as Manifest;
  m.artifacts["bzImage"]!.sha256 = "0".repeat(64);
  const other = join(await tempDir(), "other.json");
  await writeFile(other, JSON.stringify(m));
  const r = await xdpLab(["build", "--quiet", "--verify", other]);
  assert.is(r.exitCode, 1);
  assert.match(r.stdout, /differs\s+bzImage/);
  assert.match(r.stderr, /1 artifact\(s\) differ .*bzImage \(differs\)/);
});

t("the kernel build exports what an out-of-tree module build needs", async () => {
  const kernel = await latestKernelEntry();
  const mod = await tempDir();
  await writeFile(join(mod, "hello.c"), '#include <linux/module.h>\nstatic int __init hello_init(void) { return 0; }\nmodule_init(hello_init);\nMODULE_LICENSE("GPL");\n');
  await writeFile(join(mod, "Kbuild"), "obj-m := hello.o\n");
  const r = await execa("make", ["-C", join(kernel, "kbuild"), `M=${mod}`, "modules"], { reject: false, all: true });
  assert.is(r.exitCode, 0, r.all);
  const info = await execa("modinfo", ["-F", "vermagic", join(mod, "hello.ko")]);
  assert.match(info.stdout, /^6\.1\.\d+ SMP mod_unload/);
});

t("boot: runs the command in the guest and prints its output", async () => {
  const r = await xdpLab(["boot", "--", "uname -r; echo guest-ok"]);
  assert.is(r.exitCode, 0, r.stderr);
  assert.match(r.stdout, /^6\.1\.\d+[^\n]*\nguest-ok$/, "only the command\'s output, no kernel messages");
  assert.match(r.stderr, /under (TCG|KVM)/);
  assert.match(r.stderr, /guest ready \d+\.\d+ s after qemu start/);
});

t("boot: the guest command's exit status is the CLI's", async () => {
  const r = await xdpLab(["boot", "--quiet", "--", "exit 3"]);
  assert.is(r.exitCode, 3, r.stderr);
});

t("the guest has what the lab needs: tools, BPF fs, netfilter, repeated ping", async () => {
  const script = [
    "ip -V",
    "bpftool version | head -1",
    "nft --version",
    "mount | grep -c ' /sys/fs/bpf type bpf'",
    "nft add table ip nat && nft add chain ip nat post '{ type nat hook postrouting priority 100; }' && nft add rule ip nat post oifname wan0 masquerade && echo nat-ok",
    "echo 1 > /proc/sys/net/ipv4/ip_forward && cat /proc/sys/net/ipv4/ip_forward",
    "ping -c 3 -i 0.2 127.0.0.1 | grep 'packets transmitted'",
    "cat /proc/sys/kernel/random/entropy_avail >/dev/null && echo rng-ok",
  ].join("; ");
  const r = await bootOk(script);
  assert.match(r.stdout, /ip utility, iproute2/);
  assert.match(r.stdout, /bpftool v/);
  assert.match(r.stdout, /nftables v/);
  assert.match(r.stdout, /\n1\n/);
  assert.match(r.stdout, /nat-ok/);
  assert.equal(parsePing(r.stdout), { transmitted: 3, received: 3 });
});

t("XDP in the guest: drop on lo stops ping and counts exactly the dropped packets; detached, ping works", async () => {
  const script = [
    "ip link set dev lo xdpgeneric obj /usr/lib/xdp-lab/bpf/drop.bpf.o sec xdp",
    "ping -c 3 -W 1 -i 0.2 127.0.0.1 | grep transmitted",
    "bpftool -j map dump name stats",
    "ip link set dev lo xdpgeneric off",
    "ping -c 2 -W 1 -i 0.2 127.0.0.1 | grep transmitted",
  ].join("; ");
  const r = await bootOk(script);
  const [dropped, stats, after] = r.stdout.split("\n").filter((l) => l.trim() !== "");
  assert.equal(parsePing(dropped!), { transmitted: 3, received: 0 });
  assert.is(packetsIn(stats!, 1), 3, "one echo request dropped per ping");
  assert.equal(parsePing(after!), { transmitted: 2, received: 2 });
});

/** Sums a per-CPU array slot's packets in `bpftool -j map dump` output. */
function packetsIn(json: string, key: number): number {
  type Entry = { formatted: { key: number; values: { value: { packets: number } }[] } };
  const entry = (JSON.parse(json) as Entry[]).find((e) => e.formatted.key === key);
  assert.ok(entry, `slot ${key} in ${json}`);
  return entry!.formatted.values.reduce((a, v) => a + v.value.packets, 0);
}

t("the guest kernel has its BTF, and bpftool reads it and lists attachments", async () => {
  const script = [
    "test -r /sys/kernel/btf/vmlinux && echo btf-present",
    "bpftool btf dump file /sys/kernel/btf/vmlinux | head -2",
    "bpftool btf dump file /sys/kernel/btf/vmlinux format c | grep -c '^struct xdp_md {'",
    "bpftool net && echo net-ok",
    "bpftool feature probe kernel | grep -E 'program_type (xdp|sched_cls|kprobe|tracing) is available' | sort",
  ].join("; ");
  const r = await bootOk(script);
  assert.match(r.stdout, /btf-present\n\[1\] \w+ '/);
  assert.match(r.stdout, /\n1\n/, "struct xdp_md is in the kernel's BTF once");
  assert.match(r.stdout, /xdp:\n(.*\n)*tc:\n(.*\n)*net-ok/);
  for (const type of ["kprobe", "sched_cls", "tracing", "xdp"]) assert.match(r.stdout, new RegExp(`program_type ${type} is available`));
});

t("tc in the guest: clsact, and a BPF classifier on lo's egress counts exactly the packets sent", async () => {
  const script = [
    "tc qdisc add dev lo clsact",
    "tc filter add dev lo egress bpf da obj /usr/lib/xdp-lab/bpf/tc_count.bpf.o sec tc",
    "ping -c 3 -i 0.2 127.0.0.1 | grep transmitted",
    "bpftool -j map dump name tc_stats",
    "bpftool net | grep -A1 '^tc:'",
    "tc qdisc del dev lo clsact && echo removed",
  ].join("; ");
  const r = await bootOk(script);
  const [ping, stats, ...rest] = r.stdout.split("\n").filter((l) => l.trim() !== "");
  assert.equal(parsePing(ping!), { transmitted: 3, received: 3 });
  assert.is(packetsIn(stats!, 0), 6, "three echo requests and three replies leave through lo");
  assert.match(rest.join("\n"), /lo\(1\) clsact\/egress tc_count\.bpf\.o:\[tc\] id \d+\nremoved$/);
});

t("the CO-RE example, built against out/vmlinux.h, loads with xdp-loader on lo and counts IPv4", async () => {
  const script = [
    "xdp-loader load -m skb lo /usr/lib/xdp-lab/bpf/proto_count.bpf.o && echo loaded",
    "ping -c 3 -i 0.2 127.0.0.1 | grep transmitted",
    "bpftool -j map dump name protocols",
    "xdp-loader status lo | grep -o 'xdp_proto_count'",
    "xdp-loader unload lo --all && echo unloaded",
  ].join("; ");
  const r = await bootOk(script);
  const [loaded, ping, stats, ...rest] = r.stdout.split("\n").filter((l) => l.trim() !== "");
  assert.is(loaded, "loaded", r.stdout);
  assert.equal(parsePing(ping!), { transmitted: 3, received: 3 });
  assert.is(packetsIn(stats!, 0), 6, "each request and each reply arrives on lo once, as IPv4");
  assert.is(packetsIn(stats!, 1), 0, "no IPv6");
  assert.equal(rest, ["xdp_proto_count", "unloaded"]);
});

t("the standard tools run in the guest: xdp-tools, tcpdump, tc; xdp-filter and xdp-monitor work", async () => {
  const script = [
    "for t in xdp-loader xdp-filter xdp-bench; do $t help 2>&1 | head -1; done",
    "xdpdump --version; xdp-monitor --version",
    "tcpdump --version | head -1",
    "tc -V",
    "ls /usr/lib/x86_64-linux-gnu/bpf/xdp-dispatcher.o",
    "xdp-filter load -m skb lo && xdp-filter status | grep -cw lo && xdp-filter unload lo && echo filter-ok",
    "timeout 3 xdp-monitor -i 1 | grep -c Summary",
  ].join("; ");
  const r = await bootOk(script);
  for (const t of ["xdp-loader", "xdp-filter", "xdp-bench"]) assert.match(r.stdout, new RegExp(`^Usage: ${t} COMMAND`, "m"));
  for (const t of ["xdpdump", "xdp-monitor"]) assert.match(r.stdout, new RegExp(`^${t} version 1\\.3\\.\\d+ using libbpf`, "m"));
  assert.match(r.stdout, /tcpdump version 4\.99/);
  assert.match(r.stdout, /tc utility, iproute2-6\.1\.0, libbpf/);
  assert.match(r.stdout, /\n1\nfilter-ok\n[1-9]\d*\n?$/, "xdp-filter attached to lo; xdp-monitor printed its summary (tracepoints)");
  assert.not.match(r.stdout, /Couldn't flock/);
});

t("tcpdump captures in the guest", async () => {
  const script = ["(tcpdump -n -i lo -c 2 icmp 2>/dev/null &)", "sleep 2", "ping -c 1 127.0.0.1 >/dev/null", "sleep 1"].join("; ");
  const r = await bootOk(script);
  assert.match(r.stdout, /IP 127\.0\.0\.1 > 127\.0\.0\.1: ICMP echo request[\s\S]*ICMP echo reply/);
});

t("network namespaces, veth, a bridge and IPv6 in the guest", async () => {
  const script = [
    "ip netns add peer",
    "ip link add va type veth peer name vb",
    "ip link set vb netns peer",
    "ip link add br0 type bridge && ip link set va master br0",
    "ip link set br0 up && ip link set va up",
    "ip addr add fd00:1ab::1/64 dev br0 nodad",
    "ip -n peer addr add fd00:1ab::2/64 dev vb nodad && ip -n peer link set vb up",
    "ip link show master br0 | grep -o 'va@'",
    "ping -6 -c 2 -W 2 fd00:1ab::2 | grep transmitted",
    "ip netns exec peer ip -6 addr show dev vb | grep -o 'fd00:1ab::2/64'",
  ].join("; ");
  const r = await bootOk(script);
  assert.match(r.stdout, /va@\n/);
  assert.equal(parsePing(r.stdout), { transmitted: 2, received: 2 });
  assert.match(r.stdout, /fd00:1ab::2\/64/);
});

t("the echo module loads in the guest, registers its generic netlink family, and unloads cleanly", async () => {
  const script = [
    "insmod /usr/lib/xdp-lab/kmod/xdp_lab_echo.ko",
    "genl ctrl get name xdp_lab_echo | grep -E 'Name:|ID:'",
    "rmmod xdp_lab_echo && echo unloaded",
    "genl ctrl get name xdp_lab_echo >/dev/null 2>&1 || echo family-gone",
    "dmesg | grep -cE 'WARNING|BUG|Oops'",
  ].join("; ");
  const r = await xdpLab(["boot", "--quiet", "--", script]);
  assert.is(r.exitCode, 1, "the last grep -c finds nothing and exits 1");
  assert.match(r.stdout, /Name: xdp_lab_echo\n\s+ID: 0x[0-9a-f]+\s+Version: 0x1/);
  assert.match(r.stdout, /unloaded\nfamily-gone\n0$/);
});

t("the module source is checkpatch clean", async () => {
  const kernel = await latestKernelEntry();
  const files = ["kmod/xdp_lab_echo.c", "kmod/xdp_lab_echo.h"];
  const r = await execa(join(kernel, "kbuild", "scripts", "checkpatch.pl"), ["--no-tree", "-f", ...files], { cwd: REPO, reject: false, all: true });
  assert.is(r.exitCode, 0, r.all);
  assert.match(r.all ?? "", /total: 0 errors, 0 warnings/);
});

t("demo (the README's main command): builds, brings a lab up, tells its story from examples/tests/demo.yaml on real traffic (routed, NAT, pass counting, drop dropping, flowing again), leaves it up", async () => {
  const name = `demo${process.pid}`.slice(0, 12);
  try {
    const r = await xdpLab(["demo", "--name", name]);
    assert.is(r.exitCode, 0, r.stderr);
    // A failed match shows what demo printed (uvu's match says only the pattern).
    const seen = (re: RegExp): void => assert.ok(re.test(r.stdout), `demo's output lacks ${re}:\n${r.stdout}`);
    seen(/lab \S+ up in \d+\.\d s/);
    seen(/the story: examples\/tests\/demo\.yaml/);
    // Each act is a test of the file: its steps as commands and what came of them, then its verdict.
    seen(/1\. no XDP program on the VM's LAN port: the VM routes[^\n]*\n\s+client\$ ping -4 -c 3 server\s+-> 3\/3 replies\n/);
    seen(/client\$ curl -sS http:\/\/server\/\s+-> xdp-lab \S+: hello from the server/);
    // The internet sees the VM's WAN address, not the client's: NAT.
    seen(/client\$ curl -sS http:\/\/internet\/cgi-bin\/ip\s+-> 198\.51\.100\.1\n/);
    seen(/2\. pass\.bpf\.o on the LAN port[^\n]*\n\s+client\$ ping -4 -c 5 server\s+-> 5\/5 replies\n\s+counters: xdp_pass \(native\): pass 5, drop 0\n/);
    seen(/3\. drop\.bpf\.o on the LAN port[^\n]*\n\s+client\$ ping -4 -c 3 server\s+-> 0\/3 replies\n\s+counters: xdp_drop \(native\): pass 0, drop 3\n/);
    seen(/4\. detached again: [^\n]*flows again\n\s+client\$ ping -4 -c 2 server\s+-> 2\/2 replies\n/);
    assert.is(r.stdout.match(/^  PASS \(\d+\.\d s\)$/gm)?.length, 4, `every act passed:\n${r.stdout}`);
    seen(new RegExp(`\\./xdp-lab down --name ${name}`));
    const status = await xdpLab(["status", "--name", name, "--json"]);
    assert.is(JSON.parse(status.stdout).phase, "up", "the lab stays up");
  } finally {
    await xdpLab(["down", "--name", name]);
  }
});

t("boot: a guest that panics ends with an error quoting the console and keeps the log", async () => {
  const log = join(await tempDir(), "console.log");
  const r = await xdpLab(["boot", "--append", "rdinit=/bin/false", "--log", log, "--", "true"]);
  assert.is(r.exitCode, 1);
  assert.match(r.stderr, /Guest kernel panicked/);
  assert.match(r.stderr, /Kernel panic - not syncing/);
  assert.ok(r.stderr.includes(`Full console log: ${log}`));
  assert.match(await readFile(log, "utf8"), /Kernel panic/);
});

t("boot without a build says to run build", async () => {
  const r = await xdpLab(["boot", "--out", await tempDir(), "--", "true"]);
  assert.is(r.exitCode, 1);
  assert.match(r.stderr, /No build to boot: .*bzImage.*Fix: run \.\/xdp-lab build/);
});

t("boot without qemu names the package", async () => {
  const bin = await tempDir();
  for (const tool of ["node", "sh", "find", "md5sum"]) await symlink((await execa("sh", ["-c", `command -v ${tool}`])).stdout, join(bin, tool));
  const r = await xdpLab(["boot", "--no-install", "--", "true"], { env: { PATH: bin }, extendEnv: false });
  assert.is(r.exitCode, 1, r.stderr);
  assert.match(r.stderr, /Missing for booting the guest: qemu-system-x86_64 \(Debian package qemu-system-x86\)/);
});

t("a Kconfig fragment with an unknown or unsatisfiable option fails naming each, and out/ is untouched", async () => {
  const before = await readFile(join(OUT, "manifest.json"), "utf8");
  const frag = join(await tempDir(), "bad.config");
  await writeFile(frag, "CONFIG_XDP_LAB_NO_SUCH_OPTION=y\nCONFIG_NFT_FIB_INET=y\n");
  const r = await xdpLab(["build", "kernel", "--kconfig", frag]);
  assert.is(r.exitCode, 1);
  assert.match(r.stderr, /UNKNOWN\s+CONFIG_XDP_LAB_NO_SUCH_OPTION=y \(no such Kconfig symbol/);
  assert.match(r.stderr, /DROPPED\s+CONFIG_NFT_FIB_INET=y \(effective: n; depends on: NF_TABLES_INET && NFT_FIB_IPV4/);
  assert.match(r.stderr, /Full log: /);
  assert.is(await readFile(join(OUT, "manifest.json"), "utf8"), before);
});

t("bad kernel source and unwritable out/ are refused with the flag to fix", async () => {
  let r = await xdpLab(["build", "--kernel-src", "/nonexistent/linux"]);
  assert.is(r.exitCode, 1);
  assert.match(r.stderr, /Kernel source \/nonexistent\/linux does not exist\. Fix: pass --kernel-src/);
  r = await xdpLab(["build", "--kernel-src", REPO]);
  assert.match(r.stderr, /is not a kernel tree .*--kernel-src/);
  const file = join(await tempDir(), "file");
  await writeFile(file, "");
  r = await xdpLab(["build", "--out", join(file, "out")]);
  assert.is(r.exitCode, 1);
  assert.match(r.stderr, /Output directory .*file\/out is not writable .*--out DIR/);
});

t("the initramfs is bit-for-bit reproducible", async () => {
  const a = join(await tempDir(), "a");
  const b = join(await tempDir(), "b");
  await mkdir(a);
  for (const out of [a, b]) {
    const r = await xdpLab(["build", "rootfs", "--no-cache", "--quiet", "--out", out]);
    assert.is(r.exitCode, 0, r.stderr);
  }
  assert.is(await sha256File(join(a, "initramfs.img")), await sha256File(join(b, "initramfs.img")));
  assert.is(await sha256File(join(a, "initramfs.img")), await sha256File(join(OUT, "initramfs.img")), "same as the main build");
});

t.run();
