/* netd's Prometheus listener (see metrics-listener.h).
 *
 * Each connection goes READING (collect the request, bounded by
 * METRICS_REQUEST_MAX) -> WRITING (the whole reply is built at once, then
 * written as the socket takes it) -> DRAINING (our side shut down; input is
 * read and dropped until the peer closes, so the kernel does not reset the
 * connection over unread bytes and lose the reply) -> freed. Each state
 * has a deadline; one one-shot timer is armed for the earliest deadline
 * and closes whatever is overdue, so a client that connects and sends
 * nothing costs one fd for METRICS_READ_TIMEOUT_MS and never stalls the
 * loop. Connections are freed from their own callback or from the timer;
 * the event loop skips a removed watcher's pending events. */
#include <arpa/inet.h>
#include <ctype.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "accept-pause.h"
#include "dataplane.h"
#include "log.h"
#include "metrics-listener.h"
#include "prom-text.h"
#include "unix-socket.h"
#include "xalloc.h"

/* Reads per wake-up of a draining connection (4 KiB each) before the loop
 * serves others: a peer that keeps sending is cut off by the deadline. */
#define DRAIN_READS_PER_WAKEUP 16
/* Accepts per wake-up of the listening socket. */
#define ACCEPTS_PER_WAKEUP 16

enum conn_state {
	CONN_READING,
	CONN_WRITING,
	CONN_DRAINING,
};

struct metrics_conn {
	struct metrics_listener *listener;
	int fd;
	struct event_watch *watch;
	enum conn_state state;
	uint64_t deadline_ms;
	char *out;
	size_t out_len, out_off;
	struct metrics_conn *prev, *next;
	size_t in_len;
	char in[METRICS_REQUEST_MAX];
};

struct metrics_listener {
	struct netd *netd;
	int listen_fd;
	struct event_watch *listen_watch;
	struct accept_pause accept_pause;
	struct event_watch *timer;
	uint64_t timer_at; /* when the timer fires (monotonic ms), 0: not relied on */
	char *unix_path;   /* removed at free; NULL for TCP */
	struct metrics_conn *conns;
	unsigned conn_count;
};

/* --- Addresses ---------------------------------------------------------- */

static int parse_port(const char *text, const char *arg, uint16_t *ret_port, struct pw_error *err)
{
	unsigned long port = 0;

	if (!*text)
		return pw_error_set(err, -EINVAL, "--metrics-listen %s: no port", arg);
	for (const char *p = text; *p; p++) {
		if (!isdigit((unsigned char)*p) || port > 65535)
			return pw_error_set(err, -EINVAL, "--metrics-listen %s: bad port '%s'", arg,
					    text);
		port = port * 10 + (unsigned long)(*p - '0');
	}
	if (port < 1 || port > 65535)
		return pw_error_set(err, -EINVAL, "--metrics-listen %s: port must be 1-65535", arg);
	*ret_port = (uint16_t)port;
	return 0;
}

static int not_loopback(const char *arg, struct pw_error *err)
{
	return pw_error_set(err, -EINVAL,
			    "--metrics-listen %s: not a loopback address (the metrics are not "
			    "authenticated): use 127.0.0.1:PORT, [::1]:PORT or unix:/PATH",
			    arg);
}

