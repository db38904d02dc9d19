import { readFileSync } from "node:fs";
import { join } from "node:path";
import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import {
  flowProblems,
  httpArgv,
  iperf3ClientArgv,
  iperf3ServerLine,
  iperf3ServerSays,
  judgeHttp,
  judgeIperf3,
  judgeTcp,
  judgeTcpreplay,
  judgeUdpFlood,
  parseCurl,
  parseIperf3,
  parseTcpreplay,
  pcapPackets,
  resolveTarget,
  tcpArgv,
  tcpOutcome,
  tcpreplayArgv,
  withIperf3Server,
  type Answer,
  type HttpStep,
  type Iperf3Step,
  type TcpStep,
  type TcpreplayStep,
  type UdpFloodStep,
} from "../../src/testing/flows.ts";
import { stepFailures } from "../../src/testing/traffic.ts";
import { REPO } from "../../src/paths.ts";
import { parseTestFile, type TestFileError } from "../../src/testing/spec.ts";
import type { Host } from "../../network/hosts/index.ts";
import { failure } from "../helpers.ts";

const t = suite("src/testing/flows");
const ans = (code: number, stdout = "", stderr = "") => ({ code, stdout, stderr });

t("a name resolves to the lab's address of the family asked, never through the resolver; an address keeps its family", () => {
  assert.equal(resolveTarget("server", 4), { address: "10.10.2.10", host: "server" });
  assert.equal(resolveTarget("server", 6), { address: "fd00:10:2::10", host: "server" });
  assert.equal(resolveTarget("vm", 4), { address: "10.10.1.1", host: "vm" });
  assert.equal(resolveTarget("198.51.100.100", 4), { address: "198.51.100.100", host: "internet" });
  assert.equal(resolveTarget("192.0.2.7", 4), { address: "192.0.2.7", host: undefined });
  assert.throws(() => resolveTarget("10.10.2.10", 6), /10\.10\.2\.10 is an IPv4 address but family is 6/);
  assert.throws(() => resolveTarget("fd00:10:2::10", 4), /is an IPv6 address but family is 4/);
  assert.throws(() => resolveTarget("srever", 4), /"srever" is neither a lab name \(client, vm, xdp, xdp-wan, edge, server, internet\) nor an IP address/);
});

const tcp = (expect: TcpStep["expect"], family: 4 | 6 = 4): TcpStep => ({ tcp: { from: "client", to: "server", family, port: 80, timeout: 2 }, expect });

t("tcp: bash's /dev/tcp to the address, bounded by timeout; connected, refused or no answer", () => {
  assert.equal(tcpArgv(tcp("reachable").tcp), ["timeout 2 bash -c 'exec 3<>/dev/tcp/10.10.2.10/80'"]);
  assert.equal(tcpArgv(tcp("reachable", 6).tcp), ["timeout 2 bash -c 'exec 3<>/dev/tcp/fd00:10:2::10/80'"]);
  assert.is(tcpOutcome(ans(0)), "connected");
  assert.is(tcpOutcome(ans(1, "", "bash: connect: Connection refused\nbash: /dev/tcp/10.10.2.10/81: Connection refused\n")), "refused");
  assert.is(tcpOutcome(ans(124)), "timeout");
  assert.is(tcpOutcome(ans(127, "", "sh: timeout: not found")), "error");
  assert.ok(judgeTcp(tcp("reachable"), ans(0)).ok);
  const j = judgeTcp(tcp("reachable"), ans(124));
  assert.is(`${j.step}: wanted ${j.wanted}, got ${j.got}`, "tcp -4 client -> server:80: wanted reachable (connected), got no answer in 2 s");
  assert.ok(judgeTcp(tcp("unreachable"), ans(124)).ok);
  assert.ok(judgeTcp(tcp("unreachable"), ans(1, "", "Connection refused")).ok);
  assert.not.ok(judgeTcp(tcp("unreachable"), ans(0)).ok);
  assert.not.ok(judgeTcp(tcp("unreachable"), ans(127, "", "sh: timeout: not found")).ok);
  assert.equal(judgeTcp(tcp("unreachable"), ans(124)).measured, { exit: 124, outcome: "timeout" });
});

