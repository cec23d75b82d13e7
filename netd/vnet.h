/* The VNet model: what an admin defines with vnet.create, validated and
 * typed. A VNet is one bridge ("pw-" + name) with a gateway address per
 * subnet (IPv4 required, IPv6 optional), an MTU, a DNS domain, upstream
 * resolvers, the internal/isolate flags and the IPAM pool of its IPv4
 * subnet. A group's IPv6 address on the VNet has the same host index as
 * its IPv4 address, and so does the IPv6 gateway, so one pool serves both.
 *
 * Pure: parsing and rendering only; kernel work is in bridge.c, files in
 * store.c, the operations in ops.c. */
#pragma once

#include <jansson.h>
#include <net/if.h>
#include <stdbool.h>

#include "error.h"
#include "ipam.h"
#include "name.h"
#include "nft.h"
#include "prefix.h"
#include "trust.h"

/* One IPv4 subnet and at most one IPv6 subnet. */
#define VNET_SUBNETS_MAX 2
/* The resolver reads at most three name servers (MAXNS in resolv.h). */
#define VNET_DNS_SERVERS_MAX 3
/* IPv4 subnets are /16 to /30: the IPAM pool is at most a /16 (see ipam.h)
 * and a /30 is the smallest with a host besides the gateway. */
#define VNET_IPV4_PREFIXLEN_MIN 16
#define VNET_IPV4_PREFIXLEN_MAX 30
/* IPv6 subnets are /48 or longer: a /48 is what one site gets (RFC 6177,
 * and a ULA's global ID, RFC 4193); fd00::/8 would claim every ULA. The
 * longest is the one holding as many addresses as the IPv4 subnet (/120
 * with a /24; a /30 allows /126). */
#define VNET_IPV6_PREFIXLEN_MIN 48
#define VNET_IPV6_PREFIXLEN_MAX (96 + VNET_IPV4_PREFIXLEN_MAX)
/* Every IPv4 host needs 576 (RFC 791); an IPv6 link needs 1280 (RFC 8200).
 * 65535 is the largest MTU a veth and bridge take. */
#define VNET_MTU_MIN	  576
#define VNET_MTU_MIN_IPV6 1280
#define VNET_MTU_MAX	  65535
/* Bridges, nft elements and dnsd listeners grow with VNets; a host with
 * more than 256 private networks wants a different design. */
#define VNETS_MAX 256
/* Peerings per VNet: each is two elements of the `allowed` set; a VNet
 * peered with more than 32 others is a flat network, better made one. */
#define VNET_PEERS_MAX 32
/* "pw-" + name: VNET_NAME_MAX leaves room in IFNAMSIZ. */
#define VNET_BRIDGE_PREFIX "pw-"

struct vnet {
	char name[VNET_NAME_MAX + 1];
	char bridge[IFNAMSIZ];
	struct ip_prefix subnets[VNET_SUBNETS_MAX]; /* IPv4 first */
	struct ip_addr gateways[VNET_SUBNETS_MAX];  /* one per subnet */
	size_t subnet_count;
	char *domain;
	unsigned mtu; /* 0 until chosen: a create request may leave it to netd */
	bool internal;
	bool isolate;
	/* What its groups may reach on the host (see nft.h); "dns" unless
	 * given (and in state files written before it existed). */
	enum nft_host_access host_access;
	struct ip_addr dns_servers[VNET_DNS_SERVERS_MAX];
	size_t dns_server_count;
	/* Content trust: which images' groups may attach (trust-ledger.h);
	 * off unless given (and in state files written before it existed).
	 * trust_keys names a keyset when trust is not off, else is "". */
	enum trust_mode trust;
	char trust_keys[KEYSET_NAME_MAX + 1];
	unsigned group_count; /* groups attached to it */
	struct ipam ipam;     /* of subnets[0] */
	/* Peered VNets (names), sorted; peering is symmetric: each side lists
	 * the other. peer_bridge_ptrs[i] points at peer_bridges[i]. */
	char peers[VNET_PEERS_MAX][VNET_NAME_MAX + 1];
	char peer_bridges[VNET_PEERS_MAX][IFNAMSIZ];
	const char *peer_bridge_ptrs[VNET_PEERS_MAX];
	size_t peer_count;
};

