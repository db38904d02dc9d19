// The lab with users' own files and tools: exec's stdin on every host, cp in and out of the VM,
// status for a program attached by iproute2 (not by us), capture at a VM port. Needs root.
import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { execa } from "execa";
import { sha256 } from "../../src/build/hash.ts";
import { cleanup, tempDir } from "../helpers.ts";
import { captureXdp, cpRoundTrip, XDP_LAB, ok, xdpLab } from "./cli.ts";

const t = suite("lab: users' files and tools");
const L = `t${process.pid}`.slice(0, 12);
let out = "";
/** Not the default 256, so that up's --memory is seen to reach the guest. */
const MEMORY = 384;
/** A host directory the VM mounts read-write at the same path; out/ is shared read-only at /mnt/out. */
let share = "";

const on = (host: string, ...cmd: string[]) => xdpLab(["exec", host, "--name", L, "--", ...cmd]);

t.before(async () => {
  out = await tempDir();
  await ok(["build", "--quiet", "--out", out]);
  share = await tempDir();
  await ok(["up", "--name", L, "--out", out, "--memory", String(MEMORY), "--share", share, "--share", `${out}:/mnt/out:ro`]);
});

t.after(async () => {
  await xdpLab(["down", "--name", L]);
  await cleanup();
});

t("exec passes stdin through, on every host", async () => {
  for (const host of ["vm", "client", "server", "internet"]) {
    const r = await execa(XDP_LAB, ["exec", host, "--name", L, "--", "cat > /tmp/xl-stdin; cat /tmp/xl-stdin; rm /tmp/xl-stdin"], { input: `hello ${host}\n`, reject: false });
    assert.is(r.exitCode, 0, r.stderr);
    assert.is(r.stdout, `hello ${host}`);
  }
});

t("cp: a 20 MB file round-trips with the same sha256; a tree round-trips; a binary copied in runs; errors name the path", async () => {
  const dir = await tempDir();
  await cpRoundTrip(L, dir, "big.bin", 20 << 20);

  await mkdir(join(dir, "tree/a/b"), { recursive: true });
  await writeFile(join(dir, "tree/a/b/deep.txt"), "deep\n");
  await writeFile(join(dir, "tree/top.txt"), "top\n");
  await execa("cp", ["/bin/busybox", join(dir, "tree/busybox")]);
  await ok(["cp", "--name", L, join(dir, "tree"), "vm:/root/"]);
  const ran = await on("vm", "/root/tree/busybox echo copied-binary-runs; cat /root/tree/a/b/deep.txt");
  assert.is(ran.stdout, "copied-binary-runs\ndeep");
  await ok(["cp", "--name", L, "vm:/root/tree", join(dir, "tree-back")]);
  const diff = await execa("diff", ["-r", join(dir, "tree"), join(dir, "tree-back")], { reject: false });
  assert.is(diff.exitCode, 0, diff.stdout);

  let r = await xdpLab(["cp", "--name", L, join(dir, "nothere"), "vm:/root/"]);
  assert.is(r.exitCode, 1);
  assert.match(r.stderr, new RegExp(`No such file or directory: ${dir}/nothere`));
  r = await xdpLab(["cp", "--name", L, "vm:/root/nothere", dir]);
  assert.is(r.exitCode, 1);
  assert.match(r.stderr, /No such file or directory in the VM: vm:\/root\/nothere/);
  r = await xdpLab(["cp", "--name", L, "vm:relative", dir]);
  assert.match(r.stderr, /vm:relative: a VM path must be absolute/);
  r = await xdpLab(["cp", "--name", L, join(dir, "tree/top.txt"), "vm:/no/such/dir/top.txt"]);
  assert.is(r.exitCode, 1);
  assert.match(r.stderr, /Failed to copy .*top\.txt to vm:\/no\/such\/dir\/top\.txt/);
  assert.is((await on("vm", "ls /no/such/dir 2>&1; ls /root | grep -c xdp-lab-tmp")).stdout.trim().split("\n").pop(), "0", "no temporary file left");
});

