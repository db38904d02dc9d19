/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* The per-CPU verdict counters every lab program keeps, and how they count a frame. */
#ifndef COUNTERS_BPF_H
#define COUNTERS_BPF_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "xdp_lab.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XDP_LAB_STATS_SLOTS);
	__type(key, __u32);
	__type(value, struct xdp_lab_stats);
} stats SEC(".maps");

/* Counts the frame under its verdict and returns the verdict, so programs end in `return count(...)`. */
static __always_inline int count(struct xdp_md *ctx, __u32 verdict)
{
	struct xdp_lab_stats *s = bpf_map_lookup_elem(&stats, &verdict);

	if (s) {
		s->packets++;
		s->bytes += ctx->data_end - ctx->data;
	}
	return verdict;
}

#endif
