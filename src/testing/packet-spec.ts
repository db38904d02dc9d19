// Packet cases (a test's `packets:`), the pure part: their types, the verdicts' names, the run's
// context bytes (xdp_md, __sk_buff), map keys and values encoded and read through the layouts the
// helper takes from BTF, and how a case's result is judged. packets.ts runs them.
import { keyBytes } from "./maps.ts";
import type { CaseMapExpect, FileProblem, Hook, PacketCase, Port } from "./file-types.ts";
export type { MapSet, CaseMapExpect, PacketExpectation, PacketCase, PreparedFrame } from "./file-types.ts";

/** The largest frame a lab port carries: the default MTU 1500 plus the 14-byte Ethernet header (no FCS). */
export const PORT_MTU = 1500;
export const MAX_FRAME = PORT_MTU + 14;

export const XDP_VERDICTS = ["XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX", "XDP_REDIRECT"] as const;
/** tc's verdicts by their value; TC_ACT_UNSPEC is -1. */
export const TC_VERDICTS: Record<string, number> = {
  TC_ACT_UNSPEC: -1,
  TC_ACT_OK: 0,
  TC_ACT_RECLASSIFY: 1,
  TC_ACT_SHOT: 2,
  TC_ACT_PIPE: 3,
  TC_ACT_STOLEN: 4,
  TC_ACT_QUEUED: 5,
  TC_ACT_REPEAT: 6,
  TC_ACT_REDIRECT: 7,
  TC_ACT_TRAP: 8,
};

/** The name of a program's return value (the kernel gives it as a u32). */
export function verdictName(hook: Hook, retval: number): string {
  const signed = retval > 0x7fffffff ? retval - 0x100000000 : retval;
  if (hook === "xdp") return XDP_VERDICTS[signed] ?? `${signed} (not an XDP action)`;
  return Object.entries(TC_VERDICTS).find(([, v]) => v === signed)?.[0] ?? `${signed} (not a TC_ACT_* value)`;
}

/** Whether NAME is a verdict of HOOK's kind, and if not what is. */
export function verdictProblem(hook: Hook, name: string): string | undefined {
  const names = hook === "xdp" ? [...XDP_VERDICTS] : Object.keys(TC_VERDICTS);
  if (names.includes(name)) return undefined;
  return `${name} is not a verdict of ${hook === "xdp" ? "an XDP program" : "a tc (sched_cls) program"}: one of ${names.join(", ")}`;
}

/** struct xdp_md for BPF_PROG_TEST_RUN: data 0, data_end the frame's length, the ingress device and rx queue. */
export function xdpContext(length: number, ifindex: number, rxQueue: number): string {
  const b = Buffer.alloc(24);
  b.writeUInt32LE(length, 4);
  b.writeUInt32LE(ifindex, 12);
  b.writeUInt32LE(rxQueue, 16);
  return b.toString("hex");
}

/**
 * struct __sk_buff for BPF_PROG_TEST_RUN on a sched_cls program: the device in ifindex (offset 40),
 * and in ingress_ifindex (36) for the ingress hook; the fields a test run may not set stay zero.
 * 192 bytes, the struct's size since Linux 5.16 (a kernel with a longer one takes a shorter context).
 */
export function skbContext(hook: Hook, ifindex: number): string {
  const b = Buffer.alloc(192);
  if (hook === "tc-ingress") b.writeUInt32LE(ifindex, 36);
  b.writeUInt32LE(ifindex, 40);
  return b.toString("hex");
}

/** A member of a map's key or value, as the helper reads it from BTF ("" for a scalar). */
export interface Member {
  offset: number;
  size: number;
  kind: string;
}
export type Layout = Record<string, Member>;

/** A map as the helper describes it after the load. */
export interface MapInfo {
  name: string;
  type: number;
  key_size: number;
  value_size: number;
  max_entries: number;
  percpu: boolean;
  internal: boolean;
  key: Layout | null;
  value: Layout | null;
}

/** The hex of a key: a number little-endian in the key's size, or the bytes as given. */
export function keyHex(key: number | string, m: MapInfo): string {
  const bytes = keyBytes(key, m.key_size);
  if (bytes.length !== m.key_size) throw new Error(`key ${JSON.stringify(key)} is ${bytes.length} bytes; map ${m.name}'s keys are ${m.key_size}`);
  return Buffer.from(bytes).toString("hex");
}

function writeUnsigned(buf: Buffer, offset: number, size: number, value: bigint, what: string): void {
  if (value < 0n || value >= 1n << BigInt(size * 8)) throw new Error(`${what}: ${value} does not fit in ${size} byte${size > 1 ? "s" : ""}`);
  for (let i = 0; i < size; i++, value >>= 8n) buf[offset + i] = Number(value & 0xffn);
}

