/* Per-group rate limits (see bandwidth.h): tbf on the host veth for what a
 * group receives; ingress qdisc + u32 match-all + mirred redirect to an ifb
 * with tbf for what it sends.
 *
 * Invariants: every object is created with NLM_F_CREATE | NLM_F_REPLACE, so
 * applying twice gives the same state; removing deletes the qdiscs (their
 * filters go with them) and the ifb, and treats "not there" as done.
 *
 * Locking: none; the caller's socket, one thread. */
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/pkt_sched.h>
#include <linux/tc_act/tc_mirred.h>
#include <stdio.h>
#include <string.h>

#include <netlink/errno.h>
#include <netlink/route/act/mirred.h>
#include <netlink/route/classifier.h>
#include <netlink/route/cls/u32.h>
#include <netlink/route/link.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/tbf.h>
#include <netlink/route/tc.h>

#include "bandwidth.h"
#include "log.h"
#include "xalloc.h"

/* The bucket holds this much time at the rate (and at least a few
 * full-size packets): big enough that tbf keeps up with the kernel's
 * timer granularity, small enough that a burst stays well inside the
 * rate over a second (the bandwidth plugin's default is similar). */
#define BANDWIDTH_BURST_US	  10000
#define BANDWIDTH_BURST_MIN_BYTES (4 * 1514)
/* Queue: what the rate drains in this long, beyond which packets drop. */
#define BANDWIDTH_LATENCY_US 50000
/* ffff: (the ingress qdisc), 1: (our root qdiscs), and the u32 filter
 * 800::800 (hash table 800, node 800), written out: libnl's TC_HANDLE()
 * shifts a signed int. */
#define BANDWIDTH_INGRESS_HANDLE 0xffff0000U
#define BANDWIDTH_ROOT_HANDLE	 0x00010000U
#define BANDWIDTH_FILTER_HANDLE	 0x80000800U

static int bw_errno(int nl_error)
{
	switch (nl_error < 0 ? -nl_error : nl_error) {
	case NLE_OBJ_NOTFOUND:
	case NLE_NODEV:
		return -ENODEV;
	case NLE_EXIST:
		return -EEXIST;
	case NLE_PERM:
		return -EPERM;
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_INVAL:
		return -EINVAL;
	case NLE_OPNOTSUPP:
		return -EOPNOTSUPP;
	case NLE_BUSY:
		return -EBUSY;
	default:
		return -EIO;
	}
}

int bandwidth_parse_rate(const char *text, uint64_t *ret_bps)
{
	static const struct {
		const char *suffix;
		uint64_t factor;
	} units[] = {
	    {"", 1},	       {"bit", 1},	     {"kbit", 1000},
	    {"mbit", 1000000}, {"gbit", 1000000000}, {"bps", 8},
	    {"kbps", 8000},    {"mbps", 8000000},    {"gbps", 8000000000},
	};
	char *end;
	double value;

	if (strempty(text) || !(*text >= '0' && *text <= '9'))
		return -EINVAL;
	errno = 0;
	value = strtod(text, &end);
	if (errno || value <= 0)
		return -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
		double bps;

		if (strcasecmp(end, units[i].suffix) != 0)
			continue;
		bps = value * (double)units[i].factor;
		if (bps < BANDWIDTH_RATE_MIN_BPS || bps > (double)BANDWIDTH_RATE_MAX_BPS)
			return -ERANGE;
		*ret_bps = (uint64_t)bps;
		return 0;
	}
	return -EINVAL;
}

void bandwidth_ifb_name(const char *host_ifname, char ret_name[static IFNAMSIZ])
{
	/* "pwv" + 12 hex -> "pwb" + the same 12 hex; anything else: "pwb" + its tail. */
	size_t len = strlen(host_ifname);
	const char *tail = len > 3 ? host_ifname + 3 : host_ifname;

	snprintf(ret_name, IFNAMSIZ, "pwb%s", tail);
}

static int bw_ifindex(struct nl_sock *sock, const char *name)
{
	struct rtnl_link *link = NULL;
	int r = rtnl_link_get_kernel(sock, 0, name, &link);

	if (r < 0)
		return bw_errno(r);
	r = rtnl_link_get_ifindex(link);
	rtnl_link_put(link);
	return r;
}

