/* Unit tests for the JSON-lines framing (lib/line-buffer.c) and the RPC
 * server and client (lib/rpc-server.c, lib/rpc-client.c): a server runs on
 * its event loop in a thread; the tests speak to it with the client and
 * with raw sockets, including malformed and oversized input. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "line-buffer.h"
#include "rpc-client.h"
#include "rpc-server.h"

static void test_line_buffer(void **state)
{
	struct line_buffer lb;
	char *line;
	size_t len;

	line_buffer_init(&lb, 16);
	assert_int_equal(line_buffer_append(&lb, "abc", 3), 0);
	assert_int_equal(line_buffer_next(&lb, &line, &len), LINE_NONE);
	assert_int_equal(line_buffer_append(&lb, "def\r\nxy\n", 8), 0);
	assert_int_equal(line_buffer_next(&lb, &line, &len), LINE_OK);
	assert_string_equal(line, "abcdef");
	assert_int_equal(len, 6);
	assert_int_equal(line_buffer_next(&lb, &line, &len), LINE_OK);
	assert_string_equal(line, "xy");
	assert_int_equal(line_buffer_next(&lb, &line, &len), LINE_NONE);

	/* An oversized line arriving in pieces is reported once and skipped;
	 * the next line is intact. */
	for (int i = 0; i < 10; i++)
		assert_int_equal(line_buffer_append(&lb, "0123456789", 10), 0);
	assert_int_equal(line_buffer_next(&lb, &line, &len), LINE_OVERSIZED);
	assert_int_equal(line_buffer_append(&lb, "0123456789", 10), 0);
	assert_int_equal(line_buffer_next(&lb, &line, &len), LINE_NONE);
	assert_int_equal(line_buffer_append(&lb, "tail\nok\n", 8), 0);
	assert_int_equal(line_buffer_next(&lb, &line, &len), LINE_OK);
	assert_string_equal(line, "ok");
	assert_true(lb.cap < 256); /* memory stayed bounded */

	/* Oversized but complete in one piece. */
	assert_int_equal(line_buffer_append(&lb, "01234567890123456789\nafter\n", 27), 0);
	assert_int_equal(line_buffer_next(&lb, &line, &len), LINE_OVERSIZED);
	assert_int_equal(line_buffer_next(&lb, &line, &len), LINE_OK);
	assert_string_equal(line, "after");
	line_buffer_done(&lb);
}

static struct rpc_server *server;
static struct event_loop *loop;
static char socket_path[108];
static pthread_t thread;

static int m_echo(struct rpc_request *req, void *ud, json_t **ret, struct pw_error *err)
{
	*ret = json_incref(req->params);
	return 0;
}

static int m_fail(struct rpc_request *req, void *ud, json_t **ret, struct pw_error *err)
{
	return pw_error_set(err, -ENOENT, "vnet 'x' does not exist");
}

static int m_subscribe(struct rpc_request *req, void *ud, json_t **ret, struct pw_error *err)
{
	rpc_conn_subscribe(req->conn);
	*ret = json_pack("{s:I}", "seq", (json_int_t)rpc_server_next_seq(server));
	return 0;
}

static int m_notify(struct rpc_request *req, void *ud, json_t **ret, struct pw_error *err)
{
	rpc_server_broadcast(server, "thing.happened", req->params);
	return 0;
}

static int m_quit(struct rpc_request *req, void *ud, json_t **ret, struct pw_error *err)
{
	event_loop_quit(loop, 0);
	return 0;
}

/* "defer" holds its reply until "release" (from any connection) sends
 * release's params as the deferred result, or its "error" as an error. */
static struct rpc_deferred *held;

static int m_defer(struct rpc_request *req, void *ud, json_t **ret, struct pw_error *err)
{
	assert_null(held);
	held = rpc_request_defer(req);
	return 0;
}

