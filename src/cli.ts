#!/usr/bin/env node
// The xdp-lab command line: one module per command in src/commands; errors are printed here only.
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import type { CommandModule } from "yargs";
import { COMMANDS } from "./commands/index.ts";

await COMMANDS.reduce((y, c) => y.command(c as unknown as CommandModule), yargs(hideBin(process.argv)).scriptName("xdp-lab"))
  .demandCommand(1, "Say what to do: ./xdp-lab demo, or see ./xdp-lab --help")
  .strict()
  .parserConfiguration({ "populate--": true })
  .fail((msg, err, y) => {
    if (err) {
      process.stderr.write(`xdp-lab: ${err.message}\n`);
      if (process.env.XDP_LAB_DEBUG && err.stack) process.stderr.write(err.stack + "\n");
    } else {
      process.stderr.write(`${y.help()}\n\nxdp-lab: ${msg}\n`);
    }
    process.exit(err ? 1 : 2);
  })
  .help()
  .version()
  .parseAsync();
