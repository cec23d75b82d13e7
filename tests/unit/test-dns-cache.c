/* Unit tests for forwarded answers (dns/upstream-msg.c) and the cache
 * (dns/cache.c): TTL expiry with aged TTLs, negative caching from the SOA
 * (RFC 2308), what is not cached, LRU eviction, rendering for a client
 * (ID, case, OPT, truncation) and answers that are not ours. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../dns/cache.h"
#include "../../dns/dname.h"
#include "../../dns/upstream-msg.h"
#include "../../dns/wire.h"

/* An upstream reply for name/A with one A record (ttl) or, if soa_min,
 * NXDOMAIN with an SOA (TTL ttl, minimum soa_min); plus an OPT. */
static size_t upstream_reply(uint8_t *buf, uint16_t id, const char *name, uint32_t ttl,
			     uint32_t soa_min, const char *qcase)
{
	memset(buf, 0, 12);
	dns_put16(buf, id);
	dns_put16(buf + 2,
		  DNS_FLAG_QR | DNS_FLAG_RD | DNS_FLAG_RA | (soa_min ? DNS_RCODE_NXDOMAIN : 0));
	dns_put16(buf + 4, 1);
	size_t len = 12;
	int n = dns_name_from_text(qcase ? qcase : name, buf + len, false);
	len += (size_t)n;
	dns_put16(buf + len, DNS_TYPE_A);
	dns_put16(buf + len + 2, DNS_CLASS_IN);
	len += 4;
	if (!soa_min) {
		dns_put16(buf + 6, 1);
		buf[len++] = 0xc0;
		buf[len++] = 12;
		dns_put16(buf + len, DNS_TYPE_A);
		dns_put16(buf + len + 2, DNS_CLASS_IN);
		dns_put32(buf + len + 4, ttl);
		dns_put16(buf + len + 8, 4);
		memcpy(buf + len + 10, "\xc6\x33\x64\x07", 4);
		len += 14;
	} else {
		dns_put16(buf + 8, 1);
		/* SOA owner: pointer to the question's last two labels is
		 * fine for the test: use the root-less full name */
		buf[len++] = 0xc0;
		buf[len++] = 12;
		dns_put16(buf + len, DNS_TYPE_SOA);
		dns_put16(buf + len + 2, DNS_CLASS_IN);
		dns_put32(buf + len + 4, ttl);
		dns_put16(buf + len + 8, 4 + 20);
		len += 10;
		buf[len++] = 0xc0;
		buf[len++] = 12; /* mname */
		buf[len++] = 0xc0;
		buf[len++] = 12; /* rname */
		uint32_t v[5] = {1, 3600, 600, 86400, soa_min};
		for (int i = 0; i < 5; i++)
			dns_put32(buf + len + 4 * i, v[i]);
		len += 20;
	}
	/* OPT */
	dns_put16(buf + 10, 1);
	buf[len] = 0;
	dns_put16(buf + len + 1, DNS_TYPE_OPT);
	dns_put16(buf + len + 3, 1232);
	memset(buf + len + 5, 0, 6);
	return len + 11;
}

static void make_query(struct dns_query *q, uint16_t id, const char *name, bool edns)
{
	uint8_t buf[512];
	memset(buf, 0, 12);
	dns_put16(buf, id);
	dns_put16(buf + 2, DNS_FLAG_RD);
	dns_put16(buf + 4, 1);
	int n = dns_name_from_text(name, buf + 12, false);
	size_t len = 12 + (size_t)n;
	dns_put16(buf + len, DNS_TYPE_A);
	dns_put16(buf + len + 2, DNS_CLASS_IN);
	len += 4;
	if (edns) {
		dns_put16(buf + 10, 1);
		buf[len] = 0;
		dns_put16(buf + len + 1, DNS_TYPE_OPT);
		dns_put16(buf + len + 3, 4096);
		memset(buf + len + 5, 0, 6);
		len += 11;
	}
	assert_int_equal(dns_query_parse(buf, len, q), DNS_PARSE_OK);
}

