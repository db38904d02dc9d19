// SPDX-License-Identifier: GPL-2.0
/*
 * script_lua.c: the Lua script. It runs on the event loop's thread, so a hook that never returned
 * would stop the console, the control socket and the counters: every call into it (the top-level
 * chunk, on_event, on_tick) has a time budget, checked every LUA_CHECK_EVERY instructions, and its
 * state's memory is capped.
 *
 * The script hears of ticks and events through the hooks it registers (stats_hook, events_hook),
 * and acts through the `lab` table (script_lab.c).
 */
#include <stdlib.h>
#include <string.h>

#include <linux/bpf.h>
#include <lua5.4/lauxlib.h>
#include <lua5.4/lua.h>
#include <lua5.4/lualib.h>

#include "app.h"
#include "script.h"

#define LUA_CHECK_EVERY 1000
#define LUA_MAX_STRIKES 3	/* overruns in a row after which a hook is turned off */

static const char *const hook_names[HOOK_COUNT] = { "on_event", "on_tick" };

/* The state's allocator: the same as Lua's own, but refusing to grow past mem_limit. */
static void *script_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	struct script *sc = ud;
	size_t old = ptr ? osize : 0;	/* without ptr, osize is a type tag */
	void *p;

	if (!nsize) {
		free(ptr);
		sc->mem_used -= old;
		return NULL;
	}
	if (nsize > old && sc->mem_used - old + nsize > sc->mem_limit)
		return NULL;
	p = realloc(ptr, nsize);
	if (p)
		sc->mem_used = sc->mem_used - old + nsize;
	return p;
}

/*
 * The count hook: past the deadline it raises an error. From then on every instruction and every
 * call raises it again, so a script that catches the error with pcall cannot carry on.
 */
static void budget_hook(lua_State *L, lua_Debug *ar)
{
	struct script *sc = script_of(L);
	struct timespec now;

	if (!sc->running)
		return;
	if (!sc->overrun) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec < sc->deadline.tv_sec ||
		    (now.tv_sec == sc->deadline.tv_sec && now.tv_nsec < sc->deadline.tv_nsec))
			return;
		lua_getinfo(L, "l", ar);
		snprintf(sc->overrun_msg, sizeof(sc->overrun_msg), "%s: %s exceeded its %u ms budget at line %d",
			 sc->name, sc->running, sc->app->lua_budget_ms, ar->currentline);
		sc->overrun = true;
		lua_sethook(L, budget_hook, LUA_MASKCOUNT | LUA_MASKCALL, 1);
	}
	lua_pushstring(L, sc->overrun_msg);
	lua_error(L);
}

/* Calls the function under the nargs arguments on the stack within the budget; leaves an error message on failure. */
static int script_pcall(struct script *sc, lua_State *L, const char *what, int nargs, struct out *o)
{
	long ms = sc->app->lua_budget_ms;
	int status;

	clock_gettime(CLOCK_MONOTONIC, &sc->deadline);
	sc->deadline.tv_sec += ms / 1000;
	sc->deadline.tv_nsec += (ms % 1000) * 1000000L;
	if (sc->deadline.tv_nsec >= 1000000000L) {
		sc->deadline.tv_sec++;
		sc->deadline.tv_nsec -= 1000000000L;
	}
	sc->running = what;
	sc->overrun = false;
	sc->out = o;
	status = lua_pcall(L, nargs, 0, 0);
	sc->running = NULL;
	sc->out = &sc->app->console;
	lua_sethook(L, budget_hook, LUA_MASKCOUNT, LUA_CHECK_EVERY);
	return status;
}

/* Whether the script defines hook H and it has not been turned off. */
static bool script_has_hook(struct script *sc, int h)
{
	bool found;

	if (sc->disabled[h])
		return false;
	lua_getglobal(sc->L, hook_names[h]);
	found = lua_isfunction(sc->L, -1);
	lua_pop(sc->L, 1);
	return found;
}

/*
 * Calls hook H with the nargs values on the stack; errors are reported on the console, not fatal.
 * A hook that runs over its budget or out of memory LUA_MAX_STRIKES times in a row is turned off
 * until the script is loaded again: it would otherwise cost its whole budget on every call and
 * print the same error each time. Callers check script_has_hook first (before building the
 * arguments), so the hook is there and on.
 */
