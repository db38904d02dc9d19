// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* Drops every frame and counts it: the fastest way to discard traffic at the driver. */
#include "counters.bpf.h"

SEC("xdp")
int xdp_drop(struct xdp_md *ctx)
{
	return count(ctx, XDP_DROP);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