const http = (expect: HttpStep["expect"], o: Partial<HttpStep["http"]> = {}): HttpStep => ({ http: { from: "client", to: "server", family: 6, port: 80, path: "/", status: 200, timeout: 2, ...o }, expect });
const wrote = (status: number, bytes = 36) => `@@xdp-lab-curl ${status} ${bytes} 0.009597\n`;

t("http: curl with the family said, a bracketed IPv6 URL, the status on stderr", () => {
  assert.equal(httpArgv(http("reachable").http), [
    "curl", "-6", "-sS", "-g", "--connect-timeout", "2", "--max-time", "4", "-w", "%{stderr}@@xdp-lab-curl %{http_code} %{size_download} %{time_total}\\n", "http://[fd00:10:2::10]:80/",
  ]);
  assert.is(httpArgv(http("reachable", { family: 4, path: "/blob", port: 8080 }).http).at(-1), "http://10.10.2.10:8080/blob");
  assert.equal(parseCurl(`curl: (7) Failed to connect\n@@xdp-lab-curl 000 0 0.001957\n`), { status: 0, bytes: 0, seconds: 0.001957 });
});

t("http: reachable wants the status and the body; unreachable no HTTP answer", () => {
  assert.ok(judgeHttp(http("reachable", { body: "hello" }), ans(0, "xdp-lab t1: hello from the server\n", wrote(200))).ok);
  const body = judgeHttp(http("reachable", { body: "^bye" }), ans(0, "hello\n", wrote(200)));
  assert.is(`${body.wanted} / ${body.got}`, 'HTTP 200 with a body matching /^bye/ / HTTP 200, body "hello"');
  const status = judgeHttp(http("reachable"), ans(0, "", wrote(404)));
  assert.is(`${status.wanted} / ${status.got}`, "HTTP 200 / HTTP 404");
  assert.ok(judgeHttp(http("reachable", { status: 404 }), ans(0, "", wrote(404))).ok);
  const down = judgeHttp(http("reachable"), ans(28, "", "curl: (28) Connection timed out after 2001 milliseconds\n" + wrote(0, 0)));
  assert.is(down.got, "curl exit 28: curl: (28) Connection timed out after 2001 milliseconds");
  assert.ok(judgeHttp(http("unreachable"), ans(7, "", "curl: (7) Failed to connect\n" + wrote(0, 0))).ok);
  assert.ok(judgeHttp(http("unreachable"), ans(28, "", wrote(0, 0))).ok);
  const answered = judgeHttp(http("unreachable"), ans(0, "", wrote(200)));
  assert.is(`${answered.ok} ${answered.got}`, "false HTTP 200");
  assert.equal(judgeHttp(http("reachable"), ans(0, "x", wrote(200, 36))).measured, { exit: 0, status: 200, bytes: 36, seconds: 0.009597 });
});

// iperf3 3.12's -J output, cut to what is read.
const UDP_JSON = JSON.stringify({
  end: {
    sum_sent: { start: 0, end: 1, seconds: 1.000097, bytes: 64000, bits_per_second: 511950, jitter_ms: 0, lost_packets: 0, packets: 1000, lost_percent: 0, sender: true },
    sum_received: { start: 0, end: 1, seconds: 1.000437, bytes: 63360, bits_per_second: 511381.7, jitter_ms: 0.27, lost_packets: 10, packets: 1000, lost_percent: 1, sender: false },
  },
});
const TCP_JSON = JSON.stringify({
  end: {
    sum_sent: { start: 0, end: 2, seconds: 2.003, bytes: 344195072, bits_per_second: 1374600000, retransmits: 3, sender: true },
    sum_received: { start: 0, end: 2, seconds: 2.003227, bytes: 340654528, bits_per_second: 1360423069.4, sender: true },
  },
});

