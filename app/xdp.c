// SPDX-License-Identifier: GPL-2.0
/*
 * xdp.c: attaching programs. A new program is opened, tuned and verified before anything changes
 * on the interface, then goes live through the kernel's replace semantics.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_link.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "app.h"

/*
 * libbpf's warnings, kept so a rejected program's verifier log can be shown. libbpf's print
 * callback has no context pointer, hence one buffer for the process.
 */
static struct {
	char text[4096];
	size_t len;
} libbpf_log;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	int n;

	if (level == LIBBPF_DEBUG)
		return 0;
	n = vsnprintf(libbpf_log.text + libbpf_log.len, sizeof(libbpf_log.text) - libbpf_log.len, fmt, args);
	if (n > 0)
		libbpf_log.len = (libbpf_log.len + n < sizeof(libbpf_log.text)) ?
				 libbpf_log.len + n : sizeof(libbpf_log.text) - 1;
	return n;
}

void xdp_init(void)
{
	libbpf_set_print(libbpf_print);
}

static const char *driver_hint(__u32 flags)
{
	return flags == XDP_FLAGS_DRV_MODE ? " - not supported by this driver, try generic mode" : "";
}

struct attachment *find_attachment(struct app *a, const char *ifname)
{
	for (int i = 0; i < MAX_ATTACHED; i++)
		if (a->att[i].obj && !strcmp(a->att[i].ifname, ifname))
			return &a->att[i];
	return NULL;
}

/* Frees what the app holds for an attachment; the kernel's attachment is the caller's business. */
static void release(struct app *a, struct attachment *at)
{
	events_unwatch(a, at);
	bpf_object__close(at->obj);
	at->obj = NULL;
}

/*
 * Opens OBJ, sets its tunables and loads it into the kernel, filling everything of AT but where it
 * is attached. Nothing is attached yet: a failure here leaves the interface as it was.
 */
static int prepare(struct out *o, struct attachment *at, const char *path, char **opts, int nopts)
{
	struct bpf_prog_info info = { 0 };
	__u32 info_len = sizeof(info);
	struct bpf_program *prog;
	const char *want = NULL;
	int err;

	libbpf_log.len = 0;
	libbpf_log.text[0] = '\0';
	at->obj = bpf_object__open_file(path, NULL);
	if (!at->obj) {
		char msg[128];

		err = -errno;
		libbpf_strerror(err, msg, sizeof(msg));
		/* libelf and format errors have libbpf's own codes, which strerror() cannot name. */
		if (err == -LIBBPF_ERRNO__FORMAT || err == -LIBBPF_ERRNO__LIBELF)
			return out_error(o, "Failed to open %s: not a BPF ELF object (%s) - build it with clang -target bpf\n",
					 path, msg);
		return out_error(o, "Failed to open %s: %s\n", path, msg);
	}
	for (int i = 0; i < nopts; i++)
		if (!strncmp(opts[i], "program=", 8))
			want = opts[i] + 8;
	prog = object_choose_program(o, at->obj, path, want);
	if (!prog)
		goto err_close_obj;
	for (int i = 0; i < nopts; i++) {
		if (!strchr(opts[i], '=') || !strncmp(opts[i], "program=", 8))
			continue;
		err = object_set_tunable(at->obj, opts[i]);
		if (err) {
			out_error(o, "Failed to set %s in %s: %s%s\n", opts[i], path, strerror(-err),
				  err == -ENOENT ? " - the object has no such const volatile global" : "");
			goto err_close_obj;
		}
	}
	err = bpf_object__load(at->obj);
	if (err) {
		size_t len = libbpf_log.len, from = len > 1500 ? len - 1500 : 0;

		out_error(o, "Failed to load %s: %s\n%s", path, strerror(-err), libbpf_log.text + from);
		goto err_close_obj;
	}
	at->prog_fd = bpf_program__fd(prog);
	snprintf(at->object, sizeof(at->object), "%s", path);
	snprintf(at->program, sizeof(at->program), "%s", bpf_program__name(prog));
	at->prog_id = bpf_obj_get_info_by_fd(at->prog_fd, &info, &info_len) ? 0 : info.id;
	at->stats_fd = bpf_object__find_map_fd_by_name(at->obj, "stats");
	at->sources_fd = bpf_object__find_map_fd_by_name(at->obj, "sources");
	at->events = NULL;
	memset(at->last, 0, sizeof(at->last));
	clock_gettime(CLOCK_MONOTONIC, &at->last_at);
	return 0;

err_close_obj:
	bpf_object__close(at->obj);
	at->obj = NULL;
	return -1;
}

