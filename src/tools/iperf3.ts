// Runs an iperf3 client whose JSON answer is what counts. iperf3 3.11 and 3.12 (Debian's) exit 0
// with --json even when the test failed (esnet/iperf#1405), so the JSON's "error" is what says it;
// a daemon server (iperf3 -s -D) still closing its last test answers the next client "the server is
// busy running a test"; and a control connection reset or closed under the client (esnet/iperf#499
// and #1683: the server closing a socket it has not read to the end) ends a run before it says
// anything of the path. Those are worth another try, not a failure; any other error is one.
import { parseIperf3, type Iperf3Result } from "../testing/flows.ts";

export interface Ran {
  stdout: string;
  stderr: string;
  exitCode?: number;
}

/** How many times a busy server is tried, a second apart. */
export const BUSY_TRIES = 5;

/** iperf3's errors that say nothing of the path measured: tried again. */
const AGAIN = /busy|unable to (receive|send) control message.*(reset by peer|broken pipe)|control socket has closed unexpectedly/i;

/** RUN's iperf3 client measured, trying again while the server is busy or the control connection was reset; throws iperf3's own error otherwise. */
export async function measureIperf3(run: () => Promise<Ran>, what: string, tries = BUSY_TRIES): Promise<Iperf3Result> {
  for (let attempt = 1; ; attempt++) {
    const r = await run();
    const m = parseIperf3(r.stdout);
    if (!("error" in m) && r.exitCode === 0) return m;
    const error = "error" in m ? m.error : `exit ${r.exitCode}: ${r.stderr.trim()}`;
    if (!AGAIN.test(error) || attempt >= tries) throw new Error(`iperf3 ${what}: ${error}${attempt > 1 ? ` (tried ${attempt} times)` : ""}`);
    await new Promise((res) => setTimeout(res, 1000));
  }
}
