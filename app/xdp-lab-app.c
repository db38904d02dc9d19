// SPDX-License-Identifier: GPL-2.0
/*
 * xdp-lab-app: loads the lab's XDP programs and runs one epoll loop over file descriptors only:
 * the console on stdin, a timerfd that reads the counters, a generic netlink socket talking to the
 * xdp_lab_echo module, and a signalfd that detaches everything on SIGINT/SIGTERM.
 */
#include <errno.h>
#include <linux/genetlink.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <lua5.4/lauxlib.h>
#include <lua5.4/lua.h>
#include <lua5.4/lualib.h>

#include "../bpf/xdp_lab.h"
#include "../kmod/xdp_lab_echo.h"

#define MAX_ATTACHED 8

struct attachment {
	char ifname[IF_NAMESIZE];
	int ifindex;
	__u32 flags;			/* XDP_FLAGS_DRV_MODE or XDP_FLAGS_SKB_MODE */
	struct bpf_object *obj;
	int stats_fd;			/* -1 when the program has no `stats` map */
	int sources_fd;			/* the firewall's `sources` map, else -1 */
	struct ring_buffer *events;	/* the program's `events` ring buffer, if any */
	struct xdp_lab_stats last[XDP_LAB_STATS_SLOTS];
	struct timespec last_at;
};

struct app {
	int epfd, sigfd, timerfd, genl_fd;
	__u16 genl_family;
	__u32 genl_seq;
	int genl_pending;		/* echo requests sent and not yet answered */
	bool watch;
	unsigned int interval_ms;
	struct attachment att[MAX_ATTACHED];
	lua_State *lua;			/* the loaded script, or NULL */
	char verifier_log[4096];
	size_t verifier_len;
};

static void cmd_block(struct app *a, const char *ip, bool block);
static void cmd_echo(struct app *a, const char *text);
static void call_hook(struct app *a, const char *name, int nargs);

static const char *const verdict_names[XDP_LAB_STATS_SLOTS] = {
	"aborted", "drop", "pass", "tx", "redirect",
};

/* libbpf's messages, kept so a rejected program's verifier log can be shown. */
static struct app *log_sink;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	struct app *a = log_sink;
	int n;

	if (level == LIBBPF_DEBUG || !a)
		return 0;
	n = vsnprintf(a->verifier_log + a->verifier_len,
		      sizeof(a->verifier_log) - a->verifier_len, fmt, args);
	if (n > 0)
		a->verifier_len = (a->verifier_len + n < sizeof(a->verifier_log)) ?
				  a->verifier_len + n : sizeof(a->verifier_log) - 1;
	return n;
}

