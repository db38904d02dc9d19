// The Lab handle's reset, its guest side: the script it runs in the VM and what it makes of the answer.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { offScript, parseReset, resetScript } from "../src/lab.ts";

const t = suite("lab/reset");

t("the reset script: the app unloads each port, then one bpftool net lists what the kernel still has", () => {
  const s = resetScript();
  assert.is(
    s,
    'echo "@@unload lan0"; xdp-lab-app ctl --control /run/xdp-lab-app.sock unload lan0 2>&1; ' +
      'echo "@@unload wan0"; xdp-lab-app ctl --control /run/xdp-lab-app.sock unload wan0 2>&1; ' +
      'echo "@@net"; bpftool -j net show',
  );
  assert.is(offScript(["wan0"]), 'ip link set dev wan0 xdp off 2>/dev/null; ip link set dev wan0 xdpgeneric off 2>/dev/null; echo "@@net"; bpftool -j net show');
});

const net = (xdp: unknown[] = [], tc: unknown[] = []) => `@@net\n${JSON.stringify([{ xdp, tc, flow_dissector: [] }])}\n`;
const unloaded = (port: string) => `@@unload ${port}\n{"ok":true,"command":"unload","result":{"iface":"${port}"},"output":"unloaded ${port}\\n"}\n`;
const none = (port: string) => `@@unload ${port}\n{"ok":false,"command":"unload","error":"no program attached to '${port}'","output":"error: no program attached to '${port}'\\n"}\n`;

t("what the app detached, and a clean kernel list", () => {
  assert.equal(parseReset(unloaded("lan0") + none("wan0") + net()), { detached: ["lan0"], refused: [], attached: [] });
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

t.run();
