// The impairment relay's binary (network/relay/xdp-lab-impair.c): built with make into the build
// cache under its source's hash, once per machine and source; gcc and make installed when missing.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { defaultCacheDir } from "./build/cache.ts";
import type { Requirement } from "./build/packages.ts";
import { ensure } from "./tools/ensure.ts";
import { REPO } from "./paths.ts";

/** The relay's source folder (make -C network/relay builds it by hand). */
export const RELAY_DIR = join(REPO, "network", "relay");

/** What the relay needs to be built on this machine. */
export const RELAY_TOOLCHAIN: Requirement[] = [
  { package: "make", bin: "make" },
  { package: "gcc", bin: "gcc" },
  { package: "libc6-dev", file: "/usr/include/stdio.h" },
];

/** The relay binary's path, built first when this source has not been built on this machine. */
export async function relayBinary(cacheDir = defaultCacheDir(), install = true): Promise<string> {
  const hash = createHash("sha256");
  for (const f of ["xdp-lab-impair.c", "Makefile"]) hash.update(await readFile(join(RELAY_DIR, f)));
  const dir = join(cacheDir, "tools", `xdp-lab-impair-${hash.digest("hex").slice(0, 16)}`);
  const bin = join(dir, "xdp-lab-impair");
  if (existsSync(bin)) return bin;
  await ensure(RELAY_TOOLCHAIN, { install, purpose: "building the impairment relay (network/relay)" });
  // Built beside, then renamed in: a half-built binary is never taken for one.
  const tmp = `${dir}.tmp-${process.pid}`;
  await mkdir(tmp, { recursive: true });
  try {
    const r = await execa("make", ["-C", RELAY_DIR, `O=${tmp}`], { reject: false, all: true });
    if (r.exitCode !== 0) throw new Error(`Failed to build the impairment relay (make -C ${RELAY_DIR}):\n${String(r.all).trim()}`);
    await rm(dir, { recursive: true, force: true });
    await rename(tmp, dir);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return bin;
}
