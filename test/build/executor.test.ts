// The host executor on a fake stage table: caching by content, atomic publishing, failures, bad out/.
import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { build, checkWritable, stageKey } from "../../src/build/executor.ts";
import { HashMemo } from "../../src/build/hash.ts";
import { STAGES, type Stage } from "../../src/build/stages.ts";
import type { BuildEvent } from "../../src/build/progress.ts";
import { cleanup, failure, tempDir } from "../helpers.ts";

const t = suite("executor");
t.after(cleanup);

/** A checkout with two stages: `kernel` writes a file from its input, `rootfs` copies it from upstream. */
async function fixture(): Promise<{ repo: string; out: string; cacheDir: string; table: Stage[]; runs: string }> {
  const repo = await tempDir();
  await mkdir(join(repo, "kernel"));
  await writeFile(join(repo, "kernel", "lab.config"), "CONFIG_A=y\n");
  const runs = join(repo, "runs.log");
  const base = { requires: [], toolchain: [], incremental: false, description: "fake" };
  const table: Stage[] = [
    {
      ...base,
      name: "kernel",
      needs: [],
      inputs: ["kernel"],
      artifacts: ["bzImage"],
      progress: /^  CC /,
      command: (p) => ({
        file: "sh",
        args: ["-c", `echo kernel >>${runs}; echo '  CC a.o'; echo '  CC b.o'; cat kernel/lab.config > ${p.out}/bzImage`],
        env: {},
      }),
    },
    {
      ...base,
      name: "rootfs",
      needs: ["kernel"],
      inputs: [],
      artifacts: ["initramfs.img"],
      command: (p) => ({
        file: "sh",
        args: ["-c", `echo rootfs >>${runs}; cp ${p.upstream.kernel}/bzImage ${p.out}/initramfs.img`],
        env: {},
      }),
    },
  ];
  return { repo, out: join(repo, "out"), cacheDir: join(repo, "cache"), table, runs };
}

const params = { kernelSrc: "/nonexistent-is-not-checked-by-fake-stages", kconfig: [] };

t("builds, publishes artifacts and a manifest, then hits the cache without running anything", async () => {
  const f = await fixture();
  const events: BuildEvent[] = [];
  const first = await build({ ...f, params, table: f.table, install: false, report: (e) => events.push(e) });
  assert.is(await readFile(join(f.out, "bzImage"), "utf8"), "CONFIG_A=y\n");
  assert.is(await readFile(join(f.out, "initramfs.img"), "utf8"), "CONFIG_A=y\n");
  assert.equal(Object.keys(first.manifest.artifacts), ["bzImage", "initramfs.img"]);
  assert.equal(Object.keys(first.manifest.stages), ["kernel", "rootfs"]);
  assert.ok(events.some((e) => e.event === "progress" && e.units === 2), "compile lines counted as progress");
  const second = await build({ ...f, params, table: f.table, install: false });
  assert.equal(second.stages.map((s) => s.cached), [true, true]);
  assert.is((await readFile(f.runs, "utf8")).trim().split("\n").length, 2, "second build ran no command");
  assert.equal(second.manifest, first.manifest);
});

t("host packages other than the lock's: one warning naming them; none when they match", async () => {
  const f = await fixture();
  const table = f.table.map((s) => ({ ...s, requires: [{ package: "make", bin: "make" }, { package: "coreutils", bin: "ls" }] }));
  const { packageVersions } = await import("../../src/tools/dpkg.ts");
  const installed = Object.fromEntries((await packageVersions(["make", "coreutils"])).map((l) => l.split("=")));
  const lockPath = join(f.repo, "packages.lock");
  await writeFile(lockPath, `make=${installed.make}\ncoreutils=0.0-not-this\n`);
  const events: BuildEvent[] = [];
  await build({ ...f, params, table, install: false, lockPath, report: (e) => events.push(e) });
  const warnings = events.filter((e) => e.event === "warning");
  assert.is(warnings.length, 1);
  assert.match((warnings[0] as { message: string }).message, new RegExp(`^host packages differ from src/build/packages.lock: coreutils ${installed.coreutils!.replace(/[.+]/g, "\\$&")} \\(lock: 0\\.0-not-this\\); artifacts will not match CI's`));
  await writeFile(lockPath, `make=${installed.make}\ncoreutils=${installed.coreutils}\n`);
  const quiet: BuildEvent[] = [];
  await build({ ...f, params, table, install: false, lockPath, report: (e) => quiet.push(e) });
  assert.not.ok(quiet.some((e) => e.event === "warning"));
});

