// The VM's part of Lab.reset, as shell scripts and the parser of what they print. Under TCG every
// process the guest starts costs time (iproute2's and bpftool's start alone about 0.1 s each; the
// app's ctl a third of that), so the first script starts as few as it can: the app started again if
// it no longer answers (a test killed it), as rc.d/50-lab starts it; the app unloads each port; its
// Lua script unloaded and its budget put back; every pin in bpffs removed (the lab keeps none
// across tests) and what is left listed; then one `bpftool net show` lists what the kernel still
// has. Only when that is not empty does a second script take off what the app does not own: XDP
// another loader attached (xdp-filter, xdp-loader, ip: libxdp's dispatcher and pins included) and
// tc programs (clsact removed with its filters).
import { APP_LUA_BUDGET_MS, GUEST_APP_LOG, GUEST_CONTROL } from "./contract.ts";

/** The VM's data ports, where tests attach programs. */
export const DATA_PORTS = ["lan0", "wan0"] as const;

/** Where the runner pins a tc object's programs while it attaches one (see tcAttachScript). */
export const TC_PIN_DIR = "/sys/fs/bpf/xdp-lab-tc";

/** One shell line that takes every tc program off PORTS (clsact goes with its filters; a port without clsact is no error). */
export function tcResetScript(ports: readonly string[] = DATA_PORTS): string {
  return [...ports.map((d) => `tc qdisc del dev ${d} clsact 2>/dev/null`), "true"].join("; ");
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

/** The app's control command ARGS, its one-line JSON answer on stdout. */
const ctl = (args: string): string => `xdp-lab-app ctl --control ${GUEST_CONTROL} ${args} 2>&1`;

/** What the kernel has attached, after its marker. */
const NET = `echo "@@net"; bpftool -j net show`;

/** The guest's bpffs, where libbpf pins maps by name (LIBBPF_PIN_BY_NAME) and loaders pin programs and links. */
export const BPFFS = "/sys/fs/bpf";

/** Every entry of BPFFS, dot-names included: bash's globs, no process. */
const BPFFS_ENTRIES = `${BPFFS}/* ${BPFFS}/.[!.]*`;

/**
 * Every pin a test left: the lab makes none that outlive a test (the runner's tc pins under
 * TC_PIN_DIR go too), so everything under BPFFS goes: a map pinned by name (it would keep its
 * counts into the next test's load, which reuses it), xdp-filter's maps, libxdp's and iproute2's
 * folders. A pinned link's program comes off with its pin. rm runs only when there is something.
 */
const PINS = `for p in ${BPFFS_ENTRIES}; do if [ -e "$p" ]; then rm -rf ${BPFFS_ENTRIES}; break; fi; done`;

/** What is still pinned, after its marker: one path a line. */
const PINNED = `echo "@@pins"; for p in ${BPFFS_ENTRIES}; do if [ -e "$p" ]; then echo "$p"; fi; done`;

/** The first script of a reset; each answer follows its marker (`@@unload PORT`, `@@ctl WHAT`, `@@pins`, `@@net`). */
export function resetScript(): string {
  return [
    `if ! xdp-lab-app ctl --control ${GUEST_CONTROL} help >/dev/null 2>&1; then echo "@@restarted"; (\n${appStartScript()}\n) || exit 1; fi`,
    ...DATA_PORTS.map((p) => `echo "@@unload ${p}"; ${ctl(`unload ${p}`)}`),
    `echo "@@ctl lua-unload"; ${ctl("lua-unload")}`,
    `echo "@@ctl lua-budget ${APP_LUA_BUDGET_MS}"; ${ctl(`lua-budget ${APP_LUA_BUDGET_MS}`)}`,
    PINS,
    PINNED,
    NET,
  ].join("; ");
}

/** The second: XDP off XDP_PORTS whoever attached it, tc off TC_PORTS, the pins again (xdp-filter's unload may leave them), then the list again. */
export function offScript(xdpPorts: readonly string[], tcPorts: readonly string[] = []): string {
  return [...(tcPorts.length ? [tcResetScript(tcPorts)] : []), ...xdpPorts.map(xdpResetScript), PINS, PINNED, NET].join("; ");
}

interface NetShow {
  xdp?: { devname: string; id: number; mode?: string; name?: string }[];
  tc?: { devname: string; id: number; kind?: string; name?: string }[];
}

/** What a program attached to a data port is, as a reset reports it. */
export interface Attached {
  port: string;
  hook: "xdp" | "tc";
  what: string;
}

/**
 * What resetScript (or offScript) printed: the ports the app detached, what it refused, whether it
 * had to be started again, what the kernel still has on the data ports and what is still pinned in
 * bpffs (each undefined: no listing).
 */
export function parseReset(stdout: string): { detached: string[]; refused: string[]; restarted: boolean; attached?: Attached[]; pinned?: string[] } {
  const detached: string[] = [];
  const refused: string[] = [];
  let restarted = false;
  let attached: Attached[] | undefined;
  let pinned: string[] | undefined;
  let pending: { unload?: string; ctl?: string } | undefined;
  const lines = stdout.split("\n").map((l) => l.trim());
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === "@@restarted") {
      restarted = true;
      continue;
    }
    if (line === "@@pins") {
      pinned = [];
      pending = undefined;
      continue;
    }
    if (pinned && line.startsWith(`${BPFFS}/`)) {
      pinned.push(line);
      continue;
    }
    const m = /^@@(unload|ctl) (.+)$/.exec(line);
    if (m) {
      pending = m[1] === "unload" ? { unload: m[2] } : { ctl: m[2] };
      continue;
    }
    if (line === "@@net") {
      try {
        const net = (JSON.parse(lines.slice(i + 1).join("\n")) as NetShow[])[0] ?? {};
        const ours = (d: string): boolean => (DATA_PORTS as readonly string[]).includes(d);
        attached = [
          ...(net.xdp ?? []).filter((x) => ours(x.devname)).map((x) => ({ port: x.devname, hook: "xdp" as const, what: `${x.name ?? "a program"} (id ${x.id}) on ${x.devname} xdp` })),
          ...(net.tc ?? []).filter((x) => ours(x.devname)).map((x) => ({ port: x.devname, hook: "tc" as const, what: `${x.name ?? "a program"} (id ${x.id}) on ${x.devname} ${x.kind ?? "tc"}` })),
        ];
      } catch {
        attached = undefined;
      }
      break;
    }
    // The app's answer: one JSON line.
    if (pending && line.startsWith("{")) {
      let answer: { ok?: boolean; error?: string };
      try {
        answer = JSON.parse(line) as typeof answer;
      } catch {
        answer = { ok: false, error: line };
      }
      if (pending.unload !== undefined) {
        if (answer.ok) detached.push(pending.unload);
        // "no program attached": the app has none there (the kernel's list says whether another has).
        else if (!/no program attached/i.test(answer.error ?? "")) refused.push(`the app would not detach the program on ${pending.unload}: ${answer.error ?? line}`);
      } else if (!answer.ok) refused.push(`the app refused ${pending.ctl}: ${answer.error ?? line}`);
      pending = undefined;
    }
  }
  return { detached, refused, restarted, attached, pinned };
}
