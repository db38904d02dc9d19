// The XDP programs on the host kernel, before any VM: BPF_PROG_TEST_RUN through bpftool on crafted
// frames. Needs root; pins into a BPF file system mounted in a temporary directory of its own.
import { existsSync } from "node:fs";
import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { bpfPrograms } from "../../src/build/stages.ts";
import { deleteMapKey, dumpMap, loadXdp, runXdp, updateMap } from "../../src/tools/bpftool.ts";
import { cleanup, tempDir } from "../helpers.ts";
import { xdpLab } from "./cli.ts";
import { arpFrame, ipKey, runtIpv4Frame, truncatedUdpFrame, udpFrame } from "./frames.ts";

const XDP_DROP = 1;
const XDP_PASS = 2;

const t = suite("XDP programs on the host (BPF_PROG_TEST_RUN)");
let out = "";
let bpffs = "";
let n = 0;

t.before(async () => {
  out = await tempDir();
  const r = await xdpLab(["build", "bpf", "--quiet", "--out", out]);
  assert.is(r.exitCode, 0, r.stderr);
  bpffs = await tempDir("xdp-lab-bpffs-");
  await execa("mount", ["-t", "bpf", "xdp-lab-test", bpffs]);
});

t.after(async () => {
  if (bpffs) await execa("umount", [bpffs], { reject: false });
  await cleanup();
});

/** Loads a program fresh (new maps) and returns its pins. */
async function load(name: string): Promise<{ prog: string; maps: string }> {
  const dir = join(bpffs, `${name}-${n++}`);
  await execa("mkdir", ["-p", dir]);
  await loadXdp(join(out, `${name}.bpf.o`), join(dir, "prog"), join(dir, "maps"));
  return { prog: join(dir, "prog"), maps: join(dir, "maps") };
}

async function frameFile(frame: Buffer): Promise<string> {
  const f = join(out, `frame-${n++}.bin`);
  await writeFile(f, frame);
  return f;
}

type StatsEntry = { formatted: { key: number; values: { cpu: number; value: { packets: number; bytes: number } }[] } };

/** Packets and bytes counted under a verdict, summed over CPUs. */
async function counted(maps: string, verdict: number): Promise<{ packets: number; bytes: number }> {
  const entry = (await dumpMap<StatsEntry>(join(maps, "stats"))).find((e) => e.formatted.key === verdict)!;
  return entry.formatted.values.reduce((a, v) => ({ packets: a.packets + v.value.packets, bytes: a.bytes + v.value.bytes }), { packets: 0, bytes: 0 });
}

t("every bpf/*.bpf.c was built into out/", () => {
  assert.equal(bpfPrograms(), ["drop", "fib_router", "firewall", "pass", "proto_count", "reflect", "tc_count"]);
  for (const name of bpfPrograms()) assert.ok(existsSync(join(out, `${name}.bpf.o`)), `${name}.bpf.o missing from out/`);
});

t("pass: passes, and counts exactly N packets and N x length bytes after N runs", async () => {
  const { prog, maps } = await load("pass");
  const frame = udpFrame("10.0.1.2", "10.0.2.2", 4000, 53, 100);
  const r = await runXdp(prog, await frameFile(frame), 1000);
  assert.is(r.verdict, XDP_PASS);
  assert.equal(await counted(maps, XDP_PASS), { packets: 1000, bytes: 1000 * frame.length });
  assert.equal(await counted(maps, XDP_DROP), { packets: 0, bytes: 0 });
});

t("drop: drops, and counts exactly N packets", async () => {
  const { prog, maps } = await load("drop");
  const frame = udpFrame("10.0.1.2", "10.0.2.2", 4000, 53);
  assert.is((await runXdp(prog, await frameFile(frame), 777)).verdict, XDP_DROP);
  assert.equal(await counted(maps, XDP_DROP), { packets: 777, bytes: 777 * frame.length });
  assert.equal((await counted(maps, XDP_PASS)).packets, 0);
});

t("firewall: passes unknown sources, drops blocklisted ones, and passes them again once unblocked", async () => {
  const { prog, maps } = await load("firewall");
  const bad = await frameFile(udpFrame("192.168.1.66", "10.0.2.2", 1234, 80));
  const good = await frameFile(udpFrame("192.168.1.7", "10.0.2.2", 1234, 80));
  assert.is((await runXdp(prog, bad)).verdict, XDP_PASS, "not blocked yet");
  await updateMap(join(maps, "sources"), ipKey("192.168.1.66"), [1, 1, ...new Array(14).fill(0)]);
  assert.is((await runXdp(prog, bad, 50)).verdict, XDP_DROP);
  assert.is((await runXdp(prog, good, 20)).verdict, XDP_PASS, "a blocklist miss passes");
  assert.is((await counted(maps, XDP_DROP)).packets, 50);
  assert.is((await counted(maps, XDP_PASS)).packets, 21);
  await updateMap(join(maps, "sources"), ipKey("192.168.1.66"), [0, 1, ...new Array(14).fill(0)]);
  assert.is((await runXdp(prog, bad)).verdict, XDP_PASS, "unblocked");
  await deleteMapKey(join(maps, "sources"), ipKey("192.168.1.66"));
  assert.is((await runXdp(prog, bad)).verdict, XDP_PASS, "forgotten: a new source again");
});

type SourceEntry = { formatted: { key: number; value: { blocked: number; reported: number; packets: number } } };

t("firewall: each new source is recorded once as reported, whatever the packet count; a source blocked before its first packet is reported when it comes", async () => {
  const { prog, maps } = await load("firewall");
  await updateMap(join(maps, "sources"), ipKey("172.16.0.3"), [1, 0, ...new Array(14).fill(0)]);
  await runXdp(prog, await frameFile(udpFrame("172.16.0.1", "10.0.2.2", 1, 2)), 100);
  await runXdp(prog, await frameFile(udpFrame("172.16.0.2", "10.0.2.2", 1, 2)), 1);
  assert.is((await runXdp(prog, await frameFile(udpFrame("172.16.0.3", "10.0.2.2", 1, 2)), 5)).verdict, XDP_DROP);
  const sources = await dumpMap<SourceEntry>(join(maps, "sources"));
  // keys are __u32 in host order of network-order bytes: 172.16.0.x -> 0x0x0010ac
  const byKey = Object.fromEntries(sources.map(({ formatted: { key, value } }) => [key, [value.blocked, value.reported, value.packets]]));
  assert.equal(byKey, { [0x010010ac]: [0, 1, 100], [0x020010ac]: [0, 1, 1], [0x030010ac]: [1, 1, 5] }, "blocked, reported, packets");
});

t("firewall: defined verdicts for non-IPv4 (pass) and runt or truncated frames (drop)", async () => {
  const { prog, maps } = await load("firewall");
  assert.is((await runXdp(prog, await frameFile(arpFrame()))).verdict, XDP_PASS);
  assert.is((await runXdp(prog, await frameFile(runtIpv4Frame()))).verdict, XDP_DROP);
  assert.is((await runXdp(prog, await frameFile(truncatedUdpFrame("10.9.9.9")))).verdict, XDP_DROP);
  assert.is((await counted(maps, XDP_DROP)).packets, 2);
  assert.equal(await dumpMap(join(maps, "sources")), [], "malformed frames record no source");
});

t.run();