t("up --memory sizes the guest; a copy that does not fit fails naming the space and the fix, and leaves the old file and nothing else", async () => {
  const total = Number(/MemTotal:\s+(\d+) kB/.exec((await on("vm", "cat /proc/meminfo")).stdout)?.[1]) / 1024;
  assert.ok(total > MEMORY - 64 && total <= MEMORY, `MemTotal ${total} MiB with --memory ${MEMORY}`);
  const dir = await tempDir();
  await writeFile(join(dir, "keep.txt"), "old\n");
  await ok(["cp", "--name", L, join(dir, "keep.txt"), "vm:/root/keep.txt"]);
  // Fill the guest's RAM-backed file system (dd stops at ENOSPC), then replace keep.txt.
  await on("vm", "dd if=/dev/zero of=/root/fill bs=1M 2>/dev/null; sync");
  await writeFile(join(dir, "keep.txt"), randomBytes(1 << 20));
  try {
    const r = await xdpLab(["cp", "--name", L, join(dir, "keep.txt"), "vm:/root/keep.txt"]);
    assert.is(r.exitCode, 1, r.stderr);
    assert.match(r.stderr, /Failed to copy .*keep\.txt to vm:\/root\/keep\.txt: .*No space left on device/);
    assert.match(r.stderr, /The VM keeps its files in RAM: \/root has \d+ MiB free of \d+ MiB/);
    assert.match(r.stderr, new RegExp(`Fix: .*\\./xdp-lab up --name ${L} --memory 1024`));
    assert.is((await on("vm", "cat /root/keep.txt; ls /root | grep -c xdp-lab-tmp")).stdout, "old\n0", "the old file intact, no temporary left");
  } finally {
    await on("vm", "rm -f /root/fill /root/keep.txt");
  }
});

t("up --share: the VM sees the host's files at the same path and the host sees the VM's; a read-only share refuses writes; bpftool loads an object straight from it", async () => {
  const data = randomBytes(3 << 20);
  await writeFile(join(share, "from-host.bin"), data);
  assert.is((await on("vm", `sha256sum ${share}/from-host.bin`)).stdout.split(" ")[0], sha256(data));
  await on("vm", `echo made-in-the-vm > ${share}/from-vm.txt`);
  assert.is(await readFile(join(share, "from-vm.txt"), "utf8"), "made-in-the-vm\n");
  const ro = await on("vm", "touch /mnt/out/nope");
  assert.is.not(ro.exitCode, 0);
  assert.match(ro.stderr + ro.stdout, /Read-only file system/);
  // Debian's bpftool, in the VM, loads the host's build output from the share: no cp needed.
  const loaded = await on("vm", "bpftool prog load /mnt/out/pass.bpf.o /sys/fs/bpf/xl-shared && bpftool -j prog show pinned /sys/fs/bpf/xl-shared; rm -f /sys/fs/bpf/xl-shared");
  assert.is(loaded.exitCode, 0, loaded.stderr);
  assert.is((JSON.parse(loaded.stdout) as { type: string }).type, "xdp");
});

interface Attached {
  iface: string;
  hook: string;
  mode: string;
  id: number;
  name: string;
  tag: string;
  maps: { name: string; type: string; entries: number }[];
  runCount: number;
  nsPerRun: number;
}
const attached = async (): Promise<Attached[]> => (JSON.parse(await ok(["status", "--name", L, "--json"])) as { attached: Attached[] }).attached;

