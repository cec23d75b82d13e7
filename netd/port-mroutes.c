/* Deleting bridge ports' IPv6 multicast routes (see port-mroutes.h). */
#include <errno.h>
#include <string.h>

#include "log.h"
#include "netlink.h"
#include "port-mroutes.h"

/* The kernel's link-event worker runs within milliseconds of a port
 * coming up; a route still missing after this long never comes (the
 * port's carrier did not). */
#define PORT_MROUTE_WAIT_MS  2000
#define PORT_MROUTE_RETRY_MS 100

static void timer_fired(struct event_loop *loop, void *userdata)
{
	(void)loop;
	port_mroutes_flush(userdata);
}

int port_mroutes_init(struct port_mroutes *m, struct event_loop *loop, struct nl_sock *sock)
{
	*m = (struct port_mroutes){.loop = loop, .sock = sock};
	/* The loop has no disarmed timers: this one fires once on an empty
	 * queue, which sends nothing. */
	return event_loop_add_timer(loop, PORT_MROUTE_RETRY_MS, 0, timer_fired, m, &m->timer);
}

void port_mroutes_done(struct port_mroutes *m)
{
	if (m->timer)
		event_loop_remove(m->loop, m->timer);
	m->timer = NULL;
	m->count = 0;
}

void port_mroutes_queue(struct port_mroutes *m, int ifindex)
{
	if (m->count == PORT_MROUTES_MAX) {
		memmove(&m->queue[0], &m->queue[1], (m->count - 1) * sizeof(m->queue[0]));
		m->count--;
	}
	m->queue[m->count].ifindex = ifindex;
	m->queue[m->count].give_up_ms = now_ms() + PORT_MROUTE_WAIT_MS;
	m->count++;
	if (m->count == 1 && m->timer)
		(void)event_loop_timer_set(m->loop, m->timer, PORT_MROUTE_RETRY_MS, 0);
}

void port_mroutes_flush(struct port_mroutes *m)
{
	uint64_t now = now_ms();
	size_t kept = 0;

	for (size_t i = 0; i < m->count; i++) {
		int r = route_del_multicast6(m->sock, m->queue[i].ifindex);

		/* Not made yet (or the port is gone, which looks the same):
		 * try again until its time runs out. */
		if (r == -ESRCH && now < m->queue[i].give_up_ms) {
			m->queue[kept++] = m->queue[i];
			continue;
		}
		if (r < 0 && r != -ESRCH && r != -EAFNOSUPPORT)
			log_debug("cannot delete the IPv6 multicast route of ifindex=%d: %s",
				  m->queue[i].ifindex, strerror(-r));
	}
	m->count = kept;
	if (kept && m->timer)
		(void)event_loop_timer_set(m->loop, m->timer, PORT_MROUTE_RETRY_MS, 0);
}
