/* The netd event stream client: see feed.h. JSON is read loosely (netd may
 * add members dnsd does not use) but every member dnsd uses is type
 * checked; an object that does not parse is logged and skipped, it never
 * leaves half an object in the model. */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "feed.h"
#include "json-util.h"
#include "line-buffer.h"
#include "log.h"
#include "rdata.h"
#include "snapshot-scan.h"
#include "xalloc.h"

/* The snapshot's arrays in the order they are applied (VNets and zones
 * before what refers to them). */
enum snapshot_kind { SNAP_VNETS, SNAP_ZONES, SNAP_GROUPS, SNAP_RECORDS, SNAP_KINDS };
static const char *const snapshot_keys[SNAP_KINDS] = {"vnets", "zones", "groups", "records"};

/* A snapshot being applied in slices: its line, the walk over it, and the
 * objects that differ from the model, kept aside for the swap. */
struct snapshot_job {
	char *text;
	size_t len;
	struct snapshot_scanner scanner;
	bool begun; /* model_snapshot_begin was called */
	uint64_t started_us;
	json_t *changed[SNAP_KINDS]; /* arrays of objects to apply at the end */
	size_t changed_count;
	size_t applied_early; /* changes over FEED_SWAP_MAX, applied as they came */
};

struct feed {
	struct event_loop *loop;
	struct model *model;
	char *socket_path;
	int fd;
	struct event_watch *watch;
	struct event_watch *retry;
	struct event_watch *work; /* a 0 ms timer: the next slice */
	struct line_buffer lb;
	struct snapshot_job *job; /* a snapshot being applied */
	bool reading_paused;	  /* the socket is not read while work waits */
	bool subscribed;	  /* snapshot received */
	bool connected;
	bool trim_pending; /* a snapshot was applied: trim once its JSON is freed */
	uint64_t next_seq;
	unsigned backoff_ms;
	uint64_t reconnects;
};

/* --- parsing --- */

static int copy_string(char *dst, size_t size, const char *src, const char *what,
		       struct pw_error *err)
{
	size_t len = strlen(src);
	if (len >= size)
		return pw_error_set(err, -EINVAL, "%s '%.40s...' is too long", what, src);
	memcpy(dst, src, len + 1);
	return 0;
}

static int parse_addr_array(json_t *arr, struct ip_addr *out, size_t max, size_t *ret_count,
			    const char *what, struct pw_error *err)
{
	size_t i;
	json_t *v;
	*ret_count = 0;
	if (!arr)
		return 0;
	if (!json_is_array(arr))
		return pw_error_set(err, -EINVAL, "%s is not an array", what);
	json_array_foreach(arr, i, v)
	{
		if (*ret_count >= max)
			break; /* more than we keep: the first ones serve */
		if (!json_is_string(v) ||
		    ip_addr_parse(json_string_value(v), AF_UNSPEC, &out[*ret_count]) < 0)
			return pw_error_set(err, -EINVAL, "%s: bad address", what);
		(*ret_count)++;
	}
	return 0;
}

