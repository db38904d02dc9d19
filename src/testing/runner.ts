// One test in a lab: the lab reset (programs detached, so their maps and counters are new), then the
// test's setup, traffic and expectations. Which lab runs which test, and the artefacts of a failed
// one, are pool.ts's.
import type { Lab } from "../lab.ts";
import type { HostName } from "../../network/plan.ts";
import { listPrograms } from "../../network/programs.ts";
import { withVm } from "../../network/session.ts";
import { deltaOk, describeDelta, mapLabel, readValue, type DumpEntry } from "./maps.ts";
import { runStep, stepFailures } from "./traffic.ts";
import { TestCapture } from "./capture.ts";
import { applySetup } from "./setup.ts";
import { vmAfter, vmBefore } from "./expect-vm.ts";
import { isPacketTest, runVmPacketTest } from "./packets.ts";
import type { MapExpect, TestCase, TestFile } from "./file-types.ts";
import type { Failure, MapResult, TestResult } from "./result-types.ts";

/** A run that could not start or go on at all (bad file, no build, not root, the lab would not come up): exit 2. */
export class CannotRunError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CannotRunError";
  }
}

/** Lines of dmesg that are kernel splats. */
export const SPLAT = /WARNING:|BUG:|Call Trace/;

/** The map ids the expectations read: by name, or the one of the program on PORT. */
async function mapIds(lab: Lab, wants: MapExpect[]): Promise<(number | Error)[]> {
  if (wants.length === 0) return [];
  const shown = JSON.parse(await lab.vmText("bpftool -j map show", "list the maps")) as { id: number; name?: string }[];
  const programs = wants.some((w) => w.port) ? await withVm(lab.name, listPrograms) : [];
  return wants.map((w) => {
    if (w.port) {
      const prog = programs.find((p) => p.iface === `${w.port}0` && p.hook === "xdp");
      if (!prog) return new Error(`no XDP program on ${w.port}0`);
      const m = prog.maps.find((x) => x.name === w.map);
      return m ? m.id : new Error(`the program on ${w.port}0 (${prog.name}) has no map ${w.map} (it has ${prog.maps.map((x) => x.name).join(", ") || "none"})`);
    }
    const named = shown.filter((m) => m.name === w.map);
    if (named.length === 1) return named[0]!.id;
    if (named.length === 0) return new Error(`no map named ${w.map} in the VM (there: ${[...new Set(shown.map((m) => m.name).filter(Boolean))].join(", ") || "none"})`);
    return new Error(`${named.length} maps are named ${w.map} (ids ${named.map((m) => m.id).join(", ")}): say which with port: lan or port: wan`);
  });
}

/** Every map in IDS dumped with one command: id -> its entries. */
async function dumpMaps(lab: Lab, ids: number[]): Promise<Map<number, DumpEntry[]>> {
  const unique = [...new Set(ids)];
  const out = new Map<number, DumpEntry[]>();
  if (unique.length === 0) return out;
  const text = await lab.vmText(unique.map((id) => `echo @@map ${id}; bpftool -j map dump id ${id}`).join("; "), "dump the maps");
  for (const part of text.split("@@map ").slice(1)) {
    const nl = part.indexOf("\n");
    out.set(Number(part.slice(0, nl)), JSON.parse(part.slice(nl + 1)) as DumpEntry[]);
  }
  return out;
}

/** The VM's dmesg, as lines. */
async function dmesg(lab: Lab): Promise<string[]> {
  return (await lab.vmText("dmesg", "read dmesg")).split("\n").filter((l) => l !== "");
}

/** One test: reset, setup, values before, traffic, values after, dmesg; every failed expectation recorded. */
export async function runTest(lab: Lab, file: TestFile, test: TestCase, opts: { pcaps?: string } = {}): Promise<TestResult> {
  // Packet cases only (--guest-root host): BPF_PROG_TEST_RUN on the VM's kernel, nothing attached.
  if (isPacketTest(test)) {
    const t0 = performance.now();
    const vm = await lab.host("vm");
    try {
      return await runVmPacketTest((argv, o) => vm.exec(argv, o), `the VM of lab ${lab.name}`, file, test);
    } catch (e) {
      return { file: file.path, name: test.name, verdict: "fail", seconds: (performance.now() - t0) / 1000, failures: [], steps: [], maps: [], error: (e as Error).message };
    }
  }
  const t0 = performance.now();
  const r: TestResult = { file: file.path, name: test.name, verdict: "pass", seconds: 0, failures: [], steps: [], maps: [] };
  const fail = (f: Failure): void => void r.failures.push(f);
  let capture: TestCapture | undefined;
  try {
    // Throws when the lab cannot be made clean (a program that stays attached).
    await lab.reset();
    const dmesgBefore = (await dmesg(lab)).length;
    // Both ports for the whole test (setup included), for a failure's artefacts.
    if (opts.pcaps) capture = await TestCapture.start(lab.plan.ns.lab, opts.pcaps);

    // Programs (xdp and tc), the app, the links: setup.ts.
    await applySetup(lab, test, fail);
    for (const c of test.setup?.commands ?? []) {
      const x = await (await lab.host(c.host)).exec([c.run]);
      if (x.code !== 0) throw new Error(`setup command on ${c.host} failed (exit ${x.code}): ${c.run}: ${(x.stderr || x.stdout).trim().split("\n").slice(-3).join(" | ")}`);
    }

    const wants = test.expect?.maps ?? [];
    const ids = await mapIds(lab, wants);
    const before = await dumpMaps(lab, ids.filter((i): i is number => typeof i === "number"));
    const vmReadings = await vmBefore(lab, test);

    for (const step of test.traffic) {
      const s = await runStep(step, (h: HostName) => lab.host(h), lab.plan.ns.lab);
      r.steps.push(s);
      for (const f of stepFailures(s)) fail(f);
    }

    const after = await dumpMaps(lab, ids.filter((i): i is number => typeof i === "number"));
    Object.assign(r, await vmAfter(lab, test, vmReadings, fail));
    wants.forEach((w, i) => {
      const id = ids[i]!;
      const wanted = describeDelta(w.delta);
      const m: MapResult = { map: w.map, key: w.key, field: w.field, port: w.port, wanted, ok: false };
      r.maps.push(m);
      if (id instanceof Error) return fail({ what: mapLabel(w), wanted, got: id.message });
      m.id = id;
      try {
        const b = readValue(before.get(id) ?? [], w);
        const a = readValue(after.get(id) ?? [], w);
        Object.assign(m, { before: String(b), after: String(a), delta: String(a - b), ok: deltaOk(a - b, w.delta) });
        if (!m.ok) fail({ what: mapLabel(w), wanted, got: String(a - b) });
      } catch (e) {
        fail({ what: mapLabel(w), wanted, got: (e as Error).message });
      }
    });

    const fresh = (await dmesg(lab)).slice(dmesgBefore);
    r.dmesg = { lines: fresh.length, splats: fresh.filter((l) => SPLAT.test(l)) };
    if (test.expect?.dmesg === "clean" && r.dmesg.splats.length) {
      fail({ what: "dmesg", wanted: "clean (no WARNING:, BUG: or Call Trace)", got: `${r.dmesg.splats.length} line(s), first: ${r.dmesg.splats[0]!.trim()}` });
    }
  } catch (e) {
    r.error = (e as Error).message;
  }
  if (capture) r.captured = { ...(await capture.stop()), startSeconds: capture.startedIn };
  r.seconds = (performance.now() - t0) / 1000;
  if (r.error || r.failures.length) r.verdict = "fail";
  return r;
}
