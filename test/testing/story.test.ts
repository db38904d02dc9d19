// demo's story lines from a test and its result: each step as typed, what came of it, the verdict.
import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import type { TestResult } from "../../src/testing/report.ts";
import type { TestCase } from "../../src/testing/spec.ts";
import { actLines, stepLine } from "../../src/testing/story.ts";

const t = suite("testing/story");

const test: TestCase = {
  name: "pass.bpf.o on the LAN port",
  description: "counts every frame",
  traffic: [
    { ping: { from: "client", to: "server", family: 4, count: 5, interval: 0.2, size: 56 }, expect: "reachable" },
    { command: { host: "client", run: "curl -sS http://internet/cgi-bin/ip", exit: 0 } },
  ],
};
const result = (over: Partial<TestResult> = {}): TestResult => ({
  file: "examples/tests/demo.yaml",
  name: test.name,
  verdict: "pass",
  seconds: 3.42,
  failures: [],
  steps: [
    { step: "ping -4 client -> server", ok: true, measured: { transmitted: 5, received: 5 }, seconds: 1 },
    { step: "command on client: curl", ok: true, measured: { exit: 0, stdout: "198.51.100.1\n" }, seconds: 0.1 },
  ],
  maps: [],
  ...over,
});

t("an act: its number, name and description, each step as typed with what came of it, the verdict", () => {
  assert.equal(actLines(2, test, result()), [
    "2. pass.bpf.o on the LAN port: counts every frame",
    "  client$ ping -4 -c 5 server   -> 5/5 replies",
    "  client$ curl -sS http://internet/cgi-bin/ip   -> 198.51.100.1",
    "  PASS (3.4 s)",
  ]);
});

t("a failed act says what was wanted and got", () => {
  const r = result({ verdict: "fail", failures: [{ what: "map stats key 2 packets", wanted: "exactly 5", got: "0" }] });
  assert.equal(actLines(1, { ...test, description: undefined }, r).slice(-2), ["  map stats key 2 packets: wanted exactly 5, got 0", "  FAIL (3.4 s)"]);
});

t("a step of a kind it has no words for is told by its label", () => {
  assert.is(stepLine({ iperf3: {} }, { step: "iperf3 client -> server", ok: false, measured: {}, got: "12 Mbit/s", seconds: 5 }), "  iperf3 client -> server   -> 12 Mbit/s");
  assert.is(stepLine({ command: { host: "vm", run: "true" } }, { step: "x", ok: true, measured: { exit: 0, stdout: "" }, seconds: 0 }), "  vm$ true   -> exit 0");
});

t.run();