static void test_canonicalize_and_render(void **state)
{
	uint8_t reply[512], canon[512], out[512];
	struct upstream_msg um;
	struct dns_query q;
	make_query(&q, 0x4242, "WwW.Example.COM", false);

	size_t len = upstream_reply(reply, 77, "www.example.com", 300, 0, "www.EXAMPLE.com");
	/* wrong ID, wrong name: not ours */
	assert_int_equal(upstream_msg_canonicalize(reply, len, 78, q.qname, q.qname_len, DNS_TYPE_A,
						   DNS_CLASS_IN, canon, &um),
			 -EBADMSG);
	assert_int_equal(upstream_msg_canonicalize(reply, len, 77, (const uint8_t *)"\3foo\0", 5,
						   DNS_TYPE_A, DNS_CLASS_IN, canon, &um),
			 -EBADMSG);
	assert_int_equal(upstream_msg_canonicalize(reply, len, 77, q.qname, q.qname_len, DNS_TYPE_A,
						   DNS_CLASS_IN, canon, &um),
			 0);
	assert_true(um.cacheable);
	assert_int_equal(um.ttl, 300);
	assert_int_equal(dns_get16(um.msg + 10), 0); /* OPT cut */
	assert_int_equal(um.len, len - 11);

	/* rendered for a plain client, 100 s later */
	size_t n = upstream_msg_render(&um, 100, &q, out, sizeof(out));
	assert_int_equal(n, um.len);
	assert_int_equal(dns_get16(out), 0x4242);
	assert_memory_equal(out + 12, "\3WwW\7Example\3COM", 17);
	struct dns_rr_view rr;
	size_t off = 12 + q.qname_len + 4;
	assert_int_equal(dns_rr_skip(out, n, &off, &rr), 0);
	assert_int_equal(rr.ttl, 200);
	/* an EDNS client gets an OPT */
	struct dns_query qe;
	make_query(&qe, 1, "www.example.com", true);
	n = upstream_msg_render(&um, 0, &qe, out, sizeof(out));
	assert_int_equal(n, um.len + 11);
	assert_int_equal(dns_get16(out + 10), 1);
	/* too small: TC with the question only */
	n = upstream_msg_render(&um, 0, &q, out, 12 + q.qname_len + 4 + 5);
	assert_int_equal(n, 12 + q.qname_len + 4);
	assert_true(dns_get16(out + 2) & DNS_FLAG_TC);
	assert_int_equal(dns_get16(out + 6), 0);

	/* malformed: truncated reply */
	assert_int_equal(upstream_msg_canonicalize(reply, len - 20, 77, q.qname, q.qname_len,
						   DNS_TYPE_A, DNS_CLASS_IN, canon, &um),
			 -EBADMSG);
}

static void test_negative(void **state)
{
	uint8_t reply[512], canon[512];
	struct upstream_msg um;
	struct dns_query q;
	make_query(&q, 1, "nx.example.com", false);
	size_t len = upstream_reply(reply, 5, "nx.example.com", 900, 120, NULL);
	assert_int_equal(upstream_msg_canonicalize(reply, len, 5, q.qname, q.qname_len, DNS_TYPE_A,
						   DNS_CLASS_IN, canon, &um),
			 0);
	assert_int_equal(um.rcode, DNS_RCODE_NXDOMAIN);
	assert_true(um.cacheable);
	assert_int_equal(um.ttl, 120); /* min(SOA TTL, SOA minimum) */
	len = upstream_reply(reply, 5, "nx.example.com", 60, 120, NULL);
	upstream_msg_canonicalize(reply, len, 5, q.qname, q.qname_len, DNS_TYPE_A, DNS_CLASS_IN,
				  canon, &um);
	assert_int_equal(um.ttl, 60);
	/* TTL 0: not cached */
	len = upstream_reply(reply, 5, "nx.example.com", 0, 0, NULL);
	upstream_msg_canonicalize(reply, len, 5, q.qname, q.qname_len, DNS_TYPE_A, DNS_CLASS_IN,
				  canon, &um);
	assert_false(um.cacheable);
}

