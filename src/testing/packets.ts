// Packet cases on this machine's kernel: each of a test's objects loaded once (libbpf, in the packet
// helper), every case run with BPF_PROG_TEST_RUN in a network namespace of the run's own (so the
// context's ingress device is real and no host interface is touched), then judged: verdict, output
// frame on the fields the expectation sets, map values; repeats timed apart from the judged run.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { stringify } from "yaml";
import { ip } from "../tools/ip.ts";
import { artefactDir, newDir } from "./artefacts.ts";
import { deltaOk, describeDelta, mapLabel } from "./maps.ts";
import { PacketHelper as PacketHelperClass, type PacketHelper } from "./packet-helper.ts";
import { byteDiffs, caseLabel, describeMapWant, keyHex, readField, repeatOf, skbContext, valueHex, verdictName, xdpContext, type MapInfo } from "./packet-spec.ts";
import type { PacketCase, Port, PreparedFrame, ProgramSetup, TestCase, TestFile } from "./file-types.ts";
import type { Failure, MapResult, PacketResult, ProgramResult, TestResult } from "./result-types.ts";
export type { ProgramResult, PacketResult } from "./result-types.ts";

/** The helper's answer about devices: each one's ifindex and rx queues. */
type Devices = Record<string, { ifindex: number; rx_queues: number | null }>;

/** The ports' ifindexes and rx queues from the helper's lan0 and wan0. */
function portsOf(d: Devices): [Record<Port, number>, Record<Port, number>] {
  return [
    { lan: d.lan0!.ifindex, wan: d.wan0!.ifindex },
    { lan: d.lan0!.rx_queues ?? 1, wan: d.wan0!.rx_queues ?? 1 },
  ];
}

/** Where cases run: the ports' devices, by ifindex, and how many rx queues each has. */
export interface PacketPorts {
  ifindex: Record<Port, number>;
  rxQueues: Record<Port, number>;
}

/** The namespace of a run's packet cases: a veth pair per lab port, multi-queue, up. */
export class PacketNamespace {
  private constructor(
    readonly name: string,
    readonly ifindex: Record<Port, number>,
    readonly rxQueues: Record<Port, number>,
  ) {}

  /** The namespace's devices: each port's end of a veth pair with 8 rx queues. */
  static readonly DEVICES = ["lan0", "wan0"] as const;
  static readonly RX_QUEUES = 8;

  static async create(helper: PacketHelper): Promise<PacketNamespace> {
    const name = `xdp-lab-pk-${process.pid}`;
    await ip(undefined, "netns", "add", name);
    try {
      for (const d of PacketNamespace.DEVICES) {
        await ip(name, "link", "add", d, "numrxqueues", String(PacketNamespace.RX_QUEUES), "numtxqueues", "8", "type", "veth", "peer", "name", `${d}p`, "numrxqueues", "8", "numtxqueues", "8");
        await ip(name, "link", "set", d, "up");
        await ip(name, "link", "set", `${d}p`, "up");
      }
      const d = await helper.call<Devices>("netns", { path: `/run/netns/${name}`, devices: [...PacketNamespace.DEVICES] });
      const [ifindex] = portsOf(d);
      return new PacketNamespace(name, ifindex, { lan: PacketNamespace.RX_QUEUES, wan: PacketNamespace.RX_QUEUES });
    } catch (e) {
      await ip(undefined, "netns", "del", name).catch(() => undefined);
      throw e;
    }
  }

  async remove(): Promise<void> {
    await ip(undefined, "netns", "del", this.name);
  }
}

interface Loaded {
  setup: ProgramSetup;
  handle: number;
  maps: Map<string, MapInfo>;
  info: ProgramResult;
}

/** Whether a test is packet cases only (no traffic): it runs on this machine's kernel, or in the VM under --guest-root host. */
export function isPacketTest(t: TestCase): boolean {
  return (t.packets?.length ?? 0) > 0 && t.traffic.length === 0;
}

/** The program a case runs: the first of its port (and hook), the port defaulting to the first program's. */
export function programOf(programs: ProgramSetup[], c: Pick<PacketCase, "port" | "hook">): number {
  const port = c.port ?? programs[0]?.port;
  return programs.findIndex((p) => p.port === port && (c.hook === undefined || (p.hook ?? "xdp") === c.hook));
}

