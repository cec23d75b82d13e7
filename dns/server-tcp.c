/* The TCP server (RFC 7766): 2-octet length-prefixed messages, several
 * queries per connection (pipelined; replies may come out of order when
 * some are forwarded), an idle timeout, and bounds on connections.
 *
 * One group must not be able to deny TCP to the others (slow-loris: many
 * connections that trickle bytes and never finish a query). So:
 *   - each connection has one deadline: while it has no partial query, the
 *     RFC 7766 idle timeout since its last complete query (or its reply);
 *     from accept, and from the first byte of a query, the whole query must
 *     arrive within TCP_QUERY_DEADLINE_MS — more bytes do not extend it;
 *   - connections are bounded per client address, per listener (one VNet
 *     gateway) and in total; a new connection over a bound evicts, within
 *     that bound's scope, the connection that made progress (accept or a
 *     complete query) longest ago, rather than being refused — so the
 *     trickling connections go first and a fresh client always gets in.
 *
 * Buffers grow only as far as a message needs (at most 2 + 65535), so
 * idle connections cost a few hundred bytes. A connection is freed on EOF,
 * error, deadline, eviction or when its listener goes; forwarded answers
 * for a connection that is gone are dropped (they are looked up by id). */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dnsd.h"
#include "listeners.h"
#include "log.h"
#include "xalloc.h"

/* RFC 7766 6.2.3 suggests seconds, not minutes, for an idle server side. */
#define TCP_IDLE_TIMEOUT_MS 10000
/* From accept, or from the first byte of a query, to the whole query: a
 * real client sends a query (at most 64 KiB) in one go; 3 s still covers a
 * few TCP retransmissions (RTO 200 ms doubling: 0.2 + 0.4 + 0.8 + 1.6). */
#define TCP_QUERY_DEADLINE_MS 3000
/* Deadlines are checked this often (so they hold to within a second). */
#define TCP_SWEEP_MS 1000
/* Connections at once across all listeners: DNS over TCP is the fallback
 * for truncated answers, a handful at a time; 256 also stays far below
 * the default 1024 open files with listeners and upstream sockets. */
#define TCP_CONNS_MAX 256
/* Per listener (one VNet gateway address): a quarter of the total, so one
 * VNet cannot take every slot from the others. */
#define TCP_CONNS_PER_LISTENER 64
/* Per client address: a stub resolver has one TCP query in flight per
 * thread, rarely more than a few at once; 8 leaves room for that while a
 * group alone cannot fill its VNet's share. */
#define TCP_CONNS_PER_CLIENT 8
/* Unsent reply bytes per connection before we stop reading from it (a
 * client that does not read its answers does not get to send more). */
#define TCP_OUTPUT_MAX (256 * 1024)

struct tcp_conn {
	struct tcp_conn *prev, *next;
	struct dnsd *d;
	struct listener *listener;
	uint64_t id;
	int fd;
	struct event_watch *watch;
	struct sockaddr_storage addr;
	socklen_t addr_len;
	uint8_t *in;
	size_t in_len, in_cap;
	uint8_t *out;
	size_t out_len, out_off, out_cap;
	/* accept or the last complete query: the eviction order */
	uint64_t progress_ms;
	/* closed by the sweep past this (idle timeout or query deadline) */
	uint64_t deadline_ms;
	/* no complete query yet: the deadline runs from accept */
	bool awaiting_first_query;
};

static bool conn_in_query(const struct tcp_conn *c)
{
	return c->in_len > 0;
}

static void conn_free(struct dnsd *d, struct tcp_conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		d->tcp_conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	d->tcp_conn_count--;
	c->listener->tcp_conn_count--;
	event_loop_remove(d->loop, c->watch);
	close(c->fd);
	free(c->in);
	free(c->out);
	free(c);
}

static void conn_update_events(struct dnsd *d, struct tcp_conn *c)
{
	uint32_t events = 0;
	if (c->out_len - c->out_off < TCP_OUTPUT_MAX)
		events |= EPOLLIN;
	if (c->out_len > c->out_off)
		events |= EPOLLOUT;
	event_loop_mod_fd(d->loop, c->watch, events);
}

