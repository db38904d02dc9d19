// The executor with --container on a stand-in engine: every stage goes through `run` with the
// adapter's mounts, outputs come back into the cache and out/, the key names the lock.
import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { build, planKeys } from "../../src/build/executor.ts";
import { lockHash, readLock } from "../../src/build/lock.ts";
import { imageTag } from "../../src/build/image.ts";
import { BUILT_KERNELS } from "../../src/build/kernels.ts";
import { DEFAULT_PARAMS, STAGES, type Stage } from "../../src/build/stages.ts";
import { REPO } from "../../src/paths.ts";
import { cleanup, failure, tempDir } from "../helpers.ts";

const t = suite("container executor");
t.after(cleanup);

/** A podman that logs its argv (one line each) and, for `run`, writes every artifact into the /out mount. */
async function fakeEngine(dir: string): Promise<{ file: string; calls: () => Promise<string[][]> }> {
  const log = join(dir, "calls");
  const file = join(dir, "podman");
  const artifacts = STAGES.flatMap((s) => s.artifacts).join(" ");
  await writeFile(
    file,
    `#!/bin/sh
printf '%s\\037' "$@" >> ${log}; echo >> ${log}
case "$1 $2" in "image inspect") echo fake-image-id; exit 0;; esac
prev=
for a in "$@"; do
  if [ "$prev" = -o ] && [ "$1" = save ]; then echo image > "$a"; fi
  if [ "$prev" = -v ]; then case "$a" in *:/out) o=\${a%:/out}; for f in ${artifacts}; do echo "$f" > "$o/$f"; done;; esac; fi
  prev=$a
done
exit 0
`,
  );
  await chmod(file, 0o755);
  const calls = async () =>
    (await readFile(log, "utf8").catch(() => ""))
      .split("\n")
      .filter(Boolean)
      .map((l) => l.split("\x1f").slice(0, -1));
  return { file, calls };
}

// The real stage table, minus what would need the host (the real commands never run here).
const table: Stage[] = STAGES.map((s) => ({ ...s, requires: [], validate: undefined }));

t("every stage runs in the engine with the locked image; outputs are cached and published; a second build runs nothing", async () => {
  const dir = await tempDir();
  const engine = await fakeEngine(dir);
  const o = { repo: REPO, out: join(dir, "out"), cacheDir: join(dir, "cache"), params: DEFAULT_PARAMS, table, install: false };
  const first = await build({ ...o, container: { engine: { file: engine.file as "podman", global: [] }, volumePrefix: "t-" } });
  const runs = (await engine.calls()).filter((c) => c[0] === "run");
  assert.is(runs.length, STAGES.length);
  const image = imageTag(readLock());
  for (const r of runs) assert.ok(r.includes(image), "the lock's image");
  const kmod = runs.find((r) => r.includes("kmod"))!;
  const kernelEntry = first.stages.find((s) => s.stage === "kernel")!.dir;
  assert.ok(kmod.includes(`${kernelEntry}:/in/kernel:ro`), "upstream output mounted read-only");
  assert.ok(runs[0]!.includes("t-xdp-lab-kernel-work:/work"), "kernel work tree in a named volume");
  assert.is((await readFile(join(o.out, "bzImage"), "utf8")).trim(), "bzImage");
  // The image's id stands for the toolchain, and the lock it was made from beside it.
  assert.is(first.manifest.stages.kernel!.identity.image, "fake-image-id");
  assert.is(first.manifest.stages.kernel!.identity.lock, lockHash(readLock()));
  assert.not.ok("tool:gcc" in first.manifest.stages.kernel!.identity, "the host's toolchain is not the container's");
  // `cache key STAGE --container` prints the keys this build used, without building.
  const keys = await planKeys({ repo: REPO, cacheDir: o.cacheDir, params: DEFAULT_PARAMS, stages: ["rootfs"], container: true, table, engine: { file: engine.file as "podman", global: [] } });
  assert.equal(keys, Object.fromEntries(first.stages.map((s) => [s.stage, s.key])));
  const second = await build({ ...o, container: { engine: { file: engine.file as "podman", global: [] }, volumePrefix: "t-" } });
  assert.ok(second.stages.every((s) => s.cached));
  assert.is((await engine.calls()).filter((c) => c[0] === "run").length, STAGES.length, "no second run");
  // The host build of the same checkout has other keys: its toolchain is the host's. Its kernel
  // source is a stand-in tarball, so the test needs no linux-source package on the host.
  const hostSrc = join(dir, "linux-source-6.1.tar.xz");
  await writeFile(hostSrc, "not a kernel\n");
  assert.is.not(first.stages[0]!.key, (await build({ ...o, params: { ...DEFAULT_PARAMS, kernelSrc: hostSrc }, stages: ["bpf"], table: table.map((s) => ({ ...s, command: (p) => ({ file: "sh", args: ["-c", `touch ${s.artifacts.map((a) => `${p.out}/${a}`).join(" ")}`], env: {} }) })) })).stages[0]!.key);
});

