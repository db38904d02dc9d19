import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { chmod, mkdir, readFile, rename, writeFile, utimes } from "node:fs/promises";
import { join } from "node:path";
import { fileStamp, HashMemo, hashInputs, kernelSourceIdentity, sha256 } from "../../src/build/hash.ts";
import { cleanup, tempDir } from "../helpers.ts";

const t = suite("hash");
t.after(cleanup);

t("input hash changes with content, executable bit and name; not with mtime", async () => {
  const dir = await tempDir();
  await mkdir(join(dir, "k"));
  await writeFile(join(dir, "k", "a.sh"), "echo a\n");
  const h = async () => (await hashInputs(dir, ["k"])).digest;
  const first = await h();
  await utimes(join(dir, "k", "a.sh"), new Date(0), new Date(0));
  assert.is(await h(), first, "mtime is not content");
  await chmod(join(dir, "k", "a.sh"), 0o755);
  const exec = await h();
  assert.is.not(exec, first);
  await rename(join(dir, "k", "a.sh"), join(dir, "k", "b.sh"));
  assert.is.not(await h(), exec);
  await writeFile(join(dir, "k", "b.sh"), "echo b\n");
  const files = (await hashInputs(dir, ["k"])).files;
  assert.equal(Object.keys(files), ["k/b.sh"]);
  assert.is(files["k/b.sh"], `x:${sha256("echo b\n")}`);
});

t("ignored paths do not count", async () => {
  const dir = await tempDir();
  await mkdir(join(dir, "k", "out"), { recursive: true });
  await writeFile(join(dir, "k", "Makefile"), "all:\n");
  const before = (await hashInputs(dir, ["k"], (r) => r.startsWith("k/out"))).digest;
  await writeFile(join(dir, "k", "out", "bzImage"), "binary");
  assert.is((await hashInputs(dir, ["k"], (r) => r.startsWith("k/out"))).digest, before);
});

t("memo hashes a file once while it is unchanged, and again after a change", async () => {
  const dir = await tempDir();
  const f = join(dir, "big.tar");
  await writeFile(f, "one");
  const memo = new HashMemo(join(dir, "memo.json"));
  await memo.load();
  assert.is(await memo.fileSha(f), sha256("one"));
  await memo.save();
  const again = new HashMemo(join(dir, "memo.json"));
  await again.load();
  assert.ok((await readFile(join(dir, "memo.json"), "utf8")).includes(sha256("one")));
  await writeFile(f, "two!");
  assert.is(await again.fileSha(f), sha256("two!"));
});

t("kernel source identity: tarball by content, plain tree by its files", async () => {
  const dir = await tempDir();
  const memo = new HashMemo(join(dir, "memo.json"));
  await writeFile(join(dir, "a.tar"), "same");
  await writeFile(join(dir, "b.tar"), "same");
  assert.is(await kernelSourceIdentity(join(dir, "a.tar"), memo), await kernelSourceIdentity(join(dir, "b.tar"), memo));
  const tree = join(dir, "linux");
  await mkdir(tree);
  await writeFile(join(tree, "Makefile"), "x");
  const id = await kernelSourceIdentity(tree, memo);
  assert.match(id, /^tree:/);
  await writeFile(join(tree, "Makefile"), "xy");
  assert.is.not(await kernelSourceIdentity(tree, memo), id);
});

t("HashMemo.remember: an answer is kept while its stamp is the same, asked again when it changes, and survives a save and load", async () => {
  const dir = await tempDir();
  const memo = new HashMemo(join(dir, "hashes.json"));
  await memo.load();
  let asked = 0;
  const ask = async () => `gcc (Debian 12.2.0) ${++asked}`;
  assert.is(await memo.remember("tool:/usr/bin/gcc:--version", "1:100:7", ask), "gcc (Debian 12.2.0) 1");
  assert.is(await memo.remember("tool:/usr/bin/gcc:--version", "1:100:7", ask), "gcc (Debian 12.2.0) 1");
  assert.is(await memo.remember("tool:/usr/bin/gcc:--version", "2:200:8", ask), "gcc (Debian 12.2.0) 2", "the binary changed: asked again");
  await memo.save();
  const again = new HashMemo(join(dir, "hashes.json"));
  await again.load();
  assert.is(await again.remember("tool:/usr/bin/gcc:--version", "2:200:8", ask), "gcc (Debian 12.2.0) 2");
  assert.is(asked, 2);
  assert.is(await fileStamp(join(dir, "none")), "absent");
  assert.match(await fileStamp(join(dir, "hashes.json")), /^\d+:[\d.]+:\d+$/);
});

t.run();
