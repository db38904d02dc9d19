// xdp-lab-app on the host kernel, between two network namespaces the test creates and removes:
// attach, real traffic, exact counters, native and generic mode, the control socket, Lua and its
// limits, bad input. Needs root.
import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { tempDir } from "../helpers.ts";
import { REPO } from "../../src/paths.ts";
import { badObjects } from "./bad-objects.ts";
import { A, counter, idleClients, inB, out, ping, rawClient, registerAppSuite, startApp, startDaemon } from "./app-harness.ts";
import { parsePing } from "../../src/testing/traffic.ts";

const t = suite("xdp-lab-app (host netns)");
registerAppSuite(t);

t("control socket: JSON answers for load, stats, block, errors; two clients; ctl exit codes; tunables", async () => {
  const sock = join(await tempDir(), "app.sock");
  const app = await startDaemon(sock);
  let r = await app.ctl("load", join(out, "drop.bpf.o"), "xa");
  assert.is(r.code, 0);
  assert.equal({ ...r.answer.result, id: 0 }, { iface: "xa", program: "xdp_drop", object: join(out, "drop.bpf.o"), mode: "native", id: 0 });
  assert.ok(r.answer.result.id > 0);
  assert.equal(parsePing((await ping(3)).stdout), { transmitted: 3, received: 0 });
  r = await app.ctl("stats");
  const prog = r.answer.result.programs[0];
  assert.equal([prog.iface, prog.mode, prog.verdicts.drop.packets, prog.verdicts.pass.packets], ["xa", "native", 3, 0]);
  assert.is(prog.verdicts.drop.bytes, 3 * 98);

  // Errors: ok:false with the console's message, exit 1, and the app keeps serving.
  r = await app.ctl("frobnicate");
  assert.equal([r.code, r.answer.ok, r.answer.error], [1, false, "unknown command 'frobnicate': type help"]);
  r = await app.ctl("block", "10.98.0.999");
  assert.equal([r.code, r.answer.ok], [1, false]);
  assert.match(r.answer.error, /'10\.98\.0\.999' is not an IPv4 address/);
  r = await app.ctl("load", join(out, "nothere.bpf.o"), "xb");
  assert.match(r.answer.error, /cannot read object .*nothere\.bpf\.o/);

  // Two clients at once, each gets its own answers in order.
  const [c1, c2] = await Promise.all([rawClient(sock), rawClient(sock)]);
  const [a1, a2] = await Promise.all([c1.ask("unload xa"), c2.ask("help")]);
  assert.equal([a1.command, a1.ok, a1.result.iface], ["unload", true, "xa"]);
  assert.equal([a2.command, a2.ok], ["help", true]);
  assert.ok(a2.result.commands.includes("load"));
  c1.close();
  c2.close();

  // Tunables: report_every_packet=1 set before load makes every packet an event.
  r = await app.ctl("load", join(out, "firewall.bpf.o"), "xa", "generic", "report_every_packet=1");
  assert.equal([r.code, r.answer.result.mode], [0, "generic"]);
  assert.is(parsePing((await ping(4)).stdout)?.received, 4);
  await new Promise((res) => setTimeout(res, 200));
  r = await app.ctl("stats");
  assert.is(r.answer.result.events, 4);
  r = await app.ctl("block", "10.98.0.2");
  assert.equal(r.answer.result, { ip: "10.98.0.2", programs: 1 });
  assert.is(parsePing((await ping(2)).stdout)?.received, 0);
  r = await app.ctl("unload", "xa");
  r = await app.ctl("load", join(out, "firewall.bpf.o"), "xa", "no_such_knob=1");
  assert.match(r.answer.error, /Failed to set no_such_knob=1 in .*firewall\.bpf\.o: .* - the object has no such const volatile global/);

  // A second app on the same socket is refused; quit stops the daemon and removes the socket.
  const second = await execa("ip", ["netns", "exec", A, join(out, "xdp-lab-app"), "--control", sock], { stdin: "ignore", reject: false });
  assert.is(second.exitCode, 1);
  assert.match(second.stderr, /another xdp-lab-app is running there/);
  r = await app.ctl("quit");
  assert.is(r.code, 0);
  assert.is((await app.proc).exitCode, 0);
  assert.not.ok(existsSync(sock));
  r = await app.ctl("stats");
  assert.is(r.code, 2);
});

