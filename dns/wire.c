/* The DNS wire codec: see wire.h. Every read is bounds-checked against the
 * message length; compression pointers must point strictly backwards
 * (RFC 1035 4.1.4 says "a prior occurrence"), which bounds the work per
 * name and makes pointer loops impossible. */
#include <errno.h>
#include <string.h>

#include "wire.h"

static inline uint8_t ascii_lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c | 0x20) : c;
}

int dns_name_read(const uint8_t *msg, size_t len, size_t *offset, uint8_t *out, bool lower)
{
	size_t pos = *offset;
	size_t out_len = 0;
	size_t end = 0;	    /* where the name ends in place; 0 until the first pointer */
	size_t limit = pos; /* a pointer must point before this */

	for (;;) {
		if (pos >= len)
			return -EBADMSG;
		uint8_t c = msg[pos];
		if ((c & 0xc0) == 0xc0) {
			if (pos + 1 >= len)
				return -EBADMSG;
			size_t target = ((size_t)(c & 0x3f) << 8) | msg[pos + 1];
			if (end == 0)
				end = pos + 2;
			if (target >= limit)
				return -EBADMSG;
			limit = target;
			pos = target;
			continue;
		}
		if (c & 0xc0) /* 0x40/0x80: extended label types, obsolete */
			return -EBADMSG;
		if (out_len + 1 + c > DNS_WIRE_NAME_MAX)
			return -EBADMSG;
		if (c == 0) {
			out[out_len++] = 0;
			if (end == 0)
				end = pos + 1;
			break;
		}
		if (pos + 1 + c > len)
			return -EBADMSG;
		out[out_len++] = c;
		if (lower)
			for (size_t i = 0; i < c; i++)
				out[out_len++] = ascii_lower(msg[pos + 1 + i]);
		else {
			memcpy(out + out_len, msg + pos + 1, c);
			out_len += c;
		}
		pos += 1 + c;
	}
	*offset = end;
	return (int)out_len;
}

/* Skips a name without copying it. */
static int name_skip(const uint8_t *msg, size_t len, size_t *offset)
{
	uint8_t scratch[DNS_WIRE_NAME_MAX];
	int r = dns_name_read(msg, len, offset, scratch, false);
	return r < 0 ? r : 0;
}

int dns_rr_skip(const uint8_t *msg, size_t len, size_t *offset, struct dns_rr_view *ret)
{
	size_t pos = *offset;
	ret->start = pos;
	int r = name_skip(msg, len, &pos);
	if (r < 0)
		return r;
	if (pos + 10 > len)
		return -EBADMSG;
	ret->type = dns_get16(msg + pos);
	ret->rclass = dns_get16(msg + pos + 2);
	ret->ttl_offset = pos + 4;
	ret->ttl = dns_get32(msg + pos + 4);
	ret->rdlen = dns_get16(msg + pos + 8);
	ret->rdata_offset = pos + 10;
	if (ret->rdata_offset + ret->rdlen > len)
		return -EBADMSG;
	ret->end = ret->rdata_offset + ret->rdlen;
	*offset = ret->end;
	return 0;
}

