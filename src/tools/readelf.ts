// The one wrapper around GNU binutils' `readelf`: the section headers and symbol table of an ELF
// file as text (network/bpf-object.ts reads a BPF object's programs from them).
import { execa } from "execa";

/** `readelf` argv for PATH's section headers and symbols, wide (names never cut short). */
export const sectionsAndSymbolsArgs = (path: string): string[] => ["-W", "-S", "-s", path];

/** PATH's section headers and symbol table as readelf prints them; throws naming PATH and the fix when it cannot. */
export async function sectionsAndSymbols(path: string): Promise<string> {
  const r = await execa("readelf", sectionsAndSymbolsArgs(path), { reject: false });
  if ((r as { code?: string }).code === "ENOENT") throw new Error(`Failed to read the programs of ${path}: readelf is not installed. Fix: apt-get install binutils`);
  if (r.exitCode !== 0) throw new Error(`Failed to read the programs of ${path}: readelf exited ${r.exitCode}: ${r.stderr.trim().split("\n")[0] ?? ""}`);
  return r.stdout;
}
