// The message of a command in the VM that gave no answer: the lab that went down meanwhile is
// named with its fix; otherwise the command's words, and never an empty reason.
import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { failureMessage, VmCommandError, type VmFailure } from "../../network/app-client.ts";
import { DEFAULT_LAB } from "../../network/plan.ts";

const t = suite("network/app-client: failure messages");

const lost: VmFailure = {
  failed: 'The app in the VM did not answer "load /run/xdp-lab/obj/drop.bpf.o lan0 native"',
  code: 255,
  said: "",
  see: "/var/log/xdp-lab-app.log in the VM",
};

t("a lab that `down` removed during the command: that it went down, and `up` as the fix", () => {
  const m = failureMessage(lost, { name: DEFAULT_LAB, after: { up: false, stateGone: true, how: "its state is gone, as ./xdp-lab down leaves it" } });
  assert.is(
    m,
    'The app in the VM did not answer "load /run/xdp-lab/obj/drop.bpf.o lan0 native" (exit 255): lab "lab" went down during the command ' +
      "(its state is gone, as ./xdp-lab down leaves it). Fix: ./xdp-lab up, then run the command again",
  );
  assert.not.match(m, /: \.( |$)/, "no empty reason");
});

t("a lab whose VM stopped but whose state is left: down, then up, for the lab by its name", () => {
  const m = failureMessage({ ...lost, said: "Connection reset" }, { name: "b", after: { up: false, stateGone: false, how: "its VM stopped: qemu killed by SIGKILL" } });
  assert.match(m, /lab "b" went down during the command \(its VM stopped: qemu killed by SIGKILL\)\. Fix: \.\/xdp-lab down --name b && \.\/xdp-lab up --name b, then run the command again$/);
});

t("the lab still up and the command silent: what the silence means, never an empty reason", () => {
  const m = failureMessage(lost, { name: DEFAULT_LAB, after: { up: true } });
  assert.is(
    m,
    'The app in the VM did not answer "load /run/xdp-lab/obj/drop.bpf.o lan0 native" (exit 255) and gave no reason: ' +
      "the ssh session to the VM ended before the command did. The lab is still up: try again. See /var/log/xdp-lab-app.log in the VM",
  );
  assert.match(failureMessage({ ...lost, code: 1, said: "  \n" }), /\(exit 1\) and gave no reason: the command printed nothing\. Check that the lab is still up: \.\/xdp-lab status\./);
});

t("the command's own words when it said something; the lab unknown (status's stats) changes nothing there", () => {
  const f = { ...lost, code: 2, said: "Failed to connect to /run/xdp-lab-app.sock: No such file or directory - start the app with: ...\n" };
  const want = 'The app in the VM did not answer "load /run/xdp-lab/obj/drop.bpf.o lan0 native" (exit 2): Failed to connect to /run/xdp-lab-app.sock: No such file or directory - start the app with: ... See /var/log/xdp-lab-app.log in the VM';
  assert.is(failureMessage(f), want);
  assert.is(failureMessage(f, { name: DEFAULT_LAB, after: { up: true } }), want);
  assert.is(new VmCommandError(f).message, want);
});

t.run();
