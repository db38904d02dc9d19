// The quick start's `./xdp-lab demo --kernel debian-6.12` on a fresh machine, apt included, as one
// run, as JSON:
//   npm run bench:fresh-demo
// The fresh machine is a privileged podman container of Debian bookworm minbase (debootstrap's, the
// image the build image starts from: src/build/image.ts ensureMinbase) with this machine's apt
// sources, TLS trust, npm settings and its Node.js and npm (a new machine of this kind comes with
// them), and nothing else: no package of the lab's, no node_modules, no build cache, no KVM
// verdict. A clean clone of HEAD goes in, and the demo runs there, timed from the command to its exit; then `down`, timed too. The
// container shares this machine's network stack only to reach Debian's archive and npm's registry:
// the lab makes its own namespaces inside it, as on a host, and sends packets only between them.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { containerEngine, ensureMinbase, MINBASE_TAG } from "../src/build/image.ts";
import { engineArgs, RUN_LIMITS } from "../src/tools/podman.ts";
import { cleanClone } from "./run.ts";
import { report } from "./results.ts";

const engine = await containerEngine();
if (engine.file !== "podman") throw new Error(`bench:fresh-demo needs podman (found ${engine.file}): a privileged container stands for the fresh machine`);
await ensureMinbase(engine, { log: (m) => process.stderr.write(`${m}\n`) });

const dir = await mkdtemp(join(tmpdir(), "xdp-lab-fresh-"));
const name = `xdp-lab-fresh-${process.pid}`;
const KEPT = join(tmpdir(), "xdp-lab-fresh-demo.log");
try {
  const clone = await cleanClone(join(dir, "xdp-lab"));
  // Timed inside the container, with date before and after each command.
  const script = [
    "set -u",
    "rm -f /etc/apt/sources.list",
    "ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/bin/npm && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/bin/npx",
    "cd /xdp-lab",
    "t0=$(date +%s.%N)",
    "./xdp-lab demo --kernel debian-6.12 >/xdp-lab/demo.out 2>&1; rc=$?",
    "t1=$(date +%s.%N)",
    "./xdp-lab down >/xdp-lab/down.out 2>&1; drc=$?",
    "t2=$(date +%s.%N)",
    'echo "$rc $t0 $t1 $drc $t2" >/xdp-lab/times',
  ].join("\n");
  const r = await execa(
    engine.file,
    engineArgs(engine, [
      "run",
      "--rm",
      "--name",
      name,
      "--privileged",
      "--network",
      "host",
      ...RUN_LIMITS,
      "-v",
      `${join(dir, "xdp-lab")}:/xdp-lab`,
      "-v",
      "/etc/apt/sources.list.d/debian.sources:/etc/apt/sources.list.d/debian.sources:ro",
      // The machine's own TLS trust and npm settings (its registry goes through a proxy with its own CA).
      "-v",
      "/etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro",
      "-v",
      "/usr/etc/npmrc:/usr/etc/npmrc:ro",
      "-v",
      "/root/.npmrc:/root/.npmrc:ro",
      "-e",
      "NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt",
      "-v",
      "/usr/bin/node:/usr/bin/node:ro",
      "-v",
      "/usr/lib/node_modules:/usr/lib/node_modules:ro",
      MINBASE_TAG,
      "bash",
      "-c",
      script,
    ]),
    { reject: false },
  );
  const times = (await readFile(join(dir, "xdp-lab", "times"), "utf8").catch(() => "")).trim().split(" ");
  const out = await readFile(join(dir, "xdp-lab", "demo.out"), "utf8").catch(() => "");
  if (r.exitCode !== 0 || times.length !== 5 || times[0] !== "0") {
    throw new Error(`the fresh-machine demo failed (container exit ${r.exitCode}, demo exit ${times[0] ?? "?"}):\n${r.stderr.slice(-2000)}\n${out.slice(-4000)}`);
  }
  const [, t0, t1, drc, t2] = times.map(Number) as [number, number, number, number, number];
  // Each act of the story ends with its verdict line, "  PASS (1.2 s)" (src/testing/story.ts actLines).
  const acts = [...out.matchAll(/^ {2}(PASS|FAIL) \(/gm)].map((m) => m[1]);
  await writeFile(KEPT, out);
  process.stderr.write(`the demo's output: ${KEPT}\n`);
  const up = /lab \S+ up in ([\d.]+) s under (\w+)/.exec(out);
  report("fresh-demo", {
    bench: "fresh-demo",
    commit: clone.commit,
    uncommittedChangesNotMeasured: clone.uncommittedChangesNotMeasured,
    command: "./xdp-lab demo --kernel debian-6.12",
    machine: "privileged bookworm minbase container with this machine's apt sources, TLS trust, npm settings and Node.js; this machine's network stack",
    demo_seconds: +(t1 - t0).toFixed(1),
    down_seconds: +(t2 - t1).toFixed(1),
    down_exit: drc,
    lab_up_seconds: up ? Number(up[1]) : null,
    accel: up?.[2] ?? null,
    acts: { passed: acts.filter((a) => a === "PASS").length, failed: acts.filter((a) => a === "FAIL").length },
    goal_seconds: 120,
  });
} finally {
  await execa(engine.file, engineArgs(engine, ["rm", "-f", name]), { reject: false });
  await rm(dir, { recursive: true, force: true });
}
