// `xdp-lab exec HOST -- CMD`: runs CMD on a lab host and exits with its status.
import type { ArgumentsCamelCase, Argv } from "yargs";
import { HOSTS, type HostName } from "../../network/plan.ts";
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
  const { execOn, requireRoot } = await import("../../network/lab.ts");
  requireRoot("xdp-lab exec");
  const cmd = [...(argv.cmd ?? []), ...((argv["--"] as unknown[] | undefined) ?? [])].map(String);
  if (cmd.length === 0) throw new Error(`Nothing to run on ${host}. Fix: xdp-lab exec ${host} -- COMMAND`);
  const r = await execOn(argv.name, host, cmd, {
    onStdout: (b) => process.stdout.write(b),
    onStderr: (b) => process.stderr.write(b),
  });
  process.exitCode = r.code;
}
