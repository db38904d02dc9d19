// What `xdp-lab status` says when the lab it looks for is not up: that none is, or which are, and how to bring one up.
import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { notUpMessage } from "../../src/commands/status.ts";
import { DEFAULT_LAB } from "../../network/plan.ts";

const t = suite("commands/status: no lab up");

t("no lab at all, --name left at its default: no lab is up, and ./xdp-lab up", () => {
  const m = notUpMessage(DEFAULT_LAB, []);
  assert.is(m, 'No lab is up (status looked for "lab", the default of --name). Fix: ./xdp-lab up');
  assert.not.match(m, /lab lab/);
});

t("another name: the up command names it", () => {
  assert.is(notUpMessage("b", []), 'No lab is up (status looked for "b"). Fix: ./xdp-lab up --name b');
});

t("other labs there: they are named with how to look at one, and still the fix for the one asked for", () => {
  assert.is(
    notUpMessage(DEFAULT_LAB, ["t123", "x"]),
    'Lab "lab", the default of --name, is not up; other labs here: t123, x (./xdp-lab status --name t123). Fix: ./xdp-lab up',
  );
  assert.is(notUpMessage("b", ["b"]), 'No lab is up (status looked for "b"). Fix: ./xdp-lab up --name b');
});

t.run();
