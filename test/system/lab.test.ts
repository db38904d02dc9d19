// The lab with real traffic: client -> VM -> server and the simulated internet, XDP programs loaded
// into the running VM, two labs at once, teardown (also after kill -9), and bad input. Needs root.
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { Readable } from "node:stream";
import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { execa } from "execa";
import { ADDR6, labPlan } from "../../network/plan.ts";
import { sha256 } from "../../src/build/hash.ts";
import { cleanup, tempDir } from "../helpers.ts";
import { badObjects } from "./bad-objects.ts";
import { XDP_LAB, ok, xdpLab } from "./cli.ts";
import { leftovers } from "./lab-leftovers.ts";
import { parsePing } from "../../src/testing/traffic.ts";

const t = suite("lab (namespaces, VM, real traffic)");
const A = `a${process.pid}`.slice(0, 12);
const B = `b${process.pid}`.slice(0, 12);
let out = "";

const on = (lab: string, host: string, ...cmd: string[]) => xdpLab(["exec", host, "--name", lab, "--", ...cmd]);

t.before(async () => {
  out = await tempDir();
  await ok(["build", "--quiet", "--out", out]);
  await ok(["up", "--name", A, "--out", out]);
});

t.after(async () => {
  for (const n of [A, B, `k${process.pid}`.slice(0, 12), `d${process.pid}`.slice(0, 12), `v${process.pid}`.slice(0, 12)]) await xdpLab(["down", "--name", n]);
  await cleanup();
});

t("client reaches server through the VM by name: ping and a 4 MiB TCP transfer", async () => {
  const ping = await on(A, "client", "busybox", "ping", "-4", "-c", "3", "-W", "2", "server");
  assert.is(ping.exitCode, 0, ping.stdout + ping.stderr);
  assert.equal(parsePing(ping.stdout), { transmitted: 3, received: 3 });
  // TTL 63: one router (the VM) between them.
  assert.match(ping.stdout, /ttl=63/);
  const page = await on(A, "client", "curl", "-sS", "http://server/");
  assert.is(page.stdout, `xdp-lab ${A}: hello from the server`);
  const blob = await execa("ip", ["netns", "exec", labPlan(A).ns.client, "curl", "-sS", "--max-time", "60", "http://server/blob"], { encoding: "buffer" });
  const want = await readFile(`${labPlan(A).files.www}/server/blob`);
  assert.is(blob.stdout.length, 4 << 20);
  assert.is(sha256(Buffer.from(blob.stdout)), sha256(want));
});

t("client reaches the simulated internet through NAT; the far end sees the edge's WAN-side address", async () => {
  const r = await on(A, "client", "curl", "-sS", "--max-time", "10", "http://internet/cgi-bin/ip");
  assert.is(r.exitCode, 0, r.stderr);
  assert.is(r.stdout.trim(), "198.51.100.1");
  // The internet cannot reach into the lab: no route to the private subnets.
  const back = await on(A, "internet", "busybox", "ping", "-c", "1", "-W", "1", "10.10.1.10");
  assert.is.not(back.exitCode, 0);
});

t("exec returns the command's output and status on every host", async () => {
  const vm = await on(A, "vm", "sh", "-c", "hostname; ip -br link show lan0; exit 3");
  assert.is(vm.exitCode, 3);
  assert.match(vm.stdout, /^xdp\nlan0\s+UP/);
  for (const [host, addr] of [["client", "10.10.1.10"], ["server", "10.10.2.10"], ["internet", "198.51.100.100"]]) {
    const r = await on(A, host!, "ip", "-br", "addr", "show", "eth0");
    assert.is(r.exitCode, 0);
    assert.match(r.stdout, new RegExp(`${addr!.replace(/\./g, "\\.")}/24`));
  }
});

t("the VM's ssh answers on the management link only: not from the client or the server", async () => {
  // The management link's firewall is in place, one inet table for IPv4 and IPv6 (NF_TABLES_INET).
  const fw = await on(A, "vm", "nft list tables");
  assert.match(fw.stdout, /^table inet xdp_lab_mgmt$/m, fw.stdout + fw.stderr);
  for (const host of ["client", "server"]) {
    const r = await on(A, host, "curl", "-sS", "--max-time", "2", "telnet://169.254.100.2:22");
    assert.is.not(r.exitCode, 0, `${host} reached the VM's sshd`);
    const lan = await on(A, host, "curl", "-sS", "--max-time", "2", "telnet://10.10.1.1:22");
    assert.is.not(lan.exitCode, 0, `${host} reached sshd on a data port`);
  }
});

