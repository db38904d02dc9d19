// The cases a run carries out and how: each selected test once, or once per attach mode (--mode),
// spread over one or more labs (--jobs) that each take the next case when they are free; results
// come back in the files' order whatever order the labs finish in.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Lab } from "../lab.ts";
import { keepArtefacts } from "./artefacts.ts";
import { runTest } from "./runner.ts";
import type { ProgramSetup, TestCase, TestFile } from "./file-types.ts";
import type { TestResult } from "./result-types.ts";

export const MODES = ["native", "generic"] as const;
export type Mode = (typeof MODES)[number];

/** One test to carry out: a file's test, with its programs' mode replaced when the run says so. */
export interface Case {
  file: TestFile;
  /** The test as it runs (mode replaced). */
  test: TestCase;
  /** Its index in the file (for the artefacts' line number). */
  index: number;
  /** The attach mode --mode forced on it. */
  mode?: Mode;
  /** What the reports call it: the test's name, with " [MODE]" under --mode and " [KERNEL]" under several kernels. */
  name: string;
  /** The kernel its lab boots. */
  kernel?: string;
}

/** --mode's value: modes separated by commas, each once; undefined keeps every test's own. */
export function parseModes(value: string | undefined): Mode[] | undefined {
  if (value === undefined) return undefined;
  const modes = value.split(",").map((m) => m.trim());
  const bad = modes.filter((m) => !(MODES as readonly string[]).includes(m));
  if (modes.length === 0 || bad.length || modes.some((m) => m === "")) {
    throw new Error(`--mode ${value}: ${bad.filter(Boolean).length ? `unknown mode ${bad.filter(Boolean).map((m) => JSON.stringify(m)).join(", ")}` : "an empty mode"}. Fix: give native, generic or both, separated by a comma (--mode native,generic)`);
  }
  const dup = modes.find((m, i) => modes.indexOf(m) !== i);
  if (dup) throw new Error(`--mode ${value}: ${dup} twice. Fix: name each mode once (--mode native,generic)`);
  return modes as Mode[];
}

/** --jobs's value: a whole number of labs from 1 to MAX_JOBS. */
export const MAX_JOBS = 16;
export function parseJobs(value: unknown): number {
  const n = typeof value === "number" ? value : Number(value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_JOBS) {
    throw new Error(`--jobs ${String(value)}: wanted a whole number of parallel labs from 1 to ${MAX_JOBS}. Fix: --jobs 2 (each lab is a VM of its own: on 2 cores, 2 is the most that helps)`);
  }
  return n;
}

/** An XDP program of a test's setup (a program without a hook is XDP; a tc one has no attach mode). */
function isXdp(p: ProgramSetup): boolean {
  const hook = (p as { hook?: string }).hook;
  return hook === undefined || hook === "xdp";
}

/** TEST with every XDP program attached in MODE. */
export function withMode(test: TestCase, mode: Mode): TestCase {
  if (!test.setup?.programs) return test;
  return { ...test, setup: { ...test.setup, programs: test.setup.programs.map((p) => (isXdp(p) ? { ...p, mode } : p)) } };
}

/** The cases of a run in order: the tests FILTER selects (by name, "FILE: NAME" or the case's name), each once per mode. */
export function cases(files: TestFile[], filter?: RegExp, modes?: Mode[]): Case[] {
  return files.flatMap((file) =>
    file.tests.flatMap((test, index) => {
      const each: Case[] = modes ? modes.map((mode) => ({ file, test: withMode(test, mode), index, mode, name: `${test.name} [${mode}]` })) : [{ file, test, index, name: test.name }];
      return each.filter((c) => !filter || filter.test(test.name) || filter.test(`${file.path}: ${test.name}`) || filter.test(c.name));
    }),
  );
}

export interface PoolOptions {
  /** Labs that are up; each runs one case at a time. */
  labs: Lab[];
  cases: Case[];
  /** Run every case even after one failed (otherwise those not yet started are skipped). */
  keepGoing?: boolean;
  /** Where failed cases' artefacts go: DIR/FILE/CASE/. */
  results: string;
  /** The folder FILE is taken from (artefacts.ts: artefactRoot of the run's files); default here. */
  root?: string;
  /** As a case starts on a lab. */
  onStart?: (c: Case, lab: Lab) => void;
  /** Each result, in the cases' order (a case that ends early waits for those before it). */
  onResult?: (r: TestResult) => void;
  /** Runs one case (the runner's runTest); a seam for the unit tests. */
  run?: (lab: Lab, file: TestFile, test: TestCase, opts: { pcaps?: string }) => Promise<TestResult>;
  /** Keeps a failed case's artefacts; a seam for the unit tests. */
  keep?: typeof keepArtefacts;
}

/** The result of a case not run because an earlier one failed (without --keep-going). */
export function skippedCase(c: Case): TestResult {
  return { file: c.file.path, name: c.name, ...caseAxes(c), verdict: "skip", seconds: 0, failures: [], steps: [], maps: [], skipped: "not run: an earlier test failed (--keep-going runs every test)" };
}

/** The mode and kernel a case ran under, as its result records them. */
function caseAxes(c: Case): Pick<TestResult, "mode" | "kernel"> {
  return { ...(c.mode ? { mode: c.mode } : {}), ...(c.kernel ? { kernel: c.kernel } : {}) };
}

/** Runs the cases on the labs, each lab taking the next case as it is free; the results in the cases' order. */
export async function runCases(o: PoolOptions): Promise<TestResult[]> {
  const run = o.run ?? runTest;
  const keep = o.keep ?? keepArtefacts;
  const results: (TestResult | undefined)[] = new Array(o.cases.length);
  let next = 0;
  let reported = 0;
  let failed = false;
  const flush = (): void => {
    // (The index moves outside the call: `o.onResult?.(x++)` would not evaluate x++ without onResult.)
    for (; reported < results.length && results[reported]; reported++) o.onResult?.(results[reported]!);
  };
  const worker = async (lab: Lab): Promise<void> => {
    for (let i = next++; i < o.cases.length; i = next++) {
      const c = o.cases[i]!;
      let r: TestResult;
      if (failed && !o.keepGoing) {
        r = skippedCase(c);
      } else {
        o.onStart?.(c, lab);
        const startedAt = new Date().toISOString();
        // The case's pcaps (capture.ts) land here; a failed case's artefacts take them.
        const pcaps = await mkdtemp(join(tmpdir(), "xdp-lab-test-pcap-"));
        try {
          r = { ...(await run(lab, c.file, c.test, { pcaps })), name: c.name, startedAt, lab: lab.name, ...caseAxes(c) };
          if (r.verdict === "fail") {
            failed = true;
            r.artefacts = await keep({ lab, results: o.results, root: o.root, file: c.file, test: { ...c.test, name: c.name }, index: c.index, result: r, pcaps });
          }
        } finally {
          await rm(pcaps, { recursive: true, force: true });
        }
      }
      results[i] = r;
      flush();
    }
  };
  await Promise.all(o.labs.map(worker));
  return results as TestResult[];
}
