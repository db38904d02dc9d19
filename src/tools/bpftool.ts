// Wraps bpftool: load an object with its maps pinned, run a program on a frame (BPF_PROG_TEST_RUN),
// read and update maps. Used by the host-side tests and benchmarks of the XDP programs.
import { execa } from "execa";

async function bpftool(args: string[]): Promise<string> {
  const r = await execa("bpftool", args, { reject: false, all: true });
  if (r.exitCode !== 0) {
    throw new Error(`Failed to run bpftool ${args.join(" ")}: ${r.all.trim().split("\n").slice(-15).join("\n")}`);
  }
  return r.stdout;
}

/** bpftool's arguments that load an XDP object, pinning the program at `pin` and its maps under `mapsDir` by name. */
export const loadXdpArgs = (object: string, pin: string, mapsDir: string): string[] => ["prog", "load", object, pin, "type", "xdp", "pinmaps", mapsDir];

/** bpftool's arguments that run a pinned program `repeat` times on one frame (BPF_PROG_TEST_RUN). */
export const runXdpArgs = (pin: string, frameFile: string, repeat = 1): string[] => ["prog", "run", "pinned", pin, "data_in", frameFile, "repeat", String(repeat)];

/** bpftool's arguments that set key -> value (byte arrays in map order) in a pinned map. */
export const updateMapArgs = (pin: string, key: number[], value: number[]): string[] => ["map", "update", "pinned", pin, "key", ...key.map(String), "value", ...value.map(String)];

/** The verdict and the kernel's mean ns per run in `bpftool prog run`'s output (a guest's as well as this machine's). */
export function parseRunXdp(out: string): { verdict: number; ns: number } {
  const m = /Return value: (\d+), duration(?: \(average\))?: (\d+)ns/.exec(out);
  if (!m) throw new Error(`Unexpected bpftool prog run output: ${out}`);
  return { verdict: Number(m[1]), ns: Number(m[2]) };
}

/** Loads an XDP object, pinning the program at `pin` and its maps under `mapsDir` by name. */
export async function loadXdp(object: string, pin: string, mapsDir: string): Promise<void> {
  await bpftool(loadXdpArgs(object, pin, mapsDir));
}

/** Runs a pinned program `repeat` times on one frame; returns its verdict and the kernel's mean ns per run. */
export async function runXdp(pin: string, frameFile: string, repeat = 1): Promise<{ verdict: number; ns: number }> {
  return parseRunXdp(await bpftool(runXdpArgs(pin, frameFile, repeat)));
}

/** Entries of a pinned map as bpftool's formatted JSON (per-CPU maps give `values` per CPU). */
export async function dumpMap<T = unknown>(pin: string): Promise<T[]> {
  return JSON.parse(await bpftool(["-j", "map", "dump", "pinned", pin])) as T[];
}

/** Sets key -> value in a pinned map; both are byte arrays in map order. */
export async function updateMap(pin: string, key: number[], value: number[]): Promise<void> {
  await bpftool(updateMapArgs(pin, key, value));
}

export async function deleteMapKey(pin: string, key: number[]): Promise<void> {
  await bpftool(["map", "delete", "pinned", pin, "key", ...key.map(String)]);
}