t("over IPv6 too: an sshd listening on the VM's lab addresses is not reached on port 22 from the client or the server, and is on another port", async () => {
  // The VM's own sshd listens on the management address only; a second one listens on the lab's
  // IPv6 addresses of lan0 and wan0, on 22 and on 2222, so that only the firewall stands between it
  // and the client or the server.
  const listen = [ADDR6.lan.vm, ADDR6.wan.vm].flatMap((a) => ["-p", `[${a}]:22`, "-p", `[${a}]:2222`]);
  const started = await on(A, "vm", "dropbear", "-r", "/etc/dropbear/host_ed25519", ...listen, "-P", "/run/dropbear-v6.pid");
  assert.is(started.exitCode, 0, started.stderr);
  try {
    for (const [host, addr] of [["client", ADDR6.lan.vm], ["server", ADDR6.wan.vm]] as const) {
      // The control: the IPv6 path works, and an sshd answers there with its banner.
      const other = await on(A, host, "curl", "-sS", "--max-time", "3", `telnet://[${addr}]:2222`);
      assert.match(other.stdout, /^SSH-2\.0-dropbear/, `${host}: the control failed, no banner on [${addr}]:2222 (${other.stderr})`);
      const ssh = await on(A, host, "curl", "-sS", "--max-time", "3", `telnet://[${addr}]:22`);
      assert.not.match(ssh.stdout, /SSH-2\.0/, `${host} reached an sshd on [${addr}]:22`);
      assert.is.not(ssh.exitCode, 0);
    }
  } finally {
    await on(A, "vm", "sh", "-c", "kill $(cat /run/dropbear-v6.pid)");
  }
});

interface Verdicts {
  drop: { packets: number };
  pass: { packets: number };
}

/** The counters of the program on lan0, from `status --json` (the app's stats in the VM). */
async function lanCounters(lab: string): Promise<{ program: string; mode: string; verdicts: Verdicts }> {
  const s = JSON.parse(await ok(["status", "--name", lab, "--json"])) as { programs: { programs: { iface: string; program: string; mode: string; verdicts: Verdicts }[] } };
  const lan = s.programs.programs.find((p) => p.iface === "lan0");
  assert.ok(lan, `no program on lan0: ${JSON.stringify(s.programs)}`);
  return lan!;
}

const pingServer = (lab: string, n: number, from = "10.10.1.10") =>
  on(lab, "client", "busybox", "ping", "-4", "-c", String(n), "-W", "1", "-i", "0.2", "-I", from, "server");

t("drop on the LAN port: pings fail and the drop counter equals the pings sent; unload: traffic flows again", async () => {
  const loaded = JSON.parse(await ok(["load", `${out}/drop.bpf.o`, "--name", A, "--iface", "lan", "--json"])) as { ok: boolean; result: { mode: string; program: string } };
  assert.is(loaded.result.program, "xdp_drop");
  // virtio-net with enough queues: the driver runs the program itself.
  assert.is(loaded.result.mode, "native");
  const r = await pingServer(A, 5);
  assert.is.not(r.exitCode, 0);
  assert.equal(parsePing(r.stdout), { transmitted: 5, received: 0 });
  const c = await lanCounters(A);
  assert.is(c.mode, "native");
  assert.is(c.verdicts.drop.packets, 5);
  assert.is(c.verdicts.pass.packets, 0);
  const vm = await on(A, "vm", "xdp-lab-app", "ctl", "unload", "lan0");
  assert.is(vm.exitCode, 0, vm.stdout);
  const again = await pingServer(A, 2);
  assert.is(again.exitCode, 0, again.stdout);
});