static int m_release(struct rpc_request *req, void *ud, json_t **ret, struct pw_error *err)
{
	struct pw_error deferred_err = {};

	if (!held)
		return pw_error_set(err, -ENOENT, "nothing held");
	if (json_object_get(req->params, "error")) {
		pw_error_set(&deferred_err, -EBUSY, "%s",
			     json_string_value(json_object_get(req->params, "error")));
		rpc_deferred_reply(held, -EBUSY, NULL, &deferred_err);
	} else {
		rpc_deferred_reply(held, 0, req->params, NULL);
	}
	held = NULL;
	return 0;
}

static const struct rpc_method methods[] = {
	{ "echo", m_echo, false },   { "fail", m_fail, false },     { "mutate", m_echo, true },
	{ "subscribe", m_subscribe, false }, { "notify", m_notify, false }, { "quit", m_quit, false },
	{ "defer", m_defer, false }, { "release", m_release, false },
};

static void *serve(void *arg)
{
	event_loop_run(loop);
	return NULL;
}

static int setup(void **state)
{
	struct pw_error err = {};

	snprintf(socket_path, sizeof(socket_path), "/tmp/pw-test-rpc-%d/s.sock", (int)getpid());
	assert_int_equal(event_loop_new(&loop), 0);
	assert_int_equal(rpc_server_new(loop, socket_path, methods, 8, NULL, &server, &err), 0);
	assert_int_equal(pthread_create(&thread, NULL, serve, NULL), 0);
	return 0;
}

static int teardown(void **state)
{
	_cleanup_rpc_client_ struct rpc_client *c = NULL;
	char dir[108];

	assert_int_equal(rpc_client_connect(socket_path, 5000, &c, NULL), 0);
	assert_int_equal(rpc_client_call(c, "quit", NULL, NULL, NULL), 0);
	pthread_join(thread, NULL);
	rpc_server_free(server);
	event_loop_free(loop);
	snprintf(dir, sizeof(dir), "/tmp/pw-test-rpc-%d", (int)getpid());
	rmdir(dir);
	return 0;
}

static void test_call(void **state)
{
	_cleanup_rpc_client_ struct rpc_client *c = NULL;
	struct pw_error err = {};
	json_auto_t *params = json_pack("{s:s,s:i}", "name", "prod", "mtu", 1400);
	json_auto_t *result = NULL;

	assert_int_equal(rpc_client_connect(socket_path, 5000, &c, &err), 0);
	assert_int_equal(rpc_client_call(c, "echo", params, &result, &err), 0);
	assert_true(json_equal(params, result));
	assert_int_equal(rpc_client_call(c, "fail", NULL, NULL, &err), -ENOENT);
	assert_string_equal(err.message, "vnet 'x' does not exist");
	assert_int_equal(rpc_client_call(c, "nope", NULL, NULL, &err), -EOPNOTSUPP);
	assert_non_null(strstr(err.message, "unknown method 'nope'"));
	/* The test runs as root, so mutating calls pass the credential check. */
	assert_int_equal(rpc_client_call(c, "mutate", NULL, NULL, &err), 0);
}

