/* dnsd's model of netd's objects and how they become RRs: see model.h.
 *
 * What each object contributes (tag = the object, so it can be removed
 * exactly):
 *   VNet V:     host.D and gateway.D -> V's gateways; PTR gateway -> gateway.D
 *   group G:    G.D, HOSTNAME.D, ALIAS.D -> G's addresses on V (A/AAAA);
 *               PTR of each address -> HOSTNAME.D (or G.D)
 *   record R:   its RR in V's domain, V's reverse zone (PTR by address), or
 *               its zone
 * where D is V's domain. Names that are not valid DNS names (a 64-character
 * container id) are skipped: they cannot be asked for. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dname.h"
#include "log.h"
#include "model.h"
#include "rdata.h"
#include "xalloc.h"

struct group_entry {
	struct group_info info;
	bool seen;
};

struct admin_zone {
	struct zone_info info;
	struct dns_scope scope;
	bool seen;
};

struct record_entry {
	char *key;
	struct record_info info;
	struct dns_scope *scope; /* where it is installed; NULL while pending */
	uint8_t owner_len;
	uint8_t owner[DNS_WIRE_NAME_MAX];
	uint16_t rdlen;
	uint8_t *rdata;
	bool seen;
};

void group_info_done(struct group_info *g)
{
	free(g->aliases);
	g->aliases = NULL;
	g->alias_count = 0;
	free(g->attachments);
	g->attachments = NULL;
	g->attachment_count = 0;
}

void record_info_done(struct record_info *r)
{
	free(r->value);
	r->value = NULL;
}

void zone_info_done(struct zone_info *z)
{
	free(z->vnets);
	z->vnets = NULL;
	z->vnet_count = 0;
}

void model_init(struct model *m, const struct model_hooks *hooks)
{
	memset(m, 0, sizeof(*m));
	zone_table_init(&m->table);
	strmap_init(&m->views);
	strmap_init(&m->groups);
	strmap_init(&m->zones);
	strmap_init(&m->records);
	strmap_init(&m->apexes);
	if (hooks)
		m->hooks = *hooks;
}

struct view *model_view(struct model *m, const char *name)
{
	return strmap_get(&m->views, name);
}

/* --- helpers --- */

static void apex_register(struct model *m, struct dns_scope *scope)
{
	char key[DNS_WIRE_NAME_MAX];
	resolve_apex_key(scope->apex, scope->apex_len, key);
	scope->apex_next = strmap_get(&m->apexes, key);
	strmap_put(&m->apexes, key, scope);
}

static void apex_unregister(struct model *m, struct dns_scope *scope)
{
	char key[DNS_WIRE_NAME_MAX];
	resolve_apex_key(scope->apex, scope->apex_len, key);
	struct dns_scope *head = strmap_get(&m->apexes, key);
	if (head == scope) {
		if (scope->apex_next)
			strmap_put(&m->apexes, key, scope->apex_next);
		else
			strmap_remove(&m->apexes, key);
	} else {
		for (struct dns_scope *s = head; s; s = s->apex_next)
			if (s->apex_next == scope) {
				s->apex_next = scope->apex_next;
				break;
			}
	}
	scope->apex_next = NULL;
}

/* label + domain apex -> owner; -EINVAL if label is not a valid name. */
static int name_under(const char *label, const struct dns_scope *scope, uint8_t *out)
{
	uint8_t wire[DNS_WIRE_NAME_MAX];
	if (name_validate_domain(label, NULL) < 0)
		return -EINVAL;
	int n = dns_name_from_text(label, wire, true);
	if (n < 0)
		return n;
	return dns_name_concat(wire, (size_t)n, scope->apex, scope->apex_len, out);
}

static struct dns_scope *view_reverse_scope(struct view *v, const struct ip_addr *addr)
{
	for (size_t i = 0; i < v->info.subnet_count; i++)
		if (ip_prefix_contains(&v->info.subnets[i], addr))
			return &v->reverse_scopes[i];
	return NULL;
}

