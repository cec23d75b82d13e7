/* Local answers: see resolve.h. RFC 1034 4.3.2 in miniature: find the
 * zone, the node, the RRset; follow CNAMEs; otherwise NXDOMAIN or NODATA
 * with the SOA in the authority section (RFC 2308 section 3). */
#include <string.h>

#include "dname.h"
#include "resolve.h"

/* SOA timers: refresh, retry, expire are nominal (there are no
 * secondaries); minimum is the negative-caching TTL (RFC 2308). */
static void scope_soa_values(const struct dns_scope *s, uint32_t values[5])
{
	values[0] = s->serial;
	values[1] = 3600;
	values[2] = 600;
	values[3] = 86400;
	values[4] = DNS_LOCAL_TTL;
}

static bool is_label_boundary(const uint8_t *name, size_t len, size_t start)
{
	size_t i = 0;
	while (i < start && i < len)
		i += 1 + name[i];
	return i == start;
}

struct dns_scope *resolve_find_scope(const struct resolve_view *view, const uint8_t *name,
				     size_t name_len)
{
	struct dns_scope *best = NULL;
	for (size_t i = 0; i < view->scope_count; i++) {
		struct dns_scope *s = view->scopes[i];
		if (s->apex_len > name_len || (best && s->apex_len <= best->apex_len))
			continue;
		size_t start = name_len - s->apex_len;
		if (memcmp(name + start, s->apex, s->apex_len) != 0 ||
		    !is_label_boundary(name, name_len, start))
			continue;
		if (s->kind == DNS_SCOPE_REVERSE &&
		    !dns_reverse_in_prefix(name, name_len, &s->prefix))
			continue;
		best = s;
	}
	return best;
}

void resolve_apex_key(const uint8_t *name, size_t len, char *key)
{
	size_t n = len > 0 ? len - 1 : 0;
	memcpy(key, name, n);
	key[n] = 0;
}

/* A podwire scope (of any VNet or zone) holding name, or NULL. */
static struct dns_scope *find_foreign_scope(const struct resolve_view *view, const uint8_t *name,
					    size_t name_len)
{
	char key[DNS_WIRE_NAME_MAX];
	if (!view->all_apexes || view->all_apexes->count == 0)
		return NULL;
	for (size_t i = 0; i < name_len && name[i] != 0; i += 1 + name[i]) {
		resolve_apex_key(name + i, name_len - i, key);
		for (struct dns_scope *s = strmap_get(view->all_apexes, key); s; s = s->apex_next)
			if (s->kind != DNS_SCOPE_REVERSE ||
			    dns_reverse_in_prefix(name, name_len, &s->prefix))
				return s;
	}
	return NULL;
}

static int add_soa(struct dns_builder *b, enum dns_section section, const struct dns_scope *s)
{
	uint32_t values[5];
	scope_soa_values(s, values);
	return dns_builder_add_soa(b, section, s->apex, s->apex_len, DNS_LOCAL_TTL, s->soa_mname,
				   s->soa_mname_len, s->soa_rname, s->soa_rname_len, values);
}

static enum resolve_result truncated(struct dns_builder *b)
{
	dns_builder_truncate(b);
	dns_builder_set_flags(b, DNS_FLAG_TC);
	return RESOLVE_ANSWERED;
}

enum resolve_result resolve_local(const struct zone_table *t, const struct resolve_view *view,
				  const struct dns_query *q, struct dns_builder *b)
{
	uint8_t expanded[DNS_WIRE_NAME_MAX];
	const uint8_t *name = q->qname;
	size_t name_len = q->qname_len;
	struct dns_scope *scope = resolve_find_scope(view, name, name_len);
	struct dns_node *node = NULL;

	if (!scope) {
		/* Another VNet's domain, reverse zone or an unlinked zone:
		 * NXDOMAIN, as if it did not exist. */
		struct dns_scope *foreign = find_foreign_scope(view, name, name_len);
		if (foreign) {
			dns_builder_set_flags(b, DNS_FLAG_AA);
			dns_builder_set_rcode(b, DNS_RCODE_NXDOMAIN);
			if (add_soa(b, DNS_SECTION_AUTHORITY, foreign) < 0)
				return truncated(b);
			return RESOLVE_ANSWERED;
		}
		/* "web" means web.<domain> when that exists; anything else
		 * single-label ("localhost", a TLD) goes upstream. */
		if (q->label_count != 2 || !view->domain)
			return RESOLVE_FORWARD;
		int r = dns_name_concat(q->qname, q->qname_len, view->domain->apex,
					view->domain->apex_len, expanded);
		if (r < 0)
			return RESOLVE_FORWARD;
		node = zone_find(t, view->domain, expanded, (size_t)r,
				 zone_hash(view->domain, expanded, (size_t)r));
		if (!node)
			return RESOLVE_FORWARD;
		scope = view->domain;
	} else {
		node = zone_find(t, scope, name, name_len, zone_hash(scope, name, name_len));
	}

	dns_builder_set_flags(b, DNS_FLAG_AA);
	/* owner of the first hop is the name as asked (compressed to the
	 * question, so the client's case comes back) */
	const uint8_t *owner = q->qname;
	size_t owner_len = q->qname_len;

	for (int hop = 0;; hop++) {
		if (!node) {
			/* RFC 6604: the rcode describes the last name of the chain. */
			dns_builder_set_rcode(b, DNS_RCODE_NXDOMAIN);
			if (add_soa(b, DNS_SECTION_AUTHORITY, scope) < 0)
				return truncated(b);
			return RESOLVE_ANSWERED;
		}
		bool answered = false;
		const struct dns_rr *cname = NULL;
		for (const struct dns_rr *rr = node->rrs; rr; rr = rr->next) {
			if (rr->type == q->qtype || q->qtype == DNS_TYPE_ANY) {
				if (dns_builder_add_rr(b, DNS_SECTION_ANSWER, owner, owner_len,
						       rr->type, rr->ttl, rr->rdata, rr->rdlen) < 0)
					return truncated(b);
				answered = true;
			} else if (rr->type == DNS_TYPE_CNAME) {
				cname = rr;
			}
		}
		if (q->qtype == DNS_TYPE_SOA && node->name_len == scope->apex_len) {
			if (add_soa(b, DNS_SECTION_ANSWER, scope) < 0)
				return truncated(b);
			answered = true;
		}
		if (answered)
			return RESOLVE_ANSWERED;
		if (!cname) {
			/* NODATA */
			if (add_soa(b, DNS_SECTION_AUTHORITY, scope) < 0)
				return truncated(b);
			return RESOLVE_ANSWERED;
		}
		if (dns_builder_add_rr(b, DNS_SECTION_ANSWER, owner, owner_len, DNS_TYPE_CNAME,
				       cname->ttl, cname->rdata, cname->rdlen) < 0)
			return truncated(b);
		if (hop + 1 >= RESOLVE_CNAME_MAX)
			return RESOLVE_ANSWERED;
		/* Chase within this VNet's scopes only; a target elsewhere is
		 * left to the client's resolver (the CNAME alone is a valid
		 * answer). */
		owner = cname->rdata;
		owner_len = cname->rdlen;
		struct dns_scope *next = resolve_find_scope(view, owner, owner_len);
		if (!next)
			return RESOLVE_ANSWERED;
		scope = next;
		node = zone_find(t, scope, owner, owner_len, zone_hash(scope, owner, owner_len));
	}
}
