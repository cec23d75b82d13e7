/* The DNS wire codec (RFC 1035, EDNS0 from RFC 6891): parsing a query into
 * a typed struct, reading possibly-compressed names with strict bounds, and
 * building responses into a caller-owned buffer with name compression.
 *
 * Invariants: no function here allocates or reads outside [msg, msg+len);
 * every name produced is uncompressed wire form of at most DNS_WIRE_NAME_MAX
 * bytes whose labels are at most 63 bytes. The builder never writes past
 * its capacity: an RR that does not fit is refused with -EMSGSIZE and the
 * message stays as it was before the call. Pure code, no locking. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_HEADER_SIZE 12
/* RFC 1035 2.3.4: a name is at most 255 octets in wire form. */
#define DNS_WIRE_NAME_MAX 255
/* A 255-octet name has at most 127 labels (plus the root). */
#define DNS_LABELS_MAX 128
/* Plain DNS over UDP (RFC 1035 4.2.1). */
#define DNS_UDP_PLAIN_MAX 512
/* The EDNS buffer size we offer and the most we send over UDP: the 2020
 * DNS flag day value, which avoids IP fragmentation on ordinary paths. */
#define DNS_EDNS_UDP_MAX 1232
/* TCP messages carry a 16-bit length (RFC 1035 4.2.2). */
#define DNS_TCP_MSG_MAX 65535

enum {
	DNS_TYPE_A = 1,
	DNS_TYPE_NS = 2,
	DNS_TYPE_CNAME = 5,
	DNS_TYPE_SOA = 6,
	DNS_TYPE_PTR = 12,
	DNS_TYPE_MX = 15,
	DNS_TYPE_TXT = 16,
	DNS_TYPE_AAAA = 28,
	DNS_TYPE_SRV = 33,
	DNS_TYPE_OPT = 41,
	DNS_TYPE_IXFR = 251,
	DNS_TYPE_AXFR = 252,
	DNS_TYPE_ANY = 255,
};

enum {
	DNS_CLASS_IN = 1,
	DNS_CLASS_ANY = 255,
};

enum {
	DNS_RCODE_NOERROR = 0,
	DNS_RCODE_FORMERR = 1,
	DNS_RCODE_SERVFAIL = 2,
	DNS_RCODE_NXDOMAIN = 3,
	DNS_RCODE_NOTIMP = 4,
	DNS_RCODE_REFUSED = 5,
	DNS_RCODE_BADVERS = 16, /* extended (needs OPT) */
	DNS_RCODE_MAX = 24,
};

/* Header flag bits (host order, as in the second 16-bit word). */
#define DNS_FLAG_QR	  0x8000
#define DNS_FLAG_AA	  0x0400
#define DNS_FLAG_TC	  0x0200
#define DNS_FLAG_RD	  0x0100
#define DNS_FLAG_RA	  0x0080
#define DNS_FLAG_AD	  0x0020
#define DNS_FLAG_CD	  0x0010
#define DNS_OPCODE(flags) (((flags) >> 11) & 0xf)
#define DNS_RCODE(flags)  ((flags)&0xf)
#define DNS_OPCODE_QUERY  0

/* EDNS OPT TTL field: DO bit. */
#define DNS_EDNS_DO 0x8000

static inline uint16_t dns_get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t dns_get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline void dns_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void dns_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Reads the name at *offset of msg (following compression pointers, each
 * strictly backwards, so loops are impossible) into out as uncompressed
 * wire form, lower-cased if lower. Advances *offset past the name as it
 * appears at that place. Returns the wire length (>= 1), or -EBADMSG. */
int dns_name_read(const uint8_t *msg, size_t len, size_t *offset, uint8_t *out, bool lower);

/* Skips one resource record at *offset; on success fills type and the
 * rdata position. -EBADMSG if it runs past the end. */
struct dns_rr_view {
	uint16_t type;
	uint16_t rclass;
	uint32_t ttl;
	size_t ttl_offset;
	size_t rdata_offset;
	uint16_t rdlen;
	size_t start; /* offset of the owner name */
	size_t end;
};
int dns_rr_skip(const uint8_t *msg, size_t len, size_t *offset, struct dns_rr_view *ret);

/* A parsed query. qname is lower-cased (the lookup key); qname_raw keeps
 * the client's case, echoed back (DNS 0x20, draft-vixie-dnsext-dns0x20). */
