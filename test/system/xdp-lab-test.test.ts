// `xdp-lab test` for real: the repository's tests/ pass in a lab of the runner's own (exit 0, JUnit,
// JSON, the job summary), a test written to fail fails with its wanted/got lines and a complete
// artefact folder (exit 1), a malformed file is refused with its line and field (exit 2), and no
// lab is left behind unless --keep-lab. Needs root and qemu; in CI (CI=true) nothing is skipped.
import { existsSync } from "node:fs";
import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { parse as parseJunit, type TestSuites } from "junit2json";
import { execa } from "execa";
import { parse as parseYaml } from "yaml";
import { ARTEFACTS } from "../../src/testing/artefacts.ts";
import type { RunResult } from "../../src/testing/report.ts";
import { DEFAULT_OUT, REPO } from "../../src/paths.ts";
import { cleanup, tempDir } from "../helpers.ts";
import { ok, xdpLab } from "./cli.ts";
import { validateJunit } from "../testing/junit-schema.ts";
import { leftovers } from "./lab-leftovers.ts";

const t = suite("xdp-lab test (the runner, real labs)");
// A system test never skips silently: off root it fails, saying why. At load, not in a before hook:
// uvu 0.5 neither prints nor counts as failed an error thrown by a hook, and exits 0.
if (process.getuid?.() !== 0) throw new Error("xdp-lab test's system test needs root: run it as root, as CI does");
const kept: string[] = [];

/** The lab a run used, from its last line ("... (12.3 s, lab t1234)"). */
function labOf(out: string): string {
  const name = /lab (t\d+)\)/.exec(out)?.[1];
  if (!name) throw new Error(`no lab named in: ${out}`);
  return name;
}

t.before(async () => {
  // Reuses the build cache: a warm kernel, the objects tests/ names in out/.
  await ok(["build", "--quiet"]);
});

t.after(async () => {
  for (const name of kept) await xdpLab(["down", "--name", name]);
  await cleanup();
});

t("tests/ passes: exit 0, a PASS line per test, JUnit read by junit2json, JSON with every measured value, the job summary, no lab left", async () => {
  const dir = await tempDir();
  const summary = join(dir, "summary.md");
  await writeFile(summary, "before\n");
  const files = (await readdir(join(REPO, "tests"))).filter((f) => f.endsWith(".yaml"));
  const names = (await Promise.all(files.map(async (f) => (parseYaml(await readFile(join(REPO, "tests", f), "utf8")) as { tests: { name: string }[] }).tests.map((x) => x.name)))).flat();
  const r = await xdpLab(["test", "tests/", "--junit", join(dir, "junit.xml"), "--json", join(dir, "result.json"), "--results", join(dir, "results")], {
    env: { GITHUB_STEP_SUMMARY: summary },
  });
  assert.is(r.exitCode, 0, r.stdout + r.stderr);
  for (const name of names) assert.match(r.stdout, new RegExp(`^PASS ${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} \\(\\d+\\.\\d s\\)$`, "m"));
  assert.match(r.stdout, new RegExp(`^${names.length} passed, 0 failed`, "m"));

  const junitXml = await readFile(join(dir, "junit.xml"), "utf8");
  const valid = await validateJunit(junitXml);
  assert.ok(valid.ok, `the JUnit file against the Jenkins schema: ${valid.said}`);
  const junit = (await parseJunit(junitXml)) as TestSuites;
  assert.is(junit.tests, names.length);
  assert.is(junit.failures, 0);
  assert.equal(junit.testsuite!.map((s) => s.name).sort(), files.map((f) => `tests/${f}`).sort());

  const json = JSON.parse(await readFile(join(dir, "result.json"), "utf8")) as RunResult;
  assert.equal(json.summary, { passed: names.length, failed: 0, skipped: 0 });
  const pass4 = json.tests.find((x) => x.name === "pass forwards IPv4 pings and counts each")!;
  assert.equal(pass4.steps[0]!.measured, { transmitted: 5, received: 5 });
  assert.equal(pass4.maps.map((m) => [m.map, m.key, m.delta]), [["stats", 2, "5"], ["stats", 1, "0"]]);
  // tests/traffic.yaml: what each kind of step measured, and the captures' counts.
  const traffic = (name: string) => json.tests.find((x) => x.name === name)!;
  const flood = traffic("pass counts a UDP flood of 500 datagrams").steps[0]!;
  assert.is(flood.measured.sentPackets, 500);
  assert.ok(Number(flood.measured.receivedPackets) > 0, JSON.stringify(flood.measured));
  assert.equal(flood.packets!.map((p) => [p.port, p.count]), [["lan", 500]]);
  const replay = traffic("pass forwards a replayed pcap and counts each frame").steps[0]!;
  assert.equal([replay.measured.packets, replay.measured.bytes, replay.measured.failed], [5, 490, 0]);
  const perf = traffic("iperf3 through pass reaches its throughput").steps;
  assert.ok(Number(perf[0]!.measured.bitsPerSecond) >= 20e6 && Number(perf[0]!.measured.receivedBytes) > 0, JSON.stringify(perf[0]!.measured));
  const dropped = traffic("drop makes a TCP connect and an HTTP GET unreachable");
  assert.is(dropped.steps[0]!.measured.outcome, "timeout");
  assert.equal(dropped.steps[0]!.packets!.map((p) => [p.port, p.count > 0]), [["lan", true], ["wan", false]]);
  assert.ok(dropped.captured!.lan > 0 && dropped.captured!.wan === 0, JSON.stringify(dropped.captured));

  const md = await readFile(summary, "utf8");
  assert.ok(md.startsWith("before\n### xdp-lab test: all passed"), md);
  assert.is(md.split("\n").filter((l) => l.startsWith("| ✅ pass |")).length, names.length);
  // Nothing failed: no artefacts.
  assert.not.ok(existsSync(join(dir, "results")));
  assert.equal(await leftovers(labOf(r.stdout)), []);
});