t("a rejected load leaves the running program attached: drop still drops, its counter moves, status shows it", async () => {
  const dir = await tempDir();
  const { unbounded, random } = await badObjects(dir);
  const loaded = JSON.parse(await ok(["load", `${out}/drop.bpf.o`, "--name", A, "--json"])) as { result: { id: number } };
  let dropped = (await lanCounters(A)).verdicts.drop.packets;
  for (const [object, why] of [
    [unbounded, /Failed to load .*unbounded\.bpf\.o[\s\S]*invalid access to packet/],
    // Refused on the host before any copy, by the path given, with the fix.
    [random, new RegExp(`xdp-lab: ${random}: not a BPF ELF object \\(it does not start with ELF's magic bytes, 7f 45 4c 46\\)\\. Fix: give an object compiled with clang -target bpf`)],
  ] as const) {
    const r = await xdpLab(["load", object, "--name", A]);
    assert.is(r.exitCode, 1, r.stdout);
    assert.match(r.stderr, why);
    assert.not.match(r.stderr, /\/run\/xdp-lab\/obj/, "the guest's copy named instead of the user's path");
    const ping = await pingServer(A, 3);
    assert.equal(parsePing(ping.stdout), { transmitted: 3, received: 0 }, "drop no longer drops");
    const c = await lanCounters(A);
    assert.is(c.program, "xdp_drop");
    assert.is(c.verdicts.drop.packets, dropped + 3, "drop's counter did not move by the pings sent");
    dropped = c.verdicts.drop.packets;
    const s = JSON.parse(await ok(["status", "--name", A, "--json"])) as { programs: { programs: { iface: string; id: number }[] } };
    assert.is(s.programs.programs.find((p) => p.iface === "lan0")?.id, loaded.result.id, "status no longer shows the same program");
  }
  // A good object replaces it in one step, and says which program it replaced.
  const pass = JSON.parse(await ok(["load", `${out}/pass.bpf.o`, "--name", A, "--json"])) as { result: { replaced: number } };
  assert.is(pass.result.replaced, loaded.result.id);
  const flows = await pingServer(A, 2);
  assert.is(flows.exitCode, 0, flows.stdout);
  await ok(["exec", "vm", "--name", A, "--", "xdp-lab-app", "ctl", "unload", "lan0"]);
});

t("pass, native and generic: traffic flows and the pass counter counts exactly the requests", async () => {
  for (const mode of ["native", "generic"]) {
    await ok(["load", `${out}/pass.bpf.o`, "--name", A, "--mode", mode]);
    const r = await pingServer(A, 4);
    assert.is(r.exitCode, 0, r.stdout);
    const c = await lanCounters(A);
    assert.is(c.mode, mode);
    assert.is(c.verdicts.pass.packets, 4, `${mode}: ${JSON.stringify(c)}`);
  }
  // Loading over a loaded program replaces it: a rebuilt object goes live without a reboot.
  await ok(["exec", "vm", "--name", A, "--", "xdp-lab-app", "ctl", "unload", "lan0"]);
});

t("firewall + flood-guard.lua: the flooding source is blocked, another source still gets through", async () => {
  await ok(["load", `${out}/firewall.bpf.o`, "--name", A]);
  const lua = await on(A, "vm", "xdp-lab-app", "ctl", "lua", "/usr/lib/xdp-lab/lua/flood-guard.lua");
  assert.is(lua.exitCode, 0, lua.stdout);
  await on(A, "client", "ip", "addr", "add", "10.10.1.11/24", "dev", "eth0");
  // About 200 packets/s for 2 s from 10.10.1.10; the script's limit is 50/s.
  await on(A, "client", "busybox", "ping", "-4", "-q", "-c", "400", "-i", "0.005", "-W", "1", "-I", "10.10.1.10", "server");
  const flooder = await pingServer(A, 3, "10.10.1.10");
  assert.equal(parsePing(flooder.stdout), { transmitted: 3, received: 0 });
  const other = await pingServer(A, 3, "10.10.1.11");
  assert.equal(parsePing(other.stdout), { transmitted: 3, received: 3 });
  const log = await on(A, "vm", "cat", "/var/log/xdp-lab-app.log");
  assert.match(log.stdout, /lua: 10\.10\.1\.10 sends \d+ packets\/s \(limit 50\): blocking/);
  assert.not.match(log.stdout, /10\.10\.1\.11 sends/);
  await on(A, "vm", "xdp-lab-app", "ctl", "unload", "lan0");
  await on(A, "client", "ip", "addr", "del", "10.10.1.11/24", "dev", "eth0");
});

t("the echo module answers through the app's control socket in the VM", async () => {
  const r = await on(A, "vm", "xdp-lab-app", "ctl", "echo", "hello lab");
  assert.is(r.exitCode, 0, r.stdout);
  const answer = JSON.parse(r.stdout) as { ok: boolean; result: { text: string; seq: number; rtt_us: number } };
  assert.is(answer.result.text, "hello lab");
  assert.ok(answer.result.seq >= 1);
  assert.ok(answer.result.rtt_us > 0);
});

