// Lab figures, printed as JSON:
//   npm run bench:lab
// - `up` from cached artifacts to every host ready, and `down` (3 runs each, median);
// - through the VM, client -> server: TCP throughput and UDP packets/s (iperf3) with no program,
//   with `pass` native and generic;
// - the rate at which `drop` discards at the LAN port (native, generic) against an nftables drop
//   rule in the same VM, in the same run, under the same UDP flood from the client.
// Needs root; it creates labs of its own (bench-*) and removes them.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { execa } from "execa";
import type { Client } from "ssh2";
import { ensure } from "../src/tools/ensure.ts";
import { LAB_RUNTIME, LAB_TOOLS } from "../src/build/packages.ts";
import { appCommand, appStats, load } from "../network/app-client.ts";
import { connectVm } from "../network/session.ts";
import { Lab } from "../src/lab.ts";
import { labPlan } from "../network/plan.ts";
import { labHost } from "../network/hosts/index.ts";
import { withIperf3Server } from "../src/testing/flows.ts";
import { iperf3Result } from "../src/testing/iperf3.ts";
import { exec as sshExec } from "../src/tools/ssh.ts";
import { DEFAULT_OUT, REPO } from "../src/paths.ts";
import { median } from "./run.ts";
import { report } from "./results.ts";

const RUNS = 3;
const SECONDS = 5;
const log = (m: string): void => void process.stderr.write(`bench:lab: ${m}\n`);

await ensure([...LAB_RUNTIME, ...LAB_TOOLS], { install: true, purpose: "bench:lab", log });
const FLOOD = join(await mkdtemp(join(tmpdir(), "xdp-lab-bench-lab-")), "udp-flood");
await execa("gcc", ["-O2", "-Wall", "-o", FLOOD, `${REPO}/bench/udp-flood.c`]);
const built = await execa(`${REPO}/xdp-lab`, ["build", "--quiet"], { reject: false });
if (built.exitCode !== 0) throw new Error(`build failed:\n${built.stderr}`);

// --- up and down -------------------------------------------------------------------------------
const ups: number[] = [];
const downs: number[] = [];
const steps: Record<string, number>[] = [];
for (let i = 0; i < RUNS; i++) {
  const lab = new Lab(`bench-${i}`);
  await lab.down();
  const r = await lab.up({ out: DEFAULT_OUT });
  ups.push(r.state.upSeconds!);
  steps.push(r.timings);
  const t = performance.now();
  await lab.down();
  downs.push((performance.now() - t) / 1000);
}

// --- traffic through the VM --------------------------------------------------------------------
const NAME = "bench-t";
const plan = labPlan(NAME);
const inNs = (role: "client" | "server", argv: string[]) => execa("ip", ["netns", "exec", plan.ns[role], ...argv], { reject: false });

interface Iperf {
  end: { sum_received?: { bits_per_second: number; seconds: number }; sum?: { packets: number; lost_packets: number; seconds: number; bits_per_second: number } };
}

/** One iperf3 run against a server of its own (withIperf3Server); iperf3's JSON, or its error thrown. */
async function iperf(args: string[]): Promise<Iperf> {
  const [server, client] = await Promise.all([labHost(plan, "server"), labHost(plan, "client")]);
  const a = await withIperf3Server(server, 5201, () => client.exec(["iperf3", "-c", "10.10.2.10", "-p", "5201", "-t", String(SECONDS), "-J", ...args]));
  iperf3Result(a, args.join(" ") || "tcp");
  return JSON.parse(a.stdout) as Iperf;
}

async function throughput(): Promise<{ tcpMbps: number; udpPps: number; udpLossPercent: number }> {
  const tcp = await iperf([]);
  const udp = await iperf(["-u", "-b", "0", "-l", "18"]);
  const s = udp.end.sum!;
  return {
    tcpMbps: Number((tcp.end.sum_received!.bits_per_second / 1e6).toFixed(1)),
    udpPps: Math.round((s.packets - s.lost_packets) / s.seconds),
    udpLossPercent: Number(((100 * s.lost_packets) / Math.max(1, s.packets)).toFixed(1)),
  };
}