static void reply(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

static struct attachment *find_attachment(struct app *a, const char *ifname)
{
	for (int i = 0; i < MAX_ATTACHED; i++)
		if (a->att[i].obj && !strcmp(a->att[i].ifname, ifname))
			return &a->att[i];
	return NULL;
}

static double elapsed(const struct timespec *from, const struct timespec *to)
{
	return (to->tv_sec - from->tv_sec) + (to->tv_nsec - from->tv_nsec) / 1e9;
}

/* Sums the per-CPU counters of each verdict. */
static int read_stats(struct attachment *at, struct xdp_lab_stats *sum)
{
	int ncpus = libbpf_num_possible_cpus();
	struct xdp_lab_stats *per_cpu;

	if (ncpus < 0)
		return ncpus;
	per_cpu = calloc(ncpus, sizeof(*per_cpu));
	if (!per_cpu)
		return -ENOMEM;
	for (__u32 key = 0; key < XDP_LAB_STATS_SLOTS; key++) {
		sum[key].packets = sum[key].bytes = 0;
		if (bpf_map_lookup_elem(at->stats_fd, &key, per_cpu))
			continue;
		for (int c = 0; c < ncpus; c++) {
			sum[key].packets += per_cpu[c].packets;
			sum[key].bytes += per_cpu[c].bytes;
		}
	}
	free(per_cpu);
	return 0;
}

/*
 * Reads every attached program's counters; prints them when asked, and hands them to the script's
 * on_tick(stats, seconds) as stats[iface][verdict] = { packets, bytes, pps, bps }.
 */
static void tick(struct app *a, bool print)
{
	struct xdp_lab_stats now[XDP_LAB_STATS_SLOTS];
	lua_State *L = a->lua;
	struct timespec t;
	double dt_max = 0;
	bool any = false;

	clock_gettime(CLOCK_MONOTONIC, &t);
	if (L)
		lua_newtable(L);
	for (int i = 0; i < MAX_ATTACHED; i++) {
		struct attachment *at = &a->att[i];
		double dt = elapsed(&at->last_at, &t);

		if (!at->obj || at->stats_fd < 0)
			continue;
		any = true;
		if (read_stats(at, now))
			continue;
		if (dt > dt_max)
			dt_max = dt;
		if (L)
			lua_newtable(L);
		for (int v = 0; v < XDP_LAB_STATS_SLOTS; v++) {
			double pps = dt > 0 ? (now[v].packets - at->last[v].packets) / dt : 0;
			double bps = dt > 0 ? (now[v].bytes - at->last[v].bytes) * 8 / dt : 0;

			/* Verdicts the program never gave stay quiet; pass and drop always show. */
			if (!now[v].packets && v != XDP_PASS && v != XDP_DROP)
				continue;
			if (print)
				reply("stats %s %s packets=%llu bytes=%llu pps=%.0f bps=%.0f\n",
				      at->ifname, verdict_names[v], now[v].packets, now[v].bytes, pps, bps);
			if (L) {
				lua_newtable(L);
				lua_pushinteger(L, now[v].packets);
				lua_setfield(L, -2, "packets");
				lua_pushinteger(L, now[v].bytes);
				lua_setfield(L, -2, "bytes");
				lua_pushnumber(L, pps);
				lua_setfield(L, -2, "pps");
				lua_pushnumber(L, bps);
				lua_setfield(L, -2, "bps");
				lua_setfield(L, -2, verdict_names[v]);
			}
		}
		if (L)
			lua_setfield(L, -2, at->ifname);
		memcpy(at->last, now, sizeof(now));
		at->last_at = t;
	}
	if (print && !any)
		reply("stats: no program attached\n");
	if (L) {
		lua_pushnumber(L, dt_max > 0 ? dt_max : a->interval_ms / 1000.0);
		call_hook(a, "on_tick", 2);
	}
}

static void print_stats(struct app *a)
{
	tick(a, true);
}

static const char *const reason_names[] = { "allowed", "blocked", "runt", "not-ipv4" };

static int on_event(void *ctx, void *data, size_t size)
{
	const struct xdp_lab_event *e = data;
	char src[INET_ADDRSTRLEN], dst[INET_ADDRSTRLEN];
	struct app *a = ctx;

	if (size < sizeof(*e))
		return 0;
	inet_ntop(AF_INET, &e->saddr, src, sizeof(src));
	inet_ntop(AF_INET, &e->daddr, dst, sizeof(dst));
	reply("event src=%s dst=%s proto=%u sport=%u dport=%u verdict=%s reason=%s len=%u\n",
	      src, dst, e->protocol, e->sport, e->dport,
	      e->verdict < XDP_LAB_STATS_SLOTS ? verdict_names[e->verdict] : "?",
	      e->reason < 4 ? reason_names[e->reason] : "?", e->len);
	if (a->lua) {
		lua_State *L = a->lua;

		lua_newtable(L);
		lua_pushstring(L, src);
		lua_setfield(L, -2, "src");
		lua_pushstring(L, dst);
		lua_setfield(L, -2, "dst");
		lua_pushinteger(L, e->protocol);
		lua_setfield(L, -2, "proto");
		lua_pushinteger(L, e->sport);
		lua_setfield(L, -2, "sport");
		lua_pushinteger(L, e->dport);
		lua_setfield(L, -2, "dport");
		lua_pushstring(L, e->verdict < XDP_LAB_STATS_SLOTS ? verdict_names[e->verdict] : "?");
		lua_setfield(L, -2, "verdict");
		lua_pushstring(L, e->reason < 4 ? reason_names[e->reason] : "?");
		lua_setfield(L, -2, "reason");
		lua_pushinteger(L, e->len);
		lua_setfield(L, -2, "len");
		call_hook(a, "on_event", 1);
	}
	return 0;
}

/* Sets or clears `blocked` for an IPv4 source in every attached program that has `sources`. */
static void cmd_block(struct app *a, const char *ip, bool block)
{
	struct xdp_lab_source v = { 0 };
	struct in_addr addr;
	int applied = 0;

	if (!ip || inet_pton(AF_INET, ip, &addr) != 1) {
		reply("error: '%s' is not an IPv4 address: use dotted quad, e.g. %s 10.0.0.2\n",
		      ip ? ip : "", block ? "block" : "unblock");
		return;
	}
	for (int i = 0; i < MAX_ATTACHED; i++) {
		struct attachment *at = &a->att[i];

		if (!at->obj || at->sources_fd < 0)
			continue;
		if (bpf_map_lookup_elem(at->sources_fd, &addr.s_addr, &v))
			memset(&v, 0, sizeof(v));
		v.blocked = block;
		if (bpf_map_update_elem(at->sources_fd, &addr.s_addr, &v, BPF_ANY))
			reply("error: Failed to update sources on %s: %s\n", at->ifname, strerror(errno));
		else
			applied++;
	}
	if (applied)
		reply("%s %s\n", block ? "blocked" : "unblocked", ip);
	else
		reply("error: no attached program has a sources map: load firewall.bpf.o first\n");
}

static void cmd_load(struct app *a, const char *path, const char *ifname, const char *mode)
{
	struct bpf_program *prog;
	struct attachment *at = NULL;
	int ifindex, err;

	if (!path || !ifname) {
		reply("error: usage: load OBJ IFACE [native|generic]\n");
		return;
	}
	if (mode && strcmp(mode, "native") && strcmp(mode, "generic")) {
		reply("error: unknown mode '%s': use native or generic\n", mode);
		return;
	}
	if (access(path, R_OK)) {
		reply("error: cannot read object %s: %s\n", path, strerror(errno));
		return;
	}
	ifindex = if_nametoindex(ifname);
	if (!ifindex) {
		reply("error: unknown interface '%s': see 'ip link' for the names here\n", ifname);
		return;
	}
	if (find_attachment(a, ifname)) {
		reply("error: %s already has a program: 'unload %s' first\n", ifname, ifname);
		return;
	}
	for (int i = 0; i < MAX_ATTACHED && !at; i++)
		if (!a->att[i].obj)
			at = &a->att[i];
	if (!at) {
		reply("error: too many programs attached (%d)\n", MAX_ATTACHED);
		return;
	}

	a->verifier_len = 0;
	a->verifier_log[0] = '\0';
	at->obj = bpf_object__open_file(path, NULL);
	if (!at->obj) {
		reply("error: Failed to open %s: %s\n", path, strerror(errno));
		return;
	}
	err = bpf_object__load(at->obj);
	if (err) {
		size_t len = a->verifier_len, from = len > 1500 ? len - 1500 : 0;

		reply("error: Failed to load %s: %s\n%s", path, strerror(-err), a->verifier_log + from);
		goto err_close_obj;
	}
	prog = bpf_object__next_program(at->obj, NULL);
	if (!prog) {
		reply("error: %s has no program\n", path);
		goto err_close_obj;
	}

	/* Native first; a driver that cannot run XDP itself still gets the generic hook. */
	at->flags = (mode && !strcmp(mode, "generic")) ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
	err = bpf_xdp_attach(ifindex, bpf_program__fd(prog), at->flags, NULL);
	if (err && !mode) {
		at->flags = XDP_FLAGS_SKB_MODE;
		err = bpf_xdp_attach(ifindex, bpf_program__fd(prog), at->flags, NULL);
	}
	if (err) {
		reply("error: Failed to attach %s to %s: %s%s\n", path, ifname, strerror(-err),
		      at->flags == XDP_FLAGS_DRV_MODE ?
		      " - not supported by this driver, try generic mode" : "");
		goto err_close_obj;
	}
	snprintf(at->ifname, sizeof(at->ifname), "%s", ifname);
	at->ifindex = ifindex;
	at->stats_fd = bpf_object__find_map_fd_by_name(at->obj, "stats");
	at->sources_fd = bpf_object__find_map_fd_by_name(at->obj, "sources");
	at->events = NULL;
	if (bpf_object__find_map_by_name(at->obj, "events")) {
		struct epoll_event ev = { .events = EPOLLIN };

		at->events = ring_buffer__new(bpf_object__find_map_fd_by_name(at->obj, "events"),
					      on_event, a, NULL);
		ev.data.fd = at->events ? ring_buffer__epoll_fd(at->events) : -1;
		if (!at->events || epoll_ctl(a->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev))
			reply("warning: events of %s will not be shown: %s\n", ifname, strerror(errno));
	}
	memset(at->last, 0, sizeof(at->last));
	clock_gettime(CLOCK_MONOTONIC, &at->last_at);
	reply("loaded %s on %s mode=%s\n", bpf_program__name(prog), ifname,
	      at->flags == XDP_FLAGS_DRV_MODE ? "native" : "generic");
	return;

err_close_obj:
	bpf_object__close(at->obj);
	at->obj = NULL;
}

static void detach(struct attachment *at)
{
	bpf_xdp_detach(at->ifindex, at->flags, NULL);
	ring_buffer__free(at->events);	/* closing its epoll fd takes it out of our set */
	at->events = NULL;
	bpf_object__close(at->obj);
	at->obj = NULL;
}

static void cmd_unload(struct app *a, const char *ifname)
{
	struct attachment *at;

	if (!ifname) {
		reply("error: usage: unload IFACE\n");
		return;
	}
	at = find_attachment(a, ifname);
	if (!at) {
		reply("error: no program attached to '%s'\n", ifname);
		return;
	}
	detach(at);
	reply("unloaded %s\n", ifname);
}

/* Appends one attribute to a netlink message built in buf. */
static void put_attr(struct nlmsghdr *nlh, __u16 type, const void *data, __u16 len)
{
	struct nlattr *nla = (struct nlattr *)((char *)nlh + NLMSG_ALIGN(nlh->nlmsg_len));

	nla->nla_type = type;
	nla->nla_len = NLA_HDRLEN + len;
	memcpy((char *)nla + NLA_HDRLEN, data, len);
	nlh->nlmsg_len = NLMSG_ALIGN(nlh->nlmsg_len) + NLA_ALIGN(nla->nla_len);
}

/* The payload of the first attribute of `type` in [start, end), or NULL; malformed lengths stop it. */
static const void *find_attr(const void *start, const void *end, __u16 type)
{
	const struct nlattr *nla = start;

	while ((const char *)end - (const char *)nla >= NLA_HDRLEN && nla->nla_len >= NLA_HDRLEN &&
	       (const char *)nla + nla->nla_len <= (const char *)end) {
		if ((nla->nla_type & NLA_TYPE_MASK) == type)
			return (const char *)nla + NLA_HDRLEN;
		nla = (const void *)((const char *)nla + NLA_ALIGN(nla->nla_len));
	}
	return NULL;
}

/* An attribute of a generic netlink message (after its genlmsghdr), or NULL. */
static const void *genl_attr(const struct nlmsghdr *nlh, __u16 type)
{
	return find_attr((const char *)NLMSG_DATA(nlh) + GENL_HDRLEN,
			 (const char *)nlh + nlh->nlmsg_len, type);
}

static int genl_send(struct app *a, __u16 family, __u8 cmd, __u16 attr, const char *text)
{
	char buf[1024] = { 0 };
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	struct genlmsghdr *g = NLMSG_DATA(nlh);

	nlh->nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	nlh->nlmsg_type = family;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++a->genl_seq;
	g->cmd = cmd;
	g->version = 1;
	if (text)
		put_attr(nlh, attr, text, strlen(text) + 1);
	return send(a->genl_fd, buf, nlh->nlmsg_len, 0) < 0 ? -errno : 0;
}

/* Resolves the echo family's id once; a missing module is the caller's message to give. */
static int genl_resolve(struct app *a)
{
	char buf[4096];
	ssize_t n;
	int err;

	if (a->genl_family)
		return 0;
	err = genl_send(a, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, CTRL_ATTR_FAMILY_NAME,
			XDP_LAB_ECHO_FAMILY_NAME);
	if (err)
		return err;
	/* The controller answers at once; this is the one synchronous read, done before any echo. */
	while ((n = recv(a->genl_fd, buf, sizeof(buf), 0)) > 0) {
		for (struct nlmsghdr *nlh = (void *)buf; NLMSG_OK(nlh, n); nlh = NLMSG_NEXT(nlh, n)) {
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(nlh);

				if (e->error)
					return e->error;
				return a->genl_family ? 0 : -ENOENT;
			}
			if (nlh->nlmsg_type == GENL_ID_CTRL) {
				const __u16 *id = genl_attr(nlh, CTRL_ATTR_FAMILY_ID);

				if (id)
					a->genl_family = *id;
			}
		}
	}
	return a->genl_family ? 0 : -ENOENT;
}

