// boot() against a fake qemu: a script that prints what a guest would, so marker handling is tested without a VM.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { writeFile, readFile, chmod } from "node:fs/promises";
import { join } from "node:path";
import { boot } from "../../src/vm/boot.ts";
import { DEFAULT_VM } from "../../src/vm/qemu.ts";
import { cleanup, failure, tempDir } from "../helpers.ts";

const t = suite("boot (fake qemu)");

async function fakeQemu(script: string): Promise<{ qemu: string; log: string }> {
  const dir = await tempDir();
  const qemu = join(dir, "qemu");
  await writeFile(qemu, `#!/bin/sh\n${script}\n`);
  await chmod(qemu, 0o755);
  return { qemu, log: join(dir, "logs", "console.log") };
}

const vm = { ...DEFAULT_VM, kernel: "k", initrd: "i", accel: "tcg" as const, command: "true" };

t.after(cleanup);

t("ready marker, command output between the markers, and the command's status", async () => {
  const { qemu, log } = await fakeQemu(
    `printf 'early boot\\r\\nXDP-LAB-READY uptime=0.42\\r\\nXDP-LAB-CMD-BEGIN\\r\\nhello\\r\\nworld\\r\\nXDP-LAB-CMD-END rc=7\\r\\nreboot: Power down\\r\\n'`,
  );
  const lines: string[] = [];
  const r = await boot({ vm, qemu, log, readyTimeout: 10, onOutput: (l) => lines.push(l) });
  assert.equal(lines, ["hello", "world"]);
  assert.is(r.exitCode, 7);
  assert.is(r.guestUptime, 0.42);
  assert.ok(r.readySeconds > 0);
  assert.ok((await readFile(log, "utf8")).includes("early boot"), "console log keeps everything");
});

t("a panic ends with an error quoting the console tail and naming the log", async () => {
  const { qemu, log } = await fakeQemu(`printf 'Run /init as init process\\nKernel panic - not syncing: Attempted to kill init!\\n'; exit 0`);
  const err = await failure(boot({ vm, qemu, log, readyTimeout: 10 }));
  assert.ok(err, "boot must fail");
  assert.match(err.message, /kernel panicked/);
  assert.match(err.message, /Attempted to kill init/);
  assert.ok(err.message.includes(log));
});

t("a guest that never gets ready is killed after the timeout", async () => {
  const { qemu, log } = await fakeQemu(`echo 'stuck in firmware'; sleep 30`);
  const started = Date.now();
  const err = await failure(boot({ vm, qemu, log, readyTimeout: 1 }));
  assert.match(err.message, /did not print its ready marker within 1 s/);
  assert.match(err.message, /stuck in firmware/);
  assert.ok(Date.now() - started < 10_000);
});

t("qemu failing at start shows its error", async () => {
  const { qemu, log } = await fakeQemu(`echo 'qemu-system-x86_64: -kernel k: could not open kernel file' >&2; exit 1`);
  const err = await failure(boot({ vm, qemu, log, readyTimeout: 10 }));
  assert.match(err.message, /stopped before it was ready \(qemu exit 1: .*could not open kernel file/);
});

t("a missing qemu binary names the package", async () => {
  const err = await failure(boot({ vm, qemu: "/nonexistent/qemu-system-x86_64", log: join(await tempDir(), "c.log"), readyTimeout: 5 }));
  assert.match(err.message, /qemu-system-x86/);
});

t("guest powered off in the middle of its command is an error", async () => {
  const { qemu, log } = await fakeQemu(`printf 'XDP-LAB-READY uptime=1.0\\nXDP-LAB-CMD-BEGIN\\npartial\\n'`);
  const err = await failure(boot({ vm, qemu, log, readyTimeout: 10 }));
  assert.match(err.message, /stopped before its command finished/);
});

t.run();