int feed_parse_vnet(json_t *o, struct vnet_info *ret, struct pw_error *err)
{
	const char *name;
	json_t *domain_json = NULL, *subnets = NULL, *gateways = NULL, *servers = NULL,
	       *peers = NULL;
	int r;

	memset(ret, 0, sizeof(*ret));
	r = json_unpack_err(o, err, "vnet", 0, "{s:s, s?o, s?o, s?o, s?o, s?o}", "name", &name,
			    "domain", &domain_json, "subnets", &subnets, "gateways", &gateways,
			    "dns_servers", &servers, "peers", &peers);
	if (r < 0)
		return r;
	r = copy_string(ret->name, sizeof(ret->name), name, "vnet name", err);
	if (r < 0)
		return r;
	const char *domain = json_string_value(domain_json);
	if (domain && *domain)
		r = copy_string(ret->domain, sizeof(ret->domain), domain, "domain", err);
	else
		snprintf(ret->domain, sizeof(ret->domain), "%s.internal", name);
	if (r < 0)
		return r;
	if (subnets) {
		size_t i;
		json_t *v;
		if (!json_is_array(subnets))
			return pw_error_set(err, -EINVAL, "vnet %s: subnets is not an array", name);
		json_array_foreach(subnets, i, v)
		{
			if (ret->subnet_count >= VIEW_SUBNETS_MAX)
				break;
			if (!json_is_string(v) ||
			    ip_prefix_parse(json_string_value(v), AF_UNSPEC,
					    &ret->subnets[ret->subnet_count]) < 0)
				return pw_error_set(err, -EINVAL, "vnet %s: bad subnet", name);
			ret->subnet_count++;
		}
	}
	r = parse_addr_array(gateways, ret->gateways, VIEW_SUBNETS_MAX, &ret->gateway_count,
			     "gateways", err);
	if (r < 0)
		return r;
	if (peers) {
		size_t i;
		json_t *v;
		if (!json_is_array(peers))
			return pw_error_set(err, -EINVAL, "vnet %s: peers is not an array", name);
		json_array_foreach(peers, i, v)
		{
			if (ret->peer_count >= VIEW_PEERS_MAX)
				break;
			r = copy_string(ret->peers[ret->peer_count], sizeof(ret->peers[0]),
					json_string_value(v) ?: "", "peer", err);
			if (r < 0)
				return r;
			ret->peer_count++;
		}
	}
	return parse_addr_array(servers, ret->upstreams, VIEW_UPSTREAMS_MAX, &ret->upstream_count,
				"dns_servers", err);
}

int feed_parse_group(json_t *o, struct group_info *ret, struct pw_error *err)
{
	const char *id;
	json_t *hostname = NULL, *aliases = NULL, *attachments = NULL;
	size_t i;
	json_t *v;
	int r;

	memset(ret, 0, sizeof(*ret));
	r = json_unpack_err(o, err, "group", 0, "{s:s, s?o, s?o, s?o}", "id", &id, "hostname",
			    &hostname, "aliases", &aliases, "attachments", &attachments);
	if (r < 0)
		return r;
	r = copy_string(ret->id, sizeof(ret->id), id, "group id", err);
	if (r < 0)
		return r;
	if (json_is_string(hostname) &&
	    copy_string(ret->hostname, sizeof(ret->hostname), json_string_value(hostname),
			"hostname", NULL) < 0)
		ret->hostname[0] = 0; /* not a DNS label: not a name */
	if (aliases && json_is_array(aliases) && json_array_size(aliases) > 0) {
		ret->aliases = xcalloc(MIN(json_array_size(aliases), (size_t)GROUP_ALIASES_MAX),
				       sizeof(*ret->aliases));
		json_array_foreach(aliases, i, v)
		{
			if (ret->alias_count >= GROUP_ALIASES_MAX || !json_is_string(v))
				break;
			if (copy_string(ret->aliases[ret->alias_count], DNS_LABEL_MAX + 1,
					json_string_value(v), "alias", NULL) == 0)
				ret->alias_count++;
		}
	}
	if (attachments) {
		if (!json_is_array(attachments)) {
			group_info_done(ret);
			return pw_error_set(err, -EINVAL, "group %s: attachments is not an array",
					    id);
		}
		ret->attachments =
		    xcalloc(json_array_size(attachments) + 1, sizeof(*ret->attachments));
		json_array_foreach(attachments, i, v)
		{
			struct attachment_info *a = &ret->attachments[ret->attachment_count];
			const char *vnet;
			json_t *addresses = NULL;
			r = json_unpack_err(v, err, "attachment", 0, "{s:s, s?o}", "vnet", &vnet,
					    "addresses", &addresses);
			if (r < 0 || copy_string(a->vnet, sizeof(a->vnet), vnet, "vnet", err) < 0 ||
			    parse_addr_array(addresses, a->addresses, VIEW_SUBNETS_MAX,
					     &a->address_count, "addresses", err) < 0) {
				group_info_done(ret);
				return -EINVAL;
			}
			ret->attachment_count++;
		}
	}
	return 0;
}

