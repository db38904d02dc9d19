// Runs the test tiers (test/tiers.ts): each system file in a process of its own, timed, and at the
// end a table of where the time went, written too as test-results/tests.json and tests.xml (JUnit).
//
//   node --import ./node_modules/tsx/dist/loader.mjs test/runner.ts [TIER...]   (default: every tier)
import { execFileSync, spawn } from "node:child_process";
import { createWriteStream, existsSync, readdirSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { DEFAULT_LIMIT, systemFiles, TIER_NAMES, TIERS, tierProblems, type TierName } from "./tiers.ts";

const ROOT = resolve(import.meta.dirname, "..");
const TSX = ["--import", "./node_modules/tsx/dist/loader.mjs"];
const UVU = "node_modules/uvu/bin.js";

/** One row of the table: a step (type-check, the unit process) or a system file. */
export interface Row {
  name: string;
  tier: TierName;
  seconds: number;
  passed: number;
  failed: number;
  skipped: number;
  /** What failed: uvu's FAIL lines, or why the process ended without its count. */
  failures: string[];
  /** The proofs the file took from a record or proved (its `proof NAME: ...` lines). */
  proofs: string[];
}

/** What uvu printed, ANSI colours removed: its totals, FAIL lines, and the proof lines of the tests. */
export function parseUvu(output: string): { total?: number; passed?: number; skipped?: number; failures: string[]; proofs: string[] } {
  // eslint-disable-next-line no-control-regex
  const text = output.replace(/\x1b\[[0-9;]*m/g, "");
  const last = (re: RegExp) => {
    const all = [...text.matchAll(re)];
    return all.length ? Number(all[all.length - 1]![1]) : undefined;
  };
  return {
    total: last(/^\s*Total:\s+(\d+)/gm),
    passed: last(/^\s*Passed:\s+(\d+)/gm),
    skipped: last(/^\s*Skipped:\s+(\d+)/gm),
    failures: [...text.matchAll(/^\s*FAIL\s+(.+?)\s+"(.*)"\s*$/gm)].map((m) => `${m[1]}: ${m[2]}`),
    // A proof line may follow uvu's dots on the same line: "• • proof NAME: ...".
    proofs: [...text.matchAll(/^(?:[•✘]\s*)*proof (.+)$/gm)].map((m) => m[1]!.trim()),
  };
}

/**
 * The row of a process that ran uvu: its counts, or, when it ended with no count or a status its
 * count does not explain (a crash, a hook that threw, a timeout), one failure more naming why.
 */
export function rowOf(name: string, tier: TierName, seconds: number, output: string, exit: { code: number | null; signal: string | null; timedOut?: number }): Row {
  const u = parseUvu(output);
  const passed = u.passed ?? 0;
  const skipped = u.skipped ?? 0;
  let failed = (u.total ?? 0) - passed - skipped;
  const failures = [...u.failures];
  const why = exit.timedOut
    ? `stopped after its limit of ${exit.timedOut} min`
    : exit.signal
      ? `killed by ${exit.signal}`
      : u.total === undefined
        ? `ended with status ${exit.code} before uvu counted its tests`
        : exit.code !== 0 && failed === 0
          ? `ended with status ${exit.code} though every counted test passed`
          : undefined;
  if (why) {
    failed += 1;
    failures.push(`${name}: ${why}`);
  }
  return { name, tier, seconds, passed, failed, skipped, failures, proofs: u.proofs };
}

/** A row for something that failed without running tests: a step that could not start, a tier that could not run. */
function failedRow(name: string, tier: TierName, failure: string, seconds = 0): Row {
  return { name, tier, seconds, passed: 0, failed: 1, skipped: 0, failures: [failure], proofs: [] };
}

/** The table printed at the end of a run. */
export function formatTable(rows: Row[], total: number): string {
  const w = Math.max(...rows.map((r) => r.name.length), 5);
  const line = (name: string, tier: string, s: string, p: string, f: string, k: string) =>
    `${name.padEnd(w)}  ${tier.padEnd(10)}  ${s.padStart(8)}  ${p.padStart(6)}  ${f.padStart(6)}  ${k.padStart(7)}`;
  const sum = (k: "passed" | "failed" | "skipped") => String(rows.reduce((a, r) => a + r[k], 0));
  const out = [line("file", "tier", "wall", "passed", "failed", "skipped")];
  for (const r of rows) out.push(line(r.name, r.tier, `${r.seconds.toFixed(1)} s`, String(r.passed), String(r.failed), String(r.skipped)));
  out.push(line("total", "", `${total.toFixed(1)} s`, sum("passed"), sum("failed"), sum("skipped")));
  const proofs = rows.flatMap((r) => r.proofs.map((p) => `  ${basename(r.name)}: ${p}`));
  if (proofs.length) out.push("", "proofs:", ...proofs);
  const failures = rows.flatMap((r) => r.failures.map((f) => `  ${f}`));
  if (failures.length) out.push("", "failed:", ...failures);
  return out.join("\n");
}

const xml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** JUnit: one testsuite per tier, one testcase per row (uvu names only the tests that fail). */
export function junit(rows: Row[], total: number): string {
  const suites = TIER_NAMES.filter((t) => rows.some((r) => r.tier === t)).map((t) => {
    const mine = rows.filter((r) => r.tier === t);
    const cases = mine.map((r) => {
      const body = r.failed ? `\n      <failure message="${xml(`${r.failed} failed`)}">${xml(r.failures.join("\n"))}</failure>\n    ` : "";
      return `    <testcase classname="${t}" name="${xml(r.name)}" time="${r.seconds.toFixed(3)}">${body}</testcase>`;
    });
    const time = mine.reduce((a, r) => a + r.seconds, 0);
    return `  <testsuite name="${t}" tests="${mine.length}" failures="${mine.filter((r) => r.failed).length}" time="${time.toFixed(3)}">\n${cases.join("\n")}\n  </testsuite>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="xdp-lab" time="${total.toFixed(3)}">\n${suites.join("\n")}\n</testsuites>\n`;
}

/** The process running now, and the signal that interrupted the run, if one did. */
let current: ReturnType<typeof spawn> | undefined;
let interrupted: NodeJS.Signals | undefined;

/** Ctrl-C or a TERM reaches the running file's whole process group (its own, see run()), then the run ends. */
function forwardSignals(): void {
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.on(sig, () => {
      interrupted = sig;
      try {
        if (current?.pid) process.kill(-current.pid, sig);
      } catch {
        // already gone
      }
    });
  }
}

/** Runs FILE ARGS from the checkout, its output passed through and kept (and logged to LOG); stopped after LIMIT minutes. */
function run(file: string, args: string[], log: string, limit?: number): Promise<{ output: string; code: number | null; signal: string | null; timedOut?: number }> {
  return new Promise((done, fail) => {
    const chunks: Buffer[] = [];
    const logFile = createWriteStream(log);
    // A process group of its own, so a timeout stops what the file started too (qemu, labs).
    const child = spawn(file, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], detached: true, env: process.env });
    current = child;
    const take = (b: Buffer, to: NodeJS.WriteStream) => {
      chunks.push(b);
      logFile.write(b);
      to.write(b);
    };
    child.stdout!.on("data", (b: Buffer) => take(b, process.stdout));
    child.stderr!.on("data", (b: Buffer) => take(b, process.stderr));
    let timedOut: number | undefined;
    const timer = limit
      ? setTimeout(() => {
          timedOut = limit;
          process.stderr.write(`\n${file} ${args.join(" ")}: over its limit of ${limit} min, stopping it\n`);
          const kill = (sig: NodeJS.Signals) => {
            try {
              process.kill(-child.pid!, sig);
            } catch {
              // already gone
            }
          };
          kill("SIGTERM");
          setTimeout(() => kill("SIGKILL"), 30_000).unref();
        }, limit * 60_000)
      : undefined;
    child.on("error", fail);
    child.on("close", (code, signal) => {
      current = undefined;
      if (timer) clearTimeout(timer);
      logFile.end();
      done({ output: Buffer.concat(chunks).toString(), code, signal, timedOut });
    });
  });
}

async function main(argv: string[]): Promise<number> {
  const unknown = argv.filter((a) => !(TIER_NAMES as string[]).includes(a));
  if (unknown.length) {
    process.stderr.write(`test/runner.ts: unknown tier ${unknown.join(", ")}. Fix: give some of ${TIER_NAMES.join(", ")}, or none for all\n`);
    return 2;
  }
  const tiers = argv.length ? TIER_NAMES.filter((t) => argv.includes(t)) : TIER_NAMES;
  const results = join(ROOT, "test-results");
  await mkdir(join(results, "logs"), { recursive: true });
  const ci = process.env.CI === "true";
  const root = process.getuid?.() === 0;
  // Which run proved what: the proof records (test/system/proofs.ts) name it.
  let commit = "unknown";
  try {
    commit = execFileSync("git", ["rev-parse", "--short=12", "HEAD"], { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    // not a git checkout: the run is named by its time alone
  }
  process.env.XDP_LAB_TEST_RUN ??= `${new Date().toISOString().replace(/\.\d+Z$/, "Z")} ${commit}`;
  const started = Date.now();
  const rows: Row[] = [];
  forwardSignals();
  const step = async (name: string, tier: TierName, file: string, args: string[], limit?: number) => {
    if (interrupted) return;
    process.stdout.write(`\n== ${name}\n`);
    const t0 = Date.now();
    const log = join(results, "logs", `${basename(name).replace(/[^\w.-]+/g, "_")}.log`);
    const r = await run(file, args, log, limit).catch(
      // Not started at all (no such program): its row says so, and the run goes on.
      (error: Error) => ({ output: "", code: null, signal: null, spawn: error.message }),
    );
    const seconds = (Date.now() - t0) / 1000;
    const isUvu = args.includes(UVU) || name.endsWith(".test.ts");
    if ("spawn" in r) {
      rows.push(failedRow(name, tier, `${name}: could not start ${file}: ${r.spawn}`, seconds));
      return;
    }
    rows.push(
      isUvu
        ? rowOf(name, tier, seconds, r.output, r)
        : { name, tier, seconds, passed: r.code === 0 ? 1 : 0, failed: r.code === 0 ? 0 : 1, skipped: 0, failures: r.code === 0 ? [] : [`${name}: status ${r.code ?? r.signal}`], proofs: [] },
    );
  };

  for (const tier of tiers) {
    if (tier === "check") {
      await step("type-check", tier, "npx", ["tsc", "--noEmit"]);
      const dagger = join(ROOT, "dagger");
      const fresh = !existsSync(join(dagger, "node_modules/.package-lock.json"));
      if (fresh) await step("dagger: npm ci (its pinned SDK)", tier, "npm", ["ci", "--prefix", "dagger", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"]);
      await step("type-check the Dagger module", tier, "dagger/node_modules/.bin/tsc", ["-p", "dagger"]);
      continue;
    }
    if (tier === "unit") {
      await step("unit tests", tier, process.execPath, [...TSX, UVU, "test", "\\.test\\.ts$", "-i", "system"]);
      continue;
    }
    if (TIERS[tier].root && !root) {
      if (ci) {
        process.stderr.write(`the ${tier} tier needs root (apt-get, namespaces, qemu, podman): CI must run it as root\n`);
        rows.push(failedRow(`${tier} tier (not root)`, tier, `the ${tier} tier needs root`));
      } else {
        process.stdout.write(`\nSKIPPED: the ${tier} tier needs root; run as root (CI always does)\n`);
      }
      continue;
    }
    for (const f of systemFiles([tier])) await step(f.file, tier, process.execPath, [...TSX, f.file], f.limit ?? DEFAULT_LIMIT);
  }

  // A system file that no tier names would never run: that fails the run, whatever was asked.
  const onDisk = readdirSync(join(ROOT, "test/system")).filter((f) => f.endsWith(".test.ts")).map((f) => `test/system/${f}`);
  for (const p of tierProblems(onDisk)) rows.push(failedRow("test/tiers.ts", tiers[0]!, p));

  const total = (Date.now() - started) / 1000;
  const passed = rows.reduce((a, r) => a + r.passed, 0);
  const failed = rows.reduce((a, r) => a + r.failed, 0);
  const report = { run: process.env.XDP_LAB_TEST_RUN, commit, tiers, seconds: total, passed, failed, rows };
  await writeFile(join(results, "tests.json"), JSON.stringify(report, null, 2) + "\n");
  await writeFile(join(results, "tests.xml"), junit(rows, total));
  process.stdout.write(`\n== where the time went (test-results/tests.json, tests.xml)\n${formatTable(rows, total)}\n\ntests: ${passed} passed, ${failed} failed\n`);
  if (interrupted) {
    process.stderr.write(`interrupted (${interrupted}): the files after the one running then did not run\n`);
    return 130;
  }
  return failed ? 1 : 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (error: Error) => {
      process.stderr.write(`test/runner.ts: ${error.stack ?? error.message}\n`);
      process.exitCode = 2;
    },
  );
}