t("iperf3: the server one-off in the foreground, saying its pid and when it listens; the client in JSON with the family said, UDP paced", () => {
  assert.equal(iperf3ServerLine(5201), ['echo "pid $$"; exec iperf3 -s -1 -p 5201 --forceflush']);
  // What iperf3 3.12 prints, flushed line by line with --forceflush.
  const said = "pid 4242\n-----------------------------------------------------------\nServer listening on 5201 (test #1)\n";
  assert.equal(iperf3ServerSays(said, 5201), { pid: 4242, listening: true });
  assert.equal(iperf3ServerSays("pid 4242\n", 5201), { pid: 4242, listening: false });
  assert.equal(iperf3ServerSays(said, 520), { pid: 4242, listening: false });
  assert.equal(iperf3ClientArgv({ address: "10.10.2.10", family: 4, port: 5201, duration: 2 }), ["iperf3", "-c", "10.10.2.10", "-4", "-p", "5201", "-t", "2", "-J", "--connect-timeout", "3000"]);
  assert.equal(iperf3ClientArgv({ address: "fd00:10:2::10", family: 6, port: 5202, duration: 1, udp: { bitsPerSecond: 256000, size: 64 } }).slice(-5), ["-u", "-b", "256000", "-l", "64"]);
});

/**
 * A stand-in target host whose iperf3 server says its pid and, unless ENDS_EARLY, that it listens,
 * then runs until killed (or, with ENDS_ITSELF, ends on its own once the client has); EVENTS
 * records the order things happen in.
 */
function fakeServer(o: { endsEarly?: Answer; endsItself?: boolean } = {}) {
  const events: string[] = [];
  let end = (_a: Answer): void => undefined;
  const host = {
    name: "server",
    kind: "netns",
    exec: async (argv: string[], opts: { onStdout?: (b: Buffer) => void } = {}): Promise<Answer> => {
      const line = argv[0]!;
      if (line.includes("exec iperf3 -s")) {
        events.push("server started");
        const ended = new Promise<Answer>((res) => (end = res));
        setImmediate(() => {
          opts.onStdout?.(Buffer.from("pid 4242\n-------\n"));
          if (o.endsEarly) return end(o.endsEarly);
          setImmediate(() => {
            events.push("server listening");
            opts.onStdout?.(Buffer.from("Server listening on 5201 (test #1)\n"));
          });
        });
        const a = await ended;
        events.push("server ended");
        return a;
      }
      if (line.startsWith("kill 4242")) {
        events.push("server told to end");
        setImmediate(() => end({ code: 1, stdout: "", stderr: "iperf3: interrupt - the server has terminated\n" }));
        return { code: 0, stdout: "", stderr: "" };
      }
      throw new Error(`unexpected: ${line}`);
    },
  };
  const client = async (): Promise<Answer> => {
    events.push("client ran");
    if (o.endsItself) {
      // iperf3 -1 ends once it has read the client's IPERF_DONE, sent before the client exits.
      end({ code: 0, stdout: "", stderr: "" });
      await new Promise((r) => setImmediate(r));
    }
    return { code: 0, stdout: "{}", stderr: "" };
  };
  return { host: host as unknown as Host, client, events };
}

t("withIperf3Server: the client runs once the server listens; it returns once the server has ended, told to when it has not", async () => {
  const f = fakeServer();
  const a = await withIperf3Server(f.host, 5201, f.client);
  assert.is(a.stdout, "{}");
  assert.equal(f.events, ["server started", "server listening", "client ran", "server told to end", "server ended"]);
  const g = fakeServer({ endsItself: true });
  await withIperf3Server(g.host, 5201, g.client);
  assert.equal(g.events, ["server started", "server listening", "client ran", "server ended"]);
});

