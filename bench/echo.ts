// Echo round trip through generic netlink in the VM, printed as JSON:
//   npm run bench:echo
// Boots the guest (`xdp-lab boot`), loads xdp_lab_echo.ko, starts xdp-lab-app with its control
// socket and sends COUNT echo requests through it; the app measures each round trip (CLOCK_MONOTONIC
// from send to the module's reply) and reports rtt_us in its JSON answer.
import { execa } from "execa";
import { accelFor } from "../src/commands/lab-options.ts";
import { DEFAULT_OUT, REPO } from "../src/paths.ts";
import { report } from "./results.ts";

const COUNT = 500;
const script = [
  "insmod /usr/lib/xdp-lab/kmod/xdp_lab_echo.ko",
  "xdp-lab-app --control /run/bench.sock </dev/null >/dev/null 2>&1 &",
  "while [ ! -S /run/bench.sock ]; do sleep 0.05; done",
  `i=0; while [ $i -lt ${COUNT} ]; do xdp-lab-app ctl --control /run/bench.sock echo round-trip-$i; i=$((i+1)); done`,
].join("\n");

const built = await execa(`${REPO}/xdp-lab`, ["build", "--quiet"], { reject: false });
if (built.exitCode !== 0) throw new Error(`build failed:\n${built.stderr}`);
const r = await execa(`${REPO}/xdp-lab`, ["boot", "--quiet", "--timeout", "120", "--", script], { reject: false });
if (r.exitCode !== 0) throw new Error(`guest command failed (${r.exitCode}):\n${r.stdout}\n${r.stderr}`);
const rtts = r.stdout
  .split("\n")
  .filter((l) => l.startsWith("{"))
  .map((l) => JSON.parse(l) as { ok: boolean; result?: { rtt_us: number } })
  .map((a) => {
    if (!a.ok || !a.result) throw new Error(`echo failed: ${JSON.stringify(a)}`);
    return a.result.rtt_us;
  })
  .sort((a, b) => a - b);
if (rtts.length !== COUNT) throw new Error(`expected ${COUNT} answers, got ${rtts.length}`);
const at = (q: number): number => rtts[Math.min(rtts.length - 1, Math.floor(q * rtts.length))]!;
report("echo", {
  method: `${COUNT} echo requests through xdp-lab-app's control socket in the guest (${(await accelFor(undefined, DEFAULT_OUT)).accel.toUpperCase()}, 2 vCPUs); round trip measured by the app from send to the module's reply`,
  count: rtts.length,
  medianUs: at(0.5),
  p90Us: at(0.9),
  p99Us: at(0.99),
  minUs: rtts[0],
  maxUs: rtts.at(-1),
});
