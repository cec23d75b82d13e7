/* The group model: attach params parsed strictly, derived names and MACs,
 * the state file round trip, and the id table (find, remove, growth,
 * sorted listing, published-port users). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "../../netd/group.h"
#include "xalloc.h"

static int parse(const char *text, struct group_request *req, struct pw_error *err)
{
	static json_t *keep[64];
	static size_t kept;
	json_t *json = json_loads(text, 0, NULL);

	assert_non_null(json);
	/* req points into json: keep it until the end of the program. */
	if (kept == ARRAY_SIZE(keep)) {
		for (size_t i = 0; i < kept; i++)
			json_decref(keep[i]);
		kept = 0;
	}
	keep[kept++] = json;
	return group_request_parse(json, req, err);
}

static void parse_fails(const char *text, const char *message_part)
{
	struct group_request req;
	struct pw_error err = {0};

	assert_int_equal(parse(text, &req, &err), -EINVAL);
	if (!strstr(pw_error_message(&err), message_part))
		fail_msg("error for %s is '%s', expected '%s' in it", text, pw_error_message(&err),
			 message_part);
}

static void test_request(void **state)
{
	struct group_request req;
	struct pw_error err = {0};
	char buf[INET6_ADDRSTRLEN], mac[18];

	assert_int_equal(
	    parse("{\"id\":\"web\",\"netns\":\"/run/netns/web\",\"vnets\":[\"a\",\"b\"],"
		  "\"ips\":{\"b\":\"10.2.0.9\"},\"mac\":\"02:AA:bb:00:00:01\","
		  "\"aliases\":[\"www\",\"w3\"]}",
		  &req, &err),
	    0);
	assert_string_equal(req.id, "web");
	assert_string_equal(req.hostname, "web"); /* the id, being a valid host name */
	assert_int_equal(req.vnet_count, 2);
	assert_false(req.has_ip[0]);
	assert_true(req.has_ip[1]);
	assert_string_equal(ip_addr_format(&req.ips[1], buf), "10.2.0.9");
	assert_true(req.has_mac);
	assert_string_equal(mac_format(req.mac, mac), "02:aa:bb:00:00:01");
	assert_int_equal(req.alias_count, 2);

	/* An id that is no host name gets no default host name. */
	assert_int_equal(
	    parse("{\"id\":\"0123_abc.def\",\"netns\":\"/proc/1/ns/net\",\"vnets\":[\"a\"]}", &req,
		  &err),
	    0);
	assert_null(req.hostname);
}

static void test_request_refused(void **state)
{
	parse_fails("{\"id\":\"w\",\"netns\":\"/n\",\"vnets\":[\"a\"],\"x\":1}", "x");
	parse_fails("{\"id\":\"w\",\"vnets\":[\"a\"]}", "netns");
	parse_fails("{\"id\":5,\"netns\":\"/n\",\"vnets\":[\"a\"]}", "id: expected a string");
	parse_fails("{\"id\":\".w\",\"netns\":\"/n\",\"vnets\":[\"a\"]}", "");
	parse_fails("{\"id\":\"w\",\"netns\":\"n\",\"vnets\":[\"a\"]}", "absolute path");
	parse_fails("{\"id\":\"w\",\"netns\":\"/n\",\"vnets\":[]}", "1 to 8");
	parse_fails("{\"id\":\"w\",\"netns\":\"/n\",\"vnets\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\","
		    "\"g\",\"h\",\"i\"]}",
		    "1 to 8");
	parse_fails("{\"id\":\"w\",\"netns\":\"/n\",\"vnets\":[\"a\",\"a\"]}", "given twice");
	parse_fails("{\"id\":\"w\",\"netns\":\"/n\",\"vnets\":[\"A\"]}", "");
	parse_fails(
	    "{\"id\":\"w\",\"netns\":\"/n\",\"vnets\":[\"a\"],\"ips\":{\"b\":\"10.0.0.1\"}}",
	    "not one of the group's vnets");
	parse_fails("{\"id\":\"w\",\"netns\":\"/n\",\"vnets\":[\"a\"],\"ips\":{\"a\":\"fd00::1\"}}",
		    "invalid IPv4");
	parse_fails("{\"id\":\"w\",\"netns\":\"/n\",\"vnets\":[\"a\"],\"mac\":\"02:00:00:00:00\"}",
		    "invalid MAC");
	parse_fails(
	    "{\"id\":\"w\",\"netns\":\"/n\",\"vnets\":[\"a\"],\"mac\":\"02:00:00:00:00:0g\"}",
	    "invalid MAC");
	parse_fails(
	    "{\"id\":\"w\",\"netns\":\"/n\",\"vnets\":[\"a\"],\"mac\":\"03:00:00:00:00:01\"}",
	    "multicast");
	parse_fails(
	    "{\"id\":\"w\",\"netns\":\"/n\",\"vnets\":[\"a\"],\"mac\":\"00:00:00:00:00:00\"}",
	    "all zeros");
	parse_fails("{\"id\":\"w\",\"netns\":\"/n\",\"vnets\":[\"a\"],\"hostname\":\"a.b\"}",
		    "hostname");
	parse_fails(
	    "{\"id\":\"w\",\"netns\":\"/n\",\"vnets\":[\"a\"],\"aliases\":[\"ok\",\"-no\"]}",
	    "alias");
	parse_fails("{\"id\":\"w\",\"netns\":\"/n\",\"vnets\":[\"a\"],\"aliases\":\"www\"}",
		    "aliases");
}

