// --guest-root host against the initramfs, same run, as JSON:
//   npm run bench:guest-root
// Boot to ready (`xdp-lab boot -- true`: "guest ready N s after qemu start"), RUNS times
// interleaved so load on the machine falls on both alike; `up` to every host ready, 2 each, and
// `exec vm -- true` in each lab; then xdp-tools' own suites (Debian's xdp-tests) in two host-root
// guests side by side, each suite's wall time and counts (SUITES=0 leaves them out).
// The built kernel (out/), TCG unless ACCEL says otherwise.
import { execa } from "execa";
import { PEER_SUITE_TOOLS } from "../src/build/packages.ts";
import { ensure } from "../src/tools/ensure.ts";
import { REPO } from "../src/paths.ts";
import { outcomes, parseSuites, SUITE_GROUPS, suiteBootArgs } from "../src/testing/xdp-tools-suites.ts";
import { median, timedXdpLab } from "./run.ts";
import { parseReadyLine } from "../src/commands/boot.ts";
import { GUEST_ROOTS } from "../network/contract.ts";
import { report } from "./results.ts";

const RUNS = Number(process.env.RUNS ?? 5);
const ACCEL = process.env.ACCEL ?? "tcg";
const log = (m: string): void => void process.stderr.write(`bench:guest-root: ${m}\n`);

await ensure(PEER_SUITE_TOOLS, { install: true, purpose: "bench:guest-root", log });
await timedXdpLab(["build", "--quiet"]);

const ready: Record<string, number[]> = { initramfs: [], host: [] };
// The ready line is on boot's stderr.
for (let i = 0; i < RUNS; i++) {
  for (const root of GUEST_ROOTS) {
    const r = await execa(`${REPO}/xdp-lab`, ["boot", "--guest-root", root, "--accel", ACCEL, "--", "true"], { reject: false });
    const m = parseReadyLine(r.stderr);
    if (r.exitCode !== 0 || !m) throw new Error(`boot --guest-root ${root} failed:\n${r.stderr}`);
    ready[root]!.push(m.seconds);
  }
}

const ups: Record<string, number[]> = { initramfs: [], host: [] };
const execs: Record<string, number[]> = { initramfs: [], host: [] };
const name = `bg${process.pid}`.slice(0, 10);
for (let i = 0; i < 2; i++) {
  for (const root of GUEST_ROOTS) {
    await execa(`${REPO}/xdp-lab`, ["down", "--name", name], { reject: false });
    const r = await timedXdpLab(["up", "--name", name, "--guest-root", root, "--accel", ACCEL, "--json"]);
    for (let j = 0; j < 3; j++) execs[root]!.push((await timedXdpLab(["exec", "vm", "--name", name, "--", "true"])).seconds);
    await timedXdpLab(["down", "--name", name]);
    ups[root]!.push((JSON.parse(r.stdout) as { upSeconds: number }).upSeconds);
  }
}

// SUITES=0 leaves them out (about 10 minutes; test/system/guest-root.test.ts prints the same figures).
let suiteFigures: unknown = "not run (SUITES=0)";
if (process.env.SUITES !== "0") {
  log("xdp-tools' suites in host-root guests");
  const started = performance.now();
  const groups = await Promise.all(SUITE_GROUPS.map((g) => timedXdpLab(suiteBootArgs(g, ["--accel", ACCEL]))));
  const results = parseSuites(groups.map((g) => g.stdout).join("\n")).map((s) => {
    const { passed, skipped, failed } = outcomes(s);
    return { tool: s.tool, exitCode: s.exitCode, seconds: s.seconds, passed: passed.length, skipped, failed };
  });
  suiteFigures = { wallSeconds: Number(((performance.now() - started) / 1000).toFixed(1)), suites: results };
}

const round = (x: number): number => Number(x.toFixed(2));
report("guest-root", {
  method: `xdp-lab boot --guest-root R -- true, ${RUNS} runs interleaved (median of "guest ready N s after qemu start"); up to every host ready, 2 runs each, with 3 \`xdp-lab exec vm -- true\` in each lab; ${ACCEL.toUpperCase()}, 2 vCPUs; the suites in two host-root guests side by side (${SUITE_GROUPS.map((g) => g.join(" + ")).join(" | ")}), --memory 1024 each`,
  bootToReadySeconds: Object.fromEntries(GUEST_ROOTS.map((r) => [r, { median: round(median(ready[r]!)), runs: ready[r]!.map(round) }])),
  hostOverInitramfsBoot: round(median(ready.host!) / median(ready.initramfs!)),
  upSeconds: Object.fromEntries(GUEST_ROOTS.map((r) => [r, { median: round(median(ups[r]!)), runs: ups[r]!.map(round) }])),
  hostOverInitramfsUp: round(median(ups.host!) / median(ups.initramfs!)),
  execTrueSeconds: Object.fromEntries(GUEST_ROOTS.map((r) => [r, { median: round(median(execs[r]!)), runs: execs[r]!.map(round) }])),
  xdpToolsSuites: suiteFigures,
});
