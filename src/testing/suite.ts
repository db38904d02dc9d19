// A whole `xdp-lab test` run: read and check every file first, then root and the build, then one lab
// of its own for every test, taken down at the end unless it is to be kept.
import { Lab } from "../lab.ts";
import { requireRoot } from "../../network/state.ts";
import { artifacts } from "../build-out.ts";
import type { RunResult, TestResult } from "./report.ts";
import { CannotRunError, runTests, selected } from "./runner.ts";
import { findTestFiles, loadTestFile, TestFileError, type TestCase, type TestFile } from "./spec.ts";

export interface SuiteOptions {
  /** Test files and folders of them. */
  paths: string[];
  /** A regular expression over test names ("FILE: NAME" matches too). */
  filter?: string;
  /** The build to boot. */
  out: string;
  /** --accel: auto, kvm or tcg. */
  accel?: string;
  /** Where failed tests' artefacts go. */
  results: string;
  keepGoing?: boolean;
  /** Leave the lab up at the end. */
  keepLab?: boolean;
  /** The lab's name: one of the run's own. */
  labName: string;
  /** Progress for the user (the lab coming up). */
  log?: (line: string) => void;
  onStart?: (file: TestFile, test: TestCase) => void;
  onResult?: (r: TestResult) => void;
}

/** Every file read and checked; all their problems in one error. */
export async function loadAll(paths: string[]): Promise<TestFile[]> {
  const files = await findTestFiles(paths).catch((e: Error) => {
    throw new CannotRunError(e.message, { cause: e });
  });
  const loaded: TestFile[] = [];
  const problems: string[] = [];
  for (const f of files) {
    try {
      loaded.push(await loadTestFile(f));
    } catch (e) {
      if (!(e instanceof TestFileError)) throw e;
      problems.push(e.message);
    }
  }
  if (problems.length) throw new CannotRunError(`${problems.join("\n")}\nFix the test file${problems.length > 1 ? "s" : ""} (the schema: schema/xdp-lab-test.schema.json; the fields: README, "Testing XDP programs")`);
  return loaded;
}

/** Runs a whole suite. Throws CannotRunError when nothing could run. */
export async function runSuite(o: SuiteOptions): Promise<RunResult & { files: string[] }> {
  const files = await loadAll(o.paths);
  let filter: RegExp | undefined;
  try {
    filter = o.filter ? new RegExp(o.filter) : undefined;
  } catch (e) {
    throw new CannotRunError(`--filter ${o.filter}: not a regular expression: ${(e as Error).message}`, { cause: e });
  }
  if (selected(files, filter).length === 0) throw new CannotRunError(`no test matches --filter ${o.filter} (the tests: ${files.flatMap((f) => f.tests.map((t) => t.name)).join(", ")})`);
  try {
    requireRoot("xdp-lab test");
    artifacts(o.out);
    // tcpdump, iperf3, tcpreplay and curl on this machine run the namespace hosts' traffic and the captures.
    const [{ ensure }, { TEST_TOOLS }] = await Promise.all([import("../build/requirements.ts"), import("../build/packages.ts")]);
    await ensure(TEST_TOOLS, { install: true, purpose: "xdp-lab test", log: o.log });
  } catch (e) {
    throw new CannotRunError((e as Error).message, { cause: e });
  }
  const lab = new Lab(o.labName);
  try {
    await lab.up({ out: o.out, accel: o.accel, log: o.log });
  } catch (e) {
    await lab.down().catch(() => undefined);
    throw new CannotRunError(`the lab would not come up: ${(e as Error).message}`, { cause: e });
  }
  try {
    const r = await runTests({ lab, files, filter, keepGoing: o.keepGoing, results: o.results, onStart: o.onStart, onResult: o.onResult });
    return { ...r, files: files.map((f) => f.path) };
  } finally {
    if (!o.keepLab) await lab.down();
  }
}
