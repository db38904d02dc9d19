// The run's reports: progress lines, TAP 13, JUnit XML (read back by junit2json) and the job
// summary. The JUnit file checked against its schema by xmllint is test/system/host-tools.test.ts's
// (it needs the libxml2-utils package).
import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { parse, type TestSuites } from "junit2json";
import { junit, markdown, progressLines, summarize, tap, type TestResult } from "../../src/testing/report.ts";
import { failed, passed, run, skipped } from "./report-fixtures.ts";

const t = suite("network/testing/report");

t("a line per test, and a failed one's wanted/got lines", () => {
  assert.equal(progressLines(passed), ["PASS pass counts pings (1.2 s)"]);
  assert.equal(progressLines(failed), [
    "FAIL drop <counts> & 'stops' #1 (4.5 s)",
    "    map drop_stats key 0: wanted exactly 5, got 0",
    "    ping -4 client -> server: wanted unreachable (0/3 replies), got 3/3 replies",
    "    artefacts: test-results/tests/drop/drop-counts",
  ]);
  assert.equal(progressLines(skipped), ["SKIP later (not run: an earlier test failed)"]);
  assert.equal(run.summary, { passed: 1, failed: 2, skipped: 1 });
});

t("a loader's error of several lines (libbpf's own) has each of them indented under the FAIL line", () => {
  const libbpf: TestResult = {
    ...failed,
    failures: [],
    artefacts: undefined,
    error: "Failed to load x.bpf.o on lan0 (native): libbpf refused it:\nlibbpf: prog 'xdp_foo': missing BPF prog type, check ELF section name 'xdp_foo'\nlibbpf: prog 'xdp_foo': failed to load: -22\n",
  };
  assert.equal(progressLines(libbpf), [
    "FAIL drop <counts> & 'stops' #1 (4.5 s)",
    "    Failed to load x.bpf.o on lan0 (native): libbpf refused it:",
    "    libbpf: prog 'xdp_foo': missing BPF prog type, check ELF section name 'xdp_foo'",
    "    libbpf: prog 'xdp_foo': failed to load: -22",
  ]);
});

t("TAP 13: version, plan, ok/not ok per test, '#' escaped in names, reasons as diagnostics, SKIP directive", () => {
  assert.is(
    tap(run),
    [
      "TAP version 13",
      "1..4",
      "ok 1 tests/pass.yaml: pass counts pings",
      "not ok 2 tests/drop.yaml: drop <counts> & 'stops' \\#1",
      "# map drop_stats key 0: wanted exactly 5, got 0",
      "# ping -4 client -> server: wanted unreachable (0/3 replies), got 3/3 replies",
      "not ok 3 tests/drop.yaml: broken",
      "# Failed to load x.bpf.o on lan0 (native): verifier said no",
      "ok 4 tests/drop.yaml: later # SKIP not run: an earlier test failed",
      "# passed 1, failed 2, skipped 1",
      "",
    ].join("\n"),
  );
  // Every line a TAP 13 / KTAP consumer reads: version, plan, results, diagnostics.
  for (const line of tap(run).trimEnd().split("\n")) assert.match(line, /^(TAP version 13|1\.\.\d+|(not )?ok \d+ .+|# .*)$/);
});

t("JUnit XML, read back by junit2json (a converter CI pipelines use): the root's every total, time and timestamp, suites per file, cases, failure, error, skipped", async () => {
  const xml = junit(run);
  assert.match(xml, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites /);
  const doc = (await parse(xml)) as TestSuites;
  assert.is(doc.name, "xdp-lab test");
  assert.is(doc.tests, 4);
  assert.is(doc.failures, 1);
  assert.is(doc.errors, 1);
  // Every total on the root, with the run's wall time and start: readers that miss one recompute the root from its suites.
  assert.is((doc as { skipped?: number }).skipped, 1);
  assert.is(doc.time, 10.2);
  assert.is((doc as { timestamp?: string }).timestamp, "2026-12-01T10:00:00");
  assert.equal(
    doc.testsuite?.map((s) => [s.name, s.tests, s.failures, s.errors, s.skipped]),
    [
      ["tests/pass.yaml", 1, 0, 0, 0],
      ["tests/drop.yaml", 3, 1, 1, 1],
    ],
  );
  const [pass] = doc.testsuite![0]!.testcase!;
  assert.equal([pass!.name, pass!.classname, pass!.time, pass!.failure], ["pass counts pings", "tests/pass.yaml", 1.23, undefined]);
  const [fail, err, skip] = doc.testsuite![1]!.testcase!;
  assert.is(fail!.name, "drop <counts> & 'stops' #1");
  assert.is(fail!.failure![0]!.message, "map drop_stats key 0: wanted exactly 5, got 0");
  assert.is(fail!.failure![0]!.inner, "map drop_stats key 0: wanted exactly 5, got 0\nping -4 client -> server: wanted unreachable (0/3 replies), got 3/3 replies");
  assert.equal(fail!["system-out"], ["artefacts: test-results/tests/drop/drop-counts"]);
  assert.is(err!.error![0]!.message, "Failed to load x.bpf.o on lan0 (native): verifier said no");
  assert.is(err!.failure, undefined);
  // The Jenkins schema's skipped holds its reason as text.
  assert.is((skip!.skipped![0] as { inner?: string }).inner, "not run: an earlier test failed");
});

t("JUnit drops characters XML cannot hold", async () => {
  const odd: TestResult = { ...failed, failures: [{ what: "command on vm: x", wanted: "exit 0", got: "exit 1: \u0001\u001bbad" }] };
  const doc = (await parse(junit({ ...run, tests: [odd], summary: summarize([odd]) }))) as TestSuites;
  assert.is(doc.testsuite![0]!.testcase![0]!.failure![0]!.message, "command on vm: x: wanted exit 0, got exit 1: bad");
});

t("the job summary: totals and a table row per test, pipes escaped", () => {
  const md = markdown({ ...run, tests: [passed, { ...failed, name: "a | b" }], summary: { passed: 1, failed: 1, skipped: 0 } });
  const lines = md.trim().split("\n");
  assert.is(lines[0], "### xdp-lab test: 1 failed");
  assert.is(lines[2], "1 passed, 1 failed, 0 skipped in 10.2 s");
  assert.is(lines[4], "| result | file | test | time | why |");
  assert.is(lines[6], "| ✅ pass | tests/pass.yaml | pass counts pings | 1.2 s |  |");
  assert.is(lines[7], "| ❌ fail | tests/drop.yaml | a \\| b | 4.5 s | map drop_stats key 0: wanted exactly 5, got 0<br>ping -4 client -> server: wanted unreachable (0/3 replies), got 3/3 replies |");
});

t.run();
