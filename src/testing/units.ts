// Rates and throughputs as test files write them ("50 Mbit/s", "1000 pps"), parsed into numbers,
// and numbers printed back the same way; a bad one is an error that names the units it takes.

const BIT_UNITS: Record<string, number> = { bit: 1, kbit: 1e3, mbit: 1e6, gbit: 1e9, bps: 1, kbps: 1e3, mbps: 1e6, gbps: 1e9 };

/** The units a bit rate takes, for messages. */
export const BIT_RATE_UNITS = "bit/s, kbit/s, Mbit/s or Gbit/s (decimal, as iperf3 counts: 1 Mbit/s = 1,000,000 bit/s)";

/** A bit rate in bit/s ("50 Mbit/s", "1.5 Gbit/s", "800 kbps"), or undefined when TEXT is not one. */
export function parseBitRate(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmg]?bit\/s|[kmg]?bps)\s*$/i.exec(text);
  if (!m) return undefined;
  const unit = m[2]!.toLowerCase().replace("/s", "");
  const v = Number(m[1]) * BIT_UNITS[unit]!;
  return v > 0 ? v : undefined;
}

/** A rate of a UDP flood: bits per second or packets per second ("1000 pps", "1000 packets/s"). */
export type Rate = { bitsPerSecond: number } | { packetsPerSecond: number };

/** The units a flood's rate takes, for messages. */
export const RATE_UNITS = `packets/s (pps) or ${BIT_RATE_UNITS}`;

/** A flood's rate, or undefined when TEXT is not one. */
export function parseRate(text: string): Rate | undefined {
  const pps = /^\s*(\d+(?:\.\d+)?)\s*(pps|packets\/s)\s*$/i.exec(text);
  if (pps) return Number(pps[1]) > 0 ? { packetsPerSecond: Number(pps[1]) } : undefined;
  const bits = parseBitRate(text);
  return bits === undefined ? undefined : { bitsPerSecond: bits };
}

/** Bits per second of payload for RATE with SIZE-byte datagrams (iperf3's -b counts payload). */
export function payloadBits(rate: Rate, size: number): number {
  return "bitsPerSecond" in rate ? rate.bitsPerSecond : Math.round(rate.packetsPerSecond * size * 8);
}

/** "48.2 Mbit/s": three significant figures in the largest unit below the value. */
export function formatBitRate(bps: number): string {
  const [div, unit] = bps >= 1e9 ? [1e9, "Gbit/s"] : bps >= 1e6 ? [1e6, "Mbit/s"] : bps >= 1e3 ? [1e3, "kbit/s"] : [1, "bit/s"];
  return `${Number((bps / div).toPrecision(3))} ${unit}`;
}
