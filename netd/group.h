/* The group model: a container group (one network namespace) and its
 * attachments, one per VNet, plus the table netd keeps them in.
 *
 * An attachment is one veth pair: the host end "pwv" + 12 hex digits of a
 * hash of (group id, VNet name) on the VNet's bridge, so the name is
 * deterministic and reconcile can tell ours from strangers; the group end
 * eth0, eth1, ... in the order the VNets were given, with the group's
 * addresses (IPv4, and IPv6 with the same host index if the VNet has an
 * IPv6 subnet). The first VNet carries the default route.
 *
 * Pure: parsing and rendering only. The table is a chained hash on the id,
 * and a second one on the host ends' names (the kernel reports a deleted
 * link by name), so lookups stay O(1) as groups grow; both shrink again
 * when groups go. Single-threaded, no locking. */
#pragma once

#include <jansson.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "bandwidth.h"
#include "error.h"
#include "name.h"
#include "nft.h"
#include "ports.h"
#include "prefix.h"
#include "vnet.h"

/* eth0..eth7: a group on more networks than that is a router, not a
 * group, and each attachment costs a veth pair. */
#define GROUP_VNETS_MAX 8
/* DNS names per group besides its hostname. */
#define GROUP_ALIASES_MAX 32
/* Groups per netd: far above what one host runs (a /16 VNet holds 65533),
 * while bounding memory and the run dir. */
#define GROUPS_MAX 65536
/* Netns paths are /run/netns/NAME or /proc/PID/ns/net in practice. */
#define GROUP_NETNS_PATH_MAX 1024
#define HOST_IFNAME_PREFIX   "pwv"
#define ETHER_ADDR_LEN_BYTES 6

enum group_state {
	GROUP_ATTACHING, /* state file written, links being made */
	GROUP_ATTACHED,
};

struct attachment {
	char vnet_name[VNET_NAME_MAX + 1];
	struct vnet *vnet;     /* resolved by name; not owned */
	char ifname[IFNAMSIZ]; /* inside the group's netns */
	char host_ifname[IFNAMSIZ];
	uint8_t mac[ETHER_ADDR_LEN_BYTES];	    /* of the group end */
	struct ip_addr addresses[VNET_SUBNETS_MAX]; /* IPv4 first */
	size_t address_count;
	/* Set while the group is in a group_table (its host-name chain). */
	struct pw_group *owner;
	struct attachment *host_next;
	/* When netd last failed to recreate it (now_ms(); 0: never). */
	uint64_t recreate_failed_ms;
};

struct pw_group {
	char *id;
	char *netns;	    /* path as given */
	uint64_t netns_dev; /* identity of the netns when attached */
	uint64_t netns_ino;
	char *hostname; /* NULL: none */
	char **aliases;
	size_t alias_count;
	struct attachment attachments[GROUP_VNETS_MAX];
	size_t attachment_count;
	/* Published on the host, DNAT'd to the first attachment's address. */
	struct nft_port_spec ports[GROUP_PORTS_MAX];
	size_t port_count;
	struct bandwidth_spec rate; /* on every attachment's host veth */
	enum group_state state;
	struct pw_group *hash_next;
};

/* group.attach params, parsed and checked for form (names, addresses,
 * MAC); whether the VNets exist is the caller's business. Strings point
 * into the JSON object the request was parsed from. */
struct group_request {
	const char *id;
	const char *netns;
	const char *hostname; /* NULL: none given */
	const char *vnets[GROUP_VNETS_MAX];
	size_t vnet_count;
	struct ip_addr ips[GROUP_VNETS_MAX]; /* static IPv4 per VNet, by index */
	bool has_ip[GROUP_VNETS_MAX];
	uint8_t mac[ETHER_ADDR_LEN_BYTES];
	bool has_mac;
	const char *aliases[GROUP_ALIASES_MAX];
	size_t alias_count;
	struct nft_port_spec ports[GROUP_PORTS_MAX];
	size_t port_count;
	struct bandwidth_spec rate;
	/* The caller's verdict on the group's image (content trust); checked
	 * against the VNets' policies, not stored. */
	struct trust_verdict trust;
};

/* "rate": "100mbit" (both directions) or {"ingress"?: RATE, "egress"?: RATE}
 * (ingress: what the group receives; egress: what it sends). NULL: none. */
int group_rate_parse(json_t *value, struct bandwidth_spec *ret, struct pw_error *err);
/* {"ingress_bps": N, "egress_bps": N} */
json_t *group_rate_json(const struct bandwidth_spec *rate);

int group_request_parse(json_t *params, struct group_request *ret, struct pw_error *err);

void group_free(struct pw_group *group);
static inline void group_freep(struct pw_group **group)
{
	if (*group)
		group_free(*group);
}
#define _cleanup_group_ _cleanup_(group_freep)

/* "pwv" + 12 hex digits of a hash of (group id, vnet name). */
void group_host_ifname(const char *group_id, const char *vnet_name, char ret[static IFNAMSIZ]);
/* The default MAC of an attachment: locally administered, unicast,
 * 02:50 followed by the IPv4 address. VNet subnets never overlap, so it is
 * unique on the host, and an address handed out again comes back with the
 * same MAC, so no neighbour cache holds a stale one (Docker does the
 * same). */
void group_default_mac(const struct ip_addr *ipv4, uint8_t ret[static ETHER_ADDR_LEN_BYTES]);
int mac_parse(const char *s, uint8_t ret[static ETHER_ADDR_LEN_BYTES]);
const char *mac_format(const uint8_t mac[static ETHER_ADDR_LEN_BYTES], char buf[static 18]);

/* The state file: everything needed to find and undo the group's kernel
 * objects after a restart. */
json_t *group_state_json(const struct pw_group *group);
/* Parses a state file; attachments get vnet == NULL (resolve by name). */
int group_state_parse(json_t *json, struct pw_group **ret_group, struct pw_error *err);

struct group_table {
	struct pw_group **buckets;
	/* The attachments of the groups, by host end name; as many buckets. */
	struct attachment **host_buckets;
	size_t bucket_count;
	size_t count;
	/* Per protocol (TCP, UDP) and host port, how many groups in the
	 * table publish it (allocated with the first published port, freed
	 * with the last: 256 KiB each): an attach whose ports nobody
	 * publishes skips the scan of every group, so published ports do not
	 * make attaches slower as groups grow. */
	uint32_t *port_users[2];
	size_t published[2]; /* (group, port) pairs counted in port_users */
};

void group_table_init(struct group_table *table);
/* Frees the table and every group in it. */
void group_table_done(struct group_table *table);
struct pw_group *group_table_find(const struct group_table *table, const char *id);
/* The group whose attachment has host end host_ifname (NULL: none), and
 * that attachment's index. */
struct pw_group *group_table_find_host(const struct group_table *table, const char *host_ifname,
				       size_t *ret_index);
/* The id must not be in the table yet. */
void group_table_add(struct group_table *table, struct pw_group *group);
/* Unlinks (does not free). A table a quarter full or less halves its
 * buckets, so memory follows the groups down after a mass detach. */
void group_table_remove(struct group_table *table, struct pw_group *group);
/* Whether any group in the table publishes a host port of the spec's range
 * with its protocol (on any host address). */
bool group_table_port_used(const struct group_table *table, const struct nft_port_spec *spec);
/* All groups sorted by id (malloc'd array of count pointers). */
struct pw_group **group_table_sorted(const struct group_table *table, size_t *ret_count);
