/* What a level-triggered listening socket does when accept(2) fails for
 * want of a resource (EMFILE, ENFILE, ENOBUFS, ENOMEM): the connection
 * stays in the backlog, epoll reports the socket readable again at once,
 * and the daemon spins at full CPU without serving anyone. Pausing the
 * listener for a moment lets closes free descriptors; clients wait in the
 * backlog meanwhile instead of being refused. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "event-loop.h"

/* Long enough that a spin costs nothing, short enough that a client in the
 * backlog barely notices once descriptors are free again. */
#define ACCEPT_PAUSE_MS 100

struct accept_pause {
	struct event_loop *loop;
	struct event_watch *listen_watch; /* not owned */
	uint32_t events;		  /* what to watch again after the pause */
	struct event_watch *timer;	  /* made at init: at EMFILE no timerfd can be made */
	bool paused;
	uint64_t pauses;      /* for counters and tests */
	uint64_t last_log_ms; /* one warning per ACCEPT_PAUSE_LOG_MS, not ten a second */
};

#define ACCEPT_PAUSE_LOG_MS 10000

/* errno values after which accepting again at once cannot succeed. */
bool accept_error_is_resource(int errnum);
/* Makes the (disarmed) timer; a negative errno if it cannot. */
int accept_pause_init(struct accept_pause *p, struct event_loop *loop,
		      struct event_watch *listen_watch, uint32_t events);
/* After accept failed with errnum: stops watching the listener for
 * ACCEPT_PAUSE_MS and warns (naming what, e.g. "rpc") at most once per
 * ACCEPT_PAUSE_LOG_MS. Returns 0, or a negative errno when the loop could
 * not arm the timer (the listener is then left as it was: spinning beats
 * never accepting again). */
int accept_pause_now(struct accept_pause *p, int errnum, const char *what);
/* Removes the timer; call before the listener's watch goes away. */
void accept_pause_done(struct accept_pause *p);