t("ssh: a shell in the VM (commands on stdin, its exit status back); console: the serial console until Ctrl-]", async () => {
  const ssh = await execa(XDP_LAB, ["ssh", "--name", A], { input: "hostname\nexit 4\n", reject: false, timeout: 30_000 });
  assert.is(ssh.exitCode, 4);
  assert.is(ssh.stdout.trim(), "xdp");
  const steps = async function* () {
    yield "\n";
    await new Promise((r) => setTimeout(r, 1000));
    yield "echo console-$((40+2))\n";
    await new Promise((r) => setTimeout(r, 2000));
    yield "\x1d";
  };
  const con = await execa(XDP_LAB, ["console", "--name", A], { input: Readable.from(steps()), reject: false, timeout: 30_000 });
  assert.is(con.exitCode, 0, con.stderr);
  assert.match(con.stdout, /^console-42\r?$/m);
  assert.match(con.stderr, /Ctrl-\] leaves/);
});

t("status --json names the hosts, the VM process and the uplink", async () => {
  const s = JSON.parse(await ok(["status", "--name", A, "--json"])) as { phase: string; vm: { running: boolean; pid: number }; namespaces: Record<string, boolean>; uplink: string };
  assert.is(s.phase, "up");
  assert.ok(s.vm.running);
  assert.equal(s.namespaces, { lab: true, client: true, server: true, internet: true });
  assert.match(s.uplink, /simulated internet/);
  assert.ok(existsSync(`/proc/${s.vm.pid}`));
});

t("tmux: one session, four panes: host shell, VM, server, client", async () => {
  await ok(["tmux", "--name", A, "--no-attach"]);
  const panes = await execa("tmux", ["list-panes", "-t", labPlan(A).tmux, "-F", "#{pane_title}"]);
  assert.equal(panes.stdout.split("\n"), ["host", "xdp vm", "server", "client"]);
  await execa("tmux", ["kill-session", "-t", labPlan(A).tmux]);
});

t("bad input: a lab already up, missing artifacts, unknown host, missing object, not root", async () => {
  let r = await xdpLab(["up", "--name", A, "--out", out]);
  assert.is(r.exitCode, 1);
  assert.match(r.stderr, new RegExp(`Lab "${A}" is already up.*Fix: pick another --name`));
  const empty = await tempDir();
  r = await xdpLab(["up", "--name", B, "--out", empty]);
  assert.is(r.exitCode, 1);
  assert.match(r.stderr, new RegExp(`${empty}/bzImage and ${empty}/initramfs.img missing. Fix: run ./xdp-lab build`));
  assert.equal(await leftovers(B), []);
  r = await on(A, "router", "true");
  assert.is(r.exitCode, 1);
  assert.match(r.stderr, /Unknown host "router". Fix: use one of vm, client, server, internet/);
  r = await xdpLab(["load", "/nonexistent/x.bpf.o", "--name", A]);
  assert.is(r.exitCode, 1);
  assert.match(r.stderr, /No such XDP object: \/nonexistent\/x\.bpf\.o\. Fix:/);
  const asNobody = await execa("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", XDP_LAB, "up", "--name", B, "--out", out], { reject: false });
  assert.is(asNobody.exitCode, 1);
  assert.match(asNobody.stderr, /xdp-lab up needs root.*Fix: run it as root/);
});

t("exec: the README's ping works as typed; a missing program is named with its package, on the host and in the VM", async () => {
  const ping = await on(A, "client", "ping", "-c", "1", "-W", "2", "server");
  assert.is(ping.exitCode, 0, ping.stdout + ping.stderr);
  let r = await on(A, "client", "no-such-program-xl", "--flag");
  assert.is(r.exitCode, 1);
  assert.match(r.stderr, /"no-such-program-xl" is not installed on this machine \(the lab's client, server and internet run the machine's own programs\)\. Fix: install the Debian package/);
  r = await on(A, "server", "no-such-program-xl --flag");
  assert.is(r.exitCode, 127);
  assert.match(r.stderr, /xdp-lab: "no-such-program-xl" is not installed on this machine/);
  r = await on(A, "vm", "no-such-program-xl");
  assert.is(r.exitCode, 127);
  assert.match(r.stderr, /xdp-lab: "no-such-program-xl" is not in the VM/);
});

