// The console model boot and up share: lines across chunks, the ready marker, panics, the tail.
import { suite } from "../../suite.ts";
import * as assert from "uvu/assert";
import { ConsoleWatch } from "../../../network/vm/console.ts";

const t = suite("console watch");

t("the ready marker is found across chunk boundaries, once, with its uptime", () => {
  const seen: number[] = [];
  const w = new ConsoleWatch((u) => seen.push(u));
  w.push("SeaBIOS\r\nXDP-LAB-RE");
  assert.not.ok(w.ready);
  w.push("ADY uptime=1.42\r\nXDP-LAB-READY uptime=9.99\r\n");
  assert.ok(w.ready);
  assert.is(w.uptime, 1.42);
  assert.equal(seen, [1.42]);
});

t("a panic is noticed and the tail quotes the last lines only", () => {
  const w = new ConsoleWatch(undefined, 2);
  w.push("one\ntwo\nKernel panic - not syncing: Attempted to kill init!\n");
  assert.ok(w.panicked);
  assert.equal(w.tail(), ["two", "Kernel panic - not syncing: Attempted to kill init!"]);
  assert.is(w.quote(), "  | two\n  | Kernel panic - not syncing: Attempted to kill init!");
});

t("an unterminated last line counts once the output ends", () => {
  const w = new ConsoleWatch();
  w.push("XDP-LAB-READY uptime=0.5");
  assert.not.ok(w.ready);
  w.flush();
  assert.is(w.uptime, 0.5);
  assert.is(new ConsoleWatch().quote(), "  | (no console output)");
});

t.run();
