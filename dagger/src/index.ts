/**
 * xdp-lab's build in containers: the same stage table as `xdp-lab build`, each stage's command run
 * in a Debian bookworm container pinned by digest, with the exact versions of src/build/packages.lock,
 * or in the very build image `xdp-lab build --container` used (its OCI archive from the build cache).
 * The kernel object tree and ccache live in named cache volumes; results are copied out of them.
 */
import { argument, dag, func, object, type Container, type Directory, type File } from "@dagger.io/dagger";
import { ENTRY_META } from "../../src/build/cache.ts";
import { aptSpecs, readLock } from "../../src/build/lock.ts";
import { DEFAULT_KERNEL, LINUX_SOURCES } from "../../src/build/packages.ts";
import { stage, type StageName } from "../../src/build/stages.ts";
import { BASE_IMAGE, CACHE_VOLUMES, LISTING_SCRIPT, applySteps, manifestFromListing, parseEpochs, publishedArtifacts, stageSteps } from "./pipeline.ts";

@object()
export class XdpLab {
  source: Directory;
  epochs: string;
  kernelEntry?: Directory;
  buildImage?: File;
  kernelVersion: string;

  constructor(
    /** The checkout (default: this repository, without outputs, dependencies and caches). */
    @argument({ defaultPath: "/", ignore: ["out", "**/out", "**/.work", "node_modules", "dagger/node_modules", ".git", ".cache"] })
    source: Directory,
    /** Each stage's SOURCE_DATE_EPOCH as JSON, from `./xdp-lab epochs`; without it every stage gets 0. */
    epochs = "{}",
    /**
     * The kernel stage's cache entry (~/.cache/xdp-lab/stages/kernel/KEY, KEY from `./xdp-lab cache
     * key kernel`), e.g. restored from CI's cache: when given, the kernel is taken from it, not built.
     */
    kernelEntry?: Directory,
    /**
     * The build image's OCI archive (~/.cache/xdp-lab/stages/image/KEY/image.tar, KEY from `./xdp-lab
     * cache key image`), e.g. restored from CI's cache: when given, it is the toolchain, so the build
     * needs nothing from Debian's archive, which keeps only the newest version of a package.
     */
    buildImage?: File,
    /** The kernel version built from the image's locked Debian source: 6.1 or 6.12 (as `xdp-lab build --container --kernel`), e.g. `dagger call --kernel-version 6.12 build export --path=out`. */
    kernelVersion = DEFAULT_KERNEL,
  ) {
    if (!LINUX_SOURCES[kernelVersion]) throw new Error(`--kernel-version ${kernelVersion}: not a kernel the build image holds. Fix: give ${Object.keys(LINUX_SOURCES).join(" or ")}`);
    this.source = source;
    this.epochs = epochs;
    this.kernelEntry = kernelEntry;
    this.buildImage = buildImage;
    this.kernelVersion = kernelVersion;
  }

  /**
   * The build container: the given build image, else Debian bookworm pinned by digest with every
   * package the build stages need, at the exact version src/build/packages.lock gives (as `xdp-lab
   * build --container` installs them).
   *
   * Example usage: dagger call toolchain terminal
   */
  @func()
  toolchain(): Container {
    if (this.buildImage) return dag.container().import_(this.buildImage);
    return dag
      .container()
      .from(BASE_IMAGE)
      .withMountedCache("/var/cache/apt/archives", dag.cacheVolume(CACHE_VOLUMES.aptArchives))
      .withMountedCache("/var/lib/apt/lists", dag.cacheVolume(CACHE_VOLUMES.aptLists))
      .withEnvVariable("DEBIAN_FRONTEND", "noninteractive")
      .withExec(["sh", "-c", `rm -f /etc/apt/apt.conf.d/docker-clean && apt-get update && apt-get install -y --no-install-recommends ${aptSpecs(readLock()).join(" ")}`]);
  }

  /**
   * The guest kernel: bzImage, kernel.config, kernel-config.report and kbuild/ for out-of-tree modules.
   *
   * Example usage: dagger call kernel export --path=out/kernel
   */
  @func()
  kernel(): Directory {
    return this.stageOutput("kernel");
  }

  /**
   * The xdp_lab_echo kernel module, built out of tree against the kernel stage.
   *
   * Example usage: dagger call kmod export --path=xdp_lab_echo.ko
   */
  @func()
  kmod(): File {
    return this.stageOutput("kmod").file("xdp_lab_echo.ko");
  }

  /**
   * The XDP programs: one <name>.bpf.o per bpf/<name>.bpf.c.
   *
   * Example usage: dagger call bpf export --path=out/bpf
   */
  @func()
  bpf(): Directory {
    return this.stageOutput("bpf");
  }

  /**
   * The statically linked xdp-lab-app and its example Lua script.
   *
   * Example usage: dagger call app export --path=out/app
   */
  @func()
  app(): Directory {
    return this.stageOutput("app");
  }

  /**
   * The initramfs (initramfs.img) with the programs, the module and the app.
   *
   * Example usage: dagger call rootfs export --path=initramfs.img
   */
  @func()
  rootfs(): File {
    return this.stageOutput("rootfs").file("initramfs.img");
  }

  /**
   * Every stage, in the layout of `xdp-lab build`'s out/, with manifest.json.
   *
   * Example usage: dagger call --epochs="$(./xdp-lab epochs)" build export --path=out
   */
  @func()
  async build(): Promise<Directory> {
    let out = dag.directory();
    for (const a of publishedArtifacts()) out = out.withFile(a.name, this.stageOutput(a.stage).file(a.name));
    const listing = await this.toolchain().withDirectory("/out", out).withWorkdir("/out").withExec(["sh", "-c", LISTING_SCRIPT]).stdout();
    const manifest = manifestFromListing(listing, parseEpochs(this.epochs));
    return out.withNewFile("manifest.json", JSON.stringify(manifest, null, 2) + "\n");
  }

  /** A stage's output directory: its command run in the toolchain on top of its upstream stages. */
  private stageOutput(name: StageName): Directory {
    // A cache entry is the stage's output plus its description.
    if (name === "kernel" && this.kernelEntry) return this.kernelEntry.withoutFile(ENTRY_META);
    const s = stage(name);
    const container = applySteps<Directory, ReturnType<typeof dag.cacheVolume>, Container>(this.toolchain(), stageSteps(s, parseEpochs(this.epochs)[name], this.kernelVersion), {
      source: this.source,
      empty: dag.directory(),
      upstream: (n) => this.stageOutput(n),
      cache: (volume) => dag.cacheVolume(volume),
    });
    // Outputs are written to /out, never to a cache mount, so the directory is the stage's own.
    return container.directory("/out");
  }
}