t("status shows a program attached by iproute2 in the VM: mode, id, name, tag, maps, and the kernel's run count", async () => {
  await ok(["cp", "--name", L, `${out}/pass.bpf.o`, "vm:/root/user.bpf.o"]);
  const r = await on("vm", "ip link set dev lan0 xdpgeneric obj /root/user.bpf.o sec xdp");
  assert.is(r.exitCode, 0, r.stderr);
  const before = (await attached()).find((p) => p.iface === "lan0");
  assert.ok(before, "status does not list the program on lan0");
  assert.equal({ hook: before!.hook, mode: before!.mode, name: before!.name }, { hook: "xdp", mode: "generic", name: "xdp_pass" });
  assert.match(before!.tag, /^[0-9a-f]{16}$/);
  assert.equal(before!.maps.map((m) => [m.name, m.type, m.entries]), [["stats", "percpu_array", 5]]);
  const ping = await on("client", "ping", "-c", "4", "-i", "0.2", "-W", "1", "server");
  assert.is(ping.exitCode, 0, ping.stdout);
  const after = (await attached()).find((p) => p.iface === "lan0")!;
  assert.is(after.runCount - before!.runCount, 4, "one run per request that came in on lan0");
  assert.ok(after.nsPerRun > 0);
  const text = await ok(["status", "--name", L]);
  assert.match(text, new RegExp(`lan0 xdp generic: xdp_pass id ${after.id} tag ${after.tag}, ${after.runCount} runs, \\d+ ns/run`));
  await on("vm", "ip link set dev lan0 xdpgeneric off");
});

t("capture: 5 pings from the client give a pcap of exactly the 5 requests and the 5 replies", async () => {
  const pcap = join(await tempDir(), "lan.pcap");
  const cap = execa(XDP_LAB, ["capture", "lan", "--name", L, "--count", "10", "--write", pcap, "--", "icmp"], { reject: false });
  // tcpdump says when it listens.
  await new Promise<void>((res) => cap.stderr!.on("data", (b: Buffer) => /listening on tap-lan/.test(b.toString()) && res()));
  const ping = await on("client", "ping", "-4", "-c", "5", "-i", "0.2", "-W", "1", "server");
  assert.is(ping.exitCode, 0, ping.stdout);
  const r = await cap;
  assert.is(r.exitCode, 0, r.stderr);
  const read = await execa("tcpdump", ["-r", pcap, "-n"], { reject: false });
  const lines = read.stdout.trim().split("\n");
  assert.is(lines.length, 10, read.stdout);
  assert.is(lines.filter((l) => /IP 10\.10\.1\.10 > 10\.10\.2\.10: ICMP echo request/.test(l)).length, 5);
  assert.is(lines.filter((l) => /IP 10\.10\.2\.10 > 10\.10\.1\.10: ICMP echo reply/.test(l)).length, 5);
});

t("IPv6: ping -6 by name through the VM, names resolve to both families, NAT66 to the internet", async () => {
  const ping = await on("client", "ping", "-6", "-c", "3", "-i", "0.2", "-W", "2", "server");
  assert.is(ping.exitCode, 0, ping.stdout + ping.stderr);
  assert.match(ping.stdout, /fd00:10:2::10\)?: icmp_seq=1 ttl=63/, "one hop: the VM routes IPv6");
  const names = await on("client", "getent", "ahosts", "server");
  assert.match(names.stdout, /^fd00:10:2::10\s/m);
  assert.match(names.stdout, /^10\.10\.2\.10\s/m);
  const seen = await on("client", "curl", "-sS", "-6", "--max-time", "10", "http://internet/cgi-bin/ip");
  assert.is(seen.stdout.trim(), "[2001:db8:100::1]");
  const v4 = await on("client", "curl", "-sS", "-4", "--max-time", "10", "http://internet/cgi-bin/ip");
  assert.is(v4.stdout.trim(), "198.51.100.1");
});

