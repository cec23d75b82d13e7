/* DNS records and zones in netd: validation, storage, RPC and events (see
 * dns-records.h).
 *
 * Invariants: every record and zone in the tables has its state file;
 * a record's vnet or zone existed when it was added (a record of a VNet
 * deleted later stays, and applies again if the VNet is recreated; a
 * zone's records go with the zone); no CNAME shares its owner with another
 * record and no CNAME chain loops. Single-threaded (netd's event loop). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "dns-records.h"
#include "events.h"
#include "json-util.h"
#include "log.h"
#include "name.h"
#include "netd.h"
#include "prefix.h"
#include "state-file.h"
#include "xalloc.h"

struct dns_record {
	struct dns_record_spec spec;
	char file[32]; /* state file name */
	bool batch;    /* file holds {"records":[...]}, written by one bulk add */
};

struct dns_zone {
	char *name;
	char **vnets;
	size_t vnet_count;
};

static struct {
	int records_fd;
	int zones_fd;
	struct dns_record **records;
	size_t record_count;
	size_t record_cap;
	struct dns_zone **zones;
	size_t zone_count;
} db = {.records_fd = -1, .zones_fd = -1};

static const char *const record_types[] = {"A", "AAAA", "CNAME", "TXT", "SRV", "MX", "PTR"};

/* --- objects --- */

static void spec_done(struct dns_record_spec *s)
{
	free(s->vnet);
	free(s->zone);
	free(s->name);
	free(s->type);
	free(s->value);
	memset(s, 0, sizeof(*s));
}

static void record_free(struct dns_record *r)
{
	if (!r)
		return;
	spec_done(&r->spec);
	free(r);
}

static void zone_free(struct dns_zone *z)
{
	if (!z)
		return;
	for (size_t i = 0; i < z->vnet_count; i++)
		free(z->vnets[i]);
	free(z->vnets);
	free(z->name);
	free(z);
}

static json_t *record_json(const struct dns_record_spec *s)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:I}", s->vnet ? "vnet" : "zone",
			 s->vnet ? s->vnet : s->zone, "name", s->name, "type", s->type, "value",
			 s->value, "ttl", (json_int_t)s->ttl);
}

static json_t *zone_json(const struct dns_zone *z)
{
	json_t *vnets = json_array();
	for (size_t i = 0; i < z->vnet_count; i++)
		json_array_append_new(vnets, json_string(z->vnets[i]));
	return json_pack("{s:s, s:o}", "name", z->name, "vnets", vnets);
}

json_t *dns_records_json_all(void)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < db.record_count; i++)
		json_array_append_new(arr, record_json(&db.records[i]->spec));
	return arr;
}

json_t *dns_zones_json_all(void)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < db.zone_count; i++)
		json_array_append_new(arr, zone_json(db.zones[i]));
	return arr;
}

static struct dns_zone *zone_find(const char *name)
{
	for (size_t i = 0; i < db.zone_count; i++)
		if (strcasecmp(db.zones[i]->name, name) == 0)
			return db.zones[i];
	return NULL;
}

static bool spec_same(const struct dns_record_spec *a, const struct dns_record_spec *b)
{
	return !!a->vnet == !!b->vnet &&
	       streq(a->vnet ? a->vnet : a->zone, b->vnet ? b->vnet : b->zone) &&
	       streq(a->name, b->name) && streq(a->type, b->type) && streq(a->value, b->value);
}

/* --- validation --- */

