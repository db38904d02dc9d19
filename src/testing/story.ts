// A test's result told as a story (demo's): each step as the command a person would type and what
// came of it, then the test's verdict. Steps of a kind it has no words for are told by their label.
import { failureLine } from "./report.ts";
import type { StepResult } from "./traffic.ts";
import type { TestCase } from "./file-types.ts";
import type { TestResult } from "./result-types.ts";

/** "  client$ ping -4 -c 3 server   -> 3/3 replies" for one step and what it measured. */
export function stepLine(step: unknown, r: StepResult): string {
  const s = step as { ping?: { from: string; to: string; family: number; count: number }; command?: { host: string; run: string } };
  const m = r.measured;
  if (s.ping) {
    const got = m.received !== undefined ? `${m.received}/${m.transmitted} replies` : (r.got ?? "");
    return `  ${s.ping.from}$ ping -${s.ping.family} -c ${s.ping.count} ${s.ping.to}   -> ${got}`;
  }
  if (s.command) {
    const out = String(m.stdout ?? "").trim().split("\n")[0] ?? "";
    return `  ${s.command.host}$ ${s.command.run}   -> ${r.ok ? out || `exit ${m.exit}` : (r.got ?? "")}`;
  }
  return `  ${r.step}   -> ${r.ok ? "as wanted" : (r.got ?? "")}`;
}

/** An act: its number and name (and description), each step, and the verdict with why a failed one failed. */
export function actLines(n: number, test: TestCase, r: TestResult): string[] {
  const head = `${n}. ${test.name}${test.description ? `: ${test.description}` : ""}`;
  const steps = r.steps.map((s, i) => stepLine(test.traffic[i], s));
  const why = r.verdict === "fail" ? [...(r.error ? [r.error] : []), ...r.failures.map(failureLine)].flatMap((l) => l.split("\n")).filter((l) => l.trim() !== "").map((l) => `  ${l.trimEnd()}`) : [];
  return [head, ...steps, ...why, `  ${r.verdict.toUpperCase()} (${r.seconds.toFixed(1)} s)`];
}
