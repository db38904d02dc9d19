// The lab's VM as a host: commands and copies over ssh on its management link, refused at once
// (with how qemu ended) when it is not running.
import { copyIntoVm, copyOutOfVm } from "../copy.ts";
import { pidAlive, readPid, readState } from "../state.ts";
import { withVm } from "../session.ts";
import { exec as sshExec, type ExecResult } from "../../src/tools/ssh.ts";
import { shellCommand } from "../shell.ts";
import { BaseHost, type CopyResult, type ExecOptions } from "./host.ts";

export class VmHost extends BaseHost {
  readonly kind = "vm" as const;

  exec(argv: string[], o: ExecOptions = {}): Promise<ExecResult> {
    return withVm(this.plan.name, (client) => sshExec(client, shellCommand(argv), o));
  }

  copyIn(src: string, path: string): Promise<CopyResult> {
    return copyIntoVm(this.plan.name, src, path);
  }

  copyOut(path: string, dst: string): Promise<CopyResult> {
    return withVm(this.plan.name, (client) => copyOutOfVm(client, path, dst));
  }

  protected async probe(): Promise<{ running: boolean; detail?: string }> {
    const state = await readState(this.plan);
    const pid = state?.qemuPid ?? (await readPid(this.plan));
    const running = pidAlive(pid);
    return { running, detail: pid ? `qemu pid ${pid}${state?.accel ? `, ${state.accel.toUpperCase()}` : ""}` : undefined };
  }
}