static bool zone_linked_to(const struct admin_zone *z, const char *vnet)
{
	for (size_t i = 0; i < z->info.vnet_count; i++)
		if (streq(z->info.vnets[i], vnet))
			return true;
	return false;
}

static void view_rebuild_scope_list(struct model *m, struct view *v)
{
	size_t need =
	    1 + v->info.subnet_count + m->zones.count + v->info.peer_count * (1 + VIEW_SUBNETS_MAX);
	if (need > v->scope_list_cap) {
		v->scope_list = xrealloc(v->scope_list, need * sizeof(*v->scope_list));
		v->scope_list_cap = need;
	}
	size_t n = 0;
	v->scope_list[n++] = &v->domain_scope;
	for (size_t i = 0; i < v->info.subnet_count; i++)
		v->scope_list[n++] = &v->reverse_scopes[i];
	size_t it;
	for (struct strmap_entry *e = strmap_first(&m->zones, &it); e;
	     e = strmap_next(&m->zones, &it, e)) {
		struct admin_zone *z = e->value;
		if (zone_linked_to(z, v->info.name))
			v->scope_list[n++] = &z->scope;
	}
	/* Peered VNets' names; a peer not known yet is added when it comes
	 * (model_vnet_set rebuilds every view's list). */
	for (size_t i = 0; i < v->info.peer_count; i++) {
		struct view *p = strmap_get(&m->views, v->info.peers[i]);

		if (!p || p == v)
			continue;
		v->scope_list[n++] = &p->domain_scope;
		for (size_t j = 0; j < p->info.subnet_count; j++)
			v->scope_list[n++] = &p->reverse_scopes[j];
	}
	v->resolve.scopes = v->scope_list;
	v->resolve.scope_count = n;
	v->resolve.domain = &v->domain_scope;
	v->resolve.all_apexes = &m->apexes;
}

static void all_views_rebuild_scope_lists(struct model *m)
{
	size_t it;
	for (struct strmap_entry *e = strmap_first(&m->views, &it); e;
	     e = strmap_next(&m->views, &it, e))
		view_rebuild_scope_list(m, e->value);
}

/* --- groups --- */

static void address_rr(const struct ip_addr *a, uint16_t *type, uint16_t *len)
{
	*type = a->family == AF_INET ? DNS_TYPE_A : DNS_TYPE_AAAA;
	*len = a->family == AF_INET ? 4 : 16;
}

static void group_apply_view(struct model *m, struct group_entry *g, struct view *v, bool add)
{
	const struct group_info *gi = &g->info;
	const char *names[2 + GROUP_ALIASES_MAX];
	size_t name_count = 0;
	names[name_count++] = gi->id;
	if (gi->hostname[0] && strcasecmp(gi->hostname, gi->id) != 0)
		names[name_count++] = gi->hostname;
	for (size_t i = 0; i < gi->alias_count; i++)
		names[name_count++] = gi->aliases[i];

	/* PTR target: the host name if set, else the id. */
	uint8_t target[DNS_WIRE_NAME_MAX];
	int target_len =
	    name_under(gi->hostname[0] ? gi->hostname : gi->id, &v->domain_scope, target);

	for (size_t a = 0; a < gi->attachment_count; a++) {
		const struct attachment_info *at = &gi->attachments[a];
		if (!streq(at->vnet, v->info.name))
			continue;
		for (size_t n = 0; n < name_count; n++) {
			uint8_t owner[DNS_WIRE_NAME_MAX];
			int len = name_under(names[n], &v->domain_scope, owner);
			if (len < 0) {
				log_debug("group name is not a DNS name, skipped group=%s name=%s",
					  gi->id, names[n]);
				continue;
			}
			if (!add) {
				zone_remove_tag(&m->table, &v->domain_scope, owner, (size_t)len, 0,
						g);
				continue;
			}
			for (size_t i = 0; i < at->address_count; i++) {
				uint16_t type, rdlen;
				address_rr(&at->addresses[i], &type, &rdlen);
				zone_add_rr(&m->table, &v->domain_scope, owner, (size_t)len, type,
					    DNS_LOCAL_TTL, at->addresses[i].addr.bytes, rdlen, g);
			}
		}
		for (size_t i = 0; i < at->address_count; i++) {
			uint8_t rev[DNS_WIRE_NAME_MAX];
			struct dns_scope *rs = view_reverse_scope(v, &at->addresses[i]);
			if (!rs || target_len < 0)
				continue;
			int len = dns_reverse_name(&at->addresses[i], rev);
			if (add)
				zone_add_rr(&m->table, rs, rev, (size_t)len, DNS_TYPE_PTR,
					    DNS_LOCAL_TTL, target, (uint16_t)target_len, g);
			else
				zone_remove_tag(&m->table, rs, rev, (size_t)len, DNS_TYPE_PTR, g);
		}
	}
}

