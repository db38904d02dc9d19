import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { layout } from "../../src/commands/tmux.ts";
import { labPlan } from "../../network/plan.ts";

const t = suite("commands/tmux");

t("a shell on the left; the VM, the server and the client on the right", () => {
  const plan = labPlan("x");
  const cmds = layout(plan, "/r/xdp-lab");
  assert.equal(cmds[0]!.slice(0, 4), ["new-session", "-d", "-s", "xdp-lab-x"]);
  const splits = cmds.filter((c) => c[0] === "split-window");
  assert.equal(splits.map((c) => c.at(-1)), ["/r/xdp-lab ssh --name x", `ip netns exec ${plan.ns.server} bash`, `ip netns exec ${plan.ns.client} bash`]);
  const titles = cmds.filter((c) => c[0] === "select-pane" && c.includes("-T")).map((c) => c.at(-1));
  assert.equal(titles, ["host", "xdp vm", "server", "client"]);
  assert.ok(cmds.some((c) => c.join(" ") === "select-layout -t xdp-lab-x:0 main-vertical"));
});

t.run();