t("withIperf3Server: a server that ends before it listens fails in its words, and no client runs", async () => {
  const f = fakeServer({ endsEarly: { code: 1, stdout: "", stderr: "iperf3: error - unable to start listener for connections: Address already in use\niperf3: exiting\n" } });
  const e = await failure(withIperf3Server(f.host, 5201, f.client));
  assert.is(e.message, "iperf3's server on server ended before it listened on TCP port 5201 (exit 1): iperf3: error - unable to start listener for connections: Address already in use");
  assert.equal(f.events, ["server started", "server ended"]);
  const g = fakeServer({ endsEarly: { code: 127, stdout: "", stderr: "sh: 1: exec: iperf3: not found\n" } });
  assert.match((await failure(withIperf3Server(g.host, 5201, g.client))).message, "(exit 127): sh: 1: exec: iperf3: not found (the host has no iperf3: apt-get install iperf3)");
});

t("withIperf3Server: a client that throws still has the server ended before the error comes back", async () => {
  const f = fakeServer();
  const e = await failure(
    withIperf3Server(f.host, 5201, async () => {
      f.events.push("client failed");
      throw new Error("no route");
    }),
  );
  assert.is(e.message, "no route");
  assert.equal(f.events.slice(-3), ["client failed", "server told to end", "server ended"]);
});

t("iperf3's JSON: bytes, rate, and for UDP the datagrams sent, received and lost", () => {
  assert.equal(parseIperf3(UDP_JSON), { sentBytes: 64000, receivedBytes: 63360, bitsPerSecond: 511381.7, seconds: 1.000437, sentPackets: 1000, lostPackets: 10, receivedPackets: 990, lossPercent: 1 });
  assert.equal(parseIperf3(TCP_JSON), { sentBytes: 344195072, receivedBytes: 340654528, bitsPerSecond: 1360423069.4, seconds: 2.003227, retransmits: 3 });
  assert.equal(parseIperf3(JSON.stringify({ start: {}, error: "unable to connect to server: Connection timed out" })), { error: "unable to connect to server: Connection timed out" });
  assert.equal(parseIperf3("iperf3: error"), { error: "no JSON from iperf3: iperf3: error" });
});

const flood = (expect?: UdpFloodStep["expect"]): UdpFloodStep => ({ udp_flood: { from: "client", to: "server", family: 4, rate: "1000 pps", duration: 1, size: 64, port: 5201 }, expect });
const perf = (at_least?: string): Iperf3Step => ({ iperf3: { from: "client", to: "server", family: 4, protocol: "tcp", duration: 2, port: 5201 }, throughput: at_least ? { at_least } : undefined });

t("udp_flood: reachable wants datagrams through, unreachable none; every count recorded", () => {
  const r = judgeUdpFlood(flood("reachable"), ans(0, UDP_JSON));
  assert.ok(r.ok);
  assert.is(r.got, "990/1000 datagrams arrived (1.0% lost)");
  assert.is(r.measured.receivedPackets, 990);
  assert.not.ok(judgeUdpFlood(flood("unreachable"), ans(0, UDP_JSON)).ok);
  assert.ok(judgeUdpFlood(flood(), ans(0, UDP_JSON)).ok);
  const control = judgeUdpFlood(flood("unreachable"), ans(1, JSON.stringify({ error: "unable to connect to server: Connection timed out" })));
  assert.not.ok(control.ok);
  assert.match(control.got!, /iperf3 opens a TCP control connection to port 5201 first/);
});

t("iperf3: the receiver's rate against throughput.at_least", () => {
  const fast = judgeIperf3(perf("50 Mbit/s"), ans(0, TCP_JSON));
  assert.ok(fast.ok);
  assert.is(`${fast.wanted} / ${fast.got}`, "throughput at least 50 Mbit/s / 1.36 Gbit/s");
  assert.not.ok(judgeIperf3(perf("2 Gbit/s"), ans(0, TCP_JSON)).ok);
  assert.ok(judgeIperf3(perf(), ans(0, TCP_JSON)).ok);
  assert.equal(judgeIperf3(perf("1 Mbit/s"), ans(0, TCP_JSON)).measured.retransmits, 3);
});

