import { suite } from "uvu";
import * as assert from "uvu/assert";
import yargs from "yargs";
import { withMachine } from "../../src/commands/lab-options.ts";

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

t.run();