static void call_hook(struct script *sc, int h, int nargs)
{
	struct app *a = sc->app;
	lua_State *L = sc->L;
	const char *name = hook_names[h];
	struct out *o = &a->console;
	int status;

	lua_getglobal(L, name);
	lua_insert(L, -(nargs + 1));
	status = script_pcall(sc, L, name, nargs, o);
	if (status == LUA_OK) {
		sc->strikes[h] = 0;
		return;
	}
	if (sc->overrun)
		out_error(o, "lua: %s; hook aborted\n", sc->overrun_msg);
	else if (status == LUA_ERRMEM)
		out_error(o, "lua: %s: %s ran out of memory (the limit is %u MiB); hook aborted\n",
			  sc->name, name, a->lua_memory_mb);
	else
		out_error(o, "lua %s: %s\n", name, lua_tostring(L, -1));
	lua_pop(L, 1);
	if (!sc->overrun && status != LUA_ERRMEM) {
		sc->strikes[h] = 0;
		return;
	}
	if (++sc->strikes[h] >= LUA_MAX_STRIKES) {
		sc->disabled[h] = true;
		out_error(o, "lua: %s: %s failed %d times in a row over its limits: it is turned off; "
			  "fix the script and load it again\n", sc->name, name, sc->strikes[h]);
	}
}

/* The tick hook: on_tick(stats, seconds), stats[iface][verdict] = { packets, bytes, pps, bps }. */
static void script_tick(void *ctx, const struct stats_view *s)
{
	struct script *sc = ctx;
	lua_State *L = sc->L;

	if (!script_has_hook(sc, HOOK_TICK))
		return;
	lua_newtable(L);
	for (int i = 0; i < s->n; i++) {
		lua_newtable(L);
		for (int k = 0; k < XDP_LAB_STATS_SLOTS; k++) {
			const struct verdict_rate *r = &s->p[i].v[k];

			/* Verdicts the program never gave stay out; pass and drop are always there. */
			if (!r->packets && k != XDP_PASS && k != XDP_DROP)
				continue;
			lua_newtable(L);
			set_int(L, "packets", r->packets);
			set_int(L, "bytes", r->bytes);
			set_num(L, "pps", r->pps);
			set_num(L, "bps", r->bps);
			lua_setfield(L, -2, verdict_name(k));
		}
		lua_setfield(L, -2, s->p[i].at->ifname);
	}
	lua_pushnumber(L, s->seconds);
	call_hook(sc, HOOK_TICK, 2);
}

/* The event hook: on_event(ev) with src, dst, proto, sport, dport, verdict, reason, len, when defined. */
static bool script_event(void *ctx, const struct event_view *e)
{
	struct script *sc = ctx;
	lua_State *L = sc->L;

	if (!script_has_hook(sc, HOOK_EVENT))
		return false;
	lua_newtable(L);
	set_str(L, "src", e->src);
	set_str(L, "dst", e->dst);
	set_int(L, "proto", e->proto);
	set_int(L, "sport", e->sport);
	set_int(L, "dport", e->dport);
	set_str(L, "verdict", e->verdict);
	set_str(L, "reason", e->reason);
	set_int(L, "len", e->len);
	call_hook(sc, HOOK_EVENT, 1);
	return true;
}

static int lua_panic_handler(lua_State *L)
{
	fprintf(stderr, "lua: unprotected error: %s\n", lua_tostring(L, -1));
	return 0;	/* Lua aborts the app */
}

/* Opens the standard libraries and `lab` inside a protected call: they too can run out of memory. */
static int script_setup(lua_State *L)
{
	luaL_openlibs(L);
	lab_open(L);
	lua_setglobal(L, "lab");
	return 0;
}

static void script_free(lua_State *L)
{
	struct script *sc = script_of(L);

	lua_close(L);
	free(sc);
}

void script_close(struct app *a)
{
	struct script *sc;

	if (!a->lua)
		return;
	sc = script_of(a->lua);
	stats_unhook(a, script_tick, sc);
	events_unhook(a, script_event, sc);
	script_free(a->lua);
	a->lua = NULL;
}

