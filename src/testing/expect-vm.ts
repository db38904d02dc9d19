// Expectations read in the VM around the traffic: a program's nanoseconds per packet from the
// kernel's run_time_ns / run_cnt (kernel.bpf_stats_enabled on during the test, put back after), and
// lines the app wrote to its log. `before` runs after the setup, `after` after the last step.
import { GUEST_APP_LOG } from "../../network/contract.ts";
import { listPrograms, type AttachedProgram } from "../../network/programs.ts";
import { withVm } from "../../network/session.ts";
import type { Lab } from "../lab.ts";
import type { Hook, NsPerPacketExpect, Port, TestCase } from "./file-types.ts";
import type { AppLogResult, Failure, NsPerPacketResult } from "./result-types.ts";
export type { NsPerPacketResult, AppLogResult } from "./result-types.ts";

const STATS = "/proc/sys/kernel/bpf_stats_enabled";

/** What `after` compares against. */
export interface VmBefore {
  /** bpf_stats_enabled as it was, when the test turned it on (to be put back). */
  statsWas?: number;
  /** Each measured program's counts before the traffic: by "port hook". */
  runs: Map<string, { id: number; name: string; runCount: number; runTimeNs: number } | Error>;
  /** The app log's size in bytes after the setup: what the test wrote comes after it. */
  logOffset?: number;
}

const hookOf = (h: Hook): string => (h === "xdp" ? "xdp" : h === "tc-ingress" ? "tc/ingress" : "tc/egress");
const keyOf = (w: Pick<NsPerPacketExpect, "port" | "hook">): string => `${w.port} ${w.hook ?? "xdp"}`;

/** The program on PORT's HOOK among the attached ones, or why there is none. */
export function findProgram(programs: AttachedProgram[], port: Port, hook: Hook): AttachedProgram | Error {
  const found = programs.filter((p) => p.iface === `${port}0` && p.hook === hookOf(hook));
  if (found.length === 1) return found[0]!;
  const there = programs.filter((p) => /^(lan|wan)0$/.test(p.iface)).map((p) => `${p.name} on ${p.iface} ${p.hook}`);
  if (found.length === 0) return new Error(`no program on ${port}0 ${hookOf(hook)} (attached: ${there.join(", ") || "none"})`);
  return new Error(`${found.length} programs on ${port}0 ${hookOf(hook)} (${found.map((p) => `${p.name} id ${p.id}`).join(", ")}): measure a hook with one program`);
}

/** The average over the traffic from two readings; run_cnt unmoved is said, never taken as 0 ns. */
export function nsPerPacket(before: { runCount: number; runTimeNs: number }, after: { runCount: number; runTimeNs: number }): { runs: number; ns: number } | Error {
  const runs = after.runCount - before.runCount;
  if (runs <= 0) return new Error("run_cnt did not move: the program ran 0 times during the traffic (does the traffic reach this port and hook?)");
  return { runs, ns: (after.runTimeNs - before.runTimeNs) / runs };
}

/** The lines of TEXT (the log written during the test) that each pattern matches first. */
export function matchLog(text: string, patterns: string[]): AppLogResult {
  const lines = text.split("\n").filter((l) => l !== "");
  return { lines: lines.length, patterns: patterns.map((p) => {
    const re = new RegExp(p);
    const match = lines.find((l) => re.test(l));
    return { pattern: p, ...(match !== undefined ? { match } : {}), ok: match !== undefined };
  }) };
}

/** Readings before the traffic, for the test's ns_per_packet and app_log expectations (none: nothing is read). */
export async function vmBefore(lab: Lab, test: TestCase): Promise<VmBefore> {
  const b: VmBefore = { runs: new Map() };
  const ns = test.expect?.ns_per_packet ?? [];
  if (ns.length) {
    const was = Number((await lab.vmText(`cat ${STATS}`, "read bpf_stats_enabled")).trim());
    if (was !== 1) {
      await lab.vmText(`echo 1 > ${STATS}`, "turn bpf_stats_enabled on");
      b.statsWas = was;
    }
    const programs = await withVm(lab.name, listPrograms);
    for (const w of ns) {
      const p = findProgram(programs, w.port, w.hook ?? "xdp");
      b.runs.set(keyOf(w), p instanceof Error ? p : { id: p.id, name: p.name, runCount: p.runCount ?? 0, runTimeNs: p.runTimeNs ?? 0 });
    }
  }
  if (test.expect?.app_log?.length) b.logOffset = Number((await lab.vmText(`wc -c < ${GUEST_APP_LOG}`, "measure the app's log")).trim());
  return b;
}

/**
 * Readings after the traffic, judged: each failed expectation goes to FAIL. bpf_stats_enabled is
 * put back even when reading fails.
 */
export async function vmAfter(lab: Lab, test: TestCase, b: VmBefore, fail: (f: Failure) => void): Promise<{ nsPerPacket?: NsPerPacketResult[]; appLog?: AppLogResult }> {
  const out: { nsPerPacket?: NsPerPacketResult[]; appLog?: AppLogResult } = {};
  const ns = test.expect?.ns_per_packet ?? [];
  try {
    if (ns.length) {
      const programs = await withVm(lab.name, listPrograms);
      out.nsPerPacket = ns.map((w) => {
        const hook = w.hook ?? "xdp";
        const wanted = `at most ${w.at_most} ns per packet`;
        const what = `ns per packet of ${w.port}0 ${hookOf(hook)}`;
        const r: NsPerPacketResult = { port: w.port, hook, wanted, ok: false };
        const before = b.runs.get(keyOf(w));
        const now = findProgram(programs, w.port, hook);
        const err = before instanceof Error ? before : now instanceof Error ? now : before && now.id !== before.id ? new Error(`the program changed during the traffic (id ${before.id}, now ${now.id})`) : undefined;
        if (err || !before || before instanceof Error || now instanceof Error) {
          fail({ what, wanted, got: err?.message ?? "no reading before the traffic" });
          return r;
        }
        Object.assign(r, { program: now.name, id: now.id });
        const m = nsPerPacket(before, { runCount: now.runCount ?? 0, runTimeNs: now.runTimeNs ?? 0 });
        if (m instanceof Error) {
          fail({ what: `${what} (${now.name})`, wanted, got: m.message });
          return r;
        }
        Object.assign(r, { runs: m.runs, runTimeNs: Math.round(m.ns * m.runs), nsPerPacket: Math.round(m.ns), ok: m.ns <= w.at_most });
        if (!r.ok) fail({ what: `${what} (${now.name})`, wanted, got: `${Math.round(m.ns)} ns over ${m.runs} runs` });
        return r;
      });
    }
    const patterns = test.expect?.app_log ?? [];
    if (patterns.length) {
      const text = await lab.vmText(`tail -c +${(b.logOffset ?? 0) + 1} ${GUEST_APP_LOG}`, "read the app's log");
      out.appLog = matchLog(text, patterns);
      for (const p of out.appLog.patterns) {
        if (!p.ok) fail({ what: "app log", wanted: `a line matching /${p.pattern}/`, got: out.appLog.lines ? `none of its ${out.appLog.lines} new line(s) (last: ${JSON.stringify(text.trim().split("\n").pop()!.slice(0, 160))})` : "no new line" });
      }
    }
  } finally {
    if (b.statsWas !== undefined) await lab.vmText(`echo ${b.statsWas} > ${STATS}`, "put bpf_stats_enabled back");
  }
  return out;
}
