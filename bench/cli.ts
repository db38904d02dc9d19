// The CLI's start-up, printed as JSON:
//   npm run bench:cli [-- --runs N] [--name LAB]
// Wall time of `node -e 0` (node itself), `./xdp-lab --help` (the compiled CLI with its wrapper)
// and, for comparison, the same --help through tsx (how the CLI ran before it was compiled); when
// out/ holds a build whose stages are all in the cache, a no-op `./xdp-lab build`; when lab LAB
// (default "lab") is up (root), a hot `./xdp-lab load out/pass.bpf.o --name LAB`. The commands
// take turns, so machine load that comes and goes hits each alike; each figure is the median of N
// runs (default 15) with min and max, and its ratio to node's own start-up.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { defaultCacheDir } from "../src/build/cache.ts";
import { readManifest } from "../src/build/manifest.ts";
import { labPlan } from "../network/plan.ts";
import { readState } from "../network/state.ts";
import { DEFAULT_OUT, REPO } from "../src/paths.ts";
import { report } from "./results.ts";

const { values: opts } = parseArgs({ options: { runs: { type: "string", default: "15" }, name: { type: "string", default: "lab" } } });
const RUNS = Number(opts.runs);
const LAB = opts.name!;
const XDP_LAB = join(REPO, "xdp-lab");
const log = (m: string): void => void process.stderr.write(`bench:cli: ${m}\n`);

function run(argv: string[]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd: REPO, stdio: ["ignore", "ignore", "pipe"] });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${argv.join(" ")} failed (exit ${r.status}): ${String(r.stderr).slice(-2000)}`);
  return seconds;
}

/** Whether every stage of out/'s build is in the cache, so `build` has nothing to compile. */
async function buildIsCached(): Promise<boolean> {
  if (!existsSync(join(DEFAULT_OUT, "manifest.json"))) return false;
  const manifest = await readManifest(join(DEFAULT_OUT, "manifest.json"));
  const stages = Object.entries(manifest.stages);
  return stages.length > 0 && stages.every(([stage, r]) => existsSync(join(defaultCacheDir(), "stages", stage, r.key)));
}

const commands: Record<string, string[]> = {
  "node -e 0": [process.execPath, "-e", "0"],
  "./xdp-lab --help": [XDP_LAB, "--help"],
  "tsx src/cli.ts --help": [process.execPath, "--import", join(REPO, "node_modules/tsx/dist/loader.mjs"), join(REPO, "src/cli.ts"), "--help"],
};
const skipped: Record<string, string> = {};
const LOAD = `./xdp-lab load out/pass.bpf.o --name ${LAB} (hot)`;
if (await buildIsCached()) commands["./xdp-lab build (no-op)"] = [XDP_LAB, "build", "--quiet"];
else skipped["./xdp-lab build (no-op)"] = "no out/manifest.json whose stages are all in the cache: run ./xdp-lab build first";
if (process.getuid?.() !== 0) skipped[LOAD] = "needs root";
else if ((await readState(labPlan(LAB)))?.phase !== "up") skipped[LOAD] = `lab ${LAB} is not up: ./xdp-lab up --name ${LAB}`;
else if (!existsSync(join(DEFAULT_OUT, "pass.bpf.o"))) skipped[LOAD] = "no out/pass.bpf.o";
else commands[LOAD] = [XDP_LAB, "load", join(DEFAULT_OUT, "pass.bpf.o"), "--name", LAB];

// One untimed round first: compiles dist/ if stale, rebuilds what is stale, warms the page cache.
log(`warming up: ${Object.keys(commands).join(", ")}`);
for (const argv of Object.values(commands)) run(argv);
const times: Record<string, number[]> = Object.fromEntries(Object.keys(commands).map((k) => [k, []]));
const names = Object.keys(commands);
for (let i = 0; i < RUNS; i++) {
  for (let j = 0; j < names.length; j++) {
    const name = names[(i + j) % names.length]!;
    times[name]!.push(run(commands[name]!));
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const r3 = (x: number): number => Math.round(x * 1000) / 1000;
const node = median(times["node -e 0"]!);
const figures = Object.fromEntries(
  names.map((name) => {
    const xs = times[name]!;
    return [name, { median_s: r3(median(xs)), min_s: r3(Math.min(...xs)), max_s: r3(Math.max(...xs)), vs_node: Math.round((median(xs) / node) * 100) / 100 }];
  }),
);
report("cli", {
  method: `wall time of each command spawned from node (spawnSync, stdout discarded), ${RUNS} runs each after one untimed warm-up, commands taking turns; median with min and max; vs_node = median / median of node -e 0`,
  runs: RUNS,
  node: process.version,
  figures,
  skipped,
});
