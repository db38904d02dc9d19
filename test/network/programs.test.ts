// Attached programs from the VM's `ip -d link` and bpftool output, captured from a lab.
import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { attachedPrograms, sections, programsScript } from "../../network/programs.ts";

const t = suite("attached programs");

const output = [
  "@@xdp-lab-section stats",
  "[1]",
  "@@xdp-lab-section links",
  JSON.stringify([
    { ifname: "lo" },
    { ifname: "lan0", xdp: { mode: 1, prog: { id: 4 }, attached: [{ mode: 1, prog: { id: 4 } }] } },
    { ifname: "wan0", xdp: { mode: 2, prog: { id: 8 } } },
  ]),
  "@@xdp-lab-section progs",
  JSON.stringify([
    { id: 4, name: "xdp_drop", tag: "02d8081970209794", map_ids: [1], run_cnt: 53, run_time_ns: 371159 },
    { id: 8, name: "xdp_pass", tag: "e041834bbd75bf57", map_ids: [2] },
    { id: 9, name: "tc_count", tag: "aaaaaaaaaaaaaaaa", map_ids: [], run_cnt: 2, run_time_ns: 100 },
  ]),
  "@@xdp-lab-section maps",
  JSON.stringify([
    { id: 1, name: "stats", type: "percpu_array", max_entries: 5 },
    { id: 2, name: "stats", type: "percpu_array", max_entries: 5 },
  ]),
  "@@xdp-lab-section net",
  JSON.stringify([{ xdp: [], tc: [{ devname: "wan0", ifindex: 3, kind: "clsact/egress", name: "tc_count.bpf.o:[tc]", id: 9 }] }]),
].join("\n");

t("XDP from ip link (native, generic), tc from bpftool net, with names, tags, maps and ns per run", () => {
  const p = attachedPrograms(sections(output));
  assert.equal(
    p.map((x) => [x.iface, x.hook, x.mode, x.id, x.name, x.runCount, x.nsPerRun]),
    [
      ["lan0", "xdp", "native", 4, "xdp_drop", 53, 7003],
      ["wan0", "xdp", "generic", 8, "xdp_pass", 0, 0],
      ["wan0", "tc/egress", undefined, 9, "tc_count", 2, 50],
    ],
  );
  assert.equal(p[0]!.maps, [{ id: 1, name: "stats", type: "percpu_array", entries: 5 }]);
});

t("a section bpftool could not give (no netns in the kernel) is left out; without statistics no run counts", () => {
  const noNet = output.replace(/@@xdp-lab-section net\n.*$/s, '@@xdp-lab-section net\n{"error":"can\'t open /proc/self/ns/net"}').replace("[1]", "[0]");
  const p = attachedPrograms(sections(noNet));
  assert.equal(p.map((x) => x.iface + " " + x.hook), ["lan0 xdp", "wan0 xdp"]);
  assert.is(p[1]!.runCount, undefined);
});

t("the script prints every section", () => {
  for (const s of ["stats", "links", "progs", "maps", "net"]) assert.ok(programsScript().includes(`@@xdp-lab-section ${s}`));
});

t.run();
