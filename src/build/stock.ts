// Debian's prebuilt cloud kernels (--kernel debian-6.1, debian-6.12): fetched from Debian's archive
// with apt-get download, unpacked with dpkg-deb -x, made bootable in the lab (the drivers the lab
// needs, which Debian builds as modules, in a cpio archive appended to the lab's initramfs; the echo
// module built against the package's headers), kept in the build cache by package version and
// installed into out/kernels/NAME/ beside the built kernel's artifacts, never over them.
import { existsSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { execa } from "execa";
import { cpio, type CpioEntry } from "../../network/cpio.ts";
import { Cache, defaultCacheDir } from "./cache.ts";
import { sha256 } from "./hash.ts";
import { REPO } from "../paths.ts";
import { archiveDepends, downloadDebs, extractDeb } from "../tools/apt-archive.ts";
import { STOCK_KERNEL_TOOLS } from "./packages.ts";
import { ensure } from "../tools/ensure.ts";
import { FEATURES, features, parseConfig, type Feature } from "./stock-features.ts";

export { FEATURES, describeFeatures, features, parseConfig, type Feature } from "./stock-features.ts";

export { STOCK_KERNELS, STOCK_NAMES, type StockKernel } from "./kernels.ts";
import { STOCK_KERNELS, STOCK_NAMES, type StockKernel } from "./kernels.ts";
import { bzImagePayload, loadOrder, moduleName, parseModulesDep } from "./stock-unpack.ts";
export { bzImagePayload, loadOrder, moduleName, parseModulesDep } from "./stock-unpack.ts";
import { chooseVersion, META_PACKAGE, readRecord, readStandIns, STOCK_RECORD, wantedVersion, writeStandIns } from "./stock-versions.ts";
export {
  META_PACKAGE,
  newestStockVersions,
  pickVersion,
  readRecord,
  standInPath,
  STOCK_RECORD,
  versionToFetch,
  wantedVersion,
  writeRecord,
  type Recorded,
  type StandIn,
} from "./stock-versions.ts";

/** The cache's stage name: `stages/stock-kernel/<name>-<version>-<recipe>/`. */
export const STOCK_STAGE = "stock-kernel";

/** Where a stock kernel's artifacts go in OUT: out/kernels/NAME/. */
export function stockDir(out: string, name: StockKernel): string {
  return join(out, "kernels", name);
}

/** The files of out/kernels/NAME/. */
export const STOCK_FILES = {
  kernel: "vmlinuz",
  /** The modules the lab needs (uncompressed), their load order and the echo module: a newc archive. */
  modules: "modules.cpio",
  config: "kernel.config",
  kmod: "xdp_lab_echo.ko",
  /** Every type of the kernel as C, from the BTF in its image: what CO-RE programs compile against (build --kernel debian-*). */
  vmlinuxH: "vmlinux.h",
  manifest: "stock.json",
  /** out/initramfs.img followed by modules.cpio, written at each boot (the lab's rootfs may have changed). */
  initrd: "initramfs.img",
} as const;

/** The guest file that lists the modules to load, in order (rootfs/init reads it; network/contract.ts). */
export { GUEST_MODULES } from "../../network/contract.ts";
import { GUEST_MODULES } from "../../network/contract.ts";

/**
 * The modules the lab's guest and features need when the kernel builds them as modules; each with
 * why. Dependencies come from the package's modules.dep. `required`: the lab cannot run without it.
 */
export const LAB_MODULES: { name: string; why: string; required?: boolean }[] = [
  // A module in Debian's 6.1, built in in 6.12; no module depends on it, so it is named here.
  { name: "virtio_pci", why: "the virtio PCI transport the NICs and the rng sit on", required: true },
  { name: "virtio_net", why: "the VM's NICs (lan0, wan0, mgmt0)", required: true },
  { name: "virtio_rng", why: "entropy from the host, so nothing waits for the crng" },
  { name: "nf_tables", why: "rc.d/50-lab's rules keeping ssh on mgmt0", required: true },
  { name: "nft_ct", why: "connection tracking in users' nft rules" },
  { name: "nft_reject_inet", why: "reject in users' nft rules" },
  { name: "nft_limit", why: "rate limits in users' nft rules" },
  { name: "sch_ingress", why: "tc's clsact qdisc (tc_count.bpf.o, tc programs)" },
  { name: "cls_bpf", why: "tc BPF classifiers" },
  { name: "act_bpf", why: "tc BPF actions" },
  { name: "act_gact", why: "tc pass/drop actions" },
  { name: "act_mirred", why: "tc redirect and mirror actions" },
  { name: "sch_netem", why: "tc netem in the guest" },
  { name: "sch_htb", why: "tc shaping in the guest" },
  { name: "veth", why: "veth pairs in the guest (XDP on veth)" },
  { name: "dummy", why: "dummy devices in the guest" },
  { name: "9pnet_virtio", why: "--share over virtio 9p" },
  { name: "9p", why: "--share's file system" },
  { name: "overlay", why: "--guest-root host: the writable overlay in RAM over the host's root" },
];

/** What a stock kernel's entry records: the package, the version got, and what the lab gets from it. */
export interface StockManifest {
  kernel: StockKernel;
  package: string;
  version: string;
  /** uname -r in the guest. */
  release: string;
  /** The archive suite it came from. */
  suite: string;
  /** The .deb files and their sha256. */
  debs: Record<string, string>;
  /** Module files in the archive, in load order (paths under /lib/modules/RELEASE). */
  modules: string[];
  /** LAB_MODULES the kernel has neither built in nor as a module. */
  absent: string[];
  /** LAB_MODULES built into the kernel (nothing to load). */
  builtin: string[];
  features: Feature[];
  /** True when the echo module was built against the package's headers. */
  kmod: boolean;
  fetched: string;
  /** The recipe that made the entry (recipeHash): an install of an older recipe is replaced. */
  recipe?: string;
}

/** Throws unless NAME is a stock kernel, naming the choices. */
export function stockKernel(name: string): StockKernel {
  if (name in STOCK_KERNELS) return name as StockKernel;
  throw new Error(`--kernel ${name}: not a kernel this lab knows. Fix: choose one of ${["built", ...STOCK_NAMES].join(", ")} (built: the lab's own, from ./xdp-lab build)`);
}

/** What goes into an entry's key besides the version: this file's recipe and the echo module's sources. */
async function recipeHash(): Promise<string> {
  const kmod = await Promise.all(["Kbuild", "xdp_lab_echo.c", "xdp_lab_echo.h"].map((f) => readFile(join(REPO, "kmod", f), "utf8").catch(() => "")));
  return sha256(JSON.stringify({ modules: LAB_MODULES.map((m) => m.name), features: FEATURES, kmod, list: GUEST_MODULES, format: 3 })).slice(0, 12);
}

export interface FetchOptions {
  cache?: Cache;
  log?: (line: string) => void;
}

/**
 * Makes KERNEL ready in OUT/kernels/KERNEL/: from the build cache when it holds the recorded version,
 * else from Debian's archive (backports added to apt's sources when the kernel needs them). When the
 * archive no longer has the recorded version it says so and takes the newest. Returns the manifest.
 */
export async function ensureStockKernel(kernel: StockKernel, out: string, o: FetchOptions = {}): Promise<StockManifest> {
  const log = o.log ?? (() => undefined);
  const cache = o.cache ?? new Cache(defaultCacheDir());
  const recipe = await recipeHash();
  const tracked = (await readRecord())[kernel];
  const standIns = await readStandIns(cache.root);
  const recorded = wantedVersion(tracked, standIns[kernel]);
  const key = (version: string): string => `${kernel}-${version}-${recipe}`;
  const installed = await installedManifest(out, kernel);
  if (recorded && installed?.version === recorded.version && installed.package === recorded.package && installed.recipe === recipe && (await cache.lookup(STOCK_STAGE, key(recorded.version)))) return installed;
  let entry = recorded ? await cache.lookup(STOCK_STAGE, key(recorded.version)) : undefined;
  if (!entry) {
    const got = await fetchFromArchive(kernel, tracked, cache, (v) => key(v), log, recipe);
    entry = got.dir;
    if (tracked && got.manifest.version !== tracked.version) {
      // The checkout stays as it is: the stand-in is this machine's, in the build cache.
      standIns[kernel] = { package: got.manifest.package, version: got.manifest.version, instead: tracked.version };
      await writeStandIns(cache.root, standIns);
      log(`this machine uses ${got.manifest.version} for ${kernel} until ${STOCK_RECORD} moves. Fix: ./xdp-lab lock --stock-kernels records Debian's newest there, for every machine`);
    }
  }
  await install(entry, stockDir(out, kernel));
  return JSON.parse(await readFile(join(stockDir(out, kernel), STOCK_FILES.manifest), "utf8")) as StockManifest;
}

async function installedManifest(out: string, kernel: StockKernel): Promise<StockManifest | undefined> {
  try {
    return JSON.parse(await readFile(join(stockDir(out, kernel), STOCK_FILES.manifest), "utf8")) as StockManifest;
  } catch {
    return undefined;
  }
}

/** Copies an entry's files into DIR whole: written beside it, then renamed over the old one. */
async function install(entry: string, dir: string): Promise<void> {
  await mkdir(join(dir, ".."), { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp);
  for (const f of [STOCK_FILES.kernel, STOCK_FILES.modules, STOCK_FILES.config, STOCK_FILES.manifest, STOCK_FILES.kmod, STOCK_FILES.vmlinuxH]) {
    if (existsSync(join(entry, f))) await copyFile(join(entry, f), join(tmp, f));
  }
  await rm(dir, { recursive: true, force: true });
  await rename(tmp, dir);
}

/** Downloads, unpacks and assembles KERNEL in a scratch directory, then stores it in the cache whole. */
async function fetchFromArchive(
  kernel: StockKernel,
  recorded: { package: string; version: string } | undefined,
  cache: Cache,
  key: (version: string) => string,
  log: (l: string) => void,
  recipe: string,
): Promise<{ dir: string; manifest: StockManifest }> {
  const started = Date.now();
  await ensure(STOCK_KERNEL_TOOLS, { install: true, purpose: `fetching ${kernel}`, log });
  const { version, suite } = await chooseVersion(kernel, recorded, log);
  const existing = await cache.lookup(STOCK_STAGE, key(version));
  if (existing) return { dir: existing, manifest: JSON.parse(await readFile(join(existing, STOCK_FILES.manifest), "utf8")) as StockManifest };
  // The metapackage names the image (linux-image-RELEASE), the image's headers name the rest.
  const image = (await archiveDepends(META_PACKAGE, version)).find((d) => d.startsWith("linux-image-"));
  if (!image) throw new Error(`${META_PACKAGE} ${version} depends on no linux-image package. Fix: apt-get update, then try again`);
  const release = image.replace(/^linux-image-/, "");
  const headers = `linux-headers-${release}`;
  const headerDeps = (await archiveDepends(headers, version)).filter((d) => /^linux-(headers-.*-common|kbuild-)/.test(d));
  log(`fetching ${image} ${version} from ${suite} (apt-get download), with ${[headers, ...headerDeps].join(", ")}`);
  const scratch = await cache.scratch(STOCK_STAGE);
  const work = await mkdtemp(join(scratch, ".work-"));
  try {
    const debDir = join(work, "debs");
    const root = join(work, "root");
    await mkdir(debDir);
    // apt drops privileges to _apt for downloads: let it write here.
    await execa("chmod", ["0777", debDir]);
    const debs = await downloadDebs([`${image}=${version}`, `${headers}=${version}`, ...headerDeps.map((d) => `${d}=${version}`)], debDir);
    const debHashes: Record<string, string> = {};
    for (const deb of debs.sort()) {
      debHashes[basename(deb)] = sha256(await readFile(deb));
      await extractDeb(deb, root);
    }
    const modRoot = join(root, "lib/modules", release);
    const config = await readFile(join(root, "boot", `config-${release}`), "utf8");
    await copyFile(join(root, "boot", `vmlinuz-${release}`), join(scratch, STOCK_FILES.kernel));
    await writeFile(join(scratch, STOCK_FILES.config), config);
    // The package has no modules.dep (Debian's postinst runs depmod): make it from the tree.
    await execa("depmod", ["-b", root, release]);
    const deps = parseModulesDep(await readFile(join(modRoot, "modules.dep"), "utf8"));
    const builtinNames = new Set((await readFile(join(modRoot, "modules.builtin"), "utf8").catch(() => "")).split("\n").filter(Boolean).map(moduleName));
    const available = new Set([...deps.keys()].map(moduleName));
    const roots = LAB_MODULES.filter((m) => available.has(m.name)).map((m) => m.name);
    const builtin = LAB_MODULES.filter((m) => builtinNames.has(m.name)).map((m) => m.name);
    const absent = LAB_MODULES.filter((m) => !available.has(m.name) && !builtinNames.has(m.name));
    const lost = absent.filter((m) => m.required);
    if (lost.length) throw new Error(`${image} ${version} has neither built in nor as a module: ${lost.map((m) => `${m.name} (${m.why})`).join(", ")}; the lab cannot run on it`);
    const order = loadOrder(deps, roots);

    const kmodOk = await buildKmod(root, release, scratch, log);
    await writeFile(join(scratch, STOCK_FILES.vmlinuxH), await vmlinuxHeader(join(root, "boot", `vmlinuz-${release}`), work));
    const entries: CpioEntry[] = [];
    const dirs = new Set<string>();
    const addDirs = (path: string): void => {
      const parts = path.split("/").slice(0, -1);
      for (let i = 1; i <= parts.length; i++) {
        const d = parts.slice(0, i).join("/");
        if (!dirs.has(d)) entries.push({ path: d, mode: 0o755 }), dirs.add(d);
      }
    };
    const listed: string[] = [];
    for (const rel of order) {
      const path = `lib/modules/${release}/${rel.replace(/\.(xz|zst|gz)$/, "")}`;
      addDirs(path);
      entries.push({ path, mode: 0o644, content: await decompressModule(join(modRoot, rel)) });
      listed.push(`/${path}`);
    }
    addDirs(GUEST_MODULES.slice(1));
    entries.push({ path: GUEST_MODULES.slice(1), mode: 0o644, content: listed.join("\n") + "\n" });
    if (kmodOk) {
      addDirs("usr/lib/xdp-lab/kmod/xdp_lab_echo.ko");
      entries.push({ path: "usr/lib/xdp-lab/kmod/xdp_lab_echo.ko", mode: 0o644, content: await readFile(join(scratch, STOCK_FILES.kmod)) });
    }
    await writeFile(join(scratch, STOCK_FILES.modules), cpio(entries));

    const manifest: StockManifest = {
      kernel,
      package: image,
      version,
      release,
      suite,
      debs: debHashes,
      modules: order.map((r) => r.replace(/\.(xz|zst|gz)$/, "")),
      absent: absent.map((m) => m.name),
      builtin,
      features: features(parseConfig(config)),
      kmod: kmodOk,
      fetched: new Date().toISOString(),
      recipe,
    };
    await writeFile(join(scratch, STOCK_FILES.manifest), JSON.stringify(manifest, null, 2) + "\n");
    await rm(work, { recursive: true, force: true });
    const dir = await cache.store(scratch, { stage: STOCK_STAGE, key: key(version), created: manifest.fetched, seconds: (Date.now() - started) / 1000 });
    log(`${kernel}: ${image} ${version}, ${order.length} modules for the lab${absent.length ? `; not in this kernel: ${absent.map((m) => m.name).join(", ")}` : ""}`);
    return { dir, manifest };
  } catch (error) {
    await rm(scratch, { recursive: true, force: true });
    throw error;
  }
}

/** vmlinux.h from a stock kernel image: its vmlinux decompressed (an ELF with .BTF), dumped as C by bpftool. */
async function vmlinuxHeader(vmlinuz: string, work: string): Promise<string> {
  const { data, argv } = bzImagePayload(await readFile(vmlinuz));
  const elf = join(work, "vmlinux");
  await execa(argv[0]!, [...argv.slice(1)], { input: data, stdout: { file: elf } });
  const r = await execa("bpftool", ["btf", "dump", "file", elf, "format", "c"], { maxBuffer: 512 * 1024 * 1024 });
  await rm(elf, { force: true });
  return r.stdout + "\n";
}

/** A module file's bytes, uncompressed (busybox's insmod in the guest reads plain .ko). */
async function decompressModule(file: string): Promise<Buffer> {
  if (file.endsWith(".xz")) return (await execa("xz", ["-dc", file], { encoding: "buffer" })).stdout as unknown as Buffer;
  if (file.endsWith(".zst")) return (await execa("zstd", ["-dc", file], { encoding: "buffer" })).stdout as unknown as Buffer;
  if (file.endsWith(".gz")) return (await execa("gzip", ["-dc", file], { encoding: "buffer" })).stdout as unknown as Buffer;
  return readFile(file);
}

/**
 * Builds kmod/ against the package's headers (make -C kmod KDIR=..., as the kmod stage does for the
 * built kernel). The headers' Makefile includes the common headers by absolute path: pointed at the
 * unpacked copy. Returns false, saying why, when it cannot be built (the lab then runs without it).
 */
async function buildKmod(root: string, release: string, scratch: string, log: (l: string) => void): Promise<boolean> {
  const kdir = join(root, "usr/src", `linux-headers-${release}`);
  const makefile = join(kdir, "Makefile");
  try {
    const text = await readFile(makefile, "utf8");
    await writeFile(makefile, text.replace(/^include \/usr\/src\//m, `include ${join(root, "usr/src")}/`));
    const out = join(scratch, ".kmod");
    await execa("make", ["-C", join(REPO, "kmod"), `KDIR=${kdir}`, `OUT=${out}`, `WORK=${join(scratch, ".kmod-work")}`], { all: true });
    await copyFile(join(out, "xdp_lab_echo.ko"), join(scratch, STOCK_FILES.kmod));
    await rm(out, { recursive: true, force: true });
    await rm(join(scratch, ".kmod-work"), { recursive: true, force: true });
    return true;
  } catch (error) {
    const e = error as { all?: string; message: string };
    log(`the echo module did not build against ${release}'s headers; the lab runs without it:\n${(e.all ?? e.message).split("\n").slice(-8).join("\n")}`);
    return false;
  }
}

/**
 * The initramfs to boot KERNEL with: OUT's initramfs.img with the kernel's modules archive after
 * it (the kernel unpacks concatenated archives in order), written to out/kernels/NAME/initramfs.img.
 */
export async function stockInitrd(out: string, kernel: StockKernel): Promise<string> {
  const dir = stockDir(out, kernel);
  const base = await readFile(join(out, "initramfs.img"));
  const modules = await readFile(join(dir, STOCK_FILES.modules));
  const pad = Buffer.alloc((4 - (base.length % 4)) % 4);
  const file = join(dir, STOCK_FILES.initrd);
  await writeFile(`${file}.tmp`, Buffer.concat([base, pad, modules]));
  await rename(`${file}.tmp`, file);
  return file;
}

/** The stock kernels installed in OUT, with their manifests. */
export async function installedStock(out: string): Promise<StockManifest[]> {
  const list: StockManifest[] = [];
  for (const name of await readdir(join(out, "kernels")).catch(() => [] as string[])) {
    if (name in STOCK_KERNELS) {
      const m = await installedManifest(out, name as StockKernel);
      if (m) list.push(m);
    }
  }
  return list;
}

/**
 * What `build --kernel NAME` builds the other stages against: the stock kernel fetched (or taken
 * from the cache) into OUT/kernels/NAME/, standing for the kernel stage (its vmlinux.h and config)
 * and the kmod stage (the echo module built against its headers). Nothing is compiled but the BPF
 * objects, the app and the initramfs. The key covers the package version and both files.
 */
export async function stockStages(kernel: StockKernel, out: string, o: FetchOptions = {}): Promise<{ manifest: StockManifest; provided: Record<"kernel" | "kmod", { dir: string; key: string; what: string }> }> {
  const m = await ensureStockKernel(kernel, out, o);
  const dir = stockDir(out, kernel);
  if (!m.kmod || !existsSync(join(dir, STOCK_FILES.kmod))) {
    throw new Error(`--kernel ${kernel}: the echo module did not build against ${m.package}'s headers (the fetch said why), and the initramfs needs it. Fix: boot ${kernel} with the lab's own build instead (./xdp-lab build, then ./xdp-lab up --kernel ${kernel})`);
  }
  const vmlinuxH = await readFile(join(dir, STOCK_FILES.vmlinuxH)).catch(() => undefined);
  if (!vmlinuxH) throw new Error(`--kernel ${kernel}: ${join(dir, STOCK_FILES.vmlinuxH)} is missing. Fix: ./xdp-lab cache prune --all, then build again (the entry predates vmlinux.h)`);
  const what = `${m.package} ${m.version}`;
  const kernelKey = sha256(JSON.stringify({ stock: kernel, package: m.package, version: m.version, vmlinuxH: sha256(vmlinuxH), config: sha256(await readFile(join(dir, STOCK_FILES.config))) }));
  const kmodKey = sha256(JSON.stringify({ kernel: kernelKey, kmod: sha256(await readFile(join(dir, STOCK_FILES.kmod))) }));
  return { manifest: m, provided: { kernel: { dir, key: kernelKey, what }, kmod: { dir, key: kmodKey, what: `${what}: xdp_lab_echo.ko against its headers` } } };
}
