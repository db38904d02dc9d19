import { suite } from "uvu";
import * as assert from "uvu/assert";
import { badFilters, describePackets, packetsOk, parseCaptured, tcpdumpArgv } from "../../src/testing/capture.ts";
import { CAPTURE_TOOLS } from "../../src/build/packages.ts";
import { ensure } from "../../src/build/requirements.ts";

const t = suite("src/testing/capture");

// tcpdump compiles the filters; a fresh machine gets it here (as root), or a fix.
t.before(() => ensure(CAPTURE_TOOLS, { install: true, purpose: "the capture filter tests (tcpdump compiles them)" }));

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

t("filters compiled by tcpdump before any lab: the bad ones with tcpdump's word (tcpdump is in the package lists)", async () => {
  const bad = await badFilters(["udp dst port 5201 and udp[4:2] = 72", "tcp prot 80", "icmp[icmptype] = icmp-echo"]);
  assert.equal([...bad.keys()], [1]);
  assert.is(bad.get(1), "tcpdump cannot use this filter: can't parse filter expression: syntax error (the syntax: man pcap-filter)");
  assert.is((await badFilters([])).size, 0);
});

t.run();
