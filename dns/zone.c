/* The lookup tables: see zone.h. The hash table doubles when it holds more
 * nodes than buckets, so a lookup is one hash and, on average, under one
 * name comparison at any size. */
#include <errno.h>
#include <string.h>

#include "dname.h"
#include "xalloc.h"
#include "zone.h"

/* 1024 buckets to start: a VNet with a few groups never resizes. */
#define ZONE_INITIAL_BUCKETS 1024

void zone_table_init(struct zone_table *t)
{
	t->bucket_count = ZONE_INITIAL_BUCKETS;
	t->buckets = xcalloc(t->bucket_count, sizeof(*t->buckets));
	t->node_count = 0;
	t->next_scope_id = 1;
}

static void node_free(struct dns_node *node)
{
	struct dns_rr *rr = node->rrs;
	while (rr) {
		struct dns_rr *next = rr->next;
		free(rr);
		rr = next;
	}
	free(node);
}

void zone_table_done(struct zone_table *t)
{
	for (size_t i = 0; i < t->bucket_count; i++) {
		struct dns_node *n = t->buckets[i];
		while (n) {
			struct dns_node *next = n->hash_next;
			node_free(n);
			n = next;
		}
	}
	free(t->buckets);
	t->buckets = NULL;
	t->node_count = 0;
}

void zone_scope_init(struct zone_table *t, struct dns_scope *scope, enum dns_scope_kind kind,
		     const uint8_t *apex, size_t apex_len, const struct ip_prefix *prefix)
{
	memset(scope, 0, sizeof(*scope));
	scope->id = t->next_scope_id++;
	scope->kind = kind;
	scope->apex_len = (uint8_t)apex_len;
	memcpy(scope->apex, apex, apex_len);
	if (prefix)
		scope->prefix = *prefix;
	scope->serial = 1;
	/* "ns.<apex>" / "hostmaster.<apex>", or the apex itself when the
	 * apex is too long to prefix. */
	static const uint8_t ns[] = "\2ns";
	static const uint8_t hostmaster[] = "\12hostmaster";
	int r = dns_name_concat(ns, sizeof(ns), apex, apex_len, scope->soa_mname);
	if (r < 0) {
		memcpy(scope->soa_mname, apex, apex_len);
		r = (int)apex_len;
	}
	scope->soa_mname_len = (uint8_t)r;
	r = dns_name_concat(hostmaster, sizeof(hostmaster), apex, apex_len, scope->soa_rname);
	if (r < 0) {
		memcpy(scope->soa_rname, apex, apex_len);
		r = (int)apex_len;
	}
	scope->soa_rname_len = (uint8_t)r;
}

uint32_t zone_hash(const struct dns_scope *scope, const uint8_t *name, size_t name_len)
{
	return dns_name_hash(name, name_len, scope->id * 0x9e3779b9u);
}

struct dns_node *zone_find(const struct zone_table *t, const struct dns_scope *scope,
			   const uint8_t *name, size_t name_len, uint32_t hash)
{
	struct dns_node *n = t->buckets[hash & (t->bucket_count - 1)];
	for (; n; n = n->hash_next)
		if (n->hash == hash && n->scope == scope && n->name_len == name_len &&
		    memcmp(n->name, name, name_len) == 0)
			return n;
	return NULL;
}

static void table_grow(struct zone_table *t)
{
	size_t count = t->bucket_count * 2;
	struct dns_node **buckets = xcalloc(count, sizeof(*buckets));
	for (size_t i = 0; i < t->bucket_count; i++) {
		struct dns_node *n = t->buckets[i];
		while (n) {
			struct dns_node *next = n->hash_next;
			size_t b = n->hash & (count - 1);
			n->hash_next = buckets[b];
			buckets[b] = n;
			n = next;
		}
	}
	free(t->buckets);
	t->buckets = buckets;
	t->bucket_count = count;
}

static bool name_in_scope(const struct dns_scope *scope, const uint8_t *name, size_t len)
{
	if (len < scope->apex_len)
		return false;
	size_t start = len - scope->apex_len;
	if (memcmp(name + start, scope->apex, scope->apex_len) != 0)
		return false;
	/* start must be a label boundary */
	size_t i = 0;
	while (i < start)
		i += 1 + name[i];
	return i == start;
}

