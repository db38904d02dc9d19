// A host that is a network namespace: its commands run through `ip netns exec` with this machine's
// programs, and it shares this machine's files, so a copy to or from it is a copy on this machine.
import { localCopy } from "../copy.ts";
import { namespaces, netnsExec } from "../../src/tools/ip.ts";
import type { ExecResult } from "../../src/tools/ssh.ts";
import { BaseHost, type CopyResult, type ExecOptions } from "./host.ts";

export class NetnsHost extends BaseHost {
  readonly kind = "netns" as const;

  async exec(argv: string[], o: ExecOptions = {}): Promise<ExecResult> {
    await this.requireNamespace();
    const child = netnsExec(this.spec.ns, argv.length === 1 ? ["sh", "-c", argv[0]!] : argv, BaseHost.stdinOptions(o));
    return BaseHost.streamed(child, o);
  }

  async copyIn(src: string, path: string): Promise<CopyResult> {
    await this.requireNamespace();
    return localCopy(src, path);
  }

  async copyOut(path: string, dst: string): Promise<CopyResult> {
    await this.requireNamespace();
    return localCopy(path, dst);
  }

  protected async probe(): Promise<{ running: boolean; detail?: string }> {
    const running = (await namespaces().catch(() => [] as string[])).includes(this.spec.ns);
    return { running, detail: `namespace ${this.spec.ns}` };
  }

  private async requireNamespace(): Promise<void> {
    if (!(await this.probe()).running) throw this.notUp(`namespace ${this.spec.ns}`);
  }
}