static void cmd_echo(struct app *a, const char *text)
{
	int err;

	if (!text) {
		reply("error: usage: echo TEXT\n");
		return;
	}
	err = genl_resolve(a);
	if (err == -ENOENT) {
		reply("error: generic netlink family %s not found: load the module (insmod xdp_lab_echo.ko)\n",
		      XDP_LAB_ECHO_FAMILY_NAME);
		return;
	}
	if (!err)
		err = genl_send(a, a->genl_family, XDP_LAB_ECHO_CMD_ECHO, XDP_LAB_ECHO_A_TEXT, text);
	if (err)
		reply("error: Failed to send echo: %s\n", strerror(-err));
	else
		a->genl_pending++;
}

/* Replies arrive here, in the event loop: the echo's answer, or an error with its extended ack. */
static void on_genl(struct app *a)
{
	char buf[8192];
	ssize_t n = recv(a->genl_fd, buf, sizeof(buf), MSG_DONTWAIT);

	for (struct nlmsghdr *nlh = (void *)buf; n > 0 && NLMSG_OK(nlh, n); nlh = NLMSG_NEXT(nlh, n)) {
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			struct nlmsgerr *e = NLMSG_DATA(nlh);
			const char *msg = "";

			/* Each request ends with exactly one ack or error. */
			if (a->genl_pending > 0)
				a->genl_pending--;
			if (!e->error)
				continue;
			/* The extended ack follows the echoed request header (capped: no payload). */
			if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
				const char *tlvs = (const char *)e + sizeof(*e) + e->msg.nlmsg_len -
						   NLMSG_HDRLEN;
				const char *found = find_attr(tlvs, (const char *)nlh + nlh->nlmsg_len,
							      NLMSGERR_ATTR_MSG);

				if (found)
					msg = found;
			}
			reply("error: echo rejected: %s%s%s\n", strerror(-e->error), *msg ? ": " : "", msg);
		} else if (nlh->nlmsg_type == a->genl_family) {
			const char *text = genl_attr(nlh, XDP_LAB_ECHO_A_TEXT);
			const __u32 *seq = genl_attr(nlh, XDP_LAB_ECHO_A_SEQ);

			reply("echo seq=%u %s\n", seq ? *seq : 0, text ? text : "");
		}
	}
}

