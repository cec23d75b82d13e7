/* Unit tests for the DNS wire codec (dns/wire.c) and names (dns/dname.c):
 * name compression both ways, bounds, malformed queries, EDNS. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../dns/dname.h"
#include "../../dns/wire.h"

/* Builds a query for name/type into buf; returns its length. */
static size_t make_query(uint8_t *buf, uint16_t id, const char *name, uint16_t type)
{
	memset(buf, 0, DNS_HEADER_SIZE);
	dns_put16(buf, id);
	dns_put16(buf + 2, DNS_FLAG_RD);
	dns_put16(buf + 4, 1);
	int n = dns_name_from_text(name, buf + DNS_HEADER_SIZE, false);
	assert_true(n > 0);
	size_t len = DNS_HEADER_SIZE + (size_t)n;
	dns_put16(buf + len, type);
	dns_put16(buf + len + 2, DNS_CLASS_IN);
	return len + 4;
}

static size_t add_opt(uint8_t *buf, size_t len, uint16_t size, uint8_t version)
{
	buf[len] = 0;
	dns_put16(buf + len + 1, DNS_TYPE_OPT);
	dns_put16(buf + len + 3, size);
	dns_put32(buf + len + 5, (uint32_t)version << 16);
	dns_put16(buf + len + 9, 0);
	dns_put16(buf + 10, (uint16_t)(dns_get16(buf + 10) + 1));
	return len + 11;
}

static void test_name_text(void **state)
{
	uint8_t wire[DNS_WIRE_NAME_MAX];
	char text[1024];
	int n = dns_name_from_text("Web.Prod.Internal.", wire, true);
	assert_int_equal(n, 19);
	assert_memory_equal(wire, "\3web\4prod\10internal", 19);
	dns_name_to_text(wire, (size_t)n, text, sizeof(text));
	assert_string_equal(text, "web.prod.internal.");
	assert_int_equal(dns_name_from_text(".", wire, true), 1);
	assert_int_equal(dns_name_from_text("a..b", wire, true), -EINVAL);
	char label64[80];
	memset(label64, 'a', 64);
	label64[64] = 0;
	assert_int_equal(dns_name_from_text(label64, wire, true), -EINVAL);
	label64[63] = 0;
	assert_int_equal(dns_name_from_text(label64, wire, true), 65);
	/* 4 labels of 63 = 256 octets with the root: too long */
	char big[300];
	snprintf(big, sizeof(big), "%s.%s.%s.%s", label64, label64, label64, label64);
	assert_int_equal(dns_name_from_text(big, wire, true), -EINVAL);
	big[strlen(big) - 2] = 0; /* 254 octets */
	assert_true(dns_name_from_text(big, wire, true) > 0);
}

static void test_name_read_compression(void **state)
{
	/* header, then "a.example." at 12, then "b" + pointer to "example" */
	uint8_t msg[64] = {0};
	size_t len = DNS_HEADER_SIZE;
	memcpy(msg + len, "\1a\7example\0", 11);
	len += 11;
	memcpy(msg + len, "\1B\xc0\x0e", 4); /* pointer to offset 14 = "example" */
	size_t name2 = len;
	len += 4;

	uint8_t out[DNS_WIRE_NAME_MAX];
	size_t off = name2;
	int n = dns_name_read(msg, len, &off, out, true);
	assert_int_equal(n, 11);
	assert_memory_equal(out, "\1b\7example\0", 11);
	assert_int_equal(off, name2 + 4);
	off = name2;
	n = dns_name_read(msg, len, &off, out, false);
	assert_memory_equal(out, "\1B\7example\0", 11);

	/* pointer to itself: a loop */
	uint8_t loop[16] = {0};
	loop[12] = 0xc0;
	loop[13] = 12;
	off = 12;
	assert_int_equal(dns_name_read(loop, 14, &off, out, true), -EBADMSG);
	/* forward pointer */
	loop[13] = 14;
	loop[14] = 0;
	off = 12;
	assert_int_equal(dns_name_read(loop, 15, &off, out, true), -EBADMSG);
	/* label running off the end */
	uint8_t trunc[16] = {0};
	trunc[12] = 10;
	off = 12;
	assert_int_equal(dns_name_read(trunc, 16, &off, out, true), -EBADMSG);
	/* reserved label type 0x40 */
	trunc[12] = 0x41;
	off = 12;
	assert_int_equal(dns_name_read(trunc, 16, &off, out, true), -EBADMSG);
	/* half a pointer at the end */
	trunc[15] = 0xc0;
	off = 15;
	assert_int_equal(dns_name_read(trunc, 16, &off, out, true), -EBADMSG);
}