/**
 * Packets the VM discarded per second while the client floods UDP at the server for SECONDS. The
 * flood (bench/udp-flood.c, sendmmsg) needs no answer, so it runs while everything is dropped.
 */
async function dropRate(counter: () => Promise<number>): Promise<{ dropsPerSecond: number; sentPerSecond: number }> {
  const before = await counter();
  const flood = await inNs("client", [FLOOD, "10.10.2.10", "9", String(SECONDS)]);
  const after = await counter();
  const sent = JSON.parse(flood.stdout) as { sent: number; seconds: number };
  return { dropsPerSecond: Math.round((after - before) / sent.seconds), sentPerSecond: Math.round(sent.sent / sent.seconds) };
}

async function xdpDropCounter(client: Client): Promise<number> {
  const lan = (await appStats(client)).programs.find((p) => p.iface === "lan0");
  if (!lan) throw new Error("no program on lan0");
  return lan.verdicts.drop?.packets ?? 0;
}

async function vm(client: Client, cmd: string): Promise<string> {
  const r = await sshExec(client, cmd);
  if (r.code !== 0) throw new Error(`VM: ${cmd}: ${r.stderr}`);
  return r.stdout;
}

const traffic = new Lab(NAME);
await traffic.down();
const accel = (await traffic.up({ out: DEFAULT_OUT })).accel.accel;
let results: Record<string, unknown> = {};
try {
  const client = await connectVm(NAME);
  const attach = async (obj: string, mode: "native" | "generic") => {
    const a = await load(NAME, `${DEFAULT_OUT}/${obj}`, { iface: "lan", mode });
    return a.result.mode;
  };
  const detach = () => appCommand(client, "unload", "lan0");

  log("no program");
  const none = await throughput();
  const passNativeMode = await attach("pass.bpf.o", "native");
  log(`pass (${passNativeMode})`);
  const passNative = await throughput();
  await detach();
  const passGenericMode = await attach("pass.bpf.o", "generic");
  log(`pass (${passGenericMode})`);
  const passGeneric = await throughput();
  await detach();

  const dropNativeMode = await attach("drop.bpf.o", "native");
  log(`drop (${dropNativeMode})`);
  const dropNative = await dropRate(() => xdpDropCounter(client));
  await detach();
  const dropGenericMode = await attach("drop.bpf.o", "generic");
  log(`drop (${dropGenericMode})`);
  const dropGeneric = await dropRate(() => xdpDropCounter(client));
  await detach();

  log("nftables drop rule");
  await vm(client, "nft add table ip bench && nft add chain ip bench pre '{ type filter hook prerouting priority raw; }' && nft add rule ip bench pre iifname lan0 udp dport 9 counter drop");
  const nftCounter = async () => Number(/packets (\d+)/.exec(await vm(client, "nft list chain ip bench pre"))?.[1] ?? NaN);
  const nftDrop = await dropRate(nftCounter);
  await vm(client, "nft delete table ip bench");
  client.end();

  results = {
    method: `${accel.toUpperCase()} guest, 2 vCPUs; iperf3 ${SECONDS} s per figure client -> server through the VM (UDP: 18-byte payloads, unlimited rate); drop rates under a sendmmsg UDP flood from the client (bench/udp-flood.c)`,
    up: { medianSeconds: Number(median(ups).toFixed(3)), runs: ups, steps, targetSeconds: 5 },
    down: { medianSeconds: Number(median(downs).toFixed(3)), runs: downs.map((d) => Number(d.toFixed(3))), targetSeconds: 1 },
    throughput: { none, passNative: { mode: passNativeMode, ...passNative }, passGeneric: { mode: passGenericMode, ...passGeneric } },
    dropAtLanPort: {
      xdpNative: { mode: dropNativeMode, ...dropNative },
      xdpGeneric: { mode: dropGenericMode, ...dropGeneric },
      nftablesPrerouting: nftDrop,
      ratioXdpNativeToNft: Number((dropNative.dropsPerSecond / Math.max(1, nftDrop.dropsPerSecond)).toFixed(2)),
    },
  };
} finally {
  await traffic.down();
  await rm(dirname(FLOOD), { recursive: true, force: true });
}
report("lab", results);