/* The timer runs while stats are watched or a script is loaded (for its on_tick). */
static void update_timer(struct app *a)
{
	struct itimerspec its = { 0 };

	if (a->watch || a->lua) {
		its.it_interval.tv_sec = a->interval_ms / 1000;
		its.it_interval.tv_nsec = (a->interval_ms % 1000) * 1000000L;
		its.it_value = its.it_interval;
	}
	timerfd_settime(a->timerfd, 0, &its, NULL);
}

static void set_watch(struct app *a, bool on)
{
	a->watch = on;
	update_timer(a);
}

/* Calls the script's global `name` with the nargs values on the stack; errors are reported, not fatal. */
static void call_hook(struct app *a, const char *name, int nargs)
{
	lua_State *L = a->lua;

	lua_getglobal(L, name);
	if (!lua_isfunction(L, -1)) {
		lua_pop(L, nargs + 1);
		return;
	}
	lua_insert(L, -(nargs + 1));
	if (lua_pcall(L, nargs, 0, 0) != LUA_OK) {
		reply("error: lua %s: %s\n", name, lua_tostring(L, -1));
		lua_pop(L, 1);
	}
}

static struct app *lua_owner(lua_State *L)
{
	return lua_touserdata(L, lua_upvalueindex(1));
}

static int lab_block(lua_State *L)
{
	cmd_block(lua_owner(L), luaL_checkstring(L, 1), true);
	return 0;
}