int feed_parse_record(json_t *o, struct record_info *ret, struct pw_error *err)
{
	const char *vnet = NULL, *zone = NULL, *name, *type, *value;
	json_int_t ttl = 300;
	int r;

	memset(ret, 0, sizeof(*ret));
	r = json_unpack_err(o, err, "record", 0, "{s?s, s?s, s:s, s:s, s:s, s?I}", "vnet", &vnet,
			    "zone", &zone, "name", &name, "type", &type, "value", &value, "ttl",
			    &ttl);
	if (r < 0)
		return r;
	if (!!vnet == !!zone)
		return pw_error_set(err, -EINVAL, "record: exactly one of vnet and zone");
	if (vnet && (r = copy_string(ret->vnet, sizeof(ret->vnet), vnet, "vnet", err)) < 0)
		return r;
	if (zone && (r = copy_string(ret->zone, sizeof(ret->zone), zone, "zone", err)) < 0)
		return r;
	if ((r = copy_string(ret->name, sizeof(ret->name), name, "name", err)) < 0)
		return r;
	ret->type = dns_type_from_text(type);
	if (ret->type == 0)
		return pw_error_set(err, -EINVAL, "record: unsupported type '%.16s'", type);
	if (ttl < 0 || ttl > DNS_RECORD_TTL_MAX)
		return pw_error_set(err, -EINVAL, "record: bad ttl");
	ret->ttl = (uint32_t)ttl;
	ret->value = xstrdup(value);
	return 0;
}

int feed_parse_zone(json_t *o, struct zone_info *ret, struct pw_error *err)
{
	const char *name;
	json_t *vnets = NULL;
	size_t i;
	json_t *v;
	int r;

	memset(ret, 0, sizeof(*ret));
	r = json_unpack_err(o, err, "zone", 0, "{s:s, s?o}", "name", &name, "vnets", &vnets);
	if (r < 0)
		return r;
	if ((r = copy_string(ret->name, sizeof(ret->name), name, "zone name", err)) < 0)
		return r;
	if (vnets && json_is_array(vnets)) {
		ret->vnets = xcalloc(json_array_size(vnets) + 1, sizeof(*ret->vnets));
		json_array_foreach(vnets, i, v)
		{
			if (ret->vnet_count >= ZONE_VNETS_MAX || !json_is_string(v))
				break;
			if (copy_string(ret->vnets[ret->vnet_count], VNET_NAME_MAX + 1,
					json_string_value(v), "vnet", NULL) == 0)
				ret->vnet_count++;
		}
	}
	return 0;
}

/* Applies every element of array member `key` with fn; bad elements are
 * logged and skipped. */
static void apply_array(struct model *m, json_t *result, const char *key,
			void (*fn)(struct model *m, json_t *o))
{
	json_t *arr = json_object_get(result, key);
	size_t i;
	json_t *v;
	if (!json_is_array(arr))
		return;
	json_array_foreach(arr, i, v) fn(m, v);
}

static void set_vnet(struct model *m, json_t *o)
{
	struct vnet_info info;
	struct pw_error err = {0};
	if (feed_parse_vnet(o, &info, &err) < 0) {
		log_warn("netd sent a bad vnet: %s", pw_error_message(&err));
		return;
	}
	model_vnet_set(m, &info);
}

static void set_group(struct model *m, json_t *o)
{
	struct group_info info;
	struct pw_error err = {0};
	if (feed_parse_group(o, &info, &err) < 0) {
		log_warn("netd sent a bad group: %s", pw_error_message(&err));
		return;
	}
	model_group_set(m, &info);
	group_info_done(&info);
}

static void set_zone(struct model *m, json_t *o)
{
	struct zone_info info;
	struct pw_error err = {0};
	if (feed_parse_zone(o, &info, &err) < 0) {
		log_warn("netd sent a bad zone: %s", pw_error_message(&err));
		return;
	}
	model_zone_set(m, &info);
	zone_info_done(&info);
}

static void set_record(struct model *m, json_t *o)
{
	struct record_info info;
	struct pw_error err = {0};
	if (feed_parse_record(o, &info, &err) < 0) {
		log_warn("netd sent a bad record: %s", pw_error_message(&err));
		return;
	}
	model_record_set(m, &info);
	record_info_done(&info);
}

/* For a snapshot in slices: true if o needs no change (the model has it
 * as it is, now marked seen, or o is bad and logged), false if it must be
 * applied. */
