/* Blocking JSON-lines RPC client (see rpc-client.h). */
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "event-loop.h"
#include "json-util.h"
#include "line-buffer.h"
#include "rpc-client.h"
#include "rpc-server.h"
#include "xalloc.h"

struct rpc_client {
	int fd;
	int timeout_ms;
	json_int_t next_id;
	struct line_buffer in;
};

int rpc_client_connect(const char *socket_path, int timeout_ms, struct rpc_client **ret_client,
		       struct pw_error *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -EBADF;

	if (strlen(socket_path) >= sizeof(sa.sun_path))
		return pw_error_set(err, -ENAMETOOLONG, "socket path %s is too long", socket_path);
	strcpy(sa.sun_path, socket_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return pw_error_set(err, -errno, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;
		if (r == -ENOENT || r == -ECONNREFUSED)
			return pw_error_set(err, -ECONNREFUSED,
					    "cannot connect to %s: %s (is the daemon running?)",
					    socket_path, strerror(-r));
		if (r == -EACCES)
			return pw_error_set(err, r,
					    "cannot connect to %s: %s (only root and the daemon's "
					    "--admin-group may connect)",
					    socket_path, strerror(-r));
		return pw_error_set(err, r, "cannot connect to %s: %s", socket_path, strerror(-r));
	}
	struct rpc_client *c = calloc(1, sizeof(*c));
	if (!c)
		return pw_error_set(err, -ENOMEM, "out of memory");
	c->fd = TAKE_FD(fd);
	c->timeout_ms = timeout_ms;
	c->next_id = 1;
	/* Replies (a snapshot of thousands of groups) can be far larger than
	 * requests; 64 MiB matches the server's output bound. */
	line_buffer_init(&c->in, RPC_OUTPUT_MAX);
	*ret_client = c;
	return 0;
}

void rpc_client_free(struct rpc_client *client)
{
	if (!client)
		return;
	close(client->fd);
	line_buffer_done(&client->in);
	free(client);
}

int rpc_client_fd(struct rpc_client *client)
{
	return client->fd;
}

static int send_all(struct rpc_client *c, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

static int wait_readable(struct rpc_client *c, uint64_t deadline_ms)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	int timeout = -1;

	if (deadline_ms) {
		uint64_t now = now_ms();
		if (now >= deadline_ms)
			return -ETIMEDOUT;
		timeout = (int)(deadline_ms - now);
	}
	int r = poll(&pfd, 1, timeout);
	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	if (r == 0)
		return -ETIMEDOUT;
	return 0;
}

static int read_message(struct rpc_client *c, uint64_t deadline_ms, json_t **ret,
			struct pw_error *err)
{
	char *line;
	size_t len;

	for (;;) {
		enum line_status st = line_buffer_next(&c->in, &line, &len);
		if (st == LINE_OK) {
			if (len == 0)
				continue;
			int r = json_parse_line(line, len, ret, err);
			if (r < 0)
				return pw_error_wrap(err, r, "bad reply from daemon");
			if (!json_is_object(*ret)) {
				json_decref(*ret);
				return pw_error_set(err, -EBADMSG, "bad reply from daemon: not an object");
			}
			return 0;
		}
		if (st == LINE_OVERSIZED)
			return pw_error_set(err, -EMSGSIZE, "reply from daemon is too large");
		int r = wait_readable(c, deadline_ms);
		if (r < 0)
			return pw_error_set(err, r, "no reply from daemon: %s", strerror(-r));
		ssize_t n = line_buffer_read(&c->in, c->fd);
		if (n == 0)
			return pw_error_set(err, -ECONNRESET, "daemon closed the connection");
		if (n < 0 && n != -EAGAIN)
			return pw_error_set(err, (int)n, "read from daemon: %s", strerror((int)-n));
	}
}

int rpc_client_call(struct rpc_client *c, const char *method, json_t *params,
		    json_t **ret_result, struct pw_error *err)
{
	json_int_t id = c->next_id++;
	json_auto_t *req = json_pack("{s:I,s:s,s:O}", "id", id, "method", method, "params",
				     params ? params : json_object());
	_cleanup_free_ char *text = NULL;
	uint64_t deadline = c->timeout_ms > 0 ? now_ms() + (uint64_t)c->timeout_ms : 0;
	int r;

	if (!req)
		return pw_error_set(err, -ENOMEM, "out of memory");
	if (!params) /* json_pack's "O" took a reference to the temporary {} */
		json_decref(json_object_get(req, "params"));
	text = json_dump_line(req);
	if (!text)
		return pw_error_set(err, -ENOMEM, "out of memory");
	/* One send for the line and its newline: two would wake the daemon
	 * twice per call. */
	size_t len = strlen(text);
	text = xrealloc(text, len + 2);
	text[len] = '\n';
	text[len + 1] = '\0';
	r = send_all(c, text, len + 1);
	if (r < 0)
		return pw_error_set(err, r, "send to daemon: %s", strerror(-r));

	for (;;) {
		json_auto_t *msg = NULL;
		r = read_message(c, deadline, &msg, err);
		if (r < 0)
			return r;
		json_t *rid = json_object_get(msg, "id");
		if (!rid) /* an event on a subscribed connection */
			continue;
		if (!json_is_integer(rid) || json_integer_value(rid) != id) {
			/* A reply with id null answers a line the server could
			 * not parse: ours. */
			if (!json_is_null(rid))
				continue;
		}
		json_t *error = json_object_get(msg, "error");
		if (error) {
			const char *code = json_string_value(json_object_get(error, "code"));
			const char *message = json_string_value(json_object_get(error, "message"));
			int e = pw_error_errno_from_code(code ? code : "internal");
			return pw_error_set(err, -e, "%s", message ? message : "unknown error");
		}
		json_t *result = json_object_get(msg, "result");
		if (ret_result)
			*ret_result = json_incref(result ? result : json_null());
		return 0;
	}
}

int rpc_client_read(struct rpc_client *client, json_t **ret_message, struct pw_error *err)
{
	return read_message(client, 0, ret_message, err);
}

int rpc_client_read_reply(struct rpc_client *client, json_t **ret_message, struct pw_error *err)
{
	uint64_t deadline = client->timeout_ms > 0 ? now_ms() + (uint64_t)client->timeout_ms : 0;

	return read_message(client, deadline, ret_message, err);
}
