// Link impairment's accuracy, printed as JSON: wanted against measured, on a real lab's LAN (the
// impairment relay, network/relay.ts), from the client to the server through the VM.
//   - delay D: ping's mean round trip minus the unimpaired one, against 2 D (D each way);
//   - loss P: the share of pings lost, against P (per round trip);
//   - rate R: iperf3's TCP goodput, against R;
//   - the cost of the relay itself: the unimpaired round trip with a relay doing nothing but
//     forwarding (duplicate 0.0001%), against none.
//
//   npm run bench:impair            # out/ must hold a build (./xdp-lab build)
import { execa } from "execa";
import { cpus } from "node:os";
import { join } from "node:path";
import { Lab } from "../src/lab.ts";
import { REPO } from "../src/paths.ts";
import { iperf3Result } from "../src/testing/iperf3.ts";
import { withIperf3Server } from "../src/testing/flows.ts";
import { report } from "./results.ts";

const NAME = `bimp${process.pid}`.slice(0, 12);
const lab = new Lab(NAME);
const inClient = (...argv: string[]) => execa("ip", ["netns", "exec", lab.plan.ns.client, ...argv], { reject: false });
const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;

async function ping(count: number, interval: string): Promise<{ avg: number; mdev: number; lossPct: number }> {
  const r = await inClient("ping", "-q", "-c", String(count), "-i", interval, "-W", "2", "10.10.2.10");
  const m = /= [\d.]+\/([\d.]+)\/[\d.]+\/([\d.]+) ms/.exec(r.stdout);
  const received = Number(/(\d+) received/.exec(r.stdout)?.[1] ?? 0);
  return { avg: Number(m?.[1] ?? NaN), mdev: Number(m?.[2] ?? NaN), lossPct: 100 - (100 * received) / count };
}

/** One iperf3 run against a server of its own (withIperf3Server). */
async function goodputKbit(): Promise<number> {
  const [server, client] = await Promise.all([lab.host("server"), lab.host("client")]);
  const a = await withIperf3Server(server, 5201, () => client.exec(["iperf3", "-c", "10.10.2.10", "-p", "5201", "-t", "4", "-J"]));
  return iperf3Result(a, "to the server").bitsPerSecond / 1000;
}

try {
  const up = await lab.up({ out: join(REPO, "out") });
  const base = await ping(50, "0.1");
  await lab.impair("lan", { duplicate: 0.0001 });
  const relayOnly = await ping(50, "0.1");
  const delays = [];
  for (const d of [10, 50, 100]) {
    await lab.impair("lan", { delay: d });
    const p = await ping(30, "0.2");
    delays.push({ delayMs: d, wantedRiseMs: 2 * d, measuredRiseMs: round(p.avg - base.avg), ratio: round((p.avg - base.avg) / (2 * d), 3), mdevMs: p.mdev });
  }
  const losses = [];
  for (const l of [1, 10, 30]) {
    await lab.impair("lan", { loss: l });
    const p = await ping(1000, "0.01");
    losses.push({ lossPct: l, measuredPct: round(p.lossPct, 1), pings: 1000 });
  }
  const rates = [];
  for (const r of [1000, 10_000]) {
    await lab.impair("lan", { rate: r });
    const got = await goodputKbit();
    rates.push({ rateKbit: r, measuredKbit: round(got, 0), ratio: round(got / r, 3) });
  }
  await lab.impair("lan", {});
  report("impair", {
    date: new Date().toISOString(),
    cpus: cpus().length,
    cpu: cpus()[0]?.model,
    accel: up.accel.accel,
    method: "client -> server through the VM; impairment on the LAN (both directions); ping -i 0.2 (delay) and -i 0.01 x 1000 (loss); iperf3 TCP 4 s (rate)",
    unimpairedRttMs: base.avg,
    relayOnlyRttMs: relayOnly.avg,
    relayCostMs: round(relayOnly.avg - base.avg, 3),
    delays,
    losses,
    rates,
  });
} finally {
  await lab.down();
}
