// Runs the real CLI the way a user does, for the system tests.
import * as assert from "uvu/assert";
import { execa } from "execa";
import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { sha256 } from "../../src/build/hash.ts";
import { REPO } from "../../src/paths.ts";

export const XDP_LAB = join(REPO, "xdp-lab");

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export async function xdpLab(args: string[], opts: { env?: Record<string, string>; extendEnv?: boolean } = {}): Promise<CliResult> {
  const r = await execa(XDP_LAB, args, { cwd: REPO, reject: false, stdin: "ignore", env: opts.env, extendEnv: opts.extendEnv ?? true });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** Runs the CLI and asserts it succeeded (the failure quotes its output); returns its stdout. */
export async function ok(args: string[]): Promise<string> {
  const r = await xdpLab(args);
  assert.is(r.exitCode, 0, `xdp-lab ${args.join(" ")}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/**
 * `cp` both ways through LAB's VM: BYTES random bytes written in DIR as NAME, copied to the VM's
 * /root/, their sha256 taken there, copied back as back-NAME; both sums must be the file's.
 */
export async function cpRoundTrip(lab: string, dir: string, name: string, bytes: number): Promise<void> {
  const blob = randomBytes(bytes);
  await writeFile(join(dir, name), blob);
  await ok(["cp", "--name", lab, join(dir, name), "vm:/root/"]);
  assert.is((await xdpLab(["exec", "vm", "--name", lab, "--", "sha256sum", `/root/${name}`])).stdout.split(" ")[0], sha256(blob));
  await ok(["cp", "--name", lab, `vm:/root/${name}`, join(dir, `back-${name}`)]);
  assert.is(sha256(await readFile(join(dir, `back-${name}`))), sha256(blob));
}

/** Boots out/ with SCRIPT as the guest's command (--quiet) and asserts it exited 0; returns the result. */
/**
 * `capture lan --xdp --count N --write PCAP` on lab LAB while SEND makes traffic (started once
 * xdpdump listens); the capture's lines as tcpdump reads them back.
 */
export async function captureXdp(lab: string, count: number, pcap: string, send: () => Promise<unknown>): Promise<string[]> {
  const cap = execa(XDP_LAB, ["capture", "lan", "--xdp", "--name", lab, "--count", String(count), "--write", pcap], { reject: false });
  await new Promise<void>((res) => cap.stderr!.on("data", (b: Buffer) => /listening on lan0/.test(b.toString()) && res()));
  await send();
  const r = await cap;
  assert.is(r.exitCode, 0, r.stderr);
  return (await execa("tcpdump", ["-r", pcap, "-n"])).stdout.trim().split("\n");
}

export async function bootOk(script: string): Promise<CliResult> {
  const r = await xdpLab(["boot", "--quiet", "--", script]);
  assert.is(r.exitCode, 0, r.stderr + r.stdout);
  return r;
}

/** The cache entry directory of the most recently used kernel build (it holds kbuild/). */
export async function latestKernelEntry(): Promise<string> {
  const ls = JSON.parse((await xdpLab(["cache", "ls", "--json"])).stdout) as { stage: string; dir: string; lastUsed: string }[];
  const kernel = ls.filter((e) => e.stage === "kernel").sort((a, b) => b.lastUsed.localeCompare(a.lastUsed))[0];
  if (!kernel) throw new Error("no kernel build in the cache: run ./xdp-lab build first");
  return kernel.dir;
}