int metrics_addr_parse(const char *text, struct metrics_addr *ret_addr, struct pw_error *err)
{
	struct metrics_addr addr = {0};
	const char *colon;
	uint16_t port;
	int r;

	if (strlen(text) >= sizeof(addr.text))
		return pw_error_set(err, -EINVAL, "--metrics-listen: address longer than %zu bytes",
				    sizeof(addr.text) - 1);
	snprintf(addr.text, sizeof(addr.text), "%s", text);
	if (strncmp(text, "unix:", 5) == 0) {
		struct sockaddr_un *un = (struct sockaddr_un *)&addr.sa;
		const char *path = text + 5;

		if (path[0] != '/')
			return pw_error_set(err, -EINVAL,
					    "--metrics-listen %s: a unix: path must be absolute",
					    text);
		if (strlen(path) >= sizeof(un->sun_path))
			return pw_error_set(
			    err, -EINVAL, "--metrics-listen %s: socket path longer than %zu bytes",
			    text, sizeof(un->sun_path) - 1);
		un->sun_family = AF_UNIX;
		strcpy(un->sun_path, path);
		addr.sa_len = sizeof(*un);
		addr.is_unix = true;
	} else if (text[0] == '[') {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&addr.sa;
		const char *bracket = strchr(text, ']');
		char host[INET6_ADDRSTRLEN];

		if (!bracket || bracket[1] != ':' || (size_t)(bracket - text - 1) >= sizeof(host))
			return pw_error_set(err, -EINVAL,
					    "--metrics-listen %s: expected [IPV6]:PORT", text);
		memcpy(host, text + 1, (size_t)(bracket - text - 1));
		host[bracket - text - 1] = '\0';
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return pw_error_set(err, -EINVAL,
					    "--metrics-listen %s: '%s' is not an IPv6 address",
					    text, host);
		if (!IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr))
			return not_loopback(text, err);
		r = parse_port(bracket + 2, text, &port, err);
		if (r < 0)
			return r;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		addr.sa_len = sizeof(*sin6);
	} else if ((colon = strrchr(text, ':'))) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&addr.sa;
		char host[INET_ADDRSTRLEN];

		if ((size_t)(colon - text) >= sizeof(host) || strchr(text, ':') != colon)
			return pw_error_set(err, -EINVAL,
					    "--metrics-listen %s: expected IPV4:PORT, [IPV6]:PORT "
					    "or unix:/PATH",
					    text);
		memcpy(host, text, (size_t)(colon - text));
		host[colon - text] = '\0';
		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return pw_error_set(err, -EINVAL,
					    "--metrics-listen %s: '%s' is not an IPv4 address "
					    "(names are not resolved)",
					    text, host);
		/* 127.0.0.0/8 is loopback, not just 127.0.0.1. */
		if ((ntohl(sin->sin_addr.s_addr) >> 24) != 127)
			return not_loopback(text, err);
		r = parse_port(colon + 1, text, &port, err);
		if (r < 0)
			return r;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		addr.sa_len = sizeof(*sin);
	} else {
		return pw_error_set(err, -EINVAL,
				    "--metrics-listen %s: expected 127.0.0.1:PORT, [::1]:PORT or "
				    "unix:/PATH",
				    text);
	}
	*ret_addr = addr;
	return 0;
}

/* --- Requests ----------------------------------------------------------- */

/* RFC 9110 token characters (method and header names). */
static bool is_tchar(char c)
{
	return c && (isalnum((unsigned char)c) || strchr("!#$%&'*+-.^_`|~", c));
}

/* method SP request-target SP HTTP-version; 0 if acceptable so far, else
 * the status (400, 404 or 405). */
