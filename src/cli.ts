#!/usr/bin/env node
// The xdp-lab command line: one module per command in src/commands; errors are printed here only.
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import * as boot from "./commands/boot.ts";
import * as build from "./commands/build.ts";
import * as cache from "./commands/cache.ts";
import * as capture from "./commands/capture.ts";
import * as consoleCmd from "./commands/console.ts";
import * as cp from "./commands/cp.ts";
import * as demo from "./commands/demo.ts";
import * as down from "./commands/down.ts";
import * as epochs from "./commands/epochs.ts";
import * as exec from "./commands/exec.ts";
import * as image from "./commands/image.ts";
import * as link from "./commands/link.ts";
import * as lock from "./commands/lock.ts";
import * as load from "./commands/load.ts";
import * as ssh from "./commands/ssh.ts";
import * as status from "./commands/status.ts";
import * as test from "./commands/test.ts";
import * as tmux from "./commands/tmux.ts";
import * as up from "./commands/up.ts";

await yargs(hideBin(process.argv))
  .scriptName("xdp-lab")
  .command(demo)
  .command(build)
  .command(boot)
  .command(cache)
  .command(image)
  .command(epochs)
  .command(up)
  .command(down)
  .command(status)
  .command(exec)
  .command(link)
  .command(lock)
  .command(load)
  .command(cp)
  .command(capture)
  .command(ssh)
  .command(consoleCmd)
  .command(tmux)
  .command(test)
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
