// Build and boot figures, printed as JSON: cold kernel build, no-op build, one-option change, boot
// to ready, artifact sizes, and whether two clean builds in two checkout paths are bit-identical.
//
//   npm run bench:build                 # everything (two cold kernel builds: about half an hour on 2 cores)
//   npm run bench:build -- --no-repro   # skip the second cold build
//
// Each figure is measured on fresh clones of HEAD with their own empty cache dirs, so nothing from
// earlier builds on this machine (cache, ccache, object trees) helps.
import { execa } from "execa";
import { mkdtemp, rm, stat, writeFile, readFile } from "node:fs/promises";
import { tmpdir, cpus } from "node:os";
import { join } from "node:path";
import { cleanClone, median } from "./run.ts";
import { parseReadyLine } from "../src/commands/boot.ts";
import { report } from "./results.ts";

const repro = !process.argv.includes("--no-repro");
const boots = 5;

async function timed(checkout: string, args: string[]): Promise<{ seconds: number; stdout: string; stderr: string }> {
  const started = performance.now();
  const r = await execa(join(checkout, "xdp-lab"), args, { cwd: checkout, reject: false, stdin: "ignore" });
  const seconds = (performance.now() - started) / 1000;
  if (r.exitCode !== 0) throw new Error(`xdp-lab ${args.join(" ")} failed (exit ${r.exitCode}):\n${r.stderr.slice(-3000)}`);
  return { seconds, stdout: r.stdout, stderr: r.stderr };
}

function stageSeconds(stdout: string, stage: string): number | undefined {
  for (const line of stdout.split("\n")) {
    if (!line.startsWith("{")) continue;
    const e = JSON.parse(line) as { event: string; stage?: string; status?: string; seconds?: number };
    if (e.event === "stage" && e.stage === stage && e.status === "done") return e.seconds;
  }
  return undefined;
}

function compiled(stdout: string): number | undefined {
  let units: number | undefined;
  for (const line of stdout.split("\n")) {
    if (line.startsWith('{"event":"progress"')) units = (JSON.parse(line) as { units: number }).units;
  }
  return units;
}

const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;

const root = await mkdtemp(join(tmpdir(), "xdp-lab-bench-"));
try {
  const first = await cleanClone(join(root, "a"));
  const a = first.dir;
  const cacheA = join(root, "cache-a");
  const build = (checkout: string, cache: string, extra: string[] = []) =>
    timed(checkout, ["build", "--json", "--cache-dir", cache, ...extra]);

  const cold = await build(a, cacheA);
  const noop: number[] = [];
  for (let i = 0; i < 3; i++) noop.push((await build(a, cacheA)).seconds);

  const frag = join(root, "one-option.config");
  await writeFile(frag, "CONFIG_VETH=y\n");
  const one = await build(a, cacheA, ["--kconfig", frag]);
  await build(a, cacheA); // back to the lab config: a cache hit

  const ready: number[] = [];
  const uptime: number[] = [];
  for (let i = 0; i < boots; i++) {
    const r = await timed(a, ["boot", "--", "true"]);
    const m = parseReadyLine(r.stderr);
    if (!m) throw new Error(`no ready line in boot output:\n${r.stderr}`);
    ready.push(m.seconds);
    uptime.push(m.uptime);
  }
  const accel = /under (TCG|KVM)/.exec((await timed(a, ["boot", "--", "true"])).stderr)?.[1];

  let reproducible: Record<string, unknown> = { skipped: true };
  if (repro) {
    // A longer, different path and its own cache: nothing but the inputs may be shared.
    const b = (await cleanClone(join(root, "second", "checkout-with-a-longer-path"))).dir;
    const second = await build(b, join(root, "cache-b"), ["--verify", join(a, "out", "manifest.json")]);
    const verify = second.stdout
      .split("\n")
      .filter((l) => l.startsWith('{"event":"verify"'))
      .map((l) => JSON.parse(l) as { differences: { artifact: string; status: string }[] })[0];
    reproducible = {
      checkouts: [a, b],
      identical: verify?.differences.every((d) => d.status === "same") ?? false,
      artifacts: verify?.differences,
      secondColdBuildSeconds: round(second.seconds, 1),
    };
  }

  const size = async (f: string): Promise<number> => (await stat(join(a, "out", f))).size;
  const manifest = JSON.parse(await readFile(join(a, "out", "manifest.json"), "utf8")) as { stages: Record<string, { key: string }> };
  report("build", {
    machine: { cpus: cpus().length, model: cpus()[0]?.model, accel },
    commit: first.commit,
    uncommittedChangesNotMeasured: first.uncommittedChangesNotMeasured,
    coldBuild: {
      wallSeconds: round(cold.seconds, 1),
      kernelStageSeconds: round(stageSeconds(cold.stdout, "kernel") ?? NaN, 1),
      rootfsStageSeconds: round(stageSeconds(cold.stdout, "rootfs") ?? NaN, 1),
      kernelFilesCompiled: compiled(cold.stdout),
      targetSeconds: 360,
    },
    noopBuild: { wallSeconds: noop.map((x) => round(x)), medianSeconds: round(median(noop)), targetSeconds: 2 },
    oneOptionChange: {
      option: "CONFIG_VETH=y (extra fragment merged after kernel/lab.config)",
      wallSeconds: round(one.seconds, 1),
      kernelFilesCompiled: compiled(one.stdout),
      targetSeconds: 90,
    },
    bootToReady: {
      runs: boots,
      wallSeconds: ready.map((x) => round(x)),
      medianSeconds: round(median(ready)),
      guestUptimeMedianSeconds: round(median(uptime)),
      targetSeconds: 2.5,
    },
    sizes: {
      bzImageBytes: await size("bzImage"),
      initramfsBytes: await size("initramfs.img"),
      targetBytes: { bzImage: 3_000_000, initramfs: 8_000_000 },
    },
    reproducible,
    kernelKey: manifest.stages.kernel?.key,
  });
} finally {
  await rm(root, { recursive: true, force: true });
}
