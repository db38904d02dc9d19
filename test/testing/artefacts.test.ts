import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { artefactDir, slug } from "../../src/testing/artefacts.ts";

const t = suite("network/testing/artefacts");

t("RESULTS/FILE/TEST: the file's path from here without .yaml, the test's name made a folder name", () => {
  assert.is(slug("drop on the LAN port stops the client's pings"), "drop-on-the-LAN-port-stops-the-client-s-pings");
  assert.is(slug("///"), "_");
  assert.is(artefactDir("/r", join(process.cwd(), "tests", "drop.yaml"), "a b"), "/r/tests/drop/a-b");
  assert.is(artefactDir("/r", "tests/sub/x.yml", "t"), "/r/tests/sub/x/t");
  // A file outside this folder is known by its name alone.
  assert.is(artefactDir("/r", "/elsewhere/deep/fails.yaml", "t"), "/r/fails/t");
});

t.run();
