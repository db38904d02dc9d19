// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Counts every packet on a tc hook (clsact ingress or egress) and lets it through: the tc
 * counterpart of pass.bpf.o. tc qdisc add dev DEV clsact
 * && tc filter add dev DEV egress bpf direct-action obj tc_count.bpf.o sec tc
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include "xdp_lab.h"

/* One slot: packets and bytes seen on the hook, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xdp_lab_stats);
} tc_stats SEC(".maps");

SEC("tc")
int tc_count(struct __sk_buff *skb)
{
	__u32 key = 0;
	struct xdp_lab_stats *s = bpf_map_lookup_elem(&tc_stats, &key);

	if (s) {
		s->packets++;
		s->bytes += skb->len;
	}
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
