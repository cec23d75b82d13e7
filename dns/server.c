/* One query in, at most one reply out: the path every UDP datagram and TCP
 * message takes. Parse (wire.c), check the source belongs to the VNet of
 * the listener, answer locally (resolve.c), else from the cache, else hand
 * it to the forwarder and reply when it is done.
 *
 * The local and cache paths allocate nothing and make no syscalls: the
 * reply is built straight into the caller's buffer. */
#include <string.h>

#include "dnsd.h"
#include "listeners.h"
#include "log.h"
#include "resolve.h"
#include "xalloc.h"

static void count_reply(struct dnsd *d, const uint8_t *reply, size_t len, int ext_rcode)
{
	if (len < DNS_HEADER_SIZE)
		return;
	uint16_t flags = dns_get16(reply + 2);
	int rcode = ext_rcode ? ext_rcode : DNS_RCODE(flags);
	if (rcode < DNS_RCODE_MAX)
		d->counters.rcodes[rcode]++;
	if (flags & DNS_FLAG_TC)
		d->counters.truncated++;
}

static size_t error_reply(struct dnsd *d, const struct dns_query *q, int rcode, uint8_t *out,
			  size_t cap)
{
	struct dns_builder b;
	bool badvers = rcode == DNS_RCODE_BADVERS;
	dns_builder_start_reply(&b, out, cap, q, 0, badvers ? 0 : rcode);
	if (q->has_edns)
		dns_builder_add_opt(&b, badvers ? DNS_RCODE_BADVERS >> 4 : 0);
	size_t len = dns_builder_finish(&b);
	count_reply(d, out, len, badvers ? DNS_RCODE_BADVERS : 0);
	return len;
}

static bool source_allowed(const struct view *v, const struct sockaddr *src)
{
	struct ip_addr a = {.family = src->sa_family};
	if (src->sa_family == AF_INET)
		a.addr.in = ((const struct sockaddr_in *)src)->sin_addr;
	else if (src->sa_family == AF_INET6)
		a.addr.in6 = ((const struct sockaddr_in6 *)src)->sin6_addr;
	else
		return false;
	for (size_t i = 0; i < v->info.subnet_count; i++)
		if (ip_prefix_contains(&v->info.subnets[i], &a))
			return true;
	return false;
}

const struct upstream_set *server_view_upstreams(struct dnsd *d, struct view *v)
{
	struct view_core *core = v->core;
	if (core && core->upstreams.count > 0)
		return &core->upstreams;
	return &d->host_upstreams;
}

size_t server_handle_query(struct dnsd *d, struct listener *l, const struct sockaddr *src,
			   socklen_t src_len, const uint8_t *msg, size_t len, uint8_t *out,
			   size_t cap, uint64_t tcp_conn_id)
{
	struct dns_query q;
	struct view *v = l->view;

	d->counters.queries++;
	int r = dns_query_parse(msg, len, &q);
	if (r == DNS_PARSE_DROP) {
		d->counters.dropped++;
		return 0;
	}
	if (r > 0)
		return error_reply(d, &q, r, out, cap);
	if (!source_allowed(v, src)) {
		d->counters.refused_source++;
		return error_reply(d, &q, DNS_RCODE_REFUSED, out, cap);
	}
	/* Only the Internet class; no zone transfers (nothing to transfer
	 * and the data is per-VNet). */
	if ((q.qclass != DNS_CLASS_IN && q.qclass != DNS_CLASS_ANY) || q.qtype == DNS_TYPE_AXFR ||
	    q.qtype == DNS_TYPE_IXFR)
		return error_reply(d, &q, DNS_RCODE_REFUSED, out, cap);

	size_t limit = tcp_conn_id ? cap : MIN(cap, dns_query_udp_limit(&q));
	size_t opt = q.has_edns ? 11 : 0;
	struct dns_builder b;
	dns_builder_start_reply(&b, out, limit - opt, &q, 0, DNS_RCODE_NOERROR);
	if (resolve_local(&d->model.table, &v->resolve, &q, &b) == RESOLVE_ANSWERED) {
		d->counters.local++;
		b.cap = limit;
		if (opt)
			dns_builder_add_opt(&b, 0);
		size_t n = dns_builder_finish(&b);
		count_reply(d, out, n, 0);
		return n;
	}

	const struct upstream_set *set = server_view_upstreams(d, v);
	struct cache_key key = {
	    .set_hash = set->hash,
	    .qtype = q.qtype,
	    .qclass = q.qclass,
	    .qname_len = q.qname_len,
	    .qname = q.qname,
	};
	uint32_t elapsed;
	const struct upstream_msg *um = cache_lookup(d->cache, &key, now_ms(), &elapsed);
	if (um) {
		d->counters.cached++;
		size_t n = upstream_msg_render(um, elapsed, &q, out, limit);
		count_reply(d, out, n, 0);
		return n;
	}

	struct forward_client client = {
	    .q = q,
	    .listener_id = l->id,
	    .tcp_conn_id = tcp_conn_id,
	    .addr_len = src_len,
	};
	memcpy(&client.addr, src, MIN((size_t)src_len, sizeof(client.addr)));
	r = forwarder_submit(d->fwd, set, &client);
	if (r < 0) {
		if (r != -ENOENT)
			log_debug("cannot forward: %s", strerror(-r));
		return error_reply(d, &q, DNS_RCODE_SERVFAIL, out, cap);
	}
	d->counters.forwarded++;
	return 0;
}

