// Every command of the CLI, in the order --help lists them: src/cli.ts registers them and
// docs/gen/cli.ts writes the CLI reference and the man page from them.
import * as boot from "./boot.ts";
import * as build from "./build.ts";
import * as cache from "./cache.ts";
import * as capture from "./capture.ts";
import * as consoleCmd from "./console.ts";
import * as cp from "./cp.ts";
import * as demo from "./demo.ts";
import * as down from "./down.ts";
import * as epochs from "./epochs.ts";
import * as exec from "./exec.ts";
import * as image from "./image.ts";
import * as link from "./link.ts";
import * as lock from "./lock.ts";
import * as load from "./load.ts";
import * as ssh from "./ssh.ts";
import * as status from "./status.ts";
import * as test from "./test.ts";
import * as tmux from "./tmux.ts";
import * as up from "./up.ts";

export const COMMANDS = [demo, build, boot, cache, image, epochs, up, down, status, exec, link, lock, load, cp, capture, ssh, consoleCmd, tmux, test];
