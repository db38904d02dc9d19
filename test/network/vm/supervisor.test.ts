// The lab's qemu supervisor: its argv, and how it reports the way qemu ended.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { describeStatus, qemuEnding, supervisedArgv } from "../../../network/vm/supervisor.ts";
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

t.run();
