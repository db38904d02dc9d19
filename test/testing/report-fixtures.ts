// The results the report tests render (test/testing/report.test.ts, and the JUnit schema check in
// test/system/host-tools.test.ts): a pass, a failure with two wanted/got lines, an error, a skip.
import { summarize, type RunResult, type TestResult } from "../../src/testing/report.ts";

export const passed: TestResult = { file: "tests/pass.yaml", name: "pass counts pings", verdict: "pass", seconds: 1.23, failures: [], steps: [], maps: [] };
export const failed: TestResult = {
  file: "tests/drop.yaml",
  name: "drop <counts> & 'stops' #1",
  verdict: "fail",
  seconds: 4.5,
  failures: [
    { what: "map drop_stats key 0", wanted: "exactly 5", got: "0" },
    { what: "ping -4 client -> server", wanted: "unreachable (0/3 replies)", got: "3/3 replies" },
  ],
  steps: [],
  maps: [],
  artefacts: "test-results/tests/drop/drop-counts",
};
export const broken: TestResult = { ...failed, name: "broken", failures: [], error: "Failed to load x.bpf.o on lan0 (native): verifier said no", artefacts: undefined };
export const skipped: TestResult = { file: "tests/drop.yaml", name: "later", verdict: "skip", seconds: 0, failures: [], steps: [], maps: [], skipped: "not run: an earlier test failed" };
export const tests = [passed, failed, broken, skipped];
export const run: RunResult = { lab: "t1", startedAt: "2026-12-01T10:00:00.000Z", seconds: 10.2, tests, summary: summarize(tests) };
