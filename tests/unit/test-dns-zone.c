/* Unit tests for dnsd's lookup tables and local answers (dns/zone.c,
 * dns/model.c, dns/resolve.c), driven through the model with typed netd
 * objects as dnsd's feed would: scoping between VNets, zones linked or
 * not, CNAME chasing, NXDOMAIN/NODATA with SOA, PTR, incremental removal,
 * and the hand-written JSON-lines form of netd's snapshot and events. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../dns/dname.h"
#include "../../dns/feed.h"
#include "../../dns/model.h"
#include "../../dns/resolve.h"
#include "../../dns/wire.h"

struct answer {
	enum resolve_result result;
	int rcode;
	uint16_t flags;
	unsigned ancount, nscount;
	char first[256]; /* first answer's rdata as text (A/AAAA/names) */
	uint16_t first_type;
};

static void rdata_text(const uint8_t *msg, size_t len, uint16_t type, size_t off, uint16_t rdlen,
		       char *out, size_t size)
{
	uint8_t name[DNS_WIRE_NAME_MAX];
	if (type == DNS_TYPE_A && rdlen == 4) {
		snprintf(out, size, "%u.%u.%u.%u", msg[off], msg[off + 1], msg[off + 2],
			 msg[off + 3]);
	} else if (type == DNS_TYPE_CNAME || type == DNS_TYPE_PTR) {
		size_t o = off;
		int n = dns_name_read(msg, len, &o, name, true);
		assert_true(n > 0);
		char text[1024];
		dns_name_to_text(name, (size_t)n, text, sizeof(text));
		snprintf(out, size, "%s", text);
	} else {
		snprintf(out, size, "type%u", type);
	}
}

static struct answer ask(struct model *m, const char *vnet, const char *name, uint16_t qtype)
{
	uint8_t query[512], out[1232];
	struct dns_query q;
	struct dns_builder b;
	struct answer a = {0};

	memset(query, 0, 12);
	dns_put16(query, 1);
	dns_put16(query + 4, 1);
	int n = dns_name_from_text(name, query + 12, false);
	assert_true(n > 0);
	dns_put16(query + 12 + n, qtype);
	dns_put16(query + 14 + n, DNS_CLASS_IN);
	assert_int_equal(dns_query_parse(query, 16 + (size_t)n, &q), DNS_PARSE_OK);

	struct view *v = model_view(m, vnet);
	assert_non_null(v);
	dns_builder_start_reply(&b, out, sizeof(out), &q, 0, 0);
	a.result = resolve_local(&m->table, &v->resolve, &q, &b);
	size_t len = dns_builder_finish(&b);
	a.flags = dns_get16(out + 2);
	a.rcode = DNS_RCODE(a.flags);
	a.ancount = dns_get16(out + 6);
	a.nscount = dns_get16(out + 8);
	if (a.ancount) {
		size_t off = 12 + (size_t)n + 4;
		struct dns_rr_view rr;
		assert_int_equal(dns_rr_skip(out, len, &off, &rr), 0);
		a.first_type = rr.type;
		rdata_text(out, len, rr.type, rr.rdata_offset, rr.rdlen, a.first, sizeof(a.first));
	}
	return a;
}

static void set_vnet(struct model *m, const char *name, const char *subnet, const char *gateway)
{
	struct vnet_info v = {0};
	snprintf(v.name, sizeof(v.name), "%s", name);
	snprintf(v.domain, sizeof(v.domain), "%s.internal", name);
	assert_int_equal(ip_prefix_parse(subnet, AF_INET, &v.subnets[0]), 0);
	assert_int_equal(ip_addr_parse(gateway, AF_INET, &v.gateways[0]), 0);
	v.subnet_count = v.gateway_count = 1;
	model_vnet_set(m, &v);
}

