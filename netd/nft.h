/* netd's nftables table `inet podwire` (libnftnl + libmnl).
 *
 * The rules are static and refer to sets and maps; a VNet create or delete
 * (and later a group attach or detach) only adds or removes elements, always
 * in one atomic netlink batch, so per-packet and per-operation cost stay
 * flat as VNets and groups grow. netd touches no other table.
 *
 * All calls act on the netns the context was created in. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "prefix.h"

struct nft_vnet_spec {
	const char *bridge; /* "pw-prod" */
	const struct ip_prefix *subnets; /* IPv4 first; an IPv6 one optional */
	size_t subnet_count;
	bool internal; /* no outbound: no masquerade, no forwarding out of the VNets */
	bool isolate; /* groups reach the gateway only, not each other */
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
/* Adds / removes one VNet's elements (one batch each). Adding what is
 * there and removing what is gone succeed. An add replaces the elements
 * that depend on the flags (internal, isolate), so adding a VNet again with
 * other flags updates it; a subnet it had before must be removed with the
 * old spec. Subnets must not overlap another VNet's (the kernel refuses
 * most overlaps, nft_table_sync all). */
int nft_vnet_add(struct nft_ctx *ctx, const struct nft_vnet_spec *vnet, struct pw_error *err);
int nft_vnet_remove(struct nft_ctx *ctx, const struct nft_vnet_spec *vnet, struct pw_error *err);
/* 1 if table inet podwire exists, 0 if not, negative errno on error. */
int nft_table_exists(struct nft_ctx *ctx);
/* Deletes the table (a missing table is success). */
int nft_table_remove(struct nft_ctx *ctx, struct pw_error *err);
