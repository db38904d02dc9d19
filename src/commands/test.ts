// `xdp-lab test [FILE|DIR...]`: runs the XDP tests declared in YAML files in a lab of its own (packet
// cases on this machine's kernel, without one), with a line per test, TAP, JUnit, JSON and the GitHub job summary; exit 0 all passed, 1 one failed, 2 none could run.
import { appendFile, mkdir, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import type { ArgumentsCamelCase, Argv } from "yargs";
import { DEFAULT_OUT } from "../paths.ts";
import { withAccel, withGuestRoot } from "./lab-options.ts";
import type { GuestRoot } from "../../network/contract.ts";

export const command = "test [paths..]";
export const describe = "Run XDP tests declared in YAML files (tests/ by default): traffic through the lab and what must come of it, and packet cases (packets:) on this machine's kernel";

export function builder(y: Argv) {
  return withGuestRoot(withAccel(y))
    .positional("paths", { type: "string", array: true, default: ["tests"], describe: "test files (.yaml) and folders of them" })
    .option("filter", { type: "string", describe: "run only the tests whose name matches this regular expression" })
    .option("junit", { type: "string", describe: "write a JUnit XML report to FILE" })
    .option("json", { type: "string", describe: "write the whole result, every measured value, as JSON to FILE" })
    .option("tap", { type: "boolean", default: false, describe: "print TAP version 13 (KTAP-compatible) on stdout; the per-test lines go to stderr" })
    .option("keep-going", { type: "boolean", default: false, describe: "run every test even after one failed (otherwise the rest are skipped)" })
    .option("jobs", { alias: "j", type: "number", default: 1, describe: "run the tests in N labs side by side (each a VM of its own; results stay in the files' order)" })
    .option("mode", { type: "string", describe: "run every test once in each attach mode (native,generic), reported as \"NAME [MODE]\"; replaces the mode of each test's XDP programs (packet cases attach nothing and run once)" })
    .option("kernel", { type: "string", default: "built", describe: "the kernel the labs boot: built (out/bzImage), 6.1 or 6.12 (from ./xdp-lab build --kernel VERSION), debian-6.1 or debian-6.12 (Debian's prebuilt cloud kernel, no compile); a comma list (6.1,6.12) runs every test on each, reported as \"NAME [KERNEL]\"; packet cases run on this machine's kernel whatever it says" })
    .option("keep-lab", { type: "boolean", default: false, describe: "leave the lab up at the end, to explore it" })
    .option("out", { type: "string", default: DEFAULT_OUT, describe: "directory with the build's artifacts", defaultDescription: "out/ in the checkout" })
    .option("results", { type: "string", default: "test-results", describe: "where failed tests keep their artefacts (RESULTS/FILE/TEST/)" });
}

type Args = ArgumentsCamelCase<ReturnType<typeof builder> extends Argv<infer T> ? T : never>;

async function write(file: string, text: string): Promise<void> {
  await mkdir(dirname(resolve(file)), { recursive: true });
  await writeFile(file, text);
}

export async function handler(argv: Args): Promise<void> {
  const [{ runSuite }, { CannotRunError }, report, { nameFlag }] = await Promise.all([
    import("../testing/suite.ts"),
    import("../testing/runner.ts"),
    import("../testing/report.ts"),
    import("../../network/plan.ts"),
  ]);
  // With --tap, stdout is TAP's alone.
  const human = (line: string): void => void (argv.tap ? process.stderr : process.stdout).write(line + "\n");
  const labName = `t${process.pid}`.slice(0, 12);
  let r;
  try {
    r = await runSuite({
      paths: argv.paths,
      filter: argv.filter,
      out: resolve(argv.out),
      accel: argv.accel,
      results: resolve(argv.results),
      keepGoing: argv.keepGoing,
      keepLab: argv.keepLab,
      labName,
      jobs: argv.jobs,
      modes: argv.mode,
      kernels: argv.kernel,
      guestRoot: argv.guestRoot as GuestRoot,
      log: (l) => process.stderr.write(l + "\n"),
      onStart: (c, lab) => process.stderr.write(`RUN  ${c.name} (${c.file.path}${!lab ? ", this machine's kernel" : argv.jobs > 1 ? `, lab ${lab.name}` : ""})\n`),
      onResult: (t) => report.progressLines(t).forEach(human),
    });
  } catch (e) {
    if (!(e instanceof CannotRunError)) throw e;
    process.stderr.write(`xdp-lab: ${e.message}\n`);
    process.exitCode = 2;
    return;
  }
  const s = r.summary;
  const labs = r.labs ?? [r.lab];
  const kernels = r.kernels && (r.kernels.length > 1 || r.kernels[0] !== "built") ? `, kernel${r.kernels.length > 1 ? "s" : ""} ${r.kernels.join(", ")}` : "";
  // A run of packet cases only brings no lab up.
  const where = labs.length > 1 ? `labs ${labs.join(", ")}` : r.lab ? `lab ${r.lab}` : "no lab";
  human(`${s.passed} passed, ${s.failed} failed${s.skipped ? `, ${s.skipped} skipped` : ""} (${r.seconds.toFixed(1)} s, ${where}${kernels})`);
  if (argv.tap) process.stdout.write(report.tap(r));
  if (argv.junit) await write(argv.junit, report.junit(r));
  if (argv.json) await write(argv.json, JSON.stringify(r, null, 2) + "\n");
  if (process.env.GITHUB_STEP_SUMMARY) await appendFile(process.env.GITHUB_STEP_SUMMARY, report.markdown(r));
  if (argv.keepLab) {
    for (const lab of labs.filter(Boolean)) {
      const n = nameFlag(lab);
      human(`lab ${lab} stays up: ./xdp-lab ssh${n}, ./xdp-lab status${n}, ./xdp-lab exec client${n} -- CMD; remove it with ./xdp-lab down${n}`);
    }
  }
  process.exitCode = s.failed ? 1 : 0;
}
