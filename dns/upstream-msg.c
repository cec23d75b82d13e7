/* Upstream answers: see upstream-msg.h.
 *
 * Why the canonical form keeps answer and authority verbatim: compression
 * pointers in them point at the question or at earlier records, all at the
 * same offsets in the canonical copy (the question name has the same
 * length in any case), so no name needs rewriting. Only the OPT record and
 * what follows it are cut, and nothing before the OPT can point after it
 * (pointers go backwards). */
#include <errno.h>
#include <string.h>

#include "upstream-msg.h"

static inline uint8_t lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c | 0x20) : c;
}

int upstream_msg_canonicalize(const uint8_t *reply, size_t len, uint16_t id, const uint8_t *qname,
			      size_t qname_len, uint16_t qtype, uint16_t qclass, uint8_t *out,
			      struct upstream_msg *ret)
{
	if (len < DNS_HEADER_SIZE)
		return -EBADMSG;
	uint16_t flags = dns_get16(reply + 2);
	if (dns_get16(reply) != id || !(flags & DNS_FLAG_QR) ||
	    DNS_OPCODE(flags) != DNS_OPCODE_QUERY || dns_get16(reply + 4) != 1)
		return -EBADMSG;
	/* The question must be ours, uncompressed, at offset 12. */
	size_t pos = DNS_HEADER_SIZE;
	if (pos + qname_len + 4 > len)
		return -EBADMSG;
	for (size_t i = 0; i < qname_len; i++)
		if (lower(reply[pos + i]) != qname[i])
			return -EBADMSG;
	pos += qname_len;
	if (dns_get16(reply + pos) != qtype || dns_get16(reply + pos + 2) != qclass)
		return -EBADMSG;
	pos += 4;

	uint16_t counts[3] = {dns_get16(reply + 6), dns_get16(reply + 8), dns_get16(reply + 10)};
	uint16_t kept[3] = {0, 0, 0};
	ret->ttl_count = 0;
	ret->rcode = DNS_RCODE(flags);
	ret->truncated = (flags & DNS_FLAG_TC) != 0;
	bool overflow = false;
	uint32_t min_ttl = UINT32_MAX;
	uint32_t soa_ttl = UINT32_MAX;
	bool has_answer_of_type = false;
	size_t end = pos;

	for (int section = 0; section < 3; section++) {
		bool stop = false;
		for (unsigned i = 0; i < counts[section]; i++) {
			struct dns_rr_view rr;
			if (dns_rr_skip(reply, len, &pos, &rr) < 0)
				return -EBADMSG;
			if (rr.type == DNS_TYPE_OPT) {
				if (section != 2)
					return -EBADMSG;
				stop = true;
				break;
			}
			if (ret->ttl_count < UPSTREAM_MSG_RRS_MAX)
				ret->ttl_offsets[ret->ttl_count++] = (uint16_t)rr.ttl_offset;
			else
				overflow = true;
			/* RFC 2181 8: a TTL with the top bit set is zero. */
			uint32_t ttl = rr.ttl & 0x80000000u ? 0 : rr.ttl;
			if (section == 0) {
				if (rr.type == qtype || rr.type == DNS_TYPE_CNAME ||
				    qtype == DNS_TYPE_ANY)
					has_answer_of_type = true;
				if (ttl < min_ttl)
					min_ttl = ttl;
			} else if (section == 1) {
				if (rr.type == DNS_TYPE_SOA && rr.rdlen >= 22) {
					/* RFC 2308 5: min(SOA TTL, SOA MINIMUM) */
					uint32_t minimum =
					    dns_get32(reply + rr.rdata_offset + rr.rdlen - 4);
					uint32_t neg = ttl < minimum ? ttl : minimum;
					if (neg < soa_ttl)
						soa_ttl = neg;
				}
				if (counts[0] && ttl < min_ttl)
					min_ttl = ttl;
			}
			kept[section]++;
			end = rr.end;
		}
		if (stop)
			break;
	}

