// xdp-tools' own test suites (xdp-loader, xdp-filter, xdpdump) as Debian ships them: the xdp-tests
// package, built from the same source as the installed xdp-tools and depending on exactly its
// version, holds upstream's `make install` layout of lib/testing (/usr/libexec/xdp-tools: the
// runner, its "installed" test_config.sh naming the tools from PATH, the test objects, test-tool and
// tests/TOOL/). They run in the guest under --guest-root host, where the host's packages are the
// guest's (test/system/guest-root.test.ts, bench/guest-root.ts).
import { XDP_TESTS_DIR } from "../build/packages.ts";

/** The suites, each a definition file the runner takes, and the binary it tests. */
export const SUITES = [
  { tool: "xdp-loader", file: "tests/xdp-loader/test-xdp-loader.sh" },
  { tool: "xdp-filter", file: "tests/xdp-filter/test-xdp-filter.sh" },
  { tool: "xdpdump", file: "tests/xdpdump/test-xdpdump.sh" },
] as const;

/**
 * The suites split for two guests side by side (each guest has its own namespaces, so the runner's
 * fixed names do not collide): xdp-filter's suite, mostly its own sleeps, takes about as long as the
 * other two together (541 s against 332 s in one TCG guest).
 */
export const SUITE_GROUPS: readonly (readonly string[])[] = [["xdp-filter"], ["xdp-loader", "xdpdump"]];

/**
 * The tests that skip here, each with why (named in the test's output and the README). Any other
 * SKIPPED is a failure of the lab: the kernel or the guest lacks what the test probes for.
 */
export const KNOWN_SKIPS: Record<string, string> = {
  test_python_basic: "needs the xdp_test_harness Python package (with pyroute2, scapy and bcc), which Debian does not ship and PyPI is not reachable here",
  test_python_slow: "needs the xdp_test_harness Python package (with pyroute2, scapy and bcc), which Debian does not ship and PyPI is not reachable here",
};

export type TestStatus = "PASS" | "SKIPPED" | "FAIL" | "INVALID";

/** The runner's per-test lines (`     [test_load]      PASS`) and whether it got to run at all. */
export function parseRunnerOutput(text: string): { started: boolean; tests: { name: string; status: TestStatus }[] } {
  const tests = [...text.matchAll(/^ {5}\[([A-Za-z0-9_]+)\] *(PASS|SKIPPED|FAIL|INVALID)\s*$/gm)].map((m) => ({ name: m[1]!, status: m[2] as TestStatus }));
  return { started: /^ {4}Running tests from /m.test(text), tests };
}

/**
 * The guest script that runs each suite in turn (the runner's netns and veth names are fixed: one
 * at a time), each framed so its output, status and wall time can be told apart; DIR is where the
 * suites are (Debian's xdp-tests), NAMES the suites to run (default all).
 */
export function suitesScript(dir = XDP_TESTS_DIR, names: readonly string[] = SUITES.map((s) => s.tool)): string {
  return [
    `cd ${dir}`,
    ...SUITES.filter((s) => names.includes(s.tool)).map(
      (s) => `echo "SUITE-BEGIN ${s.tool}"; t0=$(date +%s.%N); ./test_runner.sh ${dir}/${s.file} </dev/null 2>&1; rc=$?; echo "SUITE-END ${s.tool} rc=$rc seconds=$(awk "BEGIN { print $(date +%s.%N) - $t0 }")"`,
    ),
  ].join("\n");
}

/**
 * The `xdp-lab boot` argv that runs GROUP's suites (one of SUITE_GROUPS) in a host-root guest: the
 * system test and the benchmark run the same, OPTIONS (boot's) added. 1 GiB: the runner's captures
 * live in the guest's RAM.
 */
export function suiteBootArgs(group: readonly string[], options: string[] = []): string[] {
  return ["boot", "--guest-root", "host", "--memory", "1024", "--quiet", ...options, "--", suitesScript(undefined, group)];
}

export interface SuiteResult {
  tool: string;
  exitCode: number;
  seconds: number;
  started: boolean;
  tests: { name: string; status: TestStatus }[];
  output: string;
}

/** The framed output of suitesScript, suite by suite. */
export function parseSuites(text: string, names: readonly string[] = SUITES.map((s) => s.tool)): SuiteResult[] {
  return SUITES.filter((s) => names.includes(s.tool)).map((s) => {
    const m = new RegExp(`SUITE-BEGIN ${s.tool}\\n([\\s\\S]*?)SUITE-END ${s.tool} rc=(\\d+) seconds=([\\d.]+)`).exec(text);
    if (!m) return { tool: s.tool, exitCode: -1, seconds: 0, started: false, tests: [], output: "" };
    return { tool: s.tool, exitCode: Number(m[2]), seconds: Number(m[3]), ...parseRunnerOutput(m[1]!), output: m[1]! };
  });
}

/** A suite's tests by outcome: FAIL and INVALID (the runner's own error) both count as failed. */
export function outcomes(s: Pick<SuiteResult, "tests">): { passed: string[]; skipped: string[]; failed: string[] } {
  const named = (...st: TestStatus[]) => s.tests.filter((x) => st.includes(x.status)).map((x) => x.name);
  return { passed: named("PASS"), skipped: named("SKIPPED"), failed: named("FAIL", "INVALID") };
}
