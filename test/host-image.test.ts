import { suite } from "./suite.ts";
import * as assert from "uvu/assert";
import { HOST_IMAGE_PACKAGES, hostImageScript, hostImageTag } from "../src/host-image.ts";

const t = suite("host image");

t("the default image: the lab's tools on the minimal base, tagged by what goes into it", () => {
  for (const p of ["iputils-ping", "curl", "iperf3", "tcpdump", "busybox", "tcpreplay"]) assert.ok(HOST_IMAGE_PACKAGES.includes(p), p);
  assert.match(hostImageScript(), /apt-get install -y -qq --no-install-recommends iputils-ping curl/);
  assert.match(hostImageTag(), /^localhost\/xdp-lab-host:[0-9a-f]{16}$/);
  assert.is(hostImageTag(), hostImageTag());
});

t.run();