static void group_apply(struct model *m, struct group_entry *g, bool add)
{
	for (size_t a = 0; a < g->info.attachment_count; a++) {
		struct view *v = model_view(m, g->info.attachments[a].vnet);
		/* once per view even if attached twice */
		bool done = false;
		for (size_t b = 0; b < a; b++)
			if (streq(g->info.attachments[b].vnet, g->info.attachments[a].vnet))
				done = true;
		if (v && !done)
			group_apply_view(m, g, v, add);
	}
}

static bool group_info_equal(const struct group_info *a, const struct group_info *b)
{
	if (!streq(a->id, b->id) || !streq(a->hostname, b->hostname) ||
	    a->alias_count != b->alias_count || a->attachment_count != b->attachment_count)
		return false;
	for (size_t i = 0; i < a->alias_count; i++)
		if (!streq(a->aliases[i], b->aliases[i]))
			return false;
	for (size_t i = 0; i < a->attachment_count; i++) {
		const struct attachment_info *x = &a->attachments[i], *y = &b->attachments[i];
		if (!streq(x->vnet, y->vnet) || x->address_count != y->address_count)
			return false;
		for (size_t j = 0; j < x->address_count; j++)
			if (!ip_addr_equal(&x->addresses[j], &y->addresses[j]))
				return false;
	}
	return true;
}

void model_group_set(struct model *m, struct group_info *info)
{
	struct group_entry *g = strmap_get(&m->groups, info->id);
	if (g) {
		g->seen = true;
		if (group_info_equal(&g->info, info)) {
			group_info_done(info);
			return;
		}
		group_apply(m, g, false);
		group_info_done(&g->info);
	} else {
		g = xcalloc(1, sizeof(*g));
		g->seen = true;
		strmap_put(&m->groups, info->id, g);
	}
	g->info = *info;
	info->attachments = NULL;
	info->attachment_count = 0;
	info->aliases = NULL;
	info->alias_count = 0;
	group_apply(m, g, true);
	m->generation++;
}

bool model_group_unchanged(struct model *m, const struct group_info *info)
{
	struct group_entry *g = strmap_get(&m->groups, info->id);
	if (!g || !group_info_equal(&g->info, info))
		return false;
	g->seen = true;
	return true;
}

void model_group_remove(struct model *m, const char *id)
{
	struct group_entry *g = strmap_remove(&m->groups, id);
	if (!g)
		return;
	group_apply(m, g, false);
	group_info_done(&g->info);
	free(g);
	m->generation++;
}

/* --- records --- */

static char *record_key(const struct record_info *r)
{
	return xasprintf("%s/%s|%s|%s|%s", r->vnet[0] ? "v" : "z", r->vnet[0] ? r->vnet : r->zone,
			 r->name, dns_type_to_text(r->type), r->value ? r->value : "");
}

/* Owner of a record: "@" = apex; a trailing dot = absolute (must be under
 * the apex); otherwise relative to the apex. */
static int record_owner(const char *name, const struct dns_scope *scope, uint8_t *out)
{
	uint8_t wire[DNS_WIRE_NAME_MAX];
	if (streq(name, "@")) {
		memcpy(out, scope->apex, scope->apex_len);
		return scope->apex_len;
	}
	size_t len = strlen(name);
	if (len > 0 && name[len - 1] == '.')
		return dns_name_from_text(name, out, true);
	int n = dns_name_from_text(name, wire, true);
	if (n < 0)
		return n;
	return dns_name_concat(wire, (size_t)n, scope->apex, scope->apex_len, out);
}