const REPLAY_OUT = `Actual: 5 packets (490 bytes) sent in 0.080083 seconds
Rated: 6118.6 Bps, 0.048 Mbps, 62.43 pps
Flows: 1 flows, 12.48 fps, 5 unique flow packets, 0 unique non-flow packets
Statistics for network device: eth0
\tSuccessful packets:        5
\tFailed packets:            0
\tTruncated packets:         0
`;
const replay = (o: Partial<TcpreplayStep["tcpreplay"]> = {}): TcpreplayStep => ({ tcpreplay: { from: "client", file: "/t/p.pcap", loop: 1, ...o } });

t("tcpreplay: out of the host's interface at the rate asked; every packet of the file sent", () => {
  assert.equal(tcpreplayArgv(replay().tcpreplay, "eth0", "/t/p.pcap"), ["tcpreplay", "-i", "eth0", "/t/p.pcap"]);
  assert.equal(tcpreplayArgv(replay({ pps: 50, loop: 3 }).tcpreplay, "eth0", "/x.pcap"), ["tcpreplay", "-i", "eth0", "--pps", "50", "--loop", "3", "/x.pcap"]);
  assert.equal(tcpreplayArgv(replay({ mbps: 10 }).tcpreplay, "eth0", "/x.pcap").slice(3, 5), ["--mbps", "10"]);
  assert.equal(parseTcpreplay(REPLAY_OUT), { packets: 5, bytes: 490, seconds: 0.080083, failed: 0 });
  assert.ok(judgeTcpreplay(replay(), ans(0, REPLAY_OUT), 5).ok);
  const short = judgeTcpreplay(replay({ loop: 2 }), ans(0, REPLAY_OUT), 5);
  assert.is(`${short.ok} ${short.wanted} / ${short.got}`, "false every packet sent (10) / 5 sent, 0 failed");
  const missing = judgeTcpreplay(replay(), ans(255, "", "Fatal Error in tcpreplay.c:main() line 122:\n Unable to retrieve information from file /nonexist.pcap: No such file or directory\n"), undefined);
  assert.is(missing.got, "tcpreplay exit 255: Unable to retrieve information from file /nonexist.pcap: No such file or directory");
});

t("the committed pcap holds the 5 frames tests/traffic.yaml counts; other files are not pcaps", () => {
  assert.is(pcapPackets(readFileSync(join(REPO, "tests", "pcaps", "ping4-client-to-server.pcap"))), 5);
  assert.is(pcapPackets(Buffer.from("tests:\n  - name: x\n".repeat(3))), undefined);
});

t("what a step's values say before any lab is up", () => {
  assert.equal(flowProblems(flood()), []);
  assert.equal(flowProblems({ udp_flood: { ...flood().udp_flood, to: "vm", rate: "fast" } }).map((p) => p.field), ["udp_flood.to", "udp_flood.rate"]);
  assert.equal(flowProblems({ http: { ...http("reachable").http, from: "vm" }, expect: "reachable" }), [{ field: "http.from", message: "the VM has no curl: send from client, server or internet" }]);
  assert.equal(flowProblems({ iperf3: { ...perf().iperf3, rate: "5 Mbit/s" } }).map((p) => p.field), ["iperf3.rate"]);
  assert.equal(flowProblems({ ...perf("5 MB/s") }).map((p) => p.field), ["throughput.at_least"]);
  assert.equal(flowProblems(replay({ pps: 1, mbps: 1 })).map((p) => p.field), ["tcpreplay.pps"]);
  assert.equal(flowProblems({ tcp: { ...tcp("reachable").tcp, to: "10.10.2.10", family: 6 }, expect: "reachable" }), [{ field: "tcp.to", message: "10.10.2.10 is an IPv4 address but family is 6" }]);
});

