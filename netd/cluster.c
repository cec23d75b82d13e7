/* Cluster membership (see cluster.h): registration of this host on a
 * lease, and the view of the others.
 *
 * Registration, a small state machine driven by etcd replies and one
 * timer:
 *   resume  cluster.json names the lease of a previous run: put our host
 *           key on it if the key still carries it (a restart within the
 *           TTL keeps everything);
 *   grant   otherwise a new lease (CLUSTER_LEASE_TTL_S);
 *   claim   put our host key on it if the key is absent, or still carries
 *           our previous lease (lost by us, not yet expired in etcd); a key
 *           on any other lease is another netd using our name: refused,
 *           tried again later (it may be a stale lease about to expire);
 *   kept    keep-alive; a lost lease goes back to grant.
 * The view: one range over CLUSTER_PREFIX, then a watch from the revision
 * after it; compaction starts over with a range. Only hosts/ keys are
 * interpreted for now. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cluster.h"
#include "etcd-client.h"
#include "log.h"
#include "name.h"
#include "state-file.h"
#include "xalloc.h"

#define CLUSTER_HOSTS_KEY  CLUSTER_PREFIX "hosts/"
#define CLUSTER_STATE_FILE "cluster.json"
/* Pause before claiming a name another lease holds again: that lease may
 * be a stale one of ours (state lost) and expires within its TTL. */
#define CLUSTER_NAME_TAKEN_RETRY_MS 5000

struct cluster_host {
	char *name;
	char *underlay;
	int64_t lease;
};

enum cluster_reg_state {
	REG_IDLE, /* waiting for the timer */
	REG_BUSY, /* a request in flight */
	REG_KEPT, /* registered, keep-alive running */
};

struct cluster {
	struct event_loop *loop;
	struct etcd_client *etcd;
	char *endpoints;
	char *host_name;
	char *underlay;
	char *version;
	char *host_key;
	char *host_value;
	int run_fd;

	/* Registration. */
	enum cluster_reg_state reg_state;
	int64_t lease_id;    /* the lease our key is on (REG_KEPT) or being claimed with */
	int64_t prev_lease;  /* our previous lease: the key may still carry it */
	int64_t tried_lease; /* a lease a claim failed with: it may have been applied */
	struct etcd_keepalive *keepalive;
	struct event_watch *reg_timer;
	uint64_t registered_at_ms; /* wall clock of the last registration */
	uint64_t registrations;

	/* The view. */
	struct etcd_watch *watch;
	struct event_watch *view_timer;
	bool view_loaded;
	bool watch_connected;
	char *watch_endpoint;
	int64_t revision;
	struct cluster_host *hosts;
	size_t host_count;

	/* The last etcd failure, for status. */
	char last_error[512];
	uint64_t last_error_at_ms;
};

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void note_error(struct cluster *c, const char *what, const struct pw_error *err)
{
	snprintf(c->last_error, sizeof(c->last_error), "%s: %s", what, pw_error_message(err));
	c->last_error_at_ms = wall_ms();
	log_warn("cluster: %s error=\"%s\"", what, pw_error_message(err));
}

int cluster_options_check(const struct cluster_options *opts, struct pw_error *err)
{
	unsigned char addr[16];
	int r;

	if (!opts->host_name || !opts->underlay)
		return pw_error_set(err, -EINVAL,
				    "--cluster-etcd needs --host-name NAME and --underlay ADDR");
	r = name_validate_hostname(opts->host_name, err);
	if (r < 0)
		return pw_error_wrap(err, r, "--host-name");
	if (inet_pton(AF_INET, opts->underlay, addr) != 1 &&
	    inet_pton(AF_INET6, opts->underlay, addr) != 1)
		return pw_error_set(err, -EINVAL,
				    "--underlay '%.64s': expected an IPv4 or IPv6 address",
				    opts->underlay);
	return 0;
}

/* --- The view -------------------------------------------------------------- */

static void hosts_clear(struct cluster *c)
{
	for (size_t i = 0; i < c->host_count; i++) {
		free(c->hosts[i].name);
		free(c->hosts[i].underlay);
	}
	free(c->hosts);
	c->hosts = NULL;
	c->host_count = 0;
}

static struct cluster_host *host_find(struct cluster *c, const char *name)
{
	for (size_t i = 0; i < c->host_count; i++)
		if (strcmp(c->hosts[i].name, name) == 0)
			return &c->hosts[i];
	return NULL;
}

