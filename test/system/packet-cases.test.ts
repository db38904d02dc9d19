// Packet cases on this machine's kernel through `xdp-lab test`: the examples pass as written, a case
// written to fail names its field and keeps its pcap (exit 1), malformed frames exit 2 naming their
// place before anything runs, a pcap's frames are cases each, xdp-tools' own xdp-filter is tested
// through its maps, and the run leaves no namespace or program behind. Needs root (bpf(), netns);
// scapy (python3-scapy) is installed when missing.
import { existsSync } from "node:fs";
import { cp, mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import * as assert from "uvu/assert";
import { REPO } from "../../src/paths.ts";
import type { RunResult, TestResult } from "../../src/testing/report.ts";
import { cleanup, tempDir } from "../helpers.ts";
import { suite } from "../suite.ts";
import { badObjects } from "./bad-objects.ts";
import { xdpLab } from "./cli.ts";

const t = suite("packet cases on the host (xdp-lab test, BPF_PROG_TEST_RUN)");
let dir = "";

t.before(async () => {
  dir = await tempDir();
  // The layout of the repository: out/ beside tests/ and examples/tests/.
  const r = await xdpLab(["build", "bpf", "--quiet", "--out", join(dir, "out")]);
  assert.is(r.exitCode, 0, r.stderr);
  await mkdir(join(dir, "examples", "tests"), { recursive: true });
  await mkdir(join(dir, "tests"), { recursive: true });
});

t.after(cleanup);

/** Runs `xdp-lab test FILE` with a JSON report; its exit code, output and report. */
async function run(file: string, ...args: string[]): Promise<{ code: number; out: string; json?: RunResult }> {
  const json = join(dir, `result-${Date.now()}.json`);
  const r = await xdpLab(["test", file, "--json", json, "--results", join(dir, "results"), ...args]);
  return { code: r.exitCode, out: r.stdout + r.stderr, json: existsSync(json) ? (JSON.parse(await readFile(json, "utf8")) as RunResult) : undefined };
}

/** Namespaces this machine has that a packet-case run made. */
async function leftNamespaces(): Promise<string[]> {
  const r = await execa("ip", ["netns", "list"]);
  return r.stdout.split("\n").filter((l) => l.startsWith("xdp-lab-pk-"));
}

/** The sum of one's complement of a header's 16-bit words: 0xffff when its checksum is right. */
function onesSum(header: Buffer): number {
  let s = 0;
  for (let i = 0; i < header.length; i += 2) s += header.readUInt16BE(i);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

const test = (r: RunResult, name: string): TestResult => {
  const x = r.tests.find((y) => y.name.startsWith(name));
  assert.ok(x, `no test ${name}`);
  return x!;
};

t("examples/tests/packet-cases.yaml passes as written, with no lab: verdicts, rewritten frames, maps, verified_insns and JIT sizes in the JSON", async () => {
  await cp(join(REPO, "examples", "tests", "packet-cases.yaml"), join(dir, "examples", "tests", "packet-cases.yaml"));
  const r = await run(join(dir, "examples", "tests", "packet-cases.yaml"));
  assert.is(r.code, 0, r.out);
  assert.match(r.out, /5 passed, 0 failed \([\d.]+ s, no lab, kernel host\)/);
  const json = r.json!;
  assert.ok(json.tests.every((x) => x.kernel === "host" && x.verdict === "pass"));
  // Each program's verifier and JIT figures, from the kernel.
  for (const x of json.tests) {
    assert.ok(x.programs!.length > 0, x.name);
    for (const p of x.programs!) {
      assert.ok(p.verified_insns! > 0 && p.jited_bytes! > 0 && p.xlated_bytes! > 0, JSON.stringify(p));
    }
  }
  // reflect: the frame went back with the MACs swapped, TTL 63 and a checksum that is right.
  const reflect = test(json, "reflect");
  const sent = reflect.packets![0]!;
  assert.is(sent.verdict, "XDP_TX");
  const out = Buffer.from(sent.output, "hex");
  const input = Buffer.from(sent.input, "hex");
  assert.equal([...out.subarray(0, 6)], [...input.subarray(6, 12)]);
  assert.equal([...out.subarray(6, 12)], [...input.subarray(0, 6)]);
  assert.is(out[14 + 8], 63);
  assert.is(onesSum(out.subarray(14, 34)), 0xffff, "the IPv4 checksum after the TTL went down");
  // Timed apart: the judged run said XDP_TX; the repeats, on one buffer, ended in XDP_DROP at TTL 1.
  assert.is(sent.repeat!.runs, 100000);
  assert.is(sent.repeat!.verdict, "XDP_DROP");
  assert.ok(sent.repeat!.ns > 0);
  assert.equal(reflect.maps.map((m) => [m.key, m.delta]), [[3, "1"], [1, "1"], [2, "1"]]);
  // The firewall's blocked source was set through its map: dropped, its counter moved by one.
  const fw = test(json, "firewall");
  assert.equal(fw.packets!.map((p) => p.verdict), ["XDP_PASS", "XDP_DROP", "XDP_PASS", "XDP_DROP"]);
  assert.equal(fw.programs![0]!.name, "xdp_firewall");
  // tc_count on both hooks gave TC_ACT_OK; fib_router on the host passed (no route here).
  assert.equal(test(json, "tc_count").packets!.map((p) => p.verdict), ["TC_ACT_OK", "TC_ACT_OK"]);
  assert.equal(test(json, "fib_router").packets!.map((p) => p.verdict), ["XDP_PASS", "XDP_PASS"]);
  assert.equal(await leftNamespaces(), []);
});

t("a case written to fail: exit 1, the field that differs named, both frames decoded and as hex, a pcap of them in its artefacts", async () => {
  const file = join(dir, "tests", "fails.yaml");
  await writeFile(
    file,
    [
      "tests:",
      "  - name: reflect does not keep the TTL",
      "    setup:",
      "      programs: [ { object: ../out/reflect.bpf.o, port: lan } ]",
      "    packets:",
      "      - name: wants the TTL it will not get",
      "        frame: \"Ether(src='52:54:00:aa:00:01', dst='52:54:00:aa:00:02')/IP(src='10.10.1.10', dst='10.10.2.10', ttl=64)/UDP(dport=7)\"",
      "        expect: { verdict: XDP_TX, frame: \"Ether(dst='52:54:00:aa:00:01')/IP(ttl=64)\" }",
      "      - frame: \"Ether()/IP(ttl=9)/UDP()\"",
      "        expect: { verdict: XDP_PASS }",
    ].join("\n"),
  );
  const r = await run(file);
  assert.is(r.code, 1, r.out);
  assert.match(r.out, 'packets[0] "wants the TTL it will not get": IP.ttl: wanted 64, got 63');
  assert.match(r.out, "packets[1]: verdict: wanted XDP_PASS, got XDP_TX");
  // The MAC it asked for is the one it got: not a failure.
  assert.not.match(r.out, "Ether.dst");
  assert.match(r.out, /input frame:\n\s+###\[ Ethernet \]###/);
  assert.match(r.out, /ttl\s+= 63/);
  assert.match(r.out, /0000  52 54 00 AA 00 01 52 54 00 AA 00 02 08 00 45 00/);
  const res = r.json!.tests[0]!;
  assert.is(res.verdict, "fail");
  const kept = await readdir(res.artefacts!);
  assert.equal(kept.sort(), ["frames.txt", "packets.pcap", "result.json", "test.yaml"]);
  // Two failed cases, each frame in and out: four records after pcap's 24-byte header.
  const pcap = await readFile(join(res.artefacts!, "packets.pcap"));
  let records = 0;
  for (let off = 24; off < pcap.length; off += 16 + pcap.readUInt32LE(off + 8)) records++;
  assert.is(records, 4);
  assert.is(pcap.readUInt32LE(20), 1, "linktype Ethernet");
  assert.match(await readFile(join(res.artefacts!, "frames.txt"), "utf8"), /IP\.ttl: wanted 64, got 63/);
  assert.equal(await leftNamespaces(), []);
});

t("malformed frames exit 2 before anything runs, each named with its file, line and field", async () => {
  const file = join(dir, "tests", "malformed.yaml");
  const long = "ff".repeat(1515);
  await writeFile(
    file,
    [
      "tests:", // 1
      "  - name: malformed", // 2
      "    setup:", // 3
      "      programs: [ { object: ../out/pass.bpf.o, port: lan } ]", // 4
      "    packets:", // 5
      "      - { frame: \"Ethr()/IP()\", expect: { verdict: XDP_PASS } }", // 6
      "      - { frame: \"Ether()/IP(ttll=3)\", expect: { verdict: XDP_PASS } }", // 7
      "      - { frame: \"Ether()/IP(dst='10.1.1.300')\", expect: { verdict: XDP_PASS } }", // 8
      "      - { frame: \"Raw(load=b'')\", expect: { verdict: XDP_PASS } }", // 9
      `      - { hex: "${long}", expect: { verdict: XDP_PASS } }`, // 10
      "      - { frame: \"__import__('os').system('touch /tmp/pwned')\", expect: { verdict: XDP_PASS } }", // 11
      "      - { frame: \"Ether()/IP()\", expect: { frame: \"IP(dst=open('/etc/passwd').read())\" } }", // 12
    ].join("\n"),
  );
  const r = await run(file);
  assert.is(r.code, 2, r.out);
  assert.not.match(r.out, /^RUN /m);
  assert.is(r.json, undefined);
  for (const line of [
    `${file}:6:11: tests[0].packets[0].frame: Ethr: no such scapy layer (did you mean Ether?)`,
    `${file}:7:11: tests[0].packets[1].frame: IP.ttll: IP has no field ttll (did you mean ttl?)`,
    `${file}:8:11: tests[0].packets[2].frame: IP.dst: '10.1.1.300' is not a valid dst`,
    `${file}:9:11: tests[0].packets[3].frame: the frame is empty (0 bytes)`,
    `${file}:10:11: tests[0].packets[4].hex: the frame is 1515 bytes, longer than a lab port carries (1514: MTU 1500 plus the Ethernet header)`,
    `${file}:11:11: tests[0].packets[5].frame: __import__('os').system('touch /tmp/pwned'): each part of a frame is a scapy layer`,
    `${file}:12:`,
  ]) {
    assert.match(r.out, line);
  }
  assert.match(r.out, /tests\[0\]\.packets\[6\]\.expect\.frame: IP\.dst: only literal values are allowed/);
  assert.not.ok(existsSync("/tmp/pwned"));
});

t("every frame of a pcap is a case; rx queues and hex frames run; state from one case is there in the next", async () => {
  const file = join(dir, "tests", "pcap.yaml");
  await cp(join(REPO, "tests", "pcaps", "ping4-client-to-server.pcap"), join(dir, "tests", "ping.pcap"));
  await writeFile(
    file,
    [
      "tests:",
      "  - name: pass on every frame of a capture",
      "    setup:",
      "      programs: [ { object: ../out/pass.bpf.o, port: wan } ]",
      "    packets:",
      "      - { pcap: ping.pcap, rx_queue: 7, expect: { verdict: XDP_PASS, unchanged: true } }",
      "      - { hex: \"ffffffffffff0000000000010806\", expect: { verdict: XDP_PASS, maps: [ { map: stats, key: 2, field: packets, delta: { exactly: 1 } } ] } }",
    ].join("\n"),
  );
  const r = await run(file);
  assert.is(r.code, 0, r.out);
  const res = r.json!.tests[0]!;
  // As many cases as the capture has frames, numbered from 1.
  const frames = (await execa("tcpdump", ["-nr", join(dir, "tests", "ping.pcap")])).stdout.split("\n").filter(Boolean).length;
  assert.ok(frames > 1);
  const fromPcap = res.packets!.filter((p) => p.case === 0);
  assert.is(fromPcap.length, frames);
  assert.equal(fromPcap.map((p) => p.frame), Array.from({ length: frames }, (_, i) => i + 1));
  assert.is(res.packets!.length, frames + 1);
});

t("xdp-tools' xdp-filter (Debian's object, nobody here wrote it): a UDP port filtered through its map is dropped and its hit counted", async () => {
  // The allow-by-default UDP build: a port its map flags is dropped, the rest pass.
  const object = "/usr/lib/x86_64-linux-gnu/bpf/xdpfilt_alw_udp.o";
  assert.ok(existsSync(object), `${object}: install xdp-tools`);
  const file = join(dir, "tests", "xdp-filter.yaml");
  // xdp-tools' common_kern_user.h: MAP_FLAG_DST 2 | MAP_FLAG_UDP 8; each hit adds 1 << COUNTER_SHIFT (6).
  // xdpfilt_prog.h keys filter_ports by udphdr->dest as it is on the wire: port 53 is bytes 00 35 00 00.
  await writeFile(
    file,
    [
      "tests:",
      "  - name: xdp-filter drops UDP port 53",
      "    setup:",
      `      programs: [ { object: ${object}, port: lan } ]`,
      "    packets:",
      "      - set: [ { map: filter_ports, key: \"hex 00 35 00 00\", value: 10 } ]",
      "        frame: \"Ether()/IP(src='10.10.1.10', dst='10.10.2.10')/UDP(sport=4000, dport=53)\"",
      "        expect: { verdict: XDP_DROP, maps: [ { map: filter_ports, key: \"hex 00 35 00 00\", delta: { exactly: 64 } } ] }",
      "      - frame: \"Ether()/IP(src='10.10.1.10', dst='10.10.2.10')/UDP(sport=4000, dport=54)\"",
      "        expect: { verdict: XDP_PASS, unchanged: true }",
      "      - frame: \"Ether()/IP(src='10.10.1.10', dst='10.10.2.10')/TCP(sport=4000, dport=53)\"",
      "        expect: { verdict: XDP_PASS }",
    ].join("\n"),
  );
  const r = await run(file);
  assert.is(r.code, 0, r.out);
  const res = r.json!.tests[0]!;
  assert.equal(res.packets!.map((p) => p.verdict), ["XDP_DROP", "XDP_PASS", "XDP_PASS"]);
  assert.is(res.programs![0]!.name, "xdpfilt_alw_udp");
  assert.ok(res.programs![0]!.verified_insns! > 1000, "xdp-filter is a large program");
});

t("a program above its verified_insns bound fails with the figure; --filter and the exit code as for lab tests", async () => {
  const file = join(dir, "tests", "bound.yaml");
  await writeFile(
    file,
    [
      "tests:",
      "  - name: firewall within 10 instructions",
      "    setup:",
      "      programs: [ { object: ../out/firewall.bpf.o, port: lan } ]",
      "    packets:",
      "      - { frame: \"Ether()/IP()/UDP()\", expect: { verdict: XDP_PASS } }",
      "    expect: { verified_insns: { at_most: 10 } }",
    ].join("\n"),
  );
  const r = await run(file);
  assert.is(r.code, 1, r.out);
  assert.match(r.out, /xdp_firewall verified_insns: wanted at most 10, got \d+/);
});

t("an object the verifier refuses fails its test with the verifier's words; an unknown map or tunable fails its test by name; the next test runs (--keep-going)", async () => {
  const { unbounded } = await badObjects(join(dir, "tests"));
  const file = join(dir, "tests", "refused.yaml");
  await writeFile(
    file,
    [
      "tests:",
      "  - name: refused",
      "    setup:",
      `      programs: [ { object: ${unbounded}, port: lan } ]`,
      "    packets:",
      "      - { frame: \"Ether()/IP()\", expect: { verdict: XDP_PASS } }",
      "  - name: no such map",
      "    setup:",
      "      programs: [ { object: ../out/pass.bpf.o, port: lan } ]",
      "    packets:",
      "      - { frame: \"Ether()/IP()\", set: [ { map: nope, key: 1, value: 1 } ], expect: { verdict: XDP_PASS } }",
      "  - name: no such tunable",
      "    setup:",
      "      programs: [ { object: ../out/firewall.bpf.o, port: lan, tunables: { report_evry_packet: 1 } } ]",
      "    packets:",
      "      - { frame: \"Ether()/IP()\", expect: { verdict: XDP_PASS } }",
      "  - name: still runs",
      "    setup:",
      "      programs: [ { object: ../out/pass.bpf.o, port: lan } ]",
      "    packets:",
      "      - { frame: \"Ether()/IP()\", expect: { verdict: XDP_PASS } }",
    ].join("\n"),
  );
  const r = await run(file, "--keep-going");
  assert.is(r.code, 1, r.out);
  assert.match(r.out, /FAIL refused[\s\S]*Failed to load .*unbounded\.bpf\.o: Permission denied[\s\S]*invalid access to packet/);
  assert.match(r.out, "xdp_pass has no map nope (it has stats)");
  assert.match(r.out, "tunables.report_evry_packet: the object has no const volatile global report_evry_packet (it has report_every_packet)");
  assert.match(r.out, /^PASS still runs/m);
  assert.equal(r.json!.summary, { passed: 1, failed: 3, skipped: 0 });
  assert.equal(await leftNamespaces(), []);
});

t.run();
