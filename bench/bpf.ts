// ns per packet of the lab's XDP programs, per kernel, printed as JSON:
//
//   npm run bench:bpf                          # the host, 6.1, 6.12, debian-6.1 and debian-6.12
//   KERNELS=host,6.12 npm run bench:bpf        # some of them
//
// Two figures per kernel, the same objects (out/, built once) for every kernel:
// - testRun: BPF_PROG_TEST_RUN (`bpftool prog run`) on one 64-byte UDP frame, `repeat` times, the
//   kernel's mean; each figure the median of 5 runs. "host" is this machine's kernel; a lab kernel
//   runs the very same bpftool commands in its guest (xdp-lab up --kernel K, bpftool of the guest).
// - underFlood (lab kernels): the kernel's own run_time_ns / run_cnt (kernel.bpf_stats_enabled) of
//   each program attached to lan0 while the client floods UDP through the VM (bench/udp-flood.c),
//   read through `xdp-lab status`, with the attach mode the kernel gave it.
// Guests are TCG here unless ACCEL says otherwise: their figures compare kernels with each other in
// one run, not with the host's. A built kernel missing from the cache is compiled first (minutes).
// Needs root (a BPF file system in a temp dir, the labs).
import { execa } from "execa";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BUILT_VERSIONS, STOCK_NAMES } from "../src/build/kernels.ts";
import { REPO } from "../src/paths.ts";
import { loadXdp, loadXdpArgs, parseRunXdp, runXdp, runXdpArgs, updateMap, updateMapArgs } from "../src/tools/bpftool.ts";
import { ipKey, udpFrame } from "../test/system/frames.ts";
import { floodNsPerPacket } from "./flood.ts";
import { median, timedXdpLab } from "./run.ts";
import { report } from "./results.ts";

const REPEAT = 1_000_000;
const RUNS = 5;
const ACCEL = process.env.ACCEL ?? "tcg";
const ALL = ["host", ...BUILT_VERSIONS, ...STOCK_NAMES];
const KERNELS = (process.env.KERNELS ?? ALL.join(",")).split(",").filter(Boolean);
for (const k of KERNELS) if (!ALL.includes(k)) throw new Error(`KERNELS: ${k} is not one of ${ALL.join(", ")}. Fix: KERNELS=${ALL.join(",")}`);
const log = (m: string): void => void process.stderr.write(`bench:bpf: ${m}\n`);

/** What is measured: an object, and for the blocked firewall the map entry that blocks the frame's source. */
const CASES: { name: string; object: string; block?: { map: string; key: number[]; value: number[] } }[] = [
  { name: "pass", object: "pass" },
  { name: "drop", object: "drop" },
  { name: "firewallNotBlocked", object: "firewall" },
  { name: "firewallBlocked", object: "firewall", block: { map: "sources", key: ipKey("192.168.1.66"), value: [1, 0, ...new Array(14).fill(0)] } },
];
const TARGET_NS: Record<string, number> = { pass: 10, drop: 10, firewallNotBlocked: 30, firewallBlocked: 30 };

type Measured = { nsPerPacket: number; runs: number[]; verdict: number };

const root = await mkdtemp(join(tmpdir(), "xdp-lab-bench-bpf-"));
const out = join(root, "out");
const frame = join(root, "frame.bin");
const results: Record<string, unknown> = {};
try {
  await timedXdpLab(["build", "bpf", "--quiet", "--out", out]);
  await writeFile(frame, udpFrame("192.168.1.66", "10.0.2.2", 4000, 53, 64 - 42));
  for (const k of KERNELS) {
    log(`kernel ${k}`);
    results[k] = k === "host" ? await onHost() : await inGuest(k);
  }
  report("bpf", {
    method: `bpftool prog run (BPF_PROG_TEST_RUN), ${REPEAT} repeats per run, median of ${RUNS} runs, 64-byte UDP frame, the same objects on every kernel; lab kernels in a ${ACCEL.toUpperCase()} guest (2 vCPUs), plus run_time_ns / run_cnt on lan0 under a UDP flood from the client`,
    targetNs: TARGET_NS,
    kernels: results,
  });
} finally {
  await rm(root, { recursive: true, force: true });
}

