// What a run of tests found, and the reports made from it: the line per test, TAP 13 (which KTAP
// parsers read too), JUnit XML, the GitHub job summary's Markdown table and the JSON record.
import type { Failure, ProgramResult, RunResult, TestResult } from "./result-types.ts";
export type { Verdict, Failure, MapResult, TestResult, RunResult } from "./result-types.ts";

export function summarize(tests: TestResult[]): RunResult["summary"] {
  return {
    passed: tests.filter((t) => t.verdict === "pass").length,
    failed: tests.filter((t) => t.verdict === "fail").length,
    skipped: tests.filter((t) => t.verdict === "skip").length,
  };
}

/** "map stats key 2: wanted exactly 3, got 0" */
export function failureLine(f: Failure): string {
  return `${f.what}: wanted ${f.wanted}, got ${f.got}`;
}

/** Every line that says why T failed. */
export function reasons(t: TestResult): string[] {
  return [...(t.error ? [t.error] : []), ...t.failures.map(failureLine)];
}

/**
 * The line per test as it ends: "PASS name (1.2 s)", then a failed one's reasons, each of their lines
 * indented (a loader's error holds libbpf's own lines).
 */
export function progressLines(t: TestResult): string[] {
  const head = `${t.verdict.toUpperCase()} ${t.name} (${t.verdict === "skip" ? t.skipped : `${t.seconds.toFixed(1)} s`})`;
  const why = t.verdict === "fail" ? reasons(t).flatMap((r) => r.split("\n")).filter((l) => l.trim() !== "").map((l) => `    ${l.trimEnd()}`) : [];
  const kept = t.artefacts ? [`    artefacts: ${t.artefacts}`] : [];
  // The first failed packet case's frames, decoded and as hex; the rest are in the artefacts.
  const detail = t.verdict === "fail" ? t.packets?.find((p) => !p.ok && p.detail)?.detail : undefined;
  const frames = detail ? detail.trimEnd().split("\n").map((l) => `      ${l}`) : [];
  return [head, ...why, ...frames, ...kept];
}