static void test_name_too_long_via_pointers(void **state)
{
	/* A chain of backward pointers, each adding a 63-byte label: the
	 * name grows past 255 octets and must be refused. */
	uint8_t msg[1024] = {0};
	size_t pos = DNS_HEADER_SIZE;
	msg[pos++] = 0; /* root at 12 */
	size_t prev = DNS_HEADER_SIZE;
	for (int i = 0; i < 6; i++) {
		size_t start = pos;
		msg[pos++] = 63;
		memset(msg + pos, 'x', 63);
		pos += 63;
		msg[pos++] = (uint8_t)(0xc0 | (prev >> 8));
		msg[pos++] = (uint8_t)prev;
		prev = start;
	}
	uint8_t out[DNS_WIRE_NAME_MAX];
	size_t off = prev;
	assert_int_equal(dns_name_read(msg, pos, &off, out, true), -EBADMSG);
}

static void test_query_parse(void **state)
{
	uint8_t buf[512];
	struct dns_query q;
	size_t len = make_query(buf, 0x1234, "WwW.Example.COM", DNS_TYPE_A);
	assert_int_equal(dns_query_parse(buf, len, &q), DNS_PARSE_OK);
	assert_int_equal(q.id, 0x1234);
	assert_int_equal(q.qtype, DNS_TYPE_A);
	assert_memory_equal(q.qname, "\3www\7example\3com", 17);
	assert_memory_equal(q.qname_raw, "\3WwW\7Example\3COM", 17);
	assert_int_equal(q.label_count, 4);
	assert_false(q.has_edns);
	assert_int_equal(dns_query_udp_limit(&q), 512);
	assert_int_equal(dns_query_suffix_offset(&q, (const uint8_t *)"\3com", 5), 12);
	assert_int_equal(dns_query_suffix_offset(&q, (const uint8_t *)"\2om", 4), -1);

	/* EDNS */
	size_t elen = add_opt(buf, len, 4096, 0);
	assert_int_equal(dns_query_parse(buf, elen, &q), DNS_PARSE_OK);
	assert_true(q.has_edns);
	assert_int_equal(q.edns_udp_size, 4096);
	assert_int_equal(dns_query_udp_limit(&q), DNS_EDNS_UDP_MAX);
	/* size below 512 counts as 512 */
	len = make_query(buf, 1, "a.b", DNS_TYPE_A);
	elen = add_opt(buf, len, 100, 0);
	assert_int_equal(dns_query_parse(buf, elen, &q), DNS_PARSE_OK);
	assert_int_equal(dns_query_udp_limit(&q), 512);
	/* unknown version: BADVERS */
	len = make_query(buf, 1, "a.b", DNS_TYPE_A);
	elen = add_opt(buf, len, 1232, 1);
	assert_int_equal(dns_query_parse(buf, elen, &q), DNS_RCODE_BADVERS);
	/* two OPTs: FORMERR */
	len = make_query(buf, 1, "a.b", DNS_TYPE_A);
	elen = add_opt(buf, len, 1232, 0);
	elen = add_opt(buf, elen, 1232, 0);
	assert_int_equal(dns_query_parse(buf, elen, &q), DNS_RCODE_FORMERR);
	/* OPT with a malformed option: FORMERR; a well-formed unknown one is fine */
	len = make_query(buf, 1, "a.b", DNS_TYPE_A);
	elen = add_opt(buf, len, 1232, 0);
	dns_put16(buf + elen - 2, 6);
	dns_put16(buf + elen, 65001);
	dns_put16(buf + elen + 2, 2);
	buf[elen + 4] = buf[elen + 5] = 7;
	assert_int_equal(dns_query_parse(buf, elen + 6, &q), DNS_PARSE_OK);
	dns_put16(buf + elen + 2, 3);
	assert_int_equal(dns_query_parse(buf, elen + 6, &q), DNS_RCODE_FORMERR);

	/* QDCOUNT 0 and 2: FORMERR; short: drop; QR: drop; opcode: NOTIMP */
	len = make_query(buf, 1, "a.b", DNS_TYPE_A);
	dns_put16(buf + 4, 0);
	assert_int_equal(dns_query_parse(buf, len, &q), DNS_RCODE_FORMERR);
	dns_put16(buf + 4, 2);
	assert_int_equal(dns_query_parse(buf, len, &q), DNS_RCODE_FORMERR);
	dns_put16(buf + 4, 1);
	assert_int_equal(dns_query_parse(buf, 11, &q), DNS_PARSE_DROP);
	assert_int_equal(dns_query_parse(buf, len - 1, &q), DNS_RCODE_FORMERR);
	dns_put16(buf + 2, DNS_FLAG_QR);
	assert_int_equal(dns_query_parse(buf, len, &q), DNS_PARSE_DROP);
	dns_put16(buf + 2, 2 << 11); /* STATUS */
	assert_int_equal(dns_query_parse(buf, len, &q), DNS_RCODE_NOTIMP);
	/* an answer record in a query: FORMERR */
	dns_put16(buf + 2, 0);
	dns_put16(buf + 6, 1);
	assert_int_equal(dns_query_parse(buf, len, &q), DNS_RCODE_FORMERR);
}

