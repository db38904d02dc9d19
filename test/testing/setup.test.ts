import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { loadArgs } from "../../network/app-client.ts";
import type { AttachedProgram } from "../../network/programs.ts";
import { tcResetScript, xdpResetScript } from "../../network/vm-reset.ts";
import { findProgram, matchLog, nsPerPacket } from "../../src/testing/expect-vm.ts";
import { tcAttachScript } from "../../src/testing/setup.ts";
import { parseTestFile } from "../../src/testing/spec.ts";
import { cleanup, tempDir } from "../helpers.ts";
import { problems } from "./file-problems.ts";

const t = suite("testing/setup (setup fields, VM-side expectations)");

t.after(cleanup);

const test = (lines: string[]): string[] => ["tests:", "  - name: a", ...lines, "    traffic:", "      - command: { host: vm, run: 'true' }"];

t("the setup fields: hook, program, tunables, app, impair read into numbers, lua made absolute; the VM expectations", async () => {
  const dir = await tempDir();
  await writeFile(join(dir, "x.bpf.o"), "");
  await writeFile(join(dir, "g.lua"), "");
  const f = parseTestFile(
    join(dir, "t.yaml"),
    [
      ...test([
        "    setup:",
        "      programs:",
        "        - { object: x.bpf.o, port: lan, hook: tc-ingress, program: tc }",
        "        - { object: x.bpf.o, port: wan, program: xdp_firewall, tunables: { report_every_packet: 1 } }",
        "      app: { lua: g.lua, lua_budget_ms: 100, block: [10.10.1.10] }",
        "      impair: { lan: { delay: 100ms, loss: 1 }, wan: { rate: 10mbit } }",
      ]),
      "    expect:",
      "      ns_per_packet: [{ port: lan, hook: tc-ingress, at_most: 5000 }, { port: wan, at_most: 100 }]",
      "      app_log: ['blocking$']",
    ].join("\n"),
  );
  const s = f.tests[0]!.setup!;
  assert.equal(s.programs![0], { object: join(dir, "x.bpf.o"), port: "lan", hook: "tc-ingress", program: "tc", mode: "native" });
  assert.equal(s.programs![1]!.tunables, { report_every_packet: 1 });
  assert.equal(s.programs![1]!.hook, "xdp");
  assert.equal(s.app, { lua: join(dir, "g.lua"), lua_budget_ms: 100, block: ["10.10.1.10"] });
  assert.equal(s.impair, { lan: { delay: 100, loss: 1 }, wan: { rate: 10_000 } });
  assert.equal(f.tests[0]!.expect!.ns_per_packet, [{ port: "lan", hook: "tc-ingress", at_most: 5000 }, { port: "wan", hook: "xdp", at_most: 100 }]);
});

t("bad setup fields are named with their line: tunables on tc, an unknown hook, a missing script, impairment out of range or without delay, a bad address, a bad log pattern", () => {
  const out = problems(
    [
      ...test([
        "    setup:", // 3
        "      programs:", // 4
        "        - { object: /dev/null/x.o, port: lan, hook: tc-egress, tunables: { a: 1 } }", // 5
        "        - { object: /dev/null/y.o, port: lan, hook: tc }", // 6
        "      app: { lua: nope.lua, block: [fd00::1] }", // 7
        "      impair:", // 8
        "        lan: { delay: 70s }", // 9
        "        wan: { jitter: 5 }", // 10
      ]),
      "    expect:",
      "      app_log: ['(']",
    ].join("\n"),
  );
  const has = (re: RegExp): void => assert.ok(out.some((l) => re.test(l)), `${re} in:\n${out.join("\n")}`);
  has(/^5 tests\[0\]\.setup\.programs\[0\]: tunables are for the xdp hook only/);
  has(/^6 tests\[0\]\.setup\.programs\[1\]\.hook: must be one of "xdp", "tc-ingress", "tc-egress"/);
  has(/^7 tests\[0\]\.setup\.app\.block\[0\]: /);
  has(/^14 tests\[0\]\.expect\.app_log\[0\]: is not a valid regular expression/);
  // The schema's problems come first; the file's own checks (paths, values) once the schema is met.
  const more = problems(
    test(["    setup:", "      app: { lua: nope.lua }", "      impair:", "        lan: { delay: 70s }", "        wan: { jitter: 5 }"]).join("\n"),
  );
  assert.match(more.join("\n"), /^4 tests\[0\]\.setup\.app\.lua: no such file: \/t\/nope\.lua/m);
  assert.match(more.join("\n"), /^6 tests\[0\]\.setup\.impair\.lan\.delay: "70s": must be from 0 to 60000 ms/m);
  assert.match(more.join("\n"), /^7 tests\[0\]\.setup\.impair\.wan: jitter needs a delay to act on\. Fix: add delay: MS \(e\.g\. delay: 50, jitter: 5\)/m);
});