/* Writes what can be written; returns -1 if the connection failed. */
static int conn_flush(struct dnsd *d, struct tcp_conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			return -1;
		}
		c->out_off += (size_t)n;
		if (!conn_in_query(c))
			c->deadline_ms = now_ms() + TCP_IDLE_TIMEOUT_MS;
	}
	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	return 0;
}

static void conn_queue(struct tcp_conn *c, const uint8_t *msg, size_t len)
{
	size_t need = c->out_len + 2 + len;
	if (need > c->out_cap) {
		if (c->out_off > 0) {
			memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
			c->out_len -= c->out_off;
			c->out_off = 0;
			need = c->out_len + 2 + len;
		}
		if (need > c->out_cap) {
			c->out_cap = MAX(need, c->out_cap * 2);
			c->out = xrealloc(c->out, c->out_cap);
		}
	}
	dns_put16(c->out + c->out_len, (uint16_t)len);
	memcpy(c->out + c->out_len + 2, msg, len);
	c->out_len += 2 + len;
}

void server_tcp_send(struct dnsd *d, uint64_t conn_id, const uint8_t *msg, size_t len)
{
	for (struct tcp_conn *c = d->tcp_conns; c; c = c->next) {
		if (c->id != conn_id)
			continue;
		conn_queue(c, msg, len);
		if (conn_flush(d, c) < 0)
			conn_free(d, c);
		else
			conn_update_events(d, c);
		return;
	}
}

/* Answers every complete message in the input buffer. */
static void conn_process(struct dnsd *d, struct tcp_conn *c)
{
	static uint8_t reply[DNS_TCP_MSG_MAX];
	size_t pos = 0;
	while (c->in_len - pos >= 2) {
		size_t msg_len = dns_get16(c->in + pos);
		if (c->in_len - pos - 2 < msg_len)
			break;
		d->counters.queries_tcp++;
		size_t n =
		    server_handle_query(d, c->listener, (struct sockaddr *)&c->addr, c->addr_len,
					c->in + pos + 2, msg_len, reply, sizeof(reply), c->id);
		if (n > 0)
			conn_queue(c, reply, n);
		pos += 2 + msg_len;
	}
	if (pos == 0)
		return;
	memmove(c->in, c->in + pos, c->in_len - pos);
	c->in_len -= pos;
	/* Progress: the next query (already begun or not) gets its own
	 * deadline; with nothing buffered the idle timeout runs. */
	uint64_t now = now_ms();
	c->progress_ms = now;
	c->deadline_ms = now + (conn_in_query(c) ? TCP_QUERY_DEADLINE_MS : TCP_IDLE_TIMEOUT_MS);
}

static void on_conn_event(struct event_loop *loop, int fd, uint32_t events, void *userdata)
{
	struct tcp_conn *c = userdata;
	struct dnsd *d = c->d;

	if (events & EPOLLIN) {
		for (;;) {
			/* grow to hold the message being read */
			size_t want = 2;
			if (c->in_len >= 2)
				want = 2 + (size_t)dns_get16(c->in);
			want = MAX(want, (size_t)512);
			if (c->in_cap < want) {
				c->in_cap = want;
				c->in = xrealloc(c->in, c->in_cap);
			}
			ssize_t n =
			    recv(fd, c->in + c->in_len, c->in_cap - c->in_len, MSG_DONTWAIT);
			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
				conn_free(d, c);
				return;
			}
			if (n < 0)
				break;
			if (!conn_in_query(c) && !c->awaiting_first_query)
				/* the first byte of a query starts its deadline */
				c->deadline_ms = now_ms() + TCP_QUERY_DEADLINE_MS;
			c->awaiting_first_query = false;
			c->in_len += (size_t)n;
			conn_process(d, c);
			if (c->out_len - c->out_off >= TCP_OUTPUT_MAX)
				break;
		}
	}
	if (events & (EPOLLERR | EPOLLHUP) && !(events & EPOLLIN)) {
		conn_free(d, c);
		return;
	}
	if (conn_flush(d, c) < 0) {
		conn_free(d, c);
		return;
	}
	conn_update_events(d, c);
}

static bool same_client(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	if (a->ss_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
			      &((const struct sockaddr_in6 *)b)->sin6_addr,
			      sizeof(struct in6_addr)) == 0;
	return false;
}

static void older(struct tcp_conn **oldest, struct tcp_conn *c)
{
	if (!*oldest || c->progress_ms < (*oldest)->progress_ms)
		*oldest = c;
}

