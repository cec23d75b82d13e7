/* libFuzzer target for dnsd's wire parsing: every input is parsed as a
 * query (dns_query_parse) and, if it parses, answered from a small model
 * (resolve_local: scope search, CNAME chase, compression into a 512-byte
 * buffer); the same bytes are also read as an upstream answer
 * (upstream_msg_canonicalize) and rendered back for the query. Anything
 * that reads out of bounds, loops or trips UBSan is a bug.
 *
 * Built by `make fuzz` / `make fuzz-smoke` (dns/build.mk) with clang
 * -fsanitize=fuzzer; compiled into libdns.a by the generic rule too,
 * where nothing references it. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "resolve.h"
#include "upstream-msg.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct model fuzz_model;
static bool fuzz_ready;

static void fuzz_setup(void)
{
	struct vnet_info v = {0};
	snprintf(v.name, sizeof(v.name), "prod");
	snprintf(v.domain, sizeof(v.domain), "prod.internal");
	ip_prefix_parse("10.1.0.0/24", AF_INET, &v.subnets[0]);
	ip_prefix_parse("fd00:1::/64", AF_INET6, &v.subnets[1]);
	ip_addr_parse("10.1.0.1", AF_INET, &v.gateways[0]);
	ip_addr_parse("fd00:1::1", AF_INET6, &v.gateways[1]);
	v.subnet_count = v.gateway_count = 2;
	model_init(&fuzz_model, NULL);
	model_vnet_set(&fuzz_model, &v);

	struct group_info g = {0};
	snprintf(g.id, sizeof(g.id), "web");
	g.aliases = calloc(1, sizeof(*g.aliases));
	snprintf(g.aliases[0], sizeof(g.aliases[0]), "www");
	g.alias_count = 1;
	g.attachments = calloc(1, sizeof(*g.attachments));
	g.attachment_count = 1;
	snprintf(g.attachments[0].vnet, sizeof(g.attachments[0].vnet), "prod");
	ip_addr_parse("10.1.0.2", AF_INET, &g.attachments[0].addresses[0]);
	g.attachments[0].address_count = 1;
	model_group_set(&fuzz_model, &g);
	group_info_done(&g);

	static const struct {
		const char *name;
		uint16_t type;
		const char *value;
	} records[] = {
	    {"api", DNS_TYPE_CNAME, "web.prod.internal"},
	    {"loop", DNS_TYPE_CNAME, "loop.prod.internal"},
	    {"_http._tcp", DNS_TYPE_SRV, "1 1 80 web.prod.internal"},
	    {"big", DNS_TYPE_TXT,
	     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"},
	    {"@", DNS_TYPE_MX, "10 mail.prod.internal"},
	};
	for (size_t i = 0; i < sizeof(records) / sizeof(records[0]); i++) {
		struct record_info r = {0};
		snprintf(r.vnet, sizeof(r.vnet), "prod");
		snprintf(r.name, sizeof(r.name), "%s", records[i].name);
		r.type = records[i].type;
		r.value = strdup(records[i].value);
		r.ttl = 60;
		model_record_set(&fuzz_model, &r);
		record_info_done(&r);
	}
	fuzz_ready = true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[DNS_TCP_MSG_MAX];
	static uint8_t canon[DNS_TCP_MSG_MAX];
	struct dns_query q;
	struct dns_builder b;

	if (!fuzz_ready)
		fuzz_setup();
	int r = dns_query_parse(data, size, &q);
	if (r == DNS_PARSE_DROP)
		return 0;
	if (r > 0) {
		dns_builder_start_reply(&b, out, DNS_UDP_PLAIN_MAX, &q, 0, r & 0xf);
		if (q.has_edns)
			dns_builder_add_opt(&b, (uint8_t)(r >> 4));
		dns_builder_finish(&b);
		return 0;
	}
	struct view *v = model_view(&fuzz_model, "prod");
	size_t limit = dns_query_udp_limit(&q);
	dns_builder_start_reply(&b, out, limit - (q.has_edns ? 11 : 0), &q, 0, 0);
	if (resolve_local(&fuzz_model.table, &v->resolve, &q, &b) == RESOLVE_ANSWERED) {
		b.cap = limit;
		if (q.has_edns)
			dns_builder_add_opt(&b, 0);
		size_t len = dns_builder_finish(&b);
		if (len > limit)
			abort();
	}
	/* the same bytes as an answer from upstream to this question */
	struct upstream_msg um;
	if (size <= sizeof(canon) &&
	    upstream_msg_canonicalize(data, size, q.id, q.qname, q.qname_len, q.qtype, q.qclass,
				      canon, &um) == 0) {
		size_t len = upstream_msg_render(&um, 7, &q, out, limit);
		if (len > limit)
			abort();
	}
	return 0;
}
