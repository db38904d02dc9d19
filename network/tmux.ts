// The one wrapper around tmux: the lab's session is made by `xdp-lab tmux` and removed by `down`.
import { execa } from "execa";

/** Runs one tmux command; throws quoting it and tmux's message. */
export async function tmux(...args: string[]): Promise<void> {
  const r = await execa("tmux", args, { reject: false });
  if (r.exitCode !== 0) throw new Error(`Failed to run tmux ${args.join(" ")}: ${String(r.stderr).trim()}`);
}

/** Removes a session if there is one (no tmux, or no such session, is not an error). */
export async function killSession(name: string): Promise<void> {
  await execa("tmux", ["kill-session", "-t", name], { reject: false }).catch(() => undefined);
}

/** Attaches this terminal to a session until the user detaches. */
export async function attach(name: string): Promise<void> {
  await execa("tmux", ["attach-session", "-t", name], { stdio: "inherit", reject: false });
}