async function load(helper: PacketHelper, p: ProgramSetup): Promise<Loaded> {
  const hook = p.hook ?? "xdp";
  helper.takeStderr();
  let r: { handle: number; id: number; name: string; section: string; maps: MapInfo[]; verified_insns: number | null; jited_bytes: number; xlated_bytes: number };
  try {
    r = await helper.call("load", { object: p.object, program: p.program, hook, tunables: p.tunables });
  } catch (e) {
    const log = helper.takeStderr().trim().split("\n").slice(-12).join("\n");
    const said = (e as Error).message;
    throw new Error(log ? `${said}\n${log}` : said.replace(/; libbpf said:$/, ""), { cause: e });
  }
  // The kernel's bpf_prog_info, as `bpftool prog show` prints it.
  const info: ProgramResult = { object: p.object, name: r.name, section: r.section, port: p.port, hook, id: r.id, verified_insns: r.verified_insns ?? undefined, jited_bytes: r.jited_bytes, xlated_bytes: r.xlated_bytes };
  return { setup: p, handle: r.handle, maps: new Map(r.maps.map((m) => [m.name, m])), info };
}

function mapOf(l: Loaded, name: string): MapInfo {
  const m = l.maps.get(name);
  if (!m) throw new Error(`${l.info.name} has no map ${name} (it has ${[...l.maps.keys()].filter((k) => !l.maps.get(k)!.internal).join(", ")})`);
  return m;
}

/**
 * Runs one test of packet cases through HELPER (on this machine, or in a lab's VM): load, cases in
 * order, test-level maps, timings; with RESULTS, its artefacts there when it failed.
 */
