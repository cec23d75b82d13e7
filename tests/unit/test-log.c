/* Unit tests for lib/log.c: the line format on a terminal or file, and the
 * journal format when stderr is the journal's stream (systemd sets
 * JOURNAL_STREAM=DEV:INO for it). Each case logs in a child process: the
 * format is chosen once per process, as it is in a daemon. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"

enum stream_env {
	STREAM_UNSET,	/* not under systemd */
	STREAM_MATCHES, /* JOURNAL_STREAM names the file stderr is */
	STREAM_OTHER,	/* stderr was redirected away from the journal */
};

/* Runs log calls in a child whose stderr is a temp file; returns what it
 * wrote (a static buffer: a failed assertion leaks nothing). */
static const char *log_in_child(enum stream_env env)
{
	char path[] = "/tmp/podwire-test-log.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);

	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct stat st;
		char value[64];

		dup2(fd, STDERR_FILENO);
		fstat(fd, &st);
		unsetenv("JOURNAL_STREAM");
		if (env != STREAM_UNSET) {
			snprintf(value, sizeof(value), "%llu:%llu", (unsigned long long)st.st_dev,
				 (unsigned long long)st.st_ino + (env == STREAM_OTHER ? 1 : 0));
			setenv("JOURNAL_STREAM", value, 1);
		}
		log_set_ident("podwire-test");
		log_set_level(LOG_LEVEL_DEBUG);
		log_debug("d one");
		log_info("i two k=v");
		log_warn("w three");
		log_error_errno(-ENOENT, "e four");
		_exit(0);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	static char text[4096];
	memset(text, 0, sizeof(text));
	assert_true(pread(fd, text, sizeof(text) - 1, 0) > 0);
	close(fd);
	return text;
}

static void test_terminal_format(void **state)
{
	const char *text = log_in_child(STREAM_UNSET);

	/* 2026-11-28T07:40:01.123Z podwire-test info: i two k=v */
	assert_non_null(strstr(text, "Z podwire-test info: i two k=v\n"));
	assert_non_null(strstr(text, "Z podwire-test error: e four: No such file or directory\n"));
	assert_null(strchr(text, '<'));
}

static void test_journal_format(void **state)
{
	const char *text = log_in_child(STREAM_MATCHES);

	/* The journal adds the time, the identifier and the level (from the
	 * <N> prefix, sd-daemon.h's SD_DEBUG...SD_ERR): the line carries the
	 * message alone. */
	assert_string_equal(text, "<7>d one\n"
				  "<6>i two k=v\n"
				  "<4>w three\n"
				  "<3>e four: No such file or directory\n");
}

static void test_stream_redirected(void **state)
{
	/* Started by a unit but with stderr sent to a file: the file gets
	 * the full lines. */
	const char *text = log_in_child(STREAM_OTHER);

	assert_non_null(strstr(text, "Z podwire-test warn: w three\n"));
	assert_null(strchr(text, '<'));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_terminal_format),
	    cmocka_unit_test(test_journal_format),
	    cmocka_unit_test(test_stream_redirected),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
