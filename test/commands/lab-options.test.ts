import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import yargs from "yargs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Argv } from "yargs";
import { withMachine, withShare } from "../../src/commands/lab-options.ts";
import { cleanup, tempDir } from "../helpers.ts";

const t = suite("lab options");
t.after(cleanup);

/** Parses ARGS with the options ADD gives, throwing what yargs would print. */
const parse = <T>(add: (y: Argv) => Argv<T>, ...args: string[]) => add(yargs(args).exitProcess(false).fail((msg, err) => { throw err ?? new Error(msg); })).parseSync();

const machine = (...args: string[]) => parse(withMachine, ...args);

t("--memory and --cpus: defaults, whole numbers accepted", () => {
  assert.equal([machine().memory, machine().cpus], [256, 2]);
  assert.equal([machine("--memory", "1024").memory, machine("--cpus", "4").cpus], [1024, 4]);
});

t("a bad --memory or --cpus names the flag, the range and an example", () => {
  assert.throws(() => machine("--memory", "0"), /--memory 0: must be a whole number from 128 to 1048576\. Fix: e\.g\. --memory 1024/);
  assert.throws(() => machine("--memory", "lots"), /--memory lots: must be a whole number/);
  assert.throws(() => machine("--cpus", "1.5"), /--cpus 1\.5: must be a whole number from 1 to 64\. Fix: e\.g\. --cpus 2/);
  assert.throws(() => machine("--cpus", "0"), /--cpus 0: must be a whole number/);
});

t("--share: existing directories, repeatable; a missing one or a file is refused naming it", async () => {
  const dir = await tempDir();
  await writeFile(join(dir, "f"), "");
  const share = (...args: string[]) => parse(withShare, ...args).share;
  assert.equal(share(), []);
  assert.equal(share("--share", dir, "--share", `${dir}:/mnt/x:ro`), [
    { host: dir, guest: dir, readOnly: false },
    { host: dir, guest: "/mnt/x", readOnly: true },
  ]);
  assert.throws(() => share("--share", join(dir, "nothere")), new RegExp(`--share ${dir}/nothere: ${dir}/nothere is not a directory on this machine\\. Fix:`));
  assert.throws(() => share("--share", join(dir, "f")), /is not a directory on this machine/);
});

t.run();
