// Captures as data: tcpdump's argv, its count, and the packet expectations. Filters compiled by
// tcpdump itself are test/system/host-tools.test.ts's (they need the tcpdump package).
import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { describePackets, packetsOk, parseCaptured, tcpdumpArgv } from "../../src/testing/capture.ts";

const t = suite("src/testing/capture");

t("tcpdump on a tap: immediate mode, pcap out, root kept, the filter as one word", () => {
  assert.equal(tcpdumpArgv({ iface: "tap-lan", file: "/dev/null", filter: "udp dst port 5201" }), [
    "tcpdump", "-i", "tap-lan", "-n", "-Z", "root", "--immediate-mode", "-U", "-w", "/dev/null", "udp dst port 5201",
  ]);
  assert.equal(tcpdumpArgv({ iface: "tap-wan", file: "/tmp/x/wan.pcap", snaplen: 256, count: 10 }).slice(-4), ["-s", "256", "-c", "10"]);
});

t("the count tcpdump reports as it stops", () => {
  assert.is(parseCaptured("listening on tap-lan, link-type EN10MB\n5 packets captured\n7 packets received by filter\n0 packets dropped by kernel\n"), 5);
  assert.is(parseCaptured("1 packet captured\n"), 1);
  assert.is(parseCaptured("tcpdump: syntax error\n"), undefined);
});

t("exactly, at least, none", () => {
  assert.ok(packetsOk({ port: "lan", filter: "icmp", exactly: 5 }, 5));
  assert.not.ok(packetsOk({ port: "lan", filter: "icmp", exactly: 5 }, 6));
  assert.ok(packetsOk({ port: "lan", filter: "icmp", at_least: 5 }, 9));
  assert.not.ok(packetsOk({ port: "lan", filter: "icmp", at_least: 5 }, 4));
  assert.ok(packetsOk({ port: "wan", filter: "icmp", none: true }, 0));
  assert.not.ok(packetsOk({ port: "wan", filter: "icmp", none: true }, 1));
  assert.is(describePackets({ port: "wan", filter: "icmp", none: true }), "none");
  assert.is(describePackets({ port: "wan", filter: "icmp", at_least: 2 }), "at least 2");
});

t.run();
