// Every BPF program attached in the VM, whoever attached it: XDP from `ip -d link`, tc from
// `bpftool net`, each with its name, tag and maps from `bpftool prog/map show`, and the kernel's own
// run statistics (run_cnt, run_time_ns: kernel.bpf_stats_enabled, which the lab turns on at boot).
import type { Client } from "ssh2";
import { exec as sshExec } from "../src/tools/ssh.ts";

export interface AttachedMap {
  id: number;
  name: string;
  type: string;
  entries: number;
}

export interface AttachedProgram {
  iface: string;
  /** xdp, or tc/ingress and tc/egress (clsact). */
  hook: string;
  /** XDP's attach mode. */
  mode?: "native" | "generic" | "offload";
  id: number;
  name: string;
  tag: string;
  maps: AttachedMap[];
  /** The kernel's counts while bpf_stats_enabled is on: runs, and nanoseconds inside the program. */
  runCount?: number;
  runTimeNs?: number;
  nsPerRun?: number;
}

/** The sections of the one command status runs in the VM, in order. */
const SECTIONS = ["stats", "links", "progs", "maps", "net"] as const;
const MARK = "@@xdp-lab-section";

/** One shell line that prints each section after its marker; bpftool net needs netns support. */
export function programsScript(): string {
  const cmds: Record<(typeof SECTIONS)[number], string> = {
    stats: 'echo "[$(cat /proc/sys/kernel/bpf_stats_enabled 2>/dev/null || echo 0)]"',
    links: "ip -j -d link show",
    progs: "bpftool -j prog show",
    maps: "bpftool -j map show",
    net: "bpftool -j net show 2>/dev/null",
  };
  return SECTIONS.map((s) => `echo ${MARK} ${s}; ${cmds[s]}`).join("; ");
}

const XDP_MODES: Record<number, AttachedProgram["mode"]> = { 1: "native", 2: "generic", 3: "offload" };

interface IpLink {
  ifname: string;
  xdp?: { mode: number; prog?: { id: number }; attached?: { mode: number; prog: { id: number } }[] };
}
interface BpftoolProg {
  id: number;
  name?: string;
  tag: string;
  map_ids?: number[];
  run_cnt?: number;
  run_time_ns?: number;
}
interface BpftoolMap {
  id: number;
  name?: string;
  type: string;
  max_entries: number;
}
interface BpftoolNet {
  tc?: { devname: string; kind: string; id: number }[];
}

/** Splits the script's output into its sections' JSON (a section that failed is undefined). */
export function sections(output: string): Partial<Record<(typeof SECTIONS)[number], unknown>> {
  const out: Partial<Record<(typeof SECTIONS)[number], unknown>> = {};
  for (const part of output.split(`${MARK} `).slice(1)) {
    const nl = part.indexOf("\n");
    const name = part.slice(0, nl).trim() as (typeof SECTIONS)[number];
    try {
      // bpftool answers {"error": ...} when it cannot (net without network namespaces in the kernel)
      const v: unknown = JSON.parse(part.slice(nl + 1));
      if (Array.isArray(v)) out[name] = v;
    } catch {
      // no output at all: the section is absent
    }
  }
  return out;
}

/** The attached programs from the sections (pure: unit-tested on captured output). */
export function attachedPrograms(s: ReturnType<typeof sections>): AttachedProgram[] {
  const progs = new Map(((s.progs ?? []) as BpftoolProg[]).map((p) => [p.id, p]));
  const maps = new Map(((s.maps ?? []) as BpftoolMap[]).map((m) => [m.id, m]));
  // bpftool leaves run_cnt out while it is 0; with the statistics on, that is a count of 0.
  const counting = ((s.stats ?? []) as number[])[0] === 1;
  const describe = (iface: string, hook: string, id: number, mode?: AttachedProgram["mode"]): AttachedProgram => {
    const p = progs.get(id);
    const runs = p?.run_cnt ?? (counting ? 0 : undefined);
    const time = p?.run_time_ns;
    return {
      iface,
      hook,
      ...(mode ? { mode } : {}),
      id,
      name: p?.name ?? "?",
      tag: p?.tag ?? "?",
      maps: (p?.map_ids ?? []).flatMap((m) => {
        const info = maps.get(m);
        return info ? [{ id: m, name: info.name ?? "", type: info.type, entries: info.max_entries }] : [];
      }),
      ...(runs !== undefined ? { runCount: runs, runTimeNs: time ?? 0, nsPerRun: runs > 0 ? Math.round((time ?? 0) / runs) : 0 } : {}),
    };
  };
  const out: AttachedProgram[] = [];
  for (const l of (s.links ?? []) as IpLink[]) {
    if (!l.xdp) continue;
    const attached = l.xdp.attached ?? (l.xdp.prog ? [{ mode: l.xdp.mode, prog: l.xdp.prog }] : []);
    for (const a of attached) out.push(describe(l.ifname, "xdp", a.prog.id, XDP_MODES[a.mode]));
  }
  for (const n of (s.net ?? []) as BpftoolNet[]) {
    for (const t of n.tc ?? []) out.push(describe(t.devname, `tc/${t.kind.replace(/^clsact\//, "")}`, t.id));
  }
  return out;
}

/** Every program attached in the VM, through an open session. */
export async function listPrograms(client: Client): Promise<AttachedProgram[]> {
  const r = await sshExec(client, programsScript());
  return attachedPrograms(sections(r.stdout));
}
