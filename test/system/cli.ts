// Runs the real CLI the way a user does, for the system tests.
import { execa } from "execa";
import { join } from "node:path";
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
