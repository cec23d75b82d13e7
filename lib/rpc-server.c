/* JSON-lines RPC server (see rpc-server.h).
 *
 * Single-threaded on an event_loop. Each connection has an input
 * line_buffer and an output queue; replies and events are appended to the
 * queue and written as far as the socket takes them, the rest on EPOLLOUT.
 *
 * Flow control, so that pipelining works and nothing grows without bound:
 * - a connection's turn handles at most RPC_REQUESTS_PER_TURN buffered
 *   requests; if complete lines are left, its deferred call ("resume")
 *   gives it another turn on the next loop iteration, after the other
 *   connections had theirs, whether or not more bytes arrive;
 * - new bytes are read only once every complete buffered line is handled,
 *   so the input buffer stays below one line plus one read;
 * - while more than RPC_OUTPUT_PAUSE bytes of output are unsent, the
 *   connection's requests wait (EPOLLIN off, no turns) until the peer
 *   reads; a peer that never reads blocks only itself.
 * A connection is only freed from its own callback (never from inside a
 * handler or a broadcast), so no code path touches a freed connection:
 * write errors just mark it broken and the next event on it closes it. */
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "accept-pause.h"
#include "json-util.h"
#include "line-buffer.h"
#include "log.h"
#include "rpc-server.h"
#include "state-file.h"
#include "unix-socket.h"

/* Requests handled per turn of one connection before the loop serves
 * others (fairness when a client pipelines many requests): few enough that
 * the others wait for a few dozen handlers at most, enough that a turn is
 * not dominated by the loop's own overhead. */
#define RPC_REQUESTS_PER_TURN 64

struct rpc_conn {
	struct rpc_server *server;
	int fd;
	struct event_watch *watch;
	struct event_watch *resume; /* deferred: the next turn */
	uint32_t events;	    /* what watch is registered for */
	struct line_buffer in;
	char *out;
	size_t out_len, out_off, out_cap;
	struct ucred peer;
	gid_t *peer_groups; /* supplementary groups, from SO_PEERGROUPS */
	size_t peer_group_count;
	bool subscribed;
	bool read_eof;
	bool broken;
	bool lines_pending; /* complete lines may be buffered, not yet handled */
	/* A request whose reply is deferred (rpc_request_defer): the
	 * connection's later requests wait for it. */
	struct rpc_deferred *deferred;
	struct rpc_conn *prev, *next;
};

struct rpc_deferred {
	struct rpc_conn *conn; /* NULL once the connection is gone */
	json_t *id;
};

struct rpc_server {
	struct event_loop *loop;
	int listen_fd;
	struct event_watch *listen_watch;
	struct accept_pause accept_pause;
	char *socket_path;
	const struct rpc_method *methods;
	size_t method_count;
	void *userdata;
	gid_t admin_gid;
	bool has_admin_gid;
	struct rpc_conn *conns;
	unsigned conn_count;
	uint64_t next_seq;
};

static void conn_free(struct rpc_conn *c)
{
	struct rpc_server *s = c->server;

	if (c->deferred)
		c->deferred->conn = NULL;
	event_loop_remove(s->loop, c->watch);
	event_loop_remove(s->loop, c->resume);
	close(c->fd);
	line_buffer_done(&c->in);
	free(c->out);
	free(c->peer_groups);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->conn_count--;
	free(c);
}

/* Marks the connection for closing. The shutdown makes epoll report
 * EPOLLHUP, so its own callback runs and frees it even if the peer never
 * reads or writes again. */
static void conn_break(struct rpc_conn *c)
{
	c->broken = true;
	shutdown(c->fd, SHUT_RDWR);
}

static size_t conn_unsent(const struct rpc_conn *c)
{
	return c->out_len - c->out_off;
}

static bool conn_paused(const struct rpc_conn *c)
{
	return conn_unsent(c) >= RPC_OUTPUT_PAUSE;
}

