// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* Passes every frame and counts it: the baseline for "does XDP cost anything". */
#include "counters.bpf.h"

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	return count(ctx, XDP_PASS);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