static void host_put(struct cluster *c, const char *name, const struct etcd_kv *kv)
{
	json_auto_t *value = json_loadb(kv->value, kv->value_len, 0, NULL);
	const char *underlay = json_string_value(json_object_get(value, "underlay"));
	struct cluster_host *host;

	if (!underlay) {
		log_warn("cluster: ignoring host %s: no underlay in its record", name);
		return;
	}
	host = host_find(c, name);
	if (!host) {
		c->hosts = xrealloc(c->hosts, (c->host_count + 1) * sizeof(*c->hosts));
		host = &c->hosts[c->host_count++];
		host->name = xstrdup(name);
		host->underlay = NULL;
		log_info("cluster: host joined host=%s underlay=%s", name, underlay);
	}
	free(host->underlay);
	host->underlay = xstrdup(underlay);
	host->lease = kv->lease;
}

static void host_delete(struct cluster *c, const char *name)
{
	struct cluster_host *host = host_find(c, name);

	if (!host)
		return;
	log_info("cluster: host left host=%s", name);
	free(host->name);
	free(host->underlay);
	*host = c->hosts[--c->host_count];
}

/* One key of the view changed (kv NULL: deleted). */
static void view_apply(struct cluster *c, const char *key, const struct etcd_kv *kv)
{
	const char *rest;

	if (strncmp(key, CLUSTER_HOSTS_KEY, strlen(CLUSTER_HOSTS_KEY)) != 0)
		return;
	rest = key + strlen(CLUSTER_HOSTS_KEY);
	if (!*rest || strchr(rest, '/'))
		return;
	if (kv)
		host_put(c, rest, kv);
	else
		host_delete(c, rest);
}

static void view_load(struct cluster *c);

static void on_watch_events(struct etcd_watch *watch, const struct etcd_event *events, size_t count,
			    int64_t revision, void *userdata)
{
	struct cluster *c = userdata;

	for (size_t i = 0; i < count; i++)
		view_apply(c, events[i].kv.key,
			   events[i].type == ETCD_EVENT_PUT ? &events[i].kv : NULL);
	c->revision = revision;
}

static void on_watch_compacted(struct etcd_watch *watch, int64_t compact_revision, void *userdata)
{
	struct cluster *c = userdata;

	log_warn("cluster: watch revision compacted compact_revision=%" PRId64 ": reading again",
		 compact_revision);
	etcd_watch_free(c->watch);
	c->watch = NULL;
	c->watch_connected = false;
	c->view_loaded = false;
	view_load(c);
}

static void on_watch_status(struct etcd_watch *watch, const char *endpoint,
			    const struct pw_error *err, void *userdata)
{
	struct cluster *c = userdata;

	c->watch_connected = !err;
	free(c->watch_endpoint);
	c->watch_endpoint = endpoint ? xstrdup(endpoint) : NULL;
	if (err)
		note_error(c, "watch", err);
	else
		log_info("cluster: watching endpoint=%s", endpoint ? endpoint : "?");
}

static const struct etcd_watch_callbacks watch_callbacks = {
    .events = on_watch_events,
    .compacted = on_watch_compacted,
    .status = on_watch_status,
};

static void on_view_loaded(struct etcd_client *client, int r, const struct pw_error *err,
			   const struct etcd_response *resp, void *userdata)
{
	struct cluster *c = userdata;
	struct pw_error werr = {0};

	if (r == -ECANCELED)
		return;
	if (r < 0) {
		note_error(c, "read cluster state", err);
		event_loop_timer_set(c->loop, c->view_timer, CLUSTER_RETRY_MS, 0);
		return;
	}
	hosts_clear(c);
	for (size_t i = 0; i < resp->kv_count; i++)
		view_apply(c, resp->kvs[i].key, &resp->kvs[i]);
	c->revision = resp->revision;
	c->view_loaded = true;
	r = etcd_watch_start(c->etcd, CLUSTER_PREFIX, true, resp->revision + 1, &watch_callbacks, c,
			     &c->watch, &werr);
	if (r < 0) {
		note_error(c, "watch", &werr);
		c->view_loaded = false;
		event_loop_timer_set(c->loop, c->view_timer, CLUSTER_RETRY_MS, 0);
		return;
	}
	log_info("cluster: view loaded revision=%" PRId64 " hosts=%zu", c->revision, c->host_count);
}

static void view_load(struct cluster *c)
{
	struct pw_error err = {0};

	if (etcd_range(c->etcd, CLUSTER_PREFIX, true, 0, on_view_loaded, c, &err) < 0) {
		note_error(c, "read cluster state", &err);
		event_loop_timer_set(c->loop, c->view_timer, CLUSTER_RETRY_MS, 0);
	}
}