static int raw_connect(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	strcpy(sa.sun_path, socket_path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static json_t *raw_reply(int fd)
{
	char buf[4096];
	size_t len = 0;

	while (len < sizeof(buf) - 1) {
		ssize_t n = read(fd, buf + len, 1);
		assert_true(n == 1);
		if (buf[len] == '\n')
			break;
		len++;
	}
	buf[len] = '\0';
	json_t *v = json_loads(buf, 0, NULL);
	assert_non_null(v);
	return v;
}

static const char *error_code(json_t *reply)
{
	return json_string_value(json_object_get(json_object_get(reply, "error"), "code"));
}

static void test_bad_input(void **state)
{
	int fd = raw_connect();
	const char *cases[][2] = {
		{ "{not json\n", "parse_error" },
		{ "[1,2]\n", "invalid_params" },
		{ "{\"id\":1}\n", "invalid_params" },
		{ "{\"id\":1,\"method\":\"echo\",\"params\":[]}\n", "invalid_params" },
		{ "{\"id\":1,\"method\":\"echo\",\"bogus\":1}\n", "invalid_params" },
		{ "{\"id\":1,\"method\":\"nope\"}\n", "unknown_method" },
		{ "{\"id\":1,\"method\":\"echo\",\"id\":2}\n", "parse_error" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_true(write(fd, cases[i][0], strlen(cases[i][0])) > 0);
		json_auto_t *reply = raw_reply(fd);
		assert_string_equal(error_code(reply), cases[i][1]);
	}

	/* A 2 MiB line: one error, then the connection still serves. */
	size_t big = 2 * 1024 * 1024;
	char *line = malloc(big + 1);
	memset(line, 'x', big);
	line[big] = '\n';
	size_t off = 0;
	while (off < big + 1) {
		ssize_t n = write(fd, line + off, big + 1 - off);
		assert_true(n > 0);
		off += (size_t)n;
	}
	free(line);
	json_auto_t *reply = raw_reply(fd);
	assert_string_equal(error_code(reply), "too_large");
	const char *ok = "{\"id\":7,\"method\":\"echo\",\"params\":{\"a\":1}}\n";
	assert_true(write(fd, ok, strlen(ok)) > 0);
	json_auto_t *reply2 = raw_reply(fd);
	assert_int_equal(json_integer_value(json_object_get(reply2, "id")), 7);
	assert_non_null(json_object_get(reply2, "result"));
	close(fd);
}

/* Writes count echo requests (ids first..first+count-1) in one go. */
static void write_pipelined(int fd, int first, int count)
{
	size_t cap = (size_t)count * 64, len = 0;
	char *text = malloc(cap);

	assert_non_null(text);
	for (int i = first; i < first + count; i++)
		len += (size_t)snprintf(text + len, cap - len,
					"{\"id\":%d,\"method\":\"echo\",\"params\":{\"n\":%d}}\n", i, i);
	for (size_t off = 0; off < len;) {
		ssize_t n = write(fd, text + off, len - off);
		assert_true(n > 0);
		off += (size_t)n;
	}
	free(text);
}

static void read_pipelined(int fd, int first, int count)
{
	for (int i = first; i < first + count; i++) {
		json_auto_t *reply = raw_reply(fd);
		assert_int_equal(json_integer_value(json_object_get(reply, "id")), i);
		assert_int_equal(json_integer_value(
					 json_object_get(json_object_get(reply, "result"), "n")),
				 i);
	}
}

/* Far more pipelined requests than one turn handles: all answered, in
 * order, without the client sending anything more; also when the client
 * half-closes right after writing. */
static void test_pipelining(void **state)
{
	struct timeval timeout = { .tv_sec = 5 };
	int fd = raw_connect();
	char byte;

	/* A stall fails the read (and the test) instead of hanging it. */
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout)), 0);
	write_pipelined(fd, 1, 1000);
	read_pipelined(fd, 1, 1000);
	write_pipelined(fd, 1001, 1000);
	assert_int_equal(shutdown(fd, SHUT_WR), 0);
	read_pipelined(fd, 1001, 1000);
	assert_int_equal(read(fd, &byte, 1), 0);
	close(fd);
}

