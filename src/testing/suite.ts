// A whole `xdp-lab test` run: read and check every file first, then root and the build, then labs of
// its own (one, or --jobs of them, up side by side), the cases spread over them, and the labs taken
// down at the end unless they are to be kept.
import { Lab } from "../lab.ts";
import { requireRoot } from "../../network/state.ts";
import { checkBootable } from "../build-out.ts";
import { KERNEL_CHOICES } from "../build/kernels.ts";
import type { GuestRoot } from "../../network/contract.ts";
import { summarize } from "./report.ts";
import { artefactRoot } from "./artefacts.ts";
import { cases, parseJobs, parseModes, runCases, skippedCase, type Case } from "./pool.ts";
import { CannotRunError } from "./runner.ts";
import { findTestFiles, loadTestFile, TestFileError, type BuildFrames } from "./spec.ts";
import { isPacketTest } from "./packets.ts";
import type { TestFile } from "./file-types.ts";
import type { RunResult, TestResult } from "./result-types.ts";

export interface SuiteOptions {
  /** Test files and folders of them. */
  paths: string[];
  /** A regular expression over test names ("FILE: NAME" matches too). */
  filter?: string;
  /** The build to boot. */
  out: string;
  /** --accel: auto, kvm or tcg. */
  accel?: string;
  /** Where failed tests' artefacts go. */
  results: string;
  keepGoing?: boolean;
  /** Leave the lab up at the end. */
  keepLab?: boolean;
  /** The lab's name, one of the run's own; with --jobs N the labs are NAME-1 .. NAME-N. */
  labName: string;
  /** --jobs: how many labs run cases side by side. Default 1. */
  jobs?: number;
  /** --mode: every test once in each of these attach modes ("native,generic"). */
  modes?: string;
  /** --kernel: the kernel the labs boot ("built", "debian-6.12"), or several ("built,debian-6.12"): every test once on each. */
  kernels?: string;
  /** --guest-root: the labs' guest root file system (initramfs, or host: this machine's root under an overlay). */
  guestRoot?: GuestRoot;
  /** Progress for the user (the lab coming up). */
  log?: (line: string) => void;
  /** As a case starts: in LAB, or on this machine's kernel (packet cases) without one. */
  onStart?: (c: Case, lab?: Lab) => void;
  onResult?: (r: TestResult) => void;
}

/** The kernels a run can boot (src/build/kernels.ts). */
export const KERNELS = KERNEL_CHOICES;

/** --kernel's value: one kernel or a comma list of them, each once. */
export function parseKernels(s: string | undefined): string[] {
  if (s === undefined || s === "") return ["built"];
  const list = s.split(",").map((k) => k.trim());
  for (const k of list) {
    if (!KERNELS.includes(k)) throw new Error(`--kernel ${s}: unknown kernel "${k}". Fix: give ${KERNELS.join(", ")}, or a comma list of them (built,debian-6.12)`);
  }
  if (new Set(list).size !== list.length) throw new Error(`--kernel ${s}: a kernel named twice. Fix: name each once`);
  return list;
}

/** The labs' names: NAME alone, or NAME-1 .. NAME-N (each checked as a lab name). */
export function labNames(name: string, jobs: number): string[] {
  return jobs === 1 ? [name] : Array.from({ length: jobs }, (_, i) => `${name}-${i + 1}`);
}

/** The run's frame builder: scapy in the packet helper, installed on first use (python3-scapy). */
async function buildFrames(sources: Parameters<BuildFrames>[0]): ReturnType<BuildFrames> {
  const [{ ensure }, { PACKET_TOOLS, packetHelper }] = await Promise.all([import("../tools/ensure.ts"), import("./packet-helper.ts")]);
  try {
    await ensure(PACKET_TOOLS, { install: true, purpose: "packet cases (frames are built and decoded with scapy)" });
  } catch (e) {
    throw new CannotRunError((e as Error).message, { cause: e });
  }
  try {
    return await packetHelper().call("build", { frames: sources });
  } catch (e) {
    throw new CannotRunError(`Failed to build the packet cases' frames: ${(e as Error).message}`, { cause: e });
  }
}

/** Every file read and checked; all their problems in one error. */
export async function loadAll(paths: string[], build: BuildFrames = buildFrames): Promise<TestFile[]> {
  const files = await findTestFiles(paths).catch((e: Error) => {
    throw new CannotRunError(e.message, { cause: e });
  });
  const loaded: TestFile[] = [];
  const problems: string[] = [];
  for (const f of files) {
    try {
      loaded.push(await loadTestFile(f, build));
    } catch (e) {
      if (!(e instanceof TestFileError)) throw e;
      problems.push(e.message);
    }
  }
  if (problems.length) throw new CannotRunError(`${problems.join("\n")}\nFix the test file${problems.length > 1 ? "s" : ""} (the schema: schema/xdp-lab-test.schema.json; the fields: docs/test-file.md)`);
  return loaded;
}

/** Runs a whole suite. Throws CannotRunError when nothing could run. */
export async function runSuite(o: SuiteOptions): Promise<RunResult & { files: string[] }> {
  try {
    return await runLoaded(o, await loadAll(o.paths));
  } finally {
    const { closePacketHelper } = await import("./packet-helper.ts");
    await closePacketHelper();
  }
}

