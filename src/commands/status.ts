// `xdp-lab status`: hosts, addresses, the VM process, attached programs and their counters.
import type { ArgumentsCamelCase, Argv } from "yargs";
import type { LabStatus } from "../../network/status.ts";
import { DEFAULT_LAB, LINKS, nameFlag } from "../../network/plan.ts";
import { describeImpairment } from "../../network/impair.ts";
import { withName } from "./lab-options.ts";

export const command = "status";
export const describe = "Show a lab: hosts, addresses, VM, attached programs and counters";

export function builder(y: Argv) {
  return withName(y).option("json", { type: "boolean", default: false, describe: "machine-readable" });
}

type Args = ArgumentsCamelCase<ReturnType<typeof builder> extends Argv<infer T> ? T : never>;

export async function handler(argv: Args): Promise<void> {
  const [{ labNames, requireRoot }, { status }] = await Promise.all([import("../../network/state.ts"), import("../../network/status.ts")]);
  requireRoot("xdp-lab status");
  const s = await status(argv.name);
  if (s.phase === "absent" && !argv.json) {
    process.stdout.write(notUpMessage(s.name, await labNames()) + "\n");
  } else if (argv.json) {
    process.stdout.write(JSON.stringify(s, null, 2) + "\n");
  } else {
    const lines = [
      `lab ${s.name}: ${s.degraded ? `degraded: ${s.degraded}` : s.phase}`,
      `  vm: ${s.vm.running ? `running, pid ${s.vm.pid}, ${s.vm.accel?.toUpperCase()}` : `not running${s.vm.ended ? ` (${s.vm.ended})` : ""}`}${s.vm.upSeconds ? `, up in ${s.vm.upSeconds.toFixed(1)} s` : ""}`,
      ...(s.vm.guestRoot === "host" ? ["  root: the host's, read-only over 9p under an overlay in RAM (--guest-root host)"] : []),
      ...(s.vm.kernel ? [`  kernel: ${s.vm.kernel.name}${s.vm.kernel.release ? ` (${s.vm.kernel.release}${s.vm.kernel.version ? `, Debian package ${s.vm.kernel.version}` : ""})` : ""}`] : []),
      ...(s.vm.consoleLog ? [`  console log: ${s.vm.consoleLog}`] : []),
      ...Object.entries(s.hosts).map(([h, st]) => `  ${h} (${st.container ? `podman: ${st.detail}` : st.kind}${st.running || st.container ? "" : ", not running"}): ${st.addresses.join("; ") || "-"}`),
      `  uplink: ${s.uplink}`,
      `  links: ${LINKS.map((l) => `${l} ${describeImpairment(s.links[l])}`).join("; ")}`,
      `  namespaces: ${Object.entries(s.namespaces).map(([r, ok]) => `${r} ${ok ? "yes" : "no"}`).join(", ")}`,
      ...programLines(s),
      ...(s.error ? [`  error: ${s.error}`] : []),
    ];
    process.stdout.write(lines.join("\n") + "\n");
  }
  if (s.phase === "absent" || s.degraded) process.exitCode = 1;
}

/**
 * What status says when lab NAME is not up: that no lab is, or which others are there, and the
 * command that brings NAME up. LABS are the labs that exist (state.ts: labNames).
 */
export function notUpMessage(name: string, labs: string[]): string {
  const which = `"${name}"${name === DEFAULT_LAB ? ", the default of --name" : ""}`;
  const others = labs.filter((l) => l !== name);
  const fix = `Fix: ./xdp-lab up${nameFlag(name)}`;
  if (others.length === 0) return `No lab is up (status looked for ${which}). ${fix}`;
  return `Lab ${which}${name === DEFAULT_LAB ? "," : ""} is not up; other labs here: ${others.join(", ")} (./xdp-lab status --name ${others[0]}). ${fix}`;
}

/**
 * Every attached program, whoever attached it: hook, mode, id, name, tag, maps and the kernel's
 * ns per run; then the verdict counters of those the app attached.
 */
function programLines(s: LabStatus): string[] {
  if (s.attached === undefined) return s.programs && !("programs" in s.programs) ? [`  programs: ${s.programs.error}`] : [];
  if (s.attached.length === 0) return ["  programs: none attached (./xdp-lab load OBJ)"];
  const counters = new Map(s.programs && "programs" in s.programs ? s.programs.programs.map((p) => [p.id, p]) : []);
  const lines = ["  programs:"];
  for (const p of s.attached) {
    const runs = p.runCount !== undefined ? `, ${p.runCount} runs, ${p.nsPerRun} ns/run` : "";
    lines.push(`    ${p.iface} ${p.hook}${p.mode ? ` ${p.mode}` : ""}: ${p.name} id ${p.id} tag ${p.tag}${runs}`);
    if (p.maps.length) lines.push(`      maps: ${p.maps.map((m) => `${m.name} (${m.type}, ${m.entries})`).join(", ")}`);
    const c = counters.get(p.id);
    if (c) {
      const counts = Object.entries(c.verdicts)
        .filter(([v, n]) => n.packets > 0 || v === "pass" || v === "drop")
        .map(([v, n]) => `${v} ${n.packets} pkts (${n.pps}/s)`)
        .join(", ");
      lines.push(`      verdicts: ${counts}`);
    }
  }
  return lines;
}