/* Finds where a record goes now; NULL if its VNet or zone is not known. */
static struct dns_scope *record_locate(struct model *m, struct record_entry *r)
{
	struct dns_scope *scope = NULL;
	struct ip_addr addr;
	int n;

	if (r->info.vnet[0]) {
		struct view *v = model_view(m, r->info.vnet);
		if (!v)
			return NULL;
		if (r->info.type == DNS_TYPE_PTR &&
		    ip_addr_parse(r->info.name, AF_UNSPEC, &addr) == 0) {
			scope = view_reverse_scope(v, &addr);
			if (!scope)
				return NULL;
			n = dns_reverse_name(&addr, r->owner);
		} else {
			scope = &v->domain_scope;
			n = record_owner(r->info.name, scope, r->owner);
		}
	} else {
		struct admin_zone *z = strmap_get(&m->zones, r->info.zone);
		if (!z)
			return NULL;
		scope = &z->scope;
		n = record_owner(r->info.name, scope, r->owner);
	}
	if (n < 0)
		return NULL;
	r->owner_len = (uint8_t)n;
	return scope;
}

static void record_install(struct model *m, struct record_entry *r)
{
	if (r->scope || !r->rdata)
		return;
	struct dns_scope *scope = record_locate(m, r);
	if (!scope)
		return;
	if (zone_add_rr(&m->table, scope, r->owner, r->owner_len, r->info.type, r->info.ttl,
			r->rdata, r->rdlen, r) < 0) {
		log_warn("record is outside its zone, ignored record=%s", r->key);
		return;
	}
	r->scope = scope;
}

static void record_uninstall(struct model *m, struct record_entry *r)
{
	if (!r->scope)
		return;
	zone_remove_tag(&m->table, r->scope, r->owner, r->owner_len, r->info.type, r);
	r->scope = NULL;
}

/* Records installed in scopes that are about to be cleared. */
static void records_forget_scopes(struct model *m, struct dns_scope *const *scopes, size_t count)
{
	size_t it;
	for (struct strmap_entry *e = strmap_first(&m->records, &it); e;
	     e = strmap_next(&m->records, &it, e)) {
		struct record_entry *r = e->value;
		for (size_t i = 0; i < count; i++)
			if (r->scope == scopes[i])
				r->scope = NULL;
	}
}

static void records_install_pending(struct model *m)
{
	size_t it;
	for (struct strmap_entry *e = strmap_first(&m->records, &it); e;
	     e = strmap_next(&m->records, &it, e))
		record_install(m, e->value);
}

void model_record_set(struct model *m, struct record_info *info)
{
	_cleanup_free_ char *key = record_key(info);
	struct record_entry *r = strmap_get(&m->records, key);
	if (r) {
		r->seen = true;
		if (r->info.ttl == info->ttl) {
			record_info_done(info);
			return;
		}
		record_uninstall(m, r);
		r->info.ttl = info->ttl;
		record_info_done(info);
		record_install(m, r);
		m->generation++;
		return;
	}
	r = xcalloc(1, sizeof(*r));
	r->seen = true;
	r->key = TAKE_PTR(key);
	r->info = *info;
	info->value = NULL;
	uint8_t rdata[DNS_RDATA_MAX];
	int n = dns_rdata_from_text(r->info.type, r->info.value, rdata);
	if (n < 0) {
		log_warn("record value cannot be encoded, ignored record=%s", r->key);
	} else {
		r->rdata = xmalloc((size_t)n);
		memcpy(r->rdata, rdata, (size_t)n);
		r->rdlen = (uint16_t)n;
	}
	strmap_put(&m->records, r->key, r);
	record_install(m, r);
	m->generation++;
}

bool model_record_unchanged(struct model *m, const struct record_info *info)
{
	_cleanup_free_ char *key = record_key(info);
	struct record_entry *r = strmap_get(&m->records, key);
	if (!r || r->info.ttl != info->ttl)
		return false;
	r->seen = true;
	return true;
}

