// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Counts frames per network protocol (IPv4, IPv6, ARP, other) and passes them: the CO-RE example.
 * It is compiled against the kernel stage's vmlinux.h, not the UAPI headers, so every access to a
 * kernel struct (ethhdr here) is recorded as a relocation that libbpf resolves against the running
 * kernel's BTF (/sys/kernel/btf/vmlinux) when it loads the object. A kernel without BTF refuses it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_core_read.h>
#include "xdp_lab.h"

/* vmlinux.h has the kernel's types but none of its macros. */
#define ETH_P_IP	0x0800
#define ETH_P_ARP	0x0806
#define ETH_P_IPV6	0x86DD

/* Slots of the `protocols` map. */
enum proto_slot {
	PROTO_IPV4 = 0,
	PROTO_IPV6 = 1,
	PROTO_ARP = 2,
	PROTO_OTHER = 3,	/* anything else, and runts shorter than an Ethernet header */
	PROTO_SLOTS,
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PROTO_SLOTS);
	__type(key, __u32);
	__type(value, struct xdp_lab_stats);
} protocols SEC(".maps");

static __always_inline __u32 slot_of(__be16 proto)
{
	switch (bpf_ntohs(proto)) {
	case ETH_P_IP:
		return PROTO_IPV4;
	case ETH_P_IPV6:
		return PROTO_IPV6;
	case ETH_P_ARP:
		return PROTO_ARP;
	}
	return PROTO_OTHER;
}

SEC("xdp")
int xdp_proto_count(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u32 slot = PROTO_OTHER;
	struct xdp_lab_stats *s;

	if ((void *)(eth + 1) <= data_end)
		slot = slot_of(eth->h_proto);
	s = bpf_map_lookup_elem(&protocols, &slot);
	if (s) {
		s->packets++;
		s->bytes += data_end - data;
	}
	/* Resolved at load time against the kernel's enum xdp_action, not this header's. */
	return bpf_core_enum_value(enum xdp_action, XDP_PASS);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
