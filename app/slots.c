// SPDX-License-Identifier: GPL-2.0
/*
 * slots.c: which control client slot a new client takes. Pure (no I/O), so the unit tests run it.
 *
 * When every slot is taken, the new client takes the slot of the client idle the longest, whose
 * connection is closed: what nginx does with its keepalive connections when it runs out of them
 * (it reuses the least recently used idle one). An idle client then costs nothing until the slots
 * run out, a client that is using the socket is not cut off, and no number of idle connections
 * locks anyone out. An idle timeout was the other choice; it would close a shell's quiet session
 * even with slots to spare, and would need the timer running always. A client owed an answer (a
 * deferred echo) or with a command not read yet is busy: it keeps its slot, so every command it
 * sent gets its answer.
 */
#include "control.h"

static bool before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

int control_pick_slot(const struct slot_view *slots, int n)
{
	int idlest = -1;

	for (int i = 0; i < n; i++) {
		if (!slots[i].used)
			return i;
		if (!slots[i].busy && (idlest < 0 || before(&slots[i].active, &slots[idlest].active)))
			idlest = i;
	}
	return idlest;
}