static int lab_unblock(lua_State *L)
{
	cmd_block(lua_owner(L), luaL_checkstring(L, 1), false);
	return 0;
}

static int lab_echo(lua_State *L)
{
	cmd_echo(lua_owner(L), luaL_checkstring(L, 1));
	return 0;
}

static int lab_log(lua_State *L)
{
	luaL_Buffer b;
	int n = lua_gettop(L);

	luaL_buffinit(L, &b);
	for (int i = 1; i <= n; i++) {
		luaL_tolstring(L, i, NULL);
		luaL_addvalue(&b);
		if (i < n)
			luaL_addchar(&b, ' ');
	}
	luaL_pushresult(&b);
	reply("lua: %s\n", lua_tostring(L, -1));
	return 0;
}

/* lab.sources(): { ["10.0.0.2"] = { packets = N, blocked = bool }, ... } from the firewall's map. */
static int lab_sources(lua_State *L)
{
	struct app *a = lua_owner(L);

	lua_newtable(L);
	for (int i = 0; i < MAX_ATTACHED; i++) {
		struct attachment *at = &a->att[i];
		__u32 key, *prev = NULL;

		if (!at->obj || at->sources_fd < 0)
			continue;
		while (!bpf_map_get_next_key(at->sources_fd, prev, &key)) {
			struct xdp_lab_source v;
			char ip[INET_ADDRSTRLEN];

			prev = &key;
			if (bpf_map_lookup_elem(at->sources_fd, &key, &v))
				continue;
			inet_ntop(AF_INET, &key, ip, sizeof(ip));
			lua_newtable(L);
			lua_pushinteger(L, v.packets);
			lua_setfield(L, -2, "packets");
			lua_pushboolean(L, v.blocked);
			lua_setfield(L, -2, "blocked");
			lua_setfield(L, -2, ip);
		}
	}
	return 1;
}

