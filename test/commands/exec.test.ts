// exec's hints for a program that is missing on the host or in the VM.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { missingProgram, notFound } from "../../src/commands/exec.ts";

const t = suite("exec command");

t("a missing host program is named with its Debian package", () => {
  assert.is(missingProgram("ping", "client"), '"ping" is not installed on this machine (the lab\'s client, server and internet run the machine\'s own programs). Fix: apt-get install iputils-ping');
  assert.match(missingProgram("frobnicate", "server"), /Fix: install the Debian package that provides it \(apt-file search bin\/frobnicate finds it\)/);
});

t("a program missing in the VM is said to be missing there", () => {
  assert.match(missingProgram("iperf3", "vm"), /^"iperf3" is not in the VM/);
});

t("the shells' not-found messages name the program", () => {
  assert.is(notFound("sh: 1: ping: not found\n"), "ping");
  assert.is(notFound("bash: line 1: xdp-bench: command not found\n"), "xdp-bench");
  assert.is(notFound("bash: iperf3: command not found\n"), "iperf3");
  assert.is(notFound("ping: server: Name or service not known\n"), undefined);
});

t.run();
