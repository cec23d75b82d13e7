/* IPAM: the addresses of one subnet handed out to groups.
 *
 * Pure logic (no kernel, no files), so unit tests call it directly. A pool
 * is a bitmap over the host indexes of one prefix; a set bit is an address
 * in use. The network address, the gateway and (IPv4) the broadcast
 * address are marked at init and can never be allocated, reserved or
 * released. Allocation hands out the lowest free index; a hint remembers
 * where the lowest free bit may be, so sequential allocation is O(1)
 * amortised and a full scan costs at most IPAM_POOL_SIZE_MAX / 64 words.
 *
 * No locking: netd is single-threaded. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "prefix.h"

/* The largest pool: a /16 worth of addresses. 65534 groups on one VNet is
 * far beyond what one host runs, and it keeps a pool's bitmap at 8 KiB. */
#define IPAM_POOL_SIZE_MAX (UINT64_C(1) << 16)
/* The smallest pool: a /30 (network, gateway, one host, broadcast). */
#define IPAM_POOL_SIZE_MIN 4

struct ipam {
	struct ip_prefix subnet;
	uint64_t size; /* addresses in the subnet */
	uint64_t gateway_index;
	uint64_t *bitmap;    /* size bits */
	uint64_t free_hint;  /* no free index below this one */
	uint64_t used_count; /* allocated or reserved, not counting the fixed ones */
};

/* -EINVAL if the subnet is smaller than IPAM_POOL_SIZE_MIN or larger than
 * IPAM_POOL_SIZE_MAX addresses, or the gateway is not a host address of
 * it. */
int ipam_init(struct ipam *ipam, const struct ip_prefix *subnet, const struct ip_addr *gateway);
void ipam_done(struct ipam *ipam);

/* The lowest free address; -ENOSPC when the subnet is full. */
int ipam_allocate(struct ipam *ipam, struct ip_addr *ret_addr);
/* Takes a given address: -ERANGE outside the subnet, -EINVAL for the
 * network, gateway or broadcast address, -EADDRINUSE if already taken. */
int ipam_reserve(struct ipam *ipam, const struct ip_addr *addr);
/* Gives an address back; releasing a free address is success (idempotent),
 * -ERANGE outside the subnet, -EINVAL for a fixed address. */
int ipam_release(struct ipam *ipam, const struct ip_addr *addr);
bool ipam_is_used(const struct ipam *ipam, const struct ip_addr *addr);
/* Host addresses still free. */
uint64_t ipam_free_count(const struct ipam *ipam);
/* Whether addr is the network, gateway or broadcast address (never
 * handed out). */
bool ipam_is_fixed(const struct ipam *ipam, const struct ip_addr *addr);