void server_forward_done(void *userdata, const struct cache_key *key, const struct upstream_msg *um,
			 const struct forward_client *clients, size_t client_count)
{
	struct dnsd *d = userdata;
	static uint8_t out[DNS_TCP_MSG_MAX];

	if (um)
		cache_insert(d->cache, key, um, now_ms());
	for (size_t i = 0; i < client_count; i++) {
		const struct forward_client *c = &clients[i];
		struct listener *l = listener_find(d, c->listener_id);
		if (!l)
			continue; /* its VNet went away meanwhile */
		size_t limit = c->tcp_conn_id ? sizeof(out) : dns_query_udp_limit(&c->q);
		size_t n;
		if (um)
			n = upstream_msg_render(um, 0, &c->q, out, limit);
		else
			n = error_reply(d, &c->q, DNS_RCODE_SERVFAIL, out, limit);
		if (um)
			count_reply(d, out, n, 0);
		if (c->tcp_conn_id)
			server_tcp_send(d, c->tcp_conn_id, out, n);
		else
			server_udp_send(l, (const struct sockaddr *)&c->addr, c->addr_len, out, n);
	}
}

/* --- model hooks: views come and go --- */

static void update_upstreams(struct dnsd *d, struct view *v)
{
	struct view_core *core = v->core;
	core->upstreams.count = MIN(v->info.upstream_count, (size_t)UPSTREAM_SET_MAX);
	for (size_t i = 0; i < core->upstreams.count; i++)
		core->upstreams.addrs[i] = v->info.upstreams[i];
	upstream_set_update_hash(&core->upstreams);
}

static void on_view_added(struct model *m, struct view *v, void *userdata)
{
	struct dnsd *d = userdata;
	v->core = xcalloc(1, sizeof(struct view_core));
	update_upstreams(d, v);
	listeners_sync(d, v);
	log_info("vnet added vnet=%s domain=%s", v->info.name, v->info.domain);
}

static void on_view_changed(struct model *m, struct view *v, const struct vnet_info *old,
			    void *userdata)
{
	struct dnsd *d = userdata;
	update_upstreams(d, v);
	listeners_sync(d, v);
	log_info("vnet changed vnet=%s domain=%s", v->info.name, v->info.domain);
}

static void on_view_removed(struct model *m, struct view *v, void *userdata)
{
	struct dnsd *d = userdata;
	listeners_close_view(d, v);
	free(v->core);
	v->core = NULL;
	log_info("vnet removed vnet=%s", v->info.name);
}

const struct model_hooks server_model_hooks = {
    .view_added = on_view_added,
    .view_changed = on_view_changed,
    .view_removed = on_view_removed,
};
