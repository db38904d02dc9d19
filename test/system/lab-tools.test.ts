// The lab with users' own files and tools: exec's stdin on every host, cp in and out of the VM,
// status for a program attached by iproute2 (not by us), capture at a VM port. Needs root.
import { createHash, randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { execa } from "execa";
import { cleanup, tempDir } from "../helpers.ts";
import { XDP_LAB, xdpLab } from "./cli.ts";

const t = suite("lab: users' files and tools");
const L = `t${process.pid}`.slice(0, 12);
let out = "";

const ok = async (args: string[]): Promise<string> => {
  const r = await xdpLab(args);
  assert.is(r.exitCode, 0, `xdp-lab ${args.join(" ")}: ${r.stderr}${r.stdout}`);
  return r.stdout;
};
const on = (host: string, ...cmd: string[]) => xdpLab(["exec", host, "--name", L, "--", ...cmd]);
const sha = (b: Buffer): string => createHash("sha256").update(b).digest("hex");

t.before(async () => {
  out = await tempDir();
  await ok(["build", "--quiet", "--out", out]);
  await ok(["up", "--name", L, "--out", out]);
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
  const big = randomBytes(20 << 20);
  await writeFile(join(dir, "big.bin"), big);
  await ok(["cp", "--name", L, join(dir, "big.bin"), "vm:/root/"]);
  assert.is((await on("vm", "sha256sum /root/big.bin")).stdout.split(" ")[0], sha(big));
  await ok(["cp", "--name", L, "vm:/root/big.bin", join(dir, "back.bin")]);
  assert.is(sha(await readFile(join(dir, "back.bin"))), sha(big));

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

t.run();