/** Packet-case tests on this machine's kernel, one after the other, in a namespace of the run's own. */
async function runHostCases(o: SuiteOptions, todo: Case[], root: string, failedBefore: boolean): Promise<TestResult[]> {
  const [{ packetHelper }, { PacketNamespace, runPacketTest }] = await Promise.all([import("./packet-helper.ts"), import("./packets.ts")]);
  const helper = packetHelper();
  let ns;
  try {
    ns = await PacketNamespace.create(helper);
  } catch (e) {
    throw new CannotRunError(`Failed to make the packet cases' network namespace: ${(e as Error).message}`, { cause: e });
  }
  const out: TestResult[] = [];
  let failed = failedBefore;
  try {
    for (const c of todo) {
      let r: TestResult;
      if (failed && !o.keepGoing) r = skippedCase(c);
      else {
        o.onStart?.(c);
        const startedAt = new Date().toISOString();
        r = { ...(await runPacketTest(helper, ns, c.file, c.index, c.test, c.file.frames?.[c.index] ?? [], { results: o.results, root, kernel: "host" })), name: c.name, startedAt };
        if (r.verdict === "fail") failed = true;
      }
      out.push(r);
      o.onResult?.(r);
    }
  } finally {
    await ns.remove();
  }
  return out;
}

async function runLoaded(o: SuiteOptions, files: TestFile[]): Promise<RunResult & { files: string[] }> {
  let filter: RegExp | undefined;
  let modes;
  let jobs;
  let kernels: string[];
  try {
    filter = o.filter ? new RegExp(o.filter) : undefined;
  } catch (e) {
    throw new CannotRunError(`--filter ${o.filter}: not a regular expression: ${(e as Error).message}`, { cause: e });
  }
  try {
    modes = parseModes(o.modes);
    jobs = parseJobs(o.jobs ?? 1);
    kernels = parseKernels(o.kernels);
  } catch (e) {
    throw new CannotRunError((e as Error).message, { cause: e });
  }
  const all = cases(files, filter, modes);
  // Packet cases run once on this machine's kernel whatever --mode and --kernel say (no attach, no
  // VM); under --guest-root host the guest has what they need, and they run in each kernel's VM.
  const inVm = o.guestRoot === "host";
  const hostCases = inVm ? [] : cases(files, filter).filter((c) => isPacketTest(c.test)).map((c) => ({ ...c, kernel: "host" }));
  const todo = inVm ? all : all.filter((c) => !isPacketTest(c.test));
  if (todo.length === 0 && hostCases.length === 0) throw new CannotRunError(`no test matches --filter ${o.filter} (the tests: ${files.flatMap((f) => f.tests.map((t) => t.name)).join(", ")})`);
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const root = artefactRoot(files.map((f) => f.path));
  const tests: TestResult[] = [];
  if (hostCases.length) {
    try {
      requireRoot("xdp-lab test (packet cases load programs into this machine's kernel)");
    } catch (e) {
      throw new CannotRunError((e as Error).message, { cause: e });
    }
    tests.push(...(await runHostCases(o, hostCases, root, false)));
  }
  // Packet cases alone: no lab came up. (Beside lab tests, each case's result says kernel: host.)
  if (todo.length === 0) return { lab: "", labs: [], kernels: ["host"], startedAt, seconds: (performance.now() - t0) / 1000, tests, summary: summarize(tests), files: files.map((f) => f.path) };
  try {
    requireRoot("xdp-lab test");
    for (const k of kernels) checkBootable(o.out, k);
    // tcpdump, iperf3, tcpreplay and curl on this machine run the namespace hosts' traffic and the captures.
    const [{ ensure }, { TEST_TOOLS }] = await Promise.all([import("../tools/ensure.ts"), import("../build/packages.ts")]);
    await ensure(TEST_TOOLS, { install: true, purpose: "xdp-lab test", log: o.log });
  } catch (e) {
    throw new CannotRunError((e as Error).message, { cause: e });
  }
  const used: string[] = [];
  // One kernel after the other, each in labs of its own (the same names: the last kernel's stay
  // with --keep-lab); under several, each case is named "NAME [KERNEL]".
  for (const kernel of kernels) {
    const these = kernels.length > 1 ? todo.map((c) => ({ ...c, kernel, name: `${c.name} [${kernel}]` })) : todo.map((c) => ({ ...c, kernel }));
    if (!o.keepGoing && tests.some((t) => t.verdict === "fail")) {
      for (const r of these.map(skippedCase)) {
        tests.push(r);
        o.onResult?.(r);
      }
      continue;
    }
    // More labs than cases would only idle.
    const labs = labNames(o.labName, Math.min(jobs, these.length)).map((n) => new Lab(n));
    const ups = await Promise.allSettled(
      labs.map((lab) => lab.up({ out: o.out, accel: o.accel, kernel, vm: o.guestRoot ? { guestRoot: o.guestRoot } : undefined, log: labs.length > 1 || kernels.length > 1 ? (l) => o.log?.(`[${lab.name}${kernels.length > 1 ? ` ${kernel}` : ""}] ${l}`) : o.log })),
    );
    const failed = ups.findIndex((u) => u.status === "rejected");
    if (failed >= 0) {
      await Promise.all(labs.map((lab) => lab.down().catch(() => undefined)));
      const e = (ups[failed] as PromiseRejectedResult).reason as Error;
      throw new CannotRunError(`the lab${labs.length > 1 ? ` ${labs[failed]!.name}` : ""}${kernel === "built" ? "" : ` (kernel ${kernel})`} would not come up: ${e.message}`, { cause: e });
    }
    for (const l of labs) if (!used.includes(l.name)) used.push(l.name);
    const last = kernel === kernels[kernels.length - 1];
    try {
      tests.push(...(await runCases({ labs, cases: these, keepGoing: o.keepGoing, results: o.results, root, onStart: o.onStart, onResult: o.onResult })));
    } finally {
      if (o.keepLab && last) labs.forEach((lab) => lab.close());
      else await Promise.all(labs.map((lab) => lab.down()));
    }
  }
  return { lab: used[0]!, labs: used, kernels, startedAt, seconds: (performance.now() - t0) / 1000, tests, summary: summarize(tests), files: files.map((f) => f.path) };
}
