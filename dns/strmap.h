/* A small string-keyed hash map (chained, doubling) for dnsd's model:
 * VNets by name, groups by id, zones and records by key. Keys are copied;
 * values are borrowed pointers. Not for the query hot path (zone.h is). */
#pragma once

#include <stddef.h>

struct strmap_entry {
	struct strmap_entry *next;
	void *value;
	char key[];
};

struct strmap {
	struct strmap_entry **buckets;
	size_t bucket_count;
	size_t count;
};

void strmap_init(struct strmap *m);
/* Frees the entries (not the values). */
void strmap_done(struct strmap *m);
void *strmap_get(const struct strmap *m, const char *key);
/* Replaces an existing value; returns the old one or NULL. */
void *strmap_put(struct strmap *m, const char *key, void *value);
/* Returns the removed value or NULL. */
void *strmap_remove(struct strmap *m, const char *key);

/* Iteration: for (e = strmap_first(m, &i); e; e = strmap_next(m, &i, e)).
 * Removing the current entry during iteration is not allowed; collect
 * keys first. */
struct strmap_entry *strmap_first(const struct strmap *m, size_t *bucket);
struct strmap_entry *strmap_next(const struct strmap *m, size_t *bucket, struct strmap_entry *e);
