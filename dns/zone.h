/* The lookup tables: every name dnsd answers for, in one hash table keyed
 * by (scope, lower-case wire name).
 *
 * A scope is one authoritative space with an apex: a VNet's domain, one of
 * its reverse zones, or a shared zone. A query on VNet V picks the most
 * specific scope of V whose apex is a suffix of the name (resolve.c), then
 * finds the node here. Nodes hold RRs tagged with the object that
 * contributed them (a group attachment, an admin record, the VNet itself),
 * so updates add and remove exactly their own RRs: incremental, no rebuild.
 *
 * Invariants: a node exists iff it has RRs or descendants (empty
 * non-terminals exist, so "_tcp.prod.internal" under an SRV name is NODATA,
 * not NXDOMAIN, as RFC 8020 asks); every node's name lies at or under its
 * scope's apex; each node is on its scope's node list, so a scope can be
 * emptied without walking the whole table. Single-threaded, no locking. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prefix.h"
#include "wire.h"

enum dns_scope_kind {
	DNS_SCOPE_DOMAIN,  /* a VNet's domain */
	DNS_SCOPE_REVERSE, /* a VNet subnet's reverse zone */
	DNS_SCOPE_ZONE,	   /* an admin zone, linked to VNets */
};

struct dns_node;

struct dns_scope {
	uint32_t id;
	enum dns_scope_kind kind;
	uint8_t apex_len;
	uint8_t apex[DNS_WIRE_NAME_MAX];
	struct ip_prefix prefix; /* DNS_SCOPE_REVERSE: the subnet */
	/* SOA synthesized for NXDOMAIN/NODATA: "ns.<apex>" and
	 * "hostmaster.<apex>" */
	uint8_t soa_mname_len, soa_rname_len;
	uint8_t soa_mname[DNS_WIRE_NAME_MAX];
	uint8_t soa_rname[DNS_WIRE_NAME_MAX];
	uint32_t serial;	     /* bumped on every change */
	struct dns_scope *apex_next; /* other scopes with the same apex (model.c) */
	struct dns_node *nodes;	     /* all nodes of this scope */
	size_t node_count;
};

struct dns_rr {
	struct dns_rr *next;
	const void *tag; /* who added it */
	uint16_t type;
	uint16_t rdlen;
	uint32_t ttl;
	uint8_t rdata[];
};

struct dns_node {
	struct dns_node *hash_next;
	struct dns_node *scope_prev, *scope_next;
	struct dns_scope *scope;
	struct dns_node *parent; /* NULL at the apex */
	struct dns_rr *rrs;
	uint32_t hash;
	uint32_t children;
	uint8_t name_len;
	uint8_t name[];
};

struct zone_table {
	struct dns_node **buckets;
	size_t bucket_count; /* a power of two */
	size_t node_count;
	uint32_t next_scope_id;
};

/* TTL of names dnsd makes up (group names, PTRs, host.DOMAIN) and of the
 * SOA minimum: short, because groups come and go. */
#define DNS_LOCAL_TTL 30
/* Admin records: at most this TTL (one day, as caches commonly cap). */
#define DNS_RECORD_TTL_MAX 86400

void zone_table_init(struct zone_table *t);
/* Frees every node (scopes must have been emptied or are freed by the
 * caller afterwards). */
void zone_table_done(struct zone_table *t);

/* Initialises a scope with its apex (lower-case wire); for reverse scopes
 * also the subnet. */
void zone_scope_init(struct zone_table *t, struct dns_scope *scope, enum dns_scope_kind kind,
		     const uint8_t *apex, size_t apex_len, const struct ip_prefix *prefix);
/* Removes every node of the scope. */
void zone_scope_clear(struct zone_table *t, struct dns_scope *scope);

/* Adds an RR at name (lower-case wire, at or under the scope's apex).
 * -EINVAL if the name is outside the scope. An identical RR with the same
 * tag is not added twice. */
int zone_add_rr(struct zone_table *t, struct dns_scope *scope, const uint8_t *name, size_t name_len,
		uint16_t type, uint32_t ttl, const void *rdata, uint16_t rdlen, const void *tag);
/* Removes the RRs at name with this tag (and, if type is not 0, this
 * type). Returns the number removed. */
int zone_remove_tag(struct zone_table *t, struct dns_scope *scope, const uint8_t *name,
		    size_t name_len, uint16_t type, const void *tag);

/* The node for name in scope, or NULL. hash may be computed once with
 * zone_hash() and reused. */
uint32_t zone_hash(const struct dns_scope *scope, const uint8_t *name, size_t name_len);
struct dns_node *zone_find(const struct zone_table *t, const struct dns_scope *scope,
			   const uint8_t *name, size_t name_len, uint32_t hash);
