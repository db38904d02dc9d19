// The traffic steps of `xdp-lab test` on container hosts (--hosts podman, the lab's own image): the
// tcp, http, udp_flood, iperf3 and tcpreplay steps run the image's bash, curl, iperf3 and tcpreplay,
// and the packet counts come from tcpdump on the ports' taps. (tests/traffic.yaml runs the same
// kinds on namespace hosts in xdp-lab-test.test.ts.) Needs root and podman; in CI nothing is skipped.
import { join } from "node:path";
import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { Lab } from "../../src/lab.ts";
import { REPO } from "../../src/paths.ts";
import { parseTestFile } from "../../src/testing/spec.ts";
import { runStep } from "../../src/testing/traffic.ts";
import { ok, xdpLab } from "./cli.ts";
import { leftovers } from "./lab-leftovers.ts";

const t = suite("xdp-lab test's traffic steps on podman hosts");
// A system test never skips silently: off root it fails, saying why. At load, not in a before hook:
// uvu 0.5 neither prints nor counts as failed an error thrown by a hook, and exits 0.
if (process.getuid?.() !== 0) throw new Error("the traffic steps' system test needs root: run it as root, as CI does");
const P = `ts${process.pid}`.slice(0, 12);
const lab = new Lab(P);

t.before(async () => {
  await ok(["build", "--quiet"]);
  await ok(["up", "--name", P, "--hosts", "podman"]);
});

t.after(async () => {
  await xdpLab(["down", "--name", P]);
});

/** The steps of a one-test file written as the user would, read as the runner reads it (defaults, the pcap's path). */
function steps(yaml: string) {
  return parseTestFile(join(REPO, "tests", "podman.yaml"), `tests:\n  - name: t\n    traffic:\n${yaml}`).tests[0]!.traffic;
}

const run = (s: ReturnType<typeof steps>[number]) => runStep(s, (h) => lab.host(h), lab.plan.ns.lab);

t("tcp and http from a container, in both families, counted on the ports", async () => {
  for (const s of steps(`
      - tcp: { from: client, to: server, family: 4, port: 80 }
        expect: reachable
        packets: [ { port: wan, filter: "tcp dst port 80 and tcp[tcpflags] & tcp-syn != 0", exactly: 1 } ]
      - tcp: { from: client, to: server, family: 6, port: 81 }
        expect: unreachable
      - http: { from: client, to: server, family: 6, body: "hello from the server" }
        expect: reachable
        packets: [ { port: lan, filter: "ip6 and tcp port 80", at_least: 5 } ]
      - http: { from: server, to: client, family: 4, timeout: 1 }
        expect: unreachable
`)) {
    const r = await run(s);
    assert.ok(r.ok && (r.packets ?? []).every((p) => p.ok), JSON.stringify(r));
  }
  const [refused] = steps(`      - tcp: { from: client, to: server, family: 6, port: 81 }\n        expect: unreachable\n`);
  assert.is((await run(refused!)).measured.outcome, "refused");
});

t("a UDP flood and iperf3 runs between containers: what was sent and what arrived", async () => {
  const [flood, tcp, udp] = steps(`
      - udp_flood: { from: client, to: server, family: 4, rate: "400 pps", duration: 1, size: 100 }
        expect: reachable
        packets: [ { port: lan, filter: "udp dst port 5201 and udp[4:2] = 108", exactly: 400 } ]
      - iperf3: { from: server, to: client, family: 6, duration: 1 }
        throughput: { at_least: "10 Mbit/s" }
      - iperf3: { from: client, to: server, family: 4, protocol: udp, rate: "8 Mbit/s", duration: 1 }
`);
  const f = await run(flood!);
  assert.ok(f.ok && f.packets![0]!.ok, JSON.stringify(f));
  assert.is(f.measured.sentPackets, 400);
  assert.is(f.measured.sentBytes, 40000);
  const p = await run(tcp!);
  assert.ok(p.ok && Number(p.measured.receivedBytes) > 0, JSON.stringify(p));
  const u = await run(udp!);
  assert.ok(u.ok && Number(u.measured.sentPackets) > 0 && u.measured.lossPercent !== undefined, JSON.stringify(u));
  // The iperf3 servers the steps started are gone.
  const left = await (await lab.host("server")).exec(["pgrep -x iperf3 || true"]);
  assert.is(left.stdout.trim(), "");
});

t("tcpreplay from a container: the pcap is copied in, every frame sent and seen forwarded out of wan0", async () => {
  const [replay] = steps(`
      - tcpreplay: { from: client, file: pcaps/ping4-client-to-server.pcap, pps: 100, loop: 2 }
        packets: [ { port: wan, filter: "icmp[icmptype] = icmp-echo and dst host 10.10.2.10", exactly: 10 } ]
`);
  const r = await run(replay!);
  assert.ok(r.ok && r.packets![0]!.ok, JSON.stringify(r));
  assert.equal([r.measured.packets, r.measured.bytes], [10, 980]);
  assert.is((await (await lab.host("client")).exec(["ls /tmp | grep -c xdp-lab-test-replay || true"])).stdout.trim(), "0");
});

t("down leaves nothing", async () => {
  await ok(["down", "--name", P]);
  assert.equal(await leftovers(P), []);
});

t.run();
