/* nftables change monitor (see nft-monitor.h): owns one NETLINK_NETFILTER
 * socket in the netns it was created in, subscribed to NFNLGRP_NFTABLES.
 *
 * Invariants: only messages of the nftables subsystem that delete
 * something (DELTABLE, DELCHAIN, DELRULE, DELSET, DELSETELEM, DELOBJ) in a
 * table named "podwire" of family inet or bridge, sent on behalf of a
 * socket other than own_portid, count as tampering. Every object message
 * carries its table name as attribute 1 (NFTA_TABLE_NAME, NFTA_CHAIN_TABLE,
 * NFTA_RULE_TABLE, NFTA_SET_TABLE, NFTA_SET_ELEM_LIST_TABLE,
 * NFTA_OBJ_TABLE are all 1).
 *
 * Locking: none; one thread. */
#include <errno.h>
#include <netinet/in.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>

#include "log.h"
#include "netlink-events.h"
#include "nft-monitor.h"
#include "xalloc.h"

#define NFT_MONITOR_TABLE "podwire"
/* Attribute 1 of every nftables object message is its table's name. */
#define NFT_MONITOR_ATTR_TABLE 1
/* A big receive buffer, so that a burst of events (every element of a
 * sync of thousands of groups is one message) rarely overflows it; when it
 * does, the owner is told (lost). */
#define NFT_MONITOR_RCVBUF (16 * 1024 * 1024)

struct nft_monitor {
	struct mnl_socket *nl;
	uint32_t own_portid;
	nft_monitor_cb cb;
	void *userdata;
	uint64_t alerts;
};

int nft_monitor_new(uint32_t own_portid, nft_monitor_cb cb, void *userdata,
		    struct nft_monitor **ret_monitor, struct pw_error *err)
{
	struct nft_monitor *m = xcalloc(1, sizeof(*m));
	int group = NFNLGRP_NFTABLES, size = NFT_MONITOR_RCVBUF, r;

	m->own_portid = own_portid;
	m->cb = cb;
	m->userdata = userdata;
	m->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (!m->nl) {
		r = -errno;
		free(m);
		return pw_error_set(err, r, "nftables monitor: opening a netlink socket: %s",
				    strerror(-r));
	}
	if (mnl_socket_bind(m->nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_setsockopt(m->nl, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0) {
		r = -errno;
		nft_monitor_free(m);
		return pw_error_set(err, r, "nftables monitor: subscribing to nftables events: %s",
				    strerror(-r));
	}
	if (setsockopt(mnl_socket_get_fd(m->nl), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) <
	    0)
		(void)setsockopt(mnl_socket_get_fd(m->nl), SOL_SOCKET, SO_RCVBUF, &size,
				 sizeof(size));
	*ret_monitor = m;
	return 0;
}

void nft_monitor_free(struct nft_monitor *monitor)
{
	if (!monitor)
		return;
	if (monitor->nl)
		mnl_socket_close(monitor->nl);
	free(monitor);
}

int nft_monitor_fd(const struct nft_monitor *monitor)
{
	return mnl_socket_get_fd(monitor->nl);
}

uint64_t nft_monitor_alerts(const struct nft_monitor *monitor)
{
	return monitor->alerts;
}

static bool nft_monitor_is_deletion(uint16_t type)
{
	switch (type) {
	case NFT_MSG_DELTABLE:
	case NFT_MSG_DELCHAIN:
	case NFT_MSG_DELRULE:
	case NFT_MSG_DELSET:
	case NFT_MSG_DELSETELEM:
	case NFT_MSG_DELOBJ:
		return true;
	default:
		return false;
	}
}

/* 1 if nlh is someone else deleting something of ours. */
static int nft_monitor_foreign_deletion(const struct nft_monitor *m, const struct nlmsghdr *nlh)
{
	const struct nfgenmsg *gen;
	const struct nlattr *attr;

	if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES ||
	    !nft_monitor_is_deletion(NFNL_MSG_TYPE(nlh->nlmsg_type)))
		return 0;
	if (nlh->nlmsg_pid == m->own_portid)
		return 0;
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*gen)))
		return 0;
	gen = mnl_nlmsg_get_payload(nlh);
	if (gen->nfgen_family != NFPROTO_INET && gen->nfgen_family != NFPROTO_BRIDGE)
		return 0;
	mnl_attr_for_each(attr, nlh, sizeof(*gen))
	{
		if (mnl_attr_get_type(attr) != NFT_MONITOR_ATTR_TABLE)
			continue;
		if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0)
			return 0;
		return streq(mnl_attr_get_str(attr), NFT_MONITOR_TABLE);
	}
	return 0;
}

static int nft_monitor_message(const struct nlmsghdr *nlh, void *userdata)
{
	return nft_monitor_foreign_deletion(userdata, nlh);
}

int nft_monitor_process(struct nft_monitor *monitor)
{
	bool lost;
	int seen;

	seen = netlink_events_drain(monitor->nl, nft_monitor_message, monitor, &lost);
	if (seen < 0)
		return log_error_errno(seen, "nftables monitor: reading events");
	if (seen || lost) {
		if (seen)
			log_info("nftables: table podwire changed by someone else changes=%d",
				 seen);
		else
			log_warn("nftables monitor: events were lost; checking the tables");
		monitor->alerts++;
		monitor->cb(monitor, lost && !seen, monitor->userdata);
	}
	return seen;
}
