/* netd's nftables tables `inet podwire` and `bridge podwire` (libnftnl +
 * libmnl).
 *
 * The rules are static and refer to sets and maps; a VNet create or delete,
 * a peering, a group attach or detach only adds or removes elements, always
 * in one atomic netlink batch (one batch may span both tables), so
 * per-packet and per-operation cost stay flat as VNets and groups grow.
 * netd touches no other table.
 *
 * All calls act on the netns the context was created in. */
#pragma once

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "prefix.h"

/* What a VNet's groups may reach on the host itself (the inet input hook),
 * besides what every VNet gets: replies to connections the host opened,
 * IPv6 neighbour discovery and ping of their own gateway. Zero is the
 * default. */
enum nft_host_access {
	NFT_HOST_ACCESS_DNS,  /* DNS (udp and tcp 53) on the VNet's own gateway addresses */
	NFT_HOST_ACCESS_NONE, /* nothing more */
	NFT_HOST_ACCESS_ALL,  /* its own gateway addresses, and every host address
				 outside all VNets' subnets */
};

struct nft_vnet_spec {
	const char *bridge;		 /* "pw-prod" */
	const struct ip_prefix *subnets; /* IPv4 first; an IPv6 one optional */
	size_t subnet_count;
	/* One per subnet (NULL: none), the VNet's own addresses for
	 * host_access. */
	const struct ip_addr *gateways;
	enum nft_host_access host_access;
	bool internal;		  /* no outbound: no masquerade, no forwarding out of the VNets */
	bool isolate;		  /* groups reach the gateway only, not each other */
	const char *const *peers; /* bridges of peered VNets (for a sync; see nft_vnet_peer) */
	size_t peer_count;
};

/* A range of ports published on the host: host_port..host_port_last go to
 * port..port + (host_port_last - host_port) of the group, one to one. */
struct nft_port_spec {
	struct ip_addr host_addr; /* family 0: every address of the host */
	uint8_t proto;		  /* IPPROTO_TCP or IPPROTO_UDP */
	uint16_t host_port;
	uint16_t host_port_last; /* == host_port for a single port */
	uint16_t port;
};

/* Ports published per range at most: each port of a range is one element of
 * the DNAT map (Docker's default range is 1,000 ports wide). */
#define NFT_PORT_RANGE_MAX 1024

/* One attachment of a group (one host veth on one VNet bridge). */
struct nft_group_spec {
	const char *host_ifname;     /* "pwv1a2b3c4d5e6" */
	uint8_t mac[6];		     /* of the group end: the only source MAC it may use */
	const struct ip_addr *addrs; /* the only source addresses it may use */
	size_t addr_count;
	/* Published ports, DNAT'd to this attachment's first address of the
	 * host address's family (IPv4 for "every address", and IPv6 too when
	 * the attachment has an IPv6 address). */
	const struct nft_port_spec *ports;
	size_t port_count;
};

struct nft_ctx;

/* Opens a NETLINK_NETFILTER socket in the calling thread's netns. */
int nft_ctx_new(struct nft_ctx **ret_ctx, struct pw_error *err);
void nft_ctx_free(struct nft_ctx *ctx);

/* Replaces the whole table in one batch: deletes it if present, creates it
 * with its chains, rules and sets holding exactly the given VNets'
 * elements. Used at start-up (reconcile) and to restore the table. */
int nft_table_sync(struct nft_ctx *ctx, const struct nft_vnet_spec *vnets, size_t vnet_count,
		   struct pw_error *err);
/* The same, with every group attachment's elements (anti-spoofing, counters,
 * published ports) too: both tables in one batch. */
int nft_table_sync_all(struct nft_ctx *ctx, const struct nft_vnet_spec *vnets, size_t vnet_count,
		       const struct nft_group_spec *attachments, size_t attachment_count,
		       struct pw_error *err);
/* Adds / removes one VNet's elements (one batch each). Adding what is
 * there and removing what is gone succeed. An add replaces the elements
 * that depend on the flags (internal, isolate), so adding a VNet again with
 * other flags updates it; a subnet it had before must be removed with the
 * old spec. Subnets must not overlap another VNet's (the kernel refuses
 * most overlaps, nft_table_sync all). */
int nft_vnet_add(struct nft_ctx *ctx, const struct nft_vnet_spec *vnet, struct pw_error *err);
int nft_vnet_remove(struct nft_ctx *ctx, const struct nft_vnet_spec *vnet, struct pw_error *err);
/* Changes only the elements of the VNet's host access to vnet->host_access
 * (one batch): its other elements, counters included, stay as they are. */
int nft_vnet_host_access(struct nft_ctx *ctx, const struct nft_vnet_spec *vnet,
			 struct pw_error *err);
/* Peers two VNets (their bridges): forwarding between them is allowed both
 * ways. Not transitive. Peering twice and unpeering what is not peered
 * succeed. */
int nft_vnet_peer(struct nft_ctx *ctx, const char *bridge_a, const char *bridge_b,
		  struct pw_error *err);
int nft_vnet_unpeer(struct nft_ctx *ctx, const char *bridge_a, const char *bridge_b,
		    struct pw_error *err);

/* Adds / removes the elements of a group's attachments (all of them, one
 * batch over both tables): anti-spoofing (host ifname . MAC . address),
 * counters, published ports. Adding what is there keeps its counters;
 * removing what is gone succeeds. A host port another group publishes is
 * refused (-EEXIST) and nothing changes. */
int nft_group_add(struct nft_ctx *ctx, const struct nft_group_spec *attachments,
		  size_t attachment_count, struct pw_error *err);
int nft_group_remove(struct nft_ctx *ctx, const struct nft_group_spec *attachments,
		     size_t attachment_count, struct pw_error *err);

enum nft_counter_kind {
	NFT_COUNTER_GROUP_TX, /* by host ifname: what the group sent (frames into the bridge) */
	NFT_COUNTER_GROUP_RX, /* by host ifname: what the group was sent */
	NFT_COUNTER_SPOOFED,  /* by host ifname: frames dropped as spoofed */
	NFT_COUNTER_DROPPED,  /* by bridge: packets dropped by isolation (from or to it) */
	NFT_COUNTER_KIND_COUNT,
};

struct nft_counter {
	enum nft_counter_kind kind;
	char name[IFNAMSIZ];
	uint64_t packets;
	uint64_t bytes;
};

struct nft_counters {
	struct nft_counter *items;
	size_t count;
};

/* Reads every counter (one dump per counter set). Counters start at zero
 * when an element is added (a sync re-adds all). */
int nft_counters_read(struct nft_ctx *ctx, struct nft_counters *ret, struct pw_error *err);
void nft_counters_done(struct nft_counters *counters);
const struct nft_counter *nft_counters_find(const struct nft_counters *counters,
					    enum nft_counter_kind kind, const char *name);

/* 1 if both tables (inet and bridge podwire) exist, 0 if either is
 * missing, negative errno on error. */
int nft_table_exists(struct nft_ctx *ctx);
/* Deletes both tables (missing tables are success). */
int nft_table_remove(struct nft_ctx *ctx, struct pw_error *err);
/* The netlink port id of the context's socket: the monitor ignores events
 * that this context caused (they carry it). */
uint32_t nft_ctx_portid(const struct nft_ctx *ctx);