static void record_free(struct record_entry *r)
{
	record_info_done(&r->info);
	free(r->rdata);
	free(r->key);
	free(r);
}

void model_record_remove(struct model *m, const struct record_info *info)
{
	_cleanup_free_ char *key = record_key(info);
	struct record_entry *r = strmap_remove(&m->records, key);
	if (!r)
		return;
	record_uninstall(m, r);
	record_free(r);
	m->generation++;
}

/* --- views --- */

static void view_init_scopes(struct model *m, struct view *v)
{
	uint8_t apex[DNS_WIRE_NAME_MAX];
	int n = dns_name_from_text(v->info.domain, apex, true);
	if (n < 0) {
		/* netd validates domains; fall back to "<vnet>.internal" */
		char fallback[64];
		snprintf(fallback, sizeof(fallback), "%s.internal", v->info.name);
		n = dns_name_from_text(fallback, apex, true);
	}
	zone_scope_init(&m->table, &v->domain_scope, DNS_SCOPE_DOMAIN, apex, (size_t)n, NULL);
	apex_register(m, &v->domain_scope);
	for (size_t i = 0; i < v->info.subnet_count; i++) {
		n = dns_reverse_apex(&v->info.subnets[i], apex);
		zone_scope_init(&m->table, &v->reverse_scopes[i], DNS_SCOPE_REVERSE, apex,
				(size_t)n, &v->info.subnets[i]);
		apex_register(m, &v->reverse_scopes[i]);
	}
}

static void view_add_own_names(struct model *m, struct view *v)
{
	static const char *const own_names[] = {"host", "gateway"};
	uint8_t target[DNS_WIRE_NAME_MAX];
	int target_len = name_under("gateway", &v->domain_scope, target);

	for (size_t n = 0; n < ARRAY_SIZE(own_names); n++) {
		uint8_t owner[DNS_WIRE_NAME_MAX];
		int len = name_under(own_names[n], &v->domain_scope, owner);
		if (len < 0)
			continue;
		for (size_t i = 0; i < v->info.gateway_count; i++) {
			uint16_t type, rdlen;
			address_rr(&v->info.gateways[i], &type, &rdlen);
			zone_add_rr(&m->table, &v->domain_scope, owner, (size_t)len, type,
				    DNS_LOCAL_TTL, v->info.gateways[i].addr.bytes, rdlen, v);
		}
	}
	for (size_t i = 0; i < v->info.gateway_count && target_len > 0; i++) {
		uint8_t rev[DNS_WIRE_NAME_MAX];
		struct dns_scope *rs = view_reverse_scope(v, &v->info.gateways[i]);
		if (!rs)
			continue;
		int len = dns_reverse_name(&v->info.gateways[i], rev);
		zone_add_rr(&m->table, rs, rev, (size_t)len, DNS_TYPE_PTR, DNS_LOCAL_TTL, target,
			    (uint16_t)target_len, v);
	}
}

/* Fills a view's tables from the model: its own names, the groups on it,
 * its records. */
static void view_fill(struct model *m, struct view *v)
{
	view_add_own_names(m, v);
	size_t it;
	for (struct strmap_entry *e = strmap_first(&m->groups, &it); e;
	     e = strmap_next(&m->groups, &it, e)) {
		struct group_entry *g = e->value;
		for (size_t a = 0; a < g->info.attachment_count; a++)
			if (streq(g->info.attachments[a].vnet, v->info.name)) {
				group_apply_view(m, g, v, true);
				break;
			}
	}
	records_install_pending(m);
	view_rebuild_scope_list(m, v);
}

static void view_empty(struct model *m, struct view *v)
{
	struct dns_scope *scopes[1 + VIEW_SUBNETS_MAX];
	size_t count = 0;
	scopes[count++] = &v->domain_scope;
	for (size_t i = 0; i < v->info.subnet_count; i++)
		scopes[count++] = &v->reverse_scopes[i];
	records_forget_scopes(m, scopes, count);
	for (size_t i = 0; i < count; i++) {
		zone_scope_clear(&m->table, scopes[i]);
		apex_unregister(m, scopes[i]);
	}
}

