// The kernel's own ns per packet of XDP programs in a lab's VM: each object attached to lan0 in
// turn (`xdp-lab load`), the client floods UDP through the VM to the server (bench/udp-flood.c),
// then run_time_ns / run_cnt (kernel.bpf_stats_enabled) read through `xdp-lab status --json`.
// Shared by bench:tools and bench:bpf (per kernel).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { execa } from "execa";
import { REPO } from "../src/paths.ts";
import { timedXdpLab } from "./run.ts";

export const FLOOD_SECONDS = 5;

export interface FloodFigure {
  program?: string;
  mode?: string;
  runs?: number;
  nsPerPacket?: number;
  floodSent: number;
}

/** Each object's figure on lab NAME's lan0 after a FLOOD_SECONDS flood; the program is detached again after. */
export async function floodNsPerPacket(name: string, o: { objects: string[]; log?: (m: string) => void }): Promise<Record<string, FloodFigure>> {
  const dir = await mkdtemp(join(tmpdir(), "xdp-lab-bench-flood-"));
  try {
    const flood = join(dir, "udp-flood");
    await execa("gcc", ["-O2", "-Wall", "-o", flood, `${REPO}/bench/udp-flood.c`]);
    const figures: Record<string, FloodFigure> = {};
    for (const object of o.objects) {
      const obj = basename(object).replace(/\.bpf\.o$/, "");
      o.log?.(`${obj} under the flood`);
      await timedXdpLab(["load", object, "--name", name]);
      const r = await execa("ip", ["netns", "exec", `xl-${name}-client`, flood, "10.10.2.10", "9", String(FLOOD_SECONDS)], { reject: false });
      if (r.exitCode !== 0) throw new Error(`udp-flood from ${name}'s client failed: ${r.stderr}`);
      const sent = JSON.parse(r.stdout) as { sent: number };
      const s = JSON.parse((await timedXdpLab(["status", "--name", name, "--json"])).stdout) as { attached: { iface: string; name: string; mode: string; runCount: number; nsPerRun: number }[] };
      const p = s.attached.find((a) => a.iface === "lan0");
      figures[obj] = { program: p?.name, mode: p?.mode, runs: p?.runCount, nsPerPacket: p?.nsPerRun, floodSent: sent.sent };
      await timedXdpLab(["exec", "vm", "--name", name, "--", "xdp-lab-app ctl unload lan0"]);
    }
    return figures;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
