import { suite } from "../../suite.ts";
import * as assert from "uvu/assert";
import { baseArgs, commandChannelArgs, consoleArgs, kernelCmdline, machineArgs, parseShare, qemuArgs, rngArgs, shareArgs, DEFAULT_VM, detectAccel } from "../../../network/vm/qemu.ts";

const t = suite("qemu argv");

const vm = { ...DEFAULT_VM, kernel: "/o/bzImage", initrd: "/o/initramfs.img", accel: "tcg" as const };

t("base: no default devices, no reboot so a panic ends qemu", () => {
  assert.ok(baseArgs().includes("-nodefaults"));
  assert.ok(baseArgs().includes("-no-reboot"));
});

t("machine: TCG uses qemu's max CPU, KVM the host CPU", () => {
  assert.equal(machineArgs("tcg", 2, 256), ["-machine", "q35,accel=tcg", "-cpu", "max", "-smp", "2", "-m", "256M"]);
  assert.equal(machineArgs("kvm", 4, 512), ["-machine", "q35,accel=kvm", "-cpu", "host", "-smp", "4", "-m", "512M"]);
  // A stock kernel under TCG: features turned off on max; KVM's host CPU is left as it is.
  assert.equal(machineArgs("tcg", 2, 256, ["cx16"]).slice(2, 4), ["-cpu", "max,cx16=off"]);
  assert.equal(machineArgs("kvm", 2, 256, ["cx16"]).slice(2, 4), ["-cpu", "host"]);
});

t("cmdline: serial console, panic stops the VM, command base64-encoded, user args last", () => {
  const line = kernelCmdline({ command: "echo 'a b'; exit 3", append: ["loglevel=7"], hostname: "xdp" });
  const words = line.split(" ");
  assert.ok(words.includes("console=ttyS0"));
  assert.ok(words.includes("panic=-1"));
  const cmd = words.find((w) => w.startsWith("xdplab.cmd="))!;
  assert.is(Buffer.from(cmd.slice("xdplab.cmd=".length), "base64").toString(), "echo 'a b'; exit 3");
  assert.is(words.at(-1), "loglevel=7");
});

t("cmdline: no command means no xdplab.cmd (interactive shell)", () => {
  assert.not.ok(kernelCmdline({ append: [], hostname: "xdp" }).includes("xdplab.cmd="));
});

t("--guest-root host: the host's / as a read-only 9p device and xdplab.root=host; the initramfs default adds neither", () => {
  const base = { kernel: "/k", initrd: "/i", accel: "tcg" as const, ...DEFAULT_VM };
  const host = qemuArgs({ ...base, guestRoot: "host" }).join(" ");
  assert.ok(host.includes("-fsdev local,id=fsroot,path=/,security_model=none,multidevs=remap,readonly=on"));
  assert.ok(host.includes("virtio-9p-pci,fsdev=fsroot,mount_tag=xdplab-root"));
  assert.ok(kernelCmdline({ ...base, guestRoot: "host" }).split(" ").includes("xdplab.root=host"));
  for (const c of [base, { ...base, guestRoot: "initramfs" as const }]) {
    assert.not.ok(qemuArgs(c).join(" ").includes("fsroot"));
    assert.not.ok(kernelCmdline(c).includes("xdplab.root"));
  }
});

t("rng and console devices", () => {
  assert.ok(rngArgs().join(" ").includes("virtio-rng-pci"));
  assert.equal(consoleArgs(), ["-chardev", "stdio,id=con0,signal=off", "-serial", "chardev:con0"]);
});

t("composed argv has kernel, initrd and each concern once", () => {
  const argv = qemuArgs(vm);
  assert.is(argv[argv.indexOf("-kernel") + 1], "/o/bzImage");
  assert.is(argv[argv.indexOf("-initrd") + 1], "/o/initramfs.img");
  assert.is(argv.filter((a) => a === "-machine").length, 1);
  assert.is(argv.filter((a) => a === "-serial").length, 1);
});

t("command channel: ttyS1 on a socket qemu waits on, and the guest is told to use it", () => {
  assert.equal(commandChannelArgs(undefined), []);
  assert.equal(commandChannelArgs("/run/x/cmd.sock"), ["-chardev", "socket,id=cmd0,path=/run/x/cmd.sock,server=on,wait=on", "-serial", "chardev:cmd0"]);
  const argv = qemuArgs({ ...vm, command: "true", commandSocket: "/s" });
  assert.ok(argv[argv.indexOf("-append") + 1]!.includes("xdplab.out=ttyS1"));
  assert.is(argv.filter((a) => a === "-serial").length, 2, "console first (ttyS0), channel second (ttyS1)");
  assert.ok(argv.indexOf("chardev:con0") < argv.indexOf("chardev:cmd0"));
});

t("--share: HOST[:GUEST][:ro], the guest path defaulting to the host's absolute one", () => {
  assert.equal(parseShare("/srv/build"), { host: "/srv/build", guest: "/srv/build", readOnly: false });
  assert.equal(parseShare("/srv/build:/mnt/b:ro"), { host: "/srv/build", guest: "/mnt/b", readOnly: true });
  assert.equal(parseShare("/srv/build:ro"), { host: "/srv/build", guest: "/srv/build", readOnly: true });
  assert.equal(parseShare("rel/dir:/mnt/r").host, `${process.cwd()}/rel/dir`);
  assert.throws(() => parseShare("/a:/b:/c"), /--share \/a:\/b:\/c: expected HOST_DIR\[:GUEST_DIR\]\[:ro\]\. Fix:/);
  assert.throws(() => parseShare("/a:mnt"), /the guest path mnt must be absolute and plain/);
  assert.throws(() => parseShare("/my dir"), /the guest path \/my dir must be absolute and plain.*Fix: name one/);
  assert.throws(() => parseShare("/a:/b,c"), /the guest path \/b,c must be absolute/);
});

t("--share: one 9p device per share, tagged in order, and the guest told where to mount each", () => {
  const shares = [parseShare("/srv/a"), parseShare("/srv/b:/mnt/b:ro")];
  assert.equal(shareArgs(shares), [
    "-fsdev",
    "local,id=fs0,path=/srv/a,security_model=none,multidevs=remap",
    "-device",
    "virtio-9p-pci,fsdev=fs0,mount_tag=share0",
    "-fsdev",
    "local,id=fs1,path=/srv/b,security_model=none,multidevs=remap,readonly=on",
    "-device",
    "virtio-9p-pci,fsdev=fs1,mount_tag=share1",
  ]);
  assert.match(kernelCmdline({ ...DEFAULT_VM, shares }), / xdplab\.share=share0:\/srv\/a,share1:\/mnt\/b( |$)/);
  assert.not.match(kernelCmdline({ ...DEFAULT_VM }), /xdplab\.share/);
  const argv = qemuArgs({ ...DEFAULT_VM, kernel: "k", initrd: "i", accel: "tcg", shares });
  assert.is(argv.filter((a) => a === "-fsdev").length, 2);
});

t("accel detection falls back to tcg when the device cannot be opened", () => {
  assert.is(detectAccel("/nonexistent/kvm"), "tcg");
});

t.run();
