/* The upstream client: see forward.h.
 *
 * Each pending question owns at most one socket (the current attempt);
 * answers arriving on it are checked against ID and question
 * (upstream-msg.c) and anything else is ignored. A 100 ms sweep timer
 * expires attempts; pending questions sit on a list in deadline order
 * (every attempt has the same timeout, so appending keeps it sorted). */
#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "dname.h"
#include "forward.h"
#include "log.h"
#include "xalloc.h"

#define FORWARD_SWEEP_MS 100

struct pending {
	struct pending *hash_next;
	struct pending *prev, *next; /* deadline list */
	bool on_list;
	struct forwarder *f;
	struct upstream_set set;
	struct cache_key key; /* key.qname points at qname */
	uint8_t qname[DNS_WIRE_NAME_MAX];
	uint32_t hash;
	unsigned attempt; /* index of the current attempt */
	unsigned attempts_max;
	int fd;
	struct event_watch *watch;
	uint16_t id;
	uint64_t sent_us;
	uint64_t deadline_ms;
	size_t client_count;
	struct forward_client *clients;
};

struct forwarder {
	struct event_loop *loop;
	unsigned timeout_ms;
	forward_done_cb cb;
	void *userdata;
	struct event_watch *sweep;
	struct pending **buckets;
	size_t bucket_count;
	struct pending *head, *tail;
	struct forward_stats stats;
	uint64_t rng;
};

void upstream_set_update_hash(struct upstream_set *s)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < s->count; i++)
		h = dns_name_hash(s->addrs[i].addr.bytes, 16, h ^ (uint32_t)s->addrs[i].family);
	s->hash = h;
}

static uint16_t random_id(struct forwarder *f)
{
	/* xorshift64*, seeded from getrandom() */
	f->rng ^= f->rng >> 12;
	f->rng ^= f->rng << 25;
	f->rng ^= f->rng >> 27;
	return (uint16_t)((f->rng * 2685821657736338717ull) >> 48);
}

static uint32_t pending_hash(const struct cache_key *key)
{
	return dns_name_hash(key->qname, key->qname_len,
			     key->set_hash ^ ((uint32_t)key->qtype << 16 | key->qclass));
}

static struct pending *pending_find(struct forwarder *f, const struct cache_key *key, uint32_t hash)
{
	for (struct pending *p = f->buckets[hash & (f->bucket_count - 1)]; p; p = p->hash_next)
		if (p->hash == hash && p->key.set_hash == key->set_hash &&
		    p->key.qtype == key->qtype && p->key.qclass == key->qclass &&
		    p->key.qname_len == key->qname_len &&
		    memcmp(p->qname, key->qname, key->qname_len) == 0)
			return p;
	return NULL;
}

static void list_unlink(struct forwarder *f, struct pending *p)
{
	if (!p->on_list)
		return;
	p->on_list = false;
	if (p->prev)
		p->prev->next = p->next;
	else
		f->head = p->next;
	if (p->next)
		p->next->prev = p->prev;
	else
		f->tail = p->prev;
	p->prev = p->next = NULL;
}

static void list_append(struct forwarder *f, struct pending *p)
{
	p->on_list = true;
	p->next = NULL;
	p->prev = f->tail;
	if (f->tail)
		f->tail->next = p;
	else
		f->head = p;
	f->tail = p;
}

static void pending_close_socket(struct forwarder *f, struct pending *p)
{
	if (p->watch)
		event_loop_remove(f->loop, p->watch);
	p->watch = NULL;
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
}

static void pending_free(struct forwarder *f, struct pending *p)
{
	struct pending **pp = &f->buckets[p->hash & (f->bucket_count - 1)];
	while (*pp != p)
		pp = &(*pp)->hash_next;
	*pp = p->hash_next;
	list_unlink(f, p);
	pending_close_socket(f, p);
	f->stats.pending--;
	free(p->clients);
	free(p);
}