/* A tbf qdisc at the root of ifindex. */
static int bw_tbf(struct nl_sock *sock, int ifindex, uint64_t bps)
{
	struct rtnl_qdisc *q = rtnl_qdisc_alloc();
	uint64_t bytes = bps / 8;
	uint64_t burst = MAX(bytes * BANDWIDTH_BURST_US / 1000000, BANDWIDTH_BURST_MIN_BYTES);
	int r;

	if (!q)
		xalloc_die();
	rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
	rtnl_tc_set_parent(TC_CAST(q), TC_H_ROOT);
	rtnl_tc_set_handle(TC_CAST(q), BANDWIDTH_ROOT_HANDLE);
	r = rtnl_tc_set_kind(TC_CAST(q), "tbf");
	if (r >= 0) {
		rtnl_qdisc_tbf_set_rate(q, (int)MIN(bytes, (uint64_t)INT32_MAX), (int)burst, 0);
		r = rtnl_qdisc_tbf_set_limit_by_latency(q, BANDWIDTH_LATENCY_US);
	}
	if (r >= 0)
		r = rtnl_qdisc_add(sock, q, NLM_F_CREATE | NLM_F_REPLACE);
	rtnl_qdisc_put(q);
	return r < 0 ? bw_errno(r) : 0;
}

static int bw_qdisc_delete(struct nl_sock *sock, int ifindex, uint32_t parent)
{
	struct rtnl_qdisc *q = rtnl_qdisc_alloc();
	int r;

	if (!q)
		xalloc_die();
	rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
	rtnl_tc_set_parent(TC_CAST(q), parent);
	if (parent == TC_H_INGRESS)
		rtnl_tc_set_handle(TC_CAST(q), BANDWIDTH_INGRESS_HANDLE);
	r = rtnl_qdisc_delete(sock, q);
	rtnl_qdisc_put(q);
	/* No qdisc of ours there (the kernel says ENOENT or EINVAL). */
	if (r < 0 && (bw_errno(r) == -ENODEV || r == -NLE_INVAL || r == -NLE_OBJ_NOTFOUND))
		return 0;
	return r < 0 ? bw_errno(r) : 0;
}

/* The ifb for ifname, up; created if missing. */
static int bw_ifb(struct nl_sock *sock, const char *ifb_name, unsigned mtu)
{
	struct rtnl_link *link;
	int r = bw_ifindex(sock, ifb_name);

	if (r == -ENODEV) {
		link = rtnl_link_alloc();
		if (!link)
			xalloc_die();
		rtnl_link_set_name(link, ifb_name);
		rtnl_link_set_type(link, "ifb");
		rtnl_link_set_flags(link, IFF_UP);
		if (mtu)
			rtnl_link_set_mtu(link, mtu);
		r = rtnl_link_add(sock, link, NLM_F_CREATE);
		rtnl_link_put(link);
		if (r < 0 && r != -NLE_EXIST)
			return bw_errno(r);
		r = bw_ifindex(sock, ifb_name);
	}
	if (r < 0)
		return r;
	/* Up, whether it was just made or left behind down. */
	link = rtnl_link_alloc();
	if (!link)
		xalloc_die();
	rtnl_link_set_ifindex(link, r);
	rtnl_link_set_flags(link, IFF_UP);
	{
		struct rtnl_link *orig = rtnl_link_alloc();
		int c;

		if (!orig)
			xalloc_die();
		rtnl_link_set_ifindex(orig, r);
		c = rtnl_link_change(sock, orig, link, 0);
		rtnl_link_put(orig);
		rtnl_link_put(link);
		if (c < 0)
			return bw_errno(c);
	}
	return r;
}

/* ingress qdisc on ifindex, with a u32 match-all filter redirecting to
 * ifb_index. */