t("a dead VM is reported as dead: status says how qemu ended; exec, load, ssh and console refuse with the fix", async () => {
  const V = `v${process.pid}`.slice(0, 12);
  const plan = labPlan(V);
  await ok(["up", "--name", V, "--out", out]);
  process.kill(Number((await readFile(plan.files.pid, "utf8")).trim()), "SIGKILL");
  for (let i = 0; i < 100 && !existsSync(plan.files.qemuExit); i++) await new Promise((r) => setTimeout(r, 50));
  const killed = "qemu was killed by signal 9 \\(SIGKILL\\)";
  const st = await xdpLab(["status", "--name", V]);
  assert.is(st.exitCode, 1, "a degraded lab is not a healthy status");
  assert.match(st.stdout, new RegExp(`lab ${V}: degraded: the VM is not running \\(${killed}\\)\\. Fix: ./xdp-lab down --name ${V} && ./xdp-lab up --name ${V}`));
  assert.match(st.stdout, new RegExp(`console log: ${plan.files.consoleLog}`));
  const json = JSON.parse((await xdpLab(["status", "--name", V, "--json"])).stdout) as { degraded: string; vm: { running: boolean; ended: string } };
  assert.is(json.vm.running, false);
  assert.is(json.vm.ended, "qemu was killed by signal 9 (SIGKILL)");
  const refusal = new RegExp(`The VM of lab ${V} is not running \\(${killed}\\)\\. Console log: ${plan.files.consoleLog}\nFix: ./xdp-lab down --name ${V} && ./xdp-lab up --name ${V}`);
  for (const args of [["exec", "vm", "--name", V, "--", "true"], ["load", `${out}/pass.bpf.o`, "--name", V], ["ssh", "--name", V], ["console", "--name", V]]) {
    const r = await xdpLab(args);
    assert.is(r.exitCode, 1, args.join(" "));
    assert.match(r.stderr, refusal, args.join(" "));
  }
  await ok(["down", "--name", V]);
  assert.equal(await leftovers(V), []);
});

t("the VM dying during boot: the console's tail is shown and nothing is left", async () => {
  const D = `d${process.pid}`.slice(0, 12);
  const r = await xdpLab(["up", "--name", D, "--out", out, "--append", "rdinit=/nonexistent", "--append", "init=/nonexistent"]);
  assert.is(r.exitCode, 1);
  assert.match(r.stderr, /The VM's kernel panicked during boot( \(qemu exited with status \d+[^\n]*\))?\. Last console lines:/, r.stderr.slice(-3000));
  assert.match(r.stderr, /Kernel panic - not syncing: Requested init \/nonexistent failed/);
  const kept = `${out}/logs/lab-${D}.console.log`;
  assert.match(r.stderr, new RegExp(`Full console log: ${kept}`));
  assert.match(await readFile(kept, "utf8"), /Kernel panic/);
  assert.equal(await leftovers(D), []);
});

t("two labs side by side; down removes one and leaves the other working", async () => {
  await ok(["up", "--name", B, "--out", out]);
  for (const lab of [A, B]) {
    const r = await on(lab, "client", "curl", "-sS", "http://server/");
    assert.is(r.stdout, `xdp-lab ${lab}: hello from the server`);
  }
  await ok(["down", "--name", B]);
  assert.equal(await leftovers(B), []);
  const again = await ok(["down", "--name", B]);
  assert.match(again, /nothing to remove/);
  const r = await on(A, "client", "curl", "-sS", "http://server/");
  assert.is(r.exitCode, 0);
});

t("down after kill -9 of the runner during up leaves nothing", async () => {
  const K = `k${process.pid}`.slice(0, 12);
  const plan = labPlan(K);
  const runner = execa(XDP_LAB, ["up", "--name", K, "--out", out], { reject: false, detached: true });
  for (let i = 0; i < 600 && !existsSync(plan.files.pid); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(existsSync(plan.files.pid), "up never started qemu");
  process.kill(-runner.pid!, "SIGKILL");
  await runner;
  assert.ok((await leftovers(K)).length > 0, "the kill left nothing to clean: the test proves nothing");
  await ok(["down", "--name", K]);
  assert.equal(await leftovers(K), []);
});

t.run();
