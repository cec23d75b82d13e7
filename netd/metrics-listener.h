/* netd's optional Prometheus listener (`--metrics-listen ADDR`): a tiny
 * HTTP/1.0-1.1 server on netd's event loop that answers `GET /metrics`
 * with the same text `podwire stats --prometheus` prints (lib/prom-text.c
 * over netd_stats(), the "stats" RPC method's result), then closes the
 * connection.
 *
 * The metrics are not authenticated, so ADDR is a Unix socket
 * (unix:/path, mode 0660 like netd.sock) or a loopback address
 * (127.0.0.0/8:PORT, [::1]:PORT); anything else is refused when the option
 * is parsed.
 *
 * Invariants: nothing here blocks the loop (every socket is non-blocking;
 * a request is at most METRICS_REQUEST_MAX bytes; every connection has a
 * deadline after which it is closed, whatever the peer does; at most
 * METRICS_CONNECTIONS_MAX are open). Single-threaded like the rest of
 * netd. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "error.h"
#include "netd.h"

/* Request line plus headers: Prometheus sends about 300 bytes; 8 KiB is
 * what common servers allow before answering 431. */
#define METRICS_REQUEST_MAX 8192
/* Scrapers open one connection per scrape; a few more leave room for a
 * person with curl while bounding fds and memory against a flood. */
#define METRICS_CONNECTIONS_MAX 16
/* From accept to the end of the request headers. Real clients send the
 * request at once; 5 s is far above any loopback round trip. */
#define METRICS_READ_TIMEOUT_MS 5000
/* To write the reply: a 1,000-group exposition is about 0.5 MB, which a
 * reading client on loopback takes in milliseconds. */
#define METRICS_WRITE_TIMEOUT_MS 10000
/* After the reply: how long to wait for the peer to close before closing
 * ourselves (closing with unread input would reset the connection and
 * could destroy the reply before the peer read it). */
#define METRICS_LINGER_MS 1000

/* --metrics-listen options: a Unix socket and a port per address family
 * are all one host needs. */
#define METRICS_LISTENERS_MAX 4
/* Longest ADDR accepted: "unix:" and a 107-byte socket path fit. */
#define METRICS_ADDR_TEXT_MAX 128

struct metrics_addr {
	struct sockaddr_storage sa;
	socklen_t sa_len;
	bool is_unix;
	char text[METRICS_ADDR_TEXT_MAX]; /* as given, for messages */
};

/* Parses unix:/ABSOLUTE/PATH, IPV4:PORT (127.0.0.0/8 only) or
 * [IPV6]:PORT (::1 only); PORT is 1-65535. -EINVAL with a one-line
 * message in err otherwise. */
int metrics_addr_parse(const char *text, struct metrics_addr *ret_addr, struct pw_error *err);

/* What to answer a request (pure; for the tests): 0 while the headers
 * are incomplete, else the HTTP status: 200 (GET or HEAD /metrics), 400
 * (malformed), 404 (another path), 405 (another method on /metrics), 431
 * (len reached METRICS_REQUEST_MAX without a complete request). With 200,
 * 404 and 405, *ret_head says whether the method was HEAD (the reply then
 * has no body). */
int metrics_request_parse(const char *buf, size_t len, bool *ret_head);

struct metrics_listener;

/* Binds addr (a stale Unix socket file is replaced; one another server
 * answers on is refused) and serves on netd->loop. A Unix socket gets
 * group socket_gid if that is not (gid_t)-1. */
int metrics_listener_new(struct netd *netd, const struct metrics_addr *addr, gid_t socket_gid,
			 struct metrics_listener **ret_listener, struct pw_error *err);
/* Closes every connection and the socket (removing a Unix socket file). */
void metrics_listener_free(struct metrics_listener *listener);
