// The one wrapper around iproute2's `tc`: argv builders (pure, unit-tested) and the runner.
import { execa } from "execa";

/** `tc` argv for one command, in namespace NS when given. */
export function tcArgs(ns: string | undefined, ...args: string[]): string[] {
  return ns ? ["-n", ns, ...args] : args;
}

/** Runs `tc`; throws an Error that quotes the command and tc's message (the message alone is `cause`). */
export async function tc(ns: string | undefined, ...args: string[]): Promise<string> {
  const argv = tcArgs(ns, ...args);
  const r = await execa("tc", argv, { reject: false });
  if (r.exitCode !== 0) {
    const said = (r.stderr || r.stdout).trim();
    throw new Error(`Failed to run tc ${argv.join(" ")}: ${said}`, { cause: said });
  }
  return r.stdout;
}

/** Runs `tc` where failing is an answer (deleting a qdisc that may not be there); true when it succeeded. */
export async function tcMaybe(ns: string | undefined, ...args: string[]): Promise<boolean> {
  return (await execa("tc", tcArgs(ns, ...args), { reject: false })).exitCode === 0;
}

/** One qdisc as `tc -j qdisc show` reports it. */
export interface Qdisc {
  kind: string;
  handle: string;
  root?: boolean;
  parent?: string;
  options?: Record<string, unknown>;
}

/** The qdiscs on DEV in namespace NS. */
export async function qdiscs(ns: string | undefined, dev: string): Promise<Qdisc[]> {
  return JSON.parse((await tc(ns, "-j", "qdisc", "show", "dev", dev)) || "[]") as Qdisc[];
}
