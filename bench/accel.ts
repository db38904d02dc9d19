// The KVM probe's cost and boot to ready under each accelerator this machine can run, as JSON:
//   npm run bench:accel
// The probe is measured with a fresh verdict store (first run) and again with the verdict it left
// (remembered). Boot to ready is `xdp-lab boot -- true`'s "guest ready N s after qemu start", the
// median of RUNS, under TCG and, when the probe found KVM usable, under KVM too.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { chooseAccel, type AccelDecision } from "../network/vm/accel.ts";
import { DEFAULT_OUT, REPO } from "../src/paths.ts";
import { median } from "./run.ts";
import { parseReadyLine } from "../src/commands/boot.ts";
import { report } from "./results.ts";

const RUNS = 5;

const built = await execa(`${REPO}/xdp-lab`, ["build", "--quiet"], { reject: false });
if (built.exitCode !== 0) throw new Error(`build failed:\n${built.stderr}`);

const store = await mkdtemp(join(tmpdir(), "xdp-lab-bench-accel-"));
const probe = async (): Promise<{ wallSeconds: number; decision: AccelDecision }> => {
  const started = performance.now();
  const decision = await chooseAccel("auto", {
    kernel: join(DEFAULT_OUT, "bzImage"),
    initrd: join(DEFAULT_OUT, "initramfs.img"),
    cacheDir: store,
    log: join(store, "probe.log"),
  });
  return { wallSeconds: (performance.now() - started) / 1000, decision };
};
const first = await probe();
const remembered = await probe();
await rm(store, { recursive: true, force: true });

async function bootToReady(accel: "tcg" | "kvm"): Promise<{ runs: number[]; median: number }> {
  const runs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const r = await execa(`${REPO}/xdp-lab`, ["boot", "--accel", accel, "--", "true"], { reject: false });
    const ready = parseReadyLine(r.stderr);
    if (r.exitCode !== 0 || !ready) throw new Error(`boot under ${accel} failed:\n${r.stderr}`);
    runs.push(ready.seconds);
  }
  return { runs, median: median(runs) };
}
const tcg = await bootToReady("tcg");
const kvm = first.decision.accel === "kvm" ? await bootToReady("kvm") : undefined;

report("accel", {
  machine: `${(await execa("uname", ["-r"])).stdout}, ${(await execa("qemu-system-x86_64", ["--version"])).stdout.split("\n")[0]}`,
  probe: {
    verdict: first.decision.why,
    firstRunSeconds: Number(first.wallSeconds.toFixed(3)),
    testBootSeconds: first.decision.probe?.verdict.seconds,
    rememberedSeconds: Number(remembered.wallSeconds.toFixed(3)),
    remembered: remembered.decision.probe?.remembered,
  },
  bootToReadySeconds: { tcg, kvm: kvm ?? "KVM not usable on this machine" },
  ...(kvm ? { kvmSpeedup: Number((tcg.median / kvm.median).toFixed(2)) } : {}),
});
