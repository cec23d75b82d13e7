/* Walks netd's events.subscribe reply without building its JSON tree: an
 * iterator that returns, one at a time, where each element of
 * result.vnets/zones/groups/records starts and ends (and reads
 * result.seq on the way). The feed parses and applies one element per
 * step, a slice of steps per turn of the event loop, so a snapshot of
 * 10,000 names never holds the loop for long (parsing the whole line at
 * once was most of a ~150 ms pause in answering).
 *
 * Pure and bounded: every index is checked against the length; anything
 * that is not well-formed JSON at the structural level fails the walk
 * (each element is checked when it is parsed). Nesting is followed with a
 * counter, not recursion. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct snapshot_scanner {
	const char *text;
	size_t len;
	size_t pos;
	const char *const *keys; /* the array members of "result" to walk */
	unsigned key_count;
	int state;
	unsigned key_index;
	bool has_result; /* a "result" object was seen ("error" replies lack it) */
	bool has_seq;
	uint64_t seq;
};

void snapshot_scanner_init(struct snapshot_scanner *sc, const char *text, size_t len,
			   const char *const *keys, unsigned key_count);
/* The next element: 1 and its key index, offset and length; 0 at the end
 * of the line; -EBADMSG if the line is not a JSON object. */
int snapshot_scanner_next(struct snapshot_scanner *sc, unsigned *ret_key_index, size_t *ret_off,
			  size_t *ret_len);
