/* The upstream client: forwards names dnsd does not own to a VNet's
 * upstream servers over UDP, one connected socket per attempt (a fresh
 * random source port and a random ID each time, against spoofed answers),
 * with de-duplication of identical questions in flight (later askers join
 * the pending query), a timeout per attempt and fail-over to the next
 * upstream; SERVFAIL/REFUSED answers also fail over. When an answer is
 * accepted, or every upstream failed, the done callback gets it (or NULL)
 * with every client that asked. Single-threaded, on the event loop. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "cache.h"
#include "event-loop.h"
#include "prefix.h"
#include "upstream-msg.h"
#include "wire.h"

#define UPSTREAM_SET_MAX 4
/* Per attempt: local upstreams answer in well under a millisecond, remote
 * ones in tens; a second is what glibc waits (RES_TIMEOUT is 5 s, but it
 * retries the next server sooner here because we have several). */
#define FORWARD_TIMEOUT_MS_DEFAULT 1000
/* Questions in flight at once; beyond this new ones get SERVFAIL rather
 * than growing memory without bound. */
#define FORWARD_PENDING_MAX 4096
/* Clients waiting on one pending question. */
#define FORWARD_WAITERS_MAX 64

struct upstream_set {
	size_t count;
	struct ip_addr addrs[UPSTREAM_SET_MAX];
	uint32_t hash; /* identifies the set in cache keys */
};

/* Computes s->hash from its addresses. */
void upstream_set_update_hash(struct upstream_set *s);

/* A client waiting for an answer: what the reply needs. */
struct forward_client {
	struct dns_query q;
	uint64_t listener_id;
	uint64_t tcp_conn_id; /* 0 for UDP */
	struct sockaddr_storage addr;
	socklen_t addr_len;
};

/* um is NULL when every upstream failed (reply SERVFAIL). */
typedef void (*forward_done_cb)(void *userdata, const struct cache_key *key,
				const struct upstream_msg *um, const struct forward_client *clients,
				size_t client_count);

struct forward_stats {
	uint64_t queries; /* questions sent upstream (after de-dup) */
	uint64_t joined;  /* clients that joined a question in flight */
	uint64_t attempts;
	uint64_t timeouts;
	uint64_t failures; /* questions no upstream answered */
	uint64_t answers;
	uint64_t latency_count;
	uint64_t latency_sum_us;
	uint64_t latency_max_us;
	size_t pending;
};

struct forwarder;

int forwarder_new(struct event_loop *loop, unsigned timeout_ms, forward_done_cb cb, void *userdata,
		  struct forwarder **ret);
/* Pending questions are dropped without callbacks. */
void forwarder_free(struct forwarder *f);
/* Starts or joins the question of client->q. -ENOENT if the set is empty,
 * -EBUSY when too many are pending. */
int forwarder_submit(struct forwarder *f, const struct upstream_set *set,
		     const struct forward_client *client);
void forwarder_get_stats(const struct forwarder *f, struct forward_stats *ret);