static void lower_in_place(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

static void strip_dot(char *s)
{
	size_t len = strlen(s);
	if (len > 1 && s[len - 1] == '.')
		s[len - 1] = 0;
}

/* A host name in a value (CNAME/PTR/MX/SRV target): a domain name. */
static int validate_target(char *target, const char *what, struct pw_error *err)
{
	strip_dot(target);
	lower_in_place(target);
	if (streq(target, "."))
		return 0;
	return pw_error_wrap(err, name_validate_domain(target, err), "%s", what);
}

static int parse_fields(const char *value, unsigned count, unsigned long *fields,
			const char **ret_rest)
{
	const char *p = value;
	for (unsigned i = 0; i < count; i++) {
		char *end;
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		errno = 0;
		fields[i] = strtoul(p, &end, 10);
		if (errno || fields[i] > 65535 || *end != ' ')
			return -EINVAL;
		p = end;
		while (*p == ' ')
			p++;
	}
	*ret_rest = p;
	return 0;
}

static int validate_value(struct dns_record_spec *s, struct pw_error *err)
{
	struct ip_addr addr;
	char buf[INET6_ADDRSTRLEN];
	unsigned long fields[3];
	const char *rest;

	if (streq(s->type, "A") || streq(s->type, "AAAA")) {
		int family = streq(s->type, "A") ? AF_INET : AF_INET6;
		if (ip_addr_parse(s->value, family, &addr) < 0)
			return pw_error_set(err, -EINVAL, "'%.64s' is not an IPv%d address",
					    s->value, family == AF_INET ? 4 : 6);
		free(s->value);
		s->value = xstrdup(ip_addr_format(&addr, buf));
		return 0;
	}
	if (streq(s->type, "CNAME") || streq(s->type, "PTR"))
		return validate_target(s->value, "target", err);
	if (streq(s->type, "MX") || streq(s->type, "SRV")) {
		bool mx = streq(s->type, "MX");
		unsigned count = mx ? 1 : 3;
		if (parse_fields(s->value, count, fields, &rest) < 0)
			return pw_error_set(err, -EINVAL, "%s value '%.64s' is not '%s'", s->type,
					    s->value,
					    mx ? "PREFERENCE HOST" : "PRIORITY WEIGHT PORT TARGET");
		_cleanup_free_ char *target = xstrdup(rest);
		int r = validate_target(target, mx ? "MX host" : "SRV target", err);
		if (r < 0)
			return r;
		free(s->value);
		if (mx)
			s->value = xasprintf("%lu %s", fields[0], target);
		else
			s->value =
			    xasprintf("%lu %lu %lu %s", fields[0], fields[1], fields[2], target);
		return 0;
	}
	/* TXT */
	if (strlen(s->value) > DNS_TXT_VALUE_MAX)
		return pw_error_set(err, -EINVAL, "TXT value is longer than %d bytes",
				    DNS_TXT_VALUE_MAX);
	return 0;
}

int dns_record_validate(struct dns_record_spec *s, const char *domain,
			const struct ip_prefix *subnets, size_t subnet_count, struct pw_error *err)
{
	struct ip_addr addr;
	char buf[INET6_ADDRSTRLEN];
	size_t i;
	int r;

	for (i = 0; i < ARRAY_SIZE(record_types); i++)
		if (strcasecmp(s->type, record_types[i]) == 0)
			break;
	if (i == ARRAY_SIZE(record_types))
		return pw_error_set(err, -EINVAL,
				    "record type '%.16s' is not one of A, AAAA, CNAME, TXT, SRV, "
				    "MX, PTR",
				    s->type);
	free(s->type);
	s->type = xstrdup(record_types[i]);
	if (s->ttl > DNS_RECORD_TTL_MAX)
		return pw_error_set(err, -EINVAL, "ttl %u is over %d", s->ttl, DNS_RECORD_TTL_MAX);

	/* The name: an address (PTR on a VNet), "@", relative, or absolute
	 * under the domain. */
	if (streq(s->type, "PTR") && subnets && ip_addr_parse(s->name, AF_UNSPEC, &addr) == 0) {
		bool inside = false;
		for (size_t j = 0; j < subnet_count; j++)
			inside |= ip_prefix_contains(&subnets[j], &addr);
		if (!inside)
			return pw_error_set(err, -EINVAL,
					    "address %s is not in a subnet of vnet '%s'", s->name,
					    s->vnet);
		free(s->name);
		s->name = xstrdup(ip_addr_format(&addr, buf));
	} else if (!streq(s->name, "@")) {
		lower_in_place(s->name);
		size_t len = strlen(s->name);
		if (len > 0 && s->name[len - 1] == '.') {
			/* absolute: make it relative to the domain */
			s->name[--len] = 0;
			size_t dlen = strlen(domain);
			if (strcasecmp(s->name, domain) == 0) {
				free(s->name);
				s->name = xstrdup("@");
			} else if (len > dlen + 1 && s->name[len - dlen - 1] == '.' &&
				   strcasecmp(s->name + len - dlen, domain) == 0) {
				s->name[len - dlen - 1] = 0;
			} else {
				return pw_error_set(err, -EINVAL, "name '%.64s.' is outside '%s'",
						    s->name, domain);
			}
		}
		if (!streq(s->name, "@")) {
			_cleanup_free_ char *full = xasprintf("%s.%s", s->name, domain);
			r = name_validate_domain(full, err);
			if (r < 0)
				return pw_error_wrap(err, r, "record name '%.64s'", s->name);
		}
	}
	if (streq(s->type, "CNAME") && streq(s->name, "@"))
		return pw_error_set(err, -EINVAL, "a CNAME cannot be at the apex of '%s'", domain);
	r = validate_value(s, err);
	if (r < 0)
		return pw_error_wrap(err, r, "%s record '%.64s'", s->type, s->name);
	return 0;
}

/* The absolute owner of a record (lower case, no trailing dot). */
static char *record_owner(const struct dns_record_spec *s, const char *domain)
{
	if (streq(s->name, "@"))
		return xstrdup(domain);
	return xasprintf("%s.%s", s->name, domain);
}

static const char *record_domain(struct netd *netd, const struct dns_record_spec *s)
{
	if (s->zone) {
		struct dns_zone *z = zone_find(s->zone);
		return z ? z->name : NULL;
	}
	struct vnet *v = netd_vnet_find(netd, s->vnet);
	return v ? v->domain : NULL;
}

/* CNAME rules (RFC 1034 3.6.2, RFC 2181 10.1): a CNAME is alone at its
 * owner; chains must not loop. Owners are compared as absolute names. */
static int check_cname_rules(struct netd *netd, const struct dns_record_spec *s, const char *domain,
			     struct pw_error *err)
{
	_cleanup_free_ char *owner = record_owner(s, domain);
	bool is_cname = streq(s->type, "CNAME");

	for (size_t i = 0; i < db.record_count; i++) {
		const struct dns_record_spec *o = &db.records[i]->spec;
		const char *od = record_domain(netd, o);
		if (!od || (!!o->vnet != !!s->vnet) ||
		    !streq(o->vnet ? o->vnet : o->zone, s->vnet ? s->vnet : s->zone))
			continue;
		_cleanup_free_ char *oo = record_owner(o, od);
		if (!streq(oo, owner))
			continue;
		if (is_cname && !streq(o->type, "CNAME"))
			return pw_error_set(err, -EINVAL,
					    "'%s' already has a %s record; a CNAME must be alone",
					    owner, o->type);
		if (!is_cname && streq(o->type, "CNAME"))
			return pw_error_set(err, -EINVAL,
					    "'%s' is a CNAME; it cannot have other records", owner);
		if (is_cname && streq(o->type, "CNAME") && !streq(o->value, s->value))
			return pw_error_set(err, -EINVAL, "'%s' already has a CNAME to %s", owner,
					    o->value);
	}
	if (!is_cname)
		return 0;
	/* Follow the chain from the new target over every CNAME known; reaching
	 * the new owner is a loop. Bounded by the record count. */
	_cleanup_free_ char *current = xstrdup(s->value);
	for (size_t hops = 0; hops <= db.record_count; hops++) {
		if (streq(current, owner))
			return pw_error_set(err, -ELOOP, "CNAME %s -> %s makes a loop", owner,
					    s->value);
		bool found = false;
		for (size_t i = 0; i < db.record_count && !found; i++) {
			const struct dns_record_spec *o = &db.records[i]->spec;
			if (!streq(o->type, "CNAME"))
				continue;
			const char *od = record_domain(netd, o);
			if (!od)
				continue;
			_cleanup_free_ char *oo = record_owner(o, od);
			if (streq(oo, current)) {
				free(current);
				current = xstrdup(o->value);
				found = true;
			}
		}
		if (!found)
			return 0;
	}
	return pw_error_set(err, -ELOOP, "CNAME %s -> %s makes a loop", owner, s->value);
}

/* --- storage --- */

static uint64_t fnv64(const char *s)
{
	uint64_t h = 14695981039346656037ull;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

static bool file_taken(const char *file)
{
	for (size_t i = 0; i < db.record_count; i++)
		if (streq(db.records[i]->file, file))
			return true;
	return false;
}

static void record_pick_file(struct dns_record *r)
{
	_cleanup_free_ char *key =
	    xasprintf("%s|%s|%s|%s|%s", r->spec.vnet ? r->spec.vnet : "",
		      r->spec.zone ? r->spec.zone : "", r->spec.name, r->spec.type, r->spec.value);
	uint64_t h = fnv64(key);
	do {
		snprintf(r->file, sizeof(r->file), "%016llx.json", (unsigned long long)h);
		h++; /* a collision: the next free name */
	} while (file_taken(r->file));
}

static int parse_spec(json_t *o, struct dns_record_spec *s, bool strict, bool need_value,
		      struct pw_error *err)
{
	const char *vnet = NULL, *zone = NULL, *name, *type, *value = NULL;
	json_int_t ttl = DNS_RECORD_TTL_DEFAULT;
	int r = json_unpack_err(o, err, "record", strict ? JSON_STRICT : 0,
				"{s?:s, s?:s, s:s, s:s, s?:s, s?:I}", "vnet", &vnet, "zone", &zone,
				"name", &name, "type", &type, "value", &value, "ttl", &ttl);
	if (r < 0)
		return r;
	if (!!vnet == !!zone)
		return pw_error_set(err, -EINVAL, "give exactly one of 'vnet' and 'zone'");
	if (need_value && !value)
		return pw_error_set(err, -EINVAL, "record: 'value' is required");
	if (ttl < 0 || ttl > DNS_RECORD_TTL_MAX)
		return pw_error_set(err, -EINVAL, "ttl %lld is not in 0..%d", (long long)ttl,
				    DNS_RECORD_TTL_MAX);
	if (vnet && name_validate_vnet(vnet, err) < 0)
		return -EINVAL;
	memset(s, 0, sizeof(*s));
	s->vnet = vnet ? xstrdup(vnet) : NULL;
	if (zone) {
		s->zone = xstrdup(zone);
		strip_dot(s->zone);
		lower_in_place(s->zone);
	}
	s->name = xstrdup(name);
	s->type = xstrdup(type);
	s->value = value ? xstrdup(value) : NULL;
	s->ttl = (unsigned)ttl;
	if (strempty(s->name)) {
		spec_done(s);
		return pw_error_set(err, -EINVAL, "record name is empty");
	}
	return 0;
}

static void load_one(json_t *o, const char *file, bool batch)
{
	struct pw_error err = {0};
	struct dns_record *r = xcalloc(1, sizeof(*r));
	if (parse_spec(o, &r->spec, true, true, &err) < 0) {
		log_warn("bad record in %s, skipped: %s", file, pw_error_message(&err));
		free(r);
		return;
	}
	if (db.record_count >= DNS_RECORDS_MAX) {
		record_free(r);
		return;
	}
	snprintf(r->file, sizeof(r->file), "%s", file);
	r->batch = batch;
	if (db.record_count == db.record_cap) {
		db.record_cap = MAX((size_t)64, db.record_cap * 2);
		db.records = xrealloc(db.records, db.record_cap * sizeof(*db.records));
	}
	db.records[db.record_count++] = r;
}

static int load_record(int dir_fd, const char *file, void *userdata)
{
	json_auto_t *o = NULL;
	if (state_read_json(dir_fd, file, &o) < 0) {
		log_warn("unreadable record file %s, skipped", file);
		return 0;
	}
	json_t *batch = json_object_get(o, "records");
	if (json_is_array(batch)) {
		size_t i;
		json_t *v;
		json_array_foreach(batch, i, v) load_one(v, file, true);
		return 0;
	}
	load_one(o, file, false);
	return 0;
}

static int parse_zone(json_t *o, struct dns_zone **ret, struct pw_error *err)
{
	const char *name;
	json_t *vnets = NULL;
	size_t i;
	json_t *v;
	int r = json_unpack_err(o, err, "zone", JSON_STRICT, "{s:s, s?:o}", "name", &name, "vnets",
				&vnets);
	if (r < 0)
		return r;
	if (vnets && !json_is_array(vnets))
		return pw_error_set(err, -EINVAL, "zone: 'vnets' is not an array");
	struct dns_zone *z = xcalloc(1, sizeof(*z));
	z->name = xstrdup(name);
	strip_dot(z->name);
	lower_in_place(z->name);
	r = name_validate_domain(z->name, err);
	if (r < 0) {
		zone_free(z);
		return pw_error_wrap(err, r, "zone name");
	}
	z->vnets = xcalloc(json_array_size(vnets) + 1, sizeof(char *));
	json_array_foreach(vnets, i, v)
	{
		if (!json_is_string(v) || name_validate_vnet(json_string_value(v), err) < 0) {
			zone_free(z);
			return pw_error_set(err, -EINVAL, "zone: bad vnet in 'vnets'");
		}
		bool dup = false;
		for (size_t j = 0; j < z->vnet_count; j++)
			dup |= streq(z->vnets[j], json_string_value(v));
		if (!dup)
			z->vnets[z->vnet_count++] = xstrdup(json_string_value(v));
	}
	*ret = z;
	return 0;
}

static int load_zone(int dir_fd, const char *file, void *userdata)
{
	json_auto_t *o = NULL;
	struct pw_error err = {0};
	struct dns_zone *z;
	if (state_read_json(dir_fd, file, &o) < 0 || parse_zone(o, &z, &err) < 0) {
		log_warn("bad zone file %s, skipped", file);
		return 0;
	}
	db.zones = xrealloc(db.zones, (db.zone_count + 1) * sizeof(*db.zones));
	db.zones[db.zone_count++] = z;
	return 0;
}

static int zone_save(const struct dns_zone *z)
{
	json_auto_t *o = zone_json(z);
	_cleanup_free_ char *file = xasprintf("%s.json", z->name);
	return state_write_json(db.zones_fd, file, o);
}

int dns_records_init(const char *state_dir, struct pw_error *err)
{
	_cleanup_free_ char *records = xasprintf("%s/dns/records", state_dir);
	_cleanup_free_ char *zones = xasprintf("%s/dns/zones", state_dir);
	int r = state_dir_open(records, &db.records_fd);
	if (r < 0)
		return pw_error_set(err, r, "cannot open %s: %s", records, strerror(-r));
	r = state_dir_open(zones, &db.zones_fd);
	if (r < 0)
		return pw_error_set(err, r, "cannot open %s: %s", zones, strerror(-r));
	state_foreach(db.zones_fd, ".json", load_zone, NULL);
	state_foreach(db.records_fd, ".json", load_record, NULL);
	log_info("dns state loaded zones=%zu records=%zu", db.zone_count, db.record_count);
	return 0;
}

void dns_records_done(void)
{
	for (size_t i = 0; i < db.record_count; i++)
		record_free(db.records[i]);
	free(db.records);
	for (size_t i = 0; i < db.zone_count; i++)
		zone_free(db.zones[i]);
	free(db.zones);
	if (db.records_fd >= 0)
		close(db.records_fd);
	if (db.zones_fd >= 0)
		close(db.zones_fd);
	db.records = NULL;
	db.zones = NULL;
	db.record_count = db.zone_count = 0;
	db.record_cap = 0;
	db.records_fd = db.zones_fd = -1;
}

static void broadcast(struct netd *netd, const char *event, json_t *data)
{
	json_auto_t *d = data;
	if (netd->server && d)
		rpc_server_broadcast(netd->server, event, d);
}

/* --- RPC --- */

static void records_append(struct dns_record *rec)
{
	if (db.record_count == db.record_cap) {
		db.record_cap = MAX((size_t)64, db.record_cap * 2);
		db.records = xrealloc(db.records, db.record_cap * sizeof(*db.records));
	}
	db.records[db.record_count++] = rec;
}

/* Writes the state file of r: its own, or its whole batch (every record
 * still in it). A batch left empty is removed. */
static int record_file_save(const char *file, bool batch, const struct dns_record *r)
{
	if (!batch) {
		json_auto_t *o = record_json(&r->spec);
		return state_write_json(db.records_fd, file, o);
	}
	json_auto_t *arr = json_array();
	for (size_t i = 0; i < db.record_count; i++)
		if (db.records[i]->batch && streq(db.records[i]->file, file))
			json_array_append_new(arr, record_json(&db.records[i]->spec));
	if (json_array_size(arr) == 0)
		return state_remove(db.records_fd, file);
	json_auto_t *o = json_pack("{s:O}", "records", arr);
	return state_write_json(db.records_fd, file, o);
}

/* Saves a new record and adds it to the table (takes rec). */
static int record_insert(struct netd *netd, struct dns_record *rec, json_t **ret_result,
			 struct pw_error *err)
{
	record_pick_file(rec);
	json_auto_t *o = record_json(&rec->spec);
	int r = state_write_json(db.records_fd, rec->file, o);
	if (r < 0) {
		record_free(rec);
		return pw_error_set(err, r, "cannot save record: %s", strerror(-r));
	}
	records_append(rec);
	broadcast(netd, "record.added", record_json(&rec->spec));
	*ret_result = record_json(&rec->spec);
	return 0;
}

/* --- bulk add --- */

/* The identity of a record (what makes two records the same one). */
static char *spec_key(const struct dns_record_spec *s)
{
	return xasprintf("%c|%s|%s|%s|%s", s->vnet ? 'v' : 'z', s->vnet ? s->vnet : s->zone,
			 s->name, s->type, s->value);
}

/* A small open-addressing table: identity key -> slot number, so a bulk
 * add finds duplicates in one pass instead of comparing every pair. */
struct key_index {
	char **keys;
	size_t *slots;
	size_t cap;
};

static void key_index_init(struct key_index *ki, size_t count)
{
	ki->cap = 64;
	while (ki->cap < count * 2)
		ki->cap *= 2;
	ki->keys = xcalloc(ki->cap, sizeof(char *));
	ki->slots = xcalloc(ki->cap, sizeof(size_t));
}

static void key_index_done(struct key_index *ki)
{
	for (size_t i = 0; i < ki->cap; i++)
		free(ki->keys[i]);
	free(ki->keys);
	free(ki->slots);
}

/* The position of key (taking it): *ret_found says whether it was there;
 * the slot number stored there is ki->slots[position]. */
static size_t key_index_put(struct key_index *ki, char *key, bool *ret_found)
{
	size_t i = fnv64(key) & (ki->cap - 1);
	while (ki->keys[i]) {
		if (streq(ki->keys[i], key)) {
			free(key);
			*ret_found = true;
			return i;
		}
		i = (i + 1) & (ki->cap - 1);
	}
	ki->keys[i] = key;
	*ret_found = false;
	return i;
}

/* One record as the CNAME rules see it. */
struct owner_entry {
	bool vnet;
	const char *scope; /* vnet or zone name */
	char *owner;	   /* absolute */
	const struct dns_record_spec *spec;
	size_t index; /* 1-based position in the call; 0: an existing record */
};

static int owner_entry_cmp(const void *a, const void *b)
{
	const struct owner_entry *x = a, *y = b;
	if (x->vnet != y->vnet)
		return x->vnet ? -1 : 1;
	int c = strcmp(x->scope, y->scope);
	return c ? c : strcmp(x->owner, y->owner);
}

static int owner_cmp(const void *a, const void *b)
{
	const struct owner_entry *const *x = a, *const *y = b;
	return strcmp((*x)->owner, (*y)->owner);
}

static int bulk_error(struct pw_error *err, const struct owner_entry *e, int code, const char *what)
{
	return pw_error_set(err, code, "record %zu (%s %s %s): %s", e->index, e->spec->name,
			    e->spec->type, e->spec->value, what);
}

/* The CNAME rules (see check_cname_rules) over the existing records and a
 * call's new ones at once: sorted by owner, so O(n log n) for the call. */
static int bulk_check_cnames(struct owner_entry *entries, size_t count, struct pw_error *err)
{
	char msg[512];
	int r = 0;
	qsort(entries, count, sizeof(*entries), owner_entry_cmp);
	for (size_t i = 0; i < count;) {
		size_t j = i;
		const struct owner_entry *cname = NULL, *other = NULL, *fresh = NULL;
		while (j < count && owner_entry_cmp(&entries[i], &entries[j]) == 0) {
			const struct owner_entry *e = &entries[j];
			if (e->index && !fresh)
				fresh = e;
			if (streq(e->spec->type, "CNAME")) {
				if (cname && !streq(cname->spec->value, e->spec->value)) {
					const struct owner_entry *n = e->index ? e : cname;
					snprintf(msg, sizeof(msg), "'%s' already has a CNAME to %s",
						 e->owner, (n == e ? cname : e)->spec->value);
					return bulk_error(err, n, -EINVAL, msg);
				}
				cname = e;
			} else if (!other) {
				other = e;
			}
			j++;
		}
		if (cname && other && fresh) {
			if (cname->index)
				snprintf(msg, sizeof(msg),
					 "'%s' already has a %s record; a CNAME must be alone",
					 cname->owner, other->spec->type);
			else
				snprintf(msg, sizeof(msg),
					 "'%s' is a CNAME; it cannot have other records",
					 cname->owner);
			return bulk_error(err, cname->index ? cname : other, -EINVAL, msg);
		}
		i = j;
	}

	/* Loops: a depth-first walk over owner -> target, by absolute name
	 * across every scope, as check_cname_rules follows chains. */
	_cleanup_free_ const struct owner_entry **edges = xcalloc(count + 1, sizeof(*edges));
	size_t edge_count = 0;
	for (size_t i = 0; i < count; i++)
		if (streq(entries[i].spec->type, "CNAME"))
			edges[edge_count++] = &entries[i];
	qsort(edges, edge_count, sizeof(*edges), owner_cmp);
	/* nodes: runs of one owner in edges */
	_cleanup_free_ size_t *node_start = xcalloc(edge_count + 1, sizeof(size_t));
	size_t node_count = 0;
	for (size_t i = 0; i < edge_count; i++)
		if (i == 0 || !streq(edges[i]->owner, edges[i - 1]->owner))
			node_start[node_count++] = i;
	node_start[node_count] = edge_count;
	_cleanup_free_ uint8_t *color = xcalloc(node_count + 1, 1);
	_cleanup_free_ size_t *stack = xcalloc(node_count + 1, sizeof(size_t));
	_cleanup_free_ size_t *next_edge = xcalloc(node_count + 1, sizeof(size_t));
	for (size_t start = 0; start < node_count && r == 0; start++) {
		if (color[start])
			continue;
		size_t depth = 0;
		stack[depth++] = start;
		color[start] = 1;
		next_edge[start] = node_start[start];
		while (depth > 0) {
			size_t k = stack[depth - 1];
			if (next_edge[k] == node_start[k + 1]) {
				color[k] = 2;
				depth--;
				continue;
			}
			const struct owner_entry *e = edges[next_edge[k]++];
			/* the target's node, by binary search over the runs */
			size_t lo = 0, hi = node_count;
			while (lo < hi) {
				size_t mid = (lo + hi) / 2;
				int c = strcmp(edges[node_start[mid]]->owner, e->spec->value);
				if (c == 0) {
					lo = mid;
					break;
				}
				if (c < 0)
					lo = mid + 1;
				else
					hi = mid;
			}
			if (lo >= node_count ||
			    !streq(edges[node_start[lo]]->owner, e->spec->value))
				continue;
			if (color[lo] == 1) {
				snprintf(msg, sizeof(msg), "CNAME %s -> %s makes a loop", e->owner,
					 e->spec->value);
				return e->index ? bulk_error(err, e, -ELOOP, msg)
						: pw_error_set(err, -ELOOP, "%s", msg);
			}
			if (color[lo] == 0) {
				color[lo] = 1;
				next_edge[lo] = node_start[lo];
				stack[depth++] = lo;
			}
		}
	}
	return r;
}

struct bulk_call {
	size_t count;
	struct dns_record_spec *specs;
	const char **domains;
	enum { BULK_NEW, BULK_SAME, BULK_TTL, BULK_REPEATED } * fate;
	size_t *existing; /* BULK_SAME/BULK_TTL: the index in db.records */
};

static void bulk_call_done(struct bulk_call *b)
{
	for (size_t i = 0; i < b->count; i++)
		spec_done(&b->specs[i]);
	free(b->specs);
	free(b->domains);
	free(b->fate);
	free(b->existing);
}

/* Parses and validates element i of the call (defaults from the call's
 * own vnet/zone/ttl); the message names the record. */
static int bulk_parse_one(struct netd *netd, json_t *elem, size_t i, const char *vnet,
			  const char *zone, json_int_t ttl, struct bulk_call *b,
			  struct pw_error *err)
{
	struct dns_record_spec *s = &b->specs[i];
	if (!json_is_object(elem))
		return pw_error_set(err, -EINVAL, "record %zu: not an object", i + 1);
	json_auto_t *o = json_copy(elem);
	if (!json_object_get(o, "vnet") && !json_object_get(o, "zone")) {
		if (vnet)
			json_object_set_new(o, "vnet", json_string(vnet));
		if (zone)
			json_object_set_new(o, "zone", json_string(zone));
	}
	if (!json_object_get(o, "ttl") && ttl >= 0)
		json_object_set_new(o, "ttl", json_integer(ttl));
	int r = parse_spec(o, s, true, true, err);
	if (r < 0)
		return pw_error_wrap(err, r, "record %zu", i + 1);
	const struct ip_prefix *subnets = NULL;
	size_t subnet_count = 0;
	if (s->vnet) {
		struct vnet *v = netd_vnet_find(netd, s->vnet);
		if (!v)
			return pw_error_set(err, -ENOENT, "record %zu (%s %s): vnet '%s' not found",
					    i + 1, s->name, s->type, s->vnet);
		b->domains[i] = v->domain;
		subnets = v->subnets;
		subnet_count = v->subnet_count;
	} else {
		struct dns_zone *z = zone_find(s->zone);
		if (!z)
			return pw_error_set(err, -ENOENT, "record %zu (%s %s): zone '%s' not found",
					    i + 1, s->name, s->type, s->zone);
		b->domains[i] = z->name;
	}
	_cleanup_free_ char *given = xasprintf("%s %s %s", s->name, s->type, s->value);
	r = dns_record_validate(s, b->domains[i], subnets, subnet_count, err);
	if (r < 0)
		return pw_error_wrap(err, r, "record %zu (%.200s)", i + 1, given);
	return 0;
}

/* dns.record.add with "records": every record checked first, then one
 * state file for all new ones; any bad record fails the call with nothing
 * added. */
static int record_add_bulk(struct netd *netd, json_t *params, json_t **ret_result,
			   struct pw_error *err)
{
	const char *vnet = NULL, *zone = NULL;
	json_int_t ttl = -1;
	json_t *arr;
	int dry_run = 0;
	int r = json_unpack_err(params, err, "dns.record.add", JSON_STRICT,
				"{s?:s, s?:s, s?:I, s:o, s?:b}", "vnet", &vnet, "zone", &zone,
				"ttl", &ttl, "records", &arr, "dry_run", &dry_run);
	if (r < 0)
		return r;
	if (!json_is_array(arr) || json_array_size(arr) == 0)
		return pw_error_set(err, -EINVAL, "'records' must be a non-empty array");
	if (json_array_size(arr) > DNS_RECORDS_PER_CALL)
		return pw_error_set(err, -E2BIG, "%zu records in one call; at most %d",
				    json_array_size(arr), DNS_RECORDS_PER_CALL);
	if (vnet && zone)
		return pw_error_set(err, -EINVAL, "give at most one of 'vnet' and 'zone'");

	struct bulk_call b = {.count = json_array_size(arr)};
	b.specs = xcalloc(b.count, sizeof(*b.specs));
	b.domains = xcalloc(b.count, sizeof(*b.domains));
	b.fate = xcalloc(b.count, sizeof(*b.fate));
	b.existing = xcalloc(b.count, sizeof(*b.existing));
	struct key_index ki = {0};
	struct owner_entry *entries = NULL;
	size_t entry_count = 0, added = 0, updated = 0, fresh_count = 0;
	_cleanup_free_ struct dns_record **fresh = NULL;

	for (size_t i = 0; i < b.count; i++) {
		r = bulk_parse_one(netd, json_array_get(arr, i), i, vnet, zone, ttl, &b, err);
		if (r < 0)
			goto out;
	}
	/* duplicates: of existing records (same, or a new TTL) and within
	 * the call (the last one counts) */
	key_index_init(&ki, db.record_count + b.count);
	for (size_t j = 0; j < db.record_count; j++) {
		bool found;
		size_t pos = key_index_put(&ki, spec_key(&db.records[j]->spec), &found);
		if (!found)
			ki.slots[pos] = j;
	}
	for (size_t i = 0; i < b.count; i++) {
		bool found;
		size_t pos = key_index_put(&ki, spec_key(&b.specs[i]), &found);
		if (!found) {
			ki.slots[pos] = db.record_count + i;
			b.fate[i] = BULK_NEW;
			continue;
		}
		size_t slot = ki.slots[pos];
		if (slot >= db.record_count) {
			size_t earlier = slot - db.record_count;
			b.fate[i] = b.fate[earlier];
			b.existing[i] = b.existing[earlier];
			b.fate[earlier] = BULK_REPEATED;
		} else {
			b.fate[i] = BULK_SAME;
			b.existing[i] = slot;
		}
		if (b.fate[i] != BULK_NEW)
			b.fate[i] = db.records[b.existing[i]]->spec.ttl == b.specs[i].ttl
					? BULK_SAME
					: BULK_TTL;
		ki.slots[pos] = db.record_count + i;
	}
	for (size_t i = 0; i < b.count; i++)
		added += b.fate[i] == BULK_NEW;
	if (db.record_count + added > DNS_RECORDS_MAX) {
		r = pw_error_set(err, -ENOSPC, "too many records: %zu more would pass %d", added,
				 (int)DNS_RECORDS_MAX);
		goto out;
	}

	entries = xcalloc(db.record_count + b.count + 1, sizeof(*entries));
	for (size_t j = 0; j < db.record_count; j++) {
		const struct dns_record_spec *o = &db.records[j]->spec;
		const char *od = record_domain(netd, o);
		if (!od)
			continue;
		entries[entry_count++] = (struct owner_entry){
		    !!o->vnet, o->vnet ? o->vnet : o->zone, record_owner(o, od), o, 0};
	}
	for (size_t i = 0; i < b.count; i++) {
		const struct dns_record_spec *s = &b.specs[i];
		if (b.fate[i] != BULK_NEW)
			continue;
		entries[entry_count++] =
		    (struct owner_entry){!!s->vnet, s->vnet ? s->vnet : s->zone,
					 record_owner(s, b.domains[i]), s, i + 1};
	}
	r = bulk_check_cnames(entries, entry_count, err);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < b.count; i++)
		updated += b.fate[i] == BULK_TTL;
	if (dry_run) {
		/* checked, nothing written: the CLI checks a file that needs
		 * several calls before adding any of it */
		*ret_result = json_pack("{s:I, s:I, s:I, s:b}", "added", (json_int_t)added,
					"updated", (json_int_t)updated, "unchanged",
					(json_int_t)(b.count - added - updated), "dry_run", 1);
		r = 0;
		goto out;
	}

	/* One file for every new record: written whole or not at all. */
	fresh = xcalloc(added + 1, sizeof(*fresh));
	for (size_t i = 0; i < b.count; i++) {
		if (b.fate[i] != BULK_NEW)
			continue;
		struct dns_record *rec = xcalloc(1, sizeof(*rec));
		rec->spec = b.specs[i];
		memset(&b.specs[i], 0, sizeof(b.specs[i]));
		rec->batch = true;
		fresh[fresh_count++] = rec;
	}
	if (fresh_count > 0) {
		_cleanup_free_ char *first = spec_key(&fresh[0]->spec);
		uint64_t h = fnv64(first) ^ (uint64_t)fresh_count ^ now_us();
		char file[32];
		do {
			snprintf(file, sizeof(file), "b%015llx.json",
				 (unsigned long long)(h & 0xfffffffffffffffull));
			h++;
		} while (file_taken(file));
		json_auto_t *list = json_array();
		for (size_t i = 0; i < fresh_count; i++) {
			snprintf(fresh[i]->file, sizeof(fresh[i]->file), "%s", file);
			json_array_append_new(list, record_json(&fresh[i]->spec));
		}
		json_auto_t *o = json_pack("{s:O}", "records", list);
		r = state_write_json(db.records_fd, file, o);
		if (r < 0) {
			for (size_t i = 0; i < fresh_count; i++)
				record_free(fresh[i]);
			r = pw_error_set(err, r, "cannot save records: %s", strerror(-r));
			goto out;
		}
		for (size_t i = 0; i < fresh_count; i++) {
			records_append(fresh[i]);
			broadcast(netd, "record.added", record_json(&fresh[i]->spec));
		}
	}
	/* New TTLs of existing records: each file rewritten once. */
	for (size_t i = 0; i < b.count; i++) {
		if (b.fate[i] != BULK_TTL)
			continue;
		db.records[b.existing[i]]->spec.ttl = b.specs[i].ttl;
	}
	for (size_t i = 0; i < b.count; i++) {
		if (b.fate[i] != BULK_TTL)
			continue;
		struct dns_record *old = db.records[b.existing[i]];
		bool done = false;
		for (size_t k = 0; k < i && !done; k++)
			done = b.fate[k] == BULK_TTL && old->batch &&
			       streq(db.records[b.existing[k]]->file, old->file);
		if (!done) {
			r = record_file_save(old->file, old->batch, old);
			if (r < 0) {
				r = pw_error_set(err, r, "cannot save record: %s", strerror(-r));
				goto out;
			}
		}
		broadcast(netd, "record.added", record_json(&old->spec));
	}
	*ret_result =
	    json_pack("{s:I, s:I, s:I}", "added", (json_int_t)added, "updated", (json_int_t)updated,
		      "unchanged", (json_int_t)(b.count - added - updated));
	r = 0;
out:
	for (size_t i = 0; i < entry_count; i++)
		free(entries[i].owner);
	free(entries);
	if (ki.keys)
		key_index_done(&ki);
	bulk_call_done(&b);
	return r;
}

int dns_rpc_record_add(struct rpc_request *req, void *userdata, json_t **ret_result,
		       struct pw_error *err)
{
	struct netd *netd = userdata;
	struct dns_record_spec s;
	const char *domain;
	int r;

	if (db.records_fd < 0)
		return pw_error_set(err, -EAGAIN, "dns records are not available");
	if (json_object_get(req->params, "records"))
		return record_add_bulk(netd, req->params, ret_result, err);
	r = parse_spec(req->params, &s, true, true, err);
	if (r < 0)
		return r;
	const struct ip_prefix *subnets = NULL;
	size_t subnet_count = 0;
	if (s.vnet) {
		struct vnet *v = netd_vnet_find(netd, s.vnet);
		if (!v) {
			r = pw_error_set(err, -ENOENT, "vnet '%s' not found", s.vnet);
			goto out;
		}
		domain = v->domain;
		subnets = v->subnets;
		subnet_count = v->subnet_count;
	} else {
		struct dns_zone *z = zone_find(s.zone);
		if (!z) {
			r = pw_error_set(err, -ENOENT, "zone '%s' not found", s.zone);
			goto out;
		}
		domain = z->name;
	}
	r = dns_record_validate(&s, domain, subnets, subnet_count, err);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < db.record_count; i++)
		if (spec_same(&db.records[i]->spec, &s)) {
			/* idempotent; a new TTL is a change */
			struct dns_record *old = db.records[i];
			if (old->spec.ttl != s.ttl) {
				unsigned saved = old->spec.ttl;
				old->spec.ttl = s.ttl;
				r = record_file_save(old->file, old->batch, old);
				if (r < 0) {
					old->spec.ttl = saved;
					r = pw_error_set(err, r, "cannot save record: %s",
							 strerror(-r));
					goto out;
				}
				broadcast(netd, "record.added", record_json(&old->spec));
			}
			*ret_result = record_json(&old->spec);
			r = 0;
			goto out;
		}
	if (db.record_count >= DNS_RECORDS_MAX) {
		r = pw_error_set(err, -ENOSPC, "too many records (%d)", DNS_RECORDS_MAX);
		goto out;
	}
	r = check_cname_rules(netd, &s, domain, err);
	if (r < 0)
		goto out;
	struct dns_record *rec = xcalloc(1, sizeof(*rec));
	rec->spec = s;
	memset(&s, 0, sizeof(s));
	return record_insert(netd, rec, ret_result, err);
out:
	spec_done(&s);
	return r;
}