static int parse_request_line(const char *line, size_t len, bool *ret_head)
{
	const char *sp1 = memchr(line, ' ', len), *sp2, *target, *path_end;
	size_t target_len, path_len;

	if (!sp1 || sp1 == line)
		return 400;
	for (const char *p = line; p < sp1; p++)
		if (!is_tchar(*p))
			return 400;
	target = sp1 + 1;
	sp2 = memchr(target, ' ', len - (size_t)(target - line));
	if (!sp2 || sp2 == target)
		return 400;
	for (const char *p = target; p < sp2; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			return 400;
	if ((size_t)(line + len - (sp2 + 1)) != 8 ||
	    (memcmp(sp2 + 1, "HTTP/1.0", 8) != 0 && memcmp(sp2 + 1, "HTTP/1.1", 8) != 0))
		return 400;
	target_len = (size_t)(sp2 - target);
	/* absolute-form (RFC 9112 3.2.2): the path follows the authority. */
	if (target_len > 7 && strncasecmp(target, "http://", 7) == 0) {
		const char *slash = memchr(target + 7, '/', target_len - 7);

		if (slash) {
			target_len -= (size_t)(slash - target);
			target = slash;
		} else {
			target = "/";
			target_len = 1;
		}
	} else if (target[0] != '/') {
		return 400;
	}
	/* A reply to HEAD has no body, whatever its status. */
	*ret_head = (size_t)(sp1 - line) == 4 && memcmp(line, "HEAD", 4) == 0;
	path_end = memchr(target, '?', target_len);
	path_len = path_end ? (size_t)(path_end - target) : target_len;
	if (path_len != 8 || memcmp(target, "/metrics", 8) != 0)
		return 404;
	if (!*ret_head && ((size_t)(sp1 - line) != 3 || memcmp(line, "GET", 3) != 0))
		return 405;
	return 0;
}

/* field-name ":" field-value, no obsolete line folding. */
static bool header_line_ok(const char *line, size_t len)
{
	const char *colon = memchr(line, ':', len);

	if (!colon || colon == line)
		return false;
	for (const char *p = line; p < colon; p++)
		if (!is_tchar(*p))
			return false;
	/* Field values: visible characters, blanks and obs-text (>= 0x80). */
	for (const char *p = colon + 1; p < line + len; p++) {
		unsigned char ch = (unsigned char)*p;

		if ((ch < ' ' && ch != '\t') || ch == 0x7f)
			return false;
	}
	return true;
}

int metrics_request_parse(const char *buf, size_t len, bool *ret_head)
{
	size_t pos = 0;
	int route = -1; /* the request line's verdict: 0 (serve) or a status */
	bool head = false;

	for (;;) {
		const char *line = buf + pos, *nl = memchr(line, '\n', len - pos);
		size_t line_len;

		if (!nl)
			return len >= METRICS_REQUEST_MAX ? 431 : 0;
		line_len = (size_t)(nl - line);
		pos += line_len + 1;
		if (line_len > 0 && line[line_len - 1] == '\r')
			line_len--;
		if (memchr(line, '\r', line_len) || memchr(line, '\0', line_len))
			return 400;
		if (route < 0) {
			/* RFC 9112 2.2: ignore empty lines before the request line. */
			if (line_len == 0)
				continue;
			route = parse_request_line(line, line_len, &head);
			/* Garbage is answered at once, not after a timeout. */
			if (route == 400)
				return 400;
			continue;
		}
		if (line_len == 0)
			break;
		if (!header_line_ok(line, line_len))
			return 400;
	}
	*ret_head = head;
	return route == 0 ? 200 : route;
}

/* --- Connections -------------------------------------------------------- */

static void timer_arm(struct metrics_listener *l, uint64_t at_ms)
{
	uint64_t now = now_ms();
	int r;

	if (l->timer_at && l->timer_at <= at_ms)
		return;
	r = event_loop_timer_set(l->netd->loop, l->timer, at_ms > now ? at_ms - now : 0, 0);
	if (r < 0) {
		log_warn_errno(r, "metrics: cannot arm the timeout timer");
		return;
	}
	l->timer_at = at_ms;
}

static void conn_set_state(struct metrics_conn *c, enum conn_state state, uint32_t events,
			   uint64_t timeout_ms)
{
	c->state = state;
	c->deadline_ms = now_ms() + timeout_ms;
	timer_arm(c->listener, c->deadline_ms);
	event_loop_mod_fd(c->listener->netd->loop, c->watch, events);
}

static void conn_free(struct metrics_conn *c)
{
	struct metrics_listener *l = c->listener;

	event_loop_remove(l->netd->loop, c->watch);
	close(c->fd);
	free(c->out);
	if (c->prev)
		c->prev->next = c->next;
	else
		l->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	l->conn_count--;
	free(c);
}

static const char *status_text(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 431:
		return "Request Header Fields Too Large";
	default:
		return "Internal Server Error";
	}
}

/* The exposition text, built the way the stats RPC method builds its
 * result. */
static int render_metrics(struct netd *netd, char **ret_body, size_t *ret_len, struct pw_error *err)
{
	json_auto_t *stats = NULL;
	_cleanup_free_ char *body = NULL;
	size_t len = 0;
	FILE *f;
	int r;

	r = netd_stats(netd, &stats, err);
	if (r < 0)
		return r;
	f = open_memstream(&body, &len);
	if (!f)
		return pw_error_set(err, -errno, "open_memstream: %s", strerror(errno));
	r = prom_text_netd_stats(stats, f);
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	if (r < 0)
		return pw_error_set(err, r, "format the metrics: %s", strerror(-r));
	*ret_body = TAKE_PTR(body);
	*ret_len = len;
	return 0;
}

