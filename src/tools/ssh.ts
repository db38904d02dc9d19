// ssh to the lab's VM with ssh2. The VM's sshd listens on its management link, which exists only
// inside the lab's namespace: each connection goes through a small relay started there
// (`ip netns exec NS busybox nc ADDR 22`), so nothing outside the lab can reach it.
import { Duplex, Readable, type Writable } from "node:stream";
import { Client, type ClientChannel, type PseudoTtyOptions } from "ssh2";
import { netnsExec } from "./ip.ts";

export interface VmLink {
  /** Namespace the relay runs in. */
  ns: string;
  /** The VM's management address. */
  address: string;
  privateKey: Buffer;
  /** "ssh-ed25519 AAAA...": the only host key accepted. */
  hostPublic: string;
}

/** Opens one ssh session to the VM; rejects with the reason when it cannot. */
export function connect(link: VmLink, timeoutMs = 10_000): Promise<Client> {
  const relay = netnsExec(link.ns, ["busybox", "nc", link.address, "22"], {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "ignore",
    buffer: false,
    reject: false,
  });
  relay.catch(() => undefined);
  const sock = Duplex.from({ readable: relay.stdout!, writable: relay.stdin! });
  const expected = Buffer.from(link.hostPublic.split(" ")[1] ?? "", "base64");
  const client = new Client();
  return new Promise((resolve, reject) => {
    let done = false;
    const fail = (e: Error): void => {
      if (done) return;
      done = true;
      relay.kill("SIGKILL");
      client.end();
      reject(e);
    };
    client.once("ready", () => {
      done = true;
      resolve(client);
    });
    client.on("error", (e) => fail(new Error(`ssh to the VM failed: ${e.message}`)));
    client.once("close", () => {
      relay.kill("SIGKILL");
      fail(new Error("ssh to the VM: connection closed before login"));
    });
    sock.on("error", (e) => fail(new Error(`ssh relay failed: ${e.message}`)));
    client.connect({
      sock,
      username: "root",
      privateKey: link.privateKey,
      hostVerifier: (key: Buffer) => key.equals(expected),
      readyTimeout: timeoutMs,
      keepaliveInterval: 0,
    });
  });
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The guest's PATH: dropbear's default lacks the sbin directories ip, nft and bpftool live in. */
const GUEST_PATH = "PATH=/usr/sbin:/usr/bin:/sbin:/bin; export PATH; ";

export interface ExecOptions {
  /** Written to the command and closed: bytes, or a stream piped until it ends. Default: closed at once. */
  stdin?: Buffer | string | Readable;
  /** Raw output goes here instead of being collected (ExecResult.stdout is then empty). */
  stdout?: Writable;
  onStdout?: (b: Buffer) => void;
  onStderr?: (b: Buffer) => void;
  pty?: PseudoTtyOptions;
}

/**
 * Runs a shell command in the VM and collects its output and status. Output is also streamed to
 * onStdout/onStderr when given, or only to `stdout` when that is given (binary data, files).
 */
export function exec(client: Client, command: string, o: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    client.exec(GUEST_PATH + command, o.pty ? { pty: o.pty } : {}, (err, ch: ClientChannel) => {
      if (err) return reject(new Error(`Failed to run a command in the VM: ${err.message}`));
      const out: Buffer[] = [];
      const errs: Buffer[] = [];
      let code = 255;
      if (o.stdout) ch.pipe(o.stdout);
      else
        ch.on("data", (b: Buffer) => {
          out.push(b);
          o.onStdout?.(b);
        });
      ch.stderr.on("data", (b: Buffer) => {
        errs.push(b);
        o.onStderr?.(b);
      });
      ch.on("exit", (c: number | null, signal?: string) => {
        code = c ?? (signal ? 128 : 255);
      });
      ch.on("close", () => resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(errs).toString() }));
      if (o.stdin instanceof Readable) {
        o.stdin.on("error", () => ch.close());
        o.stdin.pipe(ch);
      } else if (o.stdin !== undefined) ch.end(o.stdin);
      else ch.end();
    });
  });
}

/** An interactive shell in the VM on this terminal; resolves with the shell's exit status. */
export function shell(client: Client): Promise<number> {
  const tty = process.stdin.isTTY;
  return new Promise((resolve, reject) => {
    const window = { term: process.env.TERM ?? "xterm", rows: process.stdout.rows ?? 24, cols: process.stdout.columns ?? 80 };
    client.shell(tty ? window : false, (err, ch) => {
      if (err) return reject(new Error(`Failed to open a shell in the VM: ${err.message}`));
      if (tty) process.stdin.setRawMode(true);
      process.stdin.pipe(ch);
      ch.pipe(process.stdout);
      ch.stderr.pipe(process.stderr);
      const resize = (): void => void ch.setWindow(process.stdout.rows ?? 24, process.stdout.columns ?? 80, 0, 0);
      process.stdout.on("resize", resize);
      let code = 0;
      ch.on("exit", (c: number | null) => (code = c ?? 0));
      ch.on("close", () => {
        process.stdout.off("resize", resize);
        process.stdin.unpipe(ch);
        if (tty) process.stdin.setRawMode(false);
        process.stdin.pause();
        resolve(code);
      });
    });
  });
}