static bool vnet_info_equal(const struct vnet_info *a, const struct vnet_info *b)
{
	if (!streq(a->name, b->name) || strcasecmp(a->domain, b->domain) != 0 ||
	    a->subnet_count != b->subnet_count || a->gateway_count != b->gateway_count ||
	    a->upstream_count != b->upstream_count || a->peer_count != b->peer_count)
		return false;
	for (size_t i = 0; i < a->peer_count; i++)
		if (!streq(a->peers[i], b->peers[i]))
			return false;
	for (size_t i = 0; i < a->subnet_count; i++)
		if (a->subnets[i].prefixlen != b->subnets[i].prefixlen ||
		    a->subnets[i].family != b->subnets[i].family ||
		    memcmp(&a->subnets[i].addr, &b->subnets[i].addr, sizeof(a->subnets[i].addr)))
			return false;
	for (size_t i = 0; i < a->gateway_count; i++)
		if (!ip_addr_equal(&a->gateways[i], &b->gateways[i]))
			return false;
	for (size_t i = 0; i < a->upstream_count; i++)
		if (!ip_addr_equal(&a->upstreams[i], &b->upstreams[i]))
			return false;
	return true;
}

void model_vnet_set(struct model *m, struct vnet_info *info)
{
	struct view *v = model_view(m, info->name);
	if (v) {
		v->seen = true;
		if (vnet_info_equal(&v->info, info))
			return;
		struct vnet_info old = v->info;
		view_empty(m, v);
		v->info = *info;
		view_init_scopes(m, v);
		view_fill(m, v);
		/* Its peers list may have changed, and other views list its
		 * scopes as a peer's. */
		all_views_rebuild_scope_lists(m);
		m->generation++;
		if (m->hooks.view_changed)
			m->hooks.view_changed(m, v, &old, m->hooks.userdata);
		return;
	}
	v = xcalloc(1, sizeof(*v));
	v->seen = true;
	v->info = *info;
	view_init_scopes(m, v);
	strmap_put(&m->views, v->info.name, v);
	view_fill(m, v);
	all_views_rebuild_scope_lists(m);
	m->generation++;
	if (m->hooks.view_added)
		m->hooks.view_added(m, v, m->hooks.userdata);
}

bool model_vnet_unchanged(struct model *m, const struct vnet_info *info)
{
	struct view *v = model_view(m, info->name);
	if (!v || !vnet_info_equal(&v->info, info))
		return false;
	v->seen = true;
	return true;
}

static void view_free(struct model *m, struct view *v)
{
	if (m->hooks.view_removed)
		m->hooks.view_removed(m, v, m->hooks.userdata);
	view_empty(m, v);
	free(v->scope_list);
	free(v);
}

void model_vnet_remove(struct model *m, const char *name)
{
	struct view *v = strmap_remove(&m->views, name);
	if (!v)
		return;
	view_free(m, v);
	/* No view may keep pointing at its scopes as a peer's. */
	all_views_rebuild_scope_lists(m);
	m->generation++;
}

/* --- zones --- */

void model_zone_set(struct model *m, struct zone_info *info)
{
	struct admin_zone *z = strmap_get(&m->zones, info->name);
	if (z) {
		z->seen = true;
		zone_info_done(&z->info);
		z->info = *info;
		info->vnets = NULL;
		info->vnet_count = 0;
		all_views_rebuild_scope_lists(m);
		m->generation++;
		return;
	}
	uint8_t apex[DNS_WIRE_NAME_MAX];
	int n = dns_name_from_text(info->name, apex, true);
	if (n < 0) {
		log_warn("zone name is not a DNS name, ignored zone=%s", info->name);
		zone_info_done(info);
		return;
	}
	z = xcalloc(1, sizeof(*z));
	z->seen = true;
	z->info = *info;
	info->vnets = NULL;
	info->vnet_count = 0;
	zone_scope_init(&m->table, &z->scope, DNS_SCOPE_ZONE, apex, (size_t)n, NULL);
	apex_register(m, &z->scope);
	strmap_put(&m->zones, z->info.name, z);
	records_install_pending(m);
	all_views_rebuild_scope_lists(m);
	m->generation++;
}