t("a step's failures: its own, then each packet count that is not what was wanted", () => {
  const f = stepFailures({ step: "tcp -4 client -> server:80", ok: false, wanted: "reachable (connected)", got: "no answer in 2 s", measured: {}, seconds: 1, packets: [
    { port: "lan", filter: "tcp", wanted: "at least 1", count: 3, ok: true },
    { port: "wan", filter: "tcp", wanted: "none", count: 2, ok: false },
  ] });
  assert.equal(f, [
    { what: "tcp -4 client -> server:80", wanted: "reachable (connected)", got: "no answer in 2 s" },
    { what: 'tcp -4 client -> server:80: packets at wan matching "tcp"', wanted: "none", got: "2" },
  ]);
});

t("a test file's steps checked at load time: bad units, families and pcaps named by file, line and field; a pcap made absolute", () => {
  const file = join(REPO, "tests", "mine.yaml");
  const text = `tests:
  - name: t
    traffic:
      - iperf3: { from: client, to: server, family: 4 }
        throughput: { at_least: "50 MB/s" }
      - udp_flood: { from: client, to: server, family: 6, rate: "lots" }
      - tcp: { from: client, to: 10.10.2.10, family: 6, port: 80 }
        expect: reachable
      - tcpreplay: { from: client, file: pcaps/none.pcap }
      - http: { from: client, to: server, family: 4 }
        expect: reachable
        packets:
          - { port: lan, filter: tcp, exactly: 1, none: true }
`;
  let err: TestFileError | undefined;
  try {
    parseTestFile(file, text);
  } catch (e) {
    err = e as TestFileError;
  }
  assert.ok(err, "the file was accepted");
  assert.equal(err.message.split("\n").map((l) => l.replace(`${file}:`, "")), [
    '5:23: tests[0].traffic[0].throughput.at_least: "50 MB/s" is not a throughput: write a number and bit/s, kbit/s, Mbit/s or Gbit/s (decimal, as iperf3 counts: 1 Mbit/s = 1,000,000 bit/s), e.g. "50 Mbit/s"',
    '6:59: tests[0].traffic[1].udp_flood.rate: "lots" is not a rate: write a number and packets/s (pps) or bit/s, kbit/s, Mbit/s or Gbit/s (decimal, as iperf3 counts: 1 Mbit/s = 1,000,000 bit/s), e.g. "1000 pps" or "10 Mbit/s"',
    "7:30: tests[0].traffic[2].tcp.to: 10.10.2.10 is an IPv4 address but family is 6",
    `9:36: tests[0].traffic[3].tcpreplay.file: no such file: ${join(REPO, "tests", "pcaps", "none.pcap")} (paths are relative to the test file)`,
    "13:13: tests[0].traffic[4].packets[0]: say exactly one of exactly: N, at_least: N or none: true (it has exactly and none)",
  ]);
  // The schema's rules come first (a file that breaks them is not looked into further).
  assert.throws(
    () => parseTestFile(file, "tests:\n  - name: t\n    traffic:\n      - tcpreplay: { from: client, file: pcaps/ping4-client-to-server.pcap }\n        expect: reachable\n"),
    (e: Error) => e.message === `${file}:4:9: tests[0].traffic[0].expect: only ping, tcp, http and udp_flood steps take expect: (a command is judged by its exit: and output:, iperf3 by throughput:, tcpreplay by maps and packets:)`,
  );
  const ok = parseTestFile(file, "tests:\n  - name: t\n    traffic:\n      - tcpreplay: { from: client, file: pcaps/ping4-client-to-server.pcap }\n");
  assert.equal(ok.tests[0]!.traffic[0], { tcpreplay: { from: "client", file: join(REPO, "tests", "pcaps", "ping4-client-to-server.pcap"), loop: 1 } });
});

t.run();