static void test_derived_names(void **state)
{
	char a[IFNAMSIZ], b[IFNAMSIZ], c[IFNAMSIZ];
	uint8_t mac[ETHER_ADDR_LEN_BYTES];
	struct ip_addr ip;
	char text[18];

	group_host_ifname("web", "prod", a);
	group_host_ifname("web", "prod", b);
	group_host_ifname("web", "dev", c);
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	assert_int_equal(strlen(a), 15);
	assert_memory_equal(a, "pwv", 3);
	/* ("ab","c") and ("a","bc") are different pairs. */
	group_host_ifname("ab", "c", b);
	group_host_ifname("a", "bc", c);
	assert_string_not_equal(b, c);

	assert_int_equal(ip_addr_parse("10.1.0.2", AF_INET, &ip), 0);
	group_default_mac(&ip, mac);
	assert_string_equal(mac_format(mac, text), "02:50:0a:01:00:02");
}

static struct pw_group *sample_group(const char *id)
{
	struct pw_group *g = xcalloc(1, sizeof(*g));

	g->id = xstrdup(id);
	g->netns = xasprintf("/run/netns/%s", id);
	g->netns_dev = 4;
	g->netns_ino = 4026532999ULL;
	g->hostname = xstrdup("host");
	g->aliases = xcalloc(2, sizeof(char *));
	g->aliases[0] = xstrdup("alias");
	g->alias_count = 1;
	g->state = GROUP_ATTACHED;
	g->attachment_count = 1;
	snprintf(g->attachments[0].vnet_name, sizeof(g->attachments[0].vnet_name), "prod");
	snprintf(g->attachments[0].ifname, IFNAMSIZ, "eth0");
	group_host_ifname(id, "prod", g->attachments[0].host_ifname);
	assert_int_equal(ip_addr_parse("10.1.0.7", AF_INET, &g->attachments[0].addresses[0]), 0);
	assert_int_equal(ip_addr_parse("fd00::7", AF_INET6, &g->attachments[0].addresses[1]), 0);
	g->attachments[0].address_count = 2;
	group_default_mac(&g->attachments[0].addresses[0], g->attachments[0].mac);
	return g;
}

/* Published ports and rate: parsed, kept in the state file, and old
 * state files (without them) still load. */
