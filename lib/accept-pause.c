#include <errno.h>
#include <string.h>

#include "accept-pause.h"
#include "log.h"

bool accept_error_is_resource(int errnum)
{
	return errnum == EMFILE || errnum == ENFILE || errnum == ENOBUFS || errnum == ENOMEM;
}

static void resume(struct event_loop *loop, void *userdata)
{
	struct accept_pause *p = userdata;
	int r = event_loop_mod_fd(loop, p->listen_watch, p->events);
	if (r < 0) {
		/* Try again later rather than never accept again. */
		log_warn_errno(r, "accept: cannot watch the listener again");
		event_loop_timer_set(loop, p->timer, ACCEPT_PAUSE_MS, 0);
		return;
	}
	p->paused = false;
}

int accept_pause_init(struct accept_pause *p, struct event_loop *loop,
		      struct event_watch *listen_watch, uint32_t events)
{
	int r;

	*p = (struct accept_pause){ .loop = loop, .listen_watch = listen_watch, .events = events };
	r = event_loop_add_timer(loop, ACCEPT_PAUSE_MS, 0, resume, p, &p->timer);
	if (r < 0)
		return r;
	r = event_loop_timer_disarm(loop, p->timer);
	if (r < 0) {
		event_loop_remove(loop, p->timer);
		p->timer = NULL;
	}
	return r;
}

int accept_pause_now(struct accept_pause *p, int errnum, const char *what)
{
	uint64_t now = now_ms();
	int r;

	if (p->paused)
		return 0;
	if (!p->last_log_ms || now - p->last_log_ms >= ACCEPT_PAUSE_LOG_MS) {
		log_warn("%s: accept failed: %s; pausing the listener for %d ms (%llu pauses so far)",
			 what, strerror(errnum), ACCEPT_PAUSE_MS, (unsigned long long)p->pauses + 1);
		p->last_log_ms = now;
	}
	if (!p->timer)
		return -EBADF;
	r = event_loop_timer_set(p->loop, p->timer, ACCEPT_PAUSE_MS, 0);
	if (r < 0)
		return r;
	/* On failure the armed timer only re-watches what is still watched. */
	r = event_loop_mod_fd(p->loop, p->listen_watch, 0);
	if (r < 0)
		return r;
	p->paused = true;
	p->pauses++;
	return 0;
}

void accept_pause_done(struct accept_pause *p)
{
	if (p->timer)
		event_loop_remove(p->loop, p->timer);
	p->timer = NULL;
	p->paused = false;
}