t("examples/tests/ passes: the files users start from, the XDP router among them, work as written", async () => {
  const dir = await tempDir();
  const r = await xdpLab(["test", "examples/tests/", "--json", join(dir, "result.json")]);
  assert.is(r.exitCode, 0, r.stdout + r.stderr);
  const json = JSON.parse(await readFile(join(dir, "result.json"), "utf8")) as RunResult;
  const router = json.tests.find((x) => x.file === "examples/tests/router.yaml" && x.name.startsWith("IPv4 is forwarded in XDP"));
  assert.ok(router, "the router example ran");
  // Redirected (slot 4) on both ports: the IPv4 path was XDP's, not the kernel's.
  const redirected = router.maps.filter((m) => m.map === "stats" && m.key === 4).map((m) => Number(m.delta));
  assert.is(redirected.length, 2);
  for (const n of redirected) assert.ok(n >= 6, `redirected ${n}`);
  assert.equal(await leftovers(labOf(r.stdout)), []);
});

t("a test written to fail: exit 1, the wanted/got lines, its artefact folder complete, the rest skipped; --keep-lab keeps the lab and says how to remove it", async () => {
  const dir = await tempDir();
  const file = join(dir, "fails.yaml");
  await writeFile(
    file,
    [
      "tests:",
      "  - name: pass taken for drop",
      "    setup:",
      `      programs: [ { object: ${join(DEFAULT_OUT, "pass.bpf.o")}, port: lan } ]`,
      "    traffic:",
      "      - ping: { from: client, to: server, family: 4, count: 3 }",
      "        expect: unreachable",
      "      - command: { host: vm, run: 'uname -s', output: '^Plan9$' }",
      "      - tcp: { from: client, to: server, family: 4, port: 80 }",
      "        expect: unreachable",
      "        packets: [ { port: wan, filter: 'tcp port 80', none: true } ]",
      "    expect:",
      "      maps: [ { map: stats, key: 1, field: packets, delta: { exactly: 3 } } ]",
      "      dmesg: clean",
      "  - name: never runs",
      "    traffic: [ { command: { host: vm, run: 'true' } } ]",
    ].join("\n") + "\n",
  );
  const results = join(dir, "results");
  const r = await xdpLab(["test", file, "--results", results, "--keep-lab", "--tap"]);
  kept.push(labOf(r.stderr));
  assert.is(r.exitCode, 1, r.stdout + r.stderr);
  // --tap: stdout is TAP alone; the human lines go to stderr.
  assert.ok(r.stdout.startsWith("TAP version 13\n1..2\nnot ok 1 "), r.stdout);
  assert.match(r.stdout, /^ok 2 .*never runs # SKIP /m);
  for (const out of [r.stdout, r.stderr]) {
    assert.match(out, "map stats key 1 packets: wanted exactly 3, got 0");
    assert.match(out, "ping -4 client -> server: wanted unreachable (0/3 replies), got 3/3 replies");
    assert.match(out, 'command on vm: uname -s: wanted output matching /^Plan9$/, got "Linux"');
    assert.match(out, "tcp -4 client -> server:80: wanted unreachable (no connection), got connected");
    assert.match(out, /tcp -4 client -> server:80: packets at wan matching "tcp port 80": wanted none, got [1-9]\d*/);
  }
  assert.match(r.stderr, /^FAIL pass taken for drop \(\d+\.\d s\)$/m);

  const folder = join(results, "fails", "pass-taken-for-drop");
  assert.match(r.stderr, `artefacts: ${folder}`);
  assert.equal((await readdir(folder)).sort(), [...ARTEFACTS].sort());
  for (const f of ARTEFACTS) assert.ok((await stat(join(folder, f))).size > 0, `${f} is empty`);
  assert.match(await readFile(join(folder, "dmesg.txt"), "utf8"), /Linux version/);
  const status = JSON.parse(await readFile(join(folder, "status.json"), "utf8")) as { name: string; phase: string; attached: { name: string }[] };
  assert.is(status.phase, "up");
  assert.equal(status.attached.map((p) => p.name), ["xdp_pass"]);
  const progs = JSON.parse(await readFile(join(folder, "bpftool-prog.json"), "utf8")) as { name?: string }[];
  assert.ok(progs.some((p) => p.name === "xdp_pass"));
  const maps = JSON.parse(await readFile(join(folder, "bpftool-map.json"), "utf8")) as { name?: string }[];
  assert.ok(maps.some((m) => m.name === "stats"));
  const ran = parseYaml(await readFile(join(folder, "test.yaml"), "utf8")) as { tests: { name: string; traffic: { ping?: { interval: number } }[] }[] };
  assert.is(ran.tests[0]!.name, "pass taken for drop");
  assert.is(ran.tests[0]!.traffic[0]!.ping!.interval, 0.2);
  // The ports' pcaps, read by tcpdump: the 3 echo requests on lan0's side, the connection on both.
  const read = async (port: string, filter: string) => (await execa("tcpdump", ["-n", "-r", join(folder, `${port}.pcap`), filter], { reject: false })).stdout.split("\n").filter(Boolean).length;
  assert.is(await read("lan", "icmp[icmptype] = icmp-echo and src host 10.10.1.10"), 3);
  assert.ok((await read("wan", "tcp port 80 and tcp[tcpflags] & tcp-syn != 0")) >= 2);

  // --keep-lab: still up, and the way out printed.
  const lab = kept[0]!;
  assert.match(r.stderr, `./xdp-lab down --name ${lab}`);
  const st = await xdpLab(["status", "--name", lab, "--json"]);
  assert.is((JSON.parse(st.stdout) as { phase: string }).phase, "up");
  await ok(["down", "--name", lab]);
  assert.equal(await leftovers(lab), []);
});

t("objects read when the file is: a program the object lacks and a section libbpf 1.x refuses (SEC(\"xdp_foo\")) exit 2 at file:line with the field, the object's programs and the fix, before any lab boots", async () => {
  const dir = await tempDir();
  const three = join(dir, "three_programs.bpf.o");
  const old = join(dir, "old_section.bpf.o");
  for (const [src, o] of [["three_programs", three], ["old_section", old]] as const) {
    await execa("clang", ["-g", "-O2", "-target", "bpf", "-I/usr/include/x86_64-linux-gnu", "-c", join(REPO, `test/fixtures/${src}.bpf.c`), "-o", o]);
  }
  const file = join(dir, "objects.yaml");
  const ping = "[ { ping: { from: client, to: server, family: 4, count: 1 }, expect: reachable } ]";
  await writeFile(
    file,
    [
      "tests:",
      "  - name: no such program",
      `    setup: { programs: [ { object: ${three}, port: lan, program: nope } ] }`,
      `    traffic: ${ping}`,
      "  - name: an old section name",
      "    setup:",
      "      programs:",
      `        - object: ${old}`,
      "          port: lan",
      `    traffic: ${ping}`,
      "  - name: the old section by its program's name",
      `    setup: { programs: [ { object: ${old}, port: wan, program: xdp_pass_all } ] }`,
      `    traffic: ${ping}`,
    ].join("\n") + "\n",
  );
  const r = await xdpLab(["test", file]);
  assert.is(r.exitCode, 2, r.stdout + r.stderr);
  const said = r.stdout + r.stderr;
  assert.match(said, `${file}:3:`);
  assert.match(said, `tests[0].setup.programs[0].program: ${three} has no program or section named 'nope': it has tc_hits (section tc), xdp_first (section xdp), xdp_second (section xdp)`);
  const fix = `program xdp_pass_all is in section "xdp_foo", a name libbpf 1.x no longer takes (it fails the load: "missing BPF prog type, check ELF section name 'xdp_foo'"). Fix: SEC("xdp") in its source (SEC("xdp.frags") if it takes multi-buffer frames), and compile it again`;
  assert.match(said, `${file}:8:11: tests[1].setup.programs[0].object: ${old}: ${fix}`);
  assert.match(said, `tests[2].setup.programs[0].program: ${old}: ${fix}`);
  // Refused before any lab was brought up.
  assert.not.match(said, /lab t\d+/);
});

t("setup and VM-side expectations: a program chosen by name or section (xdp and tc), bpf_stats put back, the app started again after a test killed it, a tc object of three programs refused, failed ns_per_packet/app_log lines, the app's log among the artefacts", async () => {
  const dir = await tempDir();
  const obj = join(dir, "three_programs.bpf.o");
  await execa("clang", ["-g", "-O2", "-target", "bpf", "-I/usr/include/x86_64-linux-gnu", "-c", join(REPO, "test/fixtures/three_programs.bpf.c"), "-o", obj]);
  const file = join(dir, "setup.yaml");
  const ping = (n: number, expect: string): string => `[ { ping: { from: client, to: server, family: 4, count: ${n} }, expect: ${expect} } ]`;
  await writeFile(
    file,
    [
      "tests:",
      "  - name: the first XDP program by default",
      `    setup: { programs: [ { object: ${obj}, port: lan } ] }`,
      `    traffic: ${ping(2, "reachable")}`,
      "  - name: an XDP program by name",
      `    setup: { programs: [ { object: ${obj}, port: lan, program: xdp_second } ] }`,
      `    traffic: ${ping(2, "unreachable")}`,
      "  - name: a tc program by section, bpf_stats turned on for the test",
      `    setup: { programs: [ { object: ${obj}, port: lan, hook: tc-ingress, program: tc } ], commands: [ { host: vm, run: 'echo 0 > /proc/sys/kernel/bpf_stats_enabled' } ] }`,
      `    traffic: ${ping(3, "reachable")}`,
      "    expect: { maps: [ { map: hits, key: 0, delta: { exactly: 3 } } ], ns_per_packet: [ { port: lan, hook: tc-ingress, at_most: 100000000 } ] }",
      "  - name: bpf_stats was put back off, and the tc program is gone",
      "    traffic:",
      "      - command: { host: vm, run: 'cat /proc/sys/kernel/bpf_stats_enabled; echo 1 > /proc/sys/kernel/bpf_stats_enabled', output: '^0$' }",
      "      - command: { host: vm, run: 'tc filter show dev lan0 ingress | wc -l', output: '^0$' }",
      "  - name: a test that kills the app",
      "    traffic: [ { command: { host: vm, run: 'kill $(pidof xdp-lab-app); sleep 1; xdp-lab-app ctl --control /run/xdp-lab-app.sock help >/dev/null 2>&1; echo rc=$?', output: '^rc=2$' } } ]",
      "  - name: the app is back after the reset",
      `    setup: { programs: [ { object: ${join(DEFAULT_OUT, "pass.bpf.o")}, port: lan } ] }`,
      `    traffic: ${ping(2, "reachable")}`,
      "    expect: { maps: [ { map: stats, key: 2, field: packets, delta: { exactly: 2 } } ] }",
      "  - name: a tc hook and three programs",
      `    setup: { programs: [ { object: ${obj}, port: wan, hook: tc-egress } ] }`,
      "    traffic: [ { command: { host: vm, run: 'true' } } ]",
      "  - name: expectations written to fail",
      `    setup: { programs: [ { object: ${join(DEFAULT_OUT, "pass.bpf.o")}, port: lan } ] }`,
      `    traffic: ${ping(3, "reachable")}`,
      "    expect:",
      "      ns_per_packet: [ { port: lan, at_most: 1 }, { port: wan, at_most: 1000 } ]",
      "      app_log: [ '^never written$' ]",
    ].join("\n") + "\n",
  );
  const results = join(dir, "results");
  const r = await xdpLab(["test", file, "--results", results, "--keep-going", "--json", join(dir, "result.json")]);
  assert.is(r.exitCode, 1, r.stdout + r.stderr);
  for (const name of ["the first XDP program by default", "an XDP program by name", "a tc program by section, bpf_stats turned on for the test", "bpf_stats was put back off, and the tc program is gone", "a test that kills the app", "the app is back after the reset"]) {
    assert.match(r.stdout, new RegExp(`^PASS ${name.replace(/[(),]/g, "\\$&")} \\(`, "m"));
  }
  assert.match(r.stdout, "three_programs.bpf.o has 3 programs (tc_hits xdp_first xdp_second): name one with program:");
  assert.match(r.stdout, /ns per packet of lan0 xdp \(xdp_pass\): wanted at most 1 ns per packet, got \d+ ns over 3 runs/);
  assert.match(r.stdout, "ns per packet of wan0 xdp: wanted at most 1000 ns per packet, got no program on wan0 xdp (attached: xdp_pass on lan0 xdp)");
  assert.match(r.stdout, "app log: wanted a line matching /^never written$/, got no new line");
  const json = JSON.parse(await readFile(join(dir, "result.json"), "utf8")) as RunResult;
  const tc = json.tests.find((x) => x.name.startsWith("a tc program"))!;
  assert.is(tc.nsPerPacket![0]!.runs, 3);
  assert.ok(tc.nsPerPacket![0]!.nsPerPacket! > 0);
  const log = await readFile(join(results, "setup", "expectations-written-to-fail", "app.log"), "utf8");
  // The app's start line, twice: at boot and when the reset started it again.
  assert.is(log.match(/xdp-lab-app ready/g)?.length, 2, log);
  assert.equal(await leftovers(labOf(r.stdout)), []);
});

t("--jobs 2 --mode native,generic: two labs side by side, each test once per mode, every counter exactly its own test's, results in the file's order, no lab left", async () => {
  const dir = await tempDir();
  const file = join(dir, "parallel.yaml");
  // Different ping counts in each test: a counter that saw the other lab's traffic would be off.
  const tests = [
    ["seven pings", 7],
    ["three pings", 3],
  ] as const;
  await writeFile(
    file,
    "tests:\n" +
      tests
        .map(([name, n]) =>
          [
            `  - name: ${name}`,
            "    setup:",
            `      programs: [ { object: ${join(DEFAULT_OUT, "pass.bpf.o")}, port: lan } ]`,
            "    traffic:",
            `      - ping: { from: client, to: server, family: 4, count: ${n}, interval: 0.3 }`,
            "        expect: reachable",
            "    expect:",
            `      maps: [ { map: stats, key: 2, field: packets, delta: { exactly: ${n} } } ]`,
          ].join("\n"),
        )
        .join("\n") +
      "\n",
  );
  const r = await xdpLab(["test", file, "--jobs", "2", "--mode", "native,generic", "--json", join(dir, "r.json"), "--junit", join(dir, "j.xml"), "--tap", "--results", join(dir, "results")]);
  assert.is(r.exitCode, 0, r.stdout + r.stderr);
  const labs = /labs (t\d+-1), (t\d+-2)\)/.exec(r.stderr)?.slice(1);
  assert.ok(labs, r.stderr);
  const json = JSON.parse(await readFile(join(dir, "r.json"), "utf8")) as RunResult;
  const names = ["seven pings [native]", "seven pings [generic]", "three pings [native]", "three pings [generic]"];
  assert.equal(json.tests.map((x) => x.name), names, "the file's order, each test once per mode");
  assert.equal(json.labs, labs);
  assert.equal(json.tests.map((x) => x.mode), ["native", "generic", "native", "generic"]);
  assert.equal(json.tests.map((x) => x.maps[0]!.delta), ["7", "7", "3", "3"], "each counter moved by its own test's pings only");
  assert.equal(new Set(json.tests.map((x) => x.lab)), new Set(labs), "both labs ran cases");
  // The two labs' first cases ran at the same time: each started before the other ended.
  const [a, b] = [json.tests[0]!, json.tests[1]!];
  const span = (x: typeof a) => [Date.parse(x.startedAt!), Date.parse(x.startedAt!) + x.seconds * 1000] as const;
  assert.ok(a.lab !== b.lab && span(a)[0] < span(b)[1] && span(b)[0] < span(a)[1], `overlapping: ${JSON.stringify([a.lab, span(a), b.lab, span(b)])}`);
  // Every report names the cases with their mode.
  for (const n of names) {
    assert.match(r.stderr, `PASS ${n} (`);
    assert.match(r.stdout, `ok ${names.indexOf(n) + 1} ${file}: ${n}`);
  }
  const xml = await readFile(join(dir, "j.xml"), "utf8");
  const valid = await validateJunit(xml);
  assert.ok(valid.ok, valid.said);
  const cases = ((await parseJunit(xml)) as TestSuites).testsuite![0]!.testcase!.map((c) => c.name);
  assert.equal(cases, names);
  for (const lab of labs!) assert.equal(await leftovers(lab), [], `${lab} is gone`);
});

