// The one wrapper around nft: loads a ruleset, deletes a table. The lab's rulesets are network/rulesets.ts.
import { execa } from "execa";
import { netnsExec } from "./ip.ts";

/** Loads a ruleset with `nft -f -`, inside namespace NS when given. */
export async function nft(ns: string | undefined, ruleset: string): Promise<void> {
  const r = await (ns ? netnsExec(ns, ["nft", "-f", "-"], { input: ruleset }) : execa("nft", ["-f", "-"], { input: ruleset, reject: false }));
  if (r.exitCode !== 0) throw new Error(`Failed to load nft rules${ns ? ` in namespace ${ns}` : ""}: ${r.stderr.trim()}\nRules:\n${ruleset}`);
}

/** Deletes a table of the host's ruleset if it exists (only --uplink creates one). */
export async function deleteHostTable(family: string, table: string): Promise<void> {
  const r = await execa("nft", ["list", "table", family, table], { reject: false });
  if (r.exitCode !== 0) return;
  await nft(undefined, `delete table ${family} ${table}\n`);
}