/** The hex of one value (one CPU's): a number in a value of at most 8 bytes, or fields by their BTF names. */
export function valueHex(value: number | Record<string, number>, m: MapInfo): string {
  const buf = Buffer.alloc(m.value_size);
  if (typeof value === "number") {
    if (m.value_size > 8) throw new Error(`map ${m.name}'s values are ${m.value_size} bytes: give them by field (${Object.keys(m.value ?? {}).join(", ") || "the map has no BTF"})`);
    writeUnsigned(buf, 0, m.value_size, BigInt(value), `map ${m.name} value`);
    return buf.toString("hex");
  }
  const layout = m.value;
  if (!layout) throw new Error(`map ${m.name} has no BTF, so its value's fields have no names: give the value as a number, or build the object with -g`);
  for (const [field, v] of Object.entries(value)) {
    const member = layout[field];
    if (!member || member.kind !== "int") {
      const names = Object.entries(layout).filter(([, x]) => x.kind === "int").map(([n]) => n);
      throw new Error(`map ${m.name}'s value has no whole-number field ${field} (it has ${names.join(", ")})`);
    }
    writeUnsigned(buf, member.offset, member.size, BigInt(v), `map ${m.name} ${field}`);
  }
  return buf.toString("hex");
}

/** FIELD (or the whole value) of a map value the helper read, summed over CPUs for a per-CPU map. */
export function readField(hex: string | null, m: MapInfo, field: string | undefined): bigint {
  if (hex === null) return 0n;
  const all = Buffer.from(hex, "hex");
  let member: Member;
  if (field !== undefined) {
    const f = m.value?.[field];
    if (!f) throw new Error(`map ${m.name}'s value has no field ${field}${m.value ? ` (it has ${Object.keys(m.value).join(", ")})` : " (the map has no BTF)"}`);
    member = f;
  } else {
    const scalar = m.value?.[""];
    if (m.value && !scalar) throw new Error(`map ${m.name}'s value is a struct: say which field (field: ${Object.keys(m.value).join(" | ")})`);
    if (!scalar && m.value_size > 8) throw new Error(`map ${m.name}'s values are ${m.value_size} bytes without BTF to name their fields`);
    member = scalar ?? { offset: 0, size: m.value_size, kind: "int" };
  }
  const stride = m.percpu ? Math.ceil(m.value_size / 8) * 8 : m.value_size;
  let sum = 0n;
  for (let base = 0; base + m.value_size <= all.length; base += stride) {
    let v = 0n;
    for (let i = member.size - 1; i >= 0; i--) v = (v << 8n) | BigInt(all[base + member.offset + i]!);
    sum += v;
    if (!m.percpu) break;
  }
  return sum;
}

/** What an expectation on a map value wants, in words: "5", "a delta of exactly 1", both. */
export function describeMapWant(e: Pick<CaseMapExpect, "value" | "delta">): string {
  const parts: string[] = [];
  if (e.value !== undefined) parts.push(String(e.value));
  if (e.delta) {
    const d = e.delta;
    const bits = [d.exactly !== undefined ? `exactly ${d.exactly}` : "", d.at_least !== undefined ? `at least ${d.at_least}` : "", d.at_most !== undefined ? `at most ${d.at_most}` : ""].filter(Boolean);
    parts.push(`a change of ${bits.join(" and ")}`);
  }
  return parts.join(" and ");
}

/** Runs and bound of a case's repeat. */
export function repeatOf(r: PacketCase["repeat"]): { runs: number; at_most?: number } | undefined {
  if (r === undefined) return undefined;
  return typeof r === "number" ? { runs: r } : r;
}

/** What a case is called in failure lines: "packets[2] 'ttl is decremented'" (frame 3 of its pcap). */
export function caseLabel(index: number, c: Pick<PacketCase, "name">, frame?: number): string {
  return `packets[${index}]${c.name ? ` "${c.name}"` : ""}${frame !== undefined ? ` frame ${frame}` : ""}`;
}

/** The shortest frame BPF_PROG_TEST_RUN takes: an Ethernet header. */
export const MIN_FRAME = 14;

/** A frame's length against the port's MTU and the kernel's minimum, or undefined when it fits. */
export function frameProblem(hex: string): string | undefined {
  const n = hex.length / 2;
  if (n < MIN_FRAME) return `the frame is ${n} byte${n === 1 ? "" : "s"}, shorter than an Ethernet header (${MIN_FRAME}): BPF_PROG_TEST_RUN refuses it (pad it: a runt's bytes after the header can be anything)`;
  return n > MAX_FRAME ? `the frame is ${n} bytes, longer than a lab port carries (${MAX_FRAME}: MTU ${PORT_MTU} plus the Ethernet header)` : undefined;
}

/** The differing bytes of two frames as "byte 22: wanted 40, got 3f" lines (the first few). */
export function byteDiffs(a: string, b: string, max = 4): string[] {
  const x = Buffer.from(a, "hex");
  const y = Buffer.from(b, "hex");
  const out: string[] = [];
  if (x.length !== y.length) out.push(`length: wanted ${x.length}, got ${y.length}`);
  for (let i = 0; i < Math.min(x.length, y.length) && out.length < max; i++) {
    if (x[i] !== y[i]) out.push(`byte ${i}: wanted ${x[i]!.toString(16).padStart(2, "0")}, got ${y[i]!.toString(16).padStart(2, "0")}`);
  }
  return out;
}