/* Deletes the records marked in victims (db.record_count flags): single
 * files removed, each batch file touched rewritten once with what stays.
 * On a failed write nothing is removed from the table (a file already
 * removed just drops its record at the next start). */
static int records_delete(struct netd *netd, bool *victims, unsigned *ret_removed,
			  struct pw_error *err)
{
	int r;
	size_t n = db.record_count;
	/* the batch files touched, each once */
	_cleanup_free_ const char **batches = xcalloc(n + 1, sizeof(char *));
	size_t batch_count = 0;
	for (size_t i = 0; i < n; i++) {
		if (!victims[i])
			continue;
		struct dns_record *rec = db.records[i];
		if (!rec->batch) {
			r = state_remove(db.records_fd, rec->file);
			if (r < 0)
				return pw_error_set(err, r, "cannot remove record file: %s",
						    strerror(-r));
			continue;
		}
		bool seen = false;
		for (size_t b = 0; b < batch_count && !seen; b++)
			seen = streq(batches[b], rec->file);
		if (!seen)
			batches[batch_count++] = rec->file;
	}
	/* take the victims out of the table, keeping them for the events */
	_cleanup_free_ struct dns_record **gone = xcalloc(n + 1, sizeof(*gone));
	size_t gone_count = 0, kept = 0;
	for (size_t i = 0; i < n; i++) {
		if (victims[i])
			gone[gone_count++] = db.records[i];
		else
			db.records[kept++] = db.records[i];
	}
	db.record_count = kept;
	for (size_t b = 0; b < batch_count; b++) {
		r = record_file_save(batches[b], true, NULL);
		if (r < 0) {
			/* put them back: the batch file still holds them */
			for (size_t i = 0; i < gone_count; i++)
				records_append(gone[i]);
			return pw_error_set(err, r, "cannot rewrite record file: %s", strerror(-r));
		}
	}
	for (size_t i = 0; i < gone_count; i++) {
		broadcast(netd, "record.removed", record_json(&gone[i]->spec));
		record_free(gone[i]);
	}
	if (ret_removed)
		*ret_removed = (unsigned)gone_count;
	return 0;
}

