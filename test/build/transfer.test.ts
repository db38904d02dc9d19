// cache export/import: entries travel whole and verified; a corrupt or foreign archive is refused.
import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile, symlink, readdir } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { Cache } from "../../src/build/cache.ts";
import { exportEntries, importEntries } from "../../src/build/transfer.ts";
import { cleanup, failure, tempDir } from "../helpers.ts";

const t = suite("cache transfer");
t.after(cleanup);

const K1 = "a".repeat(64);
const K2 = "b".repeat(64);

async function filled(): Promise<Cache> {
  const cache = new Cache(await tempDir());
  for (const [stage, key] of [["kernel", K1], ["bpf", K2]]) {
    const s = await cache.scratch(stage!);
    await writeFile(join(s, "bzImage"), `image ${key}`);
    await mkdir(join(s, "kbuild", "include"), { recursive: true });
    await writeFile(join(s, "kbuild", "include", "a.h"), "#define A 1\n");
    await symlink("include/a.h", join(s, "kbuild", "link.h"));
    await cache.store(s, { stage: stage!, key: key!, created: "2026-01-01T00:00:00Z", seconds: 1 });
  }
  return cache;
}

t("export then import into an empty cache: the same entries, file for file, and a build would hit them", async () => {
  const from = await filled();
  const archive = join(await tempDir(), "kernel.tar.gz");
  assert.equal(await exportEntries(from, archive, [{ stage: "kernel" }]), [{ stage: "kernel", key: K1 }]);
  const to = new Cache(await tempDir());
  assert.equal(await importEntries(to, archive), [{ stage: "kernel", key: K1, replaced: false }]);
  assert.ok(await to.lookup("kernel", K1));
  assert.is(await readFile(join(to.entryDir("kernel", K1), "kbuild", "link.h"), "utf8"), "#define A 1\n");
  assert.equal((await to.entries()).map((e) => e.key), [K1]);
  assert.equal(await readdir(join(to.root, "tmp")), [], "no leftovers");
  assert.equal((await importEntries(to, archive))[0]!.replaced, true, "importing again replaces");
});

t("a stage or key that is not cached is named", async () => {
  const from = await filled();
  const e = await failure(exportEntries(from, join(await tempDir(), "x.tgz"), [{ stage: "rootfs" }]));
  assert.match(e.message, /No cache entry for rootfs .*Fix: build it first/);
});

t("a corrupt archive (a file changed after export) is refused and nothing is imported", async () => {
  const from = await filled();
  const dir = await tempDir();
  const archive = join(dir, "all.tar.gz");
  await exportEntries(from, archive, [{ stage: "kernel" }, { stage: "bpf" }]);
  const unpacked = join(dir, "unpacked");
  await mkdir(unpacked);
  await execa("tar", ["-xzf", archive, "-C", unpacked]);
  await writeFile(join(unpacked, "bpf", K2, "bzImage"), "tampered");
  const bad = join(dir, "bad.tar.gz");
  await execa("tar", ["-czf", bad, "-C", unpacked, "."]);
  const to = new Cache(await tempDir());
  const e = await failure(importEntries(to, bad));
  assert.match(e.message, /is corrupt: 1 file\(s\) of bpf\/bbbbbbbbbbbb do not match their sha256 \(bpf\/b+\/bzImage\); nothing imported/);
  assert.equal(await to.entries(), []);
  // A truncated file is not a tar archive at all.
  const truncated = join(dir, "cut.tar.gz");
  await writeFile(truncated, (await readFile(archive)).subarray(0, 200));
  assert.match((await failure(importEntries(to, truncated))).message, /is not a readable cache archive/);
});

t("a foreign archive (no index), an entry not listed, or a missing file is refused", async () => {
  const dir = await tempDir();
  await writeFile(join(dir, "hello"), "hi");
  const foreign = join(dir, "foreign.tar.gz");
  await execa("tar", ["-czf", foreign, "-C", dir, "hello"]);
  const to = new Cache(await tempDir());
  assert.match((await failure(importEntries(to, foreign))).message, /is not an xdp-lab cache archive.*Fix: pass a file written by \.\/xdp-lab cache export/);
  assert.match((await failure(importEntries(to, join(dir, "nope.tgz")))).message, /does not exist/);
  // An index that claims files the archive lacks.
  const from = await filled();
  const archive = join(dir, "k.tar.gz");
  await exportEntries(from, archive, [{ stage: "kernel" }]);
  const unpacked = join(dir, "u");
  await mkdir(unpacked);
  await execa("tar", ["-xzf", archive, "-C", unpacked]);
  await execa("rm", [join(unpacked, "kernel", K1, "kbuild", "include", "a.h")]);
  const missing = join(dir, "missing.tar.gz");
  await execa("tar", ["-czf", missing, "-C", unpacked, "."]);
  assert.match((await failure(importEntries(to, missing))).message, /is corrupt: 1 file\(s\) of kernel\/a+ do not match their sha256 \(kernel\/a+\/kbuild\/include\/a\.h\)/);
  assert.not.ok(existsSync(to.entryDir("kernel", K1)));
});

t.run();
