// Per-lab ssh keys, made with dropbearkey on the host: the runner's login key (converted to
// OpenSSH format for ssh2) and the VM's host key, whose public half the runner pins.
import { readFile, rm } from "node:fs/promises";
import { execa } from "execa";

export interface LabKeys {
  /** OpenSSH-format private key the runner logs in with. */
  privateKey: Buffer;
  /** authorized_keys line for the guest. */
  authorizedKey: string;
  /** The VM's host key in dropbear's format, for its /etc/dropbear. */
  hostKey: Buffer;
  /** The host key's public half ("ssh-ed25519 AAAA..."), which the runner accepts and nothing else. */
  hostPublic: string;
}

async function run(file: string, args: string[]): Promise<string> {
  const r = await execa(file, args, { reject: false });
  if (r.exitCode !== 0) throw new Error(`Failed to run ${file} ${args.join(" ")}: ${(r.stderr || r.stdout).trim()}. Fix: apt-get install dropbear-bin`);
  return r.stdout;
}

function publicLine(dropbearkeyOutput: string, comment: string): string {
  const line = dropbearkeyOutput.split("\n").find((l) => l.startsWith("ssh-"));
  if (!line) throw new Error(`dropbearkey printed no public key:\n${dropbearkeyOutput}`);
  const [type, blob] = line.split(" ");
  return `${type} ${blob} ${comment}`;
}

/** Generates both keys as files KEY and HOSTKEY (KEY in OpenSSH format), and returns them. */
export async function generateKeys(key: string, hostKey: string, lab: string): Promise<LabKeys> {
  const dropbearFormat = `${key}.dropbear`;
  await rm(dropbearFormat, { force: true });
  await rm(hostKey, { force: true });
  await rm(key, { force: true });
  const user = await run("dropbearkey", ["-t", "ed25519", "-f", dropbearFormat]);
  await run("dropbearconvert", ["dropbear", "openssh", dropbearFormat, key]);
  await rm(dropbearFormat, { force: true });
  const host = await run("dropbearkey", ["-t", "ed25519", "-f", hostKey]);
  return {
    privateKey: await readFile(key),
    authorizedKey: publicLine(user, `xdp-lab-${lab}`),
    hostKey: await readFile(hostKey),
    hostPublic: publicLine(host, "").trim(),
  };
}
