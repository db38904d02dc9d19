// The host-guest contract: everything the runner, the guest's scripts (rootfs/init,
// rootfs/etc/xdp-lab/rc.d/*) and the app (app/protocol.h) must agree on, defined once here.
// test/network/contract.test.ts reads the guest's side and fails when the two disagree.

/** Lines rootfs/init prints on the console and on the command channel. */
export const MARKERS = {
  /** On the console once every rc.d script ran: `XDP-LAB-READY uptime=<seconds>`. */
  ready: /XDP-LAB-READY uptime=([\d.]+)/,
  /** Around the output of the command the kernel command line asked for. */
  begin: "XDP-LAB-CMD-BEGIN",
  end: /XDP-LAB-CMD-END rc=(\d+)/,
  /** The kernel's own line; with panic=-1 and -no-reboot qemu exits right after it. */
  panic: /Kernel panic - not syncing/,
};

/** Kernel command-line keys rootfs/init reads. */
export const CMDLINE = {
  /** Base64 of a shell command to run once ready; the guest powers off after it. */
  command: "xdplab.cmd",
  hostname: "xdplab.hostname",
  /** The serial port (ttyS1) the command's output goes to, apart from the console. */
  output: "xdplab.out",
  /** Host directories over virtio 9p: `TAG:GUEST_PATH`, comma separated; init mounts each. */
  share: "xdplab.share",
  /** `host` (--guest-root host): init mounts the host's root (9p tag GUEST_ROOT_TAG) under an overlay and runs there. */
  root: "xdplab.root",
} as const;

/** The 9p tag of the host's root file system under --guest-root host (rootfs/init mounts it read-only). */
export const GUEST_ROOT_TAG = "xdplab-root";

/** Where the guest's root file system comes from: the lab's initramfs (default), or the host's own root under a RAM overlay. */
export const GUEST_ROOTS = ["initramfs", "host"] as const;
export type GuestRoot = (typeof GUEST_ROOTS)[number];

/**
 * The modules a stock kernel's archive (appended to the initramfs) asks init to load, one absolute
 * path a line, dependencies first; the lab's built kernel has its drivers built in and no such file.
 */
export const GUEST_MODULES = "/etc/xdp-lab/modules";

/** Where `up` puts the lab's configuration in the guest (shell variables, read by rc.d/50-lab). */
export const LAB_ENV = "/etc/xdp-lab/lab.env";

/** The variables of LAB_ENV (plan.ts guestEnv writes them, rc.d/50-lab reads them). */
export const LAB_ENV_KEYS = [
  "LAB_LAN_MAC",
  "LAB_WAN_MAC",
  "LAB_MGMT_MAC",
  "LAB_LAN_ADDR",
  "LAB_WAN_ADDR",
  "LAB_MGMT_ADDR",
  "LAB_MGMT_IP",
  "LAB_GATEWAY",
  "LAB_CONTROL",
  "LAB_NEIGH",
  "LAB_LAN_ADDR6",
  "LAB_WAN_ADDR6",
  "LAB_GATEWAY6",
  "LAB_NEIGH6",
] as const;
export type LabEnvKey = (typeof LAB_ENV_KEYS)[number];

/**
 * The guest's NICs: fixed MACs so rc.d/50-lab names them lan0, wan0 and mgmt0 whatever order PCI
 * gives. Data NICs get multi-queue taps (see queuesFor).
 */
export const GUEST_NICS = [
  { name: "lan0", tap: "tap-lan", bridge: "br-lan", mac: "52:54:00:10:01:01", data: true, macKey: "LAB_LAN_MAC" },
  { name: "wan0", tap: "tap-wan", bridge: "br-wan", mac: "52:54:00:10:02:02", data: true, macKey: "LAB_WAN_MAC" },
  { name: "mgmt0", tap: "tap-mgmt", bridge: undefined, mac: "52:54:00:10:ff:02", data: false, macKey: "LAB_MGMT_MAC" },
] as const;
export type GuestNic = (typeof GUEST_NICS)[number];

/**
 * Queue pairs of a NIC for a guest with CPUS vCPUs. Native XDP on virtio-net needs a spare TX queue
 * per CPU (XDP_TX and redirect get their own), so data NICs get twice the vCPUs; mgmt0 needs one.
 */