/** The cases on this machine's kernel, in a BPF file system of our own. */
async function onHost(): Promise<unknown> {
  const fs = join(root, "bpffs");
  await mkdir(fs);
  await execa("mount", ["-t", "bpf", "xdp-lab-bench", fs]);
  try {
    const cases: Record<string, Measured> = {};
    for (const c of CASES) {
      const dir = join(fs, c.name);
      await mkdir(dir);
      await loadXdp(join(out, `${c.object}.bpf.o`), join(dir, "prog"), join(dir, "maps"));
      if (c.block) await updateMap(join(dir, "maps", c.block.map), c.block.key, c.block.value);
      const runs: Measured["runs"] = [];
      let verdict = -1;
      for (let i = 0; i < RUNS; i++) {
        const r = await runXdp(join(dir, "prog"), frame, REPEAT);
        runs.push(r.ns);
        verdict = r.verdict;
      }
      cases[c.name] = { nsPerPacket: median(runs), runs, verdict };
    }
    return { release: (await execa("uname", ["-r"])).stdout, testRun: cases };
  } finally {
    await execa("umount", [fs], { reject: false });
  }
}

/** The same cases in kernel K's guest, then each program under a flood through the lab. */
async function inGuest(k: string): Promise<unknown> {
  if (BUILT_VERSIONS.includes(k)) await timedXdpLab(["build", "--quiet", "--kernel", k]);
  const name = `bb${process.pid}`.slice(0, 10);
  await execa(join(REPO, "xdp-lab"), ["down", "--name", name], { reject: false });
  const up = JSON.parse((await timedXdpLab(["up", "--name", name, "--kernel", k, "--accel", ACCEL, "--json"])).stdout) as { upSeconds: number; accel: string };
  const exec = async (script: string): Promise<string> => (await timedXdpLab(["exec", "vm", "--name", name, "--", script])).stdout;
  try {
    const release = (await exec("uname -r")).trim();
    await exec("mkdir -p /root/bench");
    for (const f of [...new Set(CASES.map((c) => `${out}/${c.object}.bpf.o`)), frame]) await timedXdpLab(["cp", "--name", name, f, "vm:/root/bench/"]);
    const bpf = "/sys/fs/bpf/xdp-lab-bench";
    const cases: Record<string, Measured> = {};
    for (const c of CASES) {
      const dir = `${bpf}/${c.name}`;
      const q = (args: string[]) => ["bpftool", ...args].map((a) => `'${a}'`).join(" ");
      const lines = [
        `mkdir -p ${dir}`,
        q(loadXdpArgs(`/root/bench/${c.object}.bpf.o`, `${dir}/prog`, `${dir}/maps`)),
        ...(c.block ? [q(updateMapArgs(`${dir}/maps/${c.block.map}`, c.block.key, c.block.value))] : []),
        `for i in $(seq ${RUNS}); do ${q(runXdpArgs(`${dir}/prog`, "/root/bench/frame.bin", REPEAT))}; done`,
        `rm -rf ${dir}`,
      ];
      const text = await exec(`set -e; ${lines.join("; ")}`);
      const runs = text.split(/(?=Return value:)/).filter((l) => l.includes("Return value")).map(parseRunXdp);
      if (runs.length !== RUNS) throw new Error(`${k}: ${c.name}: ${runs.length} of ${RUNS} runs reported:\n${text}`);
      cases[c.name] = { nsPerPacket: median(runs.map((r) => r.ns)), runs: runs.map((r) => r.ns), verdict: runs[0]!.verdict };
    }
    await exec(`rm -rf /root/bench ${bpf}`);
    const underFlood = await floodNsPerPacket(name, { objects: ["pass", "drop", "firewall"].map((o) => `${out}/${o}.bpf.o`), log });
    return { release, accel: up.accel, upSeconds: up.upSeconds, testRun: cases, underFlood };
  } finally {
    await execa(join(REPO, "xdp-lab"), ["down", "--name", name], { reject: false });
  }
}
