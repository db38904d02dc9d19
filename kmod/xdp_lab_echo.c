// SPDX-License-Identifier: GPL-2.0
/*
 * xdp_lab_echo: a generic netlink family with one command, ECHO, that answers a text with the
 * same text and a sequence number. The lab's app uses it to show kernel <-> userspace netlink
 * in the same event loop as its XDP work.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/module.h>
#include <net/genetlink.h>

#include "xdp_lab_echo.h"

static atomic_t xdp_lab_echo_seq = ATOMIC_INIT(0);
static struct genl_family xdp_lab_echo_family;

static const struct nla_policy xdp_lab_echo_policy[XDP_LAB_ECHO_A_MAX + 1] = {
	[XDP_LAB_ECHO_A_TEXT] = { .type = NLA_NUL_STRING, .len = XDP_LAB_ECHO_TEXT_MAX },
	[XDP_LAB_ECHO_A_SEQ] = { .type = NLA_REJECT },
};

static int xdp_lab_echo_nl_echo_doit(struct sk_buff *skb, struct genl_info *info)
{
	const char *text;
	struct sk_buff *msg;
	void *hdr;

	if (GENL_REQ_ATTR_CHECK(info, XDP_LAB_ECHO_A_TEXT))
		return -EINVAL;
	text = nla_data(info->attrs[XDP_LAB_ECHO_A_TEXT]);

	msg = genlmsg_new(nla_total_size(strlen(text) + 1) + nla_total_size(sizeof(u32)),
			  GFP_KERNEL);
	if (!msg)
		return -ENOMEM;

	hdr = genlmsg_put_reply(msg, info, &xdp_lab_echo_family, 0, XDP_LAB_ECHO_CMD_ECHO);
	if (!hdr)
		goto err_free_msg;
	if (nla_put_string(msg, XDP_LAB_ECHO_A_TEXT, text) ||
	    nla_put_u32(msg, XDP_LAB_ECHO_A_SEQ, atomic_inc_return(&xdp_lab_echo_seq)))
		goto err_cancel_msg;
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

err_cancel_msg:
	genlmsg_cancel(msg, hdr);
err_free_msg:
	nlmsg_free(msg);
	GENL_SET_ERR_MSG(info, "reply does not fit in a netlink message");
	return -EMSGSIZE;
}

static const struct genl_small_ops xdp_lab_echo_nl_ops[] = {
	{
		.cmd = XDP_LAB_ECHO_CMD_ECHO,
		.doit = xdp_lab_echo_nl_echo_doit,
	},
};

static struct genl_family xdp_lab_echo_family __ro_after_init = {
	.name = XDP_LAB_ECHO_FAMILY_NAME,
	.version = XDP_LAB_ECHO_FAMILY_VERSION,
	.maxattr = XDP_LAB_ECHO_A_MAX,
	.policy = xdp_lab_echo_policy,
	.module = THIS_MODULE,
	.small_ops = xdp_lab_echo_nl_ops,
	.n_small_ops = ARRAY_SIZE(xdp_lab_echo_nl_ops),
	.resv_start_op = XDP_LAB_ECHO_CMD_ECHO,
};

static int __init xdp_lab_echo_init(void)
{
	int err;

	err = genl_register_family(&xdp_lab_echo_family);
	if (err) {
		pr_err("failed to register generic netlink family %s: %d\n",
		       XDP_LAB_ECHO_FAMILY_NAME, err);
		return err;
	}
	return 0;
}

static void __exit xdp_lab_echo_exit(void)
{
	genl_unregister_family(&xdp_lab_echo_family);
}

module_init(xdp_lab_echo_init);
module_exit(xdp_lab_echo_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("xdp-lab generic netlink echo family");