/*
 * Puts NEW live on an interface that runs OLD. In the same mode the kernel swaps them in one step
 * (XDP_FLAGS_REPLACE: it refuses when OLD is no longer the one attached). The kernel refuses
 * native and generic on one device at once, so a mode change detaches OLD first and attaches it
 * again when NEW is refused.
 */
static int replace(struct app *a, struct out *o, struct attachment *old, struct attachment *new)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = old->prog_fd);
	int err, err2;

	if (new->flags == old->flags) {
		err = bpf_xdp_attach(old->ifindex, new->prog_fd, new->flags | XDP_FLAGS_REPLACE, &opts);
		if (err)
			return out_error(o, "Failed to attach %s to %s: %s%s; %s (id %u) stays attached\n",
					 new->object, old->ifname, strerror(-err), driver_hint(new->flags),
					 old->program, old->prog_id);
		return 0;
	}
	err = bpf_xdp_detach(old->ifindex, old->flags | XDP_FLAGS_REPLACE, &opts);
	if (err)
		return out_error(o, "Failed to detach %s from %s for the mode change: %s; it stays attached\n",
				 old->program, old->ifname, strerror(-err));
	err = bpf_xdp_attach(old->ifindex, new->prog_fd, new->flags, NULL);
	if (!err)
		return 0;
	err2 = bpf_xdp_attach(old->ifindex, old->prog_fd, old->flags, NULL);
	if (!err2)
		return out_error(o, "Failed to attach %s to %s in %s mode: %s%s; %s (id %u) is attached again in %s mode\n",
				 new->object, old->ifname, mode_name(new->flags), strerror(-err),
				 driver_hint(new->flags), old->program, old->prog_id, mode_name(old->flags));
	out_error(o, "Failed to attach %s to %s in %s mode: %s%s; %s could not be attached again (%s): %s has no program now\n",
		  new->object, old->ifname, mode_name(new->flags), strerror(-err), driver_hint(new->flags),
		  old->program, strerror(-err2), old->ifname);
	release(a, old);
	return -1;
}

/*
 * load OBJ IFACE [native|generic] [program=NAME] [NAME=VALUE ...]: when any step fails, the program
 * that ran there before keeps running.
 */
static int cmd_load(struct app *a, struct out *o, int argc, char **argv)
{
	const char *path = argv[0], *ifname = argv[1], *mode = NULL;
	struct attachment new = { 0 }, *old, *at = NULL;
	struct json *j = out_json(o);
	__u32 replaced = 0;
	int ifindex, err;

	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "native") || !strcmp(argv[i], "generic"))
			mode = argv[i];
		else if (!strchr(argv[i], '='))
			return out_error(o, "unknown mode '%s': use native or generic (or NAME=VALUE to set a tunable)\n",
					 argv[i]);
	}
	if (access(path, R_OK))
		return out_error(o, "cannot read object %s: %s%s\n", path, strerror(errno),
				 errno == ENOENT ? " - the file does not exist" : "");
	ifindex = if_nametoindex(ifname);
	if (!ifindex)
		return out_error(o, "unknown interface '%s': see 'ip link' for the names here\n", ifname);
	old = find_attachment(a, ifname);
	for (int i = 0; i < MAX_ATTACHED && !old && !at; i++)
		if (!a->att[i].obj)
			at = &a->att[i];
	if (!old && !at)
		return out_error(o, "too many programs attached (%d)\n", MAX_ATTACHED);
	if (prepare(o, &new, path, argv + 2, argc - 2))
		return CMD_FAILED;
	snprintf(new.ifname, sizeof(new.ifname), "%s", ifname);
	new.ifindex = ifindex;

	/* Native first; a driver that cannot run XDP itself still gets the generic hook. A replace keeps the mode. */
	if (mode)
		new.flags = !strcmp(mode, "generic") ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
	else
		new.flags = old ? old->flags : XDP_FLAGS_DRV_MODE;
	if (old) {
		if (replace(a, o, old, &new))
			goto err_release;
		/* Live: only now does the old program's state go. */
		replaced = old->prog_id;
		release(a, old);
		at = old;
	} else {
		err = bpf_xdp_attach(ifindex, new.prog_fd, new.flags, NULL);
		if (err && !mode) {
			new.flags = XDP_FLAGS_SKB_MODE;
			err = bpf_xdp_attach(ifindex, new.prog_fd, new.flags, NULL);
		}
		if (err) {
			out_error(o, "Failed to attach %s to %s: %s%s\n", path, ifname, strerror(-err),
				  driver_hint(new.flags));
			goto err_release;
		}
	}
	*at = new;
	if (events_watch(a, at))
		out_printf(o, "warning: events of %s will not be shown: %s\n", ifname, strerror(errno));
	out_printf(o, "loaded %s on %s mode=%s id=%u", at->program, ifname, mode_name(at->flags), at->prog_id);
	if (replaced)
		out_printf(o, " replaced=%u", replaced);
	out_printf(o, "\n");
	json_str(j, "iface", ifname);
	json_str(j, "program", at->program);
	json_str(j, "object", path);
	json_str(j, "mode", mode_name(at->flags));
	json_uint(j, "id", at->prog_id);
	if (replaced)
		json_uint(j, "replaced", replaced);
	return CMD_OK;

