import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { measureIperf3 } from "../../src/tools/iperf3.ts";
import { failure } from "../helpers.ts";

const t = suite("iperf3 client runs");
const TCP = JSON.stringify({ end: { sum_sent: { bytes: 1000, bits_per_second: 8000, seconds: 1 }, sum_received: { bytes: 900, bits_per_second: 7200, seconds: 1 } } });
const BUSY = JSON.stringify({ start: {}, intervals: [], end: {}, error: "the server is busy running a test. try again later" });

t("a busy server is tried again; the measurement that follows is returned", async () => {
  const answers = [BUSY, BUSY, TCP];
  let runs = 0;
  const r = await measureIperf3(async () => ({ stdout: answers[runs++]!, stderr: "", exitCode: 0 }), "to x");
  assert.is(runs, 3);
  assert.is(r.bitsPerSecond, 7200);
});

t("a control connection reset or closed under the client is tried again (CI saw it on a reverse run)", async () => {
  const reset = JSON.stringify({ start: {}, intervals: [], end: {}, error: "unable to receive control message: Connection reset by peer" });
  const closed = JSON.stringify({ start: {}, intervals: [], end: {}, error: "control socket has closed unexpectedly" });
  const answers = [reset, closed, TCP];
  let runs = 0;
  const r = await measureIperf3(async () => ({ stdout: answers[runs++]!, stderr: "", exitCode: 0 }), "from x");
  assert.is(runs, 3);
  assert.is(r.bitsPerSecond, 7200);
  runs = 0;
  assert.match(String(await failure(measureIperf3(async () => (runs++, { stdout: reset, stderr: "", exitCode: 0 }), "from y", 3))), "iperf3 from y: unable to receive control message: Connection reset by peer (tried 3 times)");
  assert.is(runs, 3);
});

t("an error in the JSON fails even with exit 0 (iperf3 3.12), naming iperf3's words; busy only so often", async () => {
  const refused = JSON.stringify({ start: {}, end: {}, error: "unable to connect to server: Connection refused" });
  let runs = 0;
  assert.match(String(await failure(measureIperf3(async () => (runs++, { stdout: refused, stderr: "", exitCode: 0 }), "to 10.0.0.1"))), "iperf3 to 10.0.0.1: unable to connect to server: Connection refused");
  assert.is(runs, 1);
  runs = 0;
  assert.match(String(await failure(measureIperf3(async () => (runs++, { stdout: BUSY, stderr: "", exitCode: 0 }), "to y", 2))), "busy running a test. try again later (tried 2 times)");
  assert.is(runs, 2);
});

t.run();