static void conn_update_events(struct rpc_conn *c)
{
	uint32_t events = 0;

	if (!c->read_eof && !c->lines_pending && !conn_paused(c))
		events |= EPOLLIN;
	if (conn_unsent(c) > 0)
		events |= EPOLLOUT;
	if (events == c->events)
		return;
	if (event_loop_mod_fd(c->server->loop, c->watch, events) < 0)
		return conn_break(c);
	c->events = events;
}

static void conn_flush(struct rpc_conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				conn_break(c);
			break;
		}
		c->out_off += (size_t)n;
	}
	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
}

/* Queues text plus '\n'. */
static void conn_queue(struct rpc_conn *c, const char *text, size_t len)
{
	if (c->broken)
		return;
	if (c->out_len - c->out_off + len + 1 > RPC_OUTPUT_MAX) {
		log_warn("rpc: dropping a client that does not read its replies or events fd=%d pid=%d",
			 c->fd, (int)c->peer.pid);
		conn_break(c);
		return;
	}
	if (c->out_off > 0 && c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	if (c->out_len + len + 1 > c->out_cap) {
		if (c->out_off > 0) {
			memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
			c->out_len -= c->out_off;
			c->out_off = 0;
		}
		size_t cap = MAX(c->out_cap * 2, c->out_len + len + 1);
		char *p = realloc(c->out, cap);
		if (!p) {
			c->broken = true;
			return;
		}
		c->out = p;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, text, len);
	c->out[c->out_len + len] = '\n';
	c->out_len += len + 1;
	conn_flush(c);
}

static void conn_send_json(struct rpc_conn *c, json_t *msg)
{
	_cleanup_free_ char *text = json_dump_line(msg);
	if (!text) {
		c->broken = true;
		return;
	}
	conn_queue(c, text, strlen(text));
}

static void send_error(struct rpc_conn *c, json_t *id, int r, const char *message)
{
	json_auto_t *msg = json_pack("{s:O?,s:{s:s,s:s}}", "id", id, "error", "code",
				     pw_error_code_from_errno(r), "message", message);
	if (msg)
		conn_send_json(c, msg);
}

static const struct rpc_method *find_method(struct rpc_server *s, const char *name)
{
	for (size_t i = 0; i < s->method_count; i++)
		if (streq(s->methods[i].name, name))
			return &s->methods[i];
	return NULL;
}

static bool peer_privileged(struct rpc_server *s, const struct rpc_conn *c)
{
	if (c->peer.uid == 0)
		return true;
	if (!s->has_admin_gid)
		return false;
	if (c->peer.gid == s->admin_gid)
		return true;
	for (size_t i = 0; i < c->peer_group_count; i++)
		if (c->peer_groups[i] == s->admin_gid)
			return true;
	return false;
}

static void handle_line(struct rpc_conn *c, const char *line, size_t len)
{
	struct rpc_server *s = c->server;
	struct pw_error err = {};
	json_auto_t *req = NULL;
	json_auto_t *result = NULL;
	json_t *id = NULL, *params = NULL, *method_json;
	const char *key;
	json_t *value;
	int r;

	if (len == 0)
		return; /* blank lines are keep-alives */
	r = json_parse_line(line, len, &req, &err);
	if (r < 0)
		return send_error(c, NULL, r, pw_error_message(&err));
	if (!json_is_object(req))
		return send_error(c, NULL, -EINVAL, "request must be a JSON object");
	id = json_object_get(req, "id");
	json_object_foreach(req, key, value) {
		if (!streq(key, "id") && !streq(key, "method") && !streq(key, "params")) {
			char msg[128];
			snprintf(msg, sizeof(msg), "unknown request member '%.40s'", key);
			return send_error(c, id, -EINVAL, msg);
		}
	}
	if (id && !json_is_integer(id) && !json_is_string(id) && !json_is_null(id))
		return send_error(c, NULL, -EINVAL, "request id must be an integer or a string");
	method_json = json_object_get(req, "method");
	if (!json_is_string(method_json))
		return send_error(c, id, -EINVAL, "request has no \"method\" string");
	params = json_object_get(req, "params");
	if (params && !json_is_object(params) && !json_is_null(params))
		return send_error(c, id, -EINVAL, "\"params\" must be an object");

	const char *name = json_string_value(method_json);
	const struct rpc_method *m = find_method(s, name);
	if (!m) {
		char msg[128];
		snprintf(msg, sizeof(msg), "unknown method '%.60s'", name);
		return send_error(c, id, -EOPNOTSUPP, msg);
	}
	if (m->mutating && !peer_privileged(s, c)) {
		char msg[160];
		snprintf(msg, sizeof(msg), "method '%s' needs root%s", m->name,
			 s->has_admin_gid ? " or the admin group" : "");
		return send_error(c, id, -EPERM, msg);
	}

	json_auto_t *empty = NULL;
	if (!params || json_is_null(params))
		params = empty = json_object();
	struct rpc_request rq = { .method = m->name, .params = params, .conn = c, .peer = c->peer };
	r = m->handler(&rq, s->userdata, &result, &err);
	if (rq.deferred) {
		rq.deferred->id = json_incref(id);
		if (r >= 0)
			return;
		/* Failed after deferring: answered now, the handle only freed. */
		rq.deferred->conn = NULL;
		c->deferred = NULL;
	}
	if (r < 0) {
		if (!err.errnum)
			err.errnum = -r;
		return send_error(c, id, r, pw_error_message(&err));
	}
	if (!result)
		result = json_object();
	json_auto_t *reply = json_pack("{s:O?,s:O}", "id", id, "result", result);
	if (reply)
		conn_send_json(c, reply);
}

/* One turn: handles buffered requests until none is complete, the budget
 * is spent or the output is paused. */
static void conn_process(struct rpc_conn *c)
{
	char *line;
	size_t len;

	c->lines_pending = false;
	for (int i = 0; !c->broken; i++) {
		if (i == RPC_REQUESTS_PER_TURN || conn_paused(c) || c->deferred) {
			c->lines_pending = true;
			return;
		}
		enum line_status st = line_buffer_next(&c->in, &line, &len);
		if (st == LINE_NONE)
			return;
		if (st == LINE_OVERSIZED) {
			char msg[96];
			snprintf(msg, sizeof(msg), "request line exceeds %d bytes", RPC_LINE_MAX);
			send_error(c, NULL, -EMSGSIZE, msg);
			continue;
		}
		handle_line(c, line, len);
	}
}

/* A turn, then what comes next: close, another turn on the next loop
 * iteration, or wait for the socket. Called only from the connection's own
 * callbacks, so it may free it. */
static void conn_step(struct rpc_conn *c)
{
	conn_process(c);
	if (c->broken || (c->read_eof && !c->lines_pending && conn_unsent(c) == 0)) {
		conn_free(c);
		return;
	}
	if (c->lines_pending && !conn_paused(c) && !c->deferred)
		event_loop_defer_arm(c->server->loop, c->resume);
	conn_update_events(c);
}

static void conn_resume(struct event_loop *loop, void *userdata)
{
	conn_step(userdata);
}

static void conn_event(struct event_loop *loop, int fd, uint32_t events, void *userdata)
{
	struct rpc_conn *c = userdata;

	/* On a hang-up, writing is what finds out (EPIPE) the peer is gone. */
	if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
		conn_flush(c);
	/* Waiting for a deferred reply, nothing is read and nothing may be
	 * left to write: a hang-up (reported whatever the mask) would come
	 * back at every turn. The peer is gone; so is its reply. */
	if (c->deferred && (events & (EPOLLHUP | EPOLLERR)))
		c->broken = true;
	/* Read only when every complete line is handled: the event may be
	 * left from before EPOLLIN was switched off in this batch. */
	if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !c->read_eof && !c->lines_pending &&
	    !conn_paused(c)) {
		ssize_t n = line_buffer_read(&c->in, fd);
		if (n == 0)
			c->read_eof = true;
		else if (n < 0 && n != -EAGAIN)
			c->broken = true;
	}
	conn_step(c);
}

