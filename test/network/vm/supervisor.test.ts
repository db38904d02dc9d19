// The lab's qemu supervisor: its argv, and how it reports the way qemu ended.
import { suite } from "../../suite.ts";
import * as assert from "uvu/assert";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { awaitQemuEnding, describeStatus, qemuEnding, supervisedArgv } from "../../../network/vm/supervisor.ts";
import { cleanup, tempDir } from "../../helpers.ts";

const t = suite("qemu supervisor");
t.after(cleanup);

t("statuses in words: exit codes and signals", () => {
  assert.is(describeStatus(0), "exited with status 0");
  assert.is(describeStatus(1), "exited with status 1");
  assert.is(describeStatus(137), "was killed by signal 9 (SIGKILL)");
  assert.is(describeStatus(134), "was killed by signal 6 (SIGABRT)");
});

t("the supervisor records a killed child's signal and its stderr", async () => {
  const dir = await tempDir();
  const f = { stderr: join(dir, "err"), exit: join(dir, "exit") };
  assert.is(qemuEnding(f), undefined, "nothing recorded yet");
  const [sh, ...rest] = supervisedArgv(["sh", "-c", "echo 'qemu: warning: TCG does not support x' >&2; echo 'qemu: error: boom' >&2; kill -9 $$"], f);
  await execa(sh!, rest);
  assert.is(qemuEnding(f), "qemu was killed by signal 9 (SIGKILL): qemu: error: boom");
  await writeFile(f.stderr, "Killed\n");
  assert.is(qemuEnding(f), "qemu was killed by signal 9 (SIGKILL)", "the shell's own word is no error of qemu's");
});

t("an exit status is reported as such", async () => {
  const dir = await tempDir();
  const f = { stderr: join(dir, "err"), exit: join(dir, "exit") };
  await writeFile(f.exit, "1\n");
  await writeFile(f.stderr, "\nqemu-system-x86_64: -kernel x: could not open kernel file\n");
  assert.is(qemuEnding(f), "qemu exited with status 1: qemu-system-x86_64: -kernel x: could not open kernel file");
});

t("the status written just after qemu is gone is waited for; an empty file is no status", async () => {
  const dir = await tempDir();
  const f = { stderr: join(dir, "err"), exit: join(dir, "exit") };
  await writeFile(f.exit, "");
  assert.is(qemuEnding(f), undefined, "the shell opened the file but wrote nothing yet");
  setTimeout(() => void writeFile(f.exit, "0\n"), 200);
  assert.is(await awaitQemuEnding(f, 2_000), "qemu exited with status 0");
  await rm(f.exit);
  const started = performance.now();
  assert.is(await awaitQemuEnding(f, 100), undefined, "nobody recorded it");
  assert.ok(performance.now() - started >= 100);
});

t.run();
