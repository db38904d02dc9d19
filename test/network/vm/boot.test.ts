// boot() against a fake qemu: a node script that prints what a guest would on the console and serves
// the command channel socket the way qemu does, so marker handling is tested without a VM.
import { suite } from "../../suite.ts";
import * as assert from "uvu/assert";
import { existsSync, readFileSync } from "node:fs";
import { writeFile, readFile, chmod } from "node:fs/promises";
import { join } from "node:path";
import { boot } from "../../../network/vm/boot.ts";
import { DEFAULT_VM } from "../../../network/vm/qemu.ts";
import { cleanup, failure, tempDir } from "../../helpers.ts";

const t = suite("boot (fake qemu)");
t.after(cleanup);

/**
 * A fake qemu: prints `console` on stdout, then, if `channel` is given, listens on the command
 * socket from its argv and sends `channel` to the first client; then exits with `exit`.
 */
async function fakeQemu(f: { console: string; channel?: string; exit?: number; stderr?: string; hang?: boolean }) {
  const dir = await tempDir();
  const qemu = join(dir, "qemu");
  await writeFile(
    qemu,
    `#!/usr/bin/env node
const net = require("node:net");
const f = ${JSON.stringify(f)};
const sock = process.argv.join(" ").match(/socket,id=cmd0,path=([^,]+)/)?.[1];
if (f.stderr) process.stderr.write(f.stderr);
process.stdout.write(f.console);
if (f.hang) setInterval(() => {}, 1000);
else if (sock && f.channel !== undefined) {
  const server = net.createServer((c) => c.end(f.channel, () => { server.close(); process.exitCode = f.exit ?? 0; }));
  server.listen(sock);
} else process.exitCode = f.exit ?? 0;
`,
  );
  await writeFile(join(dir, "package.json"), '{"type":"commonjs"}');
  await chmod(qemu, 0o755);
  return { qemu, log: join(dir, "logs", "console.log") };
}

const vm = { ...DEFAULT_VM, kernel: "k", initrd: "i", accel: "tcg" as const, command: "true" };

t("ready marker on the console; command output and status from the command channel", async () => {
  const { qemu, log } = await fakeQemu({
    console: "early boot\r\nXDP-LAB-READY uptime=0.42\r\n[ 1.0] a kernel message\r\nreboot: Power down\r\n",
    channel: "XDP-LAB-CMD-BEGIN\nhello\nworld\nXDP-LAB-CMD-END rc=7\n",
  });
  const lines: string[] = [];
  const r = await boot({ vm, qemu, log, readyTimeout: 10, onOutput: (l) => lines.push(l) });
  assert.equal(lines, ["hello", "world"], "kernel messages stay out of the command's output");
  assert.is(r.exitCode, 7);
  assert.is(r.guestUptime, 0.42);
  assert.ok(r.readySeconds > 0);
  assert.ok((await readFile(log, "utf8")).includes("a kernel message"), "console log keeps everything");
});

t("a panic ends with an error quoting the console tail and naming the log", async () => {
  const { qemu, log } = await fakeQemu({ console: "Run /init as init process\nKernel panic - not syncing: Attempted to kill init!\n" });
  const err = await failure(boot({ vm, qemu, log, readyTimeout: 10 }));
  assert.match(err.message, /kernel panicked/);
  assert.match(err.message, /Attempted to kill init/);
  assert.ok(err.message.includes(log));
});

t("a guest that never gets ready is killed when the wait ends, quoting its console", async () => {
  const { qemu, log } = await fakeQemu({ console: "stuck in firmware\n", hang: true });
  // The wait ends once the console shows the guest stuck: an event, not a clock (a fake qemu slow to
  // start on a loaded machine printed nothing within a 1 s timeout, and the quote was empty).
  const readyTimer = (expire: () => void): (() => void) => {
    const poll = setInterval(() => {
      if (existsSync(log) && readFileSync(log, "utf8").includes("stuck in firmware")) expire();
    }, 20);
    return () => clearInterval(poll);
  };
  const err = await failure(boot({ vm, qemu, log, readyTimeout: 1, readyTimer }));
  assert.match(err.message, /did not print its ready marker within 1 s/);
  assert.match(err.message, /stuck in firmware/);
});

t("the default wait is readyTimeout seconds of wall time", async () => {
  const { qemu, log } = await fakeQemu({ console: "", hang: true });
  const started = Date.now();
  const err = await failure(boot({ vm, qemu, log, readyTimeout: 1 }));
  assert.match(err.message, /did not print its ready marker within 1 s/);
  const waited = Date.now() - started;
  assert.ok(waited >= 990 && waited < 30_000, `waited ${waited} ms`);
});

t("qemu failing at start shows its error", async () => {
  const { qemu, log } = await fakeQemu({ console: "", stderr: "qemu-system-x86_64: -kernel k: could not open kernel file\n", exit: 1 });
  const err = await failure(boot({ vm, qemu, log, readyTimeout: 10 }));
  assert.match(err.message, /stopped before it was ready \(qemu exit 1: .*could not open kernel file/);
});

t("a missing qemu binary names the package", async () => {
  const err = await failure(boot({ vm, qemu: "/nonexistent/qemu-system-x86_64", log: join(await tempDir(), "c.log"), readyTimeout: 5 }));
  assert.match(err.message, /qemu-system-x86/);
});

t("guest powered off in the middle of its command is an error", async () => {
  const { qemu, log } = await fakeQemu({ console: "XDP-LAB-READY uptime=1.0\n", channel: "XDP-LAB-CMD-BEGIN\npartial\n" });
  const err = await failure(boot({ vm, qemu, log, readyTimeout: 10 }));
  assert.match(err.message, /stopped before its command finished/);
});

t.run();
