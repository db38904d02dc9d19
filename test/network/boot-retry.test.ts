import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { retryPanic } from "../../network/vm/boot.ts";

const t = suite("a panic at boot under TCG is tried once more");

t("only a kernel panic, only under TCG, only on the first attempt", () => {
  assert.ok(retryPanic("The VM's kernel panicked during boot (qemu exited with status 0). Last console lines:", "tcg", 1));
  assert.ok(retryPanic("Guest kernel panicked. Last console lines:", "tcg", 1));
  assert.not.ok(retryPanic("The VM's kernel panicked during boot", "tcg", 2), "a panic that repeats is reported");
  assert.not.ok(retryPanic("The VM's kernel panicked during boot", "kvm", 1), "KVM runs the guest's code natively");
  assert.not.ok(retryPanic("The VM did not answer ssh within 60 s", "tcg", 1));
});

t.run();