	memcpy(out, reply, end);
	dns_put16(out, 0);
	for (size_t i = 0; i < qname_len; i++)
		out[DNS_HEADER_SIZE + i] = qname[i];
	dns_put16(out + 6, kept[0]);
	dns_put16(out + 8, kept[1]);
	dns_put16(out + 10, kept[2]);
	ret->msg = out;
	ret->len = end;

	ret->cacheable = false;
	ret->ttl = 0;
	if (ret->truncated || overflow)
		return 0;
	if (ret->rcode == DNS_RCODE_NOERROR && has_answer_of_type) {
		ret->ttl = min_ttl > UPSTREAM_TTL_MAX ? UPSTREAM_TTL_MAX : min_ttl;
		ret->cacheable = ret->ttl > 0;
	} else if (ret->rcode == DNS_RCODE_NXDOMAIN || ret->rcode == DNS_RCODE_NOERROR) {
		/* negative: only with an SOA to say for how long */
		if (soa_ttl != UINT32_MAX) {
			ret->ttl = soa_ttl > UPSTREAM_NEGATIVE_TTL_MAX ? UPSTREAM_NEGATIVE_TTL_MAX
								       : soa_ttl;
			ret->cacheable = ret->ttl > 0;
		}
	}
	return 0;
}

static size_t add_opt(uint8_t *out, size_t len)
{
	uint8_t *p = out + len;
	p[0] = 0;
	dns_put16(p + 1, DNS_TYPE_OPT);
	dns_put16(p + 3, DNS_EDNS_UDP_MAX);
	dns_put32(p + 5, 0);
	dns_put16(p + 9, 0);
	dns_put16(out + 10, (uint16_t)(dns_get16(out + 10) + 1));
	return len + 11;
}

size_t upstream_msg_render(const struct upstream_msg *um, uint32_t elapsed,
			   const struct dns_query *q, uint8_t *out, size_t cap)
{
	size_t opt = q->has_edns ? 11 : 0;
	size_t question_end = DNS_HEADER_SIZE + q->qname_len + 4;
	uint16_t up_flags = dns_get16(um->msg + 2);
	uint16_t flags =
	    DNS_FLAG_QR | DNS_FLAG_RA | (q->flags & DNS_FLAG_RD) | (up_flags & (DNS_FLAG_TC | 0xf));
	size_t len;

	if (um->len + opt <= cap) {
		memcpy(out, um->msg, um->len);
		len = um->len;
		for (unsigned i = 0; i < um->ttl_count; i++) {
			uint32_t ttl = dns_get32(out + um->ttl_offsets[i]);
			if (ttl & 0x80000000u)
				ttl = 0;
			dns_put32(out + um->ttl_offsets[i], ttl > elapsed ? ttl - elapsed : 0);
		}
	} else {
		/* RFC 2181 9: set TC and send what fits: here the question. */
		memcpy(out, um->msg, question_end);
		len = question_end;
		dns_put16(out + 6, 0);
		dns_put16(out + 8, 0);
		dns_put16(out + 10, 0);
		flags |= DNS_FLAG_TC;
	}
	dns_put16(out, q->id);
	dns_put16(out + 2, flags);
	memcpy(out + DNS_HEADER_SIZE, q->qname_raw, q->qname_len);
	if (opt)
		len = add_opt(out, len);
	return len;
}

size_t upstream_msg_query(uint16_t id, const uint8_t *qname, size_t qname_len, uint16_t qtype,
			  uint16_t qclass, uint8_t *out)
{
	memset(out, 0, DNS_HEADER_SIZE);
	dns_put16(out, id);
	dns_put16(out + 2, DNS_FLAG_RD);
	dns_put16(out + 4, 1);
	memcpy(out + DNS_HEADER_SIZE, qname, qname_len);
	size_t len = DNS_HEADER_SIZE + qname_len;
	dns_put16(out + len, qtype);
	dns_put16(out + len + 2, qclass);
	len += 4;
	return add_opt(out, len);
}
