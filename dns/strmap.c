/* String-keyed hash map: see strmap.h. */
#include <string.h>

#include "strmap.h"
#include "xalloc.h"

#define STRMAP_INITIAL_BUCKETS 64

static size_t hash_key(const char *key)
{
	size_t h = 14695981039346656037ull;
	for (; *key; key++) {
		h ^= (unsigned char)*key;
		h *= 1099511628211ull;
	}
	return h;
}

void strmap_init(struct strmap *m)
{
	m->bucket_count = STRMAP_INITIAL_BUCKETS;
	m->buckets = xcalloc(m->bucket_count, sizeof(*m->buckets));
	m->count = 0;
}

void strmap_done(struct strmap *m)
{
	for (size_t i = 0; i < m->bucket_count; i++) {
		struct strmap_entry *e = m->buckets[i];
		while (e) {
			struct strmap_entry *next = e->next;
			free(e);
			e = next;
		}
	}
	free(m->buckets);
	m->buckets = NULL;
	m->count = 0;
}

static struct strmap_entry **find(const struct strmap *m, const char *key)
{
	struct strmap_entry **pp = &m->buckets[hash_key(key) & (m->bucket_count - 1)];
	while (*pp && strcmp((*pp)->key, key) != 0)
		pp = &(*pp)->next;
	return pp;
}

void *strmap_get(const struct strmap *m, const char *key)
{
	struct strmap_entry *e = *find(m, key);
	return e ? e->value : NULL;
}

static void grow(struct strmap *m)
{
	size_t count = m->bucket_count * 2;
	struct strmap_entry **buckets = xcalloc(count, sizeof(*buckets));
	for (size_t i = 0; i < m->bucket_count; i++) {
		struct strmap_entry *e = m->buckets[i];
		while (e) {
			struct strmap_entry *next = e->next;
			size_t b = hash_key(e->key) & (count - 1);
			e->next = buckets[b];
			buckets[b] = e;
			e = next;
		}
	}
	free(m->buckets);
	m->buckets = buckets;
	m->bucket_count = count;
}

void *strmap_put(struct strmap *m, const char *key, void *value)
{
	struct strmap_entry **pp = find(m, key);
	if (*pp) {
		void *old = (*pp)->value;
		(*pp)->value = value;
		return old;
	}
	size_t len = strlen(key);
	struct strmap_entry *e = xmalloc(sizeof(*e) + len + 1);
	memcpy(e->key, key, len + 1);
	e->value = value;
	e->next = NULL;
	*pp = e;
	if (++m->count > m->bucket_count)
		grow(m);
	return NULL;
}

void *strmap_remove(struct strmap *m, const char *key)
{
	struct strmap_entry **pp = find(m, key);
	struct strmap_entry *e = *pp;
	if (!e)
		return NULL;
	void *value = e->value;
	*pp = e->next;
	free(e);
	m->count--;
	return value;
}

struct strmap_entry *strmap_first(const struct strmap *m, size_t *bucket)
{
	for (*bucket = 0; *bucket < m->bucket_count; (*bucket)++)
		if (m->buckets[*bucket])
			return m->buckets[*bucket];
	return NULL;
}

struct strmap_entry *strmap_next(const struct strmap *m, size_t *bucket, struct strmap_entry *e)
{
	if (e->next)
		return e->next;
	for ((*bucket)++; *bucket < m->bucket_count; (*bucket)++)
		if (m->buckets[*bucket])
			return m->buckets[*bucket];
	return NULL;
}
