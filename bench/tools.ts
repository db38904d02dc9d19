// Figures of the lab's tools for users' own work, printed as JSON:
//   npm run bench:tools
// `cp` throughput into and out of the VM (a 64 MiB random file, RUNS each way), and the kernel's
// own ns per packet (run_time_ns / run_cnt, bpf_stats_enabled) for each of the lab's XDP programs
// on lan0 while the client floods UDP (bench/udp-flood.c), read through `xdp-lab status`.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { ensure } from "../src/tools/ensure.ts";
import { LAB_RUNTIME } from "../src/build/packages.ts";
import { DEFAULT_OUT, REPO } from "../src/paths.ts";
import { FLOOD_SECONDS, floodNsPerPacket } from "./flood.ts";
import { median } from "./run.ts";
import { report } from "./results.ts";

const RUNS = 3;
const SIZE = 64 << 20;
const NAME = "bench-tools";
const log = (m: string): void => void process.stderr.write(`bench:tools: ${m}\n`);
const xdpLab = async (...args: string[]): Promise<string> => {
  const r = await execa(`${REPO}/xdp-lab`, args, { reject: false });
  if (r.exitCode !== 0) throw new Error(`xdp-lab ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
};

await ensure(LAB_RUNTIME, { install: true, purpose: "bench:tools", log });
const dir = await mkdtemp(join(tmpdir(), "xdp-lab-bench-tools-"));
await xdpLab("build", "--quiet");
await execa(`${REPO}/xdp-lab`, ["down", "--name", NAME], { reject: false });
// The guest's files live in RAM, about half of --memory: 512 MiB holds the 64 MiB file with room.
const MEMORY = 512;
const upOut = JSON.parse(await xdpLab("up", "--name", NAME, "--json", "--memory", String(MEMORY))) as { upSeconds: number; accel: string };
try {
  const file = join(dir, "blob");
  await writeFile(file, randomBytes(SIZE));
  const into: number[] = [];
  const outOf: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    log(`cp run ${i + 1}`);
    // Each run a new file, not a replacement (which needs room for both copies until it is done).
    await xdpLab("exec", "vm", "--name", NAME, "--", "rm -f /root/blob");
    let t = performance.now();
    await xdpLab("cp", "--name", NAME, file, "vm:/root/blob");
    into.push((performance.now() - t) / 1000);
    t = performance.now();
    await xdpLab("cp", "--name", NAME, "vm:/root/blob", join(dir, "back"));
    outOf.push((performance.now() - t) / 1000);
  }
  await xdpLab("exec", "vm", "--name", NAME, "--", "rm -f /root/blob");
  const mbps = (s: number): number => Number((SIZE / 2 ** 20 / s).toFixed(1));

  const perPacket = await floodNsPerPacket(NAME, { objects: ["pass", "drop", "firewall"].map((o) => `${DEFAULT_OUT}/${o}.bpf.o`), log });
  report("tools", {
    method: `${upOut.accel.toUpperCase()} guest, 2 vCPUs, ${MEMORY} MiB; cp of a ${SIZE >> 20} MiB random file, ${RUNS} runs each way (median); ns per packet = run_time_ns / run_cnt of the program on lan0 (kernel.bpf_stats_enabled) after a ${FLOOD_SECONDS} s UDP flood from the client`,
    upSeconds: upOut.upSeconds,
    cp: {
      intoVmMiBps: mbps(median(into)),
      outOfVmMiBps: mbps(median(outOf)),
      intoSeconds: into.map((x) => Number(x.toFixed(2))),
      outSeconds: outOf.map((x) => Number(x.toFixed(2))),
    },
    nsPerPacketInVm: perPacket,
  });
} finally {
  await execa(`${REPO}/xdp-lab`, ["down", "--name", NAME], { reject: false });
  await rm(dir, { recursive: true, force: true });
}