static void set_group(struct model *m, const char *id, const char *hostname, const char *alias,
		      const char *vnet, const char *addr)
{
	struct group_info g = {0};
	snprintf(g.id, sizeof(g.id), "%s", id);
	if (hostname)
		snprintf(g.hostname, sizeof(g.hostname), "%s", hostname);
	if (alias) {
		g.aliases = calloc(1, sizeof(*g.aliases));
		snprintf(g.aliases[0], sizeof(g.aliases[0]), "%s", alias);
		g.alias_count = 1;
	}
	g.attachments = calloc(1, sizeof(*g.attachments));
	g.attachment_count = 1;
	snprintf(g.attachments[0].vnet, sizeof(g.attachments[0].vnet), "%s", vnet);
	assert_int_equal(ip_addr_parse(addr, AF_INET, &g.attachments[0].addresses[0]), 0);
	g.attachments[0].address_count = 1;
	model_group_set(m, &g);
	group_info_done(&g);
}

static void set_record(struct model *m, const char *vnet, const char *zone, const char *name,
		       uint16_t type, const char *value)
{
	struct record_info r = {0};
	if (vnet)
		snprintf(r.vnet, sizeof(r.vnet), "%s", vnet);
	if (zone)
		snprintf(r.zone, sizeof(r.zone), "%s", zone);
	snprintf(r.name, sizeof(r.name), "%s", name);
	r.type = type;
	r.value = strdup(value);
	r.ttl = 60;
	model_record_set(m, &r);
	record_info_done(&r);
}

static void set_zone(struct model *m, const char *name, const char *vnet)
{
	struct zone_info z = {0};
	snprintf(z.name, sizeof(z.name), "%s", name);
	if (vnet) {
		z.vnets = calloc(1, sizeof(*z.vnets));
		snprintf(z.vnets[0], sizeof(z.vnets[0]), "%s", vnet);
		z.vnet_count = 1;
	}
	model_zone_set(m, &z);
	zone_info_done(&z);
}

static void test_group_names_and_scoping(void **state)
{
	struct model m;
	model_init(&m, NULL);
	set_vnet(&m, "prod", "10.1.0.0/24", "10.1.0.1");
	set_vnet(&m, "dev", "10.2.0.0/24", "10.2.0.1");
	set_group(&m, "web", "web", "www", "prod", "10.1.0.2");
	set_group(&m, "db", "database", NULL, "prod", "10.1.0.3");

	struct answer a = ask(&m, "prod", "db.prod.internal", DNS_TYPE_A);
	assert_int_equal(a.result, RESOLVE_ANSWERED);
	assert_int_equal(a.rcode, 0);
	assert_true(a.flags & DNS_FLAG_AA);
	assert_string_equal(a.first, "10.1.0.3");
	assert_string_equal(ask(&m, "prod", "DATABASE.prod.internal", DNS_TYPE_A).first,
			    "10.1.0.3");
	assert_string_equal(ask(&m, "prod", "www", DNS_TYPE_A).first, "10.1.0.2");
	assert_string_equal(ask(&m, "prod", "host.prod.internal", DNS_TYPE_A).first, "10.1.0.1");
	a = ask(&m, "prod", "3.0.1.10.in-addr.arpa", DNS_TYPE_PTR);
	assert_string_equal(a.first, "database.prod.internal.");

	/* NODATA and NXDOMAIN carry the SOA */
	a = ask(&m, "prod", "db.prod.internal", DNS_TYPE_AAAA);
	assert_int_equal(a.rcode, 0);
	assert_int_equal(a.ancount, 0);
	assert_int_equal(a.nscount, 1);
	a = ask(&m, "prod", "nope.prod.internal", DNS_TYPE_A);
	assert_int_equal(a.rcode, DNS_RCODE_NXDOMAIN);
	assert_int_equal(a.nscount, 1);

	/* the other VNet: NXDOMAIN, not forwarded; its own names work */
	a = ask(&m, "dev", "db.prod.internal", DNS_TYPE_A);
	assert_int_equal(a.result, RESOLVE_ANSWERED);
	assert_int_equal(a.rcode, DNS_RCODE_NXDOMAIN);
	a = ask(&m, "dev", "3.0.1.10.in-addr.arpa", DNS_TYPE_PTR);
	assert_int_equal(a.rcode, DNS_RCODE_NXDOMAIN);
	assert_int_equal(ask(&m, "dev", "db", DNS_TYPE_A).result, RESOLVE_FORWARD);
	assert_int_equal(ask(&m, "dev", "example.com", DNS_TYPE_A).result, RESOLVE_FORWARD);
	/* a reverse name outside every subnet goes upstream */
	assert_int_equal(ask(&m, "prod", "3.0.9.10.in-addr.arpa", DNS_TYPE_PTR).result,
			 RESOLVE_FORWARD);

	/* detach: incremental removal, other names stay */
	model_group_remove(&m, "db");
	assert_int_equal(ask(&m, "prod", "db.prod.internal", DNS_TYPE_A).rcode, DNS_RCODE_NXDOMAIN);
	assert_int_equal(ask(&m, "prod", "3.0.1.10.in-addr.arpa", DNS_TYPE_PTR).rcode,
			 DNS_RCODE_NXDOMAIN);
	assert_string_equal(ask(&m, "prod", "web.prod.internal", DNS_TYPE_A).first, "10.1.0.2");
	model_done(&m);
}