t("control socket: 100 idle clients held open lock nobody out; the ones idle longest are closed for new ones", async () => {
  const sock = join(await tempDir(), "app.sock");
  const app = await startDaemon(sock);
  const idle = await idleClients(sock, 100);
  let r = await app.ctl("stats");
  assert.equal([r.code, r.answer.ok, r.answer.result?.programs], [0, true, []], JSON.stringify(r.answer));
  r = await app.ctl("load", join(out, "drop.bpf.o"), "xa");
  assert.equal([r.code, r.answer.ok, r.answer.result?.program], [0, true, "xdp_drop"], JSON.stringify(r.answer));
  assert.equal(parsePing((await ping(2)).stdout), { transmitted: 2, received: 0 });
  // 16 slots: 84 idle clients made room for the other idle ones, one for `stats` (whose slot was
  // free again for `load`): the 85 that connected first, and no others.
  for (let i = 0; i < 100 && idle.closed().length < 85; i++) await new Promise((res) => setTimeout(res, 20));
  assert.equal(idle.closed(), [...Array(85).keys()]);
  assert.match(app.output(), /all 16 client slots taken: closed the client idle longest/);
  idle.close();
  r = await app.ctl("quit");
  assert.is((await app.proc).exitCode, 0);
});

t("drop attached natively stops ping and counts exactly the pings; unload restores traffic", async () => {
  const app = startApp();
  assert.match(await app.send(`load ${join(out, "drop.bpf.o")} xa`), /loaded xdp_drop on xa mode=native/);
  assert.match((await execa("ip", ["-n", A, "link", "show", "xa"])).stdout, /prog\/xdp/);
  assert.equal(parsePing((await ping(4)).stdout), { transmitted: 4, received: 0 });
  assert.is(counter(await app.send("stats"), "drop"), 4);
  assert.match(await app.send("unload xa"), /unloaded xa/);
  assert.equal(parsePing((await ping(2)).stdout), { transmitted: 2, received: 2 });
  await app.send("quit");
  assert.is((await app.proc).exitCode, 0);
});

t("pass in generic mode: traffic flows, the counter moves by the pings, rates are reported", async () => {
  const app = startApp();
  assert.match(await app.send(`load ${join(out, "pass.bpf.o")} xa generic`), /mode=generic/);
  assert.equal(parsePing((await ping(3)).stdout), { transmitted: 3, received: 3 });
  const stats = await app.send("stats");
  assert.is(counter(stats, "pass"), 3);
  assert.match(stats, /stats xa pass packets=3 bytes=\d+ pps=\d+ bps=\d+/);
  await app.send("quit");
  await app.proc;
  const link = (await execa("ip", ["-n", A, "link", "show", "xa"])).stdout;
  assert.not.match(link, /prog\/xdp/, `quit detaches: ${link}\n${app.output()}`);
});

t("firewall: the first packet of a new source arrives as an event; block drops it, unblock lets it through", async () => {
  const app = startApp();
  assert.match(await app.send(`load ${join(out, "firewall.bpf.o")} xa`), /loaded xdp_firewall on xa/);
  assert.is(parsePing((await ping(3)).stdout)?.received, 3);
  await new Promise((r) => setTimeout(r, 100));
  const events = app.output().match(/event .*/g) ?? [];
  assert.equal(events, ["event src=10.98.0.2 dst=10.98.0.1 proto=1 sport=0 dport=0 verdict=pass reason=allowed len=98"], "one event for one new source");
  assert.match(await app.send("block 10.98.0.2"), /blocked 10\.98\.0\.2/);
  assert.equal(parsePing((await ping(4)).stdout), { transmitted: 4, received: 0 });
  assert.is(counter(await app.send("stats"), "drop"), 4);
  assert.match(await app.send("unblock 10.98.0.2"), /unblocked 10\.98\.0\.2/);
  assert.is(parsePing((await ping(2)).stdout)?.received, 2);
  assert.match(await app.send("block 10.98.0.300"), /error: '10\.98\.0\.300' is not an IPv4 address/);
  // IPv6 is passed, and the app says so instead of pretending to block it.
  assert.match(await app.send("block fd00:10:1::10"), /error: 'fd00:10:1::10' is IPv6: firewall\.bpf\.o keys its sources by IPv4 address and passes all IPv6 traffic - block IPv6 sources with xdp-filter/);
  await app.send("quit");
  await app.proc;
});

t("Lua: on_event gets the event's fields; the flood-guard example blocks a flooding source while another still gets through", async () => {
  const app = startApp(200);
  assert.match(await app.send(`load ${join(out, "firewall.bpf.o")} xa`), /loaded/);
  assert.match(await app.send(`lua ${join(out, "flood-guard.lua")}`), /lua loaded .*flood-guard\.lua/);
  const slow = inB("busybox", "ping", "-c", "12", "-i", "0.5", "-W", "1", "-I", "10.98.0.3", "10.98.0.1");
  // About 100 packets/s for 3 s against a limit of 50/s, checked every 200 ms.
  const flood = await inB("busybox", "ping", "-c", "300", "-i", "0.01", "-W", "1", "10.98.0.1");
  const slowResult = await slow;
  await new Promise((r) => setTimeout(r, 300));
  const text = app.output();
  assert.match(text, /lua: new source 10\.98\.0\.2 -> 10\.98\.0\.1 proto 1: pass/);
  assert.match(text, /lua: 10\.98\.0\.2 sends \d+ packets\/s \(limit 50\): blocking\nblocked 10\.98\.0\.2/);
  assert.not.match(text, /blocking\nblocked 10\.98\.0\.3/, "the slow source is not blocked");
  const received = Number(parsePing(flood.stdout)?.received);
  assert.ok(received < 150, `the flood was cut off early (${received} of 300 answered)`);
  assert.equal(parsePing(slowResult.stdout), { transmitted: 12, received: 12 }, "the other source still gets through");
  assert.ok(counter(await app.send("stats"), "drop") > 0);
  await app.send("quit");
  await app.proc;
});