static void on_view_timer(struct event_loop *loop, void *userdata)
{
	view_load(userdata);
}

/* --- Registration ---------------------------------------------------------- */

static void reg_retry(struct cluster *c, uint64_t delay_ms)
{
	c->reg_state = REG_IDLE;
	event_loop_timer_set(c->loop, c->reg_timer, delay_ms, 0);
}

static void lease_save(struct cluster *c)
{
	json_auto_t *state =
	    json_pack("{s:s, s:I}", "host", c->host_name, "lease", (json_int_t)c->lease_id);
	int r = state_write_json(c->run_fd, CLUSTER_STATE_FILE, state);

	if (r < 0)
		log_errno(LOG_LEVEL_WARN, r, "cluster: cannot save the lease in %s",
			  CLUSTER_STATE_FILE);
}

/* The lease a previous run of this netd held for this host name, or 0. */
static int64_t lease_load(struct cluster *c)
{
	json_auto_t *state = NULL;
	const char *host = NULL;
	json_int_t lease = 0;

	if (state_read_json(c->run_fd, CLUSTER_STATE_FILE, &state) < 0)
		return 0;
	if (json_unpack(state, "{s:s, s:I}", "host", &host, "lease", &lease) < 0 ||
	    strcmp(host, c->host_name) != 0)
		return 0;
	return lease;
}

static void on_lease_lost(struct etcd_keepalive *keepalive, int64_t lease_id,
			  const struct pw_error *why, void *userdata)
{
	struct cluster *c = userdata;

	note_error(c, "host lease lost", why);
	c->prev_lease = lease_id;
	c->lease_id = 0;
	/* The handle is freed by the timer (not from its own callback). */
	reg_retry(c, 0);
}

static void reg_registered(struct cluster *c)
{
	struct pw_error err = {0};
	int r;

	etcd_keepalive_free(c->keepalive);
	c->keepalive = NULL;
	r = etcd_lease_keepalive(c->etcd, c->lease_id, CLUSTER_LEASE_TTL_S, on_lease_lost, c,
				 &c->keepalive, &err);
	if (r < 0) {
		note_error(c, "keep-alive", &err);
		c->prev_lease = c->lease_id;
		reg_retry(c, CLUSTER_RETRY_MS);
		return;
	}
	c->reg_state = REG_KEPT;
	c->prev_lease = 0;
	c->tried_lease = 0;
	c->registered_at_ms = wall_ms();
	c->registrations++;
	lease_save(c);
	log_info("cluster: registered host=%s underlay=%s lease=%" PRId64, c->host_name,
		 c->underlay, c->lease_id);
}

static void reg_grant(struct cluster *c);
static void reg_claim(struct cluster *c, int64_t expected_lease);

static void on_resumed(struct etcd_client *client, int r, const struct pw_error *err,
		       const struct etcd_response *resp, void *userdata)
{
	struct cluster *c = userdata;

	if (r == -ECANCELED)
		return;
	if (r == 0 && resp->succeeded) {
		reg_registered(c);
		return;
	}
	/* The lease expired (etcd refuses a put on it) or the key moved on:
	 * a new lease; the key may still carry the old one. */
	if (r < 0)
		log_info("cluster: previous lease not resumed lease=%" PRId64 " error=\"%s\"",
			 c->lease_id, pw_error_message(err));
	c->prev_lease = c->lease_id;
	c->lease_id = 0;
	reg_grant(c);
}

static void reg_resume(struct cluster *c, int64_t lease)
{
	struct pw_error err = {0};
	struct etcd_compare cmp = {.key = c->host_key,
				   .target = ETCD_CMP_LEASE,
				   .result = ETCD_CMP_EQUAL,
				   .number = lease};
	struct etcd_op put = {.type = ETCD_OP_PUT,
			      .key = c->host_key,
			      .value = c->host_value,
			      .value_len = strlen(c->host_value),
			      .lease = lease};

	c->reg_state = REG_BUSY;
	c->lease_id = lease;
	if (etcd_txn(c->etcd, &cmp, 1, &put, 1, NULL, 0, on_resumed, c, &err) < 0) {
		note_error(c, "register", &err);
		reg_retry(c, CLUSTER_RETRY_MS);
	}
}

