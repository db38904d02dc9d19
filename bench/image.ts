// The build image as what travels, printed as JSON: machine A (its own podman store, an empty build
// cache) runs a cold `build --container` with no image at all, debootstrap included; the image is
// exported with `cache export FILE image`; machine B (another store, an empty cache, a Debian
// archive it cannot reach) imports it and runs a cold `build --container --verify` against A's
// manifest. Both "machines" are podman stores on this one (CONTAINERS_STORAGE_CONF).
//
//   npm run bench:image              # two cold container builds: about 20 minutes on 2 cores
//   npm run bench:image -- --no-build  # only the image: made, exported, imported, loaded
import { execa } from "execa";
import { mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { PODMAN_GLOBAL } from "../src/tools/podman.ts";
import { jsonEvents, timedXdpLab } from "./run.ts";
import { report } from "./results.ts";

const withBuild = !process.argv.includes("--no-build");
const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;
const mib = (b: number): number => round(b / 1048576);

/** A podman store of its own: what a machine that never saw the image has. */
async function machine(root: string, name: string, env: Record<string, string> = {}): Promise<{ env: Record<string, string>; flags: string[] }> {
  const dir = join(root, name);
  await mkdir(dir);
  await writeFile(join(dir, "storage.conf"), `[storage]\ndriver = "overlay"\ngraphroot = "${dir}/graph"\nrunroot = "${dir}/run"\n`);
  return { env: { CONTAINERS_STORAGE_CONF: join(dir, "storage.conf"), ...env }, flags: ["--root", join(dir, "graph"), "--runroot", join(dir, "run")] };
}

const timed = (args: string[], env: Record<string, string>) => timedXdpLab(args, { env });
const events = (stdout: string) => jsonEvents<{ event: string; source?: string; id?: string; differences?: { artifact: string; status: string }[] }>(stdout);

const root = await mkdtemp(join(tmpdir(), "xdp-lab-bench-image-"));
const a = await machine(root, "a");
// Nothing listens on port 9 of the loopback: B's apt and debootstrap would fail at once.
const b = await machine(root, "b", { XDP_LAB_DEBIAN_MIRROR: "http://127.0.0.1:9" });
try {
  const cacheA = join(root, "cache-a");
  const cacheB = join(root, "cache-b");
  const coldA = withBuild
    ? await timed(["build", "--container", "--json", "--cache-dir", cacheA, "--out", join(root, "out-a")], a.env)
    : await timed(["image", "--json", "--cache-dir", cacheA], a.env);
  const imageA = withBuild ? events(coldA.stdout).find((e) => e.event === "image")! : (JSON.parse(coldA.stdout) as { id: string; source: string });
  const key = (await timed(["cache", "key", "image"], a.env)).stdout.trim();
  const tar = (await stat(join(cacheA, "stages", "image", key, "image.tar"))).size;
  const podmanSize = Number((await execa("podman", [...a.flags, ...PODMAN_GLOBAL, "image", "inspect", "--format", "{{.Size}}", imageA.id!], { env: a.env })).stdout.trim());

  const archive = join(root, "image.tar.gz");
  const exported = await timed(["cache", "export", archive, "image", "--cache-dir", cacheA], a.env);
  const imported = await timed(["cache", "import", archive, "--cache-dir", cacheB], b.env);
  const buildB = withBuild
    ? await timed(["build", "--container", "--json", "--cache-dir", cacheB, "--out", join(root, "out-b"), "--verify", join(root, "out-a", "manifest.json")], b.env).catch((error: Error) => ({
        seconds: NaN,
        stdout: "",
        error: error.message.split("\n").slice(0, 3).join(" "),
      }))
    : await timed(["image", "--json", "--cache-dir", cacheB], b.env);
  const evB = withBuild ? events(buildB.stdout) : [];
  const verify = evB.find((e) => e.event === "verify");
  const imageB = withBuild ? evB.find((e) => e.event === "image") : (JSON.parse(buildB.stdout) as { id: string; source: string });

  report("image", {
    date: new Date().toISOString(),
    cpus: cpus().length,
    cpu: cpus()[0]?.model,
    image: { id: imageA.id, podmanBytes: podmanSize, podmanMiB: mib(podmanSize), archiveMiB: mib(tar), exportMiB: mib((await stat(archive)).size) },
    machineA: withBuild
      ? { what: "cold build --container, no image, empty cache (debootstrap, locked packages, every stage)", seconds: round(coldA.seconds), imageSource: imageA.source }
      : { what: "xdp-lab image, no image (debootstrap, locked packages, kept in the cache)", seconds: round(coldA.seconds), imageSource: imageA.source },
    exportSeconds: round(exported.seconds),
    importSeconds: round(imported.seconds),
    machineB: {
      what: withBuild ? "cold build --container from the imported image, archive unreachable, --verify against A" : "xdp-lab image from the imported entry, archive unreachable",
      seconds: round(buildB.seconds),
      imageSource: imageB?.source,
      sameImageId: imageB?.id === imageA.id,
      ...(withBuild ? { identical: verify ? verify.differences!.every((d) => d.status === "same") : false, differing: verify?.differences!.filter((d) => d.status !== "same").map((d) => d.artifact) } : {}),
      ...("error" in buildB ? { error: buildB.error } : {}),
    },
  });
} finally {
  for (const m of [a, b]) await execa("podman", [...m.flags, ...PODMAN_GLOBAL, "system", "reset", "--force"], { env: m.env, reject: false, stdin: "ignore" });
  await rm(root, { recursive: true, force: true });
}
