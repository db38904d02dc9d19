/* SPDX-License-Identifier: GPL-2.0 */
/* script.h: the script's state, shared by script_lua.c (loading, budget, hooks) and script_lab.c (`lab`). */
#ifndef XDP_LAB_SCRIPT_H
#define XDP_LAB_SCRIPT_H

#include <lua5.4/lua.h>

#include "app.h"

enum { HOOK_EVENT, HOOK_TICK, HOOK_COUNT };

struct script {
	struct app *app;
	lua_State *L;
	struct out *out;		/* where lab.log() and friends speak during this call */
	char path[256];
	const char *name;		/* the file's base name, for messages */
	size_t mem_used, mem_limit;
	const char *running;		/* the hook being run, or NULL */
	struct timespec deadline;
	bool overrun;			/* the running hook is past its deadline */
	char overrun_msg[320];
	int strikes[HOOK_COUNT];	/* consecutive overruns (time or memory) of each hook */
	bool disabled[HOOK_COUNT];
};

/* The script of a state: the pointer in its extra space. */
static inline struct script *script_of(lua_State *L)
{
	return *(struct script **)lua_getextraspace(L);
}

static inline void set_int(lua_State *L, const char *key, lua_Integer v)
{
	lua_pushinteger(L, v);
	lua_setfield(L, -2, key);
}

static inline void set_num(lua_State *L, const char *key, lua_Number v)
{
	lua_pushnumber(L, v);
	lua_setfield(L, -2, key);
}

static inline void set_str(lua_State *L, const char *key, const char *v)
{
	lua_pushstring(L, v);
	lua_setfield(L, -2, key);
}

/* script_lab.c: pushes the `lab` table a script acts through. */
int lab_open(lua_State *L);

#endif
