import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { guestCommand, parseReadyLine, readyLine, shellQuote } from "../../src/commands/boot.ts";
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

t("the ready line boot prints is the one the benchmarks read", () => {
  const line = readyLine({ seconds: 4.304, uptime: 2.5 });
  assert.is(line, "guest ready 4.30 s after qemu start (guest uptime 2.50 s)");
  assert.equal(parseReadyLine(`xdp-lab: booting\n${line}\n`), { seconds: 4.3, uptime: 2.5 });
  assert.is(parseReadyLine("The VM's kernel panicked during boot"), undefined);
});

t("missing artifacts tell the user to build first", async () => {
  const out = await tempDir();
  assert.throws(() => artifacts(out), /No build to boot: .*bzImage and .*initramfs\.img missing. Fix: run \.\/xdp-lab build --out/);
});

t.run();