/* The peer's supplementary groups (SO_PEERGROUPS, Linux 4.13) rather than
 * the Groups: line of /proc/PID/status: the kernel records them at
 * connect(), like SO_PEERCRED, so they are the groups that passed the
 * socket file's permission check; a peer cannot change them afterwards
 * (setgroups, exec of another program, exit and PID reuse), and they need
 * neither /proc nor the peer's PID to mean anything in our PID namespace.
 * On failure the list stays empty: only the primary group counts. */
static void conn_read_peer_groups(struct rpc_conn *c)
{
	socklen_t size = 32 * sizeof(gid_t);

	for (int attempt = 0; attempt < 2; attempt++) {
		gid_t *groups = malloc(size);
		socklen_t len = size;

		if (!groups)
			return;
		if (getsockopt(c->fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == 0) {
			c->peer_groups = groups;
			c->peer_group_count = len / sizeof(gid_t);
			return;
		}
		free(groups);
		/* ERANGE: len is the size needed (fixed since connect()). */
		if (errno != ERANGE || len <= size)
			return;
		size = len;
	}
}

static void listen_event(struct event_loop *loop, int fd, uint32_t events, void *userdata)
{
	struct rpc_server *s = userdata;
	socklen_t len;
	int cfd;

	for (int i = 0; i < 16; i++) {
		cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0) {
			if (accept_error_is_resource(errno))
				accept_pause_now(&s->accept_pause, errno, "rpc");
			else if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				log_warn_errno(-errno, "rpc: accept failed");
			return;
		}
		if (s->conn_count >= RPC_CONNECTIONS_MAX) {
			log_warn("rpc: refusing a client: %d connections open", RPC_CONNECTIONS_MAX);
			close(cfd);
			continue;
		}
		struct rpc_conn *c = calloc(1, sizeof(*c));
		if (!c) {
			close(cfd);
			return;
		}
		c->server = s;
		c->fd = cfd;
		line_buffer_init(&c->in, RPC_LINE_MAX);
		len = sizeof(c->peer);
		if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &c->peer, &len) < 0)
			c->peer = (struct ucred){ .pid = 0, .uid = (uid_t)-1, .gid = (gid_t)-1 };
		conn_read_peer_groups(c);
		c->events = EPOLLIN;
		if (event_loop_add_defer(s->loop, conn_resume, c, &c->resume) < 0) {
			close(cfd);
			free(c->peer_groups);
			free(c);
			continue;
		}
		if (event_loop_add_fd(s->loop, cfd, EPOLLIN, conn_event, c, &c->watch) < 0) {
			event_loop_remove(s->loop, c->resume);
			close(cfd);
			free(c->peer_groups);
			free(c);
			continue;
		}
		c->next = s->conns;
		if (s->conns)
			s->conns->prev = c;
		s->conns = c;
		s->conn_count++;
	}
}

