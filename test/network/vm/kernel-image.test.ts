import { suite } from "../../suite.ts";
import * as assert from "uvu/assert";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { bzImageRelease, bzImageVersion } from "../../../network/vm/kernel-image.ts";
import { cleanup, tempDir } from "../../helpers.ts";

const t = suite("kernel image: the version in a bzImage's boot header");

t.after(cleanup);

t("reads the string kernel_version points at; not a bzImage: undefined", async () => {
  const dir = await tempDir();
  const img = Buffer.alloc(0x400);
  img.write("HdrS", 0x202, "latin1");
  img.writeUInt16LE(0x100, 0x20e);
  img.write("6.12.95+deb12-cloud-amd64 (debian-kernel@lists.debian.org) #1 SMP\0", 0x300, "latin1");
  await writeFile(join(dir, "bzImage"), img);
  assert.is(bzImageVersion(join(dir, "bzImage")), "6.12.95+deb12-cloud-amd64 (debian-kernel@lists.debian.org) #1 SMP");
  assert.is(bzImageRelease(join(dir, "bzImage")), "6.12.95+deb12-cloud-amd64");
  await writeFile(join(dir, "other"), Buffer.alloc(0x400));
  assert.is(bzImageVersion(join(dir, "other")), undefined);
});

t.run();
