/* Listeners: one UDP and one TCP socket on port 53 of each VNet gateway
 * address, and only there (dnsd is not an open resolver). They follow the
 * views: opened when a VNet appears, closed when it goes, diffed by address
 * when it changes, so an update never rebuilds the sockets that stay.
 * Bound with IP_FREEBIND, because netd may add the gateway address to the
 * bridge after dnsd hears of the VNet (and IPv6 addresses are tentative
 * during DAD). */
#pragma once

#include <stdint.h>

#include "accept-pause.h"
#include "dnsd.h"
#include "prefix.h"

struct listener {
	struct listener *next;
	struct dnsd *d;
	struct view *view;
	struct ip_addr addr;
	uint64_t id;
	int udp_fd;
	int tcp_fd;
	struct event_watch *udp_watch;
	struct event_watch *tcp_watch;
	struct accept_pause tcp_pause; /* accept at EMFILE (lib/accept-pause.h) */
	unsigned tcp_conn_count; /* its TCP connections (server-tcp.c) */
};

/* Opens listeners for the view's gateways that lack one and closes those
 * whose gateway is gone. */
void listeners_sync(struct dnsd *d, struct view *v);
/* Closes every listener of the view. */
void listeners_close_view(struct dnsd *d, struct view *v);
void listeners_close_all(struct dnsd *d);
struct listener *listener_find(struct dnsd *d, uint64_t id);
