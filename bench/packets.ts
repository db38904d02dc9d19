// Packet cases on this machine's kernel, printed as JSON and recorded (bench/results.ts):
//
//   npm run bench:packets             # 5000 cases per program
//   CASES=20000 npm run bench:packets
//
// For each of the project's XDP programs (out/ built into a temp dir), the same test run twice
// through the runner's own path (runPacketTest: load, cases, judgement, unload): once with one case and
// once with CASES cases, each a different 64-byte UDP frame. casesPerSecond is (CASES - 1) divided by
// the difference of the two times, so the load and the per-test work do not count; it is given for
// cases judged on their verdict and maps alone, and for cases that also match an expected frame
// (scapy decodes each output). nsPerRun is the kernel's mean over REPEAT runs of one frame (a case's
// `repeat:`), the figure bench:bpf gets from `bpftool prog run`. The median of RUNS rounds each.
// Needs root (bpf(), a network namespace).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { closePacketHelper, packetHelper } from "../src/testing/packet-helper.ts";
import { PacketNamespace, runPacketTest } from "../src/testing/packets.ts";
import type { PreparedFrame } from "../src/testing/packet-spec.ts";
import type { TestCase, TestFile } from "../src/testing/spec.ts";
import { report } from "./results.ts";
import { median, timedXdpLab } from "./run.ts";

const CASES = Number(process.env.CASES ?? 5000);
const REPEAT = 1_000_000;
const RUNS = 3;
const log = (m: string): void => void process.stderr.write(`bench:packets: ${m}\n`);

/** What each program is given: a frame it passes on, and the verdict and output it gives. */
const PROGRAMS: { name: string; verdict: string; frame: (i: number) => string; expectFrame: (i: number) => string }[] = [
  { name: "pass", verdict: "XDP_PASS", frame: udp(64), expectFrame: (i) => `IP(ttl=64, id=${i % 65536})` },
  { name: "drop", verdict: "XDP_DROP", frame: udp(64), expectFrame: (i) => `IP(ttl=64, id=${i % 65536})` },
  { name: "firewall", verdict: "XDP_PASS", frame: udp(64), expectFrame: (i) => `IP(ttl=64, id=${i % 65536})` },
  { name: "reflect", verdict: "XDP_TX", frame: udp(64), expectFrame: (i) => `Ether(src='52:54:00:aa:00:02')/IP(ttl=63, id=${i % 65536})` },
];

/** Frame i: a 64-byte UDP frame whose IP id and source port are i's (a source per 256 frames). */
function udp(ttl: number): (i: number) => string {
  return (i) =>
    `Ether(src='52:54:00:aa:00:01', dst='52:54:00:aa:00:02')/IP(src='10.10.${1 + ((i >> 8) & 0x7f)}.${i & 0xff}', dst='10.10.2.10', ttl=${ttl}, id=${i % 65536})/UDP(sport=${1024 + (i % 60000)}, dport=53)/Raw(load=b'${"x".repeat(64 - 42)}')`;
}

const root = await mkdtemp(join(tmpdir(), "xdp-lab-bench-packets-"));
const helper = packetHelper();
let ns: PacketNamespace | undefined;
const results: Record<string, unknown> = {};
try {
  const out = join(root, "out");
  await timedXdpLab(["build", "bpf", "--quiet", "--out", out]);
  ns = await PacketNamespace.create(helper);
  for (const p of PROGRAMS) {
    const texts = Array.from({ length: CASES }, (_, i) => p.frame(i));
    const built = await helper.call<{ frames: { hex: string; summary: string }[] }[]>("build", { frames: texts.map((text) => ({ text })) });
    const frames: PreparedFrame[] = built.map((b, index) => ({ index, hex: b.frames[0]!.hex, summary: b.frames[0]!.summary }));
    const time = async (n: number, withFrame: boolean): Promise<{ seconds: number; failed: number }> => {
      const test: TestCase = {
        name: `${p.name} x ${n}`,
        traffic: [],
        setup: { programs: [{ object: join(out, `${p.name}.bpf.o`), port: "lan", mode: "native", hook: "xdp" }] },
        packets: frames.slice(0, n).map((_, i) => ({ frame: texts[i]!, expect: { verdict: p.verdict, ...(withFrame ? { frame: p.expectFrame(i) } : {}) } })),
      };
      const file: TestFile = { path: "bench.yaml", tests: [test], lines: [1] };
      const t0 = performance.now();
      const r = await runPacketTest(helper, ns!, file, 0, test, frames.slice(0, n), { results: join(root, "results"), kernel: "host" });
      const seconds = (performance.now() - t0) / 1000;
      if (r.error) throw new Error(`${p.name}: ${r.error}`);
      return { seconds, failed: r.packets!.filter((x) => !x.ok).length };
    };
    const rate = async (withFrame: boolean): Promise<{ casesPerSecond: number; failed: number; runs: number[] }> => {
      const runs: number[] = [];
      let failed = 0;
      for (let k = 0; k < RUNS; k++) {
        const one = await time(1, withFrame);
        const all = await time(CASES, withFrame);
        failed += all.failed + one.failed;
        runs.push(Math.round((CASES - 1) / (all.seconds - one.seconds)));
      }
      return { casesPerSecond: median(runs), failed, runs };
    };
    log(`${p.name}: ${CASES} cases`);
    const verdictOnly = await rate(false);
    const withFrame = await rate(true);
    // ns per run: a case's repeat, as a test file would time it.
    const nsRuns: number[] = [];
    for (let k = 0; k < RUNS; k++) {
      const test: TestCase = {
        name: `${p.name} timed`,
        traffic: [],
        setup: { programs: [{ object: join(out, `${p.name}.bpf.o`), port: "lan", mode: "native", hook: "xdp" }] },
        packets: [{ frame: texts[0]!, expect: { verdict: p.verdict }, repeat: REPEAT }],
      };
      const r = await runPacketTest(helper, ns, { path: "bench.yaml", tests: [test], lines: [1] }, 0, test, frames.slice(0, 1), { results: join(root, "results"), kernel: "host" });
      nsRuns.push(r.packets![0]!.repeat!.ns);
    }
    results[p.name] = { verdictOnly, withFrame, nsPerRun: median(nsRuns), nsRuns };
  }
  report("packets", {
    method: `runPacketTest (the runner's path) with 1 and with ${CASES} cases of distinct 64-byte UDP frames; casesPerSecond = ${CASES - 1} / (t(${CASES}) - t(1)), so the load does not count; verdictOnly checks the verdict, withFrame also matches an expected frame (decoded by scapy); nsPerRun is BPF_PROG_TEST_RUN's mean over ${REPEAT} repeats of one frame; medians of ${RUNS} runs`,
    target: { casesPerSecond: 1000 },
    results,
  });
} finally {
  await ns?.remove().catch(() => undefined);
  await closePacketHelper();
  await rm(root, { recursive: true, force: true });
}