static void test_records_and_zones(void **state)
{
	struct model m;
	model_init(&m, NULL);
	set_vnet(&m, "prod", "10.1.0.0/24", "10.1.0.1");
	set_vnet(&m, "dev", "10.2.0.0/24", "10.2.0.1");
	set_group(&m, "web", NULL, NULL, "prod", "10.1.0.2");
	/* a record for a zone that does not exist yet waits for it */
	set_record(&m, NULL, "corp.example", "db", DNS_TYPE_A, "10.1.0.9");
	set_record(&m, "prod", NULL, "api", DNS_TYPE_CNAME, "web.prod.internal");
	set_record(&m, "prod", NULL, "ext", DNS_TYPE_CNAME, "www.example.com");
	set_record(&m, "prod", NULL, "_http._tcp", DNS_TYPE_SRV, "1 1 80 web.prod.internal");

	struct answer a = ask(&m, "prod", "api.prod.internal", DNS_TYPE_A);
	assert_int_equal(a.ancount, 2);
	assert_int_equal(a.first_type, DNS_TYPE_CNAME);
	assert_string_equal(a.first, "web.prod.internal.");
	/* target outside: the CNAME alone */
	a = ask(&m, "prod", "ext.prod.internal", DNS_TYPE_A);
	assert_int_equal(a.ancount, 1);
	assert_int_equal(a.rcode, 0);
	/* empty non-terminal */
	a = ask(&m, "prod", "_tcp.prod.internal", DNS_TYPE_A);
	assert_int_equal(a.rcode, 0);
	assert_int_equal(a.ancount, 0);
	assert_int_equal(ask(&m, "prod", "_http._tcp.prod.internal", DNS_TYPE_SRV).ancount, 1);

	set_zone(&m, "corp.example", "prod");
	assert_string_equal(ask(&m, "prod", "db.corp.example", DNS_TYPE_A).first, "10.1.0.9");
	assert_int_equal(ask(&m, "dev", "db.corp.example", DNS_TYPE_A).rcode, DNS_RCODE_NXDOMAIN);
	set_zone(&m, "corp.example", "dev"); /* now linked to dev only */
	assert_int_equal(ask(&m, "prod", "db.corp.example", DNS_TYPE_A).rcode, DNS_RCODE_NXDOMAIN);
	assert_string_equal(ask(&m, "dev", "db.corp.example", DNS_TYPE_A).first, "10.1.0.9");
	/* apex SOA */
	a = ask(&m, "dev", "corp.example", DNS_TYPE_SOA);
	assert_int_equal(a.ancount, 1);
	assert_int_equal(a.first_type, DNS_TYPE_SOA);

	model_zone_remove(&m, "corp.example");
	assert_int_equal(ask(&m, "dev", "db.corp.example", DNS_TYPE_A).result, RESOLVE_FORWARD);
	/* the VNet goes and comes back: its records and groups come back */
	model_vnet_remove(&m, "prod");
	assert_null(model_view(&m, "prod"));
	set_vnet(&m, "prod", "10.1.0.0/24", "10.1.0.1");
	assert_int_equal(ask(&m, "prod", "api.prod.internal", DNS_TYPE_A).ancount, 2);
	model_done(&m);
}