err_release:
	release(a, &new);
	return CMD_FAILED;
}

static void detach(struct app *a, struct attachment *at)
{
	bpf_xdp_detach(at->ifindex, at->flags, NULL);
	release(a, at);
}

void detach_all(struct app *a)
{
	for (int i = 0; i < MAX_ATTACHED; i++)
		if (a->att[i].obj)
			detach(a, &a->att[i]);
}

static int cmd_unload(struct app *a, struct out *o, int argc, char **argv)
{
	struct attachment *at = find_attachment(a, argv[0]);

	(void)argc;
	if (!at)
		return out_error(o, "no program attached to '%s'\n", argv[0]);
	detach(a, at);
	out_printf(o, "unloaded %s\n", argv[0]);
	json_str(out_json(o), "iface", argv[0]);
	return CMD_OK;
}

/* Sets or clears `blocked` for an IPv4 source in every attached program that has `sources`. */
static int xdp_block(struct app *a, struct out *o, const char *ip, bool block)
{
	struct xdp_lab_source v = { 0 };
	struct in6_addr addr6;
	struct in_addr addr;
	int applied = 0, failed = 0;

	if (inet_pton(AF_INET6, ip, &addr6) == 1)
		return out_error(o, "'%s' is IPv6: firewall.bpf.o keys its sources by IPv4 address and passes all IPv6 traffic - block IPv6 sources with xdp-filter (xdp-filter ip -m src %s)\n",
				 ip, ip);
	if (inet_pton(AF_INET, ip, &addr) != 1)
		return out_error(o, "'%s' is not an IPv4 address: use dotted quad, e.g. %s 10.0.0.2\n",
				 ip, block ? "block" : "unblock");
	for (int i = 0; i < MAX_ATTACHED; i++) {
		struct attachment *at = &a->att[i];

		if (!at->obj || at->sources_fd < 0)
			continue;
		if (bpf_map_lookup_elem(at->sources_fd, &addr.s_addr, &v))
			memset(&v, 0, sizeof(v));
		v.blocked = block;
		if (bpf_map_update_elem(at->sources_fd, &addr.s_addr, &v, BPF_ANY))
			failed = out_error(o, "Failed to update sources on %s: %s\n", at->ifname, strerror(errno));
		else
			applied++;
	}
	if (!applied)
		return failed ? CMD_FAILED :
		       out_error(o, "no attached program has a sources map: load firewall.bpf.o first\n");
	out_printf(o, "%s %s\n", block ? "blocked" : "unblocked", ip);
	json_str(out_json(o), "ip", ip);
	json_uint(out_json(o), "programs", applied);
	return failed ? CMD_FAILED : CMD_OK;
}

static int cmd_block(struct app *a, struct out *o, int argc, char **argv)
{
	(void)argc;
	return xdp_block(a, o, argv[0], true);
}

static int cmd_unblock(struct app *a, struct out *o, int argc, char **argv)
{
	(void)argc;
	return xdp_block(a, o, argv[0], false);
}

const struct command xdp_commands[] = {
	{ "load", "OBJ IFACE [native|generic] [program=NAME] [NAME=VALUE ...]", 2, 16, false, cmd_load,
	  "attach an XDP object (native first, then generic),\n"
	  "its first XDP program or the one program=NAME names\n"
	  "(its name or section), setting its const volatile\n"
	  "tunables first; onto a running program: replace it\n"
	  "in one step" },
	{ "unload", "IFACE", 1, 1, false, cmd_unload, "detach it" },
	{ "block", "IP", 1, 1, false, cmd_block, "set a source blocked in the firewall's map" },
	{ "unblock", "IP", 1, 1, false, cmd_unblock, "clear it" },
	{ .name = NULL },
};