/* Makes room for a connection from addr on l: at each bound that is full
 * (client, listener, total), the connection of that scope whose last
 * progress is oldest goes. */
static void make_room(struct dnsd *d, struct listener *l, const struct sockaddr_storage *addr)
{
	struct tcp_conn *client_oldest = NULL, *listener_oldest = NULL, *oldest = NULL;
	unsigned client_count = 0;

	for (struct tcp_conn *c = d->tcp_conns; c; c = c->next) {
		older(&oldest, c);
		if (c->listener != l)
			continue;
		older(&listener_oldest, c);
		if (same_client(&c->addr, addr)) {
			client_count++;
			older(&client_oldest, c);
		}
	}
	struct tcp_conn *victim = NULL;
	if (client_count >= TCP_CONNS_PER_CLIENT) {
		victim = client_oldest;
		d->counters.tcp_evicted_client++;
	} else if (l->tcp_conn_count >= TCP_CONNS_PER_LISTENER) {
		victim = listener_oldest;
		d->counters.tcp_evicted_listener++;
	} else if (d->tcp_conn_count >= TCP_CONNS_MAX) {
		victim = oldest;
		d->counters.tcp_evicted_total++;
	}
	if (victim)
		conn_free(d, victim);
}

void server_tcp_accept(struct event_loop *loop, int fd, uint32_t events, void *userdata)
{
	struct listener *l = userdata;
	struct dnsd *d = l->d;

	for (;;) {
		struct sockaddr_storage addr;
		socklen_t addr_len = sizeof(addr);
		int cfd =
		    accept4(fd, (struct sockaddr *)&addr, &addr_len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno != EAGAIN && errno != EINTR) {
				d->counters.tcp_accept_errors++;
				log_debug("accept failed: %s", strerror(errno));
			}
			if (accept_error_is_resource(errno))
				accept_pause_now(&l->tcp_pause, errno, "dns tcp");
			return;
		}
		/* One eviction per bound at most: the bounds nest, so after
		 * three rounds every one has room. */
		for (int i = 0; i < 3; i++)
			make_room(d, l, &addr);
		struct tcp_conn *c = xcalloc(1, sizeof(*c));
		c->d = d;
		c->listener = l;
		c->id = ++d->next_tcp_conn_id;
		c->fd = cfd;
		c->addr = addr;
		c->addr_len = addr_len;
		c->progress_ms = now_ms();
		c->deadline_ms = c->progress_ms + TCP_QUERY_DEADLINE_MS;
		c->awaiting_first_query = true;
		if (event_loop_add_fd(d->loop, cfd, EPOLLIN, on_conn_event, c, &c->watch) < 0) {
			d->counters.tcp_accept_errors++;
			close(cfd);
			free(c);
			continue;
		}
		c->next = d->tcp_conns;
		if (d->tcp_conns)
			d->tcp_conns->prev = c;
		d->tcp_conns = c;
		d->tcp_conn_count++;
		l->tcp_conn_count++;
	}
}

static void on_sweep(struct event_loop *loop, void *userdata)
{
	struct dnsd *d = userdata;
	uint64_t now = now_ms();
	struct tcp_conn *c = d->tcp_conns;
	while (c) {
		struct tcp_conn *next = c->next;
		if (now >= c->deadline_ms) {
			if (conn_in_query(c) || c->awaiting_first_query)
				d->counters.tcp_query_deadline++;
			else
				d->counters.tcp_idle_timeout++;
			conn_free(d, c);
		}
		c = next;
	}
}

int server_tcp_init(struct dnsd *d)
{
	return event_loop_add_timer(d->loop, TCP_SWEEP_MS, TCP_SWEEP_MS, on_sweep, d,
				    &d->tcp_sweep);
}

void server_tcp_close_listener(struct dnsd *d, struct listener *l)
{
	struct tcp_conn *c = d->tcp_conns;
	while (c) {
		struct tcp_conn *next = c->next;
		if (c->listener == l)
			conn_free(d, c);
		c = next;
	}
}

void server_tcp_done(struct dnsd *d)
{
	while (d->tcp_conns)
		conn_free(d, d->tcp_conns);
	if (d->tcp_sweep)
		event_loop_remove(d->loop, d->tcp_sweep);
	d->tcp_sweep = NULL;
}