static bool unchanged_vnet(struct model *m, json_t *o)
{
	struct vnet_info info;
	struct pw_error err = {0};
	if (feed_parse_vnet(o, &info, &err) < 0) {
		log_warn("netd sent a bad vnet: %s", pw_error_message(&err));
		return true;
	}
	return model_vnet_unchanged(m, &info);
}

static bool unchanged_group(struct model *m, json_t *o)
{
	struct group_info info;
	struct pw_error err = {0};
	if (feed_parse_group(o, &info, &err) < 0) {
		log_warn("netd sent a bad group: %s", pw_error_message(&err));
		return true;
	}
	bool same = model_group_unchanged(m, &info);
	group_info_done(&info);
	return same;
}

static bool unchanged_zone(struct model *m, json_t *o)
{
	struct zone_info info;
	struct pw_error err = {0};
	if (feed_parse_zone(o, &info, &err) < 0) {
		log_warn("netd sent a bad zone: %s", pw_error_message(&err));
		return true;
	}
	bool same = model_zone_unchanged(m, &info);
	zone_info_done(&info);
	return same;
}

static bool unchanged_record(struct model *m, json_t *o)
{
	struct record_info info;
	struct pw_error err = {0};
	if (feed_parse_record(o, &info, &err) < 0) {
		log_warn("netd sent a bad record: %s", pw_error_message(&err));
		return true;
	}
	bool same = model_record_unchanged(m, &info);
	record_info_done(&info);
	return same;
}

int feed_apply_snapshot(struct model *m, json_t *result, struct pw_error *err)
{
	if (!json_is_object(result))
		return pw_error_set(err, -EINVAL, "snapshot is not an object");
	model_snapshot_begin(m);
	apply_array(m, result, "vnets", set_vnet);
	apply_array(m, result, "zones", set_zone);
	apply_array(m, result, "groups", set_group);
	apply_array(m, result, "records", set_record);
	model_snapshot_end(m);
	return 0;
}

int feed_apply_event(struct model *m, json_t *event, struct pw_error *err)
{
	const char *name;
	json_t *data;
	int r =
	    json_unpack_err(event, err, "event", 0, "{s:s, s:o}", "event", &name, "data", &data);
	if (r < 0)
		return r;
	if (streq(name, "vnet.created") || streq(name, "vnet.updated")) {
		set_vnet(m, data);
	} else if (streq(name, "vnet.deleted")) {
		const char *vnet;
		if (json_unpack_err(data, err, "vnet.deleted", 0, "{s:s}", "name", &vnet) < 0)
			return -EINVAL;
		model_vnet_remove(m, vnet);
	} else if (streq(name, "group.attached") || streq(name, "group.updated")) {
		set_group(m, data);
	} else if (streq(name, "group.detached")) {
		const char *id;
		if (json_unpack_err(data, err, "group.detached", 0, "{s:s}", "id", &id) < 0)
			return -EINVAL;
		model_group_remove(m, id);
	} else if (streq(name, "record.added")) {
		set_record(m, data);
	} else if (streq(name, "record.removed")) {
		struct record_info info;
		if (feed_parse_record(data, &info, err) < 0)
			return -EINVAL;
		model_record_remove(m, &info);
		record_info_done(&info);
	} else if (streq(name, "zone.created") || streq(name, "zone.linked") ||
		   streq(name, "zone.unlinked") || streq(name, "zone.updated")) {
		set_zone(m, data);
	} else if (streq(name, "zone.deleted")) {
		const char *zone;
		if (json_unpack_err(data, err, "zone.deleted", 0, "{s:s}", "name", &zone) < 0)
			return -EINVAL;
		model_zone_remove(m, zone);
	}
	/* other events (ports, peering, ...) do not concern DNS */
	return 0;
}

/* --- snapshots in slices --- */

/* Work done per turn of the event loop before queries get their turn: a
 * resync or a burst of 20,000 events then delays an answer by about this
 * much, not by the whole of it. */
#define FEED_SLICE_US 2000

/* Changed objects kept aside until the swap. A netd restart changes few
 * objects; applying 1,000 (each a few microseconds) at once still keeps the
 * swap to a few ms. Past that (a first snapshot, a restored state) the rest
 * is applied as it comes, in the slices, rather than in one long swap. */
