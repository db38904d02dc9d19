// Reading xdp-tools' runner output (lib/testing/test_runner.sh, as Debian's xdp-tests ships it).
import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { XDP_TESTS_DIR } from "../../src/build/packages.ts";
import { parseRunnerOutput, parseSuites, SUITES, suitesScript } from "../../src/testing/xdp-tools-suites.ts";

const t = suite("xdp-tools suites");

const loader = `    Running tests from /usr/libexec/xdp-tools/tests/xdp-loader/test-xdp-loader.sh
     [test_load]                   PASS
     [test_section]                PASS
     [test_load_multi]             SKIPPED
     [test_load_clobber]           FAIL
          Error: something
          Test test_load_clobber exited with return code: 1
`;

t("per-test lines: PASS, SKIPPED and FAIL counted, the indented output of a failure not taken for a test", () => {
  const r = parseRunnerOutput(loader);
  assert.ok(r.started);
  assert.equal(r.tests, [
    { name: "test_load", status: "PASS" },
    { name: "test_section", status: "PASS" },
    { name: "test_load_multi", status: "SKIPPED" },
    { name: "test_load_clobber", status: "FAIL" },
  ]);
  assert.not.ok(parseRunnerOutput("Missing required tool: tshark\nEnvironment for xdptest doesn't seem to exist\n").started, "a runner that died before its tests never started");
});

t("the guest script frames each suite; parseSuites reads each one's status, time and tests; a suite that never ran is reported so", () => {
  const script = suitesScript();
  for (const s of SUITES) assert.ok(script.includes(`./test_runner.sh ${XDP_TESTS_DIR}/${s.file}`), s.tool);
  assert.ok(script.startsWith(`cd ${XDP_TESTS_DIR}`));
  const out = `SUITE-BEGIN xdp-loader\n${loader}SUITE-END xdp-loader rc=1 seconds=3.5\nSUITE-BEGIN xdp-filter\n    Running tests from x\n     [test_ping]   PASS\nSUITE-END xdp-filter rc=0 seconds=120.25\n`;
  const r = parseSuites(out);
  assert.equal(r.map((s) => [s.tool, s.exitCode, s.seconds, s.tests.length]), [
    ["xdp-loader", 1, 3.5, 4],
    ["xdp-filter", 0, 120.25, 1],
    ["xdpdump", -1, 0, 0],
  ]);
  assert.not.ok(r[2]!.started);
  assert.equal(parseSuites(out, ["xdp-filter"]).map((s) => s.tool), ["xdp-filter"]);
  assert.not.ok(suitesScript(XDP_TESTS_DIR, ["xdpdump"]).includes("xdp-loader"));
});

t.run();
