// The one interface every kind of lab host implements (exec, copy, status), and the base that holds
// what the kinds share: the plan's view of the host, the "not up" refusal and the status record.
import { Readable } from "node:stream";
import type { ResultPromise } from "execa";
import { nameFlag, type HostKind, type HostName, type HostPlan, type LabPlan } from "../plan.ts";
import type { ExecResult } from "../../src/tools/ssh.ts";

export interface ExecOptions {
  onStdout?: (b: Buffer) => void;
  onStderr?: (b: Buffer) => void;
  /** The command's standard input; none when undefined. */
  stdin?: string | Buffer | Readable;
}

export interface CopyResult {
  /** Where the copy landed. */
  target: string;
  bytes: number;
  kind: "file" | "directory";
}

export interface HostStatus {
  kind: HostKind;
  running: boolean;
  /** Its interfaces and addresses. */
  addresses: string[];
  /** What runs it, in a few words (the VM's qemu pid, a namespace's name, a container's id). */
  detail?: string;
  /** A container host's container: its id, image and state as podman reports them. */
  container?: { id: string; image: string; state: string };
}

/** A host of a lab, whatever runs it. */
export interface Host {
  readonly name: HostName;
  readonly kind: HostKind;
  /** Starts what runs the host, once `up` has made its namespace, links and hosts file (none for a namespace). */
  start(): Promise<void>;
  /** Runs ARGV (one word: a shell command line); output streams to the callbacks and comes back with the status. */
  exec(argv: string[], o?: ExecOptions): Promise<ExecResult>;
  /** Copies SRC on this machine to PATH on the host, into PATH/basename(SRC) when PATH is a directory. */
  copyIn(src: string, path: string): Promise<CopyResult>;
  /** Copies PATH on the host to DST on this machine, into DST/basename(PATH) when DST is a directory. */
  copyOut(path: string, dst: string): Promise<CopyResult>;
  status(): Promise<HostStatus>;
}

/** What every kind shares; a kind says how it runs commands, copies files and whether it runs. */
export abstract class BaseHost implements Host {
  abstract readonly kind: HostKind;
  constructor(
    protected readonly plan: LabPlan,
    readonly name: HostName,
  ) {}

  protected get spec(): HostPlan {
    return this.plan.hosts[this.name];
  }

  /** Nothing to start by default: the namespace `up` made is the host. */
  async start(): Promise<void> {}
  abstract exec(argv: string[], o?: ExecOptions): Promise<ExecResult>;
  abstract copyIn(src: string, path: string): Promise<CopyResult>;
  abstract copyOut(path: string, dst: string): Promise<CopyResult>;
  /** Whether the host runs, and what runs it. */
  protected abstract probe(): Promise<Omit<HostStatus, "kind" | "addresses">>;

  async status(): Promise<HostStatus> {
    return { kind: this.kind, addresses: this.spec.addresses, ...(await this.probe()) };
  }

  /** execa options that give a local process O's stdin (a string, bytes, or a stream piped in). */
  protected static stdinOptions(o: ExecOptions): { input?: string | Buffer; stdin: "ignore" | "pipe" } {
    return { input: o.stdin instanceof Readable ? undefined : o.stdin, stdin: o.stdin === undefined ? "ignore" : "pipe" };
  }

  /** Feeds a local process (netns, podman) O's stream, streams its output to O's callbacks, and returns its result. */
  protected static async streamed(child: ResultPromise, o: ExecOptions): Promise<ExecResult> {
    if (o.stdin instanceof Readable) {
      // A command that exits before reading all of its input closes the pipe: not an error here.
      child.stdin?.on("error", () => undefined);
      o.stdin.pipe(child.stdin!);
    }
    child.stdout?.on("data", (b: Buffer) => o.onStdout?.(b));
    child.stderr?.on("data", (b: Buffer) => o.onStderr?.(b));
    const r = await child;
    return { code: r.exitCode ?? 128, stdout: String(r.stdout), stderr: String(r.stderr) };
  }

  /** The refusal for a host that is not there: which lab, what is missing, and the fix. */
  protected notUp(missing: string): Error {
    return new Error(`Lab "${this.plan.name}" is not up (no ${missing}). Fix: ./xdp-lab up${nameFlag(this.plan.name)}`);
  }
}