/* Builds the whole reply into c->out. */
static void conn_build_reply(struct metrics_conn *c, int status, bool head)
{
	_cleanup_free_ char *body = NULL;
	const char *content_type = "text/plain; charset=utf-8";
	struct pw_error err = {0};
	size_t body_len = 0, header_len;

	switch (status) {
	case 200:
		if (render_metrics(c->listener->netd, &body, &body_len, &err) < 0) {
			log_warn("metrics: cannot build the reply error=\"%s\"",
				 pw_error_message(&err));
			status = 500;
			body = xasprintf("cannot read the counters: %s\n", pw_error_message(&err));
		} else {
			content_type = PROM_TEXT_CONTENT_TYPE;
		}
		break;
	case 404:
		body = xstrdup("not found: podwire-netd serves /metrics only\n");
		break;
	case 405:
		body = xstrdup("method not allowed: use GET or HEAD\n");
		break;
	case 431:
		body = xasprintf("request headers exceed %d bytes\n", METRICS_REQUEST_MAX);
		break;
	default:
		body = xstrdup("bad request: expected GET /metrics HTTP/1.1\n");
		break;
	}
	if (status != 200)
		body_len = strlen(body);
	c->out = xasprintf("HTTP/1.1 %d %s\r\n"
			   "Content-Type: %s\r\n"
			   "Content-Length: %zu\r\n"
			   "%s"
			   "Connection: close\r\n"
			   "\r\n",
			   status, status_text(status), content_type, body_len,
			   status == 405 ? "Allow: GET, HEAD\r\n" : "");
	header_len = strlen(c->out);
	c->out_len = header_len;
	if (!head && body_len > 0) {
		c->out = xrealloc(c->out, header_len + body_len);
		memcpy(c->out + header_len, body, body_len);
		c->out_len += body_len;
	}
	log_debug("metrics: reply status=%d bytes=%zu", status, c->out_len);
}

/* Writes what the socket takes; at the end, shuts our side down and
 * drains. Returns -1 if c was freed. */
static int conn_flush(struct metrics_conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			log_debug("metrics: client went away while writing: %s", strerror(errno));
			conn_free(c);
			return -1;
		}
		c->out_off += (size_t)n;
	}
	free(c->out);
	c->out = NULL;
	c->out_len = c->out_off = 0;
	shutdown(c->fd, SHUT_WR);
	conn_set_state(c, CONN_DRAINING, EPOLLIN, METRICS_LINGER_MS);
	return 0;
}

/* Reads the request; returns -1 if c was freed. */
static int conn_read(struct metrics_conn *c)
{
	bool eof = false, head = false;
	int status;

	while (c->in_len < sizeof(c->in)) {
		ssize_t n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, MSG_DONTWAIT);

		if (n > 0) {
			c->in_len += (size_t)n;
			continue;
		}
		if (n == 0) {
			eof = true;
			break;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN)
			break;
		conn_free(c);
		return -1;
	}
	status = metrics_request_parse(c->in, c->in_len, &head);
	if (status == 0) {
		if (eof) {
			/* The client ended its side before a complete request. */
			conn_free(c);
			return -1;
		}
		return 0;
	}
	conn_build_reply(c, status, head);
	conn_set_state(c, CONN_WRITING, EPOLLOUT, METRICS_WRITE_TIMEOUT_MS);
	return conn_flush(c);
}

/* Drops input until the peer closes. Returns -1 if c was freed. */
static int conn_drain(struct metrics_conn *c)
{
	char scratch[4096];

	for (int i = 0; i < DRAIN_READS_PER_WAKEUP; i++) {
		ssize_t n = recv(c->fd, scratch, sizeof(scratch), MSG_DONTWAIT);

		if (n > 0)
			continue;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		conn_free(c);
		return -1;
	}
	return 0;
}

static void conn_event(struct event_loop *loop, int fd, uint32_t events, void *userdata)
{
	struct metrics_conn *c = userdata;

	switch (c->state) {
	case CONN_READING:
		conn_read(c);
		break;
	case CONN_WRITING:
		if (events & (EPOLLHUP | EPOLLERR)) {
			conn_free(c);
			break;
		}
		conn_flush(c);
		break;
	case CONN_DRAINING:
		conn_drain(c);
		break;
	}
}

static void timer_fired(struct event_loop *loop, void *userdata)
{
	struct metrics_listener *l = userdata;
	uint64_t now = now_ms();
	struct metrics_conn *c, *next;

	l->timer_at = 0;
	for (c = l->conns; c; c = next) {
		next = c->next;
		if (c->deadline_ms > now)
			continue;
		if (c->state != CONN_DRAINING)
			log_debug("metrics: closing a client that timed out state=%s",
				  c->state == CONN_READING ? "reading" : "writing");
		conn_free(c);
	}
	for (c = l->conns; c; c = c->next)
		timer_arm(l, c->deadline_ms);
}