struct dns_query {
	uint16_t id;
	uint16_t flags;
	uint16_t qtype;
	uint16_t qclass;
	uint8_t qname_len;
	uint8_t label_count;
	bool has_question; /* the question parsed (so an error reply can echo it) */
	bool has_edns;
	bool edns_do;
	uint8_t edns_version;
	uint16_t edns_udp_size; /* client's advertised size, >= 512 */
	uint8_t qname[DNS_WIRE_NAME_MAX];
	uint8_t qname_raw[DNS_WIRE_NAME_MAX];
	/* offsets in qname of each label's length byte, the root last */
	uint8_t label_offsets[DNS_LABELS_MAX];
};

/* Outcome of dns_query_parse: DNS_PARSE_OK, DNS_PARSE_DROP (too short to
 * answer, or a response: QR set), or a positive DNS rcode to answer with
 * (FORMERR, NOTIMP, BADVERS); then q->id, q->flags and, if has_question,
 * the question are set. */
enum dns_parse_result {
	DNS_PARSE_OK = 0,
	DNS_PARSE_DROP = -1,
};
int dns_query_parse(const uint8_t *msg, size_t len, struct dns_query *q);

/* The UDP payload size we may send in reply to q. */
size_t dns_query_udp_limit(const struct dns_query *q);

/* Whether the lower-cased name `suffix` (suffix_len bytes) is name q->qname
 * itself or a suffix of it at a label boundary; returns the offset in qname
 * where it starts, or -1. */
int dns_query_suffix_offset(const struct dns_query *q, const uint8_t *suffix, size_t suffix_len);

/* Names the builder remembers for compression: enough for a question, a
 * CNAME chain and an SOA. */
#define DNS_COMPRESS_ENTRIES 32

struct dns_builder {
	uint8_t *buf;
	size_t cap;
	size_t len;
	uint16_t counts[4]; /* qd, an, ns, ar */
	unsigned compress_count;
	struct {
		uint16_t offset;
		uint8_t len;
		const uint8_t *name; /* lower-case wire, points into name_store */
	} compress[DNS_COMPRESS_ENTRIES];
	uint8_t name_store[DNS_COMPRESS_ENTRIES][DNS_WIRE_NAME_MAX];
	unsigned name_store_used;
};

enum dns_section {
	DNS_SECTION_QUESTION,
	DNS_SECTION_ANSWER,
	DNS_SECTION_AUTHORITY,
	DNS_SECTION_ADDITIONAL,
};

/* Starts a response to q in buf: header (id, opcode and RD copied, QR and
 * RA set, rcode given) and, if q has one, the question with the client's
 * case. cap must be at least DNS_HEADER_SIZE + DNS_WIRE_NAME_MAX + 4. */
void dns_builder_start_reply(struct dns_builder *b, uint8_t *buf, size_t cap,
			     const struct dns_query *q, uint16_t extra_flags, int rcode);
/* Sets bits in the header flags / the 4-bit rcode. */
void dns_builder_set_flags(struct dns_builder *b, uint16_t flags);
void dns_builder_set_rcode(struct dns_builder *b, int rcode);
/* Appends an RR whose owner is name (lower-case wire form; compressed
 * against earlier names) and whose rdata is given as is. If the rdata is a
 * single domain name (CNAME, PTR, NS), pass rdata_is_name to compress it
 * too. -EMSGSIZE (nothing written) when it does not fit. */
int dns_builder_add_rr(struct dns_builder *b, enum dns_section section, const uint8_t *name,
		       size_t name_len, uint16_t type, uint32_t ttl, const uint8_t *rdata,
		       uint16_t rdlen);
/* SOA with the names compressed: mname, rname, then 5 32-bit values. */
int dns_builder_add_soa(struct dns_builder *b, enum dns_section section, const uint8_t *apex,
			size_t apex_len, uint32_t ttl, const uint8_t *mname, size_t mname_len,
			const uint8_t *rname, size_t rname_len, const uint32_t values[5]);
/* The OPT pseudo-RR (EDNS0 version 0, our buffer size); ext_rcode is the
 * upper 8 bits of an extended rcode. */
int dns_builder_add_opt(struct dns_builder *b, uint8_t ext_rcode);
/* Drops everything after the question (used on truncation). */
void dns_builder_truncate(struct dns_builder *b);
/* Writes the section counts into the header; returns the message length. */
size_t dns_builder_finish(struct dns_builder *b);