static void test_cache_expiry_and_lru(void **state)
{
	uint8_t reply[512], canon[512];
	struct upstream_msg um;
	struct dns_query q;
	uint32_t elapsed;
	struct cache *c = cache_new(2, 1 << 20);
	struct cache_stats st;

	make_query(&q, 1, "a.example", false);
	size_t len = upstream_reply(reply, 1, "a.example", 10, 0, NULL);
	assert_int_equal(upstream_msg_canonicalize(reply, len, 1, q.qname, q.qname_len, DNS_TYPE_A,
						   DNS_CLASS_IN, canon, &um),
			 0);
	struct cache_key key = {.set_hash = 7,
				.qtype = DNS_TYPE_A,
				.qclass = DNS_CLASS_IN,
				.qname_len = q.qname_len,
				.qname = q.qname};
	cache_insert(c, &key, &um, 1000);
	const struct upstream_msg *hit = cache_lookup(c, &key, 5000, &elapsed);
	assert_non_null(hit);
	assert_int_equal(elapsed, 4);
	/* another upstream set: a different entry */
	struct cache_key other = key;
	other.set_hash = 8;
	assert_null(cache_lookup(c, &other, 5000, &elapsed));
	/* expired after 10 s */
	assert_null(cache_lookup(c, &key, 11000, &elapsed));
	cache_get_stats(c, &st);
	assert_int_equal(st.hits, 1);
	assert_int_equal(st.misses, 2);
	assert_int_equal(st.expired, 1);
	assert_int_equal(st.entries, 0);

	/* LRU: capacity 2; touching a keeps it, b is evicted by c */
	const char *names[] = {"a.example", "b.example", "c.example"};
	struct dns_query qs[3];
	struct cache_key keys[3];
	uint8_t canons[3][512];
	for (int i = 0; i < 3; i++) {
		make_query(&qs[i], 1, names[i], false);
		len = upstream_reply(reply, 1, names[i], 100, 0, NULL);
		assert_int_equal(upstream_msg_canonicalize(reply, len, 1, qs[i].qname,
							   qs[i].qname_len, DNS_TYPE_A,
							   DNS_CLASS_IN, canons[i], &um),
				 0);
		keys[i] = key;
		keys[i].qname = qs[i].qname;
		keys[i].qname_len = qs[i].qname_len;
		cache_insert(c, &keys[i], &um, 0);
		if (i == 1)
			assert_non_null(cache_lookup(c, &keys[0], 1, &elapsed));
	}
	assert_non_null(cache_lookup(c, &keys[0], 2, &elapsed));
	assert_null(cache_lookup(c, &keys[1], 2, &elapsed));
	assert_non_null(cache_lookup(c, &keys[2], 2, &elapsed));
	cache_get_stats(c, &st);
	assert_int_equal(st.evictions, 1);
	assert_int_equal(st.entries, 2);
	cache_free(c);
}

static void test_query_builder(void **state)
{
	uint8_t out[512];
	struct dns_query q;
	size_t n = upstream_msg_query(0x1111, (const uint8_t *)"\1a\2bc\0", 6, DNS_TYPE_AAAA,
				      DNS_CLASS_IN, out);
	assert_int_equal(dns_query_parse(out, n, &q), DNS_PARSE_OK);
	assert_int_equal(q.id, 0x1111);
	assert_int_equal(q.qtype, DNS_TYPE_AAAA);
	assert_true(q.has_edns);
	assert_int_equal(q.edns_udp_size, DNS_EDNS_UDP_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_canonicalize_and_render),
	    cmocka_unit_test(test_negative),
	    cmocka_unit_test(test_cache_expiry_and_lru),
	    cmocka_unit_test(test_query_builder),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
