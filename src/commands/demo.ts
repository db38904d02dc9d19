// `xdp-lab demo`: the quick start's main job: build what is stale, bring the lab up, and show XDP
// passing and dropping real traffic between the client and the server; the lab stays up. The story
// is a test file (examples/tests/demo.yaml), run act by act with the test runner.
import type { ArgumentsCamelCase, Argv } from "yargs";
import { nameFlag } from "../../network/plan.ts";
import { join, relative } from "node:path";
import { DEFAULT_OUT, REPO } from "../paths.ts";
import { withAccel, withKernel, withName } from "./lab-options.ts";

export const command = "demo";
export const describe = "Build (installing what is missing), bring the lab up and show pass and drop on real traffic";

export function builder(y: Argv) {
  return withKernel(withAccel(withName(y)));
}

type Args = ArgumentsCamelCase<ReturnType<typeof builder> extends Argv<infer T> ? T : never>;

const say = (m: string): void => void process.stdout.write(m + "\n");

/** The demo's story. */
export const DEMO_FILE = join(REPO, "examples", "tests", "demo.yaml");

export async function handler(argv: Args): Promise<void> {
  const [{ build }, { defaultCacheDir }, { DEFAULT_PARAMS }, { appStats }, { withVm }, { Lab }, { reporter }, { loadTestFile }, { runTest }, { actLines }] = await Promise.all([
    import("../build/executor.ts"),
    import("../build/cache.ts"),
    import("../build/stages.ts"),
    import("../../network/app-client.ts"),
    import("../../network/session.ts"),
    import("../lab.ts"),
    import("../ui/report.ts"),
    import("../testing/spec.ts"),
    import("../testing/runner.ts"),
    import("../testing/story.ts"),
  ]);
  const name = argv.name;
  const n = nameFlag(name);
  const lab = new Lab(name);
  // The story's objects are out/'s. A stock kernel (debian-6.12) gets the other stages built against
  // it into out/, no kernel compiled; otherwise the default build runs, its kernel included, and a
  // built version besides it goes to out/kernels/VERSION/ (src/build/kernel-build.ts).
  const log = (l: string) => process.stderr.write(l + "\n");
  const [{ DEFAULT_KERNEL, parseBuildKernel }, { kernelBuild }] = await Promise.all([import("../build/kernels.ts"), import("../build/kernel-build.ts")]);
  const k = argv.kernel === "built" ? undefined : await kernelBuild(parseBuildKernel(argv.kernel, (p) => p), DEFAULT_OUT, { install: true, log });
  const cacheDir = defaultCacheDir();
  if (k?.provided) {
    await build({ repo: REPO, out: k.out, cacheDir, params: DEFAULT_PARAMS, variant: k.version, provided: k.provided, report: reporter("human") });
  } else {
    // A first demo compiles the kernel: say so, and what spares it, before the compile starts.
    const { Cache } = await import("../build/cache.ts");
    if (!(await new Cache(cacheDir).entries()).some((e) => e.stage === "kernel" && (e.kernel === undefined || e.kernel === DEFAULT_KERNEL))) {
      say(`No kernel of the lab's in the build cache: this demo compiles one first (about 10 minutes on 2 cores).\n` + `  ./xdp-lab demo --kernel debian-6.12${n} compiles none: Debian's prebuilt kernel, ready in under 2 minutes even on a fresh machine (no 9p shares).`);
    }
    await build({ repo: REPO, out: DEFAULT_OUT, cacheDir, params: DEFAULT_PARAMS, variant: DEFAULT_KERNEL, report: reporter("human") });
    if (k && k.out !== DEFAULT_OUT) await build({ repo: REPO, out: k.out, cacheDir, params: { ...DEFAULT_PARAMS, kernelSrc: k.kernelSrc }, variant: k.version, report: reporter("human") });
  }
  // Read after the build: the file names its objects in out/.
  const story = await loadTestFile(DEMO_FILE);
  if (await lab.isUp()) {
    const running = (await lab.state())?.kernel?.name ?? "built";
    const wanted = argv.kernel ?? "built";
    if (running !== wanted) throw new Error(`lab ${name} is up on kernel ${running}, not ${wanted}. Fix: ./xdp-lab down${n} first, or run the demo with --kernel ${running}`);
    say(`\nlab ${name} is already up on kernel ${running}: using it (each act resets it first)`);
  } else {
    const r = await lab.up({ out: DEFAULT_OUT, kernel: argv.kernel, accel: argv.accel, log });
    say(`\nlab ${name} up in ${(r.state.upSeconds ?? 0).toFixed(1)} s under ${r.accel.accel.toUpperCase()} (${r.accel.why}), kernel ${r.state.kernel?.name ?? "built"}${r.state.kernel?.release ? ` ${r.state.kernel.release}` : ""}: client -- ${lab.plan.links.lan.bridge} -- [xdp VM] -- ${lab.plan.links.wan.bridge} -- server, internet behind NAT`);
  }
  say(`the story: ${relative(process.cwd(), DEMO_FILE) || DEMO_FILE} (./xdp-lab test runs it as tests)`);

  let failed = 0;
  try {
    for (const [i, test] of story.tests.entries()) {
      const r = await runTest(lab, story, test);
      say("");
      const lines = actLines(i + 1, test, r);
      // The counters while the act's program is still attached (the next act's reset detaches it).
      if (test.setup?.programs?.length && !r.error) {
        const p = (await withVm(name, appStats)).programs[0];
        lines.splice(lines.length - 1, 0, `  counters: ${p ? `${p.program} (${p.mode}): pass ${p.verdicts.pass?.packets}, drop ${p.verdicts.drop?.packets}` : "no program"}`);
      }
      lines.forEach(say);
      if (r.verdict === "fail") failed++;
    }
  } finally {
    lab.close();
  }

  say(
    `\nThe lab stays up. Next:\n` +
      `  ./xdp-lab tmux${n}                         a shell here; the VM, the server and the client beside it\n` +
      `  ./xdp-lab ssh${n}                          a shell in the VM (xdp-lab-app ctl help, bpftool, nft)\n` +
      `  ./xdp-lab exec client${n} -- ping server   run anything on vm, client, server or internet\n` +
      `  ./xdp-lab load out/firewall.bpf.o${n}      attach your own program; ./xdp-lab status${n} shows its counters\n` +
      `  ./xdp-lab test examples/tests/            tests like the demo's, as files (docs/xdp-tests.md)\n` +
      `  ./xdp-lab down${n}                         remove the lab\n` +
      `  npm test                               the test suite`,
  );
  if (failed) {
    process.stderr.write(`xdp-lab: ${failed} act(s) of the demo did not go as ${DEMO_FILE} says (above)\n`);
    process.exitCode = 1;
  }
}