static void on_claimed(struct etcd_client *client, int r, const struct pw_error *err,
		       const struct etcd_response *resp, void *userdata)
{
	struct cluster *c = userdata;
	const struct etcd_kv *holder;
	int64_t holder_lease;

	if (r == -ECANCELED)
		return;
	if (r < 0) {
		note_error(c, "register", err);
		/* A claim that timed out may have been applied: the key may
		 * now be on this lease, which is ours too. Start over. */
		c->tried_lease = c->lease_id;
		c->lease_id = 0;
		reg_retry(c, CLUSTER_RETRY_MS);
		return;
	}
	if (resp->succeeded) {
		reg_registered(c);
		return;
	}
	holder = resp->response_count == 1 && resp->responses[0].kv_count == 1
		     ? &resp->responses[0].kvs[0]
		     : NULL;
	holder_lease = holder ? holder->lease : 0;
	if (holder && holder_lease &&
	    (holder_lease == c->prev_lease || holder_lease == c->tried_lease)) {
		/* A lease of ours still holds the key: take it over. */
		reg_claim(c, holder_lease);
		return;
	}
	if (!holder) {
		/* Deleted in between: claim again as absent. */
		reg_claim(c, 0);
		return;
	}
	snprintf(c->last_error, sizeof(c->last_error),
		 "register: host name %s is held by another netd (lease %" PRId64 "): %.*s",
		 c->host_name, holder_lease,
		 (int)(holder->value_len > 200 ? 200 : holder->value_len), holder->value);
	c->last_error_at_ms = wall_ms();
	log_error("cluster: %s", c->last_error);
	reg_retry(c, CLUSTER_NAME_TAKEN_RETRY_MS);
}

/* Puts our host key on c->lease_id if it is absent (expected_lease 0) or
 * still on expected_lease. */
static void reg_claim(struct cluster *c, int64_t expected_lease)
{
	struct pw_error err = {0};
	struct etcd_compare cmp = {.key = c->host_key,
				   .target = expected_lease ? ETCD_CMP_LEASE : ETCD_CMP_CREATE,
				   .result = ETCD_CMP_EQUAL,
				   .number = expected_lease};
	struct etcd_op put = {.type = ETCD_OP_PUT,
			      .key = c->host_key,
			      .value = c->host_value,
			      .value_len = strlen(c->host_value),
			      .lease = c->lease_id};
	struct etcd_op get = {.type = ETCD_OP_RANGE, .key = c->host_key};

	c->reg_state = REG_BUSY;
	if (etcd_txn(c->etcd, &cmp, 1, &put, 1, &get, 1, on_claimed, c, &err) < 0) {
		note_error(c, "register", &err);
		reg_retry(c, CLUSTER_RETRY_MS);
	}
}

static void on_granted(struct etcd_client *client, int r, const struct pw_error *err,
		       const struct etcd_response *resp, void *userdata)
{
	struct cluster *c = userdata;

	if (r == -ECANCELED)
		return;
	if (r < 0) {
		note_error(c, "lease grant", err);
		reg_retry(c, CLUSTER_RETRY_MS);
		return;
	}
	c->lease_id = resp->lease_id;
	reg_claim(c, 0);
}

static void reg_grant(struct cluster *c)
{
	struct pw_error err = {0};

	c->reg_state = REG_BUSY;
	if (etcd_lease_grant(c->etcd, CLUSTER_LEASE_TTL_S, on_granted, c, &err) < 0) {
		note_error(c, "lease grant", &err);
		reg_retry(c, CLUSTER_RETRY_MS);
	}
}

static void on_reg_timer(struct event_loop *loop, void *userdata)
{
	struct cluster *c = userdata;

	if (c->reg_state != REG_IDLE)
		return;
	etcd_keepalive_free(c->keepalive);
	c->keepalive = NULL;
	reg_grant(c);
}

/* --- Life ------------------------------------------------------------------ */