static int bw_redirect(struct nl_sock *sock, int ifindex, int ifb_index)
{
	struct rtnl_qdisc *q = rtnl_qdisc_alloc();
	struct rtnl_cls *cls = NULL;
	struct rtnl_act *act = NULL;
	int r;

	if (!q)
		xalloc_die();
	rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
	rtnl_tc_set_parent(TC_CAST(q), TC_H_INGRESS);
	rtnl_tc_set_handle(TC_CAST(q), BANDWIDTH_INGRESS_HANDLE);
	r = rtnl_tc_set_kind(TC_CAST(q), "ingress");
	if (r >= 0)
		r = rtnl_qdisc_add(sock, q, NLM_F_CREATE | NLM_F_REPLACE);
	rtnl_qdisc_put(q);
	if (r < 0)
		return bw_errno(r);

	cls = rtnl_cls_alloc();
	act = rtnl_act_alloc();
	if (!cls || !act)
		xalloc_die();
	rtnl_tc_set_ifindex(TC_CAST(cls), ifindex);
	rtnl_tc_set_parent(TC_CAST(cls), BANDWIDTH_INGRESS_HANDLE);
	/* One filter, at a fixed priority and handle, so that applying again
	 * replaces it. */
	rtnl_tc_set_handle(TC_CAST(cls), BANDWIDTH_FILTER_HANDLE);
	rtnl_cls_set_prio(cls, 1);
	rtnl_cls_set_protocol(cls, ETH_P_ALL);
	r = rtnl_tc_set_kind(TC_CAST(cls), "u32");
	if (r >= 0)
		r = rtnl_u32_add_key_uint32(cls, 0, 0, 0, 0); /* match everything */
	if (r >= 0)
		r = rtnl_u32_set_cls_terminal(cls);
	if (r >= 0)
		r = rtnl_tc_set_kind(TC_CAST(act), "mirred");
	if (r >= 0) {
		rtnl_mirred_set_action(act, TCA_EGRESS_REDIR);
		rtnl_mirred_set_policy(act, TC_ACT_STOLEN);
		rtnl_mirred_set_ifindex(act, ifb_index);
		r = rtnl_u32_add_action(cls, act);
	}
	if (r >= 0)
		r = rtnl_cls_add(sock, cls, NLM_F_CREATE | NLM_F_REPLACE);
	rtnl_act_put(act);
	rtnl_cls_put(cls);
	return r < 0 ? bw_errno(r) : 0;
}

int bandwidth_apply(struct nl_sock *sock, const char *host_ifname,
		    const struct bandwidth_spec *spec, struct pw_error *err)
{
	char ifb_name[IFNAMSIZ];
	int ifindex, ifb_index, r;

	ifindex = bw_ifindex(sock, host_ifname);
	if (ifindex < 0)
		return pw_error_set(err, ifindex, "rate limit: interface %s: %s", host_ifname,
				    strerror(-ifindex));
	if (spec->ingress_bps) {
		r = bw_tbf(sock, ifindex, spec->ingress_bps);
		if (r < 0)
			return pw_error_set(err, r, "rate limit: tbf on %s: %s", host_ifname,
					    strerror(-r));
	} else {
		r = bw_qdisc_delete(sock, ifindex, TC_H_ROOT);
		if (r < 0)
			return pw_error_set(err, r, "rate limit: removing tbf from %s: %s",
					    host_ifname, strerror(-r));
	}

	bandwidth_ifb_name(host_ifname, ifb_name);
	if (!spec->egress_bps) {
		r = bw_qdisc_delete(sock, ifindex, TC_H_INGRESS);
		if (r >= 0) {
			struct rtnl_link *link = rtnl_link_alloc();
			if (!link)
				xalloc_die();
			rtnl_link_set_name(link, ifb_name);
			r = rtnl_link_delete(sock, link);
			rtnl_link_put(link);
			r = r < 0 && bw_errno(r) != -ENODEV ? bw_errno(r) : 0;
		}
		if (r < 0)
			return pw_error_set(err, r,
					    "rate limit: removing the egress limit of %s: %s",
					    host_ifname, strerror(-r));
		return 0;
	}
	ifb_index = bw_ifb(sock, ifb_name, 0);
	if (ifb_index < 0)
		return pw_error_set(err, ifb_index, "rate limit: ifb %s: %s", ifb_name,
				    strerror(-ifb_index));
	r = bw_tbf(sock, ifb_index, spec->egress_bps);
	if (r >= 0)
		r = bw_redirect(sock, ifindex, ifb_index);
	if (r < 0)
		return pw_error_set(err, r, "rate limit: egress of %s through %s: %s", host_ifname,
				    ifb_name, strerror(-r));
	log_debug("rate limit set interface=%s ingress_bps=%llu egress_bps=%llu", host_ifname,
		  (unsigned long long)spec->ingress_bps, (unsigned long long)spec->egress_bps);
	return 0;
}

int bandwidth_remove(struct nl_sock *sock, const char *host_ifname, struct pw_error *err)
{
	struct bandwidth_spec none = {0};
	char ifb_name[IFNAMSIZ];
	struct rtnl_link *link;
	int r;

	r = bandwidth_apply(sock, host_ifname, &none, err);
	if (r != -ENODEV)
		return r;
	/* The veth is gone (and its qdiscs with it): the ifb may be left. */
	bandwidth_ifb_name(host_ifname, ifb_name);
	link = rtnl_link_alloc();
	if (!link)
		xalloc_die();
	rtnl_link_set_name(link, ifb_name);
	r = rtnl_link_delete(sock, link);
	rtnl_link_put(link);
	if (r < 0 && bw_errno(r) != -ENODEV)
		return pw_error_set(err, bw_errno(r), "rate limit: deleting %s", ifb_name);
	return 0;
}
