import { suite } from "uvu";
import * as assert from "uvu/assert";
import { guestCommand, shellQuote } from "../../src/commands/boot.ts";
import { artifacts } from "../../src/commands/lab-options.ts";
import { cleanup, tempDir } from "../helpers.ts";

const t = suite("boot command");
t.after(cleanup);

t("one argument is a shell line; several are quoted words", () => {
  assert.is(guestCommand([]), undefined);
  assert.is(guestCommand(["ip link; uname -r"]), "ip link; uname -r");
  assert.is(guestCommand(["echo", "a b", "it's"]), `echo 'a b' 'it'\\''s'`);
  assert.is(shellQuote("--flag=x/y"), "--flag=x/y");
});

t("missing artifacts tell the user to build first", async () => {
  const out = await tempDir();
  assert.throws(() => artifacts(out), /No build to boot: .*bzImage and .*initramfs\.img missing. Fix: run \.\/xdp-lab build --out/);
});

t.run();
