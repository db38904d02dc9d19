// `xdp-lab lock`: writes the build packages' versions to the package lock: those installed here,
// or with --update those Debian's archive has now, showing what moves.
import { readFile, rename, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { ArgumentsCamelCase, Argv } from "yargs";
import { buildPackages } from "../build/packages.ts";

export const command = "lock";
export const describe = "Lock the build packages to the versions installed here, or with --update to what Debian's archive has now (src/build/packages.lock)";

export function builder(y: Argv) {
  return y
    .option("update", { type: "boolean", default: false, describe: "apt-get update, then lock what apt would install now; prints what moves (artifacts will differ from the old lock's)" })
    .option("candidate", { type: "boolean", default: false, describe: "like --update, from apt's lists as they are (no apt-get update)" })
    .option("stock-kernels", { type: "boolean", default: false, describe: "instead: record the newest of Debian's stock kernels (debian-6.1, debian-6.12) in src/build/stock-kernels.lock, which every machine then fetches" })
    .option("check", { type: "boolean", default: false, describe: "only compare: exit 1 naming the packages whose installed version differs" })
    .option("lock", { type: "string", describe: "the lock file", defaultDescription: "src/build/packages.lock" });
}

type Args = ArgumentsCamelCase<ReturnType<typeof builder> extends Argv<infer T> ? T : never>;

export async function handler(argv: Args): Promise<void> {
  const [{ diffLocks, formatChanges, formatLock, lockDifferences, lockFromInstalled, lockHash, LOCK_PATH, parseLock }, { aptUpdate, candidateVersions }, { packageVersions }, { imageTag }] =
    await Promise.all([import("../build/lock.ts"), import("../tools/apt.ts"), import("../tools/dpkg.ts"), import("../build/image.ts")]);
  if (argv.check && (argv.update || argv.candidate)) throw new Error("lock: --check only compares; it does not go with --update or --candidate. Fix: drop one");
  if (argv.stockKernels) return lockStockKernels(argv);
  const path = argv.lock ? resolve(argv.lock) : LOCK_PATH;
  const before = await readFile(path, "utf8").catch(() => "");
  if (argv.check) {
    const diffs = lockDifferences(parseLock(before, path), await packageVersions(buildPackages()));
    for (const d of diffs) process.stdout.write(`${d.package.padEnd(18)} installed ${d.installed ?? "-"}  locked ${d.locked}\n`);
    if (diffs.length) throw new Error(`${diffs.length} package(s) differ from ${path}. Fix: install the locked versions, or run ./xdp-lab lock to move the lock`);
    process.stdout.write(`every build package matches ${path}\n`);
    return;
  }
  const fromArchive = argv.update || argv.candidate;
  if (argv.update) await aptUpdate();
  const lock = lockFromInstalled(fromArchive ? await candidateVersions(buildPackages()) : await packageVersions(buildPackages()));
  const old = before ? parseLock(before, path) : {};
  const text = formatLock(lock);
  if (text === before) {
    process.stdout.write(`unchanged: ${path} (${Object.keys(lock).length} packages, lock ${lockHash(lock).slice(0, 12)})\n`);
    return;
  }
  // Beside it, then renamed over it: the lock is never half-written.
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, text);
  await rename(tmp, path);
  const changes = diffLocks(old, lock);
  process.stdout.write(`wrote ${path} (${Object.keys(lock).length} packages, lock ${lockHash(lock).slice(0, 12)}): ${changes.length} package(s) move\n${formatChanges(changes)}`);
  if (before) {
    process.stdout.write(
      `Artifacts built with this lock (image ${imageTag(lock)}) will differ from those of the old lock (${lockHash(old).slice(0, 12)}): ` +
        `rebuild (./xdp-lab build --container), and keep the new image (./xdp-lab cache export FILE image) for machines that come after the archive moves again\n`,
    );
  }
}

/** `lock --stock-kernels`: the newest stock kernels the archive has, written to the tracked record, saying what moves. */
async function lockStockKernels(argv: Args): Promise<void> {
  if (argv.check || argv.update || argv.candidate || argv.lock) throw new Error("lock --stock-kernels records the stock kernels only; it does not go with --check, --update, --candidate or --lock. Fix: run it alone");
  const { newestStockVersions, readRecord, writeRecord, STOCK_RECORD } = await import("../build/stock.ts");
  const before = await readRecord();
  const now = await newestStockVersions((l) => process.stderr.write(`${l}\n`));
  const moves = Object.entries(now).filter(([k, v]) => before[k as keyof typeof before]?.version !== v.version);
  if (!moves.length) {
    process.stdout.write(`unchanged: ${STOCK_RECORD}\n`);
    return;
  }
  await writeRecord({ ...before, ...now });
  for (const [k, v] of moves) process.stdout.write(`${k}: ${before[k as keyof typeof before]?.version ?? "(none)"} -> ${v.version} (${v.package})\n`);
  process.stdout.write(`wrote ${STOCK_RECORD}: commit it, so every machine fetches these\n`);
}
