// What a test may leave in the VM beyond the app's own programs, and its removal for Lab.reset: tc
// programs on the data ports (clsact removed with its filters), XDP that another loader attached
// (xdp-filter, xdp-loader, ip: libxdp's dispatcher and pins included), and the app's Lua script and
// budget put back to what the lab started it with; an app that no longer answers (a test killed it)
// is started again first, as rc.d/50-lab starts it.
import type { Client } from "ssh2";
import { APP_LUA_BUDGET_MS, GUEST_APP_LOG, GUEST_CONTROL } from "./contract.ts";
import { appCommand, VmCommandError } from "./app-client.ts";
import { listPrograms } from "./programs.ts";
import { exec as sshExec } from "./ssh.ts";

/** The VM's data ports, where tests attach programs. */
export const DATA_PORTS = ["lan0", "wan0"] as const;

/** Where the runner pins a tc object's programs while it attaches one (see tcAttachScript). */
export const TC_PIN_DIR = "/sys/fs/bpf/xdp-lab-tc";

/**
 * One shell line that takes every tc program off the data ports (clsact goes with its filters; a
 * port without clsact is no error) and removes pins the runner left.
 */
export function tcResetScript(): string {
  return [...DATA_PORTS.map((d) => `tc qdisc del dev ${d} clsact 2>/dev/null`), `rm -rf ${TC_PIN_DIR}`, "true"].join("; ");
}

/** Where xdp-filter pins its maps; they outlive its program (a new `xdp-filter load` would find the old filters). */
export const XDP_FILTER_PINS = "/sys/fs/bpf/xdp-filter";

/**
 * One shell line that takes XDP off DEV whoever attached it: xdp-filter its own (with its maps),
 * xdp-loader what else sits in libxdp's dispatcher, ip what is left in either mode.
 */
export function xdpResetScript(dev: string): string {
  return `xdp-filter unload ${dev} >/dev/null 2>&1; xdp-loader unload --all ${dev} >/dev/null 2>&1; ip link set dev ${dev} xdpgeneric off 2>/dev/null; ip link set dev ${dev} xdpdrv off 2>/dev/null; true`;
}

/**
 * The shell line that starts the app again as rc.d/50-lab does (its log appended to, not
 * truncated, so what the test before wrote stays readable), then waits up to 5 s for its socket.
 */
export function appStartScript(): string {
  return [
    `setsid xdp-lab-app --control ${GUEST_CONTROL} </dev/null >>${GUEST_APP_LOG} 2>&1 &`,
    `for i in $(seq 50); do xdp-lab-app ctl --control ${GUEST_CONTROL} help >/dev/null 2>&1 && exit 0; sleep 0.1; done`,
    `echo "xdp-lab-app did not answer on ${GUEST_CONTROL} within 5 s of its start; its log: $(tail -3 ${GUEST_APP_LOG})" >&2; exit 1`,
  ].join("\n");
}

/**
 * Starts the app again when it does not answer on its socket (a test killed it, or it crashed);
 * true when it had to. Its programs went with it (it detaches them when it ends; a crash leaves
 * them to resetGuest, as another loader's).
 */
export async function ensureApp(client: Client): Promise<boolean> {
  try {
    await appCommand(client, "help");
    return false;
  } catch (e) {
    if (!(e instanceof VmCommandError) || e.failure.code === 255) throw e;
  }
  const r = await sshExec(client, appStartScript());
  if (r.code !== 0) throw new Error(`Failed to start xdp-lab-app again in the VM (exit ${r.code}): ${(r.stderr || r.stdout).trim()}`);
  return true;
}

/** What resetGuest removed, for the caller's record. */
export interface GuestReset {
  /** Ports whose XDP program came from another loader. */
  foreignXdp: string[];
  /** Ports that had tc programs. */
  tc: string[];
  /** The script the app was running, if any. */
  lua?: string;
}

/**
 * Removes, through an open session, what a test left beyond the app's programs (the caller unloads
 * those first). Throws when the app refuses to put its script or budget back.
 */
export async function resetGuest(client: Client): Promise<GuestReset> {
  const left = (await listPrograms(client)).filter((p) => (DATA_PORTS as readonly string[]).includes(p.iface));
  const foreignXdp = [...new Set(left.filter((p) => p.hook === "xdp").map((p) => p.iface))];
  const tc = [...new Set(left.filter((p) => p.hook.startsWith("tc/")).map((p) => p.iface))];
  // Nothing runs xdp-filter after this, so its maps go too (whoever unloaded its program).
  const script = [tcResetScript(), ...foreignXdp.map(xdpResetScript), `rm -rf ${XDP_FILTER_PINS}`].join("; ");
  const r = await sshExec(client, script);
  if (r.code !== 0) throw new Error(`Failed to detach the tc and XDP programs a test left in the VM (exit ${r.code}): ${(r.stderr || r.stdout).trim()}`);
  const lua = await appCommand(client, "lua-unload");
  if (!lua.ok) throw new Error(`The app in the VM refused lua-unload: ${lua.error}`);
  const budget = await appCommand(client, "lua-budget", String(APP_LUA_BUDGET_MS));
  if (!budget.ok) throw new Error(`The app in the VM refused lua-budget ${APP_LUA_BUDGET_MS}: ${budget.error}`);
  return { foreignXdp, tc, ...(lua.result.script ? { lua: lua.result.script } : {}) };
}
