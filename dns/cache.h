/* The answer cache for forwarded names: canonical upstream answers
 * (upstream-msg.h) keyed by (upstream set, lower-case name, type, class),
 * kept for their TTL (positive) or the SOA's negative TTL (RFC 2308),
 * evicted least-recently-used beyond an entry and a byte budget.
 *
 * A lookup allocates nothing: the caller renders the entry into its own
 * buffer. Time is passed in (milliseconds, monotonic) so tests control it.
 * Single-threaded. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "upstream-msg.h"

/* Defaults: 10,000 answers / 8 MiB keep dnsd well inside its 20 MiB RSS
 * budget while holding a busy host's working set. */
#define CACHE_ENTRIES_DEFAULT 10000
#define CACHE_BYTES_DEFAULT   (8u * 1024 * 1024)

struct cache;

struct cache_key {
	uint32_t set_hash; /* which upstreams answered */
	uint16_t qtype;
	uint16_t qclass;
	uint8_t qname_len;
	const uint8_t *qname; /* lower-case wire */
};

struct cache_stats {
	uint64_t hits;
	uint64_t misses;
	uint64_t inserts;
	uint64_t evictions;
	uint64_t expired;
	size_t entries;
	size_t bytes;
};

struct cache *cache_new(size_t max_entries, size_t max_bytes);
void cache_free(struct cache *c);

/* The entry for key if present and not expired (an expired one is dropped);
 * *ret_elapsed gets the seconds since it was stored. Counts a hit or miss. */
const struct upstream_msg *cache_lookup(struct cache *c, const struct cache_key *key,
					uint64_t now_ms, uint32_t *ret_elapsed);
/* Stores a copy of um (if um->cacheable) for um->ttl seconds. */
void cache_insert(struct cache *c, const struct cache_key *key, const struct upstream_msg *um,
		  uint64_t now_ms);
void cache_flush(struct cache *c);
void cache_get_stats(const struct cache *c, struct cache_stats *ret);
