// `xdp-lab test` figures, printed as JSON:
//   npm run bench:test
// - known state per test: Lab.reset (after a test attached pass.bpf.o, and on a clean lab) against
//   a fresh lab (down, then up), in the same run under the same accelerator;
// - the whole tests/ suite on a warm build cache: serial, and with --jobs 2 (wall time of the CLI,
//   labs up and down included, and the tests' own time from its JSON);
// - the runner's own overhead per test: tests whose traffic is one trivial command (`true` on the
//   client), each test's time minus its step's.
// Needs root; it creates labs of its own (b<pid>, t<pid>...) and removes them.
import { rmSync } from "node:fs";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { load } from "../network/app-client.ts";
import { Lab } from "../src/lab.ts";
import { DEFAULT_OUT } from "../src/paths.ts";
import type { RunResult } from "../src/testing/report.ts";
import { median, timedXdpLab } from "./run.ts";
import { report } from "./results.ts";

const RESETS = 7;
const FRESH = 3;
const TRIVIAL = 6;
const round = (x: number, d = 3): number => Number(x.toFixed(d));
const log = (m: string): void => void process.stderr.write(`bench:test: ${m}\n`);
const seconds = async (fn: () => Promise<unknown>): Promise<number> => {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
};

await timedXdpLab(["build", "--quiet"]);
const dir = await mkdtemp(join(tmpdir(), "xdp-lab-bench-test-"));
// The suites' JSON and results are read here only: gone when the bench ends, however it ends.
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

// --- reset against a fresh lab ------------------------------------------------------------------
const lab = new Lab(`b${process.pid}`.slice(0, 12));
await lab.down();
log(`lab ${lab.name} up`);
const first = await lab.up({ out: DEFAULT_OUT });
const accel = first.accel.accel;
const afterTest: number[] = [];
const clean: number[] = [];
let resetFigures: Record<string, unknown>;
try {
  // The first reset opens the kept ssh session: counted apart.
  const firstReset = await seconds(() => lab.reset());
  for (let i = 0; i < RESETS; i++) {
    await load(lab.name, join(DEFAULT_OUT, "pass.bpf.o"), { iface: "lan", mode: i % 2 ? "generic" : "native" });
    afterTest.push(await seconds(() => lab.reset()));
    clean.push(await seconds(() => lab.reset()));
  }
  const fresh: { down: number; up: number }[] = [];
  for (let i = 0; i < FRESH; i++) {
    const down = await seconds(() => lab.down());
    const up = await seconds(() => lab.up({ out: DEFAULT_OUT }));
    fresh.push({ down, up });
    log(`fresh lab ${i + 1}/${FRESH}: down ${down.toFixed(2)} s, up ${up.toFixed(2)} s`);
  }
  resetFigures = {
    accel,
    resetAfterTestSeconds: { median: round(median(afterTest)), min: round(Math.min(...afterTest)), max: round(Math.max(...afterTest)), runs: RESETS },
    resetCleanSeconds: { median: round(median(clean)), runs: RESETS },
    firstResetSeconds: round(firstReset),
    freshLabSeconds: { median: round(median(fresh.map((f) => f.down + f.up))), upMedian: round(median(fresh.map((f) => f.up))), downMedian: round(median(fresh.map((f) => f.down))), runs: FRESH },
  };
} finally {
  await lab.down();
}

// --- the tests/ suite, serial and --jobs 2 --------------------------------------------------------
async function suite(jobs: number): Promise<{ wallSeconds: number; testsSeconds: number; tests: number; passed: number }> {
  const json = join(dir, `suite-${jobs}.json`);
  const r = await timedXdpLab(["test", "tests/", "--jobs", String(jobs), "--json", json, "--results", join(dir, "results")]);
  const res = JSON.parse(await readFile(json, "utf8")) as RunResult;
  log(`tests/ with --jobs ${jobs}: ${r.seconds.toFixed(1)} s`);
  return { wallSeconds: round(r.seconds, 1), testsSeconds: round(res.seconds, 1), tests: res.tests.length, passed: res.summary.passed };
}
const serial = await suite(1);
const jobs2 = await suite(2);

// --- the runner's own overhead per test -----------------------------------------------------------
const trivial = join(dir, "trivial.yaml");
await writeFile(
  trivial,
  "tests:\n" + Array.from({ length: TRIVIAL }, (_, i) => `  - name: trivial ${i + 1}\n    traffic: [ { command: { host: client, run: "true" } } ]\n`).join(""),
);
const json = join(dir, "trivial.json");
await timedXdpLab(["test", trivial, "--json", json, "--results", join(dir, "results")]);
const trivialRun = JSON.parse(await readFile(json, "utf8")) as RunResult;
const overhead = trivialRun.tests.map((t) => t.seconds - t.steps.reduce((s, x) => s + x.seconds, 0));
const step = trivialRun.tests.map((t) => t.steps[0]!.seconds);

report("test", {
  reset: resetFigures,
  suite: { serial, jobs2, speedup: round(serial.wallSeconds / jobs2.wallSeconds, 2) },
  runnerOverheadPerTest: {
    secondsMedian: round(median(overhead)),
    min: round(Math.min(...overhead)),
    max: round(Math.max(...overhead)),
    trivialStepSecondsMedian: round(median(step)),
    tests: overhead.length,
    what: "each test's time minus its one step (`true` on the client): reset, dmesg before and after, and the map reads the test has none of",
  },
  machine: { cores: cpus().length, loadavg: loadavg().map((x) => round(x, 1)) },
});