export function queuesFor(nic: Pick<GuestNic, "data">, cpus: number): number {
  return nic.data ? 2 * cpus : 1;
}

/** The app's control socket in the guest (app/protocol.h XDP_LAB_CONTROL_DEFAULT). */
export const GUEST_CONTROL = "/run/xdp-lab-app.sock";

/** The app's Lua time budget when nothing set it (app/parse.c: --lua-budget-ms's default). */
export const APP_LUA_BUDGET_MS = 50;

/** Where the app logs in the guest (rc.d/50-lab redirects it there). */
export const GUEST_APP_LOG = "/var/log/xdp-lab-app.log";

// --- the app's answers (app/protocol.h) -------------------------------------------------------

export const VERDICTS = ["aborted", "drop", "pass", "tx", "redirect"] as const;
export type Verdict = (typeof VERDICTS)[number];

export interface VerdictCounters {
  packets: number;
  bytes: number;
  pps: number;
  bps: number;
}

/** One attached program in `stats`. */
export interface ProgramStats {
  iface: string;
  program: string;
  object: string;
  mode: "native" | "generic";
  id: number;
  verdicts: Record<Verdict, VerdictCounters>;
}

/** What each command's `result` holds. */
export interface AppResults {
  load: { iface: string; program: string; object: string; mode: "native" | "generic"; id: number; replaced?: number };
  unload: { iface: string };
  stats: { programs: ProgramStats[]; events: number; lua_events: number };
  block: { ip: string; programs: number };
  unblock: { ip: string; programs: number };
  echo: { text: string; seq: number; rtt_us: number };
  lua: { script: string };
  /** The script it stopped ("" when none ran). */
  "lua-unload": { script: string };
  "lua-budget": { budget_ms: number; memory_mb: number };
  watch: { watch: boolean };
  help: { commands: string[] };
  quit: Record<string, never>;
}
export type AppCommand = keyof AppResults;

/**
 * The top-level fields of each command's result, at run time: the contract test checks them against
 * app/protocol.h's description (the types above cannot be read at run time).
 */
export const APP_RESULT_FIELDS = {
  load: ["iface", "program", "object", "mode", "id", "replaced"],
  unload: ["iface"],
  stats: ["programs", "events", "lua_events"],
  block: ["ip", "programs"],
  unblock: ["ip", "programs"],
  echo: ["text", "seq", "rtt_us"],
  lua: ["script"],
  "lua-unload": ["script"],
  "lua-budget": ["budget_ms", "memory_mb"],
  watch: ["watch"],
  help: ["commands"],
  quit: [],
} satisfies { [C in AppCommand]: (keyof AppResults[C])[] };

/** One answer line: ok with the command's result, or not with the error. */
export type AppAnswer<C extends AppCommand = AppCommand> =
  | { ok: true; command: C; result: AppResults[C]; output: string }
  | { ok: false; command: string; error: string; output: string };

/** An answer that succeeded. */
export type AppOk<C extends AppCommand> = Extract<AppAnswer<C>, { ok: true }>;

/**
 * Parses one answer line of the control socket; the one place the host turns the app's JSON into
 * typed values. Throws naming what is wrong with the line.
 */
export function parseAnswer<C extends AppCommand>(line: string, command: C): AppAnswer<C> {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw new Error(`The app's answer to "${command}" is not JSON: ${JSON.stringify(line.slice(0, 200))}`);
  }
  const a = v as Record<string, unknown>;
  if (typeof a !== "object" || a === null || typeof a.ok !== "boolean") {
    throw new Error(`The app's answer to "${command}" has no "ok": ${line.slice(0, 200)}`);
  }
  const output = typeof a.output === "string" ? a.output : "";
  if (!a.ok) return { ok: false, command: String(a.command ?? ""), error: String(a.error ?? "(no error given)"), output };
  if (a.command !== command) throw new Error(`The app answered "${String(a.command)}" to "${command}"`);
  if (typeof a.result !== "object" || a.result === null) throw new Error(`The app's answer to "${command}" has no result: ${line.slice(0, 200)}`);
  return { ok: true, command, result: a.result as AppResults[C], output };
}
