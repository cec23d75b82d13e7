/* A non-blocking etcd v3 client for netd's event loop: libcurl's multi
 * interface (its sockets and its timer registered on lib/event-loop.h)
 * speaking the v3 JSON gateway (etcd-codec.h), so a slow or unreachable
 * etcd never stalls the loop that serves local VNets.
 *
 * Requests complete through a callback, always called later from the loop
 * (never from inside the call that submitted it), exactly once: with r = 0
 * and the reply, or r < 0 and a one-line message naming the operation,
 * the endpoint and what failed, e.g.
 *   etcd put /podwire/x: http://10.0.0.2:2379: no reply within 2000 ms
 * The reply and the error are valid only during the callback.
 *
 * Endpoints: a list of base URLs. A request starts on the endpoint that
 * last worked and moves to the next one when it cannot connect (the
 * request never reached a server, so moving is safe even for a
 * transaction), until it has tried each once or its timeout ends. A
 * request that connected and then timed out is not retried (a put or a
 * transaction may have been applied), but the next request starts on the
  * next endpoint: a member cut off from its quorum keeps accepting
 * connections and answering nothing. Reads (ranges, keep-alives) that etcd
 * answers with gRPC Unavailable ("leader changed", "no leader") are asked
 * again on the next endpoint (ETCD_RETRY_DELAY_MS) within their timeout.
 * https:// endpoints verify the server against the system's CA store;
 * client certificates and etcd authentication are not supported yet.
 *
 * Leases: etcd_lease_keepalive() owns a periodic keep-alive (every third
 * of the TTL) and calls lost() once when the lease is gone: etcd says it
 * expired, or no keep-alive succeeded for a whole TTL (then it may have
 * expired; callers must assume it did).
 *
 * Watches: one streaming POST /v3/watch per watch. Events are delivered in
 * revision order, each revision once: after a disconnect the watch
 * reconnects (next endpoint, backoff from ETCD_WATCH_BACKOFF_MIN_MS to
 * ETCD_WATCH_BACKOFF_MAX_MS) from the last delivered revision + 1. If that
 * revision was compacted, compacted() is called and the watch stops: the
 * caller must read the state again (a range) and watch from its revision.
 *
 * Freeing the client cancels everything: pending requests complete with
 * -ECANCELED (so callers can release what their userdata holds; they must
 * not submit new requests from that callback), keep-alives and watches
 * stop silently, and their handles are freed with the client. Not
 * thread-safe: one loop, one thread. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "etcd-codec.h"
#include "event-loop.h"

/* Endpoints in one client: a cluster has 3 or 5 members; proxies or
 * gateways in front of them add a few. */
#define ETCD_ENDPOINTS_MAX 16
/* Default per-request timeout: an etcd round trip is milliseconds; a
 * leader election (election timeout 1 s by default) must fit in it. */
#define ETCD_TIMEOUT_DEFAULT_MS 5000
/* A TCP connect longer than this counts as "cannot connect" (and moves
 * to the next endpoint): on a LAN a connect takes well under a
 * millisecond, so a second is only reached when a host is gone. */
#define ETCD_CONNECT_TIMEOUT_MS 1000
/* Watch reconnect backoff: first retry soon (a member restart or a
 * failover takes ~1 s), then doubling up to 5 s so a dead cluster costs
 * little. */
#define ETCD_WATCH_BACKOFF_MIN_MS 100
#define ETCD_WATCH_BACKOFF_MAX_MS 5000
/* A read etcd answered with gRPC Unavailable ("leader changed", "no
 * leader") is asked again on the next endpoint after this pause, while
 * its timeout allows: an election takes about a second. Writes are not
 * (they may have been applied); their callers see the error. */
#define ETCD_RETRY_DELAY_MS 100
/* Shortest lease TTL accepted: etcd itself grants at least its minimum
 * TTL (about 1.5 election timeouts, 2 s by default) anyway. */
#define ETCD_LEASE_TTL_MIN_S 1

struct etcd_client;
struct etcd_keepalive;
struct etcd_watch;

/* endpoints: comma-separated base URLs (http://HOST:PORT, no path); 1 to
 * ETCD_ENDPOINTS_MAX of them. timeout_ms: per request (0: the default). */
