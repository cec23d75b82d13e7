/* The IPv6 multicast route (ff00::/8, table local) the kernel gives every
 * interface whose carrier comes on, bridge ports included. A bridge port
 * never routes, so the route is of no use on a group's host end, but the
 * routes add up: with one per group, every later port whose carrier
 * changes makes the kernel walk them all (rt6_sync_up, and the duplicate
 * check of each new route), under the lock every attach needs. netd
 * deletes each host end's route. The kernel adds it in its link-event
 * worker some time after the port comes up, so deletion waits in a queue,
 * flushed at the next attach and by a timer.
 *
 * Locking: none; netd's event loop thread. */
#pragma once

#include <netlink/socket.h>
#include <stdint.h>

#include "event-loop.h"

#define PORT_MROUTES_MAX 64

struct port_mroutes {
	struct event_loop *loop;
	struct nl_sock *sock;	   /* the host netns' NETLINK_ROUTE socket */
	struct event_watch *timer; /* one-shot, armed while routes wait */
	struct {
		int ifindex;
		uint64_t give_up_ms; /* the route never came (no carrier) */
	} queue[PORT_MROUTES_MAX];
	size_t count;
};

int port_mroutes_init(struct port_mroutes *m, struct event_loop *loop, struct nl_sock *sock);
void port_mroutes_done(struct port_mroutes *m);
/* Queues the route of host end ifindex for deletion. A full queue drops
 * its oldest entry (one useless route left, no harm). */
void port_mroutes_queue(struct port_mroutes *m, int ifindex);
/* Deletes the queued routes the kernel has made by now; the others stay
 * queued until their time runs out. */
void port_mroutes_flush(struct port_mroutes *m);
