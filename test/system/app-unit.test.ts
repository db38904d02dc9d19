// The app's pure C parts (tokenizing, options, the JSON writer, output sinks) through their own test
// binary, `make -C app check`. A C compile (gcc, make), so it is not a unit test; no root needed (the
// control socket path is test/network/contract.test.ts's).
import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { execa } from "execa";
import { REPO } from "../../src/paths.ts";
import { cleanup, tempDir } from "../helpers.ts";

const t = suite("app: C unit tests");

t.after(cleanup);

t("make -C app check builds the unit tests and every check passes", async () => {
  const out = await tempDir();
  const r = await execa("make", ["-s", "-C", join(REPO, "app"), `OUT=${out}`, "check"], { reject: false, all: true });
  assert.is(r.exitCode, 0, r.all);
  const counts = /(\d+) checks, (\d+) failed/.exec(r.stdout);
  assert.ok(counts, r.all);
  assert.ok(Number(counts![1]) >= 30, `${counts![1]} checks ran`);
  assert.is(counts![2], "0");
});

t.run();
