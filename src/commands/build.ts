// `xdp-lab build [stage...]`: runs the stage table on this machine (or in containers) into out/.
import { resolve } from "node:path";
import type { ArgumentsCamelCase, Argv } from "yargs";
import { defaultCacheDir } from "../build/cache.ts";
import { DEFAULT_KERNEL_SRC, STAGE_NAMES, type StageName } from "../build/stages.ts";
import { DEFAULT_OUT, REPO } from "../paths.ts";

export const command = "build [stages..]";
export const describe = "Build the kernel and initramfs into out/ (cached by content, reproducible)";

export function builder(y: Argv) {
  return y
    .positional("stages", { choices: STAGE_NAMES, array: true, describe: "stages to build (with what they need); default all" })
    .option("out", { type: "string", default: DEFAULT_OUT, describe: "output directory", defaultDescription: "out/ in the checkout" })
    .option("cache-dir", { type: "string", default: defaultCacheDir(), defaultDescription: "$XDG_CACHE_HOME/xdp-lab, else ~/.cache/xdp-lab", describe: "build cache (stage outputs, kernel work trees, ccache)" })
    .option("cache", { type: "boolean", default: true, describe: "use cached stage outputs; --no-cache rebuilds the named stages (all by default) and caches the result; stages they need come from the cache" })
    .option("kernel", {
      type: "string",
      describe: "kernel to build: 6.1 or 6.12 (Debian's linux-source, installed when missing), or the path of a kernel tree or tarball; a version other than 6.1 is built into OUT/kernels/VERSION/ (boot it with up --kernel VERSION)",
      defaultDescription: "6.1, into OUT",
    })
    .option("kernel-src", { type: "string", describe: "kernel source: a tree or a tarball (the same as --kernel PATH)", defaultDescription: DEFAULT_KERNEL_SRC })
    .option("kconfig", { type: "string", array: true, default: [] as string[], describe: "extra Kconfig fragment merged after kernel/lab.config (repeatable)" })
    .option("install", { type: "boolean", default: true, describe: "install missing Debian packages (root); --no-install only reports them" })
    .option("container", { type: "boolean", default: false, describe: "run every stage in the lock's bookworm build image (podman, else docker: the first that answers), as the Dagger module does; the image comes from the engine, the build cache (cache import) or Debian's archive" })
    .option("lock", { type: "string", describe: "the package lock the host build compares with and build --container's image is made from", defaultDescription: "src/build/packages.lock" })
    .option("volume-prefix", { type: "string", default: "", describe: "--container: prefix of the named volumes for the kernel work tree and ccache" })
    .option("verify", { type: "string", describe: "after building, compare artifacts with this manifest.json; exit 1 if any differ" })
    .option("json", { type: "boolean", default: false, describe: "print JSON lines (events, then the result) on stdout" })
    .option("quiet", { alias: "q", type: "boolean", default: false, describe: "print only errors" });
}

type Args = ArgumentsCamelCase<ReturnType<typeof builder> extends Argv<infer T> ? T : never>;

export async function handler(argv: Args): Promise<void> {
  const [{ build }, { compareManifests, readManifest }, { reporter }] = await Promise.all([import("../build/executor.ts"), import("../build/manifest.ts"), import("../ui/report.ts")]);
  const mode = argv.json ? "json" : argv.quiet ? "quiet" : "human";
  const kernel = await chooseKernel(argv);
  const result = await build({
    repo: REPO,
    out: kernel.out,
    cacheDir: resolve(argv.cacheDir),
    stages: (argv.stages as StageName[] | undefined)?.length ? (argv.stages as StageName[]) : undefined,
    params: { kernelSrc: kernel.kernelSrc, kconfig: argv.kconfig.map((f) => resolve(f)) },
    variant: kernel.version,
    provided: kernel.provided,
    noCache: !argv.cache,
    install: argv.install,
    lockPath: argv.lock ? resolve(argv.lock) : undefined,
    container: argv.container ? { volumePrefix: argv.volumePrefix } : undefined,
    report: reporter(mode),
  });
  if (kernel.version && mode === "human" && (kernel.out !== resolve(argv.out) || kernel.provided)) {
    const what = kernel.provided
      ? `built against Debian's ${kernel.version} (no kernel compiled) into ${kernel.out}, in place of the lab's kernel (./xdp-lab build puts it back, from the cache)`
      : `kernel ${kernel.version} built into ${kernel.out}`;
    process.stdout.write(`${what}: boot it with ./xdp-lab up --kernel ${kernel.version}\n`);
  }
  if (argv.json) {
    process.stdout.write(JSON.stringify({ event: "result", stages: result.stages, manifest: result.manifestPath }) + "\n");
  }
  if (argv.verify) {
    const diffs = compareManifests(result.manifest, await readManifest(resolve(argv.verify)));
    const bad = diffs.filter((d) => d.status !== "same");
    if (argv.json) process.stdout.write(JSON.stringify({ event: "verify", differences: diffs }) + "\n");
    else {
      for (const d of diffs) process.stdout.write(`${d.status.padEnd(10)} ${d.artifact}\n`);
    }
    if (bad.length > 0) {
      throw new Error(`${bad.length} artifact(s) differ from ${argv.verify}: ${bad.map((d) => `${d.artifact} (${d.status})`).join(", ")}`);
    }
  }
}

/**
 * --kernel VERSION|PATH or --kernel-src PATH: the source to build and where its build goes (a
 * version other than the default into OUT/kernels/VERSION/), the version's package installed when
 * missing.
 */
async function chooseKernel(argv: Args): Promise<import("../build/kernel-build.ts").KernelBuild> {
  const [{ parseBuildKernel, versionOfSource }, { kernelBuild }] = await Promise.all([import("../build/kernels.ts"), import("../build/kernel-build.ts")]);
  const out = resolve(argv.out);
  if (argv.kernel !== undefined && argv.kernelSrc !== undefined) {
    throw new Error(`--kernel ${argv.kernel} and --kernel-src ${argv.kernelSrc} both name the kernel. Fix: keep one (--kernel takes a version or a path)`);
  }
  if (argv.kernel === undefined) {
    const kernelSrc = resolve(argv.kernelSrc ?? DEFAULT_KERNEL_SRC);
    return { kernelSrc, out, version: versionOfSource(kernelSrc) };
  }
  const log = argv.quiet || argv.json ? undefined : (l: string) => process.stderr.write(`${l}\n`);
  return kernelBuild(parseBuildKernel(argv.kernel, (p) => resolve(p)), out, { install: argv.install, log, container: argv.container, kconfig: argv.kconfig.length > 0, lockPath: argv.lock ? resolve(argv.lock) : undefined });
}
