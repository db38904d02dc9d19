import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { existsSync } from "node:fs";
import { mkdir, writeFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { Cache, defaultCacheDir, lockDir } from "../../src/build/cache.ts";
import { cleanup, tempDir } from "../helpers.ts";

const t = suite("cache");
t.after(cleanup);

async function entry(cache: Cache, stage: string, key: string, created: string, kernel?: string): Promise<void> {
  const s = await cache.scratch(stage);
  await writeFile(join(s, "bzImage"), key);
  await cache.store(s, { stage, key, created, seconds: 1, ...(kernel ? { kernel } : {}) });
}

t("progress to expect: the most files any cached build of the stage and kernel compiled, not the last incremental build's", async () => {
  const cache = new Cache(await tempDir());
  const put = async (key: string, created: string, progressUnits: number, kernel?: string) => {
    const s = await cache.scratch("kernel");
    await writeFile(join(s, "bzImage"), key);
    await cache.store(s, { stage: "kernel", key, created, seconds: 1, progressUnits, ...(kernel ? { kernel } : {}) });
  };
  assert.is(await cache.lastProgressUnits("kernel", "6.1"), undefined);
  await put("cold", "2026-01-01T00:00:00Z", 1300, "6.1");
  await put("incremental", "2026-01-02T00:00:00Z", 11, "6.1");
  await put("other", "2026-01-03T00:00:00Z", 1374, "6.12");
  assert.is(await cache.lastProgressUnits("kernel", "6.1"), 1300);
  assert.is(await cache.lastProgressUnits("kernel", "6.12"), 1374);
});

t("follows XDG_CACHE_HOME, else ~/.cache", () => {
  assert.is(defaultCacheDir({ XDG_CACHE_HOME: "/x/cache" }), "/x/cache/xdp-lab");
  assert.match(defaultCacheDir({}), /\/\.cache\/xdp-lab$/);
  assert.match(defaultCacheDir({ XDG_CACHE_HOME: "relative" }), /\/\.cache\/xdp-lab$/, "relative XDG paths are ignored, per the spec");
});

t("store then lookup; an incomplete entry is not a hit", async () => {
  const cache = new Cache(await tempDir());
  assert.is(await cache.lookup("kernel", "k1"), undefined);
  await entry(cache, "kernel", "k1", "2026-01-01T00:00:00Z");
  assert.ok(await cache.lookup("kernel", "k1"));
  await mkdir(cache.entryDir("kernel", "half"), { recursive: true });
  assert.is(await cache.lookup("kernel", "half"), undefined);
  assert.equal((await cache.list()).map((e) => e.key), ["k1"]);
});

t("prune keeps the most recently used entries per stage and drops leftovers", async () => {
  const cache = new Cache(await tempDir());
  await entry(cache, "kernel", "old", "2026-01-01T00:00:00Z");
  await new Promise((r) => setTimeout(r, 20));
  await entry(cache, "kernel", "new", "2026-01-02T00:00:00Z");
  await entry(cache, "rootfs", "r", "2026-01-02T00:00:00Z");
  await mkdir(cache.entryDir("kernel", "half"), { recursive: true });
  await mkdir(join(cache.root, "tmp", "kernel-999999999-1"), { recursive: true });
  const removed = await cache.prune({ keep: 1, all: false });
  assert.ok(removed.includes(cache.entryDir("kernel", "old")));
  assert.ok(removed.includes(cache.entryDir("kernel", "half")));
  assert.equal((await cache.list()).map((e) => e.key).sort(), ["new", "r"]);
  assert.equal(await readdir(join(cache.root, "tmp")), []);
  await cache.prune({ keep: 0, all: true });
  assert.equal(await readdir(cache.root), []);
});

t("prune keeps each kernel version's entries apart: keep 1 leaves the newest 6.1 and the newest 6.12 kernel", async () => {
  const cache = new Cache(await tempDir());
  await entry(cache, "kernel", "k612", "2026-01-01T00:00:00Z", "6.12");
  await new Promise((r) => setTimeout(r, 20));
  await entry(cache, "kernel", "k61-old", "2026-01-02T00:00:00Z", "6.1");
  await new Promise((r) => setTimeout(r, 20));
  await entry(cache, "kernel", "k61", "2026-01-03T00:00:00Z", "6.1");
  await entry(cache, "kmod", "m612", "2026-01-03T00:00:00Z", "6.12");
  await entry(cache, "kmod", "m61", "2026-01-03T00:00:00Z", "6.1");
  await cache.prune({ keep: 1, all: false });
  assert.equal((await cache.list()).map((e) => `${e.stage}:${e.key}:${e.kernel}`).sort(), ["kernel:k612:6.12", "kernel:k61:6.1", "kmod:m612:6.12", "kmod:m61:6.1"]);
});

t("lock: a second holder waits; a lock of a dead process is taken over", async () => {
  const dir = join(await tempDir(), "work");
  await mkdir(dir);
  const release = await lockDir(dir);
  let second = false;
  const waiting = lockDir(dir).then((r) => {
    second = true;
    return r;
  });
  await new Promise((r) => setTimeout(r, 300));
  assert.not.ok(second, "second lock waits while the first is held");
  await release();
  await (await waiting)();
  await writeFile(`${dir}.lock`, "999999999");
  await (await lockDir(dir))();
  assert.not.ok(existsSync(`${dir}.lock`));
});

t.run();
