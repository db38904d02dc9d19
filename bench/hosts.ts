// Container hosts and link impairment, as JSON:
//   npm run bench:hosts
// - `up` with podman hosts against namespace hosts, interleaved in the same run (RUNS each, median;
//   the default host image made first, its cost reported apart);
// - impairment accuracy: the rate wanted against iperf3's (TCP, client -> server), and the delay
//   and loss wanted against ping's where the host kernel has netem.
// Needs root; it creates labs of its own (bench-h*) and removes them.
import { execa } from "execa";
import { Lab } from "../src/lab.ts";
import { ensureHostImage } from "../src/host-image.ts";
import { ensure } from "../src/tools/ensure.ts";
import { LAB_RUNTIME, LAB_TOOLS } from "../src/build/packages.ts";
import { DEFAULT_OUT, REPO } from "../src/paths.ts";
import { iperf3Result } from "../src/testing/iperf3.ts";
import { withIperf3Server } from "../src/testing/flows.ts";
import { median } from "./run.ts";
import { report } from "./results.ts";

const RUNS = 3;
const log = (m: string): void => void process.stderr.write(`bench:hosts: ${m}\n`);

await ensure([...LAB_RUNTIME, ...LAB_TOOLS], { install: true, purpose: "bench:hosts", log });
const built = await execa(`${REPO}/xdp-lab`, ["build", "--quiet"], { reject: false });
if (built.exitCode !== 0) throw new Error(`build failed:\n${built.stderr}`);
let t = performance.now();
const image = await ensureHostImage(log);
const imageSeconds = (performance.now() - t) / 1000;

// --- up: podman against namespaces -------------------------------------------------------------
const ups: Record<"netns" | "podman", number[]> = { netns: [], podman: [] };
for (let i = 0; i < RUNS; i++) {
  for (const kind of ["netns", "podman"] as const) {
    const lab = new Lab(`bench-h${i}`);
    await lab.down();
    const r = await lab.up({ out: DEFAULT_OUT, hosts: kind === "podman" ? { client: { kind }, server: { kind } } : {} });
    ups[kind].push(r.state.upSeconds!);
    await lab.down();
  }
}

// --- impairment accuracy -----------------------------------------------------------------------
const lab = new Lab("bench-hi");
await lab.down();
await lab.up({ out: DEFAULT_OUT });
const inNs = (role: "client" | "server", argv: string[]) => execa("ip", ["netns", "exec", lab.plan.ns[role], ...argv], { reject: false });
const rates: { wantedKbit: number; measuredKbit: number }[] = [];
let delay: unknown = "not measured";
let loss: unknown = "not measured";
try {
  const [server, client] = await Promise.all([lab.host("server"), lab.host("client")]);
  for (const rate of [1000, 10_000, 100_000]) {
    await lab.impair("lan", { rate });
    const a = await withIperf3Server(server, 5201, () => client.exec(["iperf3", "-c", "10.10.2.10", "-p", "5201", "-t", "5", "-J"]));
    const r = iperf3Result(a, "to the server");
    rates.push({ wantedKbit: rate, measuredKbit: Math.round(r.bitsPerSecond / 1000) });
  }
  const ping = async (count: number, interval: string) => {
    const r = await inNs("client", ["ping", "-q", "-c", String(count), "-i", interval, "-W", "1", "server"]);
    return { received: Number(/(\d+) received/.exec(r.stdout)?.[1]), avg: Number(/= [\d.]+\/([\d.]+)\//.exec(r.stdout)?.[1]) };
  };
  await lab.impair("lan", {});
  const base = await ping(20, "0.2");
  try {
    await lab.impair("lan", { delay: 50 });
    delay = { wantedRiseMs: 100, baseRttMs: base.avg, rttMs: (await ping(20, "0.2")).avg };
    await lab.impair("lan", { loss: 10 });
    loss = { wantedPercent: 10, measuredPercent: 100 - (await ping(1000, "0.01")).received / 10 };
  } catch (e) {
    delay = loss = `not measured: ${(e as Error).message.split(". Fix")[0]}`;
  }
} finally {
  await lab.down();
}

report("hosts", {
  date: new Date().toISOString(),
  method: `${RUNS} runs each of up with namespace hosts and with podman hosts (client and server), interleaved, under the accelerator auto picks; impairment on the LAN, iperf3 TCP 5 s client -> server, ping 20 x 0.2 s for the delay and 1000 x 0.01 s for the loss`,
  hostImage: { tag: image.tag, built: image.built, seconds: Number(imageSeconds.toFixed(1)) },
  upSeconds: { netns: { runs: ups.netns, median: median(ups.netns) }, podman: { runs: ups.podman, median: median(ups.podman) } },
  podmanExtraSeconds: Number((median(ups.podman) - median(ups.netns)).toFixed(3)),
  rate: rates,
  delay,
  loss,
});