/* Finds or creates the node, creating its ancestors up to the apex. */
static struct dns_node *node_get(struct zone_table *t, struct dns_scope *scope, const uint8_t *name,
				 size_t len)
{
	uint32_t hash = zone_hash(scope, name, len);
	struct dns_node *n = zone_find(t, scope, name, len, hash);
	if (n)
		return n;
	struct dns_node *parent = NULL;
	if (len > scope->apex_len) {
		size_t skip = 1 + name[0];
		parent = node_get(t, scope, name + skip, len - skip);
		parent->children++;
	}
	n = xcalloc(1, sizeof(*n) + len);
	n->scope = scope;
	n->parent = parent;
	n->hash = hash;
	n->name_len = (uint8_t)len;
	memcpy(n->name, name, len);
	size_t b = hash & (t->bucket_count - 1);
	n->hash_next = t->buckets[b];
	t->buckets[b] = n;
	n->scope_next = scope->nodes;
	if (scope->nodes)
		scope->nodes->scope_prev = n;
	scope->nodes = n;
	scope->node_count++;
	if (++t->node_count > t->bucket_count)
		table_grow(t);
	return n;
}

static void node_unlink(struct zone_table *t, struct dns_node *n)
{
	struct dns_node **pp = &t->buckets[n->hash & (t->bucket_count - 1)];
	while (*pp != n)
		pp = &(*pp)->hash_next;
	*pp = n->hash_next;
	if (n->scope_prev)
		n->scope_prev->scope_next = n->scope_next;
	else
		n->scope->nodes = n->scope_next;
	if (n->scope_next)
		n->scope_next->scope_prev = n->scope_prev;
	n->scope->node_count--;
	t->node_count--;
}

/* Deletes n and then any ancestor left empty. */
static void node_prune(struct zone_table *t, struct dns_node *n)
{
	while (n && !n->rrs && n->children == 0) {
		struct dns_node *parent = n->parent;
		node_unlink(t, n);
		node_free(n);
		if (parent)
			parent->children--;
		n = parent;
	}
}

int zone_add_rr(struct zone_table *t, struct dns_scope *scope, const uint8_t *name, size_t name_len,
		uint16_t type, uint32_t ttl, const void *rdata, uint16_t rdlen, const void *tag)
{
	if (!name_in_scope(scope, name, name_len))
		return -EINVAL;
	struct dns_node *n = node_get(t, scope, name, name_len);
	struct dns_rr **tail = &n->rrs;
	for (struct dns_rr *rr = n->rrs; rr; rr = rr->next) {
		if (rr->tag == tag && rr->type == type && rr->rdlen == rdlen &&
		    memcmp(rr->rdata, rdata, rdlen) == 0) {
			rr->ttl = ttl;
			return 0;
		}
		tail = &rr->next;
	}
	struct dns_rr *rr = xmalloc(sizeof(*rr) + rdlen);
	rr->next = NULL;
	rr->tag = tag;
	rr->type = type;
	rr->rdlen = rdlen;
	rr->ttl = ttl;
	memcpy(rr->rdata, rdata, rdlen);
	*tail = rr; /* append: answers keep the order records were added in */
	scope->serial++;
	return 0;
}

int zone_remove_tag(struct zone_table *t, struct dns_scope *scope, const uint8_t *name,
		    size_t name_len, uint16_t type, const void *tag)
{
	struct dns_node *n = zone_find(t, scope, name, name_len, zone_hash(scope, name, name_len));
	if (!n)
		return 0;
	int removed = 0;
	struct dns_rr **pp = &n->rrs;
	while (*pp) {
		struct dns_rr *rr = *pp;
		if (rr->tag == tag && (type == 0 || rr->type == type)) {
			*pp = rr->next;
			free(rr);
			removed++;
		} else {
			pp = &rr->next;
		}
	}
	if (removed)
		scope->serial++;
	node_prune(t, n);
	return removed;
}

void zone_scope_clear(struct zone_table *t, struct dns_scope *scope)
{
	while (scope->nodes) {
		struct dns_node *n = scope->nodes;
		node_unlink(t, n);
		node_free(n);
	}
	scope->serial++;
}
