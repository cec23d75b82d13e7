/* The daemon core of podwire-dnsd: one struct tying the parts together
 * (model, listeners, UDP/TCP servers, cache, forwarder, netd feed, stats
 * socket), and the entry points the parts call on each other. Everything
 * runs on one event loop thread; no locking anywhere. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "cache.h"
#include "event-loop.h"
#include "forward.h"
#include "model.h"
#include "rpc-server.h"
#include "wire.h"

struct listener;
struct tcp_conn;
struct feed;

/* Counters shown by `podwire stats dns`. */
struct dns_counters {
	uint64_t queries;
	uint64_t queries_udp;
	uint64_t queries_tcp;
	uint64_t dropped;	 /* malformed beyond answering, or responses */
	uint64_t local;		 /* answered from the VNet's names and zones */
	uint64_t forwarded;	 /* sent to (or joined) an upstream question */
	uint64_t cached;	 /* answered from the cache */
	uint64_t truncated;	 /* replies with TC set */
	uint64_t refused_source; /* from outside the VNet's subnets */
	/* TCP connections closed by server-tcp.c's bounds */
	uint64_t tcp_evicted_client;   /* a new one from the same address */
	uint64_t tcp_evicted_listener; /* a new one on the same gateway */
	uint64_t tcp_evicted_total;    /* a new one anywhere */
	uint64_t tcp_query_deadline;   /* a query not complete in time */
	uint64_t tcp_idle_timeout;     /* idle between queries */
	uint64_t tcp_accept_errors;    /* accept or watch failed */
	uint64_t rcodes[DNS_RCODE_MAX];
};

struct view_core {
	struct upstream_set upstreams;
};

struct dnsd_options {
	const char *run_dir;
	const char *resolv_conf;
	uint16_t port;
	unsigned upstream_timeout_ms;
	size_t cache_entries;
	gid_t admin_gid;
	bool admin_gid_set;
};

struct dnsd {
	struct dnsd_options opts;
	struct event_loop *loop;
	struct model model;
	struct cache *cache;
	struct forwarder *fwd;
	struct feed *feed;
	struct rpc_server *rpc;
	struct dns_counters counters;
	struct upstream_set host_upstreams; /* from resolv.conf */
	struct listener *listeners;
	uint64_t next_listener_id;
	/* TCP */
	struct tcp_conn *tcp_conns;
	unsigned tcp_conn_count;
	uint64_t next_tcp_conn_id;
	struct event_watch *tcp_sweep;
	uint64_t start_ms;
};

/* reload.c: (re)reads the host upstreams from opts.resolv_conf; returns
 * how many, or -errno (the upstreams then stay as they were). */
int dnsd_load_host_upstreams(struct dnsd *d);
/* reload.c: the SIGHUP callback of the event loop. */
void dnsd_reload(struct event_loop *loop, void *userdata);

/* server.c: one query in, at most one reply out. Returns the reply length
 * to send now (written into out, cap bytes), or 0 when there is nothing to
 * send now (dropped, or forwarded: the reply follows later). */
size_t server_handle_query(struct dnsd *d, struct listener *l, const struct sockaddr *src,
			   socklen_t src_len, const uint8_t *msg, size_t len, uint8_t *out,
			   size_t cap, uint64_t tcp_conn_id);
/* server.c: the forwarder's done callback. */
void server_forward_done(void *userdata, const struct cache_key *key, const struct upstream_msg *um,
			 const struct forward_client *clients, size_t client_count);
/* server.c: the upstreams a view forwards to. */
const struct upstream_set *server_view_upstreams(struct dnsd *d, struct view *v);
/* server.c: model hooks (views coming and going open/close listeners). */
extern const struct model_hooks server_model_hooks;

/* server-udp.c */
void server_udp_readable(struct event_loop *loop, int fd, uint32_t events, void *userdata);
/* Sends one reply from a listener's UDP socket (for forwarded answers). */
void server_udp_send(struct listener *l, const struct sockaddr *addr, socklen_t addr_len,
		     const uint8_t *msg, size_t len);

/* server-tcp.c */
int server_tcp_init(struct dnsd *d);
void server_tcp_done(struct dnsd *d);
void server_tcp_accept(struct event_loop *loop, int fd, uint32_t events, void *userdata);
/* Queues a reply on connection conn_id if it still exists. */
void server_tcp_send(struct dnsd *d, uint64_t conn_id, const uint8_t *msg, size_t len);
/* Closes the connections accepted by l (it is going away). */
void server_tcp_close_listener(struct dnsd *d, struct listener *l);

/* stats.c */
int stats_server_start(struct dnsd *d, struct pw_error *err);
json_t *stats_to_json(struct dnsd *d);