/* Loads (or reloads) a script; on any error the script that was running stays. */
static void cmd_lua(struct app *a, const char *path)
{
	static const luaL_Reg lab[] = {
		{ "block", lab_block }, { "unblock", lab_unblock }, { "echo", lab_echo },
		{ "log", lab_log }, { "sources", lab_sources }, { NULL, NULL },
	};
	lua_State *L;

	if (!path) {
		reply("error: usage: lua FILE\n");
		return;
	}
	L = luaL_newstate();
	if (!L) {
		reply("error: Failed to create a Lua state: out of memory\n");
		return;
	}
	luaL_openlibs(L);
	luaL_newlibtable(L, lab);
	lua_pushlightuserdata(L, a);
	luaL_setfuncs(L, lab, 1);
	lua_setglobal(L, "lab");
	if (luaL_loadfile(L, path) != LUA_OK || lua_pcall(L, 0, 0, 0) != LUA_OK) {
		reply("error: lua: %s; the previous script keeps running\n", lua_tostring(L, -1));
		lua_close(L);
		return;
	}
	if (a->lua)
		lua_close(a->lua);
	a->lua = L;
	update_timer(a);
	reply("lua loaded %s\n", path);
}

static void help(void)
{
	reply("commands:\n"
	      "  load OBJ IFACE [native|generic]  attach an XDP object (native first, then generic)\n"
	      "  unload IFACE                     detach it\n"
	      "  stats                            packets, bytes and rates per verdict\n"
	      "  watch on|off                     print stats every interval\n"
	      "  block IP | unblock IP            set or clear a source in the firewall's map\n"
	      "  echo TEXT                        round trip through the xdp_lab_echo module\n"
	      "  lua FILE                         load or reload a script (on_event, on_tick; lab.*)\n"
	      "  quit                             detach everything and exit\n");
}

/* Runs one console line; returns false on quit. */
static bool run_command(struct app *a, char *line)
{
	char *rest = line + strspn(line, " \t");
	char *cmd = strsep(&rest, " \t");
	char *text = rest ? rest + strspn(rest, " \t") : NULL;
	char *arg1, *arg2, *arg3;

	if (!cmd || !*cmd)
		return true;
	/* echo takes the rest of the line as is; the others take words. */
	if (!strcmp(cmd, "echo")) {
		cmd_echo(a, text && *text ? text : NULL);
		return true;
	}
	arg1 = text ? strtok(text, " \t") : NULL;
	arg2 = arg1 ? strtok(NULL, " \t") : NULL;
	arg3 = arg2 ? strtok(NULL, " \t") : NULL;
	if (!strcmp(cmd, "help"))
		help();
	else if (!strcmp(cmd, "load"))
		cmd_load(a, arg1, arg2, arg3);
	else if (!strcmp(cmd, "unload"))
		cmd_unload(a, arg1);
	else if (!strcmp(cmd, "stats"))
		print_stats(a);
	else if (!strcmp(cmd, "watch") && arg1 && (!strcmp(arg1, "on") || !strcmp(arg1, "off")))
		set_watch(a, !strcmp(arg1, "on"));
	else if (!strcmp(cmd, "watch"))
		reply("error: usage: watch on|off\n");
	else if (!strcmp(cmd, "lua"))
		cmd_lua(a, arg1);
	else if (!strcmp(cmd, "block") || !strcmp(cmd, "unblock"))
		cmd_block(a, arg1, !strcmp(cmd, "block"));
	else if (!strcmp(cmd, "quit"))
		return false;
	else
		reply("error: unknown command '%s': type help\n", cmd);
	return true;
}

