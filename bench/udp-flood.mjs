// A UDP flood for bench:lab: sends small datagrams to HOST:PORT as fast as it can for SECONDS and
// prints {"sent": N, "seconds": S}. It needs no answer, so it works while everything is dropped.
//   node bench/udp-flood.mjs HOST PORT SECONDS [PAYLOAD_BYTES]
import { createSocket } from "node:dgram";

const [host, port, seconds, size = "18"] = process.argv.slice(2);
const sock = createSocket("udp4");
const payload = Buffer.alloc(Number(size));
const end = performance.now() + Number(seconds) * 1000;
let sent = 0;
const burst = () =>
  new Promise((resolve) => {
    let pending = 64;
    for (let i = 0; i < 64; i++) {
      sock.send(payload, Number(port), host, () => {
        sent++;
        if (--pending === 0) resolve();
      });
    }
  });
const start = performance.now();
while (performance.now() < end) await burst();
const took = (performance.now() - start) / 1000;
sock.close();
console.log(JSON.stringify({ sent, seconds: Number(took.toFixed(3)) }));