#define FEED_SWAP_MAX 1024

static void (*const snapshot_apply_fns[SNAP_KINDS])(struct model *m, json_t *o) = {
    [SNAP_VNETS] = set_vnet,
    [SNAP_ZONES] = set_zone,
    [SNAP_GROUPS] = set_group,
    [SNAP_RECORDS] = set_record,
};

static bool (*const snapshot_unchanged_fns[SNAP_KINDS])(struct model *m, json_t *o) = {
    [SNAP_VNETS] = unchanged_vnet,
    [SNAP_ZONES] = unchanged_zone,
    [SNAP_GROUPS] = unchanged_group,
    [SNAP_RECORDS] = unchanged_record,
};

static void snapshot_job_free(struct snapshot_job *job)
{
	if (!job)
		return;
	for (unsigned k = 0; k < SNAP_KINDS; k++)
		json_decref(job->changed[k]);
	free(job->text);
	free(job);
}

/* Starts applying the reply line of events.subscribe (a copy of it: the
 * line buffer moves on). The model is not touched before the first step. */
static void snapshot_job_start(struct feed *f, const char *line, size_t len)
{
	struct snapshot_job *job = xcalloc(1, sizeof(*job));
	job->text = xmalloc(len + 1);
	memcpy(job->text, line, len);
	job->text[len] = 0;
	job->len = len;
	snapshot_scanner_init(&job->scanner, job->text, len, snapshot_keys, SNAP_KINDS);
	job->started_us = now_us();
	f->job = job;
}

/* The reply had no result: says why. Returns -EPROTO or -EBADMSG. */
static int snapshot_job_failed(struct snapshot_job *job)
{
	json_auto_t *msg = NULL;
	struct pw_error err = {0};
	if (json_parse_line(job->text, job->len, &msg, &err) < 0)
		return log_warn_errno(-EBADMSG, "netd sent a bad line: %s", pw_error_message(&err));
	json_t *error = json_object_get(msg, "error");
	log_warn("events.subscribe failed: %s",
		 error ? json_string_value(json_object_get(error, "message")) : "no result");
	return -EPROTO;
}

/* Applies snapshot objects until the slice's time is up; after the last
 * one, removes what the snapshot did not name. Returns 1 while more is
 * left, 0 when the snapshot is applied, or a negative errno (the stream
 * must be dropped). */
static int snapshot_job_step(struct feed *f, uint64_t deadline_us)
{
	struct snapshot_job *job = f->job;
	for (unsigned n = 1;; n++) {
		if (n % 4 == 0 && now_us() >= deadline_us)
			return 1;
		unsigned kind;
		size_t off, len;
		int r = snapshot_scanner_next(&job->scanner, &kind, &off, &len);
		if (r < 0)
			return snapshot_job_failed(job);
		if (r == 0)
			break;
		if (!job->begun) {
			model_snapshot_begin(f->model);
			job->begun = true;
		}
		json_error_t jerr;
		json_auto_t *o = json_loadb(job->text + off, len, JSON_REJECT_DUPLICATES, &jerr);
		if (!o) {
			log_warn("netd sent a bad %s element: %s", snapshot_keys[kind], jerr.text);
			continue;
		}
		if (snapshot_unchanged_fns[kind](f->model, o))
			continue;
		if (job->changed_count < FEED_SWAP_MAX) {
			if (!job->changed[kind])
				job->changed[kind] = json_array();
			json_array_append(job->changed[kind], o);
			job->changed_count++;
		} else {
			snapshot_apply_fns[kind](f->model, o);
			job->applied_early++;
		}
	}
	if (!job->scanner.has_result)
		return snapshot_job_failed(job);
	if (!job->begun)
		model_snapshot_begin(f->model);
	/* The swap: what changed, then what is gone, in one turn. */
	uint64_t swap_us = now_us();
	for (unsigned k = 0; k < SNAP_KINDS; k++) {
		size_t i;
		json_t *o;
		json_array_foreach(job->changed[k], i, o) snapshot_apply_fns[k](f->model, o);
	}
	model_snapshot_end(f->model);
	swap_us = now_us() - swap_us;
	f->subscribed = true;
	f->next_seq = job->scanner.seq;
	f->trim_pending = true;
	f->backoff_ms = FEED_BACKOFF_MIN_MS;
	log_info(
	    "netd snapshot applied seq=%llu vnets=%zu groups=%zu zones=%zu records=%zu "
	    "changed=%zu applied_early=%zu took_ms=%llu swap_us=%llu",
	    (unsigned long long)job->scanner.seq, f->model->views.count, f->model->groups.count,
	    f->model->zones.count, f->model->records.count, job->changed_count, job->applied_early,
	    (unsigned long long)((now_us() - job->started_us) / 1000), (unsigned long long)swap_us);
	snapshot_job_free(job);
	f->job = NULL;
	return 0;
}

