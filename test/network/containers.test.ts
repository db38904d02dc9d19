import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { LAB_LABEL, execArgs, runArgs } from "../../network/containers.ts";
import { PODMAN_GLOBAL, RUN_LIMITS } from "../../src/tools/podman.ts";
import * as build from "../../src/tools/podman.ts";
import { labPlan } from "../../network/plan.ts";
import { containerHosts } from "../../src/commands/up.ts";
import { layout } from "../../src/commands/tmux.ts";

const t = suite("network/podman");
const GLOBAL = ["--runtime", "runc", "--cgroup-manager=cgroupfs", "--events-backend=file"];
const plan = labPlan("pd");

t("a host's container: the machine's podman options, the lab's label, the host's namespace, the limits, NET_RAW, and a shell waiting as PID 1", () => {
  const argv = runArgs({
    name: plan.hosts.client.container!,
    lab: "pd",
    image: "localhost/img:1",
    hostname: "client",
    ns: plan.ns.client,
    mounts: [{ host: "/etc/netns/xl-pd-client/hosts", guest: "/etc/hosts", readOnly: true }],
    caps: ["NET_RAW"],
  });
  assert.equal(argv.slice(0, 4), GLOBAL);
  const s = argv.join(" ");
  assert.match(s, / run -d --name xl-pd-client /);
  assert.match(s, new RegExp(` --label ${LAB_LABEL}=pd `));
  // Joining the namespace `up` made keeps its addresses, static neighbours and counters.
  assert.match(s, / --network ns:\/run\/netns\/xl-pd-client /);
  assert.match(s, / --ulimit nofile=20000:20000 --ulimit nproc=20000:20000 /);
  assert.match(s, / --cap-add NET_RAW /);
  assert.not.match(s, /NET_ADMIN|--privileged/);
  assert.match(s, / -v \/etc\/netns\/xl-pd-client\/hosts:\/etc\/hosts:ro /);
  assert.match(s, / --entrypoint sh localhost\/img:1 -c exec sleep 2147483647$/);
});

t("the lab's podman options and limits are the build's", () => {
  assert.equal(PODMAN_GLOBAL, build.PODMAN_GLOBAL);
  assert.equal(RUN_LIMITS, build.RUN_LIMITS);
});

t("exec: -i only with input, -t only for a terminal", () => {
  assert.equal(execArgs("c", ["true"]), [...GLOBAL, "exec", "c", "true"]);
  assert.equal(execArgs("c", ["cat"], { stdin: true }), [...GLOBAL, "exec", "-i", "c", "cat"]);
  assert.equal(execArgs("c", ["sh"], { stdin: true, tty: true }), [...GLOBAL, "exec", "-i", "-t", "c", "sh"]);
});

t("--hosts podman makes both containers; an image alone makes that host one (a mixed lab)", () => {
  assert.equal(containerHosts("netns"), {});
  assert.equal(containerHosts("podman"), { client: { kind: "podman", image: undefined }, server: { kind: "podman", image: undefined } });
  assert.equal(containerHosts("netns", undefined, "nginx:1"), { server: { kind: "podman", image: "nginx:1" } });
});

t("tmux: a container host's pane is a shell in its container", () => {
  const l = layout(plan, "xl", { server: "podman exec -i -t xl-pd-server sh" });
  assert.ok(l.some((c) => c.includes("podman exec -i -t xl-pd-server sh")));
  assert.ok(l.some((c) => c.includes(`ip netns exec ${plan.ns.client} bash`)));
});

t.run();