export async function runPacketTest(
  helper: PacketHelper,
  ns: PacketPorts,
  file: TestFile,
  index: number,
  test: TestCase,
  frames: PreparedFrame[],
  opts: { results?: string; root?: string; kernel?: string },
): Promise<TestResult> {
  const t0 = performance.now();
  const r: TestResult = { file: file.path, name: test.name, verdict: "pass", seconds: 0, failures: [], steps: [], maps: [], ...(opts.kernel ? { kernel: opts.kernel } : {}), packets: [], programs: [] };
  const fail = (f: Failure): void => void r.failures.push(f);
  const loaded: Loaded[] = [];
  try {
    const programs = test.setup?.programs ?? [];
    for (const p of programs) loaded.push(await load(helper, p));
    r.programs = loaded.map((l) => l.info);
    const bound = test.expect?.verified_insns?.at_most;
    for (const l of loaded) {
      if (bound !== undefined && l.info.verified_insns !== undefined && l.info.verified_insns > bound) {
        fail({ what: `${l.info.name} verified_insns`, wanted: `at most ${bound}`, got: String(l.info.verified_insns) });
      }
    }

    // The test's maps, before every case and after all of them.
    const wants = test.expect?.maps ?? [];
    const testMaps = wants.map((w) => {
      const l = w.port ? loaded.find((x) => x.setup.port === w.port) : (loaded.find((x) => x.maps.has(w.map)) ?? loaded[0]!);
      return l ? { l, m: mapOf(l, w.map), key: keyHex(w.key, mapOf(l, w.map)) } : undefined;
    });
    const readAll = async (): Promise<(string | null)[]> =>
      Promise.all(testMaps.map(async (t) => (t ? (await helper.call<(string | null)[]>("read", { handle: t.l.handle, reads: [{ map: t.m.name, key: t.key }] }))[0]! : null)));
    const before = await readAll();

    const cases = test.packets ?? [];
    // Frames run in order; consecutive ones of one program go to the helper in one request.
    type Job = { f: PreparedFrame; c: PacketCase; l: Loaded; reads: { m: MapInfo; key: string }[] };
    const jobs: Job[] = frames.map((f) => {
      const c = cases[f.index]!;
      const l = loaded[programOf(programs, c)]!;
      return { f, c, l, reads: (c.expect.maps ?? []).map((e) => ({ m: mapOf(l, e.map), key: keyHex(e.key, mapOf(l, e.map)) })) };
    });
    type Ran = { retval?: number; out?: string; before?: (string | null)[]; after?: (string | null)[]; error?: string };
    const ran: Ran[] = [];
    for (let i = 0; i < jobs.length; ) {
      let j = i;
      while (j < jobs.length && jobs[j]!.l === jobs[i]!.l) j++;
      const batch = jobs.slice(i, j).map(({ f, c, l, reads }) => {
        const port = c.port ?? l.setup.port;
        const len = f.hex.length / 2;
        const ifindex = ns.ifindex[port];
        const ctx = l.info.hook === "xdp" ? xdpContext(len, ifindex, c.rx_queue ?? 0) : skbContext(l.info.hook as "tc-ingress", ifindex);
        return {
          data: f.hex,
          ctx,
          set: (c.set ?? []).map((s) => ({ map: s.map, key: keyHex(s.key, mapOf(l, s.map)), value: valueHex(s.value, mapOf(l, s.map)) })),
          reads: reads.map((x) => ({ map: x.m.name, key: x.key })),
        };
      });
      ran.push(...(await helper.call<Ran[]>("run", { handle: jobs[i]!.l.handle, cases: batch })));
      i = j;
    }

    // Output frames against the expected ones: one request for all.
    const matchAt: number[] = [];
    const matches = jobs.flatMap((j, k) => (j.c.expect.frame && ran[k]!.out !== undefined ? (matchAt.push(k), [{ expected: j.c.expect.frame, got: ran[k]!.out }]) : []));
    const diffs = matches.length ? await helper.call<{ field: string; wanted: string; got: string }[][]>("match", { cases: matches }) : [];
    const frameDiffs = new Map(matchAt.map((k, n) => [k, diffs[n]!]));

    const results: (PacketResult & { pending?: true })[] = jobs.map((j, k) => {
      const x = ran[k]!;
      const port = j.c.port ?? j.l.setup.port;
      // The kernel's EINVAL for a queue the device has not, said in words.
      if (x.error !== undefined && (j.c.rx_queue ?? 0) >= ns.rxQueues[port]) x.error = `rx_queue ${j.c.rx_queue}: ${port}0 here has ${ns.rxQueues[port]} rx queue${ns.rxQueues[port] === 1 ? "" : "s"} (${x.error})`;
      const label = caseLabel(j.f.index, j.c, j.f.frame);
      const pr: PacketResult = { case: j.f.index, frame: j.f.frame, name: label, ok: true, verdict: "", input: j.f.hex, output: x.out ?? "", failures: [] };
      const f = (what: string, wanted: string, got: string): void => void pr.failures.push({ what: `${label}: ${what}`, wanted, got });
      if (x.error !== undefined) {
        f("run", "BPF_PROG_TEST_RUN to run it", x.error);
      } else {
        pr.verdict = verdictName(j.l.info.hook as "xdp", x.retval!);
        const e = j.c.expect;
        if (e.verdict !== undefined) {
          pr.wanted_verdict = e.verdict;
          if (e.verdict !== pr.verdict) f("verdict", e.verdict, pr.verdict);
        }
        if (e.unchanged && x.out !== j.f.hex) f("frame", "unchanged", `rewritten (${byteDiffs(j.f.hex, x.out!).join("; ")})`);
        for (const d of frameDiffs.get(k) ?? []) f(d.field, d.wanted, d.got);
        (e.maps ?? []).forEach((m, n) => {
          const info = j.reads[n]!.m;
          const what = `map ${m.map} key ${m.key}${m.field ? ` ${m.field}` : ""}`;
          try {
            const b = readField(x.before![n]!, info, m.field);
            const a = readField(x.after![n]!, info, m.field);
            const okValue = m.value === undefined || a === BigInt(m.value);
            const okDelta = !m.delta || deltaOk(a - b, m.delta);
            if (!okValue || !okDelta) f(what, describeMapWant(m), m.delta ? `${a} (a change of ${a - b})` : String(a));
          } catch (err) {
            f(what, describeMapWant(m), (err as Error).message);
          }
        });
      }
      pr.ok = pr.failures.length === 0;
      return pr;
    });

    const after = await readAll();
    wants.forEach((w, n) => {
      const t = testMaps[n];
      const wanted = describeDelta(w.delta);
      const m: MapResult = { map: w.map, key: w.key, field: w.field, port: w.port, wanted, ok: false };
      r.maps.push(m);
      if (!t) return fail({ what: mapLabel(w), wanted, got: "no program in the test's setup" });
      try {
        const b = readField(before[n]!, t.m, w.field);
        const a = readField(after[n]!, t.m, w.field);
        Object.assign(m, { before: String(b), after: String(a), delta: String(a - b), ok: deltaOk(a - b, w.delta) });
        if (!m.ok) fail({ what: mapLabel(w), wanted, got: String(a - b) });
      } catch (e) {
        fail({ what: mapLabel(w), wanted, got: (e as Error).message });
      }
    });

    // Timings last, so that their runs count in no map a case or the test judged.
    for (const [k, j] of jobs.entries()) {
      const rep = repeatOf(j.c.repeat);
      if (!rep || ran[k]!.error !== undefined) continue;
      const pr = results[k]!;
      const port = j.c.port ?? j.l.setup.port;
      const len = j.f.hex.length / 2;
      const ctx = j.l.info.hook === "xdp" ? xdpContext(len, ns.ifindex[port], j.c.rx_queue ?? 0) : skbContext(j.l.info.hook as "tc-ingress", ns.ifindex[port]);
      const tm = await helper.call<{ retval: number; ns: number }>("time", { handle: j.l.handle, data: j.f.hex, ctx, repeat: rep.runs });
      pr.repeat = { runs: rep.runs, ns: tm.ns, at_most: rep.at_most, verdict: verdictName(j.l.info.hook as "xdp", tm.retval) };
      if (rep.at_most !== undefined && tm.ns > rep.at_most) {
        pr.failures.push({ what: `${pr.name}: ns per run over ${rep.runs} runs`, wanted: `at most ${rep.at_most}`, got: String(tm.ns) });
        pr.ok = false;
      }
    }

    // Failed cases: both frames decoded and as hex.
    const failed = results.filter((p) => !p.ok && p.output);
    if (failed.length) {
      const decoded = await helper.call<{ show: string; hexdump: string }[]>("decode", { frames: failed.flatMap((p) => [p.input, p.output]) });
      failed.forEach((p, n) => {
        const [i, o] = [decoded[2 * n]!, decoded[2 * n + 1]!];
        p.detail = `input frame:\n${i.show}${i.hexdump}\noutput frame:\n${o.show}${o.hexdump}`;
      });
    }
    r.packets = results;
    for (const p of results) r.failures.push(...p.failures);
  } catch (e) {
    r.error = (e as Error).message;
  } finally {
    for (const l of loaded) await helper.call("unload", { handle: l.handle }).catch(() => undefined);
  }
  r.seconds = (performance.now() - t0) / 1000;
  if (r.error || r.failures.length) {
    r.verdict = "fail";
    // In the lab the pool keeps the lab's artefacts (its result.json has the frames as hex).
    if (opts.results) r.artefacts = await keepPacketArtefacts(helper, { results: opts.results, root: opts.root, file, index, test, result: r }).catch((e: Error) => `(not kept: ${e.message})`);
  }
  return r;
}

