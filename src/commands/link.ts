// `xdp-lab link LINK --delay MS ...`, `link show`, `link reset [LINK]`: impairment on the lab's
// links (netem and tbf in the lab namespace; how each value splits between the directions is in
// network/impair.ts).
import type { ArgumentsCamelCase, Argv } from "yargs";
import { IMPAIR_PARAMS, IMPAIR_PARAM_NAMES } from "../../network/impair.ts";
import { LINKS } from "../../network/plan.ts";
import { withName } from "./lab-options.ts";

export const command = "link <target> [link]";
export const describe = "Impair a link (lan, wan, uplink): delay, jitter, loss, rate, duplicate, reorder, corrupt; link show; link reset [LINK]";

export const LINK_FLAGS = IMPAIR_PARAM_NAMES;

export function builder(y: Argv) {
  let b = withName(y)
    .positional("target", { type: "string", demandOption: true, describe: `a link (${LINKS.join(", ")}) to impair, show, or reset` })
    .positional("link", { type: "string", describe: "with reset: only this link" })
    .option("json", { type: "boolean", default: false, describe: "with show: machine-readable" });
  for (const [flag, p] of Object.entries(IMPAIR_PARAMS)) {
    // Strings, not numbers: yargs would turn "lots" into NaN before the check could name it.
    b = b.option(flag, { type: "string", requiresArg: true, describe: `${p.describe}; ${p.min} to ${p.max}` });
  }
  return b.example("$0 link lan --delay 50 --loss 1", "RTT +100 ms, 1% of pings lost").example("$0 link show", "").example("$0 link reset", "every link unimpaired");
}

type Args = ArgumentsCamelCase<ReturnType<typeof builder> extends Argv<infer T> ? T : never>;

export async function handler(argv: Args): Promise<void> {
  const [{ Lab }, impair, { requireRoot }] = await Promise.all([import("../lab.ts"), import("../../network/impair.ts"), import("../../network/state.ts")]);

  const given = LINK_FLAGS.filter((f) => (argv as Record<string, unknown>)[f] !== undefined);
  const lab = new Lab(argv.name);
  if (argv.target === "show" || argv.target === "reset") {
    if (given.length) throw new Error(`link ${argv.target} takes no --${given.join(", --")}. Fix: ./xdp-lab link LINK --${given[0]} ... to impair a link`);
    requireRoot(`xdp-lab link ${argv.target}`);
    if (argv.target === "reset") {
      const links = argv.link === undefined ? [...LINKS] : [impair.linkName(argv.link)];
      for (const l of links) await lab.impair(l, {});
      process.stdout.write(`lab ${argv.name}: ${links.join(", ")} unimpaired\n`);
      return;
    }
    const report = await lab.links();
    if (argv.json) {
      process.stdout.write(JSON.stringify(report, null, 2) + "\n");
      return;
    }
    for (const r of report) {
      const counts = Object.entries(r.relay?.counters ?? {})
        .map(([dir, c]) => `${dir}: ${c.received} in, ${c.sent} out, ${c.lost} lost, ${c.duplicated} duplicated, ${c.corrupted} corrupted, ${c.overlimit} over the limit`)
        .join("; ");
      const where = `toward the ${r.link === "uplink" ? "edge" : "VM"} ${r.devices.inward}, toward the host ${r.devices.outward}`;
      // Impaired with no relay: its filters steal the link's packets and nobody forwards them.
      const dead = !impair.unimpaired(r.impairment) && !r.relay ? "; RELAY NOT RUNNING: its packets are lost. Fix: ./xdp-lab link reset " + r.link + ", then set it again" : "";
      process.stdout.write(`${r.link}: ${impair.describeImpairment(r.impairment)}  (${where}${r.relay ? `; relay pid ${r.relay.pid}: ${counts || "no counters"}` : ""}${dead})\n`);
    }
    return;
  }
  const link = impair.linkName(argv.target);
  if (argv.link !== undefined) throw new Error(`link ${link} takes flags, not "${argv.link}". Fix: ./xdp-lab link ${link} --delay 50`);
  if (!given.length) throw new Error(`Nothing to set on ${link}. Fix: give --${LINK_FLAGS.join(", --")} (e.g. ./xdp-lab link ${link} --delay 50), or ./xdp-lab link reset ${link}`);
  const imp = impair.checkImpairment(Object.fromEntries(given.map((f) => [f, impair.parseValue(f, String((argv as Record<string, unknown>)[f]))])));
  requireRoot("xdp-lab link");
  await lab.impair(link, imp);
  process.stdout.write(`lab ${argv.name}: ${link} ${impair.describeImpairment(imp)}\n`);
}
