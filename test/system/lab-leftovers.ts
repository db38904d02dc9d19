// What a lab may leave behind, looked for everywhere `up` creates something: the system tests
// assert this list is empty after `down`.
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { execa } from "execa";
import { namespaces } from "../../src/tools/ip.ts";
import { GUEST_NICS } from "../../network/contract.ts";
import { labContainers } from "../../network/containers.ts";
import { labPlan, NAMESPACE_ROLES, NETNS_ETC } from "../../network/plan.ts";

/** Link names the lab creates inside its namespaces (the same in every lab): none may appear in the host's namespace. */
const LAB_LINKS = new Set([
  ...GUEST_NICS.map((n) => n.tap),
  ...Object.values(labPlan("x").links).flatMap((l) => [l.bridge, l.inward, l.outward].filter((d): d is string => d !== undefined)),
]);

export async function leftovers(name: string): Promise<string[]> {
  const plan = labPlan(name);
  const found: string[] = [];
  const ns = new Set(await namespaces());
  for (const role of NAMESPACE_ROLES) {
    if (ns.has(plan.ns[role])) found.push(`namespace ${plan.ns[role]}`);
    if (existsSync(`${NETNS_ETC}/${plan.ns[role]}`)) found.push(`${NETNS_ETC}/${plan.ns[role]}`);
  }
  const links = JSON.parse((await execa("ip", ["-j", "link", "show"])).stdout) as { ifname: string }[];
  for (const l of links) if (LAB_LINKS.has(l.ifname) || l.ifname === plan.uplink.hostVeth) found.push(`host link ${l.ifname}`);
  for (const pid of await readdir("/proc")) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    const cmdline = (await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "")).replace(/\0/g, " ");
    if (cmdline.includes(`${plan.dir}/`) || Object.values(plan.ns).some((n) => cmdline.includes(` ${n} `))) found.push(`process ${pid}: ${cmdline.slice(0, 120)}`);
  }
  const tables = (await execa("nft", ["list", "tables"], { reject: false })).stdout;
  if (tables.includes(plan.uplink.table)) found.push(`nft table ${plan.uplink.table}`);
  for (const c of await labContainers(name)) found.push(`container ${c}`);
  if (existsSync(plan.dir)) found.push(plan.dir);
  if ((await execa("tmux", ["has-session", "-t", plan.tmux], { reject: false })).exitCode === 0) found.push(`tmux session ${plan.tmux}`);
  return found;
}