int etcd_client_new(struct event_loop *loop, const char *endpoints, uint64_t timeout_ms,
		    struct etcd_client **ret_client, struct pw_error *err);
void etcd_client_free(struct etcd_client *client);
/* The endpoint the next request starts on (for status and messages). */
const char *etcd_client_endpoint(const struct etcd_client *client);

/* r = 0 with resp, or r < 0 with err (resp NULL). */
typedef void (*etcd_done_cb)(struct etcd_client *client, int r, const struct pw_error *err,
			     const struct etcd_response *resp, void *userdata);

/* Each returns 0 (the callback will be called) or a negative errno with
 * err set for a request that cannot be made (bad key, client freeing);
 * then the callback is never called. */
int etcd_range(struct etcd_client *client, const char *key, bool prefix, int64_t revision,
	       etcd_done_cb cb, void *userdata, struct pw_error *err);
int etcd_put(struct etcd_client *client, const char *key, const void *value, size_t value_len,
	     int64_t lease, etcd_done_cb cb, void *userdata, struct pw_error *err);
int etcd_delete(struct etcd_client *client, const char *key, bool prefix, etcd_done_cb cb,
		void *userdata, struct pw_error *err);
/* resp->succeeded says which branch ran; resp->responses has one reply
 * per operation of that branch. */
int etcd_txn(struct etcd_client *client, const struct etcd_compare *compares, size_t compare_count,
	     const struct etcd_op *success, size_t success_count, const struct etcd_op *failure,
	     size_t failure_count, etcd_done_cb cb, void *userdata, struct pw_error *err);

/* resp->lease_id and resp->ttl (what etcd granted). */
int etcd_lease_grant(struct etcd_client *client, int64_t ttl_s, etcd_done_cb cb, void *userdata,
		     struct pw_error *err);
/* A revoked lease deletes its keys; revoking an unknown one fails with
 * -ENOENT. */
int etcd_lease_revoke(struct etcd_client *client, int64_t lease_id, etcd_done_cb cb, void *userdata,
		      struct pw_error *err);

typedef void (*etcd_lease_lost_cb)(struct etcd_keepalive *keepalive, int64_t lease_id,
				   const struct pw_error *why, void *userdata);
/* Keeps lease_id (granted with ttl_s) alive until etcd_keepalive_free().
 * lost is called at most once; the handle stays valid (and inert) until
 * freed. */
int etcd_lease_keepalive(struct etcd_client *client, int64_t lease_id, int64_t ttl_s,
			 etcd_lease_lost_cb lost, void *userdata,
			 struct etcd_keepalive **ret_keepalive, struct pw_error *err);
/* Stops keeping the lease alive (it expires after its TTL unless
 * revoked); cancels a keep-alive in flight. NULL is fine. */
void etcd_keepalive_free(struct etcd_keepalive *keepalive);

struct etcd_watch_callbacks {
	/* The events of one or more revisions, in order; revision is the
	 * store's revision when the server sent them. */
	void (*events)(struct etcd_watch *watch, const struct etcd_event *events, size_t count,
		       int64_t revision, void *userdata);
	/* The revision to resume from was compacted; the watch has stopped. */
	void (*compacted)(struct etcd_watch *watch, int64_t compact_revision, void *userdata);
	/* Optional: the stream is up (err NULL; endpoint says where) or went
	 * down (err says why; a reconnect is scheduled). For logs and status;
	 * no event is lost or repeated either way. */
	void (*status)(struct etcd_watch *watch, const char *endpoint, const struct pw_error *err,
		       void *userdata);
};

/* Watches key (or every key under it with prefix) from start_revision (0:
 * changes after now). */
int etcd_watch_start(struct etcd_client *client, const char *key, bool prefix,
		     int64_t start_revision, const struct etcd_watch_callbacks *callbacks,
		     void *userdata, struct etcd_watch **ret_watch, struct pw_error *err);
/* The revision the watch would resume from (last delivered + 1). */
int64_t etcd_watch_next_revision(const struct etcd_watch *watch);
/* Stops the watch; allowed from its own callbacks. NULL is fine. */
void etcd_watch_free(struct etcd_watch *watch);
