// Lab.reset's guest side (network/vm-reset.ts): the script it runs in the VM and what it makes of the answer.
import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { APP_LUA_BUDGET_MS } from "../../network/contract.ts";
import { appStartScript, offScript, parseReset, resetScript } from "../../network/vm-reset.ts";
import { cleanCheck } from "../../src/lab.ts";

const t = suite("lab/reset");

t("the reset script: the app started again if it does not answer, unloads each port, its script and budget put back, pins removed, then one bpftool net lists what the kernel still has", () => {
  const s = resetScript();
  const ctl = "xdp-lab-app ctl --control /run/xdp-lab-app.sock";
  assert.is(
    s,
    `if ! ${ctl} help >/dev/null 2>&1; then echo "@@restarted"; (\n${appStartScript()}\n) || exit 1; fi; ` +
      `echo "@@unload lan0"; ${ctl} unload lan0 2>&1; ` +
      `echo "@@unload wan0"; ${ctl} unload wan0 2>&1; ` +
      `echo "@@ctl lua-unload"; ${ctl} lua-unload 2>&1; ` +
      `echo "@@ctl lua-budget ${APP_LUA_BUDGET_MS}"; ${ctl} lua-budget ${APP_LUA_BUDGET_MS} 2>&1; ` +
      'for p in /sys/fs/bpf/* /sys/fs/bpf/.[!.]*; do if [ -e "$p" ]; then rm -rf /sys/fs/bpf/* /sys/fs/bpf/.[!.]*; break; fi; done; ' +
      'echo "@@pins"; for p in /sys/fs/bpf/* /sys/fs/bpf/.[!.]*; do if [ -e "$p" ]; then echo "$p"; fi; done; ' +
      'echo "@@net"; bpftool -j net show',
  );
  const off = offScript(["wan0"], ["lan0"]);
  assert.ok(off.startsWith("tc qdisc del dev lan0 clsact 2>/dev/null; true; xdp-filter unload wan0 >/dev/null 2>&1; xdp-loader unload --all wan0"), off);
  assert.match(off, /ip link set dev wan0 xdpgeneric off 2>\/dev\/null; ip link set dev wan0 xdpdrv off 2>\/dev\/null; true; for p in .*; done; echo "@@pins"; .*; done; echo "@@net"; bpftool -j net show$/);
  assert.not.match(offScript(["wan0"]), /tc qdisc/);
});

t("what bpffs still holds after the reset is listed, and the clean check names it beside what stayed attached", () => {
  const r = parseReset(`${none("lan0")}@@pins\n/sys/fs/bpf/pkt_count\n/sys/fs/bpf/xdp\n${net([{ devname: "lan0", ifindex: 2, id: 7, name: "xdp_count", mode: "driver" }])}`);
  assert.equal(r.pinned, ["/sys/fs/bpf/pkt_count", "/sys/fs/bpf/xdp"]);
  assert.is(
    cleanCheck(r.attached!, r.pinned),
    "the lab is not clean after the reset: xdp_count (id 7) on lan0 xdp stayed attached; /sys/fs/bpf/pkt_count, /sys/fs/bpf/xdp stayed pinned (a bpf_link, a pin or a process an earlier test's command left?): detach and unpin it in that test's last command",
  );
  assert.is(cleanCheck([], []), undefined);
  // No listing is no proof of a clean bpffs.
  assert.match(cleanCheck([], parseReset(none("lan0") + net()).pinned)!, /bpffs was not listed/);
});

const net = (xdp: unknown[] = [], tc: unknown[] = []) => `@@net\n${JSON.stringify([{ xdp, tc, flow_dissector: [] }])}\n`;
const unloaded = (port: string) => `@@unload ${port}\n{"ok":true,"command":"unload","result":{"iface":"${port}"},"output":"unloaded ${port}\\n"}\n`;
const none = (port: string) => `@@unload ${port}\n{"ok":false,"command":"unload","error":"no program attached to '${port}'","output":"error: no program attached to '${port}'\\n"}\n`;

t("what the app detached, and a clean kernel list", () => {
  assert.equal(parseReset(unloaded("lan0") + none("wan0") + "@@pins\n" + net()), { detached: ["lan0"], refused: [], restarted: false, attached: [], pinned: [] });
});

t("what the kernel still has on the ports (XDP and tc), other devices ignored", () => {
  const r = parseReset(
    none("lan0") +
      none("wan0") +
      net(
        [
          { devname: "wan0", ifindex: 3, mode: "generic", id: 14, name: "xdp_pass" },
          { devname: "lo", ifindex: 1, mode: "generic", id: 9 },
        ],
        [{ devname: "lan0", ifindex: 2, kind: "clsact/ingress", name: "tc_count", id: 20 }],
      ),
  );
  assert.equal(r.detached, []);
  assert.equal(r.attached, [
    { port: "wan0", hook: "xdp", what: "xdp_pass (id 14) on wan0 xdp" },
    { port: "lan0", hook: "tc", what: "tc_count (id 20) on lan0 clsact/ingress" },
  ]);
});

t("the app refusing for another reason is a refusal; no kernel list is undefined", () => {
  const r = parseReset('@@unload lan0\n{"ok":false,"command":"unload","error":"netlink: device busy"}\n');
  assert.equal(r.refused, ["the app would not detach the program on lan0: netlink: device busy"]);
  assert.is(r.attached, undefined);
  assert.is(parseReset(unloaded("lan0") + "@@net\nError: bpftool died\n").attached, undefined);
});

t("an app started again is said; its refusal of lua-unload or lua-budget is a refusal", () => {
  const r = parseReset(`@@restarted\n${none("lan0")}${none("wan0")}@@ctl lua-unload\n{"ok":true,"command":"lua-unload","result":{}}\n@@ctl lua-budget 50\n{"ok":false,"command":"lua-budget","error":"out of range"}\n${net()}`);
  assert.is(r.restarted, true);
  assert.equal(r.refused, ["the app refused lua-budget 50: out of range"]);
  assert.equal(r.attached, []);
});

t.run();
