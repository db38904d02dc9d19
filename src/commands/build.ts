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
    .option("cache-dir", { type: "string", default: defaultCacheDir(), describe: "build cache (stage outputs, kernel work trees, ccache)" })
    .option("cache", { type: "boolean", default: true, describe: "use cached stage outputs; --no-cache rebuilds the named stages (all by default) and caches the result; stages they need come from the cache" })
    .option("kernel-src", { type: "string", default: DEFAULT_KERNEL_SRC, describe: "kernel source: a tree or a tarball" })
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
  const result = await build({
    repo: REPO,
    out: resolve(argv.out),
    cacheDir: resolve(argv.cacheDir),
    stages: (argv.stages as StageName[] | undefined)?.length ? (argv.stages as StageName[]) : undefined,
    params: { kernelSrc: resolve(argv.kernelSrc), kconfig: argv.kconfig.map((f) => resolve(f)) },
    noCache: !argv.cache,
    install: argv.install,
    lockPath: argv.lock ? resolve(argv.lock) : undefined,
    container: argv.container ? { volumePrefix: argv.volumePrefix } : undefined,
    report: reporter(mode),
  });
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
