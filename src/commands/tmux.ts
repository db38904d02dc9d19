// `xdp-lab tmux`: the lab's layout: a shell on the left; the xdp VM, the server and the client on the right.
import type { ArgumentsCamelCase, Argv } from "yargs";
import { labPlan, nameFlag, type LabPlan } from "../../network/plan.ts";
import type { LabState } from "../../network/state.ts";
import { REPO } from "../paths.ts";
import { shellQuote } from "../../network/shell.ts";
import { withName } from "./lab-options.ts";

export const command = "tmux";
export const describe = "Open the lab in tmux: a shell on the left; the VM, the server and the client on the right";

export function builder(y: Argv) {
  return withName(y)
    .option("attach", { type: "boolean", default: true, describe: "attach to the session (--no-attach only creates it)" })
    .option("install", { type: "boolean", default: true });
}

type Args = ArgumentsCamelCase<ReturnType<typeof builder> extends Argv<infer T> ? T : never>;

/** The tmux commands of the layout (pure, unit-tested): one session, four panes, titles on borders. */
export function layout(plan: LabPlan, cli: string, shells: Partial<Record<"server" | "client", string>> = {}): string[][] {
  const s = plan.tmux;
  const n = `--name ${plan.name}`;
  // A shell on the host: SHELLS' for a container host, else one in its namespace.
  const netns = (role: "server" | "client"): string => shells[role] ?? `ip netns exec ${plan.ns[role]} bash`;
  return [
    ["new-session", "-d", "-s", s, "-n", plan.name, "-x", "200", "-y", "50", "bash"],
    ["set-option", "-t", s, "pane-border-status", "top"],
    ["select-pane", "-t", `${s}:0.0`, "-T", "host"],
    ["split-window", "-h", "-t", `${s}:0.0`, `${cli} ssh ${n}`],
    ["select-pane", "-t", `${s}:0.1`, "-T", "xdp vm"],
    ["split-window", "-v", "-t", `${s}:0.1`, netns("server")],
    ["select-pane", "-t", `${s}:0.2`, "-T", "server"],
    ["split-window", "-v", "-t", `${s}:0.2`, netns("client")],
    ["select-pane", "-t", `${s}:0.3`, "-T", "client"],
    ["select-layout", "-t", `${s}:0`, "main-vertical"],
    ["select-pane", "-t", `${s}:0.0`],
  ];
}

export async function handler(argv: Args): Promise<void> {
  const [{ attach, killSession, tmux }, { ensure }, { LAB_TOOLS }, { readState, requireRoot }] = await Promise.all([import("../../network/tmux.ts"), import("../tools/ensure.ts"), import("../build/packages.ts"), import("../../network/state.ts")]);
  requireRoot("xdp-lab tmux");
  await ensure(LAB_TOOLS, { install: argv.install, purpose: "xdp-lab tmux" });
  const plan = labPlan(argv.name);
  const state = await readState(plan);
  if (state?.phase !== "up") throw new Error(`Lab "${argv.name}" is not up. Fix: ./xdp-lab up${nameFlag(argv.name)}`);
  await killSession(plan.tmux);
  for (const args of layout(plan, shellQuote(`${REPO}/xdp-lab`), await containerShells(plan, state))) await tmux(...args);
  if (argv.attach && process.stdin.isTTY) {
    await attach(plan.tmux);
  } else {
    process.stdout.write(`tmux session ${plan.tmux} is ready: tmux attach -t ${plan.tmux}\n`);
  }
}

/** A shell in each container host's container, for its pane. */
async function containerShells(plan: LabPlan, state: LabState | undefined): Promise<Partial<Record<"server" | "client", string>>> {
  const { execArgs } = await import("../../network/containers.ts");
  const out: Partial<Record<"server" | "client", string>> = {};
  for (const role of ["server", "client"] as const) {
    if (state?.hosts?.[role]?.kind === "podman") out[role] = ["podman", ...execArgs(plan.hosts[role].container!, ["sh"], { stdin: true, tty: true })].map(shellQuote).join(" ");
  }
  return out;
}