t("loadArgs: the mode, program=NAME, a NAME=VALUE per tunable", () => {
  assert.equal(loadArgs({ iface: "lan", mode: "native" }), ["native"]);
  assert.equal(loadArgs({ iface: "lan", mode: "generic", program: "xdp_firewall", tunables: { report_every_packet: 1, b: 2 } }), ["generic", "program=xdp_firewall", "report_every_packet=1", "b=2"]);
});

t("tcAttachScript: loadall pins by name, a name that is no program is a section, no name wants one program; clsact replaced, pins removed", () => {
  const named = tcAttachScript("/run/xdp-lab/obj/tc_count.bpf.o", "lan0", "ingress", "tc_count");
  assert.match(named, /bpftool prog loadall \/run\/xdp-lab\/obj\/tc_count\.bpf\.o \/sys\/fs\/bpf\/xdp-lab-tc\/tc_count_bpf_o\n/);
  assert.match(named, /if \[ -e \/sys\/fs\/bpf\/xdp-lab-tc\/tc_count_bpf_o\/tc_count \]; then set -- pinned \/sys\/fs\/bpf\/xdp-lab-tc\/tc_count_bpf_o\/tc_count; else set -- obj \/run\/xdp-lab\/obj\/tc_count\.bpf\.o sec tc_count; fi/);
  assert.match(named, /tc qdisc replace dev lan0 clsact\ntc filter add dev lan0 ingress bpf direct-action "\$@"/);
  assert.ok(named.trimEnd().endsWith("rm -rf /sys/fs/bpf/xdp-lab-tc/tc_count_bpf_o"));
  const first = tcAttachScript("/run/o/x.o", "wan0", "egress");
  assert.match(first, /if \[ \$# -ne 1 \]; then echo "x\.o has \$# programs .*name one with program:" >&2/);
  assert.match(first, /tc filter add dev wan0 egress bpf/);
});

t("the reset's scripts: clsact off both data ports, XDP of any loader off a port", () => {
  assert.match(tcResetScript(), /^tc qdisc del dev lan0 clsact 2>\/dev\/null; tc qdisc del dev wan0 clsact 2>\/dev\/null; true$/);
  assert.is(tcResetScript(["wan0"]), "tc qdisc del dev wan0 clsact 2>/dev/null; true");
  assert.equal(
    xdpResetScript("lan0"),
    "xdp-filter unload lan0 >/dev/null 2>&1; xdp-loader unload --all lan0 >/dev/null 2>&1; ip link set dev lan0 xdpgeneric off 2>/dev/null; ip link set dev lan0 xdpdrv off 2>/dev/null; true",
  );
});

const prog = (iface: string, hook: string, id: number, runCount = 0, runTimeNs = 0): AttachedProgram => ({ iface, hook, id, name: `p${id}`, tag: "t", maps: [], runCount, runTimeNs });

t("ns per packet: the program of a port's hook, the average over the traffic, run_cnt unmoved said as such", () => {
  const progs = [prog("lan0", "xdp", 1), prog("lan0", "tc/ingress", 2), prog("wan0", "tc/egress", 3), prog("wan0", "tc/egress", 4)];
  assert.is((findProgram(progs, "lan", "tc-ingress") as AttachedProgram).id, 2);
  assert.is((findProgram(progs, "lan", "xdp") as AttachedProgram).id, 1);
  assert.match((findProgram(progs, "wan", "xdp") as Error).message, /^no program on wan0 xdp \(attached: p1 on lan0 xdp, p2 on lan0 tc\/ingress/);
  assert.match((findProgram(progs, "wan", "tc-egress") as Error).message, /^2 programs on wan0 tc\/egress \(p3 id 3, p4 id 4\)/);
  assert.equal(nsPerPacket({ runCount: 10, runTimeNs: 1000 }, { runCount: 14, runTimeNs: 3000 }), { runs: 4, ns: 500 });
  assert.match((nsPerPacket({ runCount: 10, runTimeNs: 1000 }, { runCount: 10, runTimeNs: 1000 }) as Error).message, /^run_cnt did not move: the program ran 0 times/);
});

t("app log: each pattern's first matching line among the new ones", () => {
  const r = matchLog("lua: new source 10.10.1.10\nlua: 10.10.1.10 sends 79 packets/s (limit 50): blocking\nblocked 10.10.1.10\n", ["blocking$", "^blocked", "unblocked"]);
  assert.is(r.lines, 3);
  assert.equal(r.patterns, [
    { pattern: "blocking$", match: "lua: 10.10.1.10 sends 79 packets/s (limit 50): blocking", ok: true },
    { pattern: "^blocked", match: "blocked 10.10.1.10", ok: true },
    { pattern: "unblocked", ok: false },
  ]);
  assert.is(matchLog("", ["x"]).lines, 0);
});

t.run();
