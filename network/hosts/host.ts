// The one interface every kind of lab host implements (exec, copy, status), and the base that holds
// what the kinds share: the plan's view of the host, the "not up" refusal and the status record.
import type { Readable } from "node:stream";
import { nameFlag, type HostKind, type HostName, type HostPlan, type LabPlan } from "../plan.ts";
import type { ExecResult } from "../ssh.ts";

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
  /** What runs it, in a few words (the VM's qemu pid, a namespace's name). */
  detail?: string;
}

/** A host of a running lab, whatever runs it. */
export interface Host {
  readonly name: HostName;
  readonly kind: HostKind;
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

  abstract exec(argv: string[], o?: ExecOptions): Promise<ExecResult>;
  abstract copyIn(src: string, path: string): Promise<CopyResult>;
  abstract copyOut(path: string, dst: string): Promise<CopyResult>;
  /** Whether the host runs, and what runs it. */
  protected abstract probe(): Promise<{ running: boolean; detail?: string }>;

  async status(): Promise<HostStatus> {
    return { kind: this.kind, addresses: this.spec.addresses, ...(await this.probe()) };
  }

  /** The refusal for a host that is not there: which lab, what is missing, and the fix. */
  protected notUp(missing: string): Error {
    return new Error(`Lab "${this.plan.name}" is not up (no ${missing}). Fix: ./xdp-lab up${nameFlag(this.plan.name)}`);
  }
}