/* Parses a vnet.create params object (also the state file, which has the
 * same shape with every default filled in) strictly: unknown keys, wrong
 * types and invalid values are -EINVAL with err naming the problem. */
int vnet_parse(json_t *params, struct vnet **ret_vnet, struct pw_error *err);
/* As vnet_parse(), for a state file an older netd may have written: rules
 * that came later and do not make a VNet unsafe (the IPv6 /48 minimum) are
 * not applied. */
int vnet_parse_stored(json_t *state, struct vnet **ret_vnet, struct pw_error *err);
void vnet_free(struct vnet *vnet);
static inline void vnet_freep(struct vnet **vnet)
{
	if (*vnet)
		vnet_free(*vnet);
}
#define _cleanup_vnet_ _cleanup_(vnet_freep)

/* Refuses (-EINVAL, err naming the range and what it is) a subnet that
 * overlaps an address range no VNet may use: IPv4 0/8, 127/8, 169.254/16,
 * 224/4, 240/4; IPv6 ::, ::1, ::ffff:0:0/96, fe80::/10, ff00::/8; and an
 * IPv6 subnet shorter than VNET_IPV6_PREFIXLEN_MIN. */
int vnet_subnet_check_reserved(const struct ip_prefix *subnet, struct pw_error *err);

/* "none", "dns", "all" and back; parse is -EINVAL for anything else. */
const char *vnet_host_access_name(enum nft_host_access access);
int vnet_host_access_parse(const char *text, enum nft_host_access *ret);

/* Checks a trust policy: a mode other than off needs a keyset, off takes
 * none (keys NULL or ""); -EINVAL with err naming the rule. */
int vnet_trust_check(enum trust_mode mode, const char *keys, struct pw_error *err);

/* Peer list: add (-ENOSPC when full; present is success) / remove
 * (absent is success) / lookup. */
int vnet_peer_add(struct vnet *vnet, const char *name);
void vnet_peer_remove(struct vnet *vnet, const char *name);
bool vnet_has_peer(const struct vnet *vnet, const char *name);
/* Whether one of its subnets is IPv6 (a dual-stack VNet). */
bool vnet_has_ipv6(const struct vnet *vnet);
/* The peers as a JSON array of names. */
json_t *vnet_peers_json(const struct vnet *vnet);

/* Checks an MTU against the VNet's subnets (IPv6 needs 1280). */
int vnet_set_mtu(struct vnet *vnet, unsigned mtu, struct pw_error *err);
/* The create-params shape with every value explicit (the state file;
 * "peers" only when there are some, which vnet.create does not take). */
json_t *vnet_spec_json(const struct vnet *vnet);
/* Sets "trust" and (when set) "trust_keys" in object (NULL: nothing). */
void vnet_trust_json(const struct vnet *vnet, json_t *object);
/* What nft.c needs; the spec points into vnet. */
void vnet_nft_spec(const struct vnet *vnet, struct nft_vnet_spec *ret_spec);
/* The IPv6 address with the same host index as an IPv4 address of the
 * VNet (for a VNet with an IPv6 subnet). */
int vnet_ipv6_mirror(const struct vnet *vnet, const struct ip_addr *ipv4, struct ip_addr *ret);
/* Whether any subnet of a overlaps any subnet of b; ret_a and ret_b (may be
 * NULL) get the first overlapping pair. */
bool vnet_overlaps(const struct vnet *a, const struct vnet *b, const struct ip_prefix **ret_a,
		   const struct ip_prefix **ret_b);
