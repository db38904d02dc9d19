import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { compareManifests, makeManifest, readManifest, type Manifest } from "../../src/build/manifest.ts";
import { sha256 } from "../../src/build/hash.ts";
import { cleanup, failure, tempDir } from "../helpers.ts";

const t = suite("manifest");
t.after(cleanup);

t("lists each artifact's sha256 and size, sorted, with no paths or times", async () => {
  const out = await tempDir();
  await writeFile(join(out, "initramfs.img"), "r");
  await writeFile(join(out, "bzImage"), "kk");
  const m = await makeManifest(out, [{ name: "initramfs.img", stage: "rootfs" }, { name: "bzImage", stage: "kernel" }], {});
  assert.equal(Object.keys(m.artifacts), ["bzImage", "initramfs.img"]);
  assert.equal(m.artifacts.bzImage, { sha256: sha256("kk"), bytes: 2, stage: "kernel" });
  assert.not.ok(JSON.stringify(m).includes(out));
});

t("compare says which artifacts differ or exist on one side only", () => {
  const m = (a: Record<string, string>): Manifest => ({
    schema: 1,
    stages: {},
    artifacts: Object.fromEntries(Object.entries(a).map(([k, v]) => [k, { sha256: v, bytes: 1, stage: "s" }])),
  });
  const diffs = compareManifests(m({ bzImage: "1", "initramfs.img": "2", here: "3" }), m({ bzImage: "1", "initramfs.img": "X", there: "4" }));
  assert.equal(
    diffs.map((d) => `${d.artifact}:${d.status}`),
    ["bzImage:same", "here:only-here", "initramfs.img:differs", "there:only-there"],
  );
});

t("a missing or foreign manifest is refused with the fix", async () => {
  const dir = await tempDir();
  assert.match((await failure(readManifest(join(dir, "none.json")))).message, /Cannot read manifest .*none\.json.*Fix/);
  await writeFile(join(dir, "pkg.json"), '{"name":"x"}');
  assert.match((await failure(readManifest(join(dir, "pkg.json")))).message, /not valid: not an xdp-lab manifest/);
});

t.run();