/* Hands the result to the callback and frees p. */
static void pending_finish(struct forwarder *f, struct pending *p, const struct upstream_msg *um)
{
	/* Unlink first: the callback may submit new questions. */
	struct pending **pp = &f->buckets[p->hash & (f->bucket_count - 1)];
	while (*pp != p)
		pp = &(*pp)->hash_next;
	*pp = p->hash_next;
	p->hash_next = NULL;
	list_unlink(f, p);
	pending_close_socket(f, p);
	f->stats.pending--;
	if (um)
		f->stats.answers++;
	else
		f->stats.failures++;
	f->cb(f->userdata, &p->key, um, p->clients, p->client_count);
	free(p->clients);
	free(p);
}

static void on_readable(struct event_loop *loop, int fd, uint32_t events, void *userdata);

static int addr_to_sockaddr(const struct ip_addr *a, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(53);
		sin->sin_addr = a->addr.in;
		*len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(53);
		sin6->sin6_addr = a->addr.in6;
		*len = sizeof(*sin6);
	}
	return 0;
}

/* Sends the current attempt; on a local error moves on to the next
 * upstream. Returns 0 if an attempt is in flight, -EIO if none is left. */
static int pending_send(struct forwarder *f, struct pending *p)
{
	for (; p->attempt < p->attempts_max; p->attempt++) {
		const struct ip_addr *up = &p->set.addrs[p->attempt % p->set.count];
		struct sockaddr_storage ss;
		socklen_t ss_len;
		uint8_t query[DNS_HEADER_SIZE + DNS_WIRE_NAME_MAX + 4 + 11];

		pending_close_socket(f, p);
		addr_to_sockaddr(up, &ss, &ss_len);
		int fd = socket(up->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			log_warn_errno(-errno, "upstream socket");
			continue;
		}
		if (connect(fd, (struct sockaddr *)&ss, ss_len) < 0) {
			char buf[INET6_ADDRSTRLEN];
			log_debug("upstream connect failed upstream=%s: %s",
				  ip_addr_format(up, buf), strerror(errno));
			close(fd);
			continue;
		}
		p->fd = fd;
		if (event_loop_add_fd(f->loop, fd, EPOLLIN, on_readable, p, &p->watch) < 0) {
			close(fd);
			p->fd = -1;
			continue;
		}
		p->id = random_id(f);
		size_t len = upstream_msg_query(p->id, p->qname, p->key.qname_len, p->key.qtype,
						p->key.qclass, query);
		f->stats.attempts++;
		p->sent_us = now_us();
		if (send(fd, query, len, 0) < 0) {
			char buf[INET6_ADDRSTRLEN];
			log_debug("upstream send failed upstream=%s: %s", ip_addr_format(up, buf),
				  strerror(errno));
			continue;
		}
		p->deadline_ms = now_ms() + f->timeout_ms;
		list_unlink(f, p);
		list_append(f, p);
		return 0;
	}
	return -EIO;
}

static void pending_next_attempt(struct forwarder *f, struct pending *p)
{
	p->attempt++;
	if (pending_send(f, p) < 0)
		pending_finish(f, p, NULL);
}

static void on_readable(struct event_loop *loop, int fd, uint32_t events, void *userdata)
{
	struct pending *p = userdata;
	struct forwarder *f = p->f;
	uint8_t reply[DNS_TCP_MSG_MAX];
	uint8_t canon[DNS_TCP_MSG_MAX];

	for (;;) {
		ssize_t n = recv(fd, reply, sizeof(reply), 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			/* ICMP port unreachable and the like: next upstream */
			pending_next_attempt(f, p);
			return;
		}
		struct upstream_msg um;
		if (upstream_msg_canonicalize(reply, (size_t)n, p->id, p->qname, p->key.qname_len,
					      p->key.qtype, p->key.qclass, canon, &um) < 0)
			continue; /* not our answer: keep waiting */
		uint64_t latency = now_us() - p->sent_us;
		f->stats.latency_count++;
		f->stats.latency_sum_us += latency;
		if (latency > f->stats.latency_max_us)
			f->stats.latency_max_us = latency;
		if (um.rcode == DNS_RCODE_SERVFAIL || um.rcode == DNS_RCODE_REFUSED ||
		    um.rcode == DNS_RCODE_NOTIMP) {
			pending_next_attempt(f, p);
			return;
		}
		pending_finish(f, p, &um);
		return;
	}
}