t("changing an input rebuilds that stage and what needs it", async () => {
  const f = await fixture();
  await build({ ...f, params, table: f.table, install: false });
  await writeFile(join(f.repo, "kernel", "lab.config"), "CONFIG_B=y\n");
  const r = await build({ ...f, params, table: f.table, install: false });
  assert.equal(r.stages.map((s) => s.cached), [false, false]);
  assert.is(await readFile(join(f.out, "initramfs.img"), "utf8"), "CONFIG_B=y\n");
});

t("--no-cache reruns every stage", async () => {
  const f = await fixture();
  await build({ ...f, params, table: f.table, install: false });
  const r = await build({ ...f, params, table: f.table, install: false, noCache: true });
  assert.equal(r.stages.map((s) => s.cached), [false, false]);
});

t("--no-cache with named stages reruns those; a stage they need but were not named comes from the cache", async () => {
  const f = await fixture();
  await build({ ...f, params, table: f.table, install: false });
  const r = await build({ ...f, params, table: f.table, install: false, noCache: true, stages: ["rootfs"] });
  assert.equal(r.stages.map((s) => [s.stage, s.cached]), [["kernel", true], ["rootfs", false]]);
  assert.equal((await readFile(f.runs, "utf8")).trim().split("\n"), ["kernel", "rootfs", "rootfs"], "kernel ran once");
});

t("a failing stage leaves out/ as it was and shows its log tail and path", async () => {
  const f = await fixture();
  await build({ ...f, params, table: f.table, install: false });
  const before = await readFile(join(f.out, "manifest.json"), "utf8");
  await writeFile(join(f.repo, "kernel", "lab.config"), "CONFIG_C=y\n");
  f.table[1] = { ...f.table[1]!, command: () => ({ file: "sh", args: ["-c", "echo 'cpio: something broke' >&2; exit 3"], env: {} }) };
  const err = await failure(build({ ...f, params, table: f.table, install: false }));
  assert.match(err.message, /Stage rootfs failed \(exit 3\)/);
  assert.match(err.message, /cpio: something broke/);
  assert.match(err.message, /Full log: .*logs\/rootfs\.log/);
  assert.is(await readFile(join(f.out, "manifest.json"), "utf8"), before, "manifest untouched");
  assert.is(await readFile(join(f.out, "bzImage"), "utf8"), "CONFIG_A=y\n", "kernel of the failed build not published");
  assert.equal((await readdir(f.out)).filter((n) => n.startsWith(".")), [], "no temporary files left in out/");
  assert.equal(await readdir(join(f.cacheDir, "tmp")), [], "no scratch left in the cache");
});

t("a stage that does not produce an artifact fails naming it", async () => {
  const f = await fixture();
  f.table[0] = { ...f.table[0]!, command: () => ({ file: "true", args: [], env: {} }) };
  const err = await failure(build({ ...f, params, table: f.table, install: false }));
  assert.match(err.message, /did not produce bzImage/);
});

t("out/ that cannot be written is refused before building", async () => {
  const f = await fixture();
  await writeFile(join(f.repo, "a-file"), "");
  for (const out of [join(f.repo, "a-file"), join(f.repo, "a-file", "out")]) {
    const err = await failure(checkWritable(out));
    assert.match(err.message, new RegExp(`Output directory ${out} is not writable .*--out`));
  }
  assert.not.ok(existsSync(f.runs), "nothing ran");
});

t("the real kernel stage's key ignores paths but not config fragments", async () => {
  const repo = process.cwd();
  const dir = await tempDir();
  const tarball = join(dir, "linux.tar");
  await writeFile(tarball, "not really a kernel, only hashed");
  const frag = join(dir, "extra.config");
  await writeFile(frag, "CONFIG_X=y\n");
  const memo = new HashMemo(join(dir, "hashes.json"));
  const kernel = STAGES.find((s) => s.name === "kernel")!;
  const key = (kernelSrc: string, kconfig: string[]) => stageKey(kernel, { repo, params: { kernelSrc, kconfig }, upstreamKeys: {}, memo });
  const a = await key(tarball, []);
  const copy = join(dir, "other-name.tar");
  await writeFile(copy, "not really a kernel, only hashed");
  assert.is((await key(copy, [])).key, a.key, "same content under another path: same key");
  const b = await key(tarball, [frag]);
  assert.is.not(b.key, a.key);
  await writeFile(frag, "CONFIG_Y=y\n");
  assert.is.not((await key(tarball, [frag])).key, b.key, "fragment content is in the key");
  assert.ok(a.inputs["kernel/lab.config"], "the manifest records kernel/lab.config");
  assert.match(a.identity["tool:gcc"] ?? "", /gcc/);
});

t.run();
