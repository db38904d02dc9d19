import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { parse, type TestSuites } from "junit2json";
import {
  byteDiffs,
  caseLabel,
  checkPackets,
  describeMapWant,
  frameSources,
  frameProblem,
  keyHex,
  MAX_FRAME,
  readField,
  repeatOf,
  skbContext,
  valueHex,
  verdictName,
  verdictProblem,
  xdpContext,
  type MapInfo,
} from "../../src/testing/packet-spec.ts";
import { isPacketTest, programOf } from "../../src/testing/packets.ts";
import { junit, progressLines, summarize, type TestResult } from "../../src/testing/report.ts";
import { problems } from "./file-problems.ts";

const t = suite("src/testing/packet-spec");

/** firewall.bpf.o's maps as the helper describes them (its BTF: struct xdp_lab_source, struct xdp_lab_stats). */
const sources: MapInfo = {
  name: "sources",
  type: 1,
  key_size: 4,
  value_size: 16,
  max_entries: 65536,
  percpu: false,
  internal: false,
  key: { "": { offset: 0, size: 4, kind: "int" } },
  value: { blocked: { offset: 0, size: 1, kind: "int" }, reported: { offset: 1, size: 1, kind: "int" }, pad: { offset: 2, size: 6, kind: "array" }, packets: { offset: 8, size: 8, kind: "int" } },
};
const stats: MapInfo = { ...sources, name: "stats", type: 6, max_entries: 5, percpu: true, value: { packets: { offset: 0, size: 8, kind: "int" }, bytes: { offset: 8, size: 8, kind: "int" } } };
const noBtf: MapInfo = { ...sources, name: "raw", key: null, value: null, value_size: 4 };

t("verdicts by name: XDP actions, tc's TC_ACT_* (TC_ACT_UNSPEC is -1, which the kernel gives as a u32), and values that are neither", () => {
  assert.is(verdictName("xdp", 3), "XDP_TX");
  assert.is(verdictName("xdp", 0), "XDP_ABORTED");
  assert.is(verdictName("xdp", 7), "7 (not an XDP action)");
  assert.is(verdictName("tc-ingress", 2), "TC_ACT_SHOT");
  assert.is(verdictName("tc-egress", 0xffffffff), "TC_ACT_UNSPEC");
  assert.is(verdictName("tc-egress", 99), "99 (not a TC_ACT_* value)");
  assert.is(verdictProblem("xdp", "XDP_REDIRECT"), undefined);
  assert.is(verdictProblem("tc-ingress", "TC_ACT_OK"), undefined);
  assert.match(verdictProblem("xdp", "TC_ACT_OK")!, /TC_ACT_OK is not a verdict of an XDP program: one of XDP_ABORTED, XDP_DROP, XDP_PASS, XDP_TX, XDP_REDIRECT/);
  assert.match(verdictProblem("tc-egress", "XDP_PASS")!, /not a verdict of a tc \(sched_cls\) program: one of TC_ACT_UNSPEC, TC_ACT_OK/);
});

t("xdp_md: data 0, data_end the frame's length, the ingress device and the rx queue; __sk_buff: ifindex, and ingress_ifindex on ingress only", () => {
  const x = Buffer.from(xdpContext(60, 7, 3), "hex");
  assert.equal([0, 4, 8, 12, 16, 20].map((o) => x.readUInt32LE(o)), [0, 60, 0, 7, 3, 0]);
  const ing = Buffer.from(skbContext("tc-ingress", 9), "hex");
  assert.is(ing.length, 192);
  assert.equal([ing.readUInt32LE(36), ing.readUInt32LE(40)], [9, 9]);
  assert.is(ing.filter((b) => b !== 0).length, 2);
  const egr = Buffer.from(skbContext("tc-egress", 9), "hex");
  assert.equal([egr.readUInt32LE(36), egr.readUInt32LE(40)], [0, 9]);
});