t("--kernel 6.12 in containers: the image's 6.12 source, its own work volume and keys; the 6.1 entries stay", async () => {
  const dir = await tempDir();
  const engine = await fakeEngine(dir);
  const container = { engine: { file: engine.file as "podman", global: [] as string[] }, volumePrefix: "t-" };
  const o = { repo: REPO, cacheDir: join(dir, "cache"), table, install: false, container };
  const v61 = await build({ ...o, out: join(dir, "out"), params: DEFAULT_PARAMS, stages: ["kmod"] });
  const params = { kernelSrc: BUILT_KERNELS["6.12"]!.tarball, kconfig: [] };
  const v612 = await build({ ...o, out: join(dir, "out", "kernels", "6.12"), params, variant: "6.12", stages: ["kmod"] });
  const runs = (await engine.calls()).filter((c) => c[0] === "run");
  const kernelRuns = runs.filter((r) => r.includes("KSRC=/usr/src/linux-source-6.12.tar.xz"));
  assert.is(kernelRuns.length, 1, "one kernel run compiled the image's 6.12 tarball");
  assert.ok(kernelRuns[0]!.includes("t-xdp-lab-kernel-6.12-work:/work"), "6.12's object tree has a volume of its own");
  assert.ok(runs.some((r) => r.includes("t-xdp-lab-kernel-work:/work") && r.includes("KSRC=/usr/src/linux-source-6.1.tar.xz")), "6.1's is the default volume");
  for (const stage of ["kernel", "kmod"]) {
    assert.is.not(v612.stages.find((s) => s.stage === stage)!.key, v61.stages.find((s) => s.stage === stage)!.key, `${stage}: the two kernels' keys differ`);
  }
  assert.is(v612.manifest.stages.kernel!.identity.kernelSource, "/usr/src/linux-source-6.12.tar.xz");
  const keys = await planKeys({ repo: REPO, cacheDir: o.cacheDir, params, stages: ["kmod"], container: true, table, engine: container.engine });
  assert.equal(keys, Object.fromEntries(v612.stages.map((s) => [s.stage, s.key])), "cache key --container --kernel 6.12 names the keys used");
  // Built again, each kernel is a hit: neither evicted the other.
  const again = await build({ ...o, out: join(dir, "out"), params: DEFAULT_PARAMS, stages: ["kmod"] });
  assert.ok(again.stages.every((s) => s.cached));
});

t("a kernel path, --kernel-src or --kconfig with --container is refused, naming the versions it builds", async () => {
  const dir = await tempDir();
  const engine = await fakeEngine(dir);
  await mkdir(join(dir, "src"));
  const e = await failure(build({ repo: REPO, out: join(dir, "out"), cacheDir: join(dir, "c"), params: { kernelSrc: join(dir, "src"), kconfig: [] }, table, install: false, container: { engine: { file: engine.file as "podman", global: [] } } }));
  assert.match(e.message, /--kernel PATH, --kernel-src and --kconfig do not apply to build --container/);
  assert.match(e.message, /--kernel 6\.1 or 6\.12/);
  assert.is((await engine.calls()).filter((c) => c[0] === "run").length, 0, "nothing ran");
});

t.run();