bool model_zone_unchanged(struct model *m, const struct zone_info *info)
{
	struct admin_zone *z = strmap_get(&m->zones, info->name);
	if (!z || z->info.vnet_count != info->vnet_count)
		return false;
	for (size_t i = 0; i < info->vnet_count; i++)
		if (!streq(z->info.vnets[i], info->vnets[i]))
			return false;
	z->seen = true;
	return true;
}

static void zone_free(struct model *m, struct admin_zone *z)
{
	struct dns_scope *scope = &z->scope;
	records_forget_scopes(m, &scope, 1);
	zone_scope_clear(&m->table, &z->scope);
	apex_unregister(m, &z->scope);
	zone_info_done(&z->info);
	free(z);
}

void model_zone_remove(struct model *m, const char *name)
{
	struct admin_zone *z = strmap_remove(&m->zones, name);
	if (!z)
		return;
	zone_free(m, z);
	all_views_rebuild_scope_lists(m);
	m->generation++;
}

/* --- snapshots --- */

void model_snapshot_begin(struct model *m)
{
	size_t it;
	struct strmap *maps[] = {&m->views, &m->groups, &m->zones, &m->records};
	for (size_t i = 0; i < ARRAY_SIZE(maps); i++)
		for (struct strmap_entry *e = strmap_first(maps[i], &it); e;
		     e = strmap_next(maps[i], &it, e)) {
			if (maps[i] == &m->views)
				((struct view *)e->value)->seen = false;
			else if (maps[i] == &m->groups)
				((struct group_entry *)e->value)->seen = false;
			else if (maps[i] == &m->zones)
				((struct admin_zone *)e->value)->seen = false;
			else
				((struct record_entry *)e->value)->seen = false;
		}
}

/* Collects the keys of unseen entries of one map (removal during
 * iteration is not allowed). */
static char **unseen_keys(struct strmap *map, bool (*seen)(void *), size_t *ret_count)
{
	char **keys = xcalloc(map->count + 1, sizeof(char *));
	size_t count = 0, it;
	for (struct strmap_entry *e = strmap_first(map, &it); e; e = strmap_next(map, &it, e))
		if (!seen(e->value))
			keys[count++] = xstrdup(e->key);
	*ret_count = count;
	return keys;
}

static bool view_seen(void *p)
{
	return ((struct view *)p)->seen;
}
static bool group_seen(void *p)
{
	return ((struct group_entry *)p)->seen;
}
static bool zone_seen(void *p)
{
	return ((struct admin_zone *)p)->seen;
}
static bool record_seen(void *p)
{
	return ((struct record_entry *)p)->seen;
}

void model_snapshot_end(struct model *m)
{
	size_t count;
	char **keys = unseen_keys(&m->records, record_seen, &count);
	for (size_t i = 0; i < count; i++) {
		struct record_entry *r = strmap_remove(&m->records, keys[i]);
		record_uninstall(m, r);
		record_free(r);
		free(keys[i]);
	}
	free(keys);
	keys = unseen_keys(&m->groups, group_seen, &count);
	for (size_t i = 0; i < count; i++) {
		model_group_remove(m, keys[i]);
		free(keys[i]);
	}
	free(keys);
	keys = unseen_keys(&m->zones, zone_seen, &count);
	for (size_t i = 0; i < count; i++) {
		model_zone_remove(m, keys[i]);
		free(keys[i]);
	}
	free(keys);
	keys = unseen_keys(&m->views, view_seen, &count);
	for (size_t i = 0; i < count; i++) {
		model_vnet_remove(m, keys[i]);
		free(keys[i]);
	}
	free(keys);
	m->generation++;
}

void model_done(struct model *m)
{
	/* everything is unseen after a begin: end removes it all */
	model_snapshot_begin(m);
	model_snapshot_end(m);
	strmap_done(&m->views);
	strmap_done(&m->groups);
	strmap_done(&m->zones);
	strmap_done(&m->records);
	strmap_done(&m->apexes);
	zone_table_done(&m->table);
}
