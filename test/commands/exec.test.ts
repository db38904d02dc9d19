// exec's hints for a program that is missing on the host or in the VM.
import { suite } from "../suite.ts";
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
  // podman exec of an argv whose program the image lacks.
  assert.is(notFound("Error: runc: exec failed: unable to start container process: exec: \"tshark\": executable file not found in $PATH\n"), "tshark");
});

t("a program missing in a container host's image names the image and the fix", () => {
  assert.is(missingProgram("tshark", "server", "localhost/x:1"), `"tshark" is not in server's image localhost/x:1. Fix: use an image that has it (./xdp-lab up --server-image IMAGE)`);
});

t.run();
