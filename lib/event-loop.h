/* A single-threaded epoll loop: fd watchers, one-shot and periodic timers
 * (one timerfd each; meant for a handful of timers, not one per request),
 * deferred calls (work to resume on the next iteration without waiting for
 * an event), clean exit on SIGINT/SIGTERM and a reload callback on SIGHUP
 * through a signalfd.
 *
 * A watcher removed from inside a callback (its own or another one's) is
 * not called again, even if its event is already in the current batch:
 * removal marks it dead and it is freed after the batch. */
#pragma once

#include <stdint.h>
#include <sys/epoll.h>

struct event_loop;
struct event_watch;

typedef void (*event_fd_cb)(struct event_loop *loop, int fd, uint32_t events, void *userdata);
typedef void (*event_timer_cb)(struct event_loop *loop, void *userdata);

int event_loop_new(struct event_loop **ret_loop);
void event_loop_free(struct event_loop *loop);

/* events: EPOLLIN, EPOLLOUT, ... The loop does not own fd. */
int event_loop_add_fd(struct event_loop *loop, int fd, uint32_t events, event_fd_cb cb,
		      void *userdata, struct event_watch **ret_watch);
int event_loop_mod_fd(struct event_loop *loop, struct event_watch *watch, uint32_t events);
void event_loop_remove(struct event_loop *loop, struct event_watch *watch);

/* A deferred call: armed with event_loop_defer_arm(), cb runs once on the
 * next loop iteration, after the fd and timer events of that iteration
 * (the loop does not sleep while one is armed). For work split into
 * slices, e.g. pipelined requests beyond a per-wakeup budget: the other
 * watchers get their turn between two slices. Created disarmed. */
int event_loop_add_defer(struct event_loop *loop, event_timer_cb cb, void *userdata,
			 struct event_watch **ret_watch);
/* Arms a deferred call (arming an armed one does nothing). */
void event_loop_defer_arm(struct event_loop *loop, struct event_watch *watch);

/* Calls cb after delay_ms, then every interval_ms if interval_ms > 0
 * (otherwise once; a one-shot timer stays allocated until removed). */
int event_loop_add_timer(struct event_loop *loop, uint64_t delay_ms, uint64_t interval_ms,
			 event_timer_cb cb, void *userdata, struct event_watch **ret_watch);
/* Stops a timer without removing it: for timers that must exist before
 * they are needed (making one takes a file descriptor, which may be what
 * is missing when it is needed). Re-arm with event_loop_timer_set(). */
int event_loop_timer_disarm(struct event_loop *loop, struct event_watch *watch);
/* Re-arms an existing timer. */
int event_loop_timer_set(struct event_loop *loop, struct event_watch *watch, uint64_t delay_ms,
			 uint64_t interval_ms);

/* Blocks SIGINT and SIGTERM and makes them end event_loop_run() with 0;
 * blocks SIGHUP and calls the reload callback for it (none set: SIGHUP does
 * nothing, where it used to kill the daemon); also ignores SIGPIPE (peers
 * that hang up are seen as EPIPE). */
int event_loop_handle_signals(struct event_loop *loop);
/* What SIGHUP does (systemctl reload): called from the loop's thread. */
void event_loop_on_reload(struct event_loop *loop, event_timer_cb cb, void *userdata);

/* Runs until event_loop_quit(); returns the code given there. */
int event_loop_run(struct event_loop *loop);
void event_loop_quit(struct event_loop *loop, int code);

/* Monotonic clock in milliseconds / microseconds. */
uint64_t now_ms(void);
uint64_t now_us(void);