static void test_ports_and_rate(void **state)
{
	struct group_request req;
	struct pw_error err = {0};
	struct pw_group *g = sample_group("web"), *back = NULL;
	json_auto_t *json = NULL, *again = NULL;
	char buf[PORT_SPEC_STRLEN];

	assert_int_equal(parse("{\"id\":\"web\",\"netns\":\"/run/netns/web\",\"vnets\":[\"a\"],"
			       "\"ports\":[\"8080:80\",\"192.0.2.1:9000-9002:9000/udp\","
			       "{\"host_port\":53,\"port\":53,\"proto\":\"udp\"}],"
			       "\"rate\":\"100mbit\"}",
			       &req, &err),
			 0);
	assert_int_equal(req.port_count, 3);
	assert_int_equal(req.ports[1].host_port_last, 9002);
	assert_int_equal(req.rate.ingress_bps, 100000000);
	assert_int_equal(req.rate.egress_bps, 100000000);
	assert_int_equal(parse("{\"id\":\"web\",\"netns\":\"/run/netns/web\",\"vnets\":[\"a\"],"
			       "\"rate\":{\"egress\":\"10mbps\"}}",
			       &req, &err),
			 0);
	assert_int_equal(req.rate.ingress_bps, 0);
	assert_int_equal(req.rate.egress_bps, 80000000);
	parse_fails("{\"id\":\"w\",\"netns\":\"/x\",\"vnets\":[\"a\"],\"rate\":\"fast\"}", "rate");
	parse_fails("{\"id\":\"w\",\"netns\":\"/x\",\"vnets\":[\"a\"],\"rate\":\"1bit\"}", "rate");
	parse_fails("{\"id\":\"w\",\"netns\":\"/x\",\"vnets\":[\"a\"],\"rate\":{\"up\":\"1mbit\"}}",
		    "up");
	parse_fails("{\"id\":\"w\",\"netns\":\"/x\",\"vnets\":[\"a\"],\"ports\":[\"99999:80\"]}",
		    "port");

	memcpy(g->ports, req.ports, sizeof(g->ports));
	assert_int_equal(port_parse_string("[fd00::1]:8443:443/tcp", &g->ports[0], &err), 0);
	assert_int_equal(port_parse_string("7000-7010:8000/udp", &g->ports[1], &err), 0);
	g->port_count = 2;
	g->rate.egress_bps = 80000000;
	json = group_state_json(g);
	assert_int_equal(group_state_parse(json, &back, &err), 0);
	assert_int_equal(back->port_count, 2);
	assert_string_equal(port_format(&back->ports[0], buf), port_format(&g->ports[0], buf));
	assert_int_equal(back->ports[1].host_port_last, 7010);
	assert_int_equal(back->rate.egress_bps, 80000000);
	again = group_state_json(back);
	assert_true(json_equal(json, again));
	group_free(back);
	back = NULL;
	/* A file from before ports and rates. */
	json_object_del(again, "ports");
	json_object_del(again, "rate");
	assert_int_equal(group_state_parse(again, &back, &err), 0);
	assert_int_equal(back->port_count, 0);
	group_free(back);
	group_free(g);
}

static void test_state_round_trip(void **state)
{
	struct pw_group *g = sample_group("web"), *back = NULL;
	json_auto_t *json = group_state_json(g), *again = NULL;
	struct pw_error err = {0};

	assert_int_equal(group_state_parse(json, &back, &err), 0);
	again = group_state_json(back);
	assert_true(json_equal(json, again));
	assert_int_equal(back->netns_ino, 4026532999ULL);
	assert_null(back->attachments[0].vnet);

	/* Unknown state or version: refused. */
	json_object_set_new(again, "state", json_string("weird"));
	group_free(back);
	back = NULL;
	assert_int_equal(group_state_parse(again, &back, &err), -EINVAL);
	json_object_set_new(again, "state", json_string("attaching"));
	json_object_set_new(again, "version", json_integer(99));
	assert_int_equal(group_state_parse(again, &back, &err), -EINVAL);
	group_free(g);
}

static void test_table(void **state)
{
	struct group_table table;
	struct pw_group **sorted;
	char id[32];
	size_t count;

	group_table_init(&table);
	/* Enough to grow the bucket array several times. */
	for (int i = 999; i >= 0; i--) {
		snprintf(id, sizeof(id), "g%04d", i);
		group_table_add(&table, sample_group(id));
	}
	assert_int_equal(table.count, 1000);
	assert_true(table.bucket_count >= 1000);
	assert_non_null(group_table_find(&table, "g0500"));
	assert_null(group_table_find(&table, "g1000"));

	struct pw_group *g = group_table_find(&table, "g0500");
	group_table_remove(&table, g);
	group_free(g);
	assert_null(group_table_find(&table, "g0500"));
	assert_int_equal(table.count, 999);

	sorted = group_table_sorted(&table, &count);
	assert_int_equal(count, 999);
	for (size_t i = 1; i < count; i++)
		assert_true(strcmp(sorted[i - 1]->id, sorted[i]->id) < 0);
	assert_string_equal(sorted[0]->id, "g0000");
	free(sorted);
	group_table_done(&table);
}

/* Groups are found by their host ends' names too (what a deleted link is
 * reported by), on every attachment, and not once removed; after a mass
 * removal the bucket arrays shrink back. */
