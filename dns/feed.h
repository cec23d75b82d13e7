/* The netd event stream client: connects to RUN_DIR/netd.sock, calls
 * events.subscribe, applies the snapshot (replacing the model) and then
 * each event as it comes. The snapshot is walked in 2 ms slices from the
 * event loop; what differs from the model is applied at its end in one
 * swap, with the removal of what it no longer names, so queries are
 * answered throughout from the old model (feed.c). On EOF, error, or a gap in the sequence numbers
 * it reconnects with exponential back-off; meanwhile the model keeps what
 * it had, so dnsd keeps answering while netd restarts.
 *
 * The JSON parsing into typed structs (feed_parse_*) is separate from the
 * socket so tests can drive the model with hand-written lines. */
#pragma once

#include <jansson.h>

#include "error.h"
#include "event-loop.h"
#include "model.h"

/* Back-off between reconnects: from 50 ms doubling to 2 s, so a netd
 * restart is picked up within about two seconds. */
#define FEED_BACKOFF_MIN_MS 50
#define FEED_BACKOFF_MAX_MS 2000
/* The snapshot is one line: 64 MiB (netd's own output bound) is far above
 * 10,000 groups (~3 MiB). */
#define FEED_LINE_MAX (64u * 1024 * 1024)

struct feed;

int feed_new(struct event_loop *loop, const char *socket_path, struct model *model,
	     struct feed **ret);
void feed_free(struct feed *f);
/* Whether the stream is up (stats). */
bool feed_connected(const struct feed *f);
uint64_t feed_reconnects(const struct feed *f);

int feed_parse_vnet(json_t *o, struct vnet_info *ret, struct pw_error *err);
int feed_parse_group(json_t *o, struct group_info *ret, struct pw_error *err);
int feed_parse_record(json_t *o, struct record_info *ret, struct pw_error *err);
int feed_parse_zone(json_t *o, struct zone_info *ret, struct pw_error *err);
/* Applies an events.subscribe result / one event object to the model. */
int feed_apply_snapshot(struct model *m, json_t *result, struct pw_error *err);
int feed_apply_event(struct model *m, json_t *event, struct pw_error *err);
