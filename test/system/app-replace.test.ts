// xdp-lab-app replacing programs (a bad object never detaches the running one; a refused mode
// change puts it back), SIGTERM, then in the guest the echo round trip through the module. Needs root.
import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { execa } from "execa";
import { tempDir } from "../helpers.ts";
import { badObjects } from "./bad-objects.ts";
import { bootOk, ok } from "./cli.ts";
import { A, ip, out, ping, registerAppSuite, startApp, startDaemon } from "./app-harness.ts";
import { parsePing } from "../../src/testing/traffic.ts";

const t = suite("xdp-lab-app: replace, shutdown, guest");
registerAppSuite(t);

t("load onto a running program replaces it in one step: anything wrong with the new one leaves the old attached and dropping", async () => {
  const dir = await tempDir();
  const { unbounded, random } = await badObjects(dir);
  const sock = join(dir, "app.sock");
  const app = await startDaemon(sock);
  let r = await app.ctl("load", join(out, "drop.bpf.o"), "xa");
  assert.is(r.code, 0);
  const id = r.answer.result.id as number;
  const dropped = async () => (await app.ctl("stats")).answer.result.programs[0];
  let sent = 0;

  const bad: [string[], RegExp][] = [
    [[unbounded, "xa"], /^Failed to load .*unbounded\.bpf\.o: [\s\S]*invalid access to packet/],
    [[random, "xa"], /^Failed to open .*random\.bpf\.o: not a BPF ELF object \(/],
    [[join(out, "firewall.bpf.o"), "xa", "no_such_knob=1"], /^Failed to set no_such_knob=1 in .*firewall\.bpf\.o: .* - the object has no such const volatile global/],
    [[join(dir, "missing.bpf.o"), "xa"], /^cannot read object .*missing\.bpf\.o: No such file or directory - the file does not exist/],
  ];
  for (const [args, error] of bad) {
    r = await app.ctl("load", ...args);
    assert.equal([r.code, r.answer.ok], [1, false], JSON.stringify(r.answer));
    assert.match(r.answer.error, error);
    assert.not.match(r.answer.error, /Unknown error/);
    assert.equal(parsePing((await ping(2)).stdout), { transmitted: 2, received: 0 }, `still dropping after ${args[0]}`);
    sent += 2;
    const prog = await dropped();
    assert.equal([prog.program, prog.id, prog.mode, prog.verdicts.drop.packets], ["xdp_drop", id, "native", sent]);
  }

  // A good replace: the answer names the program it replaced, and traffic flows at once.
  r = await app.ctl("load", join(out, "pass.bpf.o"), "xa");
  assert.is(r.code, 0, JSON.stringify(r.answer));
  assert.equal([r.answer.result.program, r.answer.result.mode, r.answer.result.replaced], ["xdp_pass", "native", id]);
  assert.match((await execa("ip", ["-n", A, "link", "show", "xa"])).stdout, new RegExp(`prog/xdp id ${r.answer.result.id} `));
  assert.equal(parsePing((await ping(3)).stdout), { transmitted: 3, received: 3 });
  const stats = (await app.ctl("stats")).answer.result.programs;
  assert.equal([stats.length, stats[0].program, stats[0].verdicts.pass.packets], [1, "xdp_pass", 3]);
  await app.ctl("quit");
  await app.proc;
});

t("a mode change the driver refuses puts the old program back in its old mode", async () => {
  // lo has no native XDP: drop in generic mode on the namespace's own lo, then ask for native.
  await ip("-n", A, "link", "set", "lo", "up");
  const lo = () => execa("ip", ["netns", "exec", A, "busybox", "ping", "-c", "2", "-i", "0.2", "-W", "1", "127.0.0.1"], { reject: false });
  const sock = join(await tempDir(), "app.sock");
  const app = await startDaemon(sock);
  let r = await app.ctl("load", join(out, "drop.bpf.o"), "lo", "generic");
  assert.is(r.code, 0, JSON.stringify(r.answer));
  const id = r.answer.result.id as number;
  r = await app.ctl("load", join(out, "pass.bpf.o"), "lo", "native");
  assert.equal([r.code, r.answer.ok], [1, false]);
  assert.match(r.answer.error, new RegExp(`^Failed to attach .*pass\\.bpf\\.o to lo in native mode: .* - not supported by this driver, try generic mode; xdp_drop \\(id ${id}\\) is attached again in generic mode`));
  assert.equal(parsePing((await lo()).stdout), { transmitted: 2, received: 0 });
  const prog = (await app.ctl("stats")).answer.result.programs[0];
  assert.equal([prog.iface, prog.id, prog.mode, prog.verdicts.drop.packets], ["lo", id, "generic", 2]);
  // And a mode change the driver takes: generic -> native on the veth.
  r = await app.ctl("load", join(out, "drop.bpf.o"), "xa", "generic");
  const old = r.answer.result.id;
  r = await app.ctl("load", join(out, "pass.bpf.o"), "xa", "native");
  assert.equal([r.code, r.answer.result.mode, r.answer.result.replaced], [0, "native", old]);
  assert.is(parsePing((await ping(2)).stdout)?.received, 2);
  await app.ctl("quit");
  await app.proc;
  assert.not.match((await execa("ip", ["-n", A, "link", "show", "lo"])).stdout, /xdp/);
});

t("SIGTERM detaches the program and exits cleanly", async () => {
  const app = startApp();
  assert.match(await app.send(`load ${join(out, "drop.bpf.o")} xa`), /loaded/);
  app.proc.kill("SIGTERM");
  const r = await app.proc;
  assert.match(app.output(), /bye/);
  assert.is(r.exitCode, 0);
  assert.not.match((await execa("ip", ["-n", A, "link", "show", "xa"])).stdout, /prog\/xdp/);
});

t("in the guest: echo round trips through the module (on the console, and deferred on the control socket), oversized text is refused with the kernel's reason", async () => {
  const long = "x".repeat(300);
  const script = [
    "printf 'echo before\\nquit\\n' | xdp-lab-app | grep error",
    "insmod /usr/lib/xdp-lab/kmod/xdp_lab_echo.ko",
    `printf 'echo hello lab\\necho again\\necho ${long}\\nquit\\n' | xdp-lab-app`,
    // Through the control socket the answer is deferred until the module replies.
    "{ xdp-lab-app --control /run/t.sock --no-console >/dev/null 2>&1 & }",
    "for i in $(seq 50); do [ -S /run/t.sock ] && break; sleep 0.1; done",
    "xdp-lab-app ctl --control /run/t.sock echo via socket",
    "xdp-lab-app ctl --control /run/t.sock quit >/dev/null",
    "rmmod xdp_lab_echo",
    "dmesg | grep -cE 'WARNING|BUG|Oops' || true",
  ].join("; ");
  // This file may run first on a fresh clone: make sure out/ holds a whole build to boot.
  await ok(["build", "--quiet"]);
  const r = await bootOk(script);
  assert.match(r.stdout, /error: generic netlink family xdp_lab_echo not found: load the module/);
  assert.match(r.stdout, /echo seq=1 rtt_us=\d+ hello lab\necho seq=2 rtt_us=\d+ again\n/);
  assert.match(r.stdout, /error: echo rejected: Invalid argument: Attribute failed policy validation/);
  assert.match(r.stdout, /\{"ok":true,"command":"echo","result":\{"text":"via socket","seq":\d+,"rtt_us":\d+\},"output":"echo seq=\d+ rtt_us=\d+ via socket\\n"\}/);
  assert.match(r.stdout, /\n0$/);
});

t.run();