static void test_cname_loop_is_cut(void **state)
{
	struct model m;
	model_init(&m, NULL);
	set_vnet(&m, "prod", "10.1.0.0/24", "10.1.0.1");
	set_record(&m, "prod", NULL, "a", DNS_TYPE_CNAME, "b.prod.internal");
	set_record(&m, "prod", NULL, "b", DNS_TYPE_CNAME, "a.prod.internal");
	struct answer a = ask(&m, "prod", "a.prod.internal", DNS_TYPE_A);
	assert_int_equal(a.result, RESOLVE_ANSWERED);
	assert_int_equal(a.ancount, RESOLVE_CNAME_MAX);
	model_done(&m);
}

static void test_feed_json(void **state)
{
	struct model m;
	struct pw_error err = {0};
	json_error_t jerr;
	model_init(&m, NULL);
	json_t *snap = json_loads(
	    "{\"seq\":3,\"vnets\":[{\"name\":\"prod\",\"subnets\":[\"10.1.0.0/24\"],"
	    "\"gateways\":[\"10.1.0.1\"],\"domain\":\"prod.internal\",\"dns_servers\":[],"
	    "\"mtu\":1500,\"extra\":true}],"
	    "\"groups\":[{\"id\":\"web\",\"hostname\":null,\"aliases\":[\"www\"],"
	    "\"attachments\":[{\"vnet\":\"prod\",\"addresses\":[\"10.1.0.2\"]}]},"
	    "{\"id\":\"bad\",\"attachments\":[{\"vnet\":\"prod\",\"addresses\":[\"x\"]}]}],"
	    "\"zones\":[],\"records\":[{\"vnet\":\"prod\",\"name\":\"db\",\"type\":\"A\","
	    "\"value\":\"10.1.0.9\",\"ttl\":300}]}",
	    0, &jerr);
	assert_non_null(snap);
	assert_int_equal(feed_apply_snapshot(&m, snap, &err), 0);
	json_decref(snap);
	assert_string_equal(ask(&m, "prod", "www.prod.internal", DNS_TYPE_A).first, "10.1.0.2");
	assert_string_equal(ask(&m, "prod", "db.prod.internal", DNS_TYPE_A).first, "10.1.0.9");
	assert_int_equal(m.groups.count, 1); /* the bad group was skipped */

	json_t *ev = json_loads(
	    "{\"event\":\"group.detached\",\"seq\":3,\"data\":{\"id\":\"web\"}}", 0, &jerr);
	assert_int_equal(feed_apply_event(&m, ev, &err), 0);
	json_decref(ev);
	assert_int_equal(ask(&m, "prod", "www.prod.internal", DNS_TYPE_A).rcode,
			 DNS_RCODE_NXDOMAIN);

	/* a new snapshot without the record removes it */
	snap =
	    json_loads("{\"seq\":9,\"vnets\":[{\"name\":\"prod\",\"subnets\":[\"10.1.0.0/24\"],"
		       "\"gateways\":[\"10.1.0.1\"]}],\"groups\":[],\"zones\":[],\"records\":[]}",
		       0, &jerr);
	assert_int_equal(feed_apply_snapshot(&m, snap, &err), 0);
	json_decref(snap);
	assert_int_equal(ask(&m, "prod", "db.prod.internal", DNS_TYPE_A).rcode, DNS_RCODE_NXDOMAIN);
	model_done(&m);
}

