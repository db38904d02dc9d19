// The host-guest contract: the guest's side (rootfs/init, rootfs/etc/xdp-lab/rc.d/*, app/protocol.h)
// read as text and checked against network/contract.ts, so a change on one side alone fails here.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { APP_LUA_BUDGET_MS, APP_RESULT_FIELDS, CMDLINE, GUEST_APP_LOG, GUEST_CONTROL, GUEST_MODULES, GUEST_ROOT_TAG, GUEST_NICS, LAB_ENV, LAB_ENV_KEYS, MARKERS, parseAnswer } from "../../network/contract.ts";
import { guestEnv } from "../../network/plan.ts";
import { overlay } from "../../network/guest.ts";
import { guestRootArgs } from "../../network/vm/qemu.ts";
import { appStartScript } from "../../network/vm-reset.ts";
import { REPO } from "../../src/paths.ts";

const t = suite("host-guest contract");
const read = (p: string): string => readFileSync(join(REPO, p), "utf8");
const init = read("rootfs/init");
const rcDir = "rootfs/etc/xdp-lab/rc.d";
const rc = readdirSync(join(REPO, rcDir)).map((f) => read(join(rcDir, f))).join("\n");
const protocol = read("app/protocol.h");

/** The text an `echo "..."` line of a script prints, with its shell variables given values. */
function echoed(script: string, marker: string, vars: Record<string, string>): string {
  const line = script.split("\n").find((l) => l.includes(marker) && /\becho\b/.test(l));
  assert.ok(line, `no echo of ${marker} in the script`);
  const text = /echo "([^"]*)"/.exec(line!)?.[1] ?? "";
  return text.replace(/\$(\w+|\?)/g, (_, v: string) => vars[v] ?? `<unset ${v}>`);
}

t("rootfs/init prints the markers the host waits for", () => {
  const ready = MARKERS.ready.exec(echoed(init, "XDP-LAB-READY", { up: "1.23" }));
  assert.is(ready?.[1], "1.23");
  assert.is(echoed(init, "CMD-BEGIN", {}), MARKERS.begin);
  assert.is(MARKERS.end.exec(echoed(init, "CMD-END", { "?": "7" }))?.[1], "7");
});

t("rootfs/init reads exactly the kernel command-line keys the host writes", () => {
  const read = [...init.matchAll(/\b(xdplab\.\w+)=\*\)/g)].map((m) => m[1]).sort();
  assert.equal(read, Object.values(CMDLINE).sort());
});

t("rootfs/init loads the modules a stock kernel's archive lists, only when the list is there, before it configures the network", () => {
  assert.ok(init.includes(`[ -r ${GUEST_MODULES} ]; then`), `init does not test for ${GUEST_MODULES}`);
  assert.ok(init.includes(`done <${GUEST_MODULES}`), `init does not read ${GUEST_MODULES}`);
  assert.ok(init.indexOf(GUEST_MODULES) < init.indexOf("ip link set lo up"), "modules load after the network is touched");
});

t("--guest-root host: init mounts the tag qemu exports, copies every file of the lab's overlay into the new root, then runs itself there", () => {
  assert.ok(init.includes(` ${GUEST_ROOT_TAG} `), `init does not mount the 9p tag ${GUEST_ROOT_TAG}`);
  assert.ok(guestRootArgs("host").join(" ").includes(`mount_tag=${GUEST_ROOT_TAG}`));
  assert.ok(guestRootArgs("host").join(" ").includes("path=/,") && guestRootArgs("host").join(" ").includes("readonly=on"), "the host's / read-only");
  const copied = /for f in ([^;]+); do/.exec(init.slice(init.indexOf(GUEST_ROOT_TAG)))?.[1]?.split(" ") ?? [];
  // What `up` puts on top of the initramfs (keys, lab.env, hosts) must reach the host root too.
  const tops = [...new Set(overlay("ssh-ed25519 AAAA x", Buffer.from("k")).filter((e) => e.content !== undefined).map((e) => "/" + e.path.split("/").slice(0, 2).join("/")))];
  for (const p of tops) assert.ok(copied.some((c) => p === c || p.startsWith(c + "/")), `${p} (from the lab's overlay) is not copied into the host root: ${copied.join(" ")}`);
  for (const p of ["/usr/lib/xdp-lab", "/usr/bin/xdp-lab-app"]) assert.ok(copied.includes(p), `${p} is not copied`);
  assert.match(init, /exec chroot "\$new" \/usr\/bin\/env XDP_LAB_STAGE2=1 \/bin\/sh \/usr\/lib\/xdp-lab\/init/);
  // The second stage loads no modules twice and powers off with busybox's applet, not the host's systemd.
  assert.match(init, /\$BB poweroff -f/);
});

