// Reads an iperf3 client's JSON answer into a measurement, or fails in iperf3's own words. iperf3
// 3.11 and 3.12 (Debian's) exit 0 with --json even when the test failed (esnet/iperf#1405), so the
// JSON's "error" is what says it. Nothing is tried again: the two errors that once were ("the server
// is busy running a test" and "unable to receive control message: Connection reset by peer") came
// from one server shared between runs, met by the next client while it still ended the last test or
// while it closed its listener to open another; each run now has a server of its own, started and
// ended around it on events (withIperf3Server in src/testing/flows.ts), so either is a failure.
import { parseIperf3, type Answer, type Iperf3Result } from "./flows.ts";

/** A's iperf3 client measurement; throws `iperf3 WHAT: <iperf3's error>` (and what it said on stderr) when it has none. */
export function iperf3Result(a: Answer, what: string): Iperf3Result {
  const m = parseIperf3(a.stdout);
  if (!("error" in m) && a.code === 0) return m;
  const stderr = a.stderr.trim();
  throw new Error(`iperf3 ${what}: ${"error" in m ? m.error : `exit ${a.code}`}${stderr ? ` (${stderr})` : ""}`);
}