/* Refuses to take over a socket another live server answers on; removes
 * a stale one (left by a crash). */
int rpc_server_new(struct event_loop *loop, const char *socket_path,
		   const struct rpc_method *methods, size_t method_count, void *userdata,
		   struct rpc_server **ret_server, struct pw_error *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -EBADF;
	char dir[sizeof(sa.sun_path)];
	int r;

	if (strlen(socket_path) >= sizeof(sa.sun_path))
		return pw_error_set(err, -ENAMETOOLONG, "socket path %s is longer than %zu bytes",
				    socket_path, sizeof(sa.sun_path) - 1);
	strcpy(sa.sun_path, socket_path);
	snprintf(dir, sizeof(dir), "%s", socket_path);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		r = mkdir_p(dir, 0755);
		if (r < 0)
			return pw_error_set(err, r, "create %s: %s", dir, strerror(-r));
	}
	r = unix_socket_claim(socket_path, err);
	if (r < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return pw_error_set(err, -errno, "socket: %s", strerror(errno));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return pw_error_set(err, -errno, "bind %s: %s", socket_path, strerror(errno));
	if (chmod(socket_path, 0660) < 0)
		return pw_error_set(err, -errno, "chmod %s: %s", socket_path, strerror(errno));
	if (listen(fd, 256) < 0)
		return pw_error_set(err, -errno, "listen %s: %s", socket_path, strerror(errno));

	struct rpc_server *s = calloc(1, sizeof(*s));
	if (!s)
		return pw_error_set(err, -ENOMEM, "out of memory");
	s->socket_path = strdup(socket_path);
	if (!s->socket_path) {
		free(s);
		return pw_error_set(err, -ENOMEM, "out of memory");
	}
	s->loop = loop;
	s->methods = methods;
	s->method_count = method_count;
	s->userdata = userdata;
	s->next_seq = 1;
	r = event_loop_add_fd(loop, fd, EPOLLIN, listen_event, s, &s->listen_watch);
	if (r >= 0) {
		r = accept_pause_init(&s->accept_pause, loop, s->listen_watch, EPOLLIN);
		if (r < 0)
			event_loop_remove(loop, s->listen_watch);
	}
	if (r < 0) {
		free(s->socket_path);
		free(s);
		return pw_error_set(err, r, "event loop: %s", strerror(-r));
	}
	s->listen_fd = TAKE_FD(fd);
	*ret_server = s;
	return 0;
}

