// Boot to ready for each kernel the lab can run, built (6.1, and 6.12 by build --kernel 6.12) and
// stock, in the same run, as JSON:
//   npm run bench:kernels
// Each kernel's `xdp-lab boot --kernel K -- true` ("guest ready N s after qemu start" and the guest's
// uptime at its ready marker), RUNS times interleaved so load on the machine falls on each alike;
// then `up` to every host ready for built and debian-6.12, and a stock kernel's first fetch from
// Debian's archive into an empty cache (apt-get download, unpack, depmod, modules archive, the echo
// module against its headers): what a fresh machine pays once, before its first boot.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { Cache } from "../src/build/cache.ts";
import { ensureStockKernel } from "../src/build/stock.ts";
import { DEFAULT_OUT, REPO } from "../src/paths.ts";
import { median } from "./run.ts";
import { parseReadyLine } from "../src/commands/boot.ts";
import { report } from "./results.ts";

const RUNS = Number(process.env.RUNS ?? 3);
const KERNELS = ["built", "6.12", "debian-6.1", "debian-6.12"];
const xdpLab = (args: string[]) => execa(`${REPO}/xdp-lab`, args, { reject: false });

for (const argv of [["build", "--quiet"], ["build", "--quiet", "--kernel", "6.12"]]) {
  const built = await xdpLab(argv);
  if (built.exitCode !== 0) throw new Error(`${argv.join(" ")} failed:\n${built.stderr}`);
}

const boots: Record<string, { ready: number[]; uptime: number[]; release?: string }> = Object.fromEntries(KERNELS.map((k) => [k, { ready: [], uptime: [] }]));
for (let i = 0; i < RUNS; i++) {
  for (const k of KERNELS) {
    const r = await xdpLab(["boot", "--kernel", k, "--accel", "tcg", "--", "uname -r"]);
    const m = parseReadyLine(r.stderr);
    if (r.exitCode !== 0 || !m) throw new Error(`boot --kernel ${k} failed:\n${r.stderr}`);
    boots[k]!.ready.push(m.seconds);
    boots[k]!.uptime.push(m.uptime);
    boots[k]!.release = r.stdout.trim();
  }
}

const ups: Record<string, number[]> = { built: [], "6.12": [], "debian-6.12": [] };
const name = `bk${process.pid}`.slice(0, 12);
for (let i = 0; i < Math.min(RUNS, 2); i++) {
  for (const k of Object.keys(ups)) {
    const r = await xdpLab(["up", "--name", name, "--kernel", k, "--accel", "tcg", "--json"]);
    await xdpLab(["down", "--name", name]);
    if (r.exitCode !== 0) throw new Error(`up --kernel ${k} failed:\n${r.stderr}`);
    ups[k]!.push(JSON.parse(r.stdout).upSeconds);
  }
}

// The first fetch, into an empty cache and output directory (the archive's files, not apt's lists:
// apt-get update is the machine's, whatever it runs for).
const scratch = await mkdtemp(join(tmpdir(), "xdp-lab-bench-kernels-"));
const fetchStarted = performance.now();
const fetched = await ensureStockKernel("debian-6.12", join(scratch, "out"), { cache: new Cache(join(scratch, "cache")) });
const fetchSeconds = (performance.now() - fetchStarted) / 1000;
await rm(scratch, { recursive: true, force: true });

report("kernels", {
  machine: `${(await execa("uname", ["-r"])).stdout}, ${(await execa("nproc")).stdout} CPUs, ${(await execa("qemu-system-x86_64", ["--version"])).stdout.split("\n")[0]}`,
  method: `xdp-lab boot --kernel K --accel tcg -- uname -r, ${RUNS} runs per kernel interleaved, 2 vCPUs, 256 MiB; median of "guest ready N s after qemu start"; up: xdp-lab up --kernel K to every host ready (ssh answers)`,
  out: DEFAULT_OUT,
  bootToReadySeconds: Object.fromEntries(
    Object.entries(boots).map(([k, b]) => [k, { release: b.release, median: median(b.ready), runs: b.ready, guestUptimeAtReadyMedian: median(b.uptime) }]),
  ),
  upSeconds: Object.fromEntries(Object.entries(ups).map(([k, xs]) => [k, { median: median(xs), runs: xs }])),
  firstFetch: { kernel: "debian-6.12", package: `${fetched.package} ${fetched.version}`, seconds: Number(fetchSeconds.toFixed(1)), modules: fetched.modules.length, echoModule: fetched.kmod },
});