int dns_rpc_record_remove(struct rpc_request *req, void *userdata, json_t **ret_result,
			  struct pw_error *err)
{
	struct netd *netd = userdata;
	struct dns_record_spec s;
	int r = parse_spec(req->params, &s, true, false, err);
	if (r < 0)
		return r;
	/* Normalise like add (so "db.prod.internal." or "10.01.0.9" forms
	 * match) when the domain is known; a record of a VNet that is gone
	 * is matched as given. */
	const char *domain = record_domain(netd, &s);
	bool had_value = s.value != NULL;
	if (!had_value)
		s.value = xstrdup("0.0.0.0");
	if (domain) {
		struct vnet *v = s.vnet ? netd_vnet_find(netd, s.vnet) : NULL;
		struct pw_error verr = {0};
		if (dns_record_validate(&s, domain, v ? v->subnets : NULL, v ? v->subnet_count : 0,
					had_value ? err : &verr) < 0 &&
		    had_value) {
			spec_done(&s);
			return -EINVAL;
		}
	} else {
		lower_in_place(s.name);
		for (size_t i = 0; i < ARRAY_SIZE(record_types); i++)
			if (strcasecmp(s.type, record_types[i]) == 0) {
				free(s.type);
				s.type = xstrdup(record_types[i]);
			}
	}
	unsigned removed = 0;
	_cleanup_free_ bool *victims = xcalloc(db.record_count + 1, sizeof(bool));
	for (size_t i = 0; i < db.record_count; i++) {
		struct dns_record_spec *o = &db.records[i]->spec;
		victims[i] = !!o->vnet == !!s.vnet &&
			     streq(o->vnet ? o->vnet : o->zone, s.vnet ? s.vnet : s.zone) &&
			     streq(o->name, s.name) && streq(o->type, s.type) &&
			     (!had_value || streq(o->value, s.value));
	}
	spec_done(&s);
	r = records_delete(netd, victims, &removed, err);
	if (r < 0)
		return r;
	*ret_result = json_pack("{s:I}", "removed", (json_int_t)removed);
	return 0;
}