t("rc.d reads the lab.env the host writes: the same path and exactly the same variables", () => {
  assert.ok(rc.includes(`env=${LAB_ENV}`), `rc.d does not read ${LAB_ENV}`);
  const used = [...new Set([...rc.matchAll(/\$\{?(LAB_[A-Z0-9_]+)/g)].map((m) => m[1]))].sort();
  assert.equal(used, [...LAB_ENV_KEYS].sort());
  const written = guestEnv().trim().split("\n").map((l) => l.split("=")[0]).sort();
  assert.equal(written, [...LAB_ENV_KEYS].sort());
});

t("rc.d names each NIC by the MAC variable the host sets for it", () => {
  for (const nic of GUEST_NICS) assert.ok(rc.includes(`nic "$${nic.macKey}" ${nic.name}`), `rc.d does not name ${nic.name} from $${nic.macKey}`);
  assert.match(guestEnv(), new RegExp(`^${GUEST_NICS[0].macKey}=${GUEST_NICS[0].mac}$`, "m"));
});

t("the app's socket and log are where the host looks for them", () => {
  assert.is(/#define XDP_LAB_CONTROL_DEFAULT "([^"]+)"/.exec(protocol)?.[1], GUEST_CONTROL);
  assert.match(guestEnv(), new RegExp(`^LAB_CONTROL=${GUEST_CONTROL}$`, "m"));
  assert.ok(rc.includes(`--control "$LAB_CONTROL"`), "rc.d does not start the app on $LAB_CONTROL");
  assert.ok(rc.includes(`>${GUEST_APP_LOG}`), `rc.d does not log the app to ${GUEST_APP_LOG}`);
});

/** Each command's result fields as app/protocol.h describes them ("name {a, b: ..., c?: ...}"). */
function protocolResults(header: string): Record<string, string[]> {
  const from = header.indexOf("Results:");
  const text = header.slice(from, header.indexOf("*/", from)).replace(/^\s*\*\s?/gm, " ");
  const out: Record<string, string[]> = {};
  const re = /((?:[a-z][a-z-]*)(?:, [a-z][a-z-]*)*)\s+\{/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    // The braces' content, to the matching close.
    let depth = 1;
    let i = m.index + m[0].length;
    const start = i;
    for (; i < text.length && depth > 0; i++) depth += text[i] === "{" || text[i] === "[" ? 1 : text[i] === "}" || text[i] === "]" ? -1 : 0;
    const body = text.slice(start, i - 1);
    const fields: string[] = [];
    let level = 0;
    let part = "";
    for (const ch of body + ",") {
      if (ch === "{" || ch === "[") level++;
      if (ch === "}" || ch === "]") level--;
      if (ch === "," && level === 0) {
        const name = /^\s*([a-z_]+)/.exec(part)?.[1];
        if (name) fields.push(name);
        part = "";
      } else part += ch;
    }
    for (const name of m[1]!.split(", ")) out[name] = fields;
    re.lastIndex = i;
  }
  return out;
}

t("app/protocol.h describes every command's result with the fields the host's types read", () => {
  const described = protocolResults(protocol);
  assert.equal(Object.keys(described).sort(), Object.keys(APP_RESULT_FIELDS).sort(), "commands described in protocol.h");
  for (const [command, fields] of Object.entries(APP_RESULT_FIELDS)) assert.equal(described[command], fields, command);
});

t("answers are parsed into typed values, and a malformed one names what is wrong", () => {
  const ok = parseAnswer('{"ok":true,"command":"echo","result":{"text":"hi","seq":1,"rtt_us":40},"output":"echo hi"}', "echo");
  assert.ok(ok.ok && ok.result.text === "hi" && ok.result.seq === 1);
  const refused = parseAnswer('{"ok":false,"command":"load","error":"Failed to open x","output":""}', "load");
  assert.equal(refused, { ok: false, command: "load", error: "Failed to open x", output: "" });
  assert.throws(() => parseAnswer("Segmentation fault", "stats"), /answer to "stats" is not JSON/);
  assert.throws(() => parseAnswer('{"ok":true,"command":"unload","result":{}}', "stats"), /answered "unload" to "stats"/);
});

t("the app's Lua budget default is the one the reset puts back (app/parse.c)", () => {
  assert.is(Number(/\.lua_budget_ms = (\d+)/.exec(read("app/parse.c"))?.[1]), APP_LUA_BUDGET_MS);
});

t("the reset starts the app again as rc.d/50-lab starts it (its log appended to)", () => {
  const first = appStartScript().split("\n")[0]!;
  assert.ok(rc.includes(first.replace(`--control ${GUEST_CONTROL}`, '--control "$LAB_CONTROL"').replace(">>", ">")), first);
});

t.run();