/** The files a failed host test leaves: its frames in and out as a pcap, decoded, the test and its result. */
export const PACKET_ARTEFACTS = ["packets.pcap", "frames.txt", "test.yaml", "result.json"] as const;

async function keepPacketArtefacts(helper: PacketHelper, o: { results: string; root?: string; file: TestFile; index: number; test: TestCase; result: TestResult }): Promise<string> {
  const dir = await newDir(artefactDir(o.results, o.file.path, o.test.name, o.root));
  const failed = (o.result.packets ?? []).filter((p) => !p.ok);
  // Each failed case's input then output, in case order (an output of 0 bytes is left out).
  const frames = failed.flatMap((p) => [p.input, ...(p.output ? [p.output] : [])]);
  if (frames.length) await helper.call("pcap", { path: join(dir, "packets.pcap"), frames });
  await writeFile(join(dir, "frames.txt"), failed.map((p) => `${p.name}\n${p.failures.map((f) => `  ${f.what}: wanted ${f.wanted}, got ${f.got}`).join("\n")}\n\n${p.detail ?? ""}`).join("\n\n") + "\n");
  await writeFile(join(dir, "test.yaml"), `# ${o.file.path} line ${o.file.lines[o.index] ?? "?"}: the test as it ran (object paths absolute)\n${stringify({ tests: [o.test] })}`);
  await writeFile(join(dir, "result.json"), JSON.stringify({ ...o.result, artefacts: dir }, null, 2) + "\n");
  return dir;
}

/**
 * Packet cases in a lab's VM, on its kernel: the helper runs there (the guest has this checkout,
 * python3, scapy and libbpf under --guest-root host), the context's devices are the VM's own lan0
 * and wan0. Each call of this starts and ends a helper of its own.
 */
export async function runVmPacketTest(
  exec: Parameters<typeof PacketHelperClass.startIn>[1],
  where: string,
  file: TestFile,
  test: TestCase,
): Promise<TestResult> {
  const index = file.tests.findIndex((t) => t.name === test.name);
  const helper = PacketHelperClass.startIn(where, exec);
  try {
    const [ifindex, rxQueues] = portsOf(await helper.call<Devices>("ifindex", { devices: ["lan0", "wan0"] }));
    return await runPacketTest(helper, { ifindex, rxQueues }, file, index, test, file.frames?.[index] ?? [], {});
  } catch (e) {
    const said = (e as Error).message;
    throw new Error(`Failed to run the packet cases in ${where}: ${said}. Packet cases in the VM need the host's userland there (python3, scapy, libbpf): run with --guest-root host`, { cause: e });
  } finally {
    await helper.close().catch(() => undefined);
  }
}
