/* epoll event loop (see event-loop.h).
 *
 * Watchers are heap objects referenced from epoll's data pointer. Removal
 * during dispatch only marks a watcher dead and unlinks it from epoll; dead
 * watchers are freed after the batch, so a pointer still in the current
 * epoll_wait() result is never dangling.
 *
 * Deferred calls have no fd. Armed ones sit on the pending list; each
 * iteration takes the whole list, so a call that re-arms itself runs again
 * only on the next iteration, after a non-blocking epoll_wait() has let
 * every fd with an event have its turn. A watcher removed while armed is
 * unlinked from the pending list before it can be freed. */
#include <signal.h>
#include <stdlib.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "event-loop.h"
#include "macro.h"

#define EVENT_BATCH 64

enum watch_kind {
	WATCH_FD,
	WATCH_TIMER,
	WATCH_SIGNAL,
	WATCH_DEFER,
};

struct event_watch {
	enum watch_kind kind;
	int fd;
	bool dead;
	bool armed; /* WATCH_DEFER: on the pending list */
	event_fd_cb fd_cb;
	event_timer_cb timer_cb;
	void *userdata;
	struct event_watch *next; /* all watchers, or the dead list */
	struct event_watch *pending_next; /* WATCH_DEFER: the pending list */
};

struct event_loop {
	int epoll_fd;
	bool quit;
	int exit_code;
	struct event_watch *watches;
	struct event_watch *dead;
	struct event_watch *pending; /* armed deferred calls */
	struct event_watch *signal_watch;
	event_timer_cb reload_cb;
	void *reload_userdata;
};

uint64_t now_ms(void)
{
	return now_us() / 1000;
}

uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

int event_loop_new(struct event_loop **ret_loop)
{
	struct event_loop *loop = calloc(1, sizeof(*loop));
	if (!loop)
		return -ENOMEM;
	loop->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epoll_fd < 0) {
		int r = -errno;
		free(loop);
		return r;
	}
	*ret_loop = loop;
	return 0;
}

static void watch_release(struct event_watch *w)
{
	if (w->kind == WATCH_TIMER || w->kind == WATCH_SIGNAL)
		close(w->fd); /* timerfd / signalfd are ours */
	free(w);
}

static void free_dead(struct event_loop *loop)
{
	while (loop->dead) {
		struct event_watch *w = loop->dead;
		loop->dead = w->next;
		watch_release(w);
	}
}

void event_loop_free(struct event_loop *loop)
{
	if (!loop)
		return;
	free_dead(loop);
	while (loop->watches) {
		struct event_watch *w = loop->watches;
		loop->watches = w->next;
		watch_release(w);
	}
	close(loop->epoll_fd);
	free(loop);
}

static int add_watch(struct event_loop *loop, enum watch_kind kind, int fd, uint32_t events,
		     struct event_watch **ret)
{
	struct event_watch *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->kind = kind;
	w->fd = fd;
	struct epoll_event ev = { .events = events, .data.ptr = w };
	if (kind != WATCH_DEFER && epoll_ctl(loop->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int r = -errno;
		free(w);
		return r;
	}
	w->next = loop->watches;
	loop->watches = w;
	*ret = w;
	return 0;
}

int event_loop_add_fd(struct event_loop *loop, int fd, uint32_t events, event_fd_cb cb,
		      void *userdata, struct event_watch **ret_watch)
{
	struct event_watch *w = NULL;
	int r = add_watch(loop, WATCH_FD, fd, events, &w);
	if (r < 0)
		return r;
	w->fd_cb = cb;
	w->userdata = userdata;
	if (ret_watch)
		*ret_watch = w;
	return 0;
}

int event_loop_mod_fd(struct event_loop *loop, struct event_watch *watch, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = watch };
	if (epoll_ctl(loop->epoll_fd, EPOLL_CTL_MOD, watch->fd, &ev) < 0)
		return -errno;
	return 0;
}

static void defer_unlink(struct event_loop *loop, struct event_watch *watch)
{
	for (struct event_watch **p = &loop->pending; *p; p = &(*p)->pending_next)
		if (*p == watch) {
			*p = watch->pending_next;
			break;
		}
	watch->armed = false;
}

void event_loop_remove(struct event_loop *loop, struct event_watch *watch)
{
	if (!watch || watch->dead)
		return;
	if (watch->kind == WATCH_DEFER)
		defer_unlink(loop, watch);
	else
		epoll_ctl(loop->epoll_fd, EPOLL_CTL_DEL, watch->fd, NULL);
	for (struct event_watch **p = &loop->watches; *p; p = &(*p)->next)
		if (*p == watch) {
			*p = watch->next;
			break;
		}
	watch->dead = true;
	watch->next = loop->dead;
	loop->dead = watch;
}

static void ms_to_timespec(uint64_t ms, struct timespec *ts)
{
	ts->tv_sec = (time_t)(ms / 1000);
	ts->tv_nsec = (long)(ms % 1000) * 1000000;
}