static void test_builder_compression(void **state)
{
	uint8_t qbuf[512], out[512];
	struct dns_query q;
	struct dns_builder b;
	size_t len = make_query(qbuf, 7, "Web.Prod.Internal", DNS_TYPE_A);
	assert_int_equal(dns_query_parse(qbuf, len, &q), DNS_PARSE_OK);
	dns_builder_start_reply(&b, out, sizeof(out), &q, DNS_FLAG_AA, DNS_RCODE_NOERROR);
	uint8_t addr[4] = {10, 1, 0, 2};
	assert_int_equal(dns_builder_add_rr(&b, DNS_SECTION_ANSWER, q.qname, q.qname_len,
					    DNS_TYPE_A, 30, addr, 4),
			 0);
	uint8_t other[DNS_WIRE_NAME_MAX];
	int n = dns_name_from_text("db.prod.internal", other, true);
	assert_int_equal(
	    dns_builder_add_rr(&b, DNS_SECTION_ANSWER, other, (size_t)n, DNS_TYPE_A, 30, addr, 4),
	    0);
	size_t mlen = dns_builder_finish(&b);
	/* header 12 + question 19+4 + rr1 (2+10+4) + rr2 (3+2+10+4) */
	assert_int_equal(mlen, 12 + 23 + 16 + 19);
	assert_int_equal(dns_get16(out), 7);
	uint16_t flags = dns_get16(out + 2);
	assert_true(flags & DNS_FLAG_QR);
	assert_true(flags & DNS_FLAG_AA);
	assert_true(flags & DNS_FLAG_RD);
	assert_int_equal(dns_get16(out + 6), 2);
	/* question keeps the client's case */
	assert_memory_equal(out + 12, "\3Web\4Prod\10Internal", 19);
	/* first answer's owner is a pointer to the question */
	assert_int_equal(out[35], 0xc0);
	assert_int_equal(out[36], 12);
	/* second: "db" + pointer to "prod.internal" at 16 */
	assert_memory_equal(out + 51, "\2db\xc0\x10", 5);

	/* read the second owner back */
	size_t off = 51;
	uint8_t name[DNS_WIRE_NAME_MAX];
	assert_int_equal(dns_name_read(out, mlen, &off, name, true), n);
	assert_memory_equal(name, other, (size_t)n);
}

