// Which version of each stock kernel (--kernel debian-6.1, debian-6.12) a machine fetches: the
// tracked record every machine reads (src/build/stock-kernels.lock), this machine's stand-in in the
// build cache when Debian's archive has moved past it, and the archive's newest for
// `lock --stock-kernels`. The fetch itself is stock.ts.
import { readFile, mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { debianMirror } from "./image.ts";
import { REPO } from "../paths.ts";
import { archiveDepends, archiveVersions, ensureSuite, type ArchiveVersion } from "../tools/apt-archive.ts";
import { aptUpdate } from "../tools/apt.ts";
import { STOCK_KERNELS, STOCK_NAMES, type StockKernel } from "./kernels.ts";

/** The metapackage that depends on the newest cloud kernel image of its suite. */
export const META_PACKAGE = "linux-image-cloud-amd64";

/** The versions last fetched, one per stock kernel: what the next fetch asks the archive for first. */
export const STOCK_RECORD = join(REPO, "src/build/stock-kernels.lock");

/**
 * The newest version of the metapackage for KERNEL's series in its suite (madison lists the newest
 * first). 6.1 comes from bookworm or its security and point-release updates; 6.12 from backports.
 */
export function pickVersion(versions: ArchiveVersion[], kernel: StockKernel): ArchiveVersion | undefined {
  const k = STOCK_KERNELS[kernel];
  return versions.find((v) => v.version.startsWith(`${k.series}.`) && /-backports\//.test(v.suite) === k.backports);
}

export type Recorded = { package: string; version: string };

/**
 * The stock kernels' versions every machine fetches (STOCK_RECORD, tracked in git). A normal run
 * only reads it; `./xdp-lab lock --stock-kernels` moves it.
 */
export async function readRecord(file = STOCK_RECORD): Promise<Partial<Record<StockKernel, Recorded>>> {
  try {
    return JSON.parse(await readFile(file, "utf8"));
  } catch {
    return {};
  }
}

/** Writes the versions to FILE whole: beside it, then renamed over it. */
export async function writeRecord(all: Partial<Record<StockKernel, Recorded>>, file = STOCK_RECORD): Promise<void> {
  const sorted = Object.fromEntries(Object.entries(all).sort(([a], [b]) => a.localeCompare(b)));
  await writeFile(`${file}.tmp-${process.pid}`, JSON.stringify(sorted, null, 2) + "\n");
  await rename(`${file}.tmp-${process.pid}`, file);
}

/**
 * This machine's stand-ins, kept in the build cache (never in the checkout): the version taken when
 * Debian's archive no longer had the tracked one, so later runs reuse it without asking the archive.
 */
export interface StandIn extends Recorded {
  /** The tracked version it stands in for. */
  instead: string;
}
export const standInPath = (cacheDir: string): string => join(cacheDir, "stock-kernels.json");

export async function readStandIns(cacheDir: string): Promise<Partial<Record<StockKernel, StandIn>>> {
  try {
    return JSON.parse(await readFile(standInPath(cacheDir), "utf8"));
  } catch {
    return {};
  }
}

/** The version a run looks for first: the tracked one, or this machine's stand-in for exactly that tracked version. */
export function wantedVersion(recorded: Recorded | undefined, standIn: StandIn | undefined): Recorded | undefined {
  if (standIn && recorded && standIn.instead === recorded.version) return { package: standIn.package, version: standIn.version };
  return recorded;
}

export async function writeStandIns(cacheDir: string, all: Partial<Record<StockKernel, StandIn>>): Promise<void> {
  await mkdir(cacheDir, { recursive: true });
  const file = standInPath(cacheDir);
  await writeFile(`${file}.tmp-${process.pid}`, JSON.stringify(all, null, 2) + "\n");
  await rename(`${file}.tmp-${process.pid}`, file);
}

/**
 * The newest version of each stock kernel Debian's archive has now (apt-get update first), for
 * `lock --stock-kernels`. Adds the suites the kernels need to apt's sources, as a fetch would.
 */
export async function newestStockVersions(log: (l: string) => void): Promise<Record<StockKernel, Recorded>> {
  for (const k of new Set(STOCK_NAMES.filter((n) => STOCK_KERNELS[n].backports).map((n) => STOCK_KERNELS[n].suite))) {
    if (await ensureSuite(k, debianMirror())) log(`added Debian's ${k} to apt's sources`);
  }
  await aptUpdate();
  const versions = await archiveVersions(META_PACKAGE);
  const out = {} as Record<StockKernel, Recorded>;
  for (const kernel of STOCK_NAMES) {
    const { version } = versionToFetch(versions, kernel, undefined);
    const image = (await archiveDepends(META_PACKAGE, version.version)).find((d) => d.startsWith("linux-image-"));
    if (!image) throw new Error(`${META_PACKAGE} ${version.version} depends on no linux-image package. Fix: apt-get update, then try again`);
    out[kernel] = { package: image, version: version.version };
  }
  return out;
}

/** Which version to fetch: the recorded one while the archive has it, else the newest (said so). */
export async function chooseVersion(kernel: StockKernel, recorded: { package: string; version: string } | undefined, log: (l: string) => void): Promise<ArchiveVersion> {
  const k = STOCK_KERNELS[kernel];
  if (k.backports && (await ensureSuite(k.suite, debianMirror()))) log(`added Debian's ${k.suite} to apt's sources (${k.suite} is pinned below the main suites: nothing else moves to it)`);
  let versions = await archiveVersions(META_PACKAGE);
  if (!pickVersion(versions, kernel) || (recorded && !versions.some((v) => v.version === recorded.version))) {
    log("asking Debian's archive for today's packages (apt-get update)");
    await aptUpdate();
    versions = await archiveVersions(META_PACKAGE);
  }
  const choice = versionToFetch(versions, kernel, recorded);
  if (choice.moved) log(choice.moved);
  return choice.version;
}

/**
 * Of the archive's VERSIONS, the one to fetch for KERNEL: the RECORDED one while the archive has it,
 * else the newest, with the sentence that says the recorded one is gone. Throws when the archive has
 * none of the kernel's series.
 */
export function versionToFetch(
  versions: ArchiveVersion[],
  kernel: StockKernel,
  recorded: { package: string; version: string } | undefined,
): { version: ArchiveVersion; moved?: string } {
  const k = STOCK_KERNELS[kernel];
  const newest = pickVersion(versions, kernel);
  if (!newest) {
    throw new Error(`Debian's archive (as apt sees it here) has no ${META_PACKAGE} ${k.series} in ${k.suite}: it has ${versions.map((v) => `${v.version} (${v.suite})`).join(", ") || "none"}. Fix: check that apt's sources list ${k.suite} (apt-cache policy ${META_PACKAGE})`);
  }
  if (!recorded) return { version: newest };
  const same = versions.find((v) => v.version === recorded.version);
  if (same) return { version: same };
  return { version: newest, moved: `Debian's archive no longer has ${recorded.package} ${recorded.version} (recorded in ${STOCK_RECORD}); taking the newest, ${newest.version}` };
}
