// Copies between this machine and a lab host. Into and out of the VM: files as bytes over ssh,
// directories as tar streams (the host's tar on one end, the guest's busybox tar on the other).
// Either end lands under a temporary name first and is renamed when complete, so an interrupted
// copy leaves nothing half-written. Hosts that share this machine's files copy locally.
import { createReadStream, createWriteStream, existsSync } from "node:fs";
import { chmod, cp, mkdir, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { PassThrough } from "node:stream";
import { execa } from "execa";
import type { Client } from "ssh2";
import { exec as sshExec } from "../src/tools/ssh.ts";
import { shellQuote } from "./shell.ts";
import { withVm } from "./session.ts";
import { nameFlag } from "./plan.ts";
import type { CopyResult } from "./hosts/host.ts";

/** The guest shell line that picks the target: DST, or DST/NAME when DST is a directory. */
function guestTarget(dst: string, name: string): string {
  return `d=${shellQuote(dst)}; [ -d "$d" ] && d="\${d%/}/"${shellQuote(name)}; `;
}

/** Copies SRC on this machine to DST on this machine (hosts that share its files), as cp -a does. */
export async function localCopy(src: string, dst: string): Promise<CopyResult> {
  const st = await stat(src).catch(() => undefined);
  if (!st) throw new Error(`No such file or directory: ${src}`);
  const target = (await stat(dst).catch(() => undefined))?.isDirectory() ? join(dst, basename(src)) : dst;
  if (!existsSync(dirname(target))) throw new Error(`No such directory: ${dirname(target)}`);
  await cp(src, target, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
  return { target, bytes: st.isDirectory() ? await treeSize(target) : st.size, kind: st.isDirectory() ? "directory" : "file" };
}

/** Copies SRC on this machine into the lab's VM, to DST or into it when it is a directory. */
export async function copyIntoVm(lab: string, src: string, dst: string): Promise<CopyResult> {
  const st = await stat(src).catch(() => undefined);
  if (!st) throw new Error(`No such file or directory: ${src}`);
  const name = basename(src);
  return withVm(lab, async (client) => {
    // The guest prints where it put the copy last, so the host can say so.
    const tmp = `t="$d.xdp-lab-tmp.$$"; trap 'rm -rf "$t"' EXIT; `;
    if (st.isDirectory()) {
      const tar = execa("tar", ["-C", src, "-cf", "-", "."], { stdout: "pipe", buffer: false, reject: false });
      // execa drains an output nobody reads; hold it until the ssh channel is open.
      const archive = tar.stdout!.pipe(new PassThrough());
      const script =
        guestTarget(dst, name) +
        tmp +
        // An existing directory gets the files merged in, as cp -r does; otherwise it appears whole.
        `if [ -d "$d" ]; then tar -C "$d" -xf - || exit 1; else mkdir "$t" && tar -C "$t" -xf - && mv "$t" "$d" || exit 1; fi; echo "$d"`;
      const [r, t] = await Promise.all([sshExec(client, script, { stdin: archive }), tar]);
      if (t.exitCode !== 0) throw new Error(`Failed to read ${src}: ${String(t.stderr).trim()}`);
      if (r.code !== 0) throw new Error(`Failed to copy ${src} to vm:${dst}: ${r.stderr.trim() || `exit ${r.code}`}${await spaceHint(client, lab, dst, r.stderr)}`);
      return { target: r.stdout.trim(), bytes: await treeSize(src), kind: "directory" };
    }
    const mode = (st.mode & 0o7777).toString(8);
    const script = guestTarget(dst, name) + tmp + `cat >"$t" && chmod ${mode} "$t" && mv -f "$t" "$d" && echo "$d"`;
    const r = await sshExec(client, script, { stdin: createReadStream(src) });
    if (r.code !== 0) throw new Error(`Failed to copy ${src} to vm:${dst}: ${r.stderr.trim() || `exit ${r.code}`}${await spaceHint(client, lab, dst, r.stderr)}`);
    return { target: r.stdout.trim(), bytes: st.size, kind: "file" };
  });
}

/** Copies SRC in the VM (over an open session) to DST on this machine. */
export async function copyOutOfVm(client: Client, src: string, dst: string): Promise<CopyResult> {
  const probe = await sshExec(client, `p=${shellQuote(src)}; if [ -d "$p" ]; then echo dir; elif [ -f "$p" ]; then echo "file $(stat -c %a "$p")"; else echo missing; fi`);
  const [kind, mode] = probe.stdout.trim().split(" ");
  if (kind === "missing") throw new Error(`No such file or directory in the VM: vm:${src}`);
  const dstStat = await stat(dst).catch(() => undefined);
  const target = dstStat?.isDirectory() ? join(dst, basename(src)) : dst;
  if (!existsSync(dirname(target))) throw new Error(`No such directory: ${dirname(target)}`);
  const tmp = `${target}.xdp-lab-tmp.${process.pid}`;
  try {
    if (kind === "dir") {
      const merge = (await stat(target).catch(() => undefined))?.isDirectory();
      const into = merge ? target : tmp;
      await mkdir(into, { recursive: true });
      const tar = execa("tar", ["-C", into, "-xf", "-"], { stdin: "pipe", reject: false });
      const r = await sshExec(client, `tar -C ${shellQuote(src)} -cf - .`, { stdout: tar.stdin! });
      const t = await tar;
      if (r.code !== 0) throw new Error(`Failed to read vm:${src}: ${r.stderr.trim() || `exit ${r.code}`}`);
      if (t.exitCode !== 0) throw new Error(`Failed to write ${target}: ${String(t.stderr).trim()}`);
      if (!merge) await rename(tmp, target);
      return { target, bytes: await treeSize(target), kind: "directory" };
    }
    const out = createWriteStream(tmp);
    const written = new Promise<void>((res, rej) => out.once("finish", res).once("error", rej));
    const r = await sshExec(client, `cat ${shellQuote(src)}`, { stdout: out });
    await written;
    if (r.code !== 0) throw new Error(`Failed to read vm:${src}: ${r.stderr.trim() || `exit ${r.code}`}`);
    await chmod(tmp, parseInt(mode ?? "644", 8));
    await rename(tmp, target);
    return { target, bytes: (await stat(target)).size, kind: "file" };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/**
 * When the guest ran out of space: how much the target's file system has, and the fix. The VM's
 * files live in RAM (its root is the unpacked initramfs), and a replaced file needs room for both
 * copies until the new one is complete.
 */
async function spaceHint(client: Client, lab: string, dst: string, stderr: string): Promise<string> {
  if (!/No space left on device/.test(stderr)) return "";
  // busybox df finds no mount point for the initramfs's rootfs; stat -f reads the file system itself.
  const fs = await sshExec(client, `p=${shellQuote(dst)}; [ -d "$p" ] || p=$(dirname "$p"); echo "$p"; stat -f -c "%S %b %a" "$p"`).catch(() => undefined);
  const [dir, sizes] = fs?.code === 0 ? fs.stdout.trim().split("\n") : [];
  const [block, total, free] = (sizes ?? "").split(" ").map(Number);
  const mib = (blocks: number): string => `${Math.floor((blocks * block!) / 2 ** 20)} MiB`;
  const where = block && total !== undefined && free !== undefined ? ` ${dir} has ${mib(free)} free of ${mib(total)}` : "";
  const n = nameFlag(lab);
  return (
    `\nThe VM keeps its files in RAM:${where}; a copy that replaces a file needs room for both until it is complete.` +
    `\nFix: remove files in the VM (./xdp-lab exec vm${n} -- rm ...), or give it more memory: ./xdp-lab down${n} && ./xdp-lab up${n} --memory 1024`
  );
}

/** The apparent size of a tree, for the report. */
async function treeSize(dir: string): Promise<number> {
  const r = await execa("du", ["-sb", "--apparent-size", dir], { reject: false });
  return Number(String(r.stdout).split(/\s/)[0]) || 0;
}