static void listen_event(struct event_loop *loop, int fd, uint32_t events, void *userdata)
{
	struct metrics_listener *l = userdata;

	for (int i = 0; i < ACCEPTS_PER_WAKEUP; i++) {
		struct metrics_conn *c;
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (cfd < 0) {
			if (accept_error_is_resource(errno))
				accept_pause_now(&l->accept_pause, errno, "metrics");
			else if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				log_warn_errno(-errno, "metrics: accept failed");
			return;
		}
		if (l->conn_count >= METRICS_CONNECTIONS_MAX) {
			log_debug("metrics: refusing a client: %d connections open",
				  METRICS_CONNECTIONS_MAX);
			close(cfd);
			continue;
		}
		c = xcalloc(1, sizeof(*c));
		c->listener = l;
		c->fd = cfd;
		if (event_loop_add_fd(loop, cfd, EPOLLIN, conn_event, c, &c->watch) < 0) {
			close(cfd);
			free(c);
			continue;
		}
		c->next = l->conns;
		if (l->conns)
			l->conns->prev = c;
		l->conns = c;
		l->conn_count++;
		c->state = CONN_READING;
		c->deadline_ms = now_ms() + METRICS_READ_TIMEOUT_MS;
		timer_arm(l, c->deadline_ms);
	}
}

/* --- The listener ------------------------------------------------------- */

/* Refuses a socket path another live server answers on; removes a stale
 * one (left by a crash). */
static int open_socket(const struct metrics_addr *addr, gid_t socket_gid, struct pw_error *err)
{
	const char *path = ((const struct sockaddr_un *)&addr->sa)->sun_path;
	_cleanup_close_ int fd = -EBADF;
	int r, one = 1;

	if (addr->is_unix) {
		r = unix_socket_claim(path, err);
		if (r < 0)
			return r;
	}
	fd = socket(addr->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return pw_error_set(err, -errno, "socket: %s", strerror(errno));
	/* A restarted netd binds again while old connections sit in
	 * TIME_WAIT. */
	if (!addr->is_unix && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		return pw_error_set(err, -errno, "SO_REUSEADDR: %s", strerror(errno));
	if (bind(fd, (const struct sockaddr *)&addr->sa, addr->sa_len) < 0)
		return pw_error_set(err, -errno, "bind %s: %s", addr->text, strerror(errno));
	if (addr->is_unix) {
		if (chmod(path, 0660) < 0 ||
		    (socket_gid != (gid_t)-1 && chown(path, (uid_t)-1, socket_gid) < 0)) {
			r = pw_error_set(err, -errno, "%s: %s", path, strerror(errno));
			unlink(path);
			return r;
		}
	}
	if (listen(fd, 64) < 0) {
		r = pw_error_set(err, -errno, "listen %s: %s", addr->text, strerror(errno));
		if (addr->is_unix)
			unlink(path);
		return r;
	}
	return TAKE_FD(fd);
}

int metrics_listener_new(struct netd *netd, const struct metrics_addr *addr, gid_t socket_gid,
			 struct metrics_listener **ret_listener, struct pw_error *err)
{
	struct metrics_listener *l;
	int fd, r;

	fd = open_socket(addr, socket_gid, err);
	if (fd < 0)
		return pw_error_wrap(err, fd, "metrics listener");
	l = xcalloc(1, sizeof(*l));
	l->netd = netd;
	l->listen_fd = fd;
	if (addr->is_unix)
		l->unix_path = xstrdup(((const struct sockaddr_un *)&addr->sa)->sun_path);
	r = event_loop_add_timer(netd->loop, METRICS_READ_TIMEOUT_MS, 0, timer_fired, l, &l->timer);
	if (r >= 0)
		r = event_loop_add_fd(netd->loop, fd, EPOLLIN, listen_event, l, &l->listen_watch);
	if (r >= 0)
		r = accept_pause_init(&l->accept_pause, netd->loop, l->listen_watch, EPOLLIN);
	if (r < 0) {
		metrics_listener_free(l);
		return pw_error_set(err, r, "metrics listener: event loop: %s", strerror(-r));
	}
	log_info("metrics listening addr=%s", addr->text);
	*ret_listener = l;
	return 0;
}

void metrics_listener_free(struct metrics_listener *l)
{
	if (!l)
		return;
	while (l->conns)
		conn_free(l->conns);
	accept_pause_done(&l->accept_pause);
	if (l->listen_watch)
		event_loop_remove(l->netd->loop, l->listen_watch);
	if (l->timer)
		event_loop_remove(l->netd->loop, l->timer);
	close(l->listen_fd);
	if (l->unix_path)
		unlink(l->unix_path);
	free(l->unix_path);
	free(l);
}
