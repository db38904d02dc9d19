// What a failed test leaves for a person to debug it, in RESULTS/FILE/TEST/: the VM's dmesg and
// console log, the lab's status, bpftool's program and map lists, the app's log, the test as it ran,
// and a pcap per port for the test's duration. A folder is never written twice.
import { copyFile, mkdir, writeFile } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { stringify } from "yaml";
import type { Lab } from "../lab.ts";
import { GUEST_APP_LOG } from "../../network/contract.ts";
import { status } from "../../network/status.ts";
import type { TestCase, TestFile } from "./file-types.ts";
import type { TestResult } from "./result-types.ts";

/** The files a failed test's folder holds. */
export const ARTEFACTS = ["dmesg.txt", "console.log", "status.json", "bpftool-prog.json", "bpftool-map.json", "app.log", "test.yaml", "result.json", "lan.pcap", "wan.pcap"] as const;

/** A folder name from free text: letters, digits, '.', '_' and '-' kept, the rest '-'. */
export function slug(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^-+|-+$/g, "") || "_";
}

/** Whether PATH is ROOT or inside it (both absolute). */
function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/**
 * The folder a run's FILE paths are taken from for their artefact folders: this one when every file
 * is in it (tests/drop.yaml stays tests/drop), else the files' deepest common folder, so that two
 * files of one name in different folders keep the folders that tell them apart.
 */
export function artefactRoot(files: string[], cwd = process.cwd()): string {
  const abs = files.map((f) => resolve(cwd, f));
  if (abs.every((f) => inside(cwd, f))) return cwd;
  let root = dirname(abs[0]!);
  while (!abs.every((f) => inside(root, f))) root = dirname(root);
  return root;
}

/** RESULTS/FILE/TEST for a test file (its path from ROOT, without .yaml) and a test name. */
export function artefactDir(results: string, file: string, test: string, root = process.cwd()): string {
  const abs = resolve(file);
  // A file outside ROOT (a caller that gave none for a file elsewhere) is known by its name alone.
  const rel = (inside(root, abs) ? relative(root, abs) : basename(abs)).replace(/\.ya?ml$/, "");
  return join(results, ...rel.split(sep).filter((p) => p && p !== ".").map(slug), slug(test));
}

/**
 * DIR made anew, or if it exists DIR-2, DIR-3 ... (the first that does not): an earlier run's
 * artefacts, or another test's whose name makes the same folder name, are never overwritten. Each
 * mkdir is the atomic test, so labs side by side (--jobs) never take one folder twice.
 */
export async function newDir(dir: string): Promise<string> {
  await mkdir(dirname(dir), { recursive: true });
  for (let n = 1; ; n++) {
    const d = n === 1 ? dir : `${dir}-${n}`;
    try {
      await mkdir(d);
      return d;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
  }
}

/**
 * Keeps a failed test's artefacts; each is taken on its own, so a dead VM still leaves the console
 * log, the status and the test (what could not be taken is said in errors.txt). ROOT is the run's
 * artefactRoot. Returns the folder: RESULTS/FILE/TEST, or with -2, -3 ... when that one exists.
 */
export async function keepArtefacts(o: { lab: Lab; results: string; root?: string; file: TestFile; test: TestCase; index: number; result: TestResult; pcaps?: string }): Promise<string> {
  const dir = await newDir(artefactDir(o.results, o.file.path, o.test.name, o.root));
  const errors: string[] = [];
  const take = async (name: string, fn: () => Promise<void>): Promise<void> => {
    try {
      await fn();
    } catch (e) {
      errors.push(`${name}: ${(e as Error).message}`);
    }
  };
  const vm = async (name: string, script: string): Promise<void> => {
    const r = await (await o.lab.host("vm")).exec([script]);
    await writeFile(join(dir, name), r.stdout);
    if (r.code !== 0) throw new Error(`${script} exited ${r.code}: ${r.stderr.trim()}`);
  };
  await take("dmesg.txt", () => vm("dmesg.txt", "dmesg"));
  await take("bpftool-prog.json", () => vm("bpftool-prog.json", "bpftool prog show -j"));
  await take("bpftool-map.json", () => vm("bpftool-map.json", "bpftool map show -j"));
  await take("app.log", () => vm("app.log", `cat ${GUEST_APP_LOG}`));
  await take("console.log", () => copyFile(o.lab.plan.files.consoleLog, join(dir, "console.log")));
  await take("status.json", async () => writeFile(join(dir, "status.json"), JSON.stringify(await status(o.lab.name), null, 2) + "\n"));
  await take("test.yaml", () =>
    writeFile(join(dir, "test.yaml"), `# ${o.file.path} line ${o.file.lines[o.index] ?? "?"}: the test as it ran (defaults filled in, object paths absolute)\n${stringify({ tests: [o.test] })}`),
  );
  await take("result.json", () => writeFile(join(dir, "result.json"), JSON.stringify({ ...o.result, artefacts: dir }, null, 2) + "\n"));
  // The runner's capture of each port, headers only (capture.ts: TEST_SNAPLEN).
  for (const port of ["lan", "wan"]) await take(`${port}.pcap`, () => (o.pcaps ? copyFile(join(o.pcaps, `${port}.pcap`), join(dir, `${port}.pcap`)) : Promise.reject(new Error("not captured"))));
  if (errors.length) await writeFile(join(dir, "errors.txt"), errors.join("\n") + "\n");
  return dir;
}
