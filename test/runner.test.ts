import { suite } from "./suite.ts";
import * as assert from "uvu/assert";
import { formatTable, junit, parseUvu, rowOf } from "./runner.ts";
import { readFileSync } from "node:fs";
import { systemFiles, tierProblems, withTiers } from "./tiers.ts";

const t = suite("test runner");

const passing = "\x1b[32m•\x1b[39m\x1b[32m•\x1b[39m\n\n  Total:     3\n  Passed:    2\n  Skipped:   1\n  Duration:  4.2s\n";
const failing = [
  "proof container-6.1: taken from the record of run 2026-12-07T22:00:00Z abc123 (key 0123456789ab)",
  "\x1b[31m✘\x1b[39m",
  "• • proof container-6.12: proved and recorded, key 467dcc2b7947",
  '   FAIL  lab (system)  "ping through the VM"',
  "    Expected 3 got 0",
  "  Total:     4",
  "  Passed:    3",
  "  Skipped:   0",
].join("\n");

t("uvu's totals, FAIL lines and proof lines, colours removed", () => {
  assert.equal(parseUvu(passing), { total: 3, passed: 2, skipped: 1, failures: [], proofs: [] });
  const f = parseUvu(failing);
  assert.equal([f.total, f.passed, f.skipped], [4, 3, 0]);
  assert.equal(f.failures, ["lab (system): ping through the VM"]);
  // The second follows uvu's dots on their line.
  assert.equal(f.proofs, ["container-6.1: taken from the record of run 2026-12-07T22:00:00Z abc123 (key 0123456789ab)", "container-6.12: proved and recorded, key 467dcc2b7947"]);
});

t("a file's row: its counts; a crash, a signal or a timeout is one failure more, naming the file", () => {
  assert.equal(rowOf("a.test.ts", "lab", 1, passing, { code: 0, signal: null }), { name: "a.test.ts", tier: "lab", seconds: 1, passed: 2, failed: 0, skipped: 1, failures: [], proofs: [] });
  assert.is(rowOf("b.test.ts", "lab", 1, failing, { code: 1, signal: null }).failed, 1, "the failing test, nothing more");
  const crashed = rowOf("c.test.ts", "lab", 1, "TypeError: boom\n", { code: 1, signal: null });
  assert.equal([crashed.passed, crashed.failed], [0, 1]);
  assert.match(crashed.failures[0]!, /^c\.test\.ts: ended with status 1 before uvu counted its tests$/);
  // Counted all passing, then exited non-zero (a hook that threw after the tests, an exit in a hook).
  assert.match(rowOf("d.test.ts", "lab", 1, passing, { code: 1, signal: null }).failures[0]!, /status 1 though every counted test passed/);
  assert.match(rowOf("e.test.ts", "lab", 1, "", { code: null, signal: "SIGKILL", timedOut: 20 }).failures[0]!, /stopped after its limit of 20 min/);
  // A status 0 before uvu counted (a hook that ended the process) is a failure too, not a silent pass.
  assert.is(rowOf("f.test.ts", "lab", 1, "SKIPPED\n", { code: 0, signal: null }).failed, 1);
});

t("the table and JUnit name each file with its time and counts", () => {
  const rows = [rowOf("x.test.ts", "build", 61.25, passing, { code: 0, signal: null }), rowOf("y.test.ts", "lab", 2, failing, { code: 1, signal: null })];
  const table = formatTable(rows, 63.3);
  assert.match(table, /^x\.test\.ts\s+build\s+61\.3 s\s+2\s+0\s+1$/m);
  assert.match(table, /^total\s+63\.3 s\s+5\s+1\s+1$/m);
  assert.match(table, /^proofs:\n {2}y\.test\.ts: container-6\.1: taken from the record/m);
  assert.match(table, /^failed:\n {2}lab \(system\): ping through the VM$/m);
  const xml = junit(rows, 63.3);
  assert.match(xml, /<testsuite name="build" tests="1" failures="0" time="61\.250">/);
  assert.match(xml, /<testcase classname="lab" name="y\.test\.ts" time="2\.000">\n\s+<failure message="1 failed">lab \(system\): ping through the VM<\/failure>/);
});

t("every system file is in exactly one tier: one missing from the table or named twice is a problem", () => {
  const listed = systemFiles().map((f) => f.file);
  assert.equal(tierProblems(listed), []);
  assert.equal(tierProblems([...listed, "test/system/new.test.ts"]), ["test/system/new.test.ts is in no tier: add it to test/tiers.ts, or it never runs"]);
  assert.equal(tierProblems(listed.slice(1)), [`${listed[0]} is named in test/tiers.ts but does not exist`]);
});

t("docs/testing.md's tier table is the one test/tiers.ts makes", () => {
  const page = readFileSync(new URL("../docs/testing.md", import.meta.url), "utf8");
  assert.ok(page === withTiers(page), "docs/testing.md is stale: run node --import ./node_modules/tsx/dist/loader.mjs test/tiers.ts");
});

t.run();
