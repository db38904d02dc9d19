// The cases of a run (--mode) and how they are spread over labs (--jobs): order, skips, artefacts.
import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import type { Lab } from "../../src/lab.ts";
import { cases, parseJobs, parseModes, runCases, withMode, type Case } from "../../src/testing/pool.ts";
import type { TestResult } from "../../src/testing/report.ts";
import type { ProgramSetup, TestCase, TestFile } from "../../src/testing/spec.ts";
import { labNames, parseKernels } from "../../src/testing/suite.ts";

const t = suite("testing/pool");

const prog = (port: "lan" | "wan", mode: "native" | "generic" = "native"): ProgramSetup => ({ object: `/out/pass.bpf.o`, port, mode, hook: "xdp" });
const test = (name: string, programs = [prog("lan")]): TestCase => ({ name, setup: { programs }, traffic: [{ command: { host: "vm", run: "true", exit: 0 } }] });
const fileA: TestFile = { path: "tests/a.yaml", tests: [test("one"), test("two", [prog("lan", "generic"), prog("wan")])], lines: [3, 9] };
const fileB: TestFile = { path: "tests/b.yaml", tests: [test("three", [])], lines: [2] };

t("--mode: native, generic or both, each once; anything else names the fix", () => {
  assert.is(parseModes(undefined), undefined);
  assert.equal(parseModes("native,generic"), ["native", "generic"]);
  assert.equal(parseModes(" generic "), ["generic"]);
  assert.throws(() => parseModes("native,skb"), /--mode native,skb: unknown mode "skb"\. Fix: give native, generic or both/);
  assert.throws(() => parseModes("native,"), /an empty mode/);
  assert.throws(() => parseModes("generic,generic"), /generic twice/);
});

t("--jobs: a whole number from 1 to 16", () => {
  assert.is(parseJobs(2), 2);
  for (const bad of [0, -1, 1.5, 17, Number.NaN, "x"]) assert.throws(() => parseJobs(bad), /--jobs .*: wanted a whole number of parallel labs from 1 to 16\. Fix: --jobs 2/);
});

t("the labs of a run: the name alone, or NAME-1 .. NAME-N, each a valid lab name for the longest pid", () => {
  assert.equal(labNames("t123", 1), ["t123"]);
  assert.equal(labNames("t123", 3), ["t123-1", "t123-2", "t123-3"]);
  // Linux pids go up to 4194304: t4194304-16 is 11 characters, within the 12 a lab name may have.
  assert.equal(labNames("t4194304", 16).at(-1), "t4194304-16");
  assert.ok(labNames("t4194304", 16).every((n) => /^[a-z][a-z0-9-]{0,11}$/.test(n)));
});

t("withMode replaces the mode of every XDP program and leaves the test itself alone", () => {
  const two = fileA.tests[1]!;
  const g = withMode(two, "generic");
  assert.equal(g.setup!.programs!.map((p) => p.mode), ["generic", "generic"]);
  assert.equal(two.setup!.programs!.map((p) => p.mode), ["generic", "native"], "the file's test is untouched");
  // A tc program has no attach mode: it is left as it is.
  const tc = { ...test("tc"), setup: { programs: [{ ...prog("lan"), hook: "tc-ingress" as const }] } };
  assert.is(withMode(tc, "generic").setup!.programs![0]!.mode, "native");
  assert.equal(withMode(fileB.tests[0]!, "native"), fileB.tests[0]);
  assert.is(withMode({ name: "x", traffic: [] }, "native").setup, undefined);
});

t("cases: each test once, or once per mode as NAME [MODE], in the files' order; the filter sees the case's name too", () => {
  assert.equal(cases([fileA, fileB]).map((c) => c.name), ["one", "two", "three"]);
  const both = cases([fileA, fileB], undefined, ["native", "generic"]);
  assert.equal(both.map((c) => c.name), ["one [native]", "one [generic]", "two [native]", "two [generic]", "three [native]", "three [generic]"]);
  assert.equal(both.map((c) => c.test.setup?.programs?.[0]?.mode), ["native", "generic", "native", "generic", undefined, undefined]);
  assert.equal(both.map((c) => c.index), [0, 0, 1, 1, 0, 0]);
  assert.equal(cases([fileA, fileB], /\[generic\]/, ["native", "generic"]).map((c) => c.name), ["one [generic]", "two [generic]", "three [generic]"]);
  assert.equal(cases([fileA, fileB], /^tests\/b\.yaml: /).map((c) => c.name), ["three"]);
});

