import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { iperf3Result } from "../../src/testing/iperf3.ts";
import { failure } from "../helpers.ts";

const t = suite("iperf3 client answers");
const TCP = JSON.stringify({ end: { sum_sent: { bytes: 1000, bits_per_second: 8000, seconds: 1 }, sum_received: { bytes: 900, bits_per_second: 7200, seconds: 1 } } });
const failed = (error: string) => ({ stdout: JSON.stringify({ start: {}, intervals: [], end: {}, error }), stderr: "", code: 0 });
/** The message iperf3Result throws for A. */
const thrown = async (a: { stdout: string; stderr: string; code: number }, what: string): Promise<string> => (await failure((async () => iperf3Result(a, what))())).message;

t("a measurement is the receiver's", () => {
  const r = iperf3Result({ stdout: TCP, stderr: "", code: 0 }, "to x");
  assert.is(r.bitsPerSecond, 7200);
  assert.is(r.receivedBytes, 900);
});

t("an error in the JSON fails even with exit 0 (iperf3 3.12), in iperf3's words", async () => {
  assert.is(await thrown(failed("unable to connect to server: Connection refused"), "to 10.0.0.1"), "iperf3 to 10.0.0.1: unable to connect to server: Connection refused");
});

t("a control connection reset and a busy server fail at once: each run has a server of its own, so neither is worth another try", async () => {
  assert.is(await thrown(failed("unable to receive control message: Connection reset by peer"), "from y"), "iperf3 from y: unable to receive control message: Connection reset by peer");
  assert.is(await thrown(failed("control socket has closed unexpectedly"), "from y"), "iperf3 from y: control socket has closed unexpectedly");
  assert.is(await thrown(failed("the server is busy running a test. try again later"), "to y"), "iperf3 to y: the server is busy running a test. try again later");
});

t("no JSON: that, and what iperf3 said on stderr", async () => {
  assert.is(await thrown({ stdout: "", stderr: "iperf3: error - unable to connect to server: Connection refused\n", code: 1 }, "to z"), "iperf3 to z: no JSON from iperf3: no output (iperf3: error - unable to connect to server: Connection refused)");
});

t.run();