int event_loop_timer_set(struct event_loop *loop, struct event_watch *watch, uint64_t delay_ms,
			 uint64_t interval_ms)
{
	struct itimerspec its = {};

	/* A zero it_value would disarm the timer; fire "now" instead. */
	ms_to_timespec(delay_ms ? delay_ms : 0, &its.it_value);
	if (delay_ms == 0)
		its.it_value.tv_nsec = 1;
	ms_to_timespec(interval_ms, &its.it_interval);
	if (timerfd_settime(watch->fd, 0, &its, NULL) < 0)
		return -errno;
	return 0;
}

int event_loop_timer_disarm(struct event_loop *loop, struct event_watch *watch)
{
	struct itimerspec its = {};

	if (timerfd_settime(watch->fd, 0, &its, NULL) < 0)
		return -errno;
	return 0;
}

int event_loop_add_timer(struct event_loop *loop, uint64_t delay_ms, uint64_t interval_ms,
			 event_timer_cb cb, void *userdata, struct event_watch **ret_watch)
{
	struct event_watch *w = NULL;
	int fd, r;

	fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = add_watch(loop, WATCH_TIMER, fd, EPOLLIN, &w);
	if (r < 0) {
		close(fd);
		return r;
	}
	w->timer_cb = cb;
	w->userdata = userdata;
	r = event_loop_timer_set(loop, w, delay_ms, interval_ms);
	if (r < 0) {
		event_loop_remove(loop, w);
		return r;
	}
	if (ret_watch)
		*ret_watch = w;
	return 0;
}

int event_loop_add_defer(struct event_loop *loop, event_timer_cb cb, void *userdata,
			 struct event_watch **ret_watch)
{
	struct event_watch *w = NULL;
	int r = add_watch(loop, WATCH_DEFER, -EBADF, 0, &w);
	if (r < 0)
		return r;
	w->timer_cb = cb;
	w->userdata = userdata;
	if (ret_watch)
		*ret_watch = w;
	return 0;
}

void event_loop_defer_arm(struct event_loop *loop, struct event_watch *watch)
{
	if (watch->armed || watch->dead)
		return;
	watch->armed = true;
	watch->pending_next = loop->pending;
	loop->pending = watch;
}

/* Runs the deferred calls armed before this point; those they arm run on
 * the next iteration. A call removed by an earlier one in the same pass
 * is dead and skipped (and freed only after the pass). */
static void run_deferred(struct event_loop *loop)
{
	struct event_watch *w = loop->pending, *w_next;

	loop->pending = NULL;
	for (; w && !loop->quit; w = w_next) {
		w_next = w->pending_next;
		w->pending_next = NULL;
		if (w->dead || !w->armed)
			continue;
		w->armed = false;
		w->timer_cb(loop, w->userdata);
	}
	/* Left over when quitting: keep them armed for a later run. */
	for (; w; w = w_next) {
		w_next = w->pending_next;
		w->pending_next = NULL;
		if (!w->dead && w->armed) {
			w->armed = false;
			event_loop_defer_arm(loop, w);
		}
	}
}

int event_loop_handle_signals(struct event_loop *loop)
{
	sigset_t mask;
	struct event_watch *w = NULL;
	int fd, r;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return -errno;
	fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = add_watch(loop, WATCH_SIGNAL, fd, EPOLLIN, &w);
	if (r < 0) {
		close(fd);
		return r;
	}
	loop->signal_watch = w;
	return 0;
}

void event_loop_on_reload(struct event_loop *loop, event_timer_cb cb, void *userdata)
{
	loop->reload_cb = cb;
	loop->reload_userdata = userdata;
}

int event_loop_run(struct event_loop *loop)
{
	struct epoll_event events[EVENT_BATCH];

	loop->quit = false;
	while (!loop->quit) {
		int n = epoll_wait(loop->epoll_fd, events, EVENT_BATCH, loop->pending ? 0 : -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n && !loop->quit; i++) {
			struct event_watch *w = events[i].data.ptr;
			if (w->dead)
				continue;
			switch (w->kind) {
			case WATCH_FD:
				w->fd_cb(loop, w->fd, events[i].events, w->userdata);
				break;
			case WATCH_TIMER: {
				uint64_t expirations;
				if (read(w->fd, &expirations, sizeof(expirations)) > 0)
					w->timer_cb(loop, w->userdata);
				break;
			}
			case WATCH_SIGNAL: {
				struct signalfd_siginfo si;
				if (read(w->fd, &si, sizeof(si)) != sizeof(si))
					break;
				if (si.ssi_signo != SIGHUP)
					event_loop_quit(loop, 0);
				else if (loop->reload_cb)
					loop->reload_cb(loop, loop->reload_userdata);
				break;
			}
			case WATCH_DEFER:
				break; /* never in epoll */
			}
		}
		run_deferred(loop);
		free_dead(loop);
	}
	return loop->exit_code;
}

void event_loop_quit(struct event_loop *loop, int code)
{
	loop->quit = true;
	loop->exit_code = code;
}
