// SPDX-License-Identifier: GPL-2.0
/*
 * script_lab.c: the `lab` table a script acts through. Its actions (block, unblock, echo) are the
 * commands of the same names, run through the command table as the console runs them; log and
 * sources speak on the script's sink and read the firewall's map.
 */
#include <arpa/inet.h>
#include <stdio.h>

#include <bpf/bpf.h>
#include <lua5.4/lauxlib.h>

#include "script.h"

/*
 * lab.block(ip), lab.unblock(ip), lab.echo(text): the command named by the upvalue, run through
 * the command table like a typed one. Its words go where the script's call speaks (the console,
 * or the answer of the `lua` command running the main chunk); an echo's answer comes on the
 * console. Returns true, or false and the command's error.
 */
static int lab_command(lua_State *L)
{
	struct script *sc = script_of(L);
	const char *name = lua_tostring(L, lua_upvalueindex(1));
	char arg[XDP_LAB_LINE_MAX], error[256] = "";
	char *argv[1] = { arg };
	struct out o;
	int r;

	if (snprintf(arg, sizeof(arg), "%s", luaL_checkstring(L, 1)) >= (int)sizeof(arg))
		return luaL_error(L, "lab.%s: argument longer than %d bytes", name, (int)sizeof(arg) - 1);
	out_nested(&o, sc->out);
	r = commands_call(sc->app, &o, name, 1, argv);
	if (r == CMD_FAILED)
		snprintf(error, sizeof(error), "%s", o.error.s ? o.error.s : "failed");
	/* Freed before anything is pushed: a push can raise an out-of-memory error. */
	out_free(&o);
	lua_pushboolean(L, r != CMD_FAILED);
	if (r != CMD_FAILED)
		return 1;
	lua_pushstring(L, error);
	return 2;
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
	out_printf(script_of(L)->out, "lua: %s\n", lua_tostring(L, -1));
	return 0;
}

/* lab.sources(): { ["10.0.0.2"] = { packets = N, blocked = bool }, ... } from the firewall's map. */
static int lab_sources(lua_State *L)
{
	struct app *a = script_of(L)->app;

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
			set_int(L, "packets", v.packets);
			lua_pushboolean(L, v.blocked);
			lua_setfield(L, -2, "blocked");
			lua_setfield(L, -2, ip);
		}
	}
	return 1;
}

int lab_open(lua_State *L)
{
	static const char *const commands[] = { "block", "unblock", "echo" };
	static const luaL_Reg lab[] = {
		{ "log", lab_log }, { "sources", lab_sources }, { NULL, NULL },
	};

	luaL_newlib(L, lab);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		lua_pushstring(L, commands[i]);
		lua_pushcclosure(L, lab_command, 1);
		lua_setfield(L, -2, commands[i]);
	}
	return 1;
}