static void test_events(void **state)
{
	_cleanup_rpc_client_ struct rpc_client *sub = NULL;
	_cleanup_rpc_client_ struct rpc_client *other = NULL;
	json_auto_t *snapshot = NULL, *event = NULL;
	json_auto_t *data = json_pack("{s:s}", "id", "web");
	struct pw_error err = {};

	assert_int_equal(rpc_client_connect(socket_path, 5000, &sub, &err), 0);
	assert_int_equal(rpc_client_connect(socket_path, 5000, &other, &err), 0);
	assert_int_equal(rpc_client_call(sub, "subscribe", NULL, &snapshot, &err), 0);
	json_int_t seq = json_integer_value(json_object_get(snapshot, "seq"));
	assert_int_equal(rpc_client_call(other, "notify", data, NULL, &err), 0);
	assert_int_equal(rpc_client_read(sub, &event, &err), 0);
	assert_string_equal(json_string_value(json_object_get(event, "event")), "thing.happened");
	assert_int_equal(json_integer_value(json_object_get(event, "seq")), seq);
	assert_true(json_equal(json_object_get(event, "data"), data));
}

/* A deferred reply: the connection's next request waits for it (replies
 * in request order) while other connections are served; an error reply;
 * a client gone before its deferred reply (nothing sent, no leak). */
static void test_deferred(void **state)
{
	_cleanup_rpc_client_ struct rpc_client *other = NULL;
	struct timeval timeout = { .tv_sec = 5 };
	json_auto_t *r1 = NULL, *r2 = NULL, *r3 = NULL, *r4 = NULL, *echoed = NULL;
	json_auto_t *params = json_pack("{s:i}", "x", 7);
	struct pw_error err = {};
	int fd = raw_connect(), gone;
	const char *two = "{\"id\":1,\"method\":\"defer\"}\n"
			  "{\"id\":2,\"method\":\"echo\",\"params\":{\"after\":true}}\n";

	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout)), 0);
	assert_int_equal(write(fd, two, strlen(two)), (ssize_t)strlen(two));
	assert_int_equal(rpc_client_connect(socket_path, 5000, &other, &err), 0);
	/* Served while fd's request waits; the release answers it. */
	assert_int_equal(rpc_client_call(other, "echo", params, &echoed, &err), 0);
	/* The release may reach the loop before the defer: retry until held. */
	for (int i = 0; i < 500; i++) {
		if (rpc_client_call(other, "release", params, NULL, &err) == 0)
			break;
		usleep(10000);
	}
	r1 = raw_reply(fd);
	assert_int_equal(json_integer_value(json_object_get(r1, "id")), 1);
	assert_true(json_equal(json_object_get(r1, "result"), params));
	r2 = raw_reply(fd);
	assert_int_equal(json_integer_value(json_object_get(r2, "id")), 2);
	assert_true(json_is_true(json_object_get(json_object_get(r2, "result"), "after")));

	/* An error. */
	const char *one = "{\"id\":3,\"method\":\"defer\"}\n";
	assert_int_equal(write(fd, one, strlen(one)), (ssize_t)strlen(one));
	json_auto_t *eparams = json_pack("{s:s}", "error", "etcd is away");
	for (int i = 0; i < 500; i++) {
		json_decref(r4);
		r4 = NULL;
		if (rpc_client_call(other, "release", eparams, &r4, &err) == 0)
			break;
		usleep(10000);
	}
	r3 = raw_reply(fd);
	assert_int_equal(json_integer_value(json_object_get(r3, "id")), 3);
	assert_string_equal(error_code(r3), "busy");
	assert_string_equal(json_string_value(json_object_get(json_object_get(r3, "error"),
							      "message")),
			    "etcd is away");
	close(fd);

	/* The client goes away before its reply. */
	gone = raw_connect();
	assert_int_equal(write(gone, one, strlen(one)), (ssize_t)strlen(one));
	usleep(50000);
	close(gone);
	usleep(50000);
	for (int i = 0; i < 500; i++) {
		if (rpc_client_call(other, "release", params, NULL, &err) == 0)
			break;
		usleep(10000);
	}
	/* The server still serves. */
	json_decref(echoed);
	echoed = NULL;
	assert_int_equal(rpc_client_call(other, "echo", params, &echoed, &err), 0);
	assert_true(json_equal(echoed, params));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line_buffer),
		cmocka_unit_test_setup_teardown(test_call, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pipelining, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deferred, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