/* lua FILE: loads (or reloads) a script; on any error the script that was running stays. */
static int cmd_lua(struct app *a, struct out *o, int argc, char **argv)
{
	const char *path = argv[0];
	struct script *sc;
	lua_State *L;
	int status;

	(void)argc;
	sc = calloc(1, sizeof(*sc));
	if (sc)
		sc->mem_limit = (size_t)a->lua_memory_mb << 20;
	L = sc ? lua_newstate(script_alloc, sc) : NULL;
	if (!L) {
		free(sc);
		return out_error(o, "Failed to create a Lua state: out of memory\n");
	}
	sc->app = a;
	sc->L = L;
	sc->out = &a->console;
	snprintf(sc->path, sizeof(sc->path), "%s", path);
	sc->name = strrchr(sc->path, '/') ? strrchr(sc->path, '/') + 1 : sc->path;
	*(struct script **)lua_getextraspace(L) = sc;
	lua_atpanic(L, lua_panic_handler);
	lua_sethook(L, budget_hook, LUA_MASKCOUNT, LUA_CHECK_EVERY);
	lua_pushcfunction(L, script_setup);
	status = lua_pcall(L, 0, 0, 0);
	if (status == LUA_OK)
		status = luaL_loadfile(L, path);
	if (status == LUA_OK)
		status = script_pcall(sc, L, "main chunk", 0, o);
	if (status != LUA_OK) {
		if (sc->overrun)
			out_error(o, "lua: %s; the previous script keeps running\n", sc->overrun_msg);
		else if (status == LUA_ERRMEM)
			out_error(o, "lua: %s: out of memory (the limit is %u MiB); the previous script keeps running\n",
				  sc->name, a->lua_memory_mb);
		else
			out_error(o, "lua: %s; the previous script keeps running\n", lua_tostring(L, -1));
		script_free(L);
		return CMD_FAILED;
	}
	script_close(a);
	a->lua = L;
	/* Free slots: the script's are the only hooks, and the old script's are gone. */
	stats_hook(a, script_tick, sc);
	events_hook(a, script_event, sc);
	out_printf(o, "lua loaded %s\n", path);
	json_str(out_json(o), "script", path);
	return CMD_OK;
}

/* lua-unload: stops the script that runs (its hooks go with it); without one there is nothing to do. */
static int cmd_lua_unload(struct app *a, struct out *o, int argc, char **argv)
{
	char name[sizeof(((struct script *)0)->path)] = "";

	(void)argc, (void)argv;
	if (a->lua)
		snprintf(name, sizeof(name), "%s", script_of(a->lua)->path);
	script_close(a);
	if (name[0])
		out_printf(o, "lua unloaded %s\n", name);
	else
		out_printf(o, "lua: no script was loaded\n");
	json_str(out_json(o), "script", name);
	return CMD_OK;
}

/* lua-budget [MS]: shows or sets the time each call into the script may take. */
static int cmd_lua_budget(struct app *a, struct out *o, int argc, char **argv)
{
	char *end;
	unsigned long v;

	if (argc) {
		v = strtoul(argv[0], &end, 10);
		if (*end || v < 1 || v > 60000)
			return out_error(o, "'%s' is not a budget: give milliseconds from 1 to 60000, e.g. lua-budget 50\n",
					 argv[0]);
		a->lua_budget_ms = v;
	}
	out_printf(o, "lua budget %u ms per call, memory limit %u MiB\n", a->lua_budget_ms, a->lua_memory_mb);
	json_uint(out_json(o), "budget_ms", a->lua_budget_ms);
	json_uint(out_json(o), "memory_mb", a->lua_memory_mb);
	return CMD_OK;
}

const struct command script_commands[] = {
	{ "lua", "FILE", 1, 1, false, cmd_lua, "load or reload a script (on_event, on_tick; lab.*)" },
	{ "lua-unload", "", 0, 0, false, cmd_lua_unload, "stop the script (its hooks stop with it)" },
	{ "lua-budget", "[MS]", 0, 1, false, cmd_lua_budget, "show or set the time a script's call may take" },
	{ .name = NULL },
};
