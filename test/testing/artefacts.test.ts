import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { artefactDir, artefactRoot, keepArtefacts, newDir, slug } from "../../src/testing/artefacts.ts";
import type { Lab } from "../../src/lab.ts";
import type { TestResult } from "../../src/testing/report.ts";
import { cleanup, tempDir } from "../helpers.ts";

const t = suite("network/testing/artefacts");

t.after(cleanup);

t("RESULTS/FILE/TEST: the file's path from here without .yaml, the test's name made a folder name", () => {
  assert.is(slug("drop on the LAN port stops the client's pings"), "drop-on-the-LAN-port-stops-the-client-s-pings");
  assert.is(slug("///"), "_");
  assert.is(artefactDir("/r", join(process.cwd(), "tests", "drop.yaml"), "a b"), "/r/tests/drop/a-b");
  assert.is(artefactDir("/r", "tests/sub/x.yml", "t"), "/r/tests/sub/x/t");
  // Without the run's root, a file outside this folder is known by its name alone.
  assert.is(artefactDir("/r", "/elsewhere/deep/fails.yaml", "t"), "/r/fails/t");
});

t("artefactRoot: here when every file is here; else the files' common folder, so files of one name keep the folders that tell them apart", () => {
  assert.is(artefactRoot(["tests/a.yaml", join(process.cwd(), "tests/sub/b.yaml")]), process.cwd());
  assert.is(artefactRoot(["/e/one/fails.yaml"], "/w"), "/e/one");
  assert.is(artefactRoot(["/e/one/fails.yaml", "/e/two/deep/fails.yaml"], "/w"), "/e");
  assert.is(artefactRoot(["/e/one/fails.yaml", "tests/x.yaml"], "/w"), "/");
  // "/w/..x" is in /w: a name that starts with two dots is not the parent.
  assert.is(artefactRoot(["/w/..x/t.yaml"], "/w"), "/w");
  const root = artefactRoot(["/e/one/fails.yaml", "/e/two/fails.yaml"], "/w");
  assert.is(artefactDir("/r", "/e/one/fails.yaml", "same name", root), "/r/one/fails/same-name");
  assert.is(artefactDir("/r", "/e/two/fails.yaml", "same name", root), "/r/two/fails/same-name");
});

t("newDir: a folder that exists is never taken again; the next free -2, -3 instead, the first one's files untouched", async () => {
  const dir = await tempDir();
  const want = join(dir, "res", "fails", "t");
  assert.is(await newDir(want), want);
  await writeFile(join(want, "result.json"), "first\n");
  assert.is(await newDir(want), `${want}-2`);
  assert.is(await newDir(want), `${want}-3`);
  assert.equal(await readdir(want), ["result.json"]);
  // Side by side (--jobs): each call its own folder.
  const side = await Promise.all([1, 2, 3].map(() => newDir(join(dir, "side"))));
  assert.equal(side.sort(), [join(dir, "side"), join(dir, "side-2"), join(dir, "side-3")]);
});

// A lab that answers every command in the VM and has a console log; what it cannot give (status of
// a lab that is not up) goes to errors.txt, which keepArtefacts is written to survive.
async function fakeLab(dir: string): Promise<Lab> {
  const consoleLog = join(dir, "console.log");
  await writeFile(consoleLog, "console\n");
  return { name: "artefacts-unit", plan: { files: { consoleLog } }, host: async () => ({ exec: async () => ({ code: 0, stdout: "out\n", stderr: "" }) }) } as unknown as Lab;
}

t("keepArtefacts: the issue's case, two files of one name in different folders with a failing test of one name, twice into one results folder: four folders, none overwritten", async () => {
  const dir = await tempDir();
  const lab = await fakeLab(dir);
  const files = [join(dir, "one", "fails.yaml"), join(dir, "two", "fails.yaml")];
  for (const f of files) {
    await mkdir(join(f, ".."), { recursive: true });
    await writeFile(f, "");
  }
  const results = join(dir, "results");
  const root = artefactRoot(files);
  const test = { name: "same name", traffic: [] };
  const keep = (path: string, run: number) =>
    keepArtefacts({ lab, results, root, file: { path, tests: [test], lines: [2] }, test, index: 0, result: { file: path, name: `${test.name} run ${run}`, verdict: "fail", seconds: 1, failures: [], steps: [], maps: [] } as TestResult });
  const first = [await keep(files[0]!, 1), await keep(files[1]!, 1)];
  const second = [await keep(files[0]!, 2), await keep(files[1]!, 2)];
  assert.equal(first, [join(results, "one", "fails", "same-name"), join(results, "two", "fails", "same-name")]);
  assert.equal(second, first.map((d) => `${d}-2`));
  for (const [d, run] of [...first.map((d) => [d, 1] as const), ...second.map((d) => [d, 2] as const)]) {
    const r = JSON.parse(await readFile(join(d, "result.json"), "utf8")) as { name: string; artefacts: string };
    assert.equal([r.name, r.artefacts], [`same name run ${run}`, d]);
  }
});

t.run();
