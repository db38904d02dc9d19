// A test's setup in the lab, after the reset: its programs (XDP through xdp-lab-app, tc through
// iproute2's tc in the VM), the app's script, budget and blocks, and the links' impairment. The
// reset before the next test (Lab.reset) takes all of it away again.
import { basename } from "node:path";
import { appCommand, load } from "../../network/app-client.ts";
import type { AppCommand } from "../../network/contract.ts";
import type { Impairment } from "../../network/impair.ts";
import type { LinkName } from "../../network/plan.ts";
import { withVm } from "../../network/session.ts";
import { shellQuote } from "../../network/shell.ts";
import { TC_PIN_DIR } from "../../network/vm-reset.ts";
import type { Lab } from "../lab.ts";
import type { AppSetup, ProgramSetup, TestCase } from "./file-types.ts";
import type { Failure } from "./result-types.ts";

/** Where objects and scripts are copied in the VM (the app's `load` copies objects there too). */
const GUEST_DIR = "/run/xdp-lab/obj";

/**
 * The shell line that attaches a tc object's program on DEV's clsact hook (DIRECTION ingress or
 * egress), pure for the unit tests. bpftool loads the object's programs and pins them by name, so a
 * program is found by its name; a name that is not one is taken as the section (tc's own `sec`).
 * Without a name the object must have one program. The pins go once tc holds the program.
 */
export function tcAttachScript(remote: string, dev: string, direction: "ingress" | "egress", program?: string): string {
  const dir = `${TC_PIN_DIR}/${basename(remote).replace(/[^A-Za-z0-9_-]/g, "_")}`;
  const q = shellQuote;
  const pick = program
    ? `if [ -e ${q(`${dir}/${program}`)} ]; then set -- pinned ${q(`${dir}/${program}`)}; else set -- obj ${q(remote)} sec ${q(program)}; fi`
    : `set -- ${q(dir)}/*; if [ $# -ne 1 ]; then echo "${basename(remote)} has $# programs ($(cd ${q(dir)} && echo *)): name one with program:" >&2; rm -rf ${q(dir)}; exit 1; fi; set -- pinned "$1"`;
  return [
    "set -e",
    `rm -rf ${q(dir)}`,
    `mkdir -p ${q(TC_PIN_DIR)}`,
    `bpftool prog loadall ${q(remote)} ${q(dir)}`,
    pick,
    `tc qdisc replace dev ${dev} clsact`,
    `tc filter add dev ${dev} ${direction} bpf direct-action "$@" || { rm -rf ${q(dir)}; exit 1; }`,
    `rm -rf ${q(dir)}`,
  ].join("\n");
}

/** Copies LOCAL into the VM's GUEST_DIR; returns its path there. */
async function copyIn(lab: Lab, local: string): Promise<string> {
  const vm = await lab.host("vm");
  const mk = await vm.exec([`mkdir -p ${GUEST_DIR}`]);
  if (mk.code !== 0) throw new Error(`Failed to make ${GUEST_DIR} in the VM: ${mk.stderr.trim()}`);
  return (await vm.copyIn(local, `${GUEST_DIR}/${basename(local)}`)).target;
}

/** Attaches one program of the setup; a mode other than asked is a failure, a refusal an error. */
export async function attachProgram(lab: Lab, p: ProgramSetup, fail: (f: Failure) => void): Promise<void> {
  const hook = p.hook ?? "xdp";
  if (hook === "xdp") {
    const a = await load(lab.name, p.object, { iface: p.port, mode: p.mode, program: p.program, tunables: p.tunables });
    if (a.result.mode !== p.mode) fail({ what: `setup: ${p.object} on ${p.port}`, wanted: `${p.mode} mode`, got: `${a.result.mode} mode` });
    return;
  }
  const remote = await copyIn(lab, p.object);
  const r = await (await lab.host("vm")).exec([tcAttachScript(remote, `${p.port}0`, hook === "tc-ingress" ? "ingress" : "egress", p.program)]);
  if (r.code !== 0) {
    throw new Error(`Failed to attach ${p.object}${p.program ? ` (${p.program})` : ""} on ${p.port}0 ${hook}: ${(r.stderr || r.stdout).trim().split("\n").slice(-4).join(" | ")}`);
  }
}

/** Sends one command to the app; a refusal is an error naming the setup field. */
async function app(lab: Lab, field: string, command: AppCommand, ...args: string[]): Promise<void> {
  const answer = await withVm(lab.name, (client) => appCommand(client, command, ...args));
  if (!answer.ok) throw new Error(`setup.app.${field}: the app refused "${[command, ...args].join(" ")}": ${answer.error.trim()}`);
}

/** The app's setup: budget first (the script's first call has it), then the script, then the blocks. */
export async function setupApp(lab: Lab, a: AppSetup): Promise<void> {
  if (a.lua_budget_ms !== undefined) await app(lab, "lua_budget_ms", "lua-budget", String(a.lua_budget_ms));
  if (a.lua !== undefined) await app(lab, "lua", "lua", await copyIn(lab, a.lua));
  for (const ip of a.block ?? []) await app(lab, "block", "block", ip);
}

/** Every part of a test's setup but its commands, in order: programs, the app, the links. */
export async function applySetup(lab: Lab, test: TestCase, fail: (f: Failure) => void): Promise<void> {
  for (const p of test.setup?.programs ?? []) await attachProgram(lab, p, fail);
  if (test.setup?.app) await setupApp(lab, test.setup.app);
  // setup-check.ts read every value into a number.
  for (const [link, imp] of Object.entries(test.setup?.impair ?? {})) await lab.impair(link as LinkName, imp as Impairment);
}