type Locate = (path: (string | number)[]) => { line: number; column: number };

/** What a host test cannot have: the lab's setup and expectations. */
const LAB_ONLY_SETUP = ["app", "impair", "commands"] as const;
const LAB_ONLY_EXPECT = ["dmesg", "ns_per_packet", "app_log"] as const;

/**
 * What the schema cannot check in test I's packet cases: a test that has them has no traffic (cases
 * in the lab's VM are not done yet) and none of the lab's setup; each case has a program on its port
 * and a verdict of that program's kind; a pcap exists (its path made absolute, relative to FILE).
 */
export function checkPackets(t: { packets?: PacketCase[]; traffic?: unknown[]; setup?: Record<string, unknown> & { programs?: { port: Port; hook?: Hook; object: string }[] }; expect?: Record<string, unknown> }, i: number, file: string, locate: Locate, resolvePath: (p: string) => string, exists: (p: string) => boolean): FileProblem[] {
  const problems: FileProblem[] = [];
  const at = (path: (string | number)[], message: string): void => {
    const { line, column } = locate(["tests", i, ...path]);
    problems.push({ file, line, column, field: fieldPath(["tests", i, ...path]), message });
  };
  if (!t.packets) {
    if (t.expect?.verified_insns !== undefined) at(["expect", "verified_insns"], "is for tests with packets: (the programs' verified_insns are read when the cases load them)");
    return problems;
  }
  if ((t.traffic?.length ?? 0) > 0) {
    at(["packets"], "a test with traffic: and packets: would run its cases in the lab's VM, which xdp-lab cannot do yet: put the packet cases in a test of their own (no traffic:), which runs on this machine's kernel");
    return problems;
  }
  for (const k of LAB_ONLY_SETUP) if (t.setup?.[k] !== undefined) at(["setup", k], `a test of packet cases runs on this machine's kernel, without the lab: setup.${k} has nothing to act on (put it in a test with traffic:)`);
  for (const k of LAB_ONLY_EXPECT) if (t.expect?.[k] !== undefined) at(["expect", k], `a test of packet cases runs on this machine's kernel, without the lab: expect.${k} is for tests with traffic:`);
  const programs = t.setup?.programs ?? [];
  if (programs.length === 0) {
    at(["packets"], "packet cases run the test's programs: add setup: { programs: [ { object: ../out/pass.bpf.o, port: lan } ] }");
    return problems;
  }
  t.packets.forEach((c, k) => {
    const port = c.port ?? programs[0]!.port;
    const p = programs.find((x) => x.port === port && (c.hook === undefined || (x.hook ?? "xdp") === c.hook));
    if (!p) {
      at(["packets", k, c.hook ? "hook" : "port"], `no program of setup.programs is on ${port}${c.hook ? ` at ${c.hook}` : ""} (they are: ${programs.map((x) => `${x.port} ${x.hook ?? "xdp"}`).join(", ")})`);
      return;
    }
    const v = c.expect.verdict;
    const bad = v === undefined ? undefined : verdictProblem(p.hook ?? "xdp", v);
    if (bad) at(["packets", k, "expect", "verdict"], bad);
    if (c.pcap !== undefined) {
      c.pcap = resolvePath(c.pcap);
      if (!exists(c.pcap)) at(["packets", k, "pcap"], `no such file: ${c.pcap} (paths are relative to the test file)`);
    }
    if (c.rx_queue !== undefined && p.hook !== undefined && p.hook !== "xdp" && c.rx_queue > 0) {
      // __sk_buff.queue_mapping is not a field a test run may set.
      at(["packets", k, "rx_queue"], "is for XDP programs (xdp_md.rx_queue_index): BPF_PROG_TEST_RUN does not take a queue for tc programs");
    }
  });
  return problems;
}

/** "tests[0].packets[1].expect.verdict" from its path. */
function fieldPath(path: (string | number)[]): string {
  return path.map((p, n) => (typeof p === "number" ? `[${p}]` : n === 0 ? p : `.${p}`)).join("");
}

/** One frame source of a file for the helper, with where it is written. */
export interface FrameSource {
  test: number;
  case: number;
  /** frame, hex, pcap or expect.frame. */
  field: "frame" | "hex" | "pcap" | "expect.frame";
  source: { text: string } | { hex: string } | { pcap: string };
}

/** Every frame a file's packet cases give: each case's input, and its expected frame. */
export function frameSources(tests: { packets?: PacketCase[] }[]): FrameSource[] {
  return tests.flatMap((t, i) =>
    (t.packets ?? []).flatMap((c, k) => {
      const input: FrameSource = c.frame !== undefined ? { test: i, case: k, field: "frame", source: { text: c.frame } } : c.hex !== undefined ? { test: i, case: k, field: "hex", source: { hex: c.hex.replace(/\s+/g, "") } } : { test: i, case: k, field: "pcap", source: { pcap: c.pcap! } };
      return c.expect.frame !== undefined ? [input, { test: i, case: k, field: "expect.frame", source: { text: c.expect.frame } }] : [input];
    }),
  );
}