/** A TAP description: no '#', which starts a directive, and one line. */
const tapText = (s: string): string => s.replace(/\\/g, "\\\\").replace(/#/g, "\\#").replace(/\n/g, " ");

/** TAP version 13: a plan, one ok/not ok line per test ("file: name"), reasons as "# " diagnostics (also KTAP's). */
export function tap(r: RunResult): string {
  const lines = ["TAP version 13", `1..${r.tests.length}`];
  r.tests.forEach((t, i) => {
    const desc = tapText(`${t.file}: ${t.name}`);
    if (t.verdict === "skip") lines.push(`ok ${i + 1} ${desc} # SKIP ${tapText(t.skipped ?? "")}`);
    else lines.push(`${t.verdict === "pass" ? "ok" : "not ok"} ${i + 1} ${desc}`);
    if (t.verdict === "fail") for (const why of reasons(t)) lines.push(`# ${why.replace(/\n/g, " ")}`);
  });
  lines.push(`# passed ${r.summary.passed}, failed ${r.summary.failed}, skipped ${r.summary.skipped}`);
  return lines.join("\n") + "\n";
}

/** XML text and attribute escaping; characters XML 1.0 cannot hold are dropped. */
export function xmlEscape(s: string): string {
  return s
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

/** An ISO 8601 time without its fraction and zone, as JUnit's timestamp attribute takes it (the Ant/Jenkins schemas' xs:dateTime pattern). */
const junitTime = (iso: string): string => iso.replace(/\.\d+Z$/, "").replace(/Z$/, "");

/**
 * JUnit XML as CI systems read it: one testsuite per test file, one testcase per test (classname the
 * file; "NAME [MODE]" under --mode), a failure with its first reason as message and every wanted/got
 * line as text, an error for a test that could not be carried out, skipped for a test not run.
 * The root carries the run's totals, its wall time (the lab's start included, so more than its
 * suites' sum) and when it started: name, tests, failures, errors, skipped, time, timestamp. Readers
 * that miss one recompute them from the suites (Python's junitparser, on reading skipped, sets the
 * root's time to the suites' sum). The Jenkins schemas (dtkit's junit-4.xsd, xunit-plugin's
 * junit-10.xsd) declare no skipped or timestamp on the root; the Jenkins junit plugin ignores the
 * root's attributes, and test/testing/junit-schema.ts checks everything else against the schema.
 */
export function junit(r: RunResult): string {
  const files = [...new Set(r.tests.map((t) => t.file))];
  const a = (s: string): string => xmlEscape(s);
  const out = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const total = r.summary;
  const errors = r.tests.filter((t) => t.verdict === "fail" && t.error).length;
  out.push(
    `<testsuites name="xdp-lab test" tests="${r.tests.length}" failures="${total.failed - errors}" errors="${errors}" skipped="${total.skipped}" time="${r.seconds.toFixed(3)}" timestamp="${a(junitTime(r.startedAt))}">`,
  );
  files.forEach((file, id) => {
    const ts = r.tests.filter((t) => t.file === file);
    const fails = ts.filter((t) => t.verdict === "fail" && !t.error).length;
    const errs = ts.filter((t) => t.verdict === "fail" && t.error).length;
    const skips = ts.filter((t) => t.verdict === "skip").length;
    const time = ts.reduce((s, t) => s + t.seconds, 0);
    // When the file's first test started (--jobs runs files side by side), else when the run did.
    const started = ts.map((t) => t.startedAt).filter((x): x is string => !!x).sort()[0] ?? r.startedAt;
    out.push(`  <testsuite name="${a(file)}" id="${id}" tests="${ts.length}" failures="${fails}" errors="${errs}" skipped="${skips}" time="${time.toFixed(3)}" timestamp="${a(junitTime(started))}">`);
    for (const t of ts) {
      const head = `    <testcase name="${a(t.name)}" classname="${a(file)}" time="${t.seconds.toFixed(3)}"`;
      // The programs packet cases ran, with what the verifier and the JIT made of them.
      const programs = (t.programs ?? []).map(programLine).join("\n");
      if (t.verdict === "pass" && !programs) {
        out.push(`${head}/>`);
        continue;
      }
      out.push(`${head}>`);
      if (t.verdict === "pass") {
        out.push(`      <system-out>${a(programs)}</system-out>`, "    </testcase>");
        continue;
      }
      // The Jenkins schema's skipped holds its reason as text, not as a message attribute.
      if (t.verdict === "skip") out.push(`      <skipped>${a(t.skipped ?? "")}</skipped>`);
      else {
        const tag = t.error ? "error" : "failure";
        const why = reasons(t);
        out.push(`      <${tag} message="${a(why[0] ?? "failed")}" type="${t.error ? "error" : "expectation"}">${a(why.join("\n"))}</${tag}>`);
        const said = [...(programs ? [programs] : []), ...(t.artefacts ? [`artefacts: ${t.artefacts}`] : [])];
        if (said.length) out.push(`      <system-out>${a(said.join("\n"))}</system-out>`);
      }
      out.push("    </testcase>");
    }
    out.push("  </testsuite>");
  });
  out.push("</testsuites>");
  return out.join("\n") + "\n";
}

/** "program xdp_reflect (reflect.bpf.o, lan xdp): verified_insns 41, jited 212 bytes, xlated 352 bytes" */
export function programLine(p: ProgramResult): string {
  const base = p.object.split("/").pop();
  return `program ${p.name} (${base}, ${p.port} ${p.hook}): verified_insns ${p.verified_insns ?? "?"}, jited ${p.jited_bytes ?? "?"} bytes, xlated ${p.xlated_bytes ?? "?"} bytes`;
}

/** A Markdown cell: pipes escaped, one line. */
const cell = (s: string): string => s.replace(/\|/g, "\\|").replace(/\n/g, "<br>");

/** The GitHub job summary: a line of totals and a table of every test. */
export function markdown(r: RunResult): string {
  const s = r.summary;
  const lines = [
    `### xdp-lab test: ${s.failed ? `${s.failed} failed` : "all passed"}`,
    "",
    `${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped in ${r.seconds.toFixed(1)} s`,
    "",
    "| result | file | test | time | why |",
    "| --- | --- | --- | --- | --- |",
  ];
  const mark = { pass: "✅ pass", fail: "❌ fail", skip: "⏭️ skip" } as const;
  for (const t of r.tests) {
    const why = t.verdict === "skip" ? (t.skipped ?? "") : reasons(t).join("\n");
    lines.push(`| ${mark[t.verdict]} | ${cell(t.file)} | ${cell(t.name)} | ${t.seconds.toFixed(1)} s | ${cell(why)} |`);
  }
  return lines.join("\n") + "\n\n";
}
