// What the guest's serial console says, for both ways a guest runs: `boot` reads qemu's stdout and
// `up` reads the console log a background qemu writes. One model of readiness, panics and the tail
// to quote, so both detect them the same way.
import { MARKERS } from "../contract.ts";

/** Splits a byte stream into lines (serial lines end in \r\n; a line may span chunks), calling onLine for each. */
export function lineSplitter(onLine: (line: string) => void): { push(chunk: Buffer | string): void; flush(): void } {
  let pending = "";
  return {
    push(chunk) {
      pending += chunk.toString();
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const l of lines) onLine(l.replace(/\r$/, ""));
    },
    /** Takes the last, unterminated line as a whole one: the output ended. */
    flush() {
      if (pending) onLine(pending.replace(/\r$/, ""));
      pending = "";
    },
  };
}

/** Reads console output as it arrives: lines, the ready marker, a kernel panic, the last lines. */
export class ConsoleWatch {
  /** The guest's uptime the ready marker carried, once it appeared. */
  uptime: number | undefined;
  panicked = false;
  private readonly last: string[] = [];
  private readonly lines = lineSplitter((l) => this.line(l));

  constructor(
    private readonly onReady?: (uptime: number) => void,
    private readonly tailLines = 25,
  ) {}

  get ready(): boolean {
    return this.uptime !== undefined;
  }

  /** Feeds a chunk of console output. */
  push(chunk: Buffer | string): void {
    this.lines.push(chunk);
  }

  /** Takes the last, unterminated line as a whole one: the output ended. */
  flush(): void {
    this.lines.flush();
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