/* --- the connection --- */

static void feed_schedule_reconnect(struct feed *f);

static void feed_disconnect(struct feed *f)
{
	if (f->watch)
		event_loop_remove(f->loop, f->watch);
	f->watch = NULL;
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	line_buffer_done(&f->lb);
	line_buffer_init(&f->lb, FEED_LINE_MAX);
	if (f->job) {
		/* what the unfinished snapshot did apply stays; the next one
		 * removes what it does not name */
		snapshot_job_free(f->job);
		f->job = NULL;
	}
	f->reading_paused = false;
	if (f->work)
		event_loop_timer_set(f->loop, f->work, UINT32_MAX, 0);
	if (f->connected)
		log_warn("netd event stream lost; answering from the last snapshot");
	f->connected = false;
	f->subscribed = false;
}

static int feed_handle_line(struct feed *f, const char *line, size_t len)
{
	json_auto_t *msg = NULL;
	struct pw_error err = {0};
	if (!f->subscribed) {
		snapshot_job_start(f, line, len);
		return 0;
	}
	if (json_parse_line(line, len, &msg, &err) < 0)
		return log_warn_errno(-EBADMSG, "netd sent a bad line: %s", pw_error_message(&err));
	json_t *seq = json_object_get(msg, "seq");
	if (json_is_integer(seq)) {
		uint64_t s = (uint64_t)json_integer_value(seq);
		if (s != f->next_seq) {
			/* a missed event: resynchronise from a fresh snapshot */
			log_warn("netd event sequence gap expected=%llu got=%llu",
				 (unsigned long long)f->next_seq, (unsigned long long)s);
			return -EPROTO;
		}
		f->next_seq = s + 1;
	}
	if (feed_apply_event(f->model, msg, &err) < 0)
		log_warn("bad netd event: %s", pw_error_message(&err));
	else
		log_debug("netd event %s", json_string_value(json_object_get(msg, "event")));
	return 0;
}

static void feed_lost(struct feed *f)
{
	feed_disconnect(f);
	feed_schedule_reconnect(f);
}

/* Runs one slice of work: the snapshot being applied, then the complete
 * lines already read, until FEED_SLICE_US is used. Returns 1 if work is
 * left, 0 if not, -1 if the stream was dropped. */
static int feed_work(struct feed *f)
{
	uint64_t deadline_us = now_us() + FEED_SLICE_US;
	for (;;) {
		if (f->job) {
			int r = snapshot_job_step(f, deadline_us);
			if (r < 0) {
				feed_lost(f);
				return -1;
			}
			if (r > 0)
				return 1;
		}
		if (now_us() >= deadline_us)
			return 1;
		char *line;
		size_t len;
		enum line_status st = line_buffer_next(&f->lb, &line, &len);
		if (st == LINE_NONE)
			break;
		if (st == LINE_OVERSIZED || feed_handle_line(f, line, len) < 0) {
			feed_lost(f);
			return -1;
		}
	}
	if (f->trim_pending && f->lb.start == f->lb.len) {
		/* The snapshot's text (tens of MiB for 10,000 groups) is freed
		 * now: hand the memory back to the kernel rather than keep it
		 * as RSS, and the line buffer that held it. */
		f->trim_pending = false;
		line_buffer_done(&f->lb);
		line_buffer_init(&f->lb, FEED_LINE_MAX);
		malloc_trim(0);
	}
	return 0;
}

