// Cold kernel builds of 6.1 and 6.12 in the same run, as JSON: `make -C kernel` (what the kernel
// stage runs) for each version from Debian's linux-source tarball, into a fresh work tree and a
// fresh ccache each, one after the other, so the ratio holds on any machine.
//   npm run bench:kernel-builds        # about 20 minutes on 2 cores
// AGAINST=FRAGMENT builds each version a second time, right after the first, with FRAGMENT merged
// last (EXTRA_CONFIG), and puts the two side by side: what a set of options costs, in one run.
//   VERSIONS=6.1 AGAINST=bench/without-tool-options.config npm run bench:kernel-builds
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { execa } from "execa";
import { BUILT_KERNELS, ensureKernelSource } from "../src/build/kernels.ts";
import { REPO } from "../src/paths.ts";
import { report } from "./results.ts";

const VERSIONS = (process.env.VERSIONS ?? "6.1,6.12").split(",");
const AGAINST = process.env.AGAINST ? resolve(process.env.AGAINST) : undefined;
if (AGAINST && !existsSync(AGAINST)) {
  throw new Error(`AGAINST=${process.env.AGAINST}: no such Kconfig fragment. Fix: name a file of CONFIG_ lines, e.g. AGAINST=bench/without-tool-options.config`);
}
interface Build {
  seconds: number;
  compiledFiles: number;
  bzImageBytes: number;
  release?: string;
  loadAfter: number;
}
const results: Record<string, Build> = {};
/** The results' name of V's build with AGAINST. */
const withAgainst = (v: string): string => `${v} with ${AGAINST}`;
for (const v of VERSIONS) {
  await ensureKernelSource(v, { install: true });
  results[v] = await coldBuild(v);
  if (AGAINST) results[withAgainst(v)] = await coldBuild(v, AGAINST);
}

async function coldBuild(v: string, fragment?: string): Promise<Build> {
  const scratch = await mkdtemp(join(tmpdir(), `xdp-lab-bench-kernel-${v}-`));
  const started = performance.now();
  const extra = fragment ? [`EXTRA_CONFIG=${fragment}`] : [];
  const r = await execa("make", ["-C", join(REPO, "kernel"), `KSRC=${BUILT_KERNELS[v]!.tarball}`, `WORK=${scratch}/work`, `OUT=${scratch}/out`, ...extra], {
    env: { CCACHE_DIR: `${scratch}/ccache`, SOURCE_DATE_EPOCH: "0" },
    all: true,
    reject: false,
  });
  const seconds = (performance.now() - started) / 1000;
  if (r.exitCode !== 0) throw new Error(`kernel ${v} failed:\n${r.all?.split("\n").slice(-20).join("\n")}`);
  const compiled = (r.all ?? "").split("\n").filter((l) => /^\s+(CC|AS)\s/.test(l)).length;
  const config = await readFile(join(scratch, "out", "kernel.config"), "utf8");
  const build = {
    seconds: Number(seconds.toFixed(1)),
    compiledFiles: compiled,
    bzImageBytes: (await stat(join(scratch, "out", "bzImage"))).size,
    release: /^# Linux\/\S+ (\S+) Kernel Configuration$/m.exec(config)?.[1],
    loadAfter: Number(loadavg()[0]!.toFixed(2)),
  };
  await rm(scratch, { recursive: true, force: true });
  return build;
}
const s = (v: string) => results[v]?.seconds;
// With AGAINST: each version's build against the other, as ratios (above 1: the options cost that much).
const against = AGAINST
  ? Object.fromEntries(
      VERSIONS.map((v) => {
        const a = results[v]!;
        const b = results[withAgainst(v)]!;
        return [v, { secondsRatio: Number((a.seconds / b.seconds).toFixed(3)), bzImageRatio: Number((a.bzImageBytes / b.bzImageBytes).toFixed(3)), bzImageBytesAdded: a.bzImageBytes - b.bzImageBytes }];
      }),
    )
  : undefined;
report("kernel-builds", {
  machine: `${(await execa("uname", ["-r"])).stdout}, ${cpus().length} CPUs`,
  method: "make -C kernel KSRC=/usr/src/linux-source-VERSION.tar.xz, fresh WORK and CCACHE_DIR per version, one after the other (source extraction, config, bzImage and modules, vmlinux.h)",
  builds: results,
  ...(s("6.1") && s("6.12") ? { ratio612to61: Number((s("6.12")! / s("6.1")!).toFixed(2)) } : {}),
  ...(against ? { against: { fragment: AGAINST, byVersion: against } } : {}),
});