void rpc_server_free(struct rpc_server *s)
{
	if (!s)
		return;
	while (s->conns)
		conn_free(s->conns);
	accept_pause_done(&s->accept_pause);
	event_loop_remove(s->loop, s->listen_watch);
	close(s->listen_fd);
	unlink(s->socket_path);
	free(s->socket_path);
	free(s);
}

int rpc_server_set_admin_gid(struct rpc_server *server, gid_t gid)
{
	server->admin_gid = gid;
	server->has_admin_gid = true;
	/* Until now the socket was root:root 0660 (bound by us, as root):
	 * no one but root could connect in between. */
	if (fchownat(AT_FDCWD, server->socket_path, (uid_t)-1, gid, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	return 0;
}

struct rpc_deferred *rpc_request_defer(struct rpc_request *req)
{
	struct rpc_deferred *d = calloc(1, sizeof(*d));

	/* A daemon treats out-of-memory as fatal elsewhere; lib/ has no
	 * xmalloc, and a handler cannot proceed without its handle. */
	if (!d)
		abort();
	d->conn = req->conn;
	req->conn->deferred = d;
	req->deferred = d;
	return d;
}

void rpc_deferred_reply(struct rpc_deferred *d, int r, json_t *result, const struct pw_error *err)
{
	struct rpc_conn *c = d->conn;

	if (c) {
		c->deferred = NULL;
		if (r < 0) {
			send_error(c, d->id, r, err ? pw_error_message(err) : strerror(-r));
		} else {
			json_auto_t *empty = result ? NULL : json_object();
			json_auto_t *reply = json_pack("{s:O?,s:O}", "id", d->id, "result",
						       result ? result : empty);
			if (reply)
				conn_send_json(c, reply);
		}
		/* The next turn handles the requests that waited (or closes a
		 * broken connection) from the connection's own callback. */
		c->lines_pending = true;
		event_loop_defer_arm(c->server->loop, c->resume);
	}
	json_decref(d->id);
	free(d);
}

void rpc_conn_subscribe(struct rpc_conn *conn)
{
	conn->subscribed = true;
}

uint64_t rpc_server_broadcast(struct rpc_server *server, const char *event, json_t *data)
{
	uint64_t seq = server->next_seq++;
	json_auto_t *msg = json_pack("{s:s,s:I,s:O}", "event", event, "seq", (json_int_t)seq,
				     "data", data ? data : json_null());
	_cleanup_free_ char *text = msg ? json_dump_line(msg) : NULL;

	if (!text)
		return seq;
	size_t len = strlen(text);
	for (struct rpc_conn *c = server->conns; c; c = c->next) {
		if (!c->subscribed)
			continue;
		conn_queue(c, text, len);
		/* EPOLLOUT for what is left, EPOLLIN off if that paused it (a
		 * broken one is closed by its EPOLLHUP). */
		if (!c->broken)
			conn_update_events(c);
	}
	return seq;
}

uint64_t rpc_server_next_seq(struct rpc_server *server)
{
	return server->next_seq;
}

unsigned rpc_server_connection_count(struct rpc_server *server)
{
	return server->conn_count;
}
