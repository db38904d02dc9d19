/* SPDX-License-Identifier: GPL-2.0 */
/*
 * app.h: the app's state, and what its parts (one file per concern) call of each other. Calls go
 * one way (test/app/calls.test.ts checks it), from main down:
 *   main -> control -> commands, slots; main -> script_lua -> script_lab -> commands;
 *   script_lua -> stats, events; main -> xdp -> events; all of them -> out, loop, parse.
 * Nothing calls up: the script hears of ticks and events through the hooks it registers, a late
 * echo answer goes out through its output sink, and each part's commands reach the one command
 * table because main adds them.
 */
#ifndef XDP_LAB_APP_H
#define XDP_LAB_APP_H

#include <linux/if_link.h>
#include <linux/types.h>
#include <net/if.h>
#include <stdbool.h>
#include <time.h>

#include "../bpf/xdp_lab.h"
#include "control.h"
#include "loop.h"
#include "out.h"
#include "protocol.h"

#define MAX_ATTACHED 8
#define MAX_PENDING 64
#define MAX_COMMANDS 24
#define MAX_HOOKS 4

struct bpf_object;
struct ring_buffer;
struct lua_State;

/* A program the app attached, and what it reads from it. */
struct attachment {
	char ifname[IF_NAMESIZE];
	int ifindex;
	__u32 flags;			/* XDP_FLAGS_DRV_MODE or XDP_FLAGS_SKB_MODE */
	struct bpf_object *obj;		/* NULL: a free slot */
	char object[256];		/* the path it was loaded from */
	char program[64];
	__u32 prog_id;
	int prog_fd;			/* owned by obj */
	int stats_fd;			/* -1 when the program has no `stats` map */
	int sources_fd;			/* the firewall's `sources` map, else -1 */
	struct ring_buffer *events;	/* the program's `events` ring buffer, if any */
	struct handler events_h;	/* its epoll fd in the loop */
	struct xdp_lab_stats last[XDP_LAB_STATS_SLOTS];
	struct timespec last_at;
};

/* An echo request on its way through the module: who asked, and when. */
struct pending_echo {
	__u32 nl_seq;			/* 0: a free slot */
	struct out *sink;		/* the deferred answer (out_defer), or NULL: the console hears it */
	struct timespec sent;
	bool answered;
	__u32 seq;
	char text[260];
};

struct stats_view;
struct event_view;

/* Called on every reading of the counters (the timer's, or a stats command's). */
typedef void tick_fn(void *ctx, const struct stats_view *v);
/* Called with each decoded event; true when it took the event (it is then not printed). */
typedef bool event_fn(void *ctx, const struct event_view *e);

struct tick_hook {
	tick_fn *fn;			/* NULL: a free slot */
	void *ctx;
};

struct event_hook {
	event_fn *fn;			/* NULL: a free slot */
	void *ctx;
};

/* A command handler's result. */
enum { CMD_OK = 0, CMD_FAILED = -1, CMD_QUIT = 1, CMD_EMPTY = 2 };

typedef int command_fn(struct app *a, struct out *o, int argc, char **argv);

/* One command of the table that drives the console, the control socket, the script and help. */
struct command {
	const char *name;		/* NULL ends a part's table */
	const char *args;		/* the usage after the name */
	int min_args, max_args;
	bool rest;			/* takes the rest of the line as one argument (echo) */
	command_fn *run;
	const char *help;		/* "\n" continues on the next line of help */
};

struct app {
	struct loop loop;
	struct handler sig_h, timer_h, genl_h;
	struct out console;		/* stdout: the console, hooks, the kernel's events */
	struct control control;
	unsigned int interval_ms;
	bool watch;
	struct attachment att[MAX_ATTACHED];
	__u64 events, lua_events;	/* ring-buffer records read; taken by a hook (the script's on_event) */
	__u16 genl_family;
	__u32 genl_seq;
	int genl_pending;		/* echo requests sent and not yet answered */
	struct pending_echo pending[MAX_PENDING];
	const struct command *commands[MAX_COMMANDS];
	int ncommands;
	struct tick_hook tick_hooks[MAX_HOOKS];
	struct event_hook event_hooks[MAX_HOOKS];
	struct lua_State *lua;		/* the loaded script, or NULL */
	unsigned int lua_budget_ms;	/* per call into the script */
	unsigned int lua_memory_mb;	/* for the script's whole state */
};

/* One attached program's counters and rates per verdict, computed from two readings. */
struct verdict_rate {
	unsigned long long packets, bytes;
	double pps, bps;
};

struct prog_rates {
	const struct attachment *at;
	struct verdict_rate v[XDP_LAB_STATS_SLOTS];
};

struct stats_view {
	int n;
	double seconds;			/* the longest interval the rates cover */
	struct prog_rates p[MAX_ATTACHED];
};

/* One event of a program's ring buffer, decoded. */
struct event_view {
	char src[16], dst[16];
	unsigned int proto, sport, dport, len;
	const char *verdict, *reason;
};

static inline const char *verdict_name(unsigned int verdict)
{
	static const char *const names[XDP_LAB_STATS_SLOTS] = {
		"aborted", "drop", "pass", "tx", "redirect",
	};

	return verdict < XDP_LAB_STATS_SLOTS ? names[verdict] : "?";
}

static inline const char *mode_name(__u32 flags)
{
	return flags == XDP_FLAGS_DRV_MODE ? "native" : "generic";
}

/* commands.c: the command table, filled by main with each part's commands. */
extern const struct command commands_builtin[];	/* quit, help */
/* Adds a part's TABLE (ended by a NULL name); help lists commands in the order they were added. */
int commands_add(struct app *a, const struct command *table);
/* Runs command NAME with its arguments into O, as if typed: the script's lab.* come this way. */
int commands_call(struct app *a, struct out *o, const char *name, int argc, char **argv);
/* Runs one command line into O; COMMAND gets its name (for the answer). */
int commands_run(struct app *a, struct out *o, char *line, char *command, size_t size);

/* xdp.c */
extern const struct command xdp_commands[];	/* load, unload, block, unblock */
void xdp_init(void);
struct attachment *find_attachment(struct app *a, const char *ifname);
void detach_all(struct app *a);

/* object.c: between opening an object and loading it. */
struct bpf_object;
struct bpf_program;
struct bpf_program *object_choose_program(struct out *o, struct bpf_object *obj, const char *path,
					  const char *want);
int object_set_tunable(struct bpf_object *obj, const char *assignment);

/* stats.c */
extern const struct command stats_commands[];	/* stats, watch */
int stats_init(struct app *a);
/* FN(CTX, view) runs on every reading from now on; the timer runs while a hook or watch wants it. */
int stats_hook(struct app *a, tick_fn *fn, void *ctx);
void stats_unhook(struct app *a, tick_fn *fn, void *ctx);

/* events.c */
int events_watch(struct app *a, struct attachment *at);
void events_unwatch(struct app *a, struct attachment *at);
/* FN(CTX, event) sees each event first from now on; -1 when MAX_HOOKS are registered. */
int events_hook(struct app *a, event_fn *fn, void *ctx);
void events_unhook(struct app *a, event_fn *fn, void *ctx);

/* echo_genl.c */
extern const struct command echo_commands[];	/* echo */
int echo_init(struct app *a);
void echo_drain(struct app *a);

/* script_lua.c */
extern const struct command script_commands[];	/* lua, lua-budget */
void script_close(struct app *a);

#endif
