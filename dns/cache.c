/* The answer cache: see cache.h. A chained hash table (doubling) plus a
 * doubly-linked LRU list; an entry is one allocation holding its key,
 * message and TTL offsets. */
#include <string.h>

#include "cache.h"
#include "dname.h"
#include "xalloc.h"

struct cache_entry {
	struct cache_entry *hash_next;
	struct cache_entry *lru_prev, *lru_next; /* head = most recent */
	uint32_t hash;
	uint32_t set_hash;
	uint16_t qtype, qclass;
	uint64_t stored_ms;
	uint64_t expires_ms;
	size_t size;		/* bytes accounted */
	struct upstream_msg um; /* um.msg points into data */
	uint8_t qname_len;
	uint8_t data[]; /* qname, then the message */
};

struct cache {
	struct cache_entry **buckets;
	size_t bucket_count;
	struct cache_entry *lru_head, *lru_tail;
	size_t max_entries, max_bytes;
	struct cache_stats stats;
};

struct cache *cache_new(size_t max_entries, size_t max_bytes)
{
	struct cache *c = xcalloc(1, sizeof(*c));
	c->bucket_count = 1024;
	c->buckets = xcalloc(c->bucket_count, sizeof(*c->buckets));
	c->max_entries = max_entries;
	c->max_bytes = max_bytes;
	return c;
}

static uint32_t key_hash(const struct cache_key *key)
{
	uint32_t h = dns_name_hash(key->qname, key->qname_len, key->set_hash);
	return (h ^ ((uint32_t)key->qtype << 16 | key->qclass)) * 2654435761u;
}

static void lru_unlink(struct cache *c, struct cache_entry *e)
{
	if (e->lru_prev)
		e->lru_prev->lru_next = e->lru_next;
	else
		c->lru_head = e->lru_next;
	if (e->lru_next)
		e->lru_next->lru_prev = e->lru_prev;
	else
		c->lru_tail = e->lru_prev;
	e->lru_prev = e->lru_next = NULL;
}

static void lru_push(struct cache *c, struct cache_entry *e)
{
	e->lru_prev = NULL;
	e->lru_next = c->lru_head;
	if (c->lru_head)
		c->lru_head->lru_prev = e;
	c->lru_head = e;
	if (!c->lru_tail)
		c->lru_tail = e;
}

static void entry_remove(struct cache *c, struct cache_entry *e)
{
	struct cache_entry **pp = &c->buckets[e->hash & (c->bucket_count - 1)];
	while (*pp != e)
		pp = &(*pp)->hash_next;
	*pp = e->hash_next;
	lru_unlink(c, e);
	c->stats.entries--;
	c->stats.bytes -= e->size;
	free(e);
}

static struct cache_entry *find(struct cache *c, const struct cache_key *key, uint32_t hash)
{
	for (struct cache_entry *e = c->buckets[hash & (c->bucket_count - 1)]; e; e = e->hash_next)
		if (e->hash == hash && e->set_hash == key->set_hash && e->qtype == key->qtype &&
		    e->qclass == key->qclass && e->qname_len == key->qname_len &&
		    memcmp(e->data, key->qname, key->qname_len) == 0)
			return e;
	return NULL;
}

const struct upstream_msg *cache_lookup(struct cache *c, const struct cache_key *key,
					uint64_t now_ms, uint32_t *ret_elapsed)
{
	uint32_t hash = key_hash(key);
	struct cache_entry *e = find(c, key, hash);
	if (e && now_ms >= e->expires_ms) {
		entry_remove(c, e);
		c->stats.expired++;
		e = NULL;
	}
	if (!e) {
		c->stats.misses++;
		return NULL;
	}
	c->stats.hits++;
	lru_unlink(c, e);
	lru_push(c, e);
	*ret_elapsed = (uint32_t)((now_ms - e->stored_ms) / 1000);
	return &e->um;
}

static void grow(struct cache *c)
{
	size_t count = c->bucket_count * 2;
	struct cache_entry **buckets = xcalloc(count, sizeof(*buckets));
	for (size_t i = 0; i < c->bucket_count; i++) {
		struct cache_entry *e = c->buckets[i];
		while (e) {
			struct cache_entry *next = e->hash_next;
			e->hash_next = buckets[e->hash & (count - 1)];
			buckets[e->hash & (count - 1)] = e;
			e = next;
		}
	}
	free(c->buckets);
	c->buckets = buckets;
	c->bucket_count = count;
}

void cache_insert(struct cache *c, const struct cache_key *key, const struct upstream_msg *um,
		  uint64_t now_ms)
{
	if (!um->cacheable || um->ttl == 0 || c->max_entries == 0)
		return;
	uint32_t hash = key_hash(key);
	struct cache_entry *old = find(c, key, hash);
	if (old)
		entry_remove(c, old);
	size_t size = sizeof(struct cache_entry) + key->qname_len + um->len;
	if (size > c->max_bytes)
		return;
	while (c->lru_tail &&
	       (c->stats.entries + 1 > c->max_entries || c->stats.bytes + size > c->max_bytes)) {
		entry_remove(c, c->lru_tail);
		c->stats.evictions++;
	}
	struct cache_entry *e = xmalloc(size);
	memset(e, 0, sizeof(*e));
	e->hash = hash;
	e->set_hash = key->set_hash;
	e->qtype = key->qtype;
	e->qclass = key->qclass;
	e->qname_len = key->qname_len;
	e->stored_ms = now_ms;
	e->expires_ms = now_ms + (uint64_t)um->ttl * 1000;
	e->size = size;
	memcpy(e->data, key->qname, key->qname_len);
	e->um = *um;
	e->um.msg = e->data + key->qname_len;
	memcpy(e->um.msg, um->msg, um->len);
	e->hash_next = c->buckets[hash & (c->bucket_count - 1)];
	c->buckets[hash & (c->bucket_count - 1)] = e;
	lru_push(c, e);
	c->stats.entries++;
	c->stats.bytes += size;
	c->stats.inserts++;
	if (c->stats.entries > c->bucket_count)
		grow(c);
}

void cache_flush(struct cache *c)
{
	while (c->lru_head)
		entry_remove(c, c->lru_head);
}

void cache_free(struct cache *c)
{
	if (!c)
		return;
	cache_flush(c);
	free(c->buckets);
	free(c);
}

void cache_get_stats(const struct cache *c, struct cache_stats *ret)
{
	*ret = c->stats;
}
