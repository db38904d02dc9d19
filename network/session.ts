// Sessions with a running lab: ssh to its VM (refused at once when the VM is dead) and commands
// on any of its hosts.
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { Readable } from "node:stream";
import type { Client } from "ssh2";
import { namespaces, netnsExec } from "./ip.ts";
import { labPlan, nameFlag, type HostName, type LabPlan } from "./plan.ts";
import { connect, exec as sshExec, type ExecResult } from "./ssh.ts";
import { shellCommand } from "./shell.ts";
import { readState, type LabState } from "./state.ts";
import { vmEnding, vmLink } from "./guest.ts";

/** Namespace of a host run by the host kernel, or undefined for the VM. */
function namespaceOf(plan: LabPlan, host: HostName): string | undefined {
  return host === "vm" ? undefined : plan.ns[host];
}

/**
 * Throws unless the lab is up with its VM running: a dead VM is named as such at once, with how qemu
 * ended, the console log and the fix, instead of an ssh timeout.
 */
export async function requireVm(name: string): Promise<LabState> {
  const plan = labPlan(name);
  const state = await readState(plan);
  if (!state?.hostPublic || !existsSync(plan.files.key)) {
    throw new Error(`Lab "${name}" is not up. Fix: ./xdp-lab up${nameFlag(name)}`);
  }
  const ended = await vmEnding(plan, state);
  if (ended) {
    throw new Error(
      `The VM of lab ${name} is not running (${ended}). Console log: ${plan.files.consoleLog}\n` +
        `Fix: ./xdp-lab down${nameFlag(name)} && ./xdp-lab up${nameFlag(name)}`,
    );
  }
  return state;
}

/** Opens an ssh session to a lab's VM already found running (requireVm, or status's own check). */
export async function openVm(plan: LabPlan, state: LabState): Promise<Client> {
  return connect(vmLink(plan, await readFile(plan.files.key), state.hostPublic!));
}

/** Opens an ssh session to a running lab's VM. */
export async function connectVm(name: string): Promise<Client> {
  return openVm(labPlan(name), await requireVm(name));
}

/** Runs FN with an ssh session to the lab's VM, closed afterwards whatever happens. */
export async function withVm<T>(name: string, fn: (client: Client) => Promise<T>): Promise<T> {
  return useVm(await connectVm(name), fn);
}

/** Runs FN with an open session, closed afterwards whatever happens. */
export async function useVm<T>(client: Client, fn: (client: Client) => Promise<T>): Promise<T> {
  try {
    return await fn(client);
  } finally {
    client.end();
  }
}

/** Runs ARGV on a lab host; output streams to the callbacks and is returned with the status. */
export async function execOn(
  name: string,
  host: HostName,
  argv: string[],
  o: { onStdout?: (b: Buffer) => void; onStderr?: (b: Buffer) => void; stdin?: string | Buffer | Readable } = {},
): Promise<ExecResult> {
  const plan = labPlan(name);
  const ns = namespaceOf(plan, host);
  if (ns === undefined) return withVm(name, (client) => sshExec(client, shellCommand(argv), o));
  if (!(await namespaces()).includes(ns)) {
    throw new Error(`Lab "${name}" is not up (no namespace ${ns}). Fix: ./xdp-lab up${nameFlag(name)}`);
  }
  const stream = o.stdin instanceof Readable ? o.stdin : undefined;
  const child = netnsExec(ns, argv.length === 1 ? ["sh", "-c", argv[0]!] : argv, {
    input: stream ? undefined : (o.stdin as string | Buffer | undefined),
    stdin: o.stdin === undefined ? "ignore" : "pipe",
  });
  if (stream) {
    // A command that exits before reading all of its input closes the pipe: not an error here.
    child.stdin?.on("error", () => undefined);
    stream.pipe(child.stdin!);
  }
  child.stdout?.on("data", (b: Buffer) => o.onStdout?.(b));
  child.stderr?.on("data", (b: Buffer) => o.onStderr?.(b));
  const r = await child;
  return { code: r.exitCode ?? 128, stdout: String(r.stdout), stderr: String(r.stderr) };
}
