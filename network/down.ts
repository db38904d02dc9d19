// `down`: removes everything a lab created; idempotent, and works from the name alone.
import { existsSync } from "node:fs";
import { readFile, rm, rmdir, writeFile } from "node:fs/promises";
import { ip, namespacePids, namespaces } from "../src/tools/ip.ts";
import { deleteHostTable } from "../src/tools/nft.ts";
import { killSession } from "./tmux.ts";
import { NAMESPACE_ROLES, NETNS_ETC, RUN_DIR, labPlan } from "./plan.ts";
import { pidAlive, readPid, readState } from "./state.ts";
import { sweepHosts } from "./hosts/index.ts";

/** Removes everything a lab created; idempotent, and works from the name alone. */
export async function down(name: string): Promise<string[]> {
  const plan = labPlan(name);
  const state = await readState(plan);
  const removed: string[] = [];
  await killSession(plan.tmux);
  // What the host kinds run first (containers, found by their label, so also after a kill -9 of
  // `up`): killing the processes in their namespaces would leave podman dead containers to clean.
  removed.push(...(await sweepHosts(name)));
  const present = new Set(await namespaces().catch(() => [] as string[]));
  // Every process in the lab's namespaces (qemu, web servers, relays), then qemu by its pidfile.
  const pids = new Set<number>();
  for (const role of NAMESPACE_ROLES) if (present.has(plan.ns[role])) for (const p of await namespacePids(plan.ns[role])) pids.add(p);
  const pid = await readPid(plan);
  if (pid && (await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "")).includes(plan.dir)) pids.add(pid);
  for (const p of pids) {
    try {
      process.kill(p, "SIGKILL");
      removed.push(`process ${p}`);
    } catch {
      // already gone
    }
  }
  for (let i = 0; i < 100 && [...pids].some(pidAlive); i++) await new Promise((r) => setTimeout(r, 10));
  for (const role of NAMESPACE_ROLES) {
    if (present.has(plan.ns[role])) {
      await ip(undefined, "netns", "del", plan.ns[role]);
      removed.push(`namespace ${plan.ns[role]}`);
    }
    const etc = `${NETNS_ETC}/${plan.ns[role]}`;
    if (existsSync(etc)) {
      await rm(etc, { recursive: true, force: true });
      removed.push(etc);
    }
  }
  if (state?.uplink !== undefined) {
    await deleteHostTable("ip", plan.uplink.table);
    if (existsSync(`/sys/class/net/${plan.uplink.hostVeth}`)) await ip(undefined, "link", "del", plan.uplink.hostVeth);
    if (state.hostForwardBefore !== undefined) await writeFile("/proc/sys/net/ipv4/ip_forward", state.hostForwardBefore);
    removed.push(`uplink through ${state.uplink}`);
  }
  if (existsSync(plan.dir)) {
    await rm(plan.dir, { recursive: true, force: true });
    removed.push(plan.dir);
  }
  // The parents too, once no lab uses them (rmdir refuses a directory that is not empty).
  for (const dir of [RUN_DIR, NETNS_ETC]) await rmdir(dir).catch(() => undefined);
  return removed;
}
