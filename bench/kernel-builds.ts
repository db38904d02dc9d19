// Cold kernel builds of 6.1 and 6.12 in the same run, as JSON: `make -C kernel` (what the kernel
// stage runs) for each version from Debian's linux-source tarball, into a fresh work tree and a
// fresh ccache each, one after the other, so the ratio holds on any machine.
//   npm run bench:kernel-builds        # about 20 minutes on 2 cores
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { BUILT_KERNELS, ensureKernelSource } from "../src/build/kernels.ts";
import { REPO } from "../src/paths.ts";

const VERSIONS = (process.env.VERSIONS ?? "6.1,6.12").split(",");
const results: Record<string, unknown> = {};
for (const v of VERSIONS) {
  await ensureKernelSource(v, { install: true });
  const scratch = await mkdtemp(join(tmpdir(), `xdp-lab-bench-kernel-${v}-`));
  const started = performance.now();
  const r = await execa("make", ["-C", join(REPO, "kernel"), `KSRC=${BUILT_KERNELS[v]!.tarball}`, `WORK=${scratch}/work`, `OUT=${scratch}/out`], {
    env: { CCACHE_DIR: `${scratch}/ccache`, SOURCE_DATE_EPOCH: "0" },
    all: true,
    reject: false,
  });
  const seconds = (performance.now() - started) / 1000;
  if (r.exitCode !== 0) throw new Error(`kernel ${v} failed:\n${r.all?.split("\n").slice(-20).join("\n")}`);
  const compiled = (r.all ?? "").split("\n").filter((l) => /^\s+(CC|AS)\s/.test(l)).length;
  const config = await readFile(join(scratch, "out", "kernel.config"), "utf8");
  results[v] = {
    seconds: Number(seconds.toFixed(1)),
    compiledFiles: compiled,
    release: /^# Linux\/\S+ (\S+) Kernel Configuration$/m.exec(config)?.[1],
    loadAfter: Number(loadavg()[0]!.toFixed(2)),
  };
  await rm(scratch, { recursive: true, force: true });
}
const s = (v: string) => (results[v] as { seconds: number } | undefined)?.seconds;
console.log(
  JSON.stringify(
    {
      machine: `${(await execa("uname", ["-r"])).stdout}, ${cpus().length} CPUs`,
      method: "make -C kernel KSRC=/usr/src/linux-source-VERSION.tar.xz, fresh WORK and CCACHE_DIR per version, one after the other (source extraction, config, bzImage and modules, vmlinux.h)",
      builds: results,
      ...(s("6.1") && s("6.12") ? { ratio612to61: Number((s("6.12")! / s("6.1")!).toFixed(2)) } : {}),
    },
    null,
    2,
  ),
);