static void on_sweep(struct event_loop *loop, void *userdata)
{
	struct forwarder *f = userdata;
	uint64_t now = now_ms();
	while (f->head && f->head->deadline_ms <= now) {
		struct pending *p = f->head;
		f->stats.timeouts++;
		list_unlink(f, p);
		pending_next_attempt(f, p);
	}
}

int forwarder_new(struct event_loop *loop, unsigned timeout_ms, forward_done_cb cb, void *userdata,
		  struct forwarder **ret)
{
	struct forwarder *f = xcalloc(1, sizeof(*f));
	f->loop = loop;
	f->timeout_ms = timeout_ms;
	f->cb = cb;
	f->userdata = userdata;
	f->bucket_count = 1024;
	f->buckets = xcalloc(f->bucket_count, sizeof(*f->buckets));
	if (getrandom(&f->rng, sizeof(f->rng), 0) != sizeof(f->rng) || f->rng == 0)
		f->rng = now_us() | 1;
	int r =
	    event_loop_add_timer(loop, FORWARD_SWEEP_MS, FORWARD_SWEEP_MS, on_sweep, f, &f->sweep);
	if (r < 0) {
		free(f->buckets);
		free(f);
		return r;
	}
	*ret = f;
	return 0;
}

void forwarder_free(struct forwarder *f)
{
	if (!f)
		return;
	while (f->head)
		pending_free(f, f->head);
	/* pending not on the list (between attempts) cannot exist outside a
	 * callback; the buckets are empty now */
	if (f->sweep)
		event_loop_remove(f->loop, f->sweep);
	free(f->buckets);
	free(f);
}

int forwarder_submit(struct forwarder *f, const struct upstream_set *set,
		     const struct forward_client *client)
{
	if (set->count == 0)
		return -ENOENT;
	struct cache_key key = {
	    .set_hash = set->hash,
	    .qtype = client->q.qtype,
	    .qclass = client->q.qclass,
	    .qname_len = client->q.qname_len,
	    .qname = client->q.qname,
	};
	uint32_t hash = pending_hash(&key);
	struct pending *p = pending_find(f, &key, hash);
	if (p) {
		if (p->client_count >= FORWARD_WAITERS_MAX)
			return -EBUSY;
		p->clients = xrealloc(p->clients, (p->client_count + 1) * sizeof(*p->clients));
		p->clients[p->client_count++] = *client;
		f->stats.joined++;
		return 0;
	}
	if (f->stats.pending >= FORWARD_PENDING_MAX)
		return -EBUSY;
	p = xcalloc(1, sizeof(*p));
	p->f = f;
	p->fd = -1;
	p->set = *set;
	memcpy(p->qname, client->q.qname, client->q.qname_len);
	p->key = key;
	p->key.qname = p->qname;
	p->hash = hash;
	/* each upstream once; a lone upstream gets one retransmission */
	p->attempts_max = set->count == 1 ? 2 : (unsigned)set->count;
	p->clients = xmalloc(sizeof(*p->clients));
	p->clients[0] = *client;
	p->client_count = 1;
	p->hash_next = f->buckets[hash & (f->bucket_count - 1)];
	f->buckets[hash & (f->bucket_count - 1)] = p;
	list_append(f, p);
	f->stats.pending++;
	f->stats.queries++;
	if (pending_send(f, p) < 0) {
		pending_free(f, p);
		f->stats.failures++;
		return -EIO;
	}
	return 0;
}

void forwarder_get_stats(const struct forwarder *f, struct forward_stats *ret)
{
	*ret = f->stats;
}
