// `xdp-lab status`: hosts, addresses, the VM process, attached programs and their counters.
import type { ArgumentsCamelCase, Argv } from "yargs";
import type { LabStatus } from "../../network/status.ts";
import { withName } from "./lab-options.ts";

export const command = "status";
export const describe = "Show a lab: hosts, addresses, VM, attached programs and counters";

export function builder(y: Argv) {
  return withName(y).option("json", { type: "boolean", default: false, describe: "machine-readable" });
}

type Args = ArgumentsCamelCase<ReturnType<typeof builder> extends Argv<infer T> ? T : never>;

export async function handler(argv: Args): Promise<void> {
  const [{ requireRoot }, { status }] = await Promise.all([import("../../network/state.ts"), import("../../network/status.ts")]);
  requireRoot("xdp-lab status");
  const s = await status(argv.name);
  if (s.phase === "absent" && !argv.json) {
    process.stdout.write(`lab ${s.name}: not up (./xdp-lab up${s.name === "lab" ? "" : ` --name ${s.name}`})\n`);
  } else if (argv.json) {
    process.stdout.write(JSON.stringify(s, null, 2) + "\n");
  } else {
    const lines = [
      `lab ${s.name}: ${s.degraded ? `degraded: ${s.degraded}` : s.phase}`,
      `  vm: ${s.vm.running ? `running, pid ${s.vm.pid}, ${s.vm.accel?.toUpperCase()}` : `not running${s.vm.ended ? ` (${s.vm.ended})` : ""}`}${s.vm.upSeconds ? `, up in ${s.vm.upSeconds} s` : ""}`,
      ...(s.vm.consoleLog ? [`  console log: ${s.vm.consoleLog}`] : []),
      ...Object.entries(s.hosts).map(([h, a]) => `  ${h}: ${a.join("; ") || "-"}`),
      `  uplink: ${s.uplink}`,
      `  namespaces: ${Object.entries(s.namespaces).map(([r, ok]) => `${r} ${ok ? "yes" : "no"}`).join(", ")}`,
      ...programLines(s.programs),
      ...(s.error ? [`  error: ${s.error}`] : []),
    ];
    process.stdout.write(lines.join("\n") + "\n");
  }
  if (s.phase === "absent" || s.degraded) process.exitCode = 1;
}

/** One line per attached program: its mode and the verdicts it gave. */
function programLines(programs: LabStatus["programs"]): string[] {
  if (programs === undefined) return [];
  if (!("programs" in programs)) return [`  programs: ${JSON.stringify(programs)}`];
  const list = programs.programs;
  if (list.length === 0) return ["  programs: none attached (./xdp-lab load OBJ)"];
  return list.map((p) => {
    const counts = Object.entries(p.verdicts)
      .filter(([v, c]) => c.packets > 0 || v === "pass" || v === "drop")
      .map(([v, c]) => `${v} ${c.packets} pkts (${c.pps}/s)`)
      .join(", ");
    return `  ${p.iface}: ${p.program} (${p.mode}, id ${p.id}): ${counts}`;
  });
}
