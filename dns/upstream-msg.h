/* Upstream answers as dnsd keeps them: checked against the question asked,
 * reduced to a canonical form (ID 0, lower-case question, no OPT and
 * nothing after it), with the TTLs located so a cached copy can be aged,
 * and rendered back for each client (its ID, its RD bit, its 0x20 case,
 * its EDNS, its size limit). Pure functions, no allocation. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

/* RRs whose TTLs we track; an answer with more is delivered but not
 * cached (real answers have a handful). */
#define UPSTREAM_MSG_RRS_MAX 64
/* Cache TTL caps: one day for answers (as unbound's cache-max-ttl), three
 * hours for negative answers (RFC 2308 section 5 suggests 1-3 hours). */
#define UPSTREAM_TTL_MAX	  86400
#define UPSTREAM_NEGATIVE_TTL_MAX 10800

struct upstream_msg {
	uint8_t *msg; /* canonical message (caller's buffer) */
	size_t len;
	int rcode;
	bool truncated; /* TC from upstream */
	bool cacheable;
	uint32_t ttl; /* cache lifetime when cacheable */
	unsigned ttl_count;
	uint16_t ttl_offsets[UPSTREAM_MSG_RRS_MAX];
};

/* Checks that reply (len bytes) answers a query with ID id for the
 * lower-case qname/qtype/qclass, and writes its canonical form into out
 * (at least len bytes). -EBADMSG if malformed or not the answer to it. */
int upstream_msg_canonicalize(const uint8_t *reply, size_t len, uint16_t id, const uint8_t *qname,
			      size_t qname_len, uint16_t qtype, uint16_t qclass, uint8_t *out,
			      struct upstream_msg *ret);

/* Renders a canonical message for client q into out (cap bytes), TTLs
 * reduced by elapsed seconds; truncates (TC) if it does not fit. Returns
 * the length. cap must be at least 12 + 255 + 4 + 11. */
size_t upstream_msg_render(const struct upstream_msg *um, uint32_t elapsed,
			   const struct dns_query *q, uint8_t *out, size_t cap);

/* Builds a query for qname/qtype/qclass with ID id, RD and an OPT
 * offering DNS_EDNS_UDP_MAX; returns the length (out holds 12+255+4+11). */
size_t upstream_msg_query(uint16_t id, const uint8_t *qname, size_t qname_len, uint16_t qtype,
			  uint16_t qclass, uint8_t *out);
