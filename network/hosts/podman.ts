// A host that is a podman container of its own image, in the host's namespace (so its addresses,
// static neighbours and counters are exactly the lab's): commands through `podman exec`, files
// through `podman cp`, its status from `podman inspect`.
import { stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { mkdir } from "node:fs/promises";
import { inspect, podman, podmanProcess } from "../../src/tools/podman.ts";
import { execArgs, labContainers, removeContainers, runArgs } from "../containers.ts";
import { NETNS_ETC, type LabPlan, type NsHost } from "../plan.ts";
import type { ExecResult } from "../../src/tools/ssh.ts";
import { shellQuote } from "../shell.ts";
import { BaseHost, type CopyResult, type ExecOptions } from "./host.ts";

export class PodmanHost extends BaseHost {
  readonly kind = "podman" as const;

  constructor(
    plan: LabPlan,
    name: NsHost,
    /** The image `up` ran it from. */
    readonly image: string,
    /** Whether its container gets NET_ADMIN (to change its own addresses and routes). */
    private readonly netAdmin = false,
  ) {
    super(plan, name);
  }

  /** Removes every container of lab LAB, found by its label: works from the name alone, also after a kill -9 of `up`. */
  static async sweep(lab: string): Promise<string[]> {
    const names = await labContainers(lab);
    await removeContainers(names);
    return names.map((c) => `container ${c}`);
  }

  /** Runs the container in the host's namespace, with the lab's hosts file and (the server) its files at the same paths. */
  override async start(): Promise<void> {
    const ns = this.spec.ns;
    const mounts = [{ host: `${NETNS_ETC}/${ns}/hosts`, guest: "/etc/hosts", readOnly: true }];
    if (this.name === "server") {
      await mkdir(`${this.plan.files.www}/server`, { recursive: true });
      mounts.push({ host: `${this.plan.files.www}/server`, guest: `${this.plan.files.www}/server`, readOnly: true });
    }
    const caps = ["NET_RAW", ...(this.netAdmin ? ["NET_ADMIN"] : [])];
    const argv = runArgs({ name: this.container, lab: this.plan.name, image: this.image, hostname: this.name, ns, mounts, caps });
    try {
      await podman(argv.slice(argv.indexOf("run")), `start ${this.name} from ${this.image}`);
    } catch (e) {
      if (/"sh": executable file not found|executable file not found in \$PATH/i.test((e as Error).message)) {
        throw new Error(`Image ${this.image} has no shell (sh): a container host needs one to run commands. Fix: use an image with /bin/sh (e.g. Alpine or Debian based), or leave --${this.name}-image out`, { cause: e });
      }
      throw e;
    }
  }

  private get container(): string {
    return this.spec.container!;
  }

  async exec(argv: string[], o: ExecOptions = {}): Promise<ExecResult> {
    await this.requireRunning();
    const child = podmanProcess(execArgs(this.container, argv.length === 1 ? ["sh", "-c", argv[0]!] : argv, { stdin: o.stdin !== undefined }), BaseHost.stdinOptions(o));
    return BaseHost.streamed(child, o);
  }

  async copyIn(src: string, path: string): Promise<CopyResult> {
    await this.requireRunning();
    const st = await stat(src).catch(() => undefined);
    if (!st) throw new Error(`No such file or directory: ${src}`);
    const into = await this.exec(["sh", "-c", `[ -d ${shellQuote(path)} ]`]);
    const target = into.code === 0 ? join(path, basename(src)) : path;
    await podman(["cp", src, `${this.container}:${target}`], `copy ${src} to ${this.name}:${target}`);
    return { target, bytes: st.size, kind: st.isDirectory() ? "directory" : "file" };
  }

  async copyOut(path: string, dst: string): Promise<CopyResult> {
    await this.requireRunning();
    const probe = await this.exec(["sh", "-c", `p=${shellQuote(path)}; if [ -d "$p" ]; then echo directory; elif [ -e "$p" ]; then echo file; else echo missing; fi`]);
    const kind = probe.stdout.trim();
    if (kind === "missing") throw new Error(`No such file or directory on ${this.name}: ${this.name}:${path}`);
    const target = (await stat(dst).catch(() => undefined))?.isDirectory() ? join(dst, basename(path)) : dst;
    await podman(["cp", `${this.container}:${path}`, target], `copy ${this.name}:${path} to ${target}`);
    return { target, bytes: (await stat(target)).size, kind: kind === "directory" ? "directory" : "file" };
  }

  protected async probe(): Promise<{ running: boolean; detail?: string; container?: { id: string; image: string; state: string } }> {
    const c = await inspect(this.container);
    if (!c) return { running: false, detail: `no container ${this.container} (image ${this.image})` };
    return { running: c.state === "running", detail: `container ${c.id}, image ${c.image}, ${c.state}`, container: c };
  }

  private async requireRunning(): Promise<void> {
    const p = await this.probe();
    if (!p.running) throw this.notUp(p.container ? `running container ${this.container}: it is ${p.container.state}` : `container ${this.container}`);
  }
}
