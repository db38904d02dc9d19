// The traffic steps of a test: each runs on a lab host and says what it measured and whether that
// is what the step wants. The argv builders and output parsers are pure, for the unit tests.
import type { Host } from "../../network/hosts/index.ts";
import type { HostName } from "../../network/plan.ts";
import { withPacketCounts } from "./capture.ts";
import { flowLabel, isFlow, runFlow, type Judged } from "./flows.ts";
import type { CommandStep, PingStep, Step } from "./file-types.ts";

/** What a step measured, and the failure line when it is not what the step wants. */
export interface StepResult {
  step: string;
  ok: boolean;
  /** Every value it measured (ping: transmitted, received; command: exit, the output's length). */
  measured: Record<string, number | string>;
  wanted?: string;
  got?: string;
  seconds: number;
  /** Its packet expectations: the frames a capture at the port counted during the step. */
  packets?: { port: string; filter: string; wanted: string; count: number; ok: boolean }[];
}

/** A step's failed judgements, as the runner records them: the step's own, then its packet counts'. */
export function stepFailures(s: StepResult): { what: string; wanted: string; got: string }[] {
  const out = s.ok ? [] : [{ what: s.step, wanted: s.wanted ?? "", got: s.got ?? "" }];
  for (const p of s.packets ?? []) if (!p.ok) out.push({ what: `${s.step}: packets at ${p.port} matching "${p.filter}"`, wanted: p.wanted, got: String(p.count) });
  return out;
}

/** ping's argv: the family always said (-4/-6: never left to the resolver), one second to wait for the last reply. */
export function pingArgv(p: PingStep["ping"]): string[] {
  return ["ping", `-${p.family}`, "-c", String(p.count), "-i", String(p.interval), "-s", String(p.size), "-W", "1", p.to];
}

/** Transmitted and received from ping's summary (iputils: "3 received"; busybox: "3 packets received"). */
export function parsePing(stdout: string): { transmitted: number; received: number } | undefined {
  const m = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(stdout);
  return m ? { transmitted: Number(m[1]), received: Number(m[2]) } : undefined;
}

/** "ping -4 client -> server (3 x 56 bytes)". */
export function stepLabel(s: Step): string {
  if ("ping" in s) return `ping -${s.ping.family} ${s.ping.from} -> ${s.ping.to}`;
  if (isFlow(s)) return flowLabel(s);
  return `command on ${s.command.host}: ${s.command.run}`;
}

/** Judges a ping's answer: reachable wants every echo answered, unreachable none. */
export function judgePing(s: PingStep, r: { code: number; stdout: string; stderr: string }): Omit<StepResult, "seconds"> {
  const step = stepLabel(s);
  const counts = parsePing(r.stdout);
  if (!counts) {
    return { step, ok: false, measured: { exit: r.code }, wanted: s.expect, got: `no ping summary (exit ${r.code}): ${(r.stderr || r.stdout).trim().split("\n").pop() ?? ""}` };
  }
  const ok = s.expect === "reachable" ? counts.received === s.ping.count : counts.received === 0;
  const wanted = s.expect === "reachable" ? `reachable (${s.ping.count}/${s.ping.count} replies)` : `unreachable (0/${s.ping.count} replies)`;
  return { step, ok, measured: { ...counts }, wanted, got: `${counts.received}/${counts.transmitted} replies` };
}

/** Judges a command's answer: its exit status, and its stdout against the pattern. */
export function judgeCommand(s: CommandStep, r: { code: number; stdout: string; stderr: string }): Omit<StepResult, "seconds"> {
  const c = s.command;
  const step = stepLabel(s);
  const measured = { exit: r.code, stdout: r.stdout.length > 2000 ? `${r.stdout.slice(0, 2000)}...` : r.stdout };
  if (r.code !== c.exit) {
    const tail = (r.stderr || r.stdout).trim().split("\n").slice(-3).join(" | ");
    return { step, ok: false, measured, wanted: `exit ${c.exit}`, got: `exit ${r.code}${tail ? `: ${tail}` : ""}` };
  }
  if (c.output !== undefined && !new RegExp(c.output, "m").test(r.stdout)) {
    const shown = r.stdout.trim().slice(0, 200);
    return { step, ok: false, measured, wanted: `output matching /${c.output}/`, got: shown ? JSON.stringify(shown) : "no output" };
  }
  return { step, ok: true, measured };
}

/** Runs step S on its hosts; with packet expectations, captures at the ports of the lab namespace LABNS during it. */
export async function runStep(s: Step, host: (name: HostName) => Host | Promise<Host>, labNs?: string): Promise<StepResult> {
  const t0 = performance.now();
  const run = async (): Promise<Judged> =>
    "ping" in s ? judgePing(s, await (await host(s.ping.from)).exec(pingArgv(s.ping))) : isFlow(s) ? runFlow(s, host) : judgeCommand(s, await (await host(s.command.host)).exec([s.command.run]));
  const wants = s.packets ?? [];
  if (wants.length === 0) return { ...(await run()), seconds: (performance.now() - t0) / 1000 };
  if (!labNs) throw new Error("packet expectations need the lab's namespace");
  const { step, packets } = await withPacketCounts(labNs, wants, run);
  return {
    ...step,
    seconds: (performance.now() - t0) / 1000,
    packets: packets.map((p, i) => ({ port: wants[i]!.port, filter: wants[i]!.filter, wanted: p.wanted!, count: p.count!, ok: p.ok })),
  };
}