const lab = (name: string) => ({ name }) as Lab;
const result = (file: TestFile, test: TestCase, verdict: TestResult["verdict"] = "pass"): TestResult => ({ file: file.path, name: test.name, verdict, seconds: 0.1, failures: [], steps: [], maps: [] });
const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

t("runCases: two labs take cases as they are free; results and their lines in the cases' order; each says its lab and mode", async () => {
  const todo = cases([fileA, fileB], undefined, ["native", "generic"]);
  const ran: string[] = [];
  const order: string[] = [];
  let inFlight = 0;
  let most = 0;
  const results = await runCases({
    labs: [lab("t1-1"), lab("t1-2")],
    cases: todo,
    results: "/tmp/results",
    // The first case is the slowest: later ones end before it.
    run: async (l, f, test) => {
      inFlight++;
      most = Math.max(most, inFlight);
      ran.push(`${l.name}:${test.setup?.programs?.[0]?.mode ?? "-"}`);
      await delay(test.name === "one" && test.setup?.programs?.[0]?.mode === "native" ? 60 : 5);
      inFlight--;
      return result(f, test);
    },
    onResult: (r) => order.push(r.name),
  });
  assert.equal(results.map((r) => r.name), todo.map((c) => c.name));
  assert.equal(order, todo.map((c) => c.name), "lines in the files' order although the first ended last");
  assert.is(most, 2, "two cases at once");
  assert.equal(results.map((r) => r.mode), ["native", "generic", "native", "generic", "native", "generic"]);
  assert.ok(results.every((r) => r.lab === "t1-1" || r.lab === "t1-2"));
  assert.ok(new Set(results.map((r) => r.lab)).size === 2, "both labs ran cases");
  assert.is(ran.length, 6);
});

t("runCases: a failed case keeps its artefacts under its case name; without --keep-going the cases not started are skipped", async () => {
  const todo = cases([fileA, fileB], undefined, ["native", "generic"]);
  const kept: string[] = [];
  const results = await runCases({
    labs: [lab("t2")],
    cases: todo,
    results: "/tmp/results",
    root: "/e",
    run: async (_l, f, test) => result(f, test, test.name === "one" && test.setup?.programs?.[0]?.mode === "generic" ? "fail" : "pass"),
    keep: async (o) => {
      kept.push(`${o.test.name}@${o.index} from ${o.root}`);
      return `/tmp/results/a/${o.test.name}`;
    },
  });
  assert.equal(results.map((r) => r.verdict), ["pass", "fail", "skip", "skip", "skip", "skip"]);
  assert.equal(kept, ["one [generic]@0 from /e"], "the run's root reaches the artefacts");
  assert.is(results[1]!.artefacts, "/tmp/results/a/one [generic]");
  assert.is(results[2]!.name, "two [native]");
  assert.match(results[2]!.skipped!, /--keep-going/);
  assert.is(results[2]!.mode, "native", "a skipped case still says its mode");

  const all = await runCases({
    labs: [lab("t2")],
    cases: todo,
    keepGoing: true,
    results: "/tmp/results",
    run: async (_l, f, test) => result(f, test, test.name === "one" ? "fail" : "pass"),
    keep: async () => "/tmp/x",
  });
  assert.equal(all.map((r) => r.verdict), ["fail", "fail", "pass", "pass", "pass", "pass"]);
});

t("runCases: with more labs than cases the spare labs idle", async () => {
  const todo: Case[] = cases([fileB]);
  const results = await runCases({ labs: [lab("a"), lab("b"), lab("c")], cases: todo, results: "/tmp/r", run: async (_l, f, test) => result(f, test) });
  assert.equal(results.map((r) => r.name), ["three"]);
});

t("--kernel: one kernel or a comma list, each once, unknown ones refused with the choices", () => {
  assert.equal(parseKernels(undefined), ["built"]);
  assert.equal(parseKernels("debian-6.12"), ["debian-6.12"]);
  assert.equal(parseKernels("built, debian-6.1,debian-6.12"), ["built", "debian-6.1", "debian-6.12"]);
  assert.equal(parseKernels("6.1,6.12"), ["6.1", "6.12"]);
  assert.throws(() => parseKernels("built,6.6"), /--kernel built,6\.6: unknown kernel "6\.6"\. Fix: give built, 6\.1, 6\.12, debian-6\.1, debian-6\.12/);
  assert.throws(() => parseKernels("built,built"), /a kernel named twice/);
});

t.run();