int dns_query_parse(const uint8_t *msg, size_t len, struct dns_query *q)
{
	q->has_question = false;
	q->has_edns = false;
	q->edns_do = false;
	q->edns_version = 0;
	q->edns_udp_size = DNS_UDP_PLAIN_MAX;
	q->qname_len = 0;
	q->label_count = 0;

	if (len < DNS_HEADER_SIZE)
		return DNS_PARSE_DROP;
	q->id = dns_get16(msg);
	q->flags = dns_get16(msg + 2);
	if (q->flags & DNS_FLAG_QR)
		return DNS_PARSE_DROP; /* never answer an answer: no reflection loops */

	uint16_t qdcount = dns_get16(msg + 4);
	uint16_t ancount = dns_get16(msg + 6);
	uint16_t nscount = dns_get16(msg + 8);
	uint16_t arcount = dns_get16(msg + 10);

	if (DNS_OPCODE(q->flags) != DNS_OPCODE_QUERY)
		return DNS_RCODE_NOTIMP;
	if (qdcount != 1)
		return DNS_RCODE_FORMERR;

	size_t pos = DNS_HEADER_SIZE;
	size_t name_pos = pos;
	int r = dns_name_read(msg, len, &pos, q->qname_raw, false);
	if (r < 0)
		return DNS_RCODE_FORMERR;
	if (pos + 4 > len)
		return DNS_RCODE_FORMERR;
	q->qname_len = (uint8_t)r;
	for (int i = 0; i < r;) {
		uint8_t l = q->qname_raw[i];
		q->label_offsets[q->label_count++] = (uint8_t)i;
		q->qname[i] = l;
		for (int j = 1; j <= l; j++)
			q->qname[i + j] = ascii_lower(q->qname_raw[i + j]);
		i += 1 + l;
	}
	(void)name_pos;
	q->qtype = dns_get16(msg + pos);
	q->qclass = dns_get16(msg + pos + 2);
	pos += 4;
	q->has_question = true;

	/* A query carries no answers; records in the authority section are
	 * tolerated (skipped) since some clients send them. */
	if (ancount != 0)
		return DNS_RCODE_FORMERR;
	struct dns_rr_view rr;
	for (unsigned i = 0; i < nscount; i++)
		if (dns_rr_skip(msg, len, &pos, &rr) < 0)
			return DNS_RCODE_FORMERR;
	for (unsigned i = 0; i < arcount; i++) {
		size_t start = pos;
		if (dns_rr_skip(msg, len, &pos, &rr) < 0)
			return DNS_RCODE_FORMERR;
		if (rr.type != DNS_TYPE_OPT)
			continue;
		/* RFC 6891 6.1.1: one OPT at most, owned by the root. */
		if (q->has_edns || msg[start] != 0)
			return DNS_RCODE_FORMERR;
		q->has_edns = true;
		q->edns_udp_size = rr.rclass < DNS_UDP_PLAIN_MAX ? DNS_UDP_PLAIN_MAX : rr.rclass;
		q->edns_version = (uint8_t)(rr.ttl >> 16);
		q->edns_do = (rr.ttl & DNS_EDNS_DO) != 0;
		/* Options are TLVs; check they are well formed, ignore them
		 * (RFC 6891 6.1.2: unknown options are ignored). */
		size_t opt = rr.rdata_offset;
		while (opt < rr.end) {
			if (opt + 4 > rr.end)
				return DNS_RCODE_FORMERR;
			size_t opt_len = dns_get16(msg + opt + 2);
			if (opt + 4 + opt_len > rr.end)
				return DNS_RCODE_FORMERR;
			opt += 4 + opt_len;
		}
	}
	if (q->has_edns && q->edns_version != 0)
		return DNS_RCODE_BADVERS;
	return DNS_PARSE_OK;
}

size_t dns_query_udp_limit(const struct dns_query *q)
{
	if (!q->has_edns)
		return DNS_UDP_PLAIN_MAX;
	return q->edns_udp_size < DNS_EDNS_UDP_MAX ? q->edns_udp_size : DNS_EDNS_UDP_MAX;
}

int dns_query_suffix_offset(const struct dns_query *q, const uint8_t *suffix, size_t suffix_len)
{
	if (suffix_len > q->qname_len)
		return -1;
	size_t start = q->qname_len - suffix_len;
	/* label_offsets is ascending: find start among them */
	unsigned lo = 0, hi = q->label_count;
	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;
		if (q->label_offsets[mid] < start)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo >= q->label_count || q->label_offsets[lo] != start)
		return -1;
	if (memcmp(q->qname + start, suffix, suffix_len) != 0)
		return -1;
	return (int)start;
}

