// The build image: the install script's check of the archive, the error when the archive moved,
// and where ensureImage takes the image from (engine, build cache, archive), on a stand-in engine.
import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { existsSync } from "node:fs";
import { chmod, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { Cache } from "../../src/build/cache.ts";
import { cachedImage, ensureImage, IMAGE_FILE, IMAGE_STAGE, imageTag, installScript, knownImageId, MINBASE_TAG, movedError, parseMoved } from "../../src/build/image.ts";
import { lockHash } from "../../src/build/lock.ts";
import { REPO } from "../../src/paths.ts";
import type { Engine } from "../../src/tools/podman.ts";
import { cleanup, failure, tempDir } from "../helpers.ts";

const t = suite("build image");
t.after(cleanup);

const LOCK = { bpftool: "7.1.0+6.1.192-2", make: "4.3-4.1" };

/** The stand-in engine with its own state (holding the minimal base with `minbase`); `behave` sets its behaviour for the next calls. */
async function standIn(minbase = false): Promise<{ engine: Engine; state: string; calls: () => Promise<string[][]>; has: (tag: string) => boolean }> {
  const state = await tempDir();
  await mkdir(join(state, "images"));
  if (minbase) await writeFile(join(state, "images", MINBASE_TAG.replace(/[/:]/g, "_")), "minbase-id\n");
  process.env.ENGINE_STATE = state;
  const engine = { file: join(REPO, "test/fixtures/stand-in-engine.sh") as "podman", global: [] };
  const calls = async () =>
    (await readFile(join(state, "calls"), "utf8").catch(() => ""))
      .split("\n")
      .filter(Boolean)
      .map((l) => l.split("\x1f").slice(0, -1));
  return { engine, state, calls, has: (tag) => existsSync(join(state, "images", tag.replace(/[/:]/g, "_"))) };
}

function behave(env: Record<string, string | undefined>): void {
  for (const k of ["ENGINE_INFO_EXIT", "ENGINE_RUN_OUTPUT", "ENGINE_RUN_EXIT", "ENGINE_DPKG"]) delete process.env[k];
  for (const [k, v] of Object.entries(env)) if (v !== undefined) process.env[k] = v;
}

t("the install script: an archive without a locked version prints what moved and installs nothing", async () => {
  const dir = await tempDir();
  const bin = join(dir, "bin");
  await mkdir(bin);
  // apt-cache as today's archive: bpftool only at -3, make as locked.
  await writeFile(
    join(bin, "apt-cache"),
    `#!/bin/sh
case "$1 $2" in
"madison bpftool") echo "   bpftool | 7.1.0+6.1.192-3 | http://deb.debian.org/debian-security bookworm-security/main amd64 Packages" ;;
"madison make") echo "      make |    4.3-4.1 | http://deb.debian.org/debian bookworm/main amd64 Packages" ;;
"policy bpftool") printf 'bpftool:\\n  Installed: (none)\\n  Candidate: 7.1.0+6.1.192-3\\n' ;;
esac
`,
  );
  await writeFile(join(bin, "apt-get"), `#!/bin/sh\necho "apt-get $*" >> ${dir}/apt-get.log\n`);
  for (const f of ["apt-cache", "apt-get"]) await chmod(join(bin, f), 0o755);
  // The script runs on a root of the test's own: the machine's apt sources and lists are never touched.
  const root = join(dir, "root");
  const lists = join(root, "var/lib/apt/lists");
  await mkdir(join(root, "etc/apt"), { recursive: true });
  await mkdir(lists, { recursive: true });
  await writeFile(join(lists, "deb.debian.org_debian_dists_bookworm_InRelease"), "");
  const script = (lock: typeof LOCK) => installScript(lock, "http://mirror.invalid", root);
  for (const path of script(LOCK).matchAll(/(?<=\s|>)\/[\w./*-]+/g)) assert.ok(path[0].startsWith(`${root}/`), `${path[0]} is outside the test's root`);
  const env = { PATH: `${bin}:/usr/bin:/bin` };
  const moved = await execa("sh", ["-c", script(LOCK)], { env, reject: false });
  assert.is(moved.exitCode, 3);
  assert.equal(parseMoved(moved.stdout), [{ package: "bpftool", locked: "7.1.0+6.1.192-2", now: "7.1.0+6.1.192-3" }]);
  assert.not.match(await readFile(join(dir, "apt-get.log"), "utf8"), /install/, "nothing installed");
  assert.match(await readFile(join(root, "etc/apt/sources.list"), "utf8"), /^deb http:\/\/mirror\.invalid\/debian-security bookworm-security main$/m);
  assert.equal(await readdir(lists), ["deb.debian.org_debian_dists_bookworm_InRelease"], "lists kept when nothing was installed");
  // The same archive with the lock moved on: installs exactly the locked versions, then empties apt's lists.
  const ok = await execa("sh", ["-c", script({ ...LOCK, bpftool: "7.1.0+6.1.192-3" })], { env, reject: false });
  assert.is(ok.exitCode, 0, ok.stderr);
  assert.match(await readFile(join(dir, "apt-get.log"), "utf8"), /apt-get install -y -qq --no-install-recommends bpftool=7\.1\.0\+6\.1\.192-3 make=4\.3-4\.1/);
  assert.equal(await readdir(lists), [], "the image's lists removed");
  // Without a root, the script is the image's own: its paths are the container's.
  assert.match(installScript(LOCK, "http://mirror.invalid"), / > \/etc\/apt\/sources\.list\n[\s\S]*\nrm -rf \/var\/lib\/apt\/lists\/\*$/);
});

t("the moved error names each package, locked against now, and both ways out", () => {
  const e = movedError(parseMoved("xdp-lab-moved bpftool 7.1.0+6.1.192-2 7.1.0+6.1.192-3\nxdp-lab-moved gone 1.0 (none)\nnoise"), "localhost/xdp-lab-build:abc", "src/build/packages.lock");
  assert.match(e.message, /no longer has 2 locked version\(s\) of src\/build\/packages\.lock: bpftool 7\.1\.0\+6\.1\.192-2 \(archive now: 7\.1\.0\+6\.1\.192-3\), gone 1\.0 \(archive now: no such package\)/);
  assert.match(e.message, /cache import FILE .*cache export FILE image.*cache pull REF/);
  assert.match(e.message, /lock --update \(artifacts will then differ/);
});

t("ensureImage: made from the archive once, kept in the cache; the engine's copy is used after that", async () => {
  const s = await standIn(true);
  const cache = new Cache(await tempDir());
  behave({ ENGINE_DPKG: "bpftool=7.1.0+6.1.192-2 make=4.3-4.1" });
  const first = await ensureImage(s.engine, LOCK, { cache, lockPath: "test.lock", install: false });
  assert.is(first.source, "built");
  assert.ok(first.id.startsWith("built-"));
  const kept = await cachedImage(cache, LOCK);
  assert.ok(kept, "kept in the cache");
  assert.is(kept!.record.id, first.id);
  assert.is(kept!.dir, cache.entryDir(IMAGE_STAGE, lockHash(LOCK)));
  assert.ok(existsSync(join(kept!.dir, IMAGE_FILE)));
  const again = await ensureImage(s.engine, LOCK, { cache, lockPath: "test.lock", install: false });
  assert.equal(again, { tag: imageTag(LOCK), id: first.id, source: "engine" });
  assert.is((await s.calls()).filter((c) => c.includes("commit")).length, 1, "made once");
  assert.is(await knownImageId(LOCK, cache, async () => s.engine), first.id);
});

t("ensureImage: a machine without the image loads it from the cache, asking nothing of the archive", async () => {
  const from = await standIn(true);
  const cache = new Cache(await tempDir());
  behave({ ENGINE_DPKG: "bpftool=7.1.0+6.1.192-2 make=4.3-4.1" });
  const made = await ensureImage(from.engine, LOCK, { cache, lockPath: "test.lock", install: false });
  // Another engine state: a machine that never made it, whose archive has moved on.
  const to = await standIn();
  behave({ ENGINE_RUN_OUTPUT: "xdp-lab-moved bpftool 7.1.0+6.1.192-2 7.1.0+6.1.192-3", ENGINE_RUN_EXIT: "3" });
  const loaded = await ensureImage(to.engine, LOCK, { cache, lockPath: "test.lock", install: false });
  assert.equal(loaded, { tag: imageTag(LOCK), id: made.id, source: "cache" });
  assert.ok(to.has(imageTag(LOCK)));
  const calls = await to.calls();
  assert.not.ok(calls.some((c) => c.includes("run") || c.includes("import")), "no install run, no debootstrap import");
});

t("ensureImage: no image anywhere and an archive that moved: the error names what moved; no image is left", async () => {
  const s = await standIn(true);
  const cache = new Cache(await tempDir());
  behave({ ENGINE_RUN_OUTPUT: "Hit:1 http://deb.debian.org/debian bookworm InRelease\nxdp-lab-moved bpftool 7.1.0+6.1.192-2 7.1.0+6.1.192-3", ENGINE_RUN_EXIT: "3" });
  const e = await failure(ensureImage(s.engine, LOCK, { cache, lockPath: "my.lock", install: false }));
  assert.match(e.message, /^Cannot make the build image localhost\/xdp-lab-build:\w+: Debian's archive no longer has 1 locked version\(s\) of my\.lock: bpftool 7\.1\.0\+6\.1\.192-2 \(archive now: 7\.1\.0\+6\.1\.192-3\)/);
  assert.not.ok(s.has(imageTag(LOCK)), "no image tagged");
  assert.is(await cachedImage(cache, LOCK), undefined, "nothing kept");
  const e2 = await failure(knownImageId(LOCK, cache, async () => s.engine));
  assert.match(e2.message, /No build image for this lock .* Fix: \.\/xdp-lab build --container makes it, or \.\/xdp-lab cache import FILE brings it/);
});

t("ensureImage: an image in the cache that loads as another id is refused and removed", async () => {
  const s = await standIn(true);
  const cache = new Cache(await tempDir());
  behave({ ENGINE_DPKG: "bpftool=7.1.0+6.1.192-2 make=4.3-4.1" });
  await ensureImage(s.engine, LOCK, { cache, lockPath: "test.lock", install: false });
  const kept = (await cachedImage(cache, LOCK))!;
  await writeFile(join(kept.dir, IMAGE_FILE), "tampered\n");
  const other = await standIn();
  const e = await failure(ensureImage(other.engine, LOCK, { cache, lockPath: "test.lock", install: false }));
  assert.match(e.message, /loaded as tampered, not the built-\w+ its record names; refused/);
  assert.not.ok(other.has(imageTag(LOCK)));
});

t.run();