/* While work is left, the socket is not read (netd queues for us, and the
 * kernel's buffer pushes back) and a 0 ms timer runs the next slice after
 * the queries that came meanwhile. */
static void feed_pause(struct feed *f, bool pause)
{
	if (pause == f->reading_paused || !f->watch)
		return;
	f->reading_paused = pause;
	event_loop_mod_fd(f->loop, f->watch, pause ? 0 : EPOLLIN);
	if (pause)
		event_loop_timer_set(f->loop, f->work, 0, 0);
}

static void on_work(struct event_loop *loop, void *userdata)
{
	struct feed *f = userdata;
	int r = feed_work(f);
	if (r < 0)
		return;
	if (r > 0)
		event_loop_timer_set(f->loop, f->work, 0, 0);
	else
		feed_pause(f, false);
}

static void on_feed_readable(struct event_loop *loop, int fd, uint32_t events, void *userdata)
{
	struct feed *f = userdata;
	/* a long line (the snapshot) is read over several turns too */
	uint64_t deadline_us = now_us() + FEED_SLICE_US;
	while (now_us() < deadline_us) {
		ssize_t n = line_buffer_read(&f->lb, fd);
		if (n == -EAGAIN)
			return;
		if (n <= 0) {
			feed_lost(f);
			return;
		}
		int r = feed_work(f);
		if (r < 0)
			return;
		if (r > 0) {
			feed_pause(f, true);
			return;
		}
	}
}

static int feed_connect(struct feed *f)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	if (strlen(f->socket_path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, f->socket_path);
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* A Unix connect completes at once (or fails): blocking is fine. */
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		return -errno;
	static const char request[] = "{\"id\":1,\"method\":\"events.subscribe\",\"params\":{}}\n";
	if (send(fd, request, sizeof(request) - 1, MSG_NOSIGNAL) != (ssize_t)sizeof(request) - 1)
		return -EIO;
	int flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return -errno;
	int r = event_loop_add_fd(f->loop, fd, EPOLLIN, on_feed_readable, f, &f->watch);
	if (r < 0)
		return r;
	f->fd = TAKE_FD(fd);
	f->connected = true;
	log_info("connected to netd socket=%s", f->socket_path);
	return 0;
}

static void on_retry(struct event_loop *loop, void *userdata)
{
	struct feed *f = userdata;
	int r = feed_connect(f);
	if (r < 0) {
		log_debug("cannot connect to netd: %s", strerror(-r));
		feed_schedule_reconnect(f);
	}
}

static void feed_schedule_reconnect(struct feed *f)
{
	f->reconnects++;
	event_loop_timer_set(f->loop, f->retry, f->backoff_ms, 0);
	f->backoff_ms = MIN(f->backoff_ms * 2, (unsigned)FEED_BACKOFF_MAX_MS);
}

int feed_new(struct event_loop *loop, const char *socket_path, struct model *model,
	     struct feed **ret)
{
	struct feed *f = xcalloc(1, sizeof(*f));
	f->loop = loop;
	f->model = model;
	f->socket_path = xstrdup(socket_path);
	f->fd = -1;
	f->backoff_ms = FEED_BACKOFF_MIN_MS;
	line_buffer_init(&f->lb, FEED_LINE_MAX);
	/* the retry timer first fires at once: connect from the loop */
	int r = event_loop_add_timer(loop, 1, 0, on_retry, f, &f->retry);
	if (r >= 0)
		r = event_loop_add_timer(loop, UINT32_MAX, 0, on_work, f, &f->work);
	if (r < 0) {
		feed_free(f);
		return r;
	}
	*ret = f;
	return 0;
}

void feed_free(struct feed *f)
{
	if (!f)
		return;
	f->connected = false;
	feed_disconnect(f);
	line_buffer_done(&f->lb);
	if (f->retry)
		event_loop_remove(f->loop, f->retry);
	if (f->work)
		event_loop_remove(f->loop, f->work);
	free(f->socket_path);
	free(f);
}

bool feed_connected(const struct feed *f)
{
	return f->connected && f->subscribed;
}

uint64_t feed_reconnects(const struct feed *f)
{
	return f->reconnects;
}
