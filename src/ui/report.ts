// Renders build events: a stage list for people, JSON lines for machines, or nothing.
import type { BuildEvent, Reporter } from "../build/progress.ts";

export type ReportMode = "human" | "json" | "quiet";

export function reporter(mode: ReportMode, stream: NodeJS.WriteStream = process.stderr): Reporter {
  if (mode === "quiet") return () => undefined;
  if (mode === "json") return (e) => process.stdout.write(JSON.stringify(e) + "\n");
  const tty = stream.isTTY === true;
  let progressShown = false;
  let lastPrinted = 0;
  const clear = (): void => {
    if (tty && progressShown) stream.write("\r\x1b[K");
    progressShown = false;
  };
  return (e: BuildEvent) => {
    switch (e.event) {
      case "plan":
        stream.write(`build: ${e.stages.join(", ")}\n`);
        break;
      case "info":
        clear();
        stream.write(`  ${e.message}\n`);
        break;
      case "warning":
        clear();
        stream.write(`  warning: ${e.message}\n`);
        break;
      case "image": {
        clear();
        const from = { engine: "the engine's", cache: "loaded from the build cache", built: "made from Debian's archive" }[e.source];
        stream.write(`  image    ${e.tag} (${e.id.slice(0, 12)}, ${from})\n`);
        break;
      }
      case "stage": {
        clear();
        const name = e.stage.padEnd(8);
        if (e.status === "cached") stream.write(`  ${name} cached (${e.key.slice(0, 12)})\n`);
        if (e.status === "running") stream.write(`  ${name} building (${e.key.slice(0, 12)})\n`);
        if (e.status === "done") stream.write(`  ${name} built in ${e.seconds.toFixed(1)} s\n`);
        if (e.status === "failed") stream.write(`  ${name} FAILED after ${e.seconds.toFixed(1)} s (log: ${e.log})\n`);
        break;
      }
      case "progress": {
        const pct = e.total ? ` (~${Math.min(99, Math.floor((100 * e.units) / e.total))}%)` : "";
        const text = `  ${e.stage.padEnd(8)} compiled ${e.units}${e.total ? `/${e.total}` : ""} files${pct}`;
        if (tty) {
          stream.write(`\r\x1b[K${text}`);
          progressShown = true;
        } else if (e.units - lastPrinted >= 200) {
          lastPrinted = e.units;
          stream.write(text + "\n");
        }
        break;
      }
      case "published":
        clear();
        stream.write(`published to ${e.out} (manifest ${e.manifest}) in ${e.seconds.toFixed(1)} s\n`);
        break;
    }
  };
}
