import { suite } from "./suite.ts";
import * as assert from "uvu/assert";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { changedInputs, filesDigest, proofDir, proofKey, recordProof, takeProof } from "./system/proofs.ts";
import { cleanup, tempDir } from "./helpers.ts";

const t = suite("proof records");
t.after(cleanup);

/** Runs F with console.log captured; returns what it printed. */
async function said<T>(f: () => Promise<T>): Promise<{ value: T; lines: string[] }> {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => void lines.push(a.join(" "));
  try {
    return { value: await f(), lines };
  } finally {
    console.log = log;
  }
}

t("the key is the inputs', in any order; any changed value changes it", () => {
  assert.is(proofKey({ a: "1", b: "2" }), proofKey({ b: "2", a: "1" }));
  assert.is.not(proofKey({ a: "1", b: "2" }), proofKey({ a: "1", b: "3" }));
  assert.is.not(proofKey({ a: "1" }), proofKey({ a: "1", b: "" }));
  assert.equal(changedInputs({ lock: "x", image: "i", same: "s" }, { lock: "y", image: "i", same: "s", kconfig: "k" }), ["kconfig", "lock"]);
});

t("a proof is taken from its record only for the same inputs, naming the run; otherwise it says why it proves", async () => {
  const root = await tempDir();
  delete process.env.XDP_LAB_REPROVE;
  const inputs = { "container:kernel": "k1", lock: "l1" };
  const none = await said(() => takeProof("container-6.1", inputs, root));
  assert.is(none.value, undefined);
  assert.match(none.lines[0]!, /^proof container-6\.1: proving: no record on this machine, key [0-9a-f]{12}$/);

  process.env.XDP_LAB_TEST_RUN = "2026-12-07T22:00:00Z abc123";
  await said(() => recordProof("container-6.1", inputs, { differences: [{ artifact: "bzImage", status: "same" }] }, root));
  delete process.env.XDP_LAB_TEST_RUN;
  assert.equal(await readdir(join(proofDir(root), "container-6.1")), [`${proofKey(inputs)}.json`], "one record, nothing half-written beside it");

  const hit = await said(() => takeProof<{ differences: unknown[] }>("container-6.1", { lock: "l1", "container:kernel": "k1" }, root));
  assert.equal(hit.value?.evidence.differences, [{ artifact: "bzImage", status: "same" }]);
  assert.is(hit.value?.run, "2026-12-07T22:00:00Z abc123");
  assert.match(hit.lines[0]!, /^proof container-6\.1: taken from the record of run 2026-12-07T22:00:00Z abc123 \(proved \d{4}-\d\d-\d\dT[\d:.]+Z\), key [0-9a-f]{12}$/);

  // The lock moved: proven again, naming what changed since the last record.
  const moved = await said(() => takeProof("container-6.1", { ...inputs, lock: "l2" }, root));
  assert.is(moved.value, undefined);
  assert.match(moved.lines[0]!, /^proof container-6\.1: proving: inputs changed since run 2026-12-07T22:00:00Z abc123 \(lock\), key/);

  // Asked to reprove: the record is not taken.
  process.env.XDP_LAB_REPROVE = "1";
  const again = await said(() => takeProof("container-6.1", inputs, root));
  delete process.env.XDP_LAB_REPROVE;
  assert.is(again.value, undefined);
  assert.match(again.lines[0]!, /proving \(XDP_LAB_REPROVE=1\)/);
});

t("the files' digest follows their paths and contents", async () => {
  const repo = await tempDir();
  await mkdir(join(repo, "src/build"), { recursive: true });
  await writeFile(join(repo, "src/build/a.ts"), "one");
  const d1 = filesDigest(["src/build"], repo);
  assert.is(filesDigest(["src/build"], repo), d1);
  await writeFile(join(repo, "src/build/a.ts"), "two");
  assert.is.not(filesDigest(["src/build"], repo), d1);
  const d2 = filesDigest(["src/build"], repo);
  await writeFile(join(repo, "src/build/b.ts"), "");
  assert.is.not(filesDigest(["src/build"], repo), d2, "a new empty file counts");
});

t.run();
