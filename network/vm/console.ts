// What the guest's serial console says, for both ways a guest runs: `boot` reads qemu's stdout and
// `up` reads the console log a background qemu writes. One model of readiness, panics and the tail
// to quote, so both detect them the same way.
import { MARKERS } from "../contract.ts";

/** Reads console output as it arrives: lines, the ready marker, a kernel panic, the last lines. */
export class ConsoleWatch {
  /** The guest's uptime the ready marker carried, once it appeared. */
  uptime: number | undefined;
  panicked = false;
  private readonly last: string[] = [];
  private pending = "";

  constructor(
    private readonly onReady?: (uptime: number) => void,
    private readonly tailLines = 25,
  ) {}

  get ready(): boolean {
    return this.uptime !== undefined;
  }

  /** Feeds a chunk of console output (serial lines end in \r\n; a line may span chunks). */
  push(chunk: Buffer | string): void {
    this.pending += chunk.toString();
    const lines = this.pending.split("\n");
    this.pending = lines.pop() ?? "";
    for (const l of lines) this.line(l.replace(/\r$/, ""));
  }

  /** Takes the last, unterminated line as a whole one: the output ended. */
  flush(): void {
    if (this.pending) this.line(this.pending.replace(/\r$/, ""));
    this.pending = "";
  }

  /** The last lines, as quoted in errors. */
  tail(): string[] {
    return [...this.last];
  }

  /** The tail quoted for an error message. */
  quote(): string {
    return this.last.length ? this.last.map((l) => `  | ${l}`).join("\n") : "  | (no console output)";
  }

  private line(l: string): void {
    this.last.push(l);
    if (this.last.length > this.tailLines) this.last.shift();
    if (MARKERS.panic.test(l)) this.panicked = true;
    const ready = MARKERS.ready.exec(l);
    if (ready && this.uptime === undefined) {
      this.uptime = Number(ready[1]);
      this.onReady?.(this.uptime);
    }
  }
}
