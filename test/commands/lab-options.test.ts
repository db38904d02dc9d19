import { suite } from "uvu";
import * as assert from "uvu/assert";
import yargs from "yargs";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { withMachine, withShare } from "../../src/commands/lab-options.ts";

const t = suite("lab options");

const parse = (...args: string[]) => withMachine(yargs(args).exitProcess(false).fail((msg, err) => { throw err ?? new Error(msg); })).parseSync();

t("--memory and --cpus: defaults, whole numbers accepted", () => {
  assert.equal([parse().memory, parse().cpus], [256, 2]);
  assert.equal([parse("--memory", "1024").memory, parse("--cpus", "4").cpus], [1024, 4]);
});

t("a bad --memory or --cpus names the flag, the range and an example", () => {
  assert.throws(() => parse("--memory", "0"), /--memory 0: must be a whole number from 128 to 1048576\. Fix: e\.g\. --memory 1024/);
  assert.throws(() => parse("--memory", "lots"), /--memory lots: must be a whole number/);
  assert.throws(() => parse("--cpus", "1.5"), /--cpus 1\.5: must be a whole number from 1 to 64\. Fix: e\.g\. --cpus 2/);
  assert.throws(() => parse("--cpus", "0"), /--cpus 0: must be a whole number/);
});

t("--share: existing directories, repeatable; a missing one or a file is refused naming it", () => {
  const dir = mkdtempSync(join(tmpdir(), "xdp-lab-share-"));
  writeFileSync(join(dir, "f"), "");
  const share = (...args: string[]) => withShare(yargs(args).exitProcess(false).fail((msg, err) => { throw err ?? new Error(msg); })).parseSync().share;
  assert.equal(share(), []);
  assert.equal(share("--share", dir, "--share", `${dir}:/mnt/x:ro`), [
    { host: dir, guest: dir, readOnly: false },
    { host: dir, guest: "/mnt/x", readOnly: true },
  ]);
  assert.throws(() => share("--share", join(dir, "nothere")), new RegExp(`--share ${dir}/nothere: ${dir}/nothere is not a directory on this machine\\. Fix:`));
  assert.throws(() => share("--share", join(dir, "f")), /is not a directory on this machine/);
});

t.run();