int dns_rpc_record_list(struct rpc_request *req, void *userdata, json_t **ret_result,
			struct pw_error *err)
{
	const char *vnet = NULL, *zone = NULL;
	int r = json_unpack_err(req->params, err, req->method, JSON_STRICT, "{s?:s, s?:s}", "vnet",
				&vnet, "zone", &zone);
	if (r < 0)
		return r;
	json_t *arr = json_array();
	for (size_t i = 0; i < db.record_count; i++) {
		const struct dns_record_spec *s = &db.records[i]->spec;
		if (vnet && (!s->vnet || !streq(s->vnet, vnet)))
			continue;
		if (zone && (!s->zone || strcasecmp(s->zone, zone) != 0))
			continue;
		json_array_append_new(arr, record_json(s));
	}
	*ret_result = json_pack("{s:o}", "records", arr);
	return 0;
}

static int check_vnets_exist(struct netd *netd, const struct dns_zone *z, struct pw_error *err)
{
	for (size_t i = 0; i < z->vnet_count; i++)
		if (!netd_vnet_find(netd, z->vnets[i]))
			return pw_error_set(err, -ENOENT, "vnet '%s' not found", z->vnets[i]);
	return 0;
}

int dns_rpc_zone_create(struct rpc_request *req, void *userdata, json_t **ret_result,
			struct pw_error *err)
{
	struct netd *netd = userdata;
	struct dns_zone *z;
	if (db.zones_fd < 0)
		return pw_error_set(err, -EAGAIN, "dns zones are not available");
	int r = parse_zone(req->params, &z, err);
	if (r < 0)
		return r;
	struct dns_zone *old = zone_find(z->name);
	if (old) {
		/* idempotent: an existing zone is returned as it is */
		*ret_result = zone_json(old);
		zone_free(z);
		return 0;
	}
	if (db.zone_count >= DNS_ZONES_MAX) {
		zone_free(z);
		return pw_error_set(err, -ENOSPC, "too many zones (%d)", DNS_ZONES_MAX);
	}
	for (size_t i = 0; i < netd->vnet_count; i++)
		if (strcasecmp(netd->vnets[i]->domain, z->name) == 0) {
			r = pw_error_set(err, -EEXIST, "'%s' is the domain of vnet '%s'", z->name,
					 netd->vnets[i]->name);
			zone_free(z);
			return r;
		}
	r = check_vnets_exist(netd, z, err);
	if (r < 0) {
		zone_free(z);
		return r;
	}
	r = zone_save(z);
	if (r < 0) {
		zone_free(z);
		return pw_error_set(err, r, "cannot save zone: %s", strerror(-r));
	}
	db.zones = xrealloc(db.zones, (db.zone_count + 1) * sizeof(*db.zones));
	db.zones[db.zone_count++] = z;
	broadcast(netd, "zone.created", zone_json(z));
	*ret_result = zone_json(z);
	return 0;
}