t("map keys: a number little-endian in the key's size, bytes as given; a key of the wrong size is refused", () => {
  assert.is(keyHex(2, stats), "02000000");
  assert.is(keyHex("hex 0a 0a 01 0a", sources), "0a0a010a");
  assert.is(keyHex("0x0a 0x0a 0x01 0x0a", sources), "0a0a010a");
  assert.throws(() => keyHex("hex 0a 0a", sources), /key "hex 0a 0a" is 2 bytes; map sources's keys are 4/);
});

t("map values set by field through BTF (the rest zero), as a number when small, refused when a field is unknown or too big", () => {
  assert.is(valueHex({ blocked: 1 }, sources), "01" + "00".repeat(15));
  assert.is(valueHex({ blocked: 1, packets: 258 }, sources), "0100000000000000" + "0201000000000000");
  assert.is(valueHex(5, noBtf), "05000000");
  assert.throws(() => valueHex({ blockd: 1 }, sources), /map sources's value has no whole-number field blockd \(it has blocked, reported, packets\)/);
  assert.throws(() => valueHex({ blocked: 256 }, sources), /map sources blocked: 256 does not fit in 1 byte/);
  assert.throws(() => valueHex(1, sources), /values are 16 bytes: give them by field \(blocked, reported, pad, packets\)/);
  assert.throws(() => valueHex({ x: 1 }, noBtf), /has no BTF/);
});

t("map values read: a field, summed over CPUs for a per-CPU map (each CPU's value 8-byte aligned); an absent key reads 0", () => {
  const cpu = (packets: number, bytes: number): string => Buffer.from(valueHex({ packets, bytes }, stats), "hex").toString("hex");
  const two = cpu(3, 180) + cpu(4, 240);
  assert.is(readField(two, stats, "packets"), 7n);
  assert.is(readField(two, stats, "bytes"), 420n);
  assert.is(readField(null, stats, "packets"), 0n);
  assert.is(readField(valueHex({ blocked: 1, packets: 9 }, sources), sources, "packets"), 9n);
  assert.is(readField("2a000000", noBtf, undefined), 42n);
  assert.throws(() => readField(two, stats, undefined), /value is a struct: say which field \(field: packets \| bytes\)/);
  assert.throws(() => readField(two, stats, "pakets"), /has no field pakets \(it has packets, bytes\)/);
});

t("what a map expectation, a repeat and a case are called", () => {
  assert.is(describeMapWant({ value: 5 }), "5");
  assert.is(describeMapWant({ delta: { exactly: 1 } }), "a change of exactly 1");
  assert.is(describeMapWant({ value: 5, delta: { at_least: 1, at_most: 2 } }), "5 and a change of at least 1 and at most 2");
  assert.equal(repeatOf(1000), { runs: 1000 });
  assert.equal(repeatOf({ runs: 10, at_most: 50 }), { runs: 10, at_most: 50 });
  assert.is(repeatOf(undefined), undefined);
  assert.is(caseLabel(2, { name: "ttl" }), 'packets[2] "ttl"');
  assert.is(caseLabel(0, {}, 3), "packets[0] frame 3");
});

t("a frame longer than a port carries (MTU 1500 + 14) or shorter than an Ethernet header is refused; byte differences are listed", () => {
  assert.is(MAX_FRAME, 1514);
  assert.is(frameProblem("00".repeat(1514)), undefined);
  assert.is(frameProblem("00".repeat(14)), undefined);
  assert.match(frameProblem("deadbeef")!, /the frame is 4 bytes, shorter than an Ethernet header \(14\): BPF_PROG_TEST_RUN refuses it/);
  assert.match(frameProblem("00".repeat(1515))!, /the frame is 1515 bytes, longer than a lab port carries \(1514: MTU 1500/);
  assert.equal(byteDiffs("0a0b0c", "0a0b0d"), ["byte 2: wanted 0c, got 0d"]);
  assert.equal(byteDiffs("0a0b", "0a0b0c"), ["length: wanted 2, got 3"]);
});

t("frame sources: each case's input (text, hex without spaces, pcap) and its expected frame", () => {
  const s = frameSources([{ packets: [{ frame: "Ether()", expect: { frame: "IP(ttl=1)" } }, { hex: "ff ff\n00", expect: {} }] }, {}, { packets: [{ pcap: "/x.pcap", expect: {} }] }]);
  assert.equal(s, [
    { test: 0, case: 0, field: "frame", source: { text: "Ether()" } },
    { test: 0, case: 0, field: "expect.frame", source: { text: "IP(ttl=1)" } },
    { test: 0, case: 1, field: "hex", source: { hex: "ffff00" } },
    { test: 2, case: 0, field: "pcap", source: { pcap: "/x.pcap" } },
  ]);
});

t("a case runs the first program of its port (and hook), the port defaulting to the first program's; host tests are those with packets and no traffic", () => {
  const programs = [
    { object: "/a.o", port: "lan" as const, mode: "native" as const, hook: "xdp" as const },
    { object: "/b.o", port: "wan" as const, mode: "native" as const, hook: "xdp" as const },
    { object: "/c.o", port: "wan" as const, mode: "native" as const, hook: "tc-egress" as const },
  ];
  assert.is(programOf(programs, {}), 0);
  assert.is(programOf(programs, { port: "wan" }), 1);
  assert.is(programOf(programs, { port: "wan", hook: "tc-egress" }), 2);
  assert.is(programOf(programs, { port: "lan", hook: "tc-ingress" }), -1);
  assert.ok(isPacketTest({ name: "a", traffic: [], packets: [{ frame: "Ether()", expect: { verdict: "XDP_PASS" } }] }));
  assert.not.ok(isPacketTest({ name: "a", traffic: [] }));
});

const head = ["tests:", "  - name: a", "    setup:", "      programs:", "        - { object: /dev/null.o, port: lan }"];

t("test files: packet cases' problems at their line and field (schema and checks)", () => {
  // /dev/null.o does not exist: its problem comes too, and is not what is tested here.
  const got = (lines: string[]): string[] => problems([...head, ...lines].join("\n")).filter((p) => !p.includes("programs[0].object"));
  assert.equal(got(["    packets:", "      - frame: \"Ether()\"", "        hex: \"ff\"", "        expect: { verdict: XDP_PASS }"]), ["7 tests[0].packets[0]: a packet case has exactly one of frame: (scapy notation), hex: or pcap:"]);
  assert.equal(got(["    packets:", "      - frame: \"Ether()\"", "        expect: { frame: \"IP()\", unchanged: true }"]), ["8 tests[0].packets[0].expect.unchanged: frame: and unchanged: cannot both be given: unchanged says the whole frame stays as it came, frame: which fields it has"]);
  assert.equal(got(["    packets:", "      - frame: \"Ether()\"", "        expect: {}"]), ["8 tests[0].packets[0].expect: says nothing: give the case's verdict:, frame: (or unchanged: true) or maps:"]);
  assert.equal(got(["    packets:", "      - frame: \"Ether()\"", "        expect: { verdict: XDP_DORP }"]), ["8 tests[0].packets[0].expect.verdict: XDP_DORP is not a verdict of an XDP program: one of XDP_ABORTED, XDP_DROP, XDP_PASS, XDP_TX, XDP_REDIRECT"]);
  assert.equal(got(["    packets:", "      - frame: \"Ether()\"", "        port: wan", "        expect: { verdict: XDP_PASS }"]), ["8 tests[0].packets[0].port: no program of setup.programs is on wan (they are: lan xdp)"]);
  assert.equal(got(["    packets:", "      - frame: \"Ether()\"", "        repeat: { runs: 0 }", "        expect: { verdict: XDP_PASS }"]), ["8 tests[0].packets[0].repeat: must be a number of runs, or { runs: N, at_most: NS }"]);
  assert.equal(got(["    packets:", "      - pcap: nope.pcap", "        expect: { verdict: XDP_PASS }"]), ["7 tests[0].packets[0].pcap: no such file: /t/nope.pcap (paths are relative to the test file)"]);
  assert.equal(got(["    packets:", "      - frame: \"Ether()\"", "        set: [ { map: sources, key: 1, value: -1 } ]", "        expect: { verdict: XDP_PASS }"]), ["8 tests[0].packets[0].set[0].value: must be a whole number, or the value's fields by name ({ blocked: 1 })"]);
  assert.equal(got(["    packets:", "      - frame: \"Ether()\"", "        expect: { maps: [ { map: stats, key: 2 } ] }"]), ["8 tests[0].packets[0].expect.maps[0]: wants value:, delta: or both"]);
});

t("test files: packet cases with traffic (the VM level is not done), without programs, with the lab's setup or expectations; a test with neither", () => {
  const got = (lines: string[], h = head): string[] => problems([...h, ...lines].join("\n")).filter((p) => !p.includes("programs[0].object"));
  assert.equal(got(["    traffic:", "      - command: { host: vm, run: 'true' }", "    packets:", "      - { frame: \"Ether()\", expect: { verdict: XDP_PASS } }"]), [
    "8 tests[0].packets: a test with traffic: and packets: would run its cases in the lab's VM, which xdp-lab cannot do yet: put the packet cases in a test of their own (no traffic:), which runs on this machine's kernel",
  ]);
  assert.equal(got(["    packets:", "      - { frame: \"Ether()\", expect: { verdict: XDP_PASS } }"], ["tests:", "  - name: a"]), ["3 tests[0].packets: packet cases run the test's programs: add setup: { programs: [ { object: ../out/pass.bpf.o, port: lan } ] }"]);
  assert.equal(got(["      app: { block: [10.0.0.1] }", "    packets:", "      - { frame: \"Ether()\", expect: { verdict: XDP_PASS } }", "    expect: { dmesg: clean }"]), [
    "6 tests[0].setup.app: a test of packet cases runs on this machine's kernel, without the lab: setup.app has nothing to act on (put it in a test with traffic:)",
    "9 tests[0].expect.dmesg: a test of packet cases runs on this machine's kernel, without the lab: expect.dmesg is for tests with traffic:",
  ]);
  assert.equal(got(["    traffic:", "      - command: { host: vm, run: 'true' }", "    expect: { verified_insns: { at_most: 100 } }"]), ["8 tests[0].expect.verified_insns: is for tests with packets: (the programs' verified_insns are read when the cases load them)"]);
  assert.equal(problems(["tests:", "  - name: a"].join("\n")), ["2 tests[0]: a test has traffic:, packets: or both (traffic: steps in the lab, or packets: cases on this machine's kernel)"]);
});

t("checkPackets alone: a tc program's cases take TC_ACT_* verdicts and no rx queue", () => {
  const at = (): { line: number; column: number } => ({ line: 1, column: 1 });
  const tc = { setup: { programs: [{ object: "/x.o", port: "wan" as const, hook: "tc-egress" as const }] } };
  assert.equal(checkPackets({ ...tc, packets: [{ frame: "Ether()", expect: { verdict: "TC_ACT_OK" } }] }, 0, "f", at, (p) => p, () => true), []);
  const bad = checkPackets({ ...tc, packets: [{ frame: "Ether()", rx_queue: 1, expect: { verdict: "XDP_PASS" } }] }, 0, "f", at, (p) => p, () => true);
  assert.equal(
    bad.map((p) => p.field),
    ["tests[0].packets[0].expect.verdict", "tests[0].packets[0].rx_queue"],
  );
});

const hostResult: TestResult = {
  file: "tests/reflect.yaml",
  name: "reflect",
  verdict: "fail",
  seconds: 0.01,
  failures: [{ what: 'packets[1] "ttl": IP.ttl', wanted: "63", got: "64" }],
  steps: [],
  maps: [],
  kernel: "host",
  programs: [{ object: "/o/reflect.bpf.o", name: "xdp_reflect", section: "xdp", port: "lan", hook: "xdp", id: 7, verified_insns: 41, jited_bytes: 212, xlated_bytes: 352 }],
  packets: [{ case: 1, name: 'packets[1] "ttl"', ok: false, verdict: "XDP_TX", input: "00", output: "01", failures: [], detail: "input frame:\n###[ IP ]###\noutput frame:\n###[ IP ]###\n" }],
  artefacts: "/r/reflect",
};

t("reports: a failed case names its field, then shows its frames; JUnit carries each program's verified_insns and JIT size", async () => {
  const lines = progressLines(hostResult);
  assert.is(lines[1], '    packets[1] "ttl": IP.ttl: wanted 63, got 64');
  assert.is(lines[2], "      input frame:");
  assert.is(lines[lines.length - 1], "    artefacts: /r/reflect");
  const passed = { ...hostResult, name: "ok", verdict: "pass" as const, failures: [], artefacts: undefined };
  const tests = [hostResult, passed];
  const doc = (await parse(junit({ lab: "", startedAt: "2026-12-01T10:00:00.000Z", seconds: 1, tests, summary: summarize(tests) }))) as TestSuites;
  const cases = doc.testsuite![0]!.testcase!;
  for (const c of cases) assert.match(String(c["system-out"]), /program xdp_reflect \(reflect\.bpf\.o, lan xdp\): verified_insns 41, jited 212 bytes, xlated 352 bytes/);
});

t.run();
