import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { formatBitRate, parseBitRate, parseRate, payloadBits } from "../../src/testing/units.ts";

const t = suite("src/testing/units");

t("bit rates in decimal units, as iperf3 counts them", () => {
  assert.is(parseBitRate("50 Mbit/s"), 50e6);
  assert.is(parseBitRate("1.5 Gbit/s"), 1.5e9);
  assert.is(parseBitRate("800kbit/s"), 800e3);
  assert.is(parseBitRate("10 Mbps"), 10e6);
  assert.is(parseBitRate("64 bit/s"), 64);
  for (const bad of ["50", "50 MB/s", "5 Mbyte/s", "fast", "0 Mbit/s", "-1 Mbit/s", "1e6 bit/s"]) assert.is(parseBitRate(bad), undefined, bad);
});

t("a flood's rate: packets or bits per second; pps becomes iperf3's payload bits", () => {
  assert.equal(parseRate("1000 pps"), { packetsPerSecond: 1000 });
  assert.equal(parseRate("250 packets/s"), { packetsPerSecond: 250 });
  assert.equal(parseRate("10 Mbit/s"), { bitsPerSecond: 10e6 });
  assert.is(parseRate("1000 ppx"), undefined);
  assert.is(parseRate("0 pps"), undefined);
  assert.is(payloadBits({ packetsPerSecond: 1000 }, 100), 800_000);
  assert.is(payloadBits({ bitsPerSecond: 5e6 }, 100), 5e6);
});

t("rates printed with three figures in the largest unit", () => {
  assert.is(formatBitRate(1360423069), "1.36 Gbit/s");
  assert.is(formatBitRate(19879712), "19.9 Mbit/s");
  assert.is(formatBitRate(511381), "511 kbit/s");
  assert.is(formatBitRate(12), "12 bit/s");
});

t.run();