int dns_rpc_zone_delete(struct rpc_request *req, void *userdata, json_t **ret_result,
			struct pw_error *err)
{
	struct netd *netd = userdata;
	const char *name;
	int r = json_unpack_err(req->params, err, req->method, JSON_STRICT, "{s:s}", "name", &name);
	if (r < 0)
		return r;
	_cleanup_free_ char *lname = xstrdup(name);
	strip_dot(lname);
	lower_in_place(lname);
	size_t zi;
	for (zi = 0; zi < db.zone_count; zi++)
		if (streq(db.zones[zi]->name, lname))
			break;
	if (zi == db.zone_count)
		return 0; /* deleting what is gone succeeds */
	/* its records first, so a crash leaves a zone without records rather
	 * than records without a zone */
	_cleanup_free_ bool *victims = xcalloc(db.record_count + 1, sizeof(bool));
	for (size_t i = 0; i < db.record_count; i++)
		victims[i] = db.records[i]->spec.zone && streq(db.records[i]->spec.zone, lname);
	r = records_delete(netd, victims, NULL, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *file = xasprintf("%s.json", lname);
	r = state_remove(db.zones_fd, file);
	if (r < 0)
		return pw_error_set(err, r, "cannot remove zone file: %s", strerror(-r));
	struct dns_zone *z = db.zones[zi];
	memmove(db.zones + zi, db.zones + zi + 1, (db.zone_count - zi - 1) * sizeof(*db.zones));
	db.zone_count--;
	broadcast(netd, "zone.deleted", zone_json(z));
	zone_free(z);
	return 0;
}

int dns_rpc_zone_list(struct rpc_request *req, void *userdata, json_t **ret_result,
		      struct pw_error *err)
{
	int r = json_unpack_err(req->params, err, req->method, JSON_STRICT, "{}");
	if (r < 0)
		return r;
	*ret_result = json_pack("{s:o}", "zones", dns_zones_json_all());
	return 0;
}

static int zone_link_change(struct rpc_request *req, struct netd *netd, bool link,
			    json_t **ret_result, struct pw_error *err)
{
	const char *name, *vnet;
	int r = json_unpack_err(req->params, err, req->method, JSON_STRICT, "{s:s, s:s}", "name",
				&name, "vnet", &vnet);
	if (r < 0)
		return r;
	_cleanup_free_ char *lname = xstrdup(name);
	strip_dot(lname);
	lower_in_place(lname);
	struct dns_zone *z = zone_find(lname);
	if (!z)
		return pw_error_set(err, -ENOENT, "zone '%s' not found", lname);
	if (name_validate_vnet(vnet, err) < 0)
		return -EINVAL;
	size_t i;
	for (i = 0; i < z->vnet_count; i++)
		if (streq(z->vnets[i], vnet))
			break;
	bool linked = i < z->vnet_count;
	if (link == linked) {
		*ret_result = zone_json(z); /* idempotent */
		return 0;
	}
	if (link) {
		if (!netd_vnet_find(netd, vnet))
			return pw_error_set(err, -ENOENT, "vnet '%s' not found", vnet);
		z->vnets = xrealloc(z->vnets, (z->vnet_count + 2) * sizeof(char *));
		z->vnets[z->vnet_count++] = xstrdup(vnet);
	} else {
		free(z->vnets[i]);
		memmove(z->vnets + i, z->vnets + i + 1, (z->vnet_count - i - 1) * sizeof(char *));
		z->vnet_count--;
	}
	r = zone_save(z);
	if (r < 0) {
		/* undo in memory: the file still says the old list */
		if (link) {
			free(z->vnets[--z->vnet_count]);
		} else {
			z->vnets = xrealloc(z->vnets, (z->vnet_count + 2) * sizeof(char *));
			memmove(z->vnets + i + 1, z->vnets + i,
				(z->vnet_count - i) * sizeof(char *));
			z->vnets[i] = xstrdup(vnet);
			z->vnet_count++;
		}
		return pw_error_set(err, r, "cannot save zone: %s", strerror(-r));
	}
	broadcast(netd, link ? "zone.linked" : "zone.unlinked", zone_json(z));
	*ret_result = zone_json(z);
	return 0;
}

int dns_rpc_zone_link(struct rpc_request *req, void *userdata, json_t **ret_result,
		      struct pw_error *err)
{
	return zone_link_change(req, userdata, true, ret_result, err);
}

int dns_rpc_zone_unlink(struct rpc_request *req, void *userdata, json_t **ret_result,
			struct pw_error *err)
{
	return zone_link_change(req, userdata, false, ret_result, err);
}
