/* Unit tests for lib/event-loop.c's deferred calls: an armed call runs on
 * the next iteration without any fd event, a call that re-arms itself lets
 * the fds with events have their turn in between, and a removed call never
 * runs. And lib/accept-pause.c: a paused fd is not reported until the pause
 * is over, and its timer, made disarmed, does not fire by itself. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "accept-pause.h"
#include "event-loop.h"
#include "macro.h"

static char trace[64];
static struct event_watch *slices_watch;
static int slices_left;

static void note(char c)
{
	size_t len = strlen(trace);
	assert_true(len + 1 < sizeof(trace));
	trace[len] = c;
}

/* Work in slices: one slice per iteration, then quit. */
static void slice(struct event_loop *loop, void *userdata)
{
	note('s');
	if (--slices_left > 0)
		event_loop_defer_arm(loop, slices_watch);
	else
		event_loop_quit(loop, 0);
}

static void never(struct event_loop *loop, void *userdata)
{
	note('X');
}

/* Level-triggered: fires on every iteration until read. Reads one byte per
 * call, so two bytes take two iterations. */
static void readable(struct event_loop *loop, int fd, uint32_t events, void *userdata)
{
	char byte;
	assert_int_equal(read(fd, &byte, 1), 1);
	note('f');
}

static void test_defer(void **state)
{
	struct event_loop *loop = NULL;
	struct event_watch *removed = NULL, *fd_watch = NULL;
	int pipe_fds[2];

	memset(trace, 0, sizeof(trace));
	assert_int_equal(event_loop_new(&loop), 0);
	assert_int_equal(pipe(pipe_fds), 0);
	assert_int_equal(write(pipe_fds[1], "ab", 2), 2);
	assert_int_equal(event_loop_add_fd(loop, pipe_fds[0], EPOLLIN, readable, NULL, &fd_watch),
			 0);
	assert_int_equal(event_loop_add_defer(loop, slice, NULL, &slices_watch), 0);
	assert_int_equal(event_loop_add_defer(loop, never, NULL, &removed), 0);
	slices_left = 4;
	event_loop_defer_arm(loop, slices_watch);
	event_loop_defer_arm(loop, slices_watch); /* arming twice runs once */
	event_loop_defer_arm(loop, removed);
	event_loop_remove(loop, removed);

	assert_int_equal(event_loop_run(loop), 0);
	/* Each iteration: the fd's event first, then the deferred slice; once
	 * the pipe is empty the slices go on alone, without blocking. */
	assert_string_equal(trace, "fsfsss");

	event_loop_remove(loop, fd_watch);
	event_loop_free(loop);
	close(pipe_fds[0]);
	close(pipe_fds[1]);
}

struct pause_run {
	struct accept_pause pause;
	unsigned events;
	uint64_t first_ms, second_ms;
};

/* Stands for a listener at EMFILE: readable all the time, pauses itself. */
static void always_readable(struct event_loop *loop, int fd, uint32_t events, void *userdata)
{
	struct pause_run *run = userdata;
	if (++run->events == 1) {
		run->first_ms = now_ms();
		assert_int_equal(accept_pause_now(&run->pause, EMFILE, "test"), 0);
		assert_true(run->pause.paused);
		/* A second pause while paused changes nothing. */
		assert_int_equal(accept_pause_now(&run->pause, EMFILE, "test"), 0);
		assert_int_equal(run->pause.pauses, 1);
	} else {
		run->second_ms = now_ms();
		assert_false(run->pause.paused);
		event_loop_quit(loop, 0);
	}
}

static void test_accept_pause(void **state)
{
	struct event_loop *loop = NULL;
	struct event_watch *watch = NULL;
	struct pause_run run = {};
	int pipe_fds[2];

	assert_int_equal(event_loop_new(&loop), 0);
	assert_int_equal(pipe(pipe_fds), 0);
	assert_int_equal(write(pipe_fds[1], "x", 1), 1);
	assert_int_equal(
	    event_loop_add_fd(loop, pipe_fds[0], EPOLLIN, always_readable, &run, &watch), 0);
	assert_int_equal(accept_pause_init(&run.pause, loop, watch, EPOLLIN), 0);

	assert_int_equal(event_loop_run(loop), 0);
	assert_int_equal(run.events, 2);
	assert_true(run.second_ms - run.first_ms >= ACCEPT_PAUSE_MS - 5);
	assert_true(accept_error_is_resource(EMFILE));
	assert_false(accept_error_is_resource(EAGAIN));

	accept_pause_done(&run.pause);
	event_loop_remove(loop, watch);
	event_loop_free(loop);
	close(pipe_fds[0]);
	close(pipe_fds[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defer),
	    cmocka_unit_test(test_accept_pause),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