/* --- builder --- */

static void builder_remember(struct dns_builder *b, const uint8_t *name, size_t len, size_t offset)
{
	/* Remember each suffix written literally at offset (label by label). */
	if (b->name_store_used >= DNS_COMPRESS_ENTRIES || offset > 0x3fff)
		return;
	uint8_t *store = b->name_store[b->name_store_used++];
	memcpy(store, name, len);
	size_t i = 0;
	while (i < len && name[i] != 0 && b->compress_count < DNS_COMPRESS_ENTRIES &&
	       offset + i <= 0x3fff) {
		b->compress[b->compress_count].offset = (uint16_t)(offset + i);
		b->compress[b->compress_count].len = (uint8_t)(len - i);
		b->compress[b->compress_count].name = store + i;
		b->compress_count++;
		i += 1 + name[i];
	}
}

/* Writes name at b->len with compression; returns bytes written or
 * -EMSGSIZE. name is lower-case wire form. */
static int builder_put_name(struct dns_builder *b, const uint8_t *name, size_t len)
{
	size_t i = 0;
	int pointer = -1;
	while (i < len && name[i] != 0) {
		size_t rest = len - i;
		for (unsigned e = 0; e < b->compress_count; e++)
			if (b->compress[e].len == rest &&
			    memcmp(b->compress[e].name, name + i, rest) == 0) {
				pointer = b->compress[e].offset;
				break;
			}
		if (pointer >= 0)
			break;
		i += 1 + name[i];
	}
	size_t need = pointer >= 0 ? i + 2 : len;
	if (b->len + need > b->cap)
		return -EMSGSIZE;
	size_t start = b->len;
	memcpy(b->buf + b->len, name, i);
	if (pointer >= 0) {
		dns_put16(b->buf + b->len + i, (uint16_t)(0xc000 | pointer));
	} else {
		b->buf[b->len + i] = 0; /* root */
	}
	b->len += need;
	if (i > 0)
		builder_remember(b, name, len, start);
	return (int)need;
}

void dns_builder_start_reply(struct dns_builder *b, uint8_t *buf, size_t cap,
			     const struct dns_query *q, uint16_t extra_flags, int rcode)
{
	b->buf = buf;
	b->cap = cap;
	b->len = DNS_HEADER_SIZE;
	memset(b->counts, 0, sizeof(b->counts));
	b->compress_count = 0;
	b->name_store_used = 0;

	uint16_t flags = DNS_FLAG_QR | DNS_FLAG_RA | (q->flags & (DNS_FLAG_RD | 0x7800)) |
			 extra_flags | (uint16_t)(rcode & 0xf);
	dns_put16(buf, q->id);
	dns_put16(buf + 2, flags);
	if (q->has_question && b->len + q->qname_len + 4 <= cap) {
		memcpy(buf + b->len, q->qname_raw, q->qname_len);
		/* Compression matches the lower-case form: pointers to the
		 * question keep the client's case in the answer's owner. */
		builder_remember(b, q->qname, q->qname_len, b->len);
		b->len += q->qname_len;
		dns_put16(buf + b->len, q->qtype);
		dns_put16(buf + b->len + 2, q->qclass);
		b->len += 4;
		b->counts[DNS_SECTION_QUESTION] = 1;
	}
}

void dns_builder_set_flags(struct dns_builder *b, uint16_t flags)
{
	dns_put16(b->buf + 2, dns_get16(b->buf + 2) | flags);
}

void dns_builder_set_rcode(struct dns_builder *b, int rcode)
{
	dns_put16(b->buf + 2, (uint16_t)((dns_get16(b->buf + 2) & ~0xf) | (rcode & 0xf)));
}