static void test_builder_overflow(void **state)
{
	uint8_t qbuf[512], out[64];
	struct dns_query q;
	struct dns_builder b;
	size_t len = make_query(qbuf, 7, "x.y", DNS_TYPE_TXT);
	assert_int_equal(dns_query_parse(qbuf, len, &q), DNS_PARSE_OK);
	dns_builder_start_reply(&b, out, sizeof(out), &q, 0, DNS_RCODE_NOERROR);
	uint8_t txt[40];
	memset(txt, 'a', sizeof(txt));
	txt[0] = 39;
	assert_int_equal(dns_builder_add_rr(&b, DNS_SECTION_ANSWER, q.qname, q.qname_len,
					    DNS_TYPE_TXT, 30, txt, sizeof(txt)),
			 -EMSGSIZE);
	assert_int_equal(dns_builder_finish(&b), 12 + 9);
	assert_int_equal(dns_builder_add_opt(&b, 0), 0);
	assert_int_equal(dns_builder_finish(&b), 12 + 9 + 11);
	assert_int_equal(dns_get16(out + 10), 1);
}

static void test_reverse(void **state)
{
	struct ip_addr a;
	struct ip_prefix p;
	uint8_t name[DNS_WIRE_NAME_MAX];
	char text[1024];

	assert_int_equal(ip_addr_parse("10.1.0.2", AF_INET, &a), 0);
	int n = dns_reverse_name(&a, name);
	dns_name_to_text(name, (size_t)n, text, sizeof(text));
	assert_string_equal(text, "2.0.1.10.in-addr.arpa.");

	assert_int_equal(ip_prefix_parse("10.1.0.0/24", AF_INET, &p), 0);
	n = dns_reverse_apex(&p, name);
	dns_name_to_text(name, (size_t)n, text, sizeof(text));
	assert_string_equal(text, "0.1.10.in-addr.arpa.");
	n = dns_reverse_name(&a, name);
	assert_true(dns_reverse_in_prefix(name, (size_t)n, &p));
	assert_int_equal(ip_addr_parse("10.1.1.2", AF_INET, &a), 0);
	n = dns_reverse_name(&a, name);
	assert_false(dns_reverse_in_prefix(name, (size_t)n, &p));

	/* /20: apex at 1.10.in-addr.arpa but 10.1.16.x is outside */
	assert_int_equal(ip_prefix_parse("10.1.0.0/20", AF_INET, &p), 0);
	assert_int_equal(ip_addr_parse("10.1.15.9", AF_INET, &a), 0);
	n = dns_reverse_name(&a, name);
	assert_true(dns_reverse_in_prefix(name, (size_t)n, &p));
	assert_int_equal(ip_addr_parse("10.1.16.9", AF_INET, &a), 0);
	n = dns_reverse_name(&a, name);
	assert_false(dns_reverse_in_prefix(name, (size_t)n, &p));
	n = dns_name_from_text("009.0.1.10.in-addr.arpa", name, true);
	assert_false(dns_reverse_in_prefix(name, (size_t)n, &p));

	assert_int_equal(ip_addr_parse("fd00:1::2", AF_INET6, &a), 0);
	n = dns_reverse_name(&a, name);
	dns_name_to_text(name, (size_t)n, text, sizeof(text));
	assert_string_equal(
	    text, "2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.0.0.d.f.ip6.arpa.");
	assert_int_equal(ip_prefix_parse("fd00:1::/64", AF_INET6, &p), 0);
	assert_true(dns_reverse_in_prefix(name, (size_t)n, &p));
	n = dns_reverse_apex(&p, name);
	dns_name_to_text(name, (size_t)n, text, sizeof(text));
	assert_string_equal(text, "0.0.0.0.0.0.0.0.1.0.0.0.0.0.d.f.ip6.arpa.");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_name_text),
	    cmocka_unit_test(test_name_read_compression),
	    cmocka_unit_test(test_name_too_long_via_pointers),
	    cmocka_unit_test(test_query_parse),
	    cmocka_unit_test(test_builder_compression),
	    cmocka_unit_test(test_builder_overflow),
	    cmocka_unit_test(test_reverse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
