/* The stats socket (RUN_DIR/dnsd.sock): one read-only RPC method,
 * "stats.get", returning the counters `podwire stats dns` shows. The
 * counters themselves are plain integers bumped on the query path. */
#include <stdio.h>
#include <string.h>

#include "dnsd.h"
#include "feed.h"
#include "listeners.h"

static const char *const rcode_names[DNS_RCODE_MAX] = {
    [DNS_RCODE_NOERROR] = "NOERROR",   [DNS_RCODE_FORMERR] = "FORMERR",
    [DNS_RCODE_SERVFAIL] = "SERVFAIL", [DNS_RCODE_NXDOMAIN] = "NXDOMAIN",
    [DNS_RCODE_NOTIMP] = "NOTIMP",     [DNS_RCODE_REFUSED] = "REFUSED",
    [DNS_RCODE_BADVERS] = "BADVERS",
};

json_t *stats_to_json(struct dnsd *d)
{
	struct cache_stats cs;
	struct forward_stats fs;
	cache_get_stats(d->cache, &cs);
	forwarder_get_stats(d->fwd, &fs);

	json_t *rcodes = json_object();
	for (int i = 0; i < DNS_RCODE_MAX; i++) {
		if (!d->counters.rcodes[i] && !rcode_names[i])
			continue;
		char name[16];
		const char *key = rcode_names[i];
		if (!key) {
			snprintf(name, sizeof(name), "RCODE%d", i);
			key = name;
		}
		json_object_set_new(rcodes, key, json_integer((json_int_t)d->counters.rcodes[i]));
	}
	unsigned listeners = 0;
	for (struct listener *l = d->listeners; l; l = l->next)
		listeners++;
	uint64_t avg = fs.latency_count ? fs.latency_sum_us / fs.latency_count : 0;

	return json_pack(
	    "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o,"
	    " s:{s:I, s:I, s:I, s:I, s:I, s:I},"
	    " s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I},"
	    " s:{s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I},"
	    " s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I}}",
	    "queries", (json_int_t)d->counters.queries, "udp", (json_int_t)d->counters.queries_udp,
	    "tcp", (json_int_t)d->counters.queries_tcp, "local", (json_int_t)d->counters.local,
	    "cached", (json_int_t)d->counters.cached, "forwarded",
	    (json_int_t)d->counters.forwarded, "dropped", (json_int_t)d->counters.dropped,
	    "truncated", (json_int_t)d->counters.truncated, "refused_source",
	    (json_int_t)d->counters.refused_source, "rcodes", rcodes, "cache", "hits",
	    (json_int_t)cs.hits, "misses", (json_int_t)cs.misses, "entries", (json_int_t)cs.entries,
	    "bytes", (json_int_t)cs.bytes, "evictions", (json_int_t)cs.evictions, "expired",
	    (json_int_t)cs.expired, "upstream", "queries", (json_int_t)fs.queries, "joined",
	    (json_int_t)fs.joined, "attempts", (json_int_t)fs.attempts, "timeouts",
	    (json_int_t)fs.timeouts, "failures", (json_int_t)fs.failures, "answers",
	    (json_int_t)fs.answers, "latency_avg_us", (json_int_t)avg, "latency_max_us",
	    (json_int_t)fs.latency_max_us, "pending", (json_int_t)fs.pending, "state",
	    "netd_connected", feed_connected(d->feed), "netd_reconnects",
	    (json_int_t)feed_reconnects(d->feed), "vnets", (json_int_t)d->model.views.count,
	    "groups", (json_int_t)d->model.groups.count, "zones", (json_int_t)d->model.zones.count,
	    "records", (json_int_t)d->model.records.count, "listeners", (json_int_t)listeners,
	    "uptime_s", (json_int_t)((now_ms() - d->start_ms) / 1000), "tcp_connections", "open",
	    (json_int_t)d->tcp_conn_count, "evicted_client",
	    (json_int_t)d->counters.tcp_evicted_client, "evicted_listener",
	    (json_int_t)d->counters.tcp_evicted_listener, "evicted_total",
	    (json_int_t)d->counters.tcp_evicted_total, "query_deadline",
	    (json_int_t)d->counters.tcp_query_deadline, "idle_timeout",
	    (json_int_t)d->counters.tcp_idle_timeout, "accept_errors",
	    (json_int_t)d->counters.tcp_accept_errors);
}

static int method_stats_get(struct rpc_request *req, void *userdata, json_t **ret_result,
			    struct pw_error *err)
{
	if (json_object_size(req->params) != 0)
		return pw_error_set(err, -EINVAL, "stats.get takes no parameters");
	*ret_result = stats_to_json(userdata);
	return 0;
}

static const struct rpc_method stats_methods[] = {
    {"stats.get", method_stats_get, false},
};

int stats_server_start(struct dnsd *d, struct pw_error *err)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/dnsd.sock", d->opts.run_dir);
	int r = rpc_server_new(d->loop, path, stats_methods, ARRAY_SIZE(stats_methods), d, &d->rpc,
			       err);
	if (r < 0)
		return r;
	/* As netd and volumed: a socket the admin group cannot reach is a
	 * misconfiguration to report, not to run with. */
	if (d->opts.admin_gid_set) {
		r = rpc_server_set_admin_gid(d->rpc, d->opts.admin_gid);
		if (r < 0)
			return pw_error_set(err, r, "cannot give %s to group %u: %s", path,
					    (unsigned)d->opts.admin_gid, strerror(-r));
	}
	return 0;
}