static void test_table_host_names(void **state)
{
	struct group_table table;
	char id[32], host[IFNAMSIZ];
	size_t index = 99;
	struct pw_group *multi = sample_group("multi"), *g;

	group_table_init(&table);
	multi->attachment_count = 3;
	for (size_t i = 1; i < 3; i++) {
		multi->attachments[i] = multi->attachments[0];
		snprintf(multi->attachments[i].vnet_name, VNET_NAME_MAX + 1, "v%zu", i);
		group_host_ifname("multi", multi->attachments[i].vnet_name,
				  multi->attachments[i].host_ifname);
	}
	group_table_add(&table, multi);
	for (int i = 0; i < 1000; i++) {
		snprintf(id, sizeof(id), "g%04d", i);
		group_table_add(&table, sample_group(id));
	}
	assert_true(table.bucket_count >= 1000);
	assert_ptr_equal(group_table_find_host(&table, multi->attachments[2].host_ifname, &index),
			 multi);
	assert_int_equal(index, 2);
	assert_ptr_equal(group_table_find_host(&table, multi->attachments[0].host_ifname, &index),
			 multi);
	assert_int_equal(index, 0);
	group_host_ifname("g0123", "prod", host);
	g = group_table_find_host(&table, host, &index);
	assert_non_null(g);
	assert_string_equal(g->id, "g0123");
	assert_int_equal(index, 0);
	assert_null(group_table_find_host(&table, "pwv000000000000", &index));

	group_table_remove(&table, multi);
	assert_null(group_table_find_host(&table, multi->attachments[1].host_ifname, &index));
	group_free(multi);
	for (int i = 0; i < 1000; i++) {
		snprintf(id, sizeof(id), "g%04d", i);
		g = group_table_find(&table, id);
		assert_non_null(g);
		group_table_remove(&table, g);
		group_free(g);
		/* Every group left is still found both ways after shrinking. */
		if (i == 900) {
			group_host_ifname("g0950", "prod", host);
			assert_non_null(group_table_find_host(&table, host, &index));
			assert_non_null(group_table_find(&table, "g0950"));
		}
	}
	assert_int_equal(table.count, 0);
	assert_int_equal(table.bucket_count, 64);
	group_table_done(&table);
}

static struct nft_port_spec port_spec(uint8_t proto, uint16_t first, uint16_t last)
{
	return (struct nft_port_spec){
	    .proto = proto, .host_port = first, .host_port_last = last, .port = 80};
}

/* The per-port user counts follow adds and removes, per protocol and over
 * whole ranges, and go back to zero. */
static void test_table_ports(void **state)
{
	struct group_table table;
	struct pw_group *a = sample_group("a"), *b = sample_group("b");
	struct nft_port_spec q;

	group_table_init(&table);
	q = port_spec(IPPROTO_TCP, 8080, 8080);
	assert_false(group_table_port_used(&table, &q));
	a->ports[0] = port_spec(IPPROTO_TCP, 8000, 8099);
	a->port_count = 1;
	b->ports[0] = port_spec(IPPROTO_TCP, 8080, 8080);
	b->ports[1] = port_spec(IPPROTO_UDP, 53, 53);
	b->port_count = 2;
	group_table_add(&table, a);
	group_table_add(&table, b);
	assert_true(group_table_port_used(&table, &q));
	q = port_spec(IPPROTO_TCP, 7990, 8000);
	assert_true(group_table_port_used(&table, &q));
	q = port_spec(IPPROTO_TCP, 8100, 8200);
	assert_false(group_table_port_used(&table, &q));
	q = port_spec(IPPROTO_UDP, 8080, 8080);
	assert_false(group_table_port_used(&table, &q));
	q = port_spec(IPPROTO_UDP, 50, 60);
	assert_true(group_table_port_used(&table, &q));

	group_table_remove(&table, a);
	q = port_spec(IPPROTO_TCP, 8080, 8080);
	assert_true(group_table_port_used(&table, &q)); /* b still has it */
	q = port_spec(IPPROTO_TCP, 8000, 8079);
	assert_false(group_table_port_used(&table, &q));
	group_table_remove(&table, b);
	q = port_spec(IPPROTO_TCP, 0, UINT16_MAX);
	assert_false(group_table_port_used(&table, &q));
	q = port_spec(IPPROTO_UDP, 0, UINT16_MAX);
	assert_false(group_table_port_used(&table, &q));
	/* Nobody publishes anything: the 2 x 256 KiB of counts are freed. */
	assert_null(table.port_users[0]);
	assert_null(table.port_users[1]);
	group_free(a);
	group_free(b);
	group_table_done(&table);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_request),	  cmocka_unit_test(test_request_refused),
	    cmocka_unit_test(test_derived_names), cmocka_unit_test(test_state_round_trip),
	    cmocka_unit_test(test_table),	  cmocka_unit_test(test_ports_and_rate),
	    cmocka_unit_test(test_table_ports),	  cmocka_unit_test(test_table_host_names),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);

	return r;
}