t("--jobs and --mode refuse bad values before any lab, with the fix (exit 2)", async () => {
  const bad = await xdpLab(["test", "tests/", "--mode", "native,xdpdrv"]);
  assert.is(bad.exitCode, 2);
  assert.match(bad.stderr, /--mode native,xdpdrv: unknown mode "xdpdrv"\. Fix: give native, generic or both/);
  const jobs = await xdpLab(["test", "tests/", "--jobs", "0"]);
  assert.is(jobs.exitCode, 2);
  assert.match(jobs.stderr, /--jobs 0: wanted a whole number of parallel labs from 1 to 16/);
  assert.not.match(bad.stderr + jobs.stderr, /booting/);
});

t("a malformed file: exit 2 before any lab, naming the file, the line and the field", async () => {
  const dir = await tempDir();
  const file = join(dir, "bad.yaml");
  await writeFile(file, ["tests:", "  - name: typo", "    traffic:", "      - ping: { from: client, to: server }", "        expect: reachable"].join("\n") + "\n");
  const r = await xdpLab(["test", file]);
  assert.is(r.exitCode, 2, r.stdout + r.stderr);
  assert.match(r.stderr, `${file}:4:9: tests[0].traffic[0].ping.family: is required`);
  assert.not.match(r.stderr, /booting/);
  // A bad unit is named with its line and field too.
  const units = join(dir, "units.yaml");
  await writeFile(units, ["tests:", "  - name: slow", "    traffic:", "      - iperf3: { from: client, to: server, family: 4 }", '        throughput: { at_least: "50 MB/s" }'].join("\n") + "\n");
  const u = await xdpLab(["test", units]);
  assert.is(u.exitCode, 2, u.stdout + u.stderr);
  assert.match(u.stderr, `${units}:5:23: tests[0].traffic[0].throughput.at_least: "50 MB/s" is not a throughput: write a number and bit/s`);
  const none = await xdpLab(["test", join(dir, "nothing-here")]);
  assert.is(none.exitCode, 2);
  assert.match(none.stderr, "no such file or directory");
});

t.run();