t("load program=NAME: the first XDP program by default, another by name or section, an unknown one refused with the list; lua-unload stops the script", async () => {
  const dir = await tempDir();
  const obj = join(dir, "three_programs.bpf.o");
  await execa("clang", ["-g", "-O2", "-target", "bpf", "-I/usr/include/x86_64-linux-gnu", "-c", join(REPO, "test/fixtures/three_programs.bpf.c"), "-o", obj]);
  const sock = join(dir, "app.sock");
  const app = await startDaemon(sock);
  // The object's first program is a tc one: the default is its first XDP program.
  let r = await app.ctl("load", obj, "xa");
  assert.is(r.answer.result.program, "xdp_first");
  assert.equal(parsePing((await ping(2)).stdout), { transmitted: 2, received: 2 });
  r = await app.ctl("load", obj, "xa", "program=xdp_second");
  assert.equal([r.answer.result.program, r.answer.result.replaced > 0], ["xdp_second", true]);
  assert.equal(parsePing((await ping(2)).stdout), { transmitted: 2, received: 0 });
  // By section: the first program of section xdp.
  r = await app.ctl("load", obj, "xa", "program=xdp");
  assert.is(r.answer.result.program, "xdp_first");
  r = await app.ctl("load", obj, "xa", "program=nope");
  assert.equal([r.code, r.answer.ok], [1, false]);
  assert.match(r.answer.error, /three_programs\.bpf\.o has no program or section named 'nope': it has tc_hits \(section tc\), xdp_first \(section xdp\), xdp_second \(section xdp\)/);
  r = await app.ctl("load", obj, "xa", "program=tc_hits");
  assert.equal([r.code, r.answer.ok], [1, false], "a tc program is not attached as XDP");
  // stats lists programs with a stats map only: the traffic says xdp_first still runs.
  assert.equal(parsePing((await ping(2)).stdout), { transmitted: 2, received: 2 }, "a refused load leaves the program that ran");
  // A tunable beside program=NAME.
  r = await app.ctl("load", join(out, "firewall.bpf.o"), "xa", "program=xdp_firewall", "report_every_packet=1");
  assert.is(r.answer.result.program, "xdp_firewall");

  r = await app.ctl("lua-unload");
  assert.equal([r.code, r.answer.result], [0, { script: "" }]);
  r = await app.ctl("lua", join(out, "flood-guard.lua"));
  assert.is(r.code, 0);
  r = await app.ctl("lua-unload");
  assert.equal(r.answer.result, { script: join(out, "flood-guard.lua") });
  // No script: the firewall's events (one a packet, with the tunable) print as the app's own lines.
  const before = app.output().length;
  await ping(2);
  await new Promise((res) => setTimeout(res, 300));
  const after = app.output().slice(before);
  assert.match(after, /^event src=10\.98\.0\.2 /m);
  assert.not.match(after, /lua: /);
  await app.ctl("quit");
  await app.proc;
});

t("Lua errors are reported and the app keeps running; a reload replaces the script", async () => {
  const dir = await tempDir();
  await writeFile(join(dir, "bad.lua"), "function on_tick(\n");
  await writeFile(join(dir, "boom.lua"), "function on_tick() error('boom') end\n");
  await writeFile(join(dir, "quiet.lua"), "lab.log('quiet loaded')\n");
  const app = startApp();
  assert.match(await app.send(`lua ${join(dir, "bad.lua")}`), /error: lua: .*bad\.lua:2: .*near <eof>; the previous script keeps running/);
  assert.match(await app.send(`lua ${join(dir, "nonexistent.lua")}`), /error: lua: cannot open .*nonexistent\.lua/);
  assert.match(await app.send(`load ${join(out, "pass.bpf.o")} xa`), /loaded/);
  await app.send(`lua ${join(dir, "boom.lua")}`);
  await new Promise((r) => setTimeout(r, 1500));
  assert.match(app.output(), /error: lua on_tick: .*boom/);
  assert.match(await app.send(`lua ${join(dir, "quiet.lua")}`), /lua: quiet loaded\nlua loaded/);
  assert.match(await app.send("help"), /lua FILE/, "still running");
  await app.send("quit");
  await app.proc;
});