static char *host_value_new(const struct cluster_options *opts)
{
	char started[32];
	time_t now = time(NULL);
	struct tm tm;
	json_auto_t *value = NULL;

	strftime(started, sizeof(started), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	value = json_pack("{s:s, s:s, s:s}", "underlay", opts->underlay, "version",
			  opts->version ? opts->version : "", "started", started);
	return json_dumps(value, JSON_COMPACT);
}

int cluster_start(struct event_loop *loop, const struct cluster_options *opts,
		  struct cluster **ret_cluster, struct pw_error *err)
{
	_cleanup_free_ char *run_netd = xasprintf("%s/netd", opts->run_dir);
	struct cluster *c;
	int64_t saved;
	int r;

	r = cluster_options_check(opts, err);
	if (r < 0)
		return r;
	c = xcalloc(1, sizeof(*c));
	c->loop = loop;
	c->run_fd = -EBADF;
	r = etcd_client_new(loop, opts->endpoints, 0, &c->etcd, err);
	if (r < 0)
		goto fail;
	c->endpoints = xstrdup(opts->endpoints);
	c->host_name = xstrdup(opts->host_name);
	c->underlay = xstrdup(opts->underlay);
	c->version = xstrdup(opts->version ? opts->version : "");
	c->host_key = xasprintf(CLUSTER_HOSTS_KEY "%s", opts->host_name);
	c->host_value = host_value_new(opts);
	r = state_dir_open(run_netd, &c->run_fd);
	if (r < 0) {
		pw_error_set(err, r, "cannot open %s: %s", run_netd, strerror(-r));
		goto fail;
	}
	r = event_loop_add_timer(loop, 0, 0, on_reg_timer, c, &c->reg_timer);
	if (r >= 0)
		r = event_loop_add_timer(loop, 0, 0, on_view_timer, c, &c->view_timer);
	if (r < 0) {
		pw_error_set(err, r, "cannot create a timer: %s", strerror(-r));
		goto fail;
	}
	/* Made now (a timer takes an fd), armed when needed. */
	event_loop_timer_disarm(loop, c->reg_timer);
	event_loop_timer_disarm(loop, c->view_timer);
	saved = lease_load(c);
	if (saved)
		reg_resume(c, saved);
	else
		reg_grant(c);
	view_load(c);
	*ret_cluster = c;
	return 0;
fail:
	cluster_free(c);
	return r;
}

void cluster_free(struct cluster *c)
{
	if (!c)
		return;
	etcd_keepalive_free(c->keepalive);
	etcd_watch_free(c->watch);
	/* Pending requests complete with -ECANCELED and touch nothing. */
	etcd_client_free(c->etcd);
	if (c->reg_timer)
		event_loop_remove(c->loop, c->reg_timer);
	if (c->view_timer)
		event_loop_remove(c->loop, c->view_timer);
	if (c->run_fd >= 0)
		close(c->run_fd);
	hosts_clear(c);
	free(c->watch_endpoint);
	free(c->endpoints);
	free(c->host_name);
	free(c->underlay);
	free(c->version);
	free(c->host_key);
	free(c->host_value);
	free(c);
}

/* --- Status ---------------------------------------------------------------- */

json_t *cluster_status_json(const struct cluster *c)
{
	json_t *hosts = json_array();
	json_t *etcd, *status;
	uint64_t now = wall_ms();

	for (size_t i = 0; i < c->host_count; i++) {
		const struct cluster_host *h = &c->hosts[i];

		json_array_append_new(hosts,
				      json_pack("{s:s, s:s, s:I, s:b}", "name", h->name, "underlay",
						h->underlay, "lease", (json_int_t)h->lease, "self",
						strcmp(h->name, c->host_name) == 0));
	}
	etcd = json_pack("{s:s, s:s, s:b, s:b, s:s?}", "endpoints", c->endpoints, "endpoint",
			 etcd_client_endpoint(c->etcd), "watching", c->watch_connected, "healthy",
			 c->watch_connected && c->reg_state == REG_KEPT, "watch_endpoint",
			 c->watch_endpoint);
	if (c->last_error_at_ms) {
		json_object_set_new(etcd, "last_error", json_string(c->last_error));
		json_object_set_new(etcd, "last_error_age_s",
				    json_integer((json_int_t)((now - c->last_error_at_ms) / 1000)));
	}
	status =
	    json_pack("{s:s, s:s, s:b, s:I, s:I, s:I, s:o, s:I, s:b, s:o}", "host", c->host_name,
		      "underlay", c->underlay, "registered", c->reg_state == REG_KEPT, "lease",
		      (json_int_t)(c->reg_state == REG_KEPT ? c->lease_id : 0), "lease_ttl_s",
		      (json_int_t)CLUSTER_LEASE_TTL_S, "registrations",
		      (json_int_t)c->registrations, "etcd", etcd, "revision",
		      (json_int_t)c->revision, "view_loaded", c->view_loaded, "hosts", hosts);
	if (c->reg_state == REG_KEPT)
		json_object_set_new(status, "registered_for_s",
				    json_integer((json_int_t)((now - c->registered_at_ms) / 1000)));
	return status;
}
