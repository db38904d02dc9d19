// `xdp-lab exec HOST -- CMD`: runs CMD on a lab host and exits with its status.
import type { ArgumentsCamelCase, Argv } from "yargs";
import { HOSTS, type HostName } from "../../network/plan.ts";
import { installHint } from "../build/packages.ts";
import { withName } from "./lab-options.ts";

export const command = "exec <host> [cmd..]";
export const describe = "Run a command on a lab host (vm, client, server, internet): xdp-lab exec client -- ping -c 1 server";

export function builder(y: Argv) {
  return withName(y)
    .positional("host", { type: "string", demandOption: true, describe: `one of ${HOSTS.join(", ")}` })
    .positional("cmd", { type: "string", array: true });
}

type Args = ArgumentsCamelCase<ReturnType<typeof builder> extends Argv<infer T> ? T : never>;

export function hostName(host: string): HostName {
  if (!(HOSTS as readonly string[]).includes(host)) {
    throw new Error(`Unknown host "${host}". Fix: use one of ${HOSTS.join(", ")}`);
  }
  return host as HostName;
}

export async function handler(argv: Args): Promise<void> {
  const host = hostName(argv.host);
  const [{ labHost }, { requireRoot }] = await Promise.all([import("../../network/hosts/index.ts"), import("../../network/state.ts")]);
  requireRoot("xdp-lab exec");
  const cmd = [...(argv.cmd ?? []), ...((argv["--"] as unknown[] | undefined) ?? [])].map(String);
  if (cmd.length === 0) throw new Error(`Nothing to run on ${host}. Fix: xdp-lab exec ${host} -- COMMAND`);
  const h = await labHost(argv.name, host);
  const image = h.kind === "podman" ? (h as { image?: string }).image : undefined;
  if (h.kind === "netns" && cmd.length > 1) {
    const { which } = await import("../tools/ensure.ts");
    if (!cmd[0]!.includes("/") && !which(cmd[0]!)) throw new Error(missingProgram(cmd[0]!, host));
  }
  const r = await h.exec(cmd, {
    // Piped input goes through (echo hi | xdp-lab exec vm -- 'cat > /tmp/f'); a terminal's does not.
    stdin: process.stdin.isTTY ? undefined : process.stdin,
    onStdout: (b) => process.stdout.write(b),
    onStderr: (b) => process.stderr.write(b),
  });
  const absent = r.code === 127 ? notFound(r.stderr) : undefined;
  if (absent) process.stderr.write(`xdp-lab: ${missingProgram(absent, host, image)}\n`);
  process.exitCode = r.code;
}

/** What to say about a program that is not there (IMAGE: the host is a container of it). */
export function missingProgram(program: string, host: HostName, image?: string): string {
  if (image !== undefined) {
    return `"${program}" is not in ${host}'s image ${image}. Fix: use an image that has it (./xdp-lab up --${host}-image IMAGE)`;
  }
  if (host === "vm") {
    return `"${program}" is not in the VM: the guest has only what rootfs/ puts into the initramfs (see ./xdp-lab exec vm -- ls /bin /usr/bin)`;
  }
  return `"${program}" is not installed on this machine (the lab's client, server and internet run the machine's own programs). Fix: ${installHint(program)}`;
}

/** The program a shell said it could not find (dash: "sh: 1: X: not found", bash: "X: command not found"). */
export function notFound(stderr: string): string | undefined {
  return /(?:^|\n)(?:[^\s:]+: (?:line \d+: |\d+: )?)?([^\s:]+): (?:command )?not found/.exec(stderr)?.[1] ?? /exec: "([^"]+)": executable file not found/.exec(stderr)?.[1];
}