t("Lua cannot freeze the app: a hook over its time budget or memory limit is aborted and reported, the socket keeps answering", async () => {
  const dir = await tempDir();
  await writeFile(join(dir, "flood.lua"), "function on_tick() while true do end end\n");
  await writeFile(join(dir, "sneaky.lua"), "function on_tick()\n  while true do pcall(function() while true do end end) end\nend\n");
  await writeFile(join(dir, "hog.lua"), 't={} while true do t[#t+1]=string.rep("x",1e6) end\n');
  await writeFile(join(dir, "hogtick.lua"), 't={}\nfunction on_tick() while true do t[#t+1]=string.rep("x",1e6) end end\n');
  await writeFile(join(dir, "spin.lua"), "lab.log('starting')\nwhile true do end\n");
  const sock = join(dir, "app.sock");
  const app = await startDaemon(sock, "--interval-ms", "200");
  const waitFor = async (re: RegExp) => {
    for (let i = 0; i < 100 && !re.test(app.output()); i++) await new Promise((r) => setTimeout(r, 50));
    assert.match(app.output(), re);
  };
  const answersFast = async () => {
    const started = Date.now();
    const r = await app.ctl("stats");
    assert.is(r.code, 0);
    assert.ok(Date.now() - started < 1000, `stats answered in ${Date.now() - started} ms`);
  };

  let r = await app.ctl("lua", join(dir, "flood.lua"));
  assert.is(r.code, 0);
  await answersFast();
  await waitFor(/error: lua: flood\.lua: on_tick exceeded its 50 ms budget at line 1; hook aborted\n/);
  await answersFast();
  // Three overruns in a row turn the hook off, said once.
  await waitFor(/error: lua: flood\.lua: on_tick failed 3 times in a row over its limits: it is turned off/);
  assert.is(app.output().match(/flood\.lua: on_tick exceeded/g)?.length, 3);

  // Catching the budget's error with pcall does not help; the budget is settable.
  r = await app.ctl("lua-budget", "20");
  assert.equal([r.code, r.answer.result.budget_ms], [0, 20]);
  r = await app.ctl("lua-budget", "0");
  assert.match(r.answer.error, /'0' is not a budget: give milliseconds from 1 to 60000/);
  r = await app.ctl("lua", join(dir, "sneaky.lua"));
  assert.is(r.code, 0);
  await waitFor(/error: lua: sneaky\.lua: on_tick exceeded its 20 ms budget at line 2; hook aborted\n/);
  await answersFast();
  await waitFor(/error: lua: sneaky\.lua: on_tick failed 3 times in a row over its limits: it is turned off/);

  // The top-level chunk has the same budget; the script that ran before stays.
  r = await app.ctl("lua", join(dir, "spin.lua"));
  assert.equal([r.code, r.answer.error], [1, "lua: spin.lua: main chunk exceeded its 20 ms budget at line 2; the previous script keeps running"]);

  // Memory: at load, and in a hook (with time enough to fill it).
  r = await app.ctl("lua-budget", "1000");
  r = await app.ctl("lua", join(dir, "hog.lua"));
  assert.equal([r.code, r.answer.error], [1, "lua: hog.lua: out of memory (the limit is 64 MiB); the previous script keeps running"]);
  await answersFast();
  r = await app.ctl("lua", join(dir, "hogtick.lua"));
  assert.is(r.code, 0);
  await waitFor(/error: lua: hogtick\.lua: on_tick ran out of memory \(the limit is 64 MiB\); hook aborted\n/);
  await answersFast();
  r = await app.ctl("quit");
  assert.is((await app.proc).exitCode, 0);
});

t("bad input gets a clear message and the app keeps running", async () => {
  // out/ holds the suite's build (registerAppSuite); only the verifier-rejected object is extra.
  const { unbounded: obj } = await badObjects(await tempDir());
  const app = startApp();
  assert.match(await app.send("load /nonexistent/x.bpf.o xa"), /error: cannot read object \/nonexistent\/x\.bpf\.o: No such file/);
  assert.match(await app.send(`load ${join(out, "pass.bpf.o")} nosuch0`), /error: unknown interface 'nosuch0'/);
  assert.match(await app.send(`load ${obj} xa`), /error: Failed to load .*unbounded\.bpf\.o: [\s\S]*invalid access to packet/);
  assert.match(await app.send("frobnicate"), /error: unknown command 'frobnicate': type help/);
  assert.match(await app.send("echo hi"), /error: generic netlink family xdp_lab_echo not found: load the module/);
  assert.match(await app.send("block 10.0.0.1"), /error: no attached program has a sources map: load firewall\.bpf\.o first/);
  assert.match(await app.send("help"), /load OBJ IFACE/, "still running");
  await app.send("quit");
});

t.run();