static void test_unchanged_marks_seen(void **state)
{
	/* what a sliced snapshot relies on: an object the model has as it is
	 * is only marked seen (and survives the end); one that differs is
	 * not, so it can be kept aside for the swap */
	struct model m;
	struct pw_error err = {0};
	json_error_t jerr;
	model_init(&m, NULL);
	json_t *g = json_loads("{\"id\":\"web\",\"attachments\":[{\"vnet\":\"prod\","
			       "\"addresses\":[\"10.1.0.2\"]}]}",
			       0, &jerr);
	json_t *r = json_loads("{\"vnet\":\"prod\",\"name\":\"db\",\"type\":\"A\","
			       "\"value\":\"10.1.0.9\",\"ttl\":300}",
			       0, &jerr);
	struct group_info gi;
	struct record_info ri;
	set_vnet(&m, "prod", "10.1.0.0/24", "10.1.0.1");
	assert_int_equal(feed_parse_group(g, &gi, &err), 0);
	assert_false(model_group_unchanged(&m, &gi)); /* not there yet */
	model_group_set(&m, &gi);
	group_info_done(&gi);
	assert_int_equal(feed_parse_record(r, &ri, &err), 0);
	model_record_set(&m, &ri);
	record_info_done(&ri);

	model_snapshot_begin(&m);
	assert_int_equal(feed_parse_group(g, &gi, &err), 0);
	assert_true(model_group_unchanged(&m, &gi));
	group_info_done(&gi);
	assert_int_equal(feed_parse_record(r, &ri, &err), 0);
	ri.ttl = 60; /* differs: not marked */
	assert_false(model_record_unchanged(&m, &ri));
	record_info_done(&ri);
	struct vnet_info vi = {0};
	snprintf(vi.name, sizeof(vi.name), "prod");
	assert_false(model_vnet_unchanged(&m, &vi)); /* no subnets: differs */
	model_snapshot_end(&m);
	/* the group stayed; the record and the VNet were not seen: gone */
	assert_int_equal(m.groups.count, 1);
	assert_int_equal(m.records.count, 0);
	assert_int_equal(m.views.count, 0);
	json_decref(g);
	json_decref(r);
	model_done(&m);
}

static void test_many_names(void **state)
{
	/* 10,000 groups: every one resolves, removal leaves the table empty */
	struct model m;
	model_init(&m, NULL);
	set_vnet(&m, "big", "10.8.0.0/16", "10.8.0.1");
	char id[32], addr[32], name[64];
	for (int i = 0; i < 10000; i++) {
		snprintf(id, sizeof(id), "g%d", i);
		snprintf(addr, sizeof(addr), "10.8.%d.%d", (i + 2) / 256, (i + 2) % 256);
		set_group(&m, id, NULL, NULL, "big", addr);
	}
	for (int i = 0; i < 10000; i += 997) {
		snprintf(name, sizeof(name), "g%d.big.internal", i);
		snprintf(addr, sizeof(addr), "10.8.%d.%d", (i + 2) / 256, (i + 2) % 256);
		assert_string_equal(ask(&m, "big", name, DNS_TYPE_A).first, addr);
	}
	size_t before = m.table.node_count;
	for (int i = 0; i < 10000; i++) {
		snprintf(id, sizeof(id), "g%d", i);
		model_group_remove(&m, id);
	}
	assert_true(m.table.node_count < before);
	assert_int_equal(ask(&m, "big", "g5.big.internal", DNS_TYPE_A).rcode, DNS_RCODE_NXDOMAIN);
	model_done(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_group_names_and_scoping),
	    cmocka_unit_test(test_records_and_zones),
	    cmocka_unit_test(test_cname_loop_is_cut),
	    cmocka_unit_test(test_feed_json),
	    cmocka_unit_test(test_unchanged_marks_seen),
	    cmocka_unit_test(test_many_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
