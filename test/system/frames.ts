// Hand-built Ethernet frames for running XDP programs under BPF_PROG_TEST_RUN.

const MAC_DST = [0x02, 0, 0, 0, 0, 0x01];
const MAC_SRC = [0x02, 0, 0, 0, 0, 0x02];

function eth(proto: number, payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from([...MAC_DST, ...MAC_SRC, proto >> 8, proto & 0xff]), payload]);
}

function ipv4(src: string, dst: string, protocol: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h.writeUInt16BE(20 + payload.length, 2);
  h[8] = 64;
  h[9] = protocol;
  Buffer.from(src.split(".").map(Number)).copy(h, 12);
  Buffer.from(dst.split(".").map(Number)).copy(h, 16);
  return Buffer.concat([h, payload]);
}

/** An Ethernet + IPv4 + UDP frame with `size` bytes of payload. */
export function udpFrame(src: string, dst: string, sport: number, dport: number, size = 18): Buffer {
  const u = Buffer.alloc(8 + size);
  u.writeUInt16BE(sport, 0);
  u.writeUInt16BE(dport, 2);
  u.writeUInt16BE(8 + size, 4);
  return eth(0x0800, ipv4(src, dst, 17, u));
}

/** An ARP request: not IPv4. */
export function arpFrame(): Buffer {
  return eth(0x0806, Buffer.alloc(28));
}

/** IPv4 ethertype but only 10 bytes of IP header: a runt. */
export function runtIpv4Frame(): Buffer {
  return eth(0x0800, Buffer.alloc(10, 0x45));
}

/** A whole IPv4 header announcing UDP, but the UDP header is cut short. */
export function truncatedUdpFrame(src: string): Buffer {
  return eth(0x0800, ipv4(src, "10.0.0.1", 17, Buffer.alloc(4)));
}

/** Dotted quad as the 4 bytes of a network-order map key. */
export function ipKey(ip: string): number[] {
  return ip.split(".").map(Number);
}
