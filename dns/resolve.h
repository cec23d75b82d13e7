/* Answering a query from the local tables, for one VNet: picks the scope
 * (the VNet's domain, its reverse zones, the zones linked to it), finds the
 * node, chases CNAMEs within those scopes, and writes the answer, or an
 * NXDOMAIN/NODATA with the scope's SOA. Names under none of the VNet's
 * scopes are for the forwarder. Pure: no I/O, no allocation. */
#pragma once

#include "strmap.h"
#include "wire.h"
#include "zone.h"

/* What a VNet may see: its own scopes and the zones linked to it. */
struct resolve_view {
	struct dns_scope *const *scopes;
	size_t scope_count;
	struct dns_scope *domain; /* single-label names are tried under it */
	/* Every podwire scope of every VNet and zone, by apex (the key is
	 * the apex in wire form without its root octet; values chain through
	 * dns_scope.apex_next). A name under one of them that is not under a
	 * scope of this VNet gets NXDOMAIN: it is never forwarded, and never
	 * answered from another VNet. NULL = no such check. */
	const struct strmap *all_apexes;
};

/* The key of a wire name in all_apexes: the name without its root octet,
 * NUL-terminated, in key (DNS_WIRE_NAME_MAX bytes). */
void resolve_apex_key(const uint8_t *name, size_t len, char *key);

enum resolve_result {
	RESOLVE_ANSWERED, /* the reply is in the builder (not finished) */
	RESOLVE_FORWARD,  /* not ours: forward upstream */
};

/* CNAME chains longer than this are cut (RFC 1034 suggests loop
 * detection; 8 is what common resolvers allow for in-zone chains). */
#define RESOLVE_CNAME_MAX 8

/* q must have parsed (DNS_PARSE_OK) and be class IN or ANY. b was started
 * with dns_builder_start_reply(). On a full buffer the reply is truncated
 * and TC set. */
enum resolve_result resolve_local(const struct zone_table *t, const struct resolve_view *view,
				  const struct dns_query *q, struct dns_builder *b);

/* The most specific scope of view holding name (lower-case wire), or NULL. */
struct dns_scope *resolve_find_scope(const struct resolve_view *view, const uint8_t *name,
				     size_t name_len);
