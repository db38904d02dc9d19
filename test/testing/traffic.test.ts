import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { judgeCommand, judgePing, parsePing, pingArgv } from "../../src/testing/traffic.ts";
import type { PingStep } from "../../src/testing/spec.ts";

const t = suite("network/testing/traffic");
const ping = (expect: PingStep["expect"], count = 3): PingStep => ({ ping: { from: "client", to: "server", family: 4, count, interval: 0.2, size: 56 }, expect });

t("ping always says the family: never left to the resolver", () => {
  assert.equal(pingArgv(ping("reachable").ping), ["ping", "-4", "-c", "3", "-i", "0.2", "-s", "56", "-W", "1", "server"]);
  assert.equal(pingArgv({ from: "vm", to: "fd00:10:2::10", family: 6, count: 1, interval: 1, size: 1000 }).slice(0, 2), ["ping", "-6"]);
});

t("ping's summary from iputils and from busybox", () => {
  assert.equal(parsePing("3 packets transmitted, 3 received, 0% packet loss, time 404ms"), { transmitted: 3, received: 3 });
  assert.equal(parsePing("1 packets transmitted, 0 packets received, 100% packet loss"), { transmitted: 1, received: 0 });
  assert.is(parsePing("ping: unknown host"), undefined);
});

t("reachable wants every reply, unreachable none; the failure says wanted and got", () => {
  const out = (n: number) => ({ code: n === 3 ? 0 : 1, stdout: `3 packets transmitted, ${n} received`, stderr: "" });
  assert.ok(judgePing(ping("reachable"), out(3)).ok);
  const partial = judgePing(ping("reachable"), out(2));
  assert.not.ok(partial.ok);
  assert.is(`${partial.step}: wanted ${partial.wanted}, got ${partial.got}`, "ping -4 client -> server: wanted reachable (3/3 replies), got 2/3 replies");
  assert.ok(judgePing(ping("unreachable"), out(0)).ok);
  assert.not.ok(judgePing(ping("unreachable"), out(1)).ok);
  const broken = judgePing(ping("reachable"), { code: 2, stdout: "", stderr: "ping: server: Name or service not known\n" });
  assert.is(broken.got, "no ping summary (exit 2): ping: server: Name or service not known");
});

t("a command: its exit status, then its output against the pattern", () => {
  const step = (exit = 0, output?: string) => ({ command: { host: "vm" as const, run: "uname -r", exit, output } });
  assert.ok(judgeCommand(step(0, "^6\\."), { code: 0, stdout: "6.1.0\n", stderr: "" }).ok);
  const bad = judgeCommand(step(0, "^7\\."), { code: 0, stdout: "6.1.0\n", stderr: "" });
  assert.is(`${bad.wanted} / ${bad.got}`, 'output matching /^7\\./ / "6.1.0"');
  const exit = judgeCommand(step(0), { code: 3, stdout: "", stderr: "boom\n" });
  assert.is(`${exit.wanted} / ${exit.got}`, "exit 0 / exit 3: boom");
  assert.ok(judgeCommand(step(1), { code: 1, stdout: "", stderr: "" }).ok);
  assert.equal(judgeCommand(step(0), { code: 0, stdout: "x", stderr: "" }).measured, { exit: 0, stdout: "x" });
});

t.run();
