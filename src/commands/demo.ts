// `xdp-lab demo`: the quick start's main job: build what is stale, boot it, and show the guest working.
import type { ArgumentsCamelCase, Argv } from "yargs";
import { build } from "../build/executor.ts";
import { defaultCacheDir } from "../build/cache.ts";
import { DEFAULT_PARAMS } from "../build/stages.ts";
import { boot } from "../vm/boot.ts";
import { DEFAULT_VM } from "../vm/qemu.ts";
import { DEFAULT_OUT, REPO } from "../paths.ts";
import { reporter } from "../ui/report.ts";
import { join } from "node:path";
import { prepareBoot } from "./boot.ts";

/** What the demo runs in the guest: its tools, then an XDP program dropping and passing traffic. */
const DEMO_SCRIPT = [
  "uname -sr",
  "ip -brief link",
  "bpftool version | head -1",
  "echo '--- ping on loopback, no XDP program:'",
  "ping -c 2 -W 1 -i 0.2 127.0.0.1 | grep transmitted",
  "ip link set dev lo xdpgeneric obj /usr/lib/xdp-lab/bpf/drop.bpf.o sec xdp",
  "echo '--- drop.bpf.o attached to lo:'",
  "ip link show dev lo | grep -o 'prog/xdp id [0-9]*'",
  "ping -c 3 -W 1 -i 0.2 127.0.0.1 | grep transmitted",
  "ip link set dev lo xdpgeneric off",
  "echo '--- detached:'",
  "ping -c 2 -W 1 -i 0.2 127.0.0.1 | grep transmitted",
].join("; ");

export const command = "demo";
export const describe = "Build (installing what is missing), boot the guest and show it working";

export function builder(y: Argv) {
  return y;
}

export async function handler(_argv: ArgumentsCamelCase): Promise<void> {
  await build({ repo: REPO, out: DEFAULT_OUT, cacheDir: defaultCacheDir(), params: DEFAULT_PARAMS, report: reporter("human") });
  const { kernel, initrd, accel } = await prepareBoot(DEFAULT_OUT, true);
  process.stderr.write(`\nbooting the guest under ${accel.toUpperCase()}\n`);
  const r = await boot({
    vm: {
      ...DEFAULT_VM,
      kernel,
      initrd,
      accel,
      command: DEMO_SCRIPT,
    },
    log: join(DEFAULT_OUT, "logs", "console.log"),
    readyTimeout: 60,
    onOutput: (l) => process.stdout.write(`  guest| ${l}\n`),
    onReady: (x) => process.stderr.write(`guest ready ${x.seconds.toFixed(2)} s after qemu start\n`),
  });
  process.stderr.write(
    `\nThe guest ran and powered off (status ${r.exitCode}). Next:\n` +
      `  ./xdp-lab boot            a shell in the guest (poweroff -f to leave)\n` +
      `  ./xdp-lab boot -- CMD     run CMD in the guest\n` +
      `  npm test                  the test suite\n`,
  );
  process.exitCode = r.exitCode;
}
