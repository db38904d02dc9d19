// Which lab features a kernel's config gives (native XDP on virtio-net, tc, 9p shares, BTF): pure,
// so the commands can print them without loading the fetch machinery.

/** A lab feature, whether the kernel's config has what it needs, and if not why. */
export interface Feature {
  feature: string;
  holds: boolean;
  /** The Kconfig options it needs that are not set (empty when it holds). */
  missing: string[];
}

/** The features the commands check before they boot: --share, and --guest-root host. */
export const SHARES_FEATURE = "9p shares (--share)";
export const HOST_ROOT_FEATURE = "the host's root (--guest-root host)";

/** Lab features and the Kconfig options each needs (y or m). */
export const FEATURES: { feature: string; options: string[] }[] = [
  { feature: "native XDP on virtio-net", options: ["BPF_SYSCALL", "VIRTIO_NET"] },
  { feature: "tc BPF (clsact)", options: ["NET_SCH_INGRESS", "NET_CLS_BPF", "NET_CLS_ACT"] },
  { feature: SHARES_FEATURE, options: ["NET_9P", "NET_9P_VIRTIO", "9P_FS"] },
  { feature: HOST_ROOT_FEATURE, options: ["NET_9P", "NET_9P_VIRTIO", "9P_FS", "OVERLAY_FS"] },
  { feature: "BTF (vmlinux and modules)", options: ["DEBUG_INFO_BTF", "DEBUG_INFO_BTF_MODULES"] },
  { feature: "nftables in the guest", options: ["NF_TABLES", "NF_TABLES_INET"] },
];

/** Kconfig text as option -> value (y, m, a string), unset options absent. */
export function parseConfig(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^CONFIG_([A-Za-z0-9_]+)=(.*)$/.exec(line);
    if (m) out.set(m[1]!, m[2]!);
  }
  return out;
}

/** Which lab features a kernel config has. */
export function features(config: Map<string, string>): Feature[] {
  return FEATURES.map((f) => {
    const missing = f.options.filter((o) => !["y", "m"].includes(config.get(o) ?? ""));
    return { feature: f.feature, holds: missing.length === 0, missing: missing.map((o) => `CONFIG_${o}`) };
  });
}

/** One line per feature, for the commands: "native XDP on virtio-net: yes", "9p shares: no (CONFIG_NET_9P not set)". */
export function describeFeatures(list: Feature[]): string[] {
  return list.map((f) => `${f.feature}: ${f.holds ? "yes" : `no (${f.missing.join(", ")} not set)`}`);
}

