// `xdp-lab demo`: the quick start's main job: build what is stale, bring the lab up, and show XDP
// passing and dropping real traffic between the client and the server; the lab stays up.
import type { ArgumentsCamelCase, Argv } from "yargs";
import { nameFlag } from "../../network/plan.ts";
import { DEFAULT_OUT, REPO } from "../paths.ts";
import { withAccel, withName } from "./lab-options.ts";

export const command = "demo";
export const describe = "Build (installing what is missing), bring the lab up and show pass and drop on real traffic";

export function builder(y: Argv) {
  return withAccel(withName(y));
}

type Args = ArgumentsCamelCase<ReturnType<typeof builder> extends Argv<infer T> ? T : never>;

const say = (m: string): void => void process.stdout.write(m + "\n");

export async function handler(argv: Args): Promise<void> {
  const [{ build }, { defaultCacheDir }, { DEFAULT_PARAMS }, { appStats, load, unload }, { withVm }, { Lab }, { reporter }] = await Promise.all([
    import("../build/executor.ts"),
    import("../build/cache.ts"),
    import("../build/stages.ts"),
    import("../../network/app-client.ts"),
    import("../../network/session.ts"),
    import("../lab.ts"),
    import("../ui/report.ts"),
  ]);
  const name = argv.name;
  const n = nameFlag(name);
  const lab = new Lab(name);
  await build({ repo: REPO, out: DEFAULT_OUT, cacheDir: defaultCacheDir(), params: DEFAULT_PARAMS, report: reporter("human") });
  if (await lab.isUp()) {
    say(`\nlab ${name} is already up: using it`);
  } else {
    const r = await lab.up({ out: DEFAULT_OUT, accel: argv.accel, log: (l) => process.stderr.write(l + "\n") });
    say(`\nlab ${name} up in ${(r.state.upSeconds ?? 0).toFixed(1)} s under ${r.accel.accel.toUpperCase()} (${r.accel.why}): client -- ${lab.plan.links.lan.bridge} -- [xdp VM] -- ${lab.plan.links.wan.bridge} -- server, internet behind NAT`);
  }
  const client = await lab.host("client");

  const ping = async (what: string, count: number): Promise<void> => {
    const r = await client.exec(["busybox", "ping", "-c", String(count), "-W", "1", "-i", "0.2", "server"]);
    const summary = /(\d+) packets transmitted, (\d+) packets received/.exec(r.stdout);
    say(`  client$ ping -c ${count} server   -> ${summary ? `${summary[2]}/${summary[1]} replies` : r.stdout.trim()}  (${what})`);
  };
  const counters = async (): Promise<string> => {
    const p = (await withVm(name, appStats)).programs[0];
    return p ? `${p.program} (${p.mode}): pass ${p.verdicts.pass?.packets}, drop ${p.verdicts.drop?.packets}` : "no program";
  };

  say("\n1. no XDP program on the VM's LAN port");
  await ping("routed by the VM", 3);
  const web = await client.exec(["curl", "-sS", "http://server/"]);
  say(`  client$ curl http://server/  -> ${web.stdout.trim()}`);
  const nat = await client.exec(["curl", "-sS", "http://internet/cgi-bin/ip"]);
  say(`  client$ curl http://internet/cgi-bin/ip  -> the internet sees ${nat.stdout.trim()} (NAT)`);

  say("\n2. ./xdp-lab load out/pass.bpf.o   (counts and passes)");
  let a = await load(name, `${DEFAULT_OUT}/pass.bpf.o`, { iface: "lan", mode: "native" });
  say(`  attached in ${a.result.mode} mode`);
  await ping("passes", 5);
  say(`  counters: ${await counters()}`);

  say("\n3. ./xdp-lab load out/drop.bpf.o   (replaces pass, no reboot)");
  a = await load(name, `${DEFAULT_OUT}/drop.bpf.o`, { iface: "lan", mode: "native" });
  say(`  attached in ${a.result.mode} mode`);
  await ping("dropped at the LAN port", 3);
  say(`  counters: ${await counters()}`);

  say("\n4. detached again");
  await unload(name, "lan");
  await ping("flows again", 2);

  say(
    `\nThe lab stays up. Next:\n` +
      `  ./xdp-lab tmux${n}                         a shell here; the VM, the server and the client beside it\n` +
      `  ./xdp-lab ssh${n}                          a shell in the VM (xdp-lab-app ctl help, bpftool, nft)\n` +
      `  ./xdp-lab exec client${n} -- ping server   run anything on vm, client, server or internet\n` +
      `  ./xdp-lab load out/firewall.bpf.o${n}      attach your own program; ./xdp-lab status${n} shows its counters\n` +
      `  ./xdp-lab down${n}                         remove the lab\n` +
      `  npm test                               the test suite`,
  );
}
