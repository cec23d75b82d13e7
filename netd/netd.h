/* The state of one podwire-netd: its VNets, its groups and the handles
 * the operations need. Owned by main.c; everything else borrows it.
 *
 * Invariants (between operations; netd is single-threaded on one event
 * loop, so an operation runs to completion before the next starts):
 *   - every VNet here has its state file, its bridge and its nft elements;
 *   - every group here is GROUP_ATTACHED, has its state file, its veth
 *     pairs and its addresses marked in the VNets' IPAM pools;
 *   - vnet->group_count is the number of groups with an attachment on it. */
#pragma once

#include <netlink/socket.h>
#include <stdbool.h>

#include "error.h"
#include "event-loop.h"
#include "group.h"
#include "link-monitor.h"
#include "nft-monitor.h"
#include "nft.h"
#include "port-mroutes.h"
#include "rpc-server.h"
#include "store.h"
#include "trust-keysets.h"
#include "trust-ledger.h"
#include "vnet.h"

struct latency_ring;
struct cluster;

struct netd {
	struct event_loop *loop;
	struct rpc_server *server; /* NULL until serving (no events before) */
	struct nl_sock *nl;	   /* NETLINK_ROUTE in the host netns */
	struct nft_ctx *nft;
	struct store store;
	struct vnet *vnets[VNETS_MAX]; /* in creation order */
	/* Content trust: the keysets VNets name, and the denial counters. */
	struct trust_keysets keysets;
	struct trust_ledger ledger;
	size_t vnet_count;
	struct group_table groups;
	int host_netns_fd; /* netd's own netns, to refuse attaching to it */
	/* Self-healing (dataplane.c): someone else's changes to our nft
	 * tables, and when netd last put them back (wall clock, 0: never). */
	struct nft_monitor *monitor;
	struct event_watch *monitor_watch;
	uint64_t nft_restores;
	int64_t nft_restored_at;
	/* Operation latencies for the stats method (dataplane.c). */
	struct latency_ring *attach_latency;
	struct latency_ring *detach_latency;
	/* Host ends whose IPv6 multicast route is still to delete. */
	struct port_mroutes mroutes;
	/* Deleted host veths: groups whose netns died (link-watch.c). */
	struct link_monitor *link_monitor;
	struct event_watch *link_watch;
	/* Gives freed heap back to the kernel after detaches (heap-trim.c). */
	struct event_watch *trim_timer;
	bool trim_armed;
	/* Cluster membership (cluster.c); NULL without --cluster-etcd. */
	struct cluster *cluster;
};

/* Why a group left: the "reason" of its group.detached event. */
enum group_detach_reason {
	GROUP_DETACH_REQUESTED,	 /* "detach": group.detach, or a forced vnet.delete */
	GROUP_DETACH_NETNS_GONE, /* "netns-gone": the kernel destroyed its netns */
};

struct vnet *netd_vnet_find(const struct netd *netd, const char *name);
/* Adds to / removes from netd->vnets (no kernel or file work). */
void netd_vnet_insert(struct netd *netd, struct vnet *vnet);
void netd_vnet_unlink(struct netd *netd, struct vnet *vnet);

/* The operations behind the RPC methods (ops.c). Each is idempotent,
 * writes state before returning success and undoes its own partial work
 * on failure. netd_vnet_create takes ownership of spec (on success it
 * becomes *ret_vnet, or is freed when an identical VNet exists). */
int netd_vnet_create(struct netd *netd, struct vnet *spec, struct vnet **ret_vnet,
		     struct pw_error *err);
int netd_vnet_delete(struct netd *netd, const char *name, bool force, struct pw_error *err);
/* What vnet.set changes on a live VNet; what is not given stays. */
struct vnet_settings {
	bool has_host_access;
	enum nft_host_access host_access;
	bool has_trust;
	enum trust_mode trust;
	const char *trust_keys; /* NULL: not given */
};
/* Changes the settings of an existing VNet: state file, then (host
 * access) its nft elements in one batch, the old setting's removed in the
 * same one. Trust: a mode without keys keeps the current keyset, off
 * clears it; the keyset must exist. The same settings again change
 * nothing and announce nothing. */
int netd_vnet_set(struct netd *netd, const char *name, const struct vnet_settings *settings,
		  struct vnet **ret_vnet, struct pw_error *err);
/* -ENOENT with err naming it unless the keyset a policy names exists. */
int netd_trust_keys_check(const struct netd *netd, enum trust_mode mode, const char *keys,
			  struct pw_error *err);
int netd_group_attach(struct netd *netd, const struct group_request *req,
		      struct pw_group **ret_group, struct pw_error *err);
int netd_group_detach(struct netd *netd, const char *id, struct pw_error *err);
/* Detaches a group in the table (what detach does once it found it);
 * group is freed on success. */
int netd_group_release(struct netd *netd, struct pw_group *group, enum group_detach_reason reason,
		       struct pw_error *err);
/* Returns the heap glibc keeps free to the kernel a little later (once per
 * HEAP_TRIM_DELAY_MS at most, whatever the number of calls), and frees
 * the timer (netd_heap_trim_done). heap-trim.c */
void netd_heap_trim_soon(struct netd *netd);
void netd_heap_trim_done(struct netd *netd);
/* Whether the group's netns path still names the netns it was attached
 * to (the path exists and has the same nsfs device and inode). */
bool netd_group_netns_alive(const struct pw_group *group);

/* Makes the veth pair of attachment index of group (used by attach and by
 * reconcile to recreate a missing pair). */
int netd_attachment_create(struct netd *netd, const struct pw_group *group, size_t index,
			   int netns_fd, struct pw_error *err);
/* Tears down the kernel side and releases the addresses of a group that
 * is not (or no longer) in the table; the state file is the caller's. */
void netd_group_teardown(struct netd *netd, struct pw_group *group, bool addresses_reserved);