static int add_fd(struct app *a, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	return epoll_ctl(a->epfd, EPOLL_CTL_ADD, fd, &ev);
}

int main(int argc, char **argv)
{
	struct app a = { .interval_ms = 1000 };
	char line[1024];
	size_t used = 0;
	bool running = true;
	sigset_t mask;
	int one = 1, err = 1;

	if (argc > 2 && !strcmp(argv[1], "--interval-ms"))
		a.interval_ms = atoi(argv[2]) > 0 ? atoi(argv[2]) : 1000;
	log_sink = &a;
	libbpf_set_print(libbpf_print);
	setvbuf(stdout, NULL, _IOLBF, 0);

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &mask, NULL)) {
		fprintf(stderr, "Failed to block signals: %s\n", strerror(errno));
		return 1;
	}
	a.sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
	a.timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	a.genl_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	a.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (a.sigfd < 0 || a.timerfd < 0 || a.genl_fd < 0 || a.epfd < 0) {
		fprintf(stderr, "Failed to create event sources: %s\n", strerror(errno));
		goto out_close;
	}
	setsockopt(a.genl_fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	if (add_fd(&a, STDIN_FILENO) || add_fd(&a, a.sigfd) || add_fd(&a, a.timerfd) ||
	    add_fd(&a, a.genl_fd)) {
		fprintf(stderr, "Failed to add to epoll: %s\n", strerror(errno));
		goto out_close;
	}
	reply("xdp-lab-app ready; type help\n");

	while (running) {
		struct epoll_event ev[4];
		int n = epoll_wait(a.epfd, ev, 4, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "Failed to wait for events: %s\n", strerror(errno));
			break;
		}
		for (int i = 0; i < n && running; i++) {
			int fd = ev[i].data.fd;

			if (fd == a.sigfd) {
				running = false;
			} else if (fd == a.timerfd) {
				__u64 ticks;

				if (read(a.timerfd, &ticks, sizeof(ticks)) == sizeof(ticks))
					tick(&a, a.watch);
			} else if (fd == a.genl_fd) {
				on_genl(&a);
			} else if (fd != STDIN_FILENO) {
				/* One of the attached programs' ring buffers. */
				for (int k = 0; k < MAX_ATTACHED; k++)
					if (a.att[k].events && ring_buffer__epoll_fd(a.att[k].events) == fd)
						ring_buffer__consume(a.att[k].events);
			} else if (fd == STDIN_FILENO) {
				ssize_t r = read(STDIN_FILENO, line + used, sizeof(line) - 1 - used);
				char *nl;

				if (r <= 0) {
					running = false;
					break;
				}
				used += r;
				line[used] = '\0';
				while (running && (nl = strchr(line, '\n'))) {
					*nl = '\0';
					running = run_command(&a, line);
					used -= nl + 1 - line;
					memmove(line, nl + 1, used + 1);
				}
				if (used == sizeof(line) - 1) {
					reply("error: line too long\n");
					used = 0;
				}
			}
		}
	}
	/* Answers to requests sent just before quit still belong to this session. */
	while (a.genl_pending > 0) {
		struct epoll_event ev;
		int before = a.genl_pending;

		if (epoll_wait(a.epfd, &ev, 1, 1000) <= 0)
			break;
		if (ev.data.fd == a.genl_fd)
			on_genl(&a);
		else if (ev.data.fd == STDIN_FILENO || ev.data.fd == a.timerfd)
			epoll_ctl(a.epfd, EPOLL_CTL_DEL, ev.data.fd, NULL);
		if (a.genl_pending == before && ev.data.fd == a.sigfd)
			break;
	}
	err = 0;

out_close:
	for (int i = 0; i < MAX_ATTACHED; i++)
		if (a.att[i].obj)
			detach(&a.att[i]);
	if (a.lua)
		lua_close(a.lua);
	reply("bye\n");
	close(a.epfd);
	close(a.genl_fd);
	close(a.timerfd);
	close(a.sigfd);
	return err;
}