t("xdp-filter (xdp-tools) in the VM blocks the client by source, IPv4 and IPv6, and the server still reaches the internet", async () => {
  assert.is((await on("vm", "xdp-filter load lan0 -m skb")).exitCode, 0);
  try {
    for (const a of ["10.10.1.10", "fd00:10:1::10"]) assert.is((await on("vm", `xdp-filter ip ${a} -m src`)).exitCode, 0);
    for (const fam of ["-4", "-6"]) {
      const r = await on("client", "ping", fam, "-c", "3", "-i", "0.2", "-W", "1", "server");
      assert.match(r.stdout, /3 packets transmitted, 0 received/, `${fam}: ${r.stdout}`);
    }
    const status = await on("vm", "xdp-filter status");
    assert.match(status.stdout, /10\.10\.1\.10\s+src\s+3\b/);
    assert.match(status.stdout, /fd00:10:1::10\s+src\s+3\b/);
    const server = await on("server", "curl", "-sS", "--max-time", "10", "http://internet/");
    assert.is(server.stdout.trim(), "the simulated internet");
    const net = await on("vm", "bpftool net");
    assert.match(net.stdout, /lan0\(\d+\) generic id \d+/);
  } finally {
    await on("vm", "xdp-filter unload lan0");
  }
});

t("xdp-bench drop on lan0 reports a non-zero rate while the client floods", async () => {
  const flood = on("client", "timeout", "8", "ping", "-4", "-f", "-W", "1", "server");
  const bench = await on("vm", "timeout -s INT 5 xdp-bench drop lan0 -m skb -i 1");
  await flood;
  const rate = Number(/Average packets\/s\s*:\s*(\d+)/.exec(bench.stdout)?.[1]);
  assert.ok(rate > 0, bench.stdout + bench.stderr);
  assert.ok(Number(/Rx dropped\s*:\s*(\d+)/.exec(bench.stdout)?.[1]) > 0, bench.stdout);
});

t("capture --xdp: xdpdump in the guest sees the client's packets at the program's entry and exit", async () => {
  await ok(["load", `${out}/pass.bpf.o`, "--name", L]);
  const lines = await captureXdp(L, 6, join(await tempDir(), "xdp.pcap"), () => on("client", "ping", "-4", "-c", "3", "-i", "0.3", "-W", "1", "server"));
  assert.is(lines.filter((l) => /IP 10\.10\.1\.10 > 10\.10\.2\.10: ICMP echo request/.test(l)).length, 6, "3 requests, each at entry and exit");
  await on("vm", "xdp-lab-app ctl unload lan0");
});

t("a CO-RE program built against out/vmlinux.h loads and runs; a tc program on wan0 egress counts; status and bpftool net list both", async () => {
  const core = await xdpLab(["load", `${out}/proto_count.bpf.o`, "--name", L, "--mode", "generic", "--json"]);
  assert.is(core.exitCode, 0, core.stderr);
  let r = await on("vm", "tc qdisc add dev wan0 clsact && tc filter add dev wan0 egress bpf da obj /usr/lib/xdp-lab/bpf/tc_count.bpf.o sec tc");
  assert.is(r.exitCode, 0, r.stderr);
  try {
    const ping = await on("client", "ping", "-4", "-c", "3", "-i", "0.2", "-W", "1", "server");
    assert.is(ping.exitCode, 0, ping.stdout);
    const list = await attached();
    const tc = list.find((p) => p.hook === "tc/egress" && p.iface === "wan0");
    assert.ok(tc, JSON.stringify(list));
    assert.is(tc!.name, "tc_count");
    assert.ok(tc!.runCount >= 3, `tc runs ${tc!.runCount}`);
    const xdp = list.find((p) => p.iface === "lan0" && p.hook === "xdp");
    assert.ok(xdp && xdp.runCount >= 3, JSON.stringify(xdp));
    r = await on("vm", "bpftool net");
    assert.match(r.stdout, /wan0\(\d+\) clsact\/egress tc_count\.bpf\.o:\[tc\] id \d+/);
    assert.match(r.stdout, /lan0\(\d+\) generic id \d+/);
  } finally {
    await on("vm", "tc qdisc del dev wan0 clsact");
    await on("vm", "xdp-lab-app ctl unload lan0");
  }
});

t.run();