int dns_builder_add_rr(struct dns_builder *b, enum dns_section section, const uint8_t *name,
		       size_t name_len, uint16_t type, uint32_t ttl, const uint8_t *rdata,
		       uint16_t rdlen)
{
	size_t saved_len = b->len;
	unsigned saved_cc = b->compress_count, saved_ns = b->name_store_used;
	int r = builder_put_name(b, name, name_len);
	if (r < 0 || b->len + 10 + rdlen > b->cap) {
		b->len = saved_len;
		b->compress_count = saved_cc;
		b->name_store_used = saved_ns;
		return -EMSGSIZE;
	}
	uint8_t *p = b->buf + b->len;
	dns_put16(p, type);
	dns_put16(p + 2, DNS_CLASS_IN);
	dns_put32(p + 4, ttl);
	dns_put16(p + 8, rdlen);
	memcpy(p + 10, rdata, rdlen);
	b->len += 10 + rdlen;
	b->counts[section]++;
	return 0;
}

int dns_builder_add_soa(struct dns_builder *b, enum dns_section section, const uint8_t *apex,
			size_t apex_len, uint32_t ttl, const uint8_t *mname, size_t mname_len,
			const uint8_t *rname, size_t rname_len, const uint32_t values[5])
{
	size_t saved_len = b->len;
	unsigned saved_cc = b->compress_count, saved_ns = b->name_store_used;
	int r = builder_put_name(b, apex, apex_len);
	if (r < 0 || b->len + 10 > b->cap)
		goto fail;
	size_t rr = b->len;
	b->len += 10;
	size_t rdata_start = b->len;
	if (builder_put_name(b, mname, mname_len) < 0 ||
	    builder_put_name(b, rname, rname_len) < 0 || b->len + 20 > b->cap)
		goto fail;
	for (int i = 0; i < 5; i++)
		dns_put32(b->buf + b->len + 4 * i, values[i]);
	b->len += 20;
	dns_put16(b->buf + rr, DNS_TYPE_SOA);
	dns_put16(b->buf + rr + 2, DNS_CLASS_IN);
	dns_put32(b->buf + rr + 4, ttl);
	dns_put16(b->buf + rr + 8, (uint16_t)(b->len - rdata_start));
	b->counts[section]++;
	return 0;
fail:
	b->len = saved_len;
	b->compress_count = saved_cc;
	b->name_store_used = saved_ns;
	return -EMSGSIZE;
}

int dns_builder_add_opt(struct dns_builder *b, uint8_t ext_rcode)
{
	if (b->len + 11 > b->cap)
		return -EMSGSIZE;
	uint8_t *p = b->buf + b->len;
	p[0] = 0;
	dns_put16(p + 1, DNS_TYPE_OPT);
	dns_put16(p + 3, DNS_EDNS_UDP_MAX);
	dns_put32(p + 5, (uint32_t)ext_rcode << 24);
	dns_put16(p + 9, 0);
	b->len += 11;
	b->counts[DNS_SECTION_ADDITIONAL]++;
	return 0;
}

void dns_builder_truncate(struct dns_builder *b)
{
	size_t q_end = DNS_HEADER_SIZE;
	if (b->counts[DNS_SECTION_QUESTION]) {
		size_t pos = DNS_HEADER_SIZE;
		while (b->buf[pos] != 0)
			pos += 1 + b->buf[pos];
		q_end = pos + 1 + 4;
	}
	b->len = q_end;
	b->counts[DNS_SECTION_ANSWER] = 0;
	b->counts[DNS_SECTION_AUTHORITY] = 0;
	b->counts[DNS_SECTION_ADDITIONAL] = 0;
	/* keep only compression entries inside the question */
	unsigned kept = 0;
	for (unsigned e = 0; e < b->compress_count; e++)
		if (b->compress[e].offset < q_end)
			b->compress[kept++] = b->compress[e];
	b->compress_count = kept;
}

size_t dns_builder_finish(struct dns_builder *b)
{
	for (int i = 0; i < 4; i++)
		dns_put16(b->buf + 4 + 2 * i, b->counts[i]);
	return b->len;
}
