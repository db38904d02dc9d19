// Asks Debian's archive about packages without installing them: the suites apt knows, the versions
// it has (madison), a version's dependencies, and `apt-get download` of exact versions.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";

/** Where xdp-lab adds a suite the machine's sources lack (one file of its own, deb822). */
export const SOURCES_DIR = "/etc/apt/sources.list.d";

/** True when one of apt's source files (one-line or deb822) names SUITE on a line that is not a comment. */
export function sourcesHaveSuite(texts: string[], suite: string): boolean {
  const word = new RegExp(`(^|\\s)${suite.replace(/[-.]/g, "\\$&")}(\\s|$)`);
  return texts.some((t) => t.split("\n").some((l) => !/^\s*#/.test(l) && word.test(l.replace(/^Suites:/, " "))));
}

/** The deb822 file that adds SUITE of MIRROR's Debian archive, signed by Debian's archive keys. */
export function suiteSource(mirror: string, suite: string): string {
  return ["Types: deb", `URIs: ${mirror}/debian`, `Suites: ${suite}`, "Components: main", "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg", ""].join("\n");
}

function sourceTexts(): string[] {
  const files = ["/etc/apt/sources.list"];
  if (existsSync(SOURCES_DIR)) for (const f of readdirSync(SOURCES_DIR)) if (/\.(list|sources)$/.test(f)) files.push(join(SOURCES_DIR, f));
  return files.filter((f) => existsSync(f)).map((f) => readFileSync(f, "utf8"));
}

/**
 * Makes apt know SUITE (e.g. bookworm-backports): adds SOURCES_DIR/xdp-lab-SUITE.sources when no
 * source names it. Backports are pinned at priority 100 by Debian's Release file, so nothing else on
 * the machine moves to them. Returns true when it added the file (an apt-get update is then due).
 */
export async function ensureSuite(suite: string, mirror: string): Promise<boolean> {
  if (sourcesHaveSuite(sourceTexts(), suite)) return false;
  if (process.getuid?.() !== 0) {
    throw new Error(`apt does not know Debian's ${suite} suite on this machine. Fix: run as root, so xdp-lab adds ${SOURCES_DIR}/xdp-lab-${suite}.sources, or add ${suite} to apt's sources yourself and run apt-get update`);
  }
  await writeFile(join(SOURCES_DIR, `xdp-lab-${suite}.sources`), suiteSource(mirror, suite));
  return true;
}

/** One line of `apt-cache madison`: a version of a package and the suite that has it. */
export interface ArchiveVersion {
  version: string;
  /** e.g. bookworm-backports/main, bookworm-security/main */
  suite: string;
}

/** apt-cache madison's lines (`pkg | version | url suite/component arch`). */
export function parseMadison(text: string): ArchiveVersion[] {
  const out: ArchiveVersion[] = [];
  for (const line of text.split("\n")) {
    const cols = line.split("|").map((c) => c.trim());
    if (cols.length < 3 || !/Packages$/.test(cols[2]!)) continue;
    const words = cols[2]!.split(/\s+/);
    out.push({ version: cols[1]!, suite: words[1] ?? "" });
  }
  return out;
}

/** The versions of PKG the archive has now, as this machine's apt lists say. */
export async function archiveVersions(pkg: string): Promise<ArchiveVersion[]> {
  const r = await execa("apt-cache", ["madison", pkg], { reject: false });
  return parseMadison(String(r.stdout));
}

/** The package names in a Depends field (alternatives and version constraints dropped). */
export function dependsNames(depends: string): string[] {
  return depends
    .split(",")
    .map((d) => d.split("|")[0]!.trim().split(/[\s(]/)[0]!)
    .filter(Boolean);
}

/** The Depends of PKG=VERSION in the archive, as package names. */
export async function archiveDepends(pkg: string, version: string): Promise<string[]> {
  const r = await execa("apt-cache", ["show", `${pkg}=${version}`], { reject: false });
  const m = /^Depends: (.*)$/m.exec(String(r.stdout));
  if (r.exitCode !== 0 || !m) throw new Error(`apt-cache show ${pkg}=${version} gave no Depends: ${String(r.stderr).trim() || "no such version"}. Fix: apt-get update, then try again`);
  return dependsNames(m[1]!);
}

/** Downloads each PKG=VERSION's .deb into DIR (apt-get download: no install, no root needed); returns the files. */
export async function downloadDebs(specs: string[], dir: string): Promise<string[]> {
  const r = await execa("apt-get", ["download", ...specs], { cwd: dir, reject: false, all: true });
  if (r.exitCode !== 0) {
    throw new Error(`Failed to download ${specs.join(" ")} with apt-get download:\n${String(r.all).split("\n").slice(-6).join("\n")}\nFix: check the machine's network and apt sources (apt-get update), then try again`);
  }
  return readdirSync(dir).filter((f) => f.endsWith(".deb")).map((f) => join(dir, f));
}

/** Unpacks a .deb's files into ROOT (dpkg-deb -x: nothing runs, nothing is registered). */
export async function extractDeb(deb: string, root: string): Promise<void> {
  await execa("dpkg-deb", ["-x", deb, root]);
}
