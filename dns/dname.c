/* DNS names outside a message: see dname.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dname.h"

int dns_name_from_text(const char *text, uint8_t *out, bool lower)
{
	size_t len = 0;
	if (!text || !*text)
		return -EINVAL;
	if (strcmp(text, ".") == 0) {
		out[0] = 0;
		return 1;
	}
	const char *p = text;
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t label = dot ? (size_t)(dot - p) : strlen(p);
		if (label == 0 || label > 63)
			return -EINVAL;
		if (len + 1 + label + 1 > DNS_WIRE_NAME_MAX)
			return -EINVAL;
		out[len++] = (uint8_t)label;
		for (size_t i = 0; i < label; i++) {
			char c = p[i];
			if (lower && c >= 'A' && c <= 'Z')
				c = (char)(c | 0x20);
			out[len++] = (uint8_t)c;
		}
		if (!dot)
			break;
		p = dot + 1;
	}
	out[len++] = 0;
	return (int)len;
}

void dns_name_to_text(const uint8_t *name, size_t len, char *out, size_t out_size)
{
	size_t o = 0;
	size_t i = 0;
	if (out_size == 0)
		return;
	if (len == 0 || name[0] == 0) {
		snprintf(out, out_size, ".");
		return;
	}
	while (i < len && name[i] != 0) {
		uint8_t l = name[i];
		for (size_t j = 1; j <= l && i + j < len; j++) {
			uint8_t c = name[i + j];
			if (o + 5 >= out_size)
				goto done;
			if (c > 32 && c < 127 && c != '.' && c != '\\')
				out[o++] = (char)c;
			else
				o += (size_t)snprintf(out + o, out_size - o, "\\%03u", c);
		}
		if (o + 2 >= out_size)
			goto done;
		out[o++] = '.';
		i += 1 + l;
	}
done:
	out[o] = 0;
}

int dns_name_concat(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len, uint8_t *out)
{
	if (a_len == 0 || b_len == 0 || a_len - 1 + b_len > DNS_WIRE_NAME_MAX)
		return -EINVAL;
	memmove(out, a, a_len - 1);
	memmove(out + a_len - 1, b, b_len);
	return (int)(a_len - 1 + b_len);
}

uint32_t dns_name_hash(const uint8_t *name, size_t len, uint32_t seed)
{
	uint32_t h = 2166136261u ^ seed;
	for (size_t i = 0; i < len; i++) {
		h ^= name[i];
		h *= 16777619u;
	}
	return h;
}

unsigned dns_name_label_count(const uint8_t *name, size_t len)
{
	unsigned count = 0;
	for (size_t i = 0; i < len && name[i] != 0; i += 1 + name[i])
		count++;
	return count;
}

static const uint8_t in_addr_arpa[] = "\7in-addr\4arpa";
static const uint8_t ip6_arpa[] = "\3ip6\4arpa";

/* Writes the reverse labels for the first `units` octets (IPv4) or
 * nibbles (IPv6) of addr, most specific first, then the arpa suffix. */
static int reverse_labels(const struct ip_addr *addr, unsigned units, uint8_t *out)
{
	size_t len = 0;
	if (addr->family == AF_INET) {
		for (unsigned i = units; i > 0; i--) {
			char buf[4];
			int n = snprintf(buf, sizeof(buf), "%u", addr->addr.bytes[i - 1]);
			out[len++] = (uint8_t)n;
			memcpy(out + len, buf, (size_t)n);
			len += (size_t)n;
		}
		memcpy(out + len, in_addr_arpa, sizeof(in_addr_arpa));
		return (int)(len + sizeof(in_addr_arpa));
	}
	static const char hex[] = "0123456789abcdef";
	for (unsigned i = units; i > 0; i--) {
		uint8_t byte = addr->addr.bytes[(i - 1) / 2];
		uint8_t nibble = ((i - 1) % 2 == 0) ? byte >> 4 : byte & 0xf;
		out[len++] = 1;
		out[len++] = (uint8_t)hex[nibble];
	}
	memcpy(out + len, ip6_arpa, sizeof(ip6_arpa));
	return (int)(len + sizeof(ip6_arpa));
}

int dns_reverse_name(const struct ip_addr *addr, uint8_t *out)
{
	return reverse_labels(addr, addr->family == AF_INET ? 4 : 32, out);
}

int dns_reverse_apex(const struct ip_prefix *prefix, uint8_t *out)
{
	struct ip_addr a = {.family = prefix->family, .addr = prefix->addr};
	unsigned bits_per_unit = prefix->family == AF_INET ? 8 : 4;
	return reverse_labels(&a, prefix->prefixlen / bits_per_unit, out);
}

static int parse_label_number(const uint8_t *label, uint8_t len, unsigned base, unsigned max,
			      unsigned *ret)
{
	if (len == 0 || (base == 10 && len > 3) || (base == 16 && len != 1))
		return -EINVAL;
	if (base == 10 && len > 1 && label[0] == '0')
		return -EINVAL;
	unsigned v = 0;
	for (uint8_t i = 0; i < len; i++) {
		uint8_t c = label[i];
		unsigned d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else
			return -EINVAL;
		v = v * base + d;
	}
	if (v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

bool dns_reverse_in_prefix(const uint8_t *name, size_t len, const struct ip_prefix *prefix)
{
	const uint8_t *suffix = prefix->family == AF_INET ? in_addr_arpa : ip6_arpa;
	size_t suffix_len = prefix->family == AF_INET ? sizeof(in_addr_arpa) : sizeof(ip6_arpa);
	unsigned bits_per_unit = prefix->family == AF_INET ? 8 : 4;
	unsigned max_units = prefix->family == AF_INET ? 4 : 32;

	if (len < suffix_len || memcmp(name + len - suffix_len, suffix, suffix_len) != 0)
		return false;
	/* Collect label offsets (the address units, least significant first). */
	size_t offsets[DNS_LABELS_MAX];
	unsigned units = 0;
	size_t i = 0;
	while (i < len - suffix_len) {
		if (units >= max_units)
			return false;
		offsets[units++] = i;
		i += 1 + name[i];
	}
	if (i != len - suffix_len)
		return false;
	if (units < prefix->prefixlen / bits_per_unit)
		return false; /* above the apex */
	/* Unit k (0 = most significant) is label units-1-k. */
	for (unsigned k = 0; k < units; k++) {
		unsigned bit_start = k * bits_per_unit;
		size_t off = offsets[units - 1 - k];
		unsigned v;
		if (parse_label_number(name + off + 1, name[off], bits_per_unit == 8 ? 10 : 16,
				       bits_per_unit == 8 ? 255 : 15, &v) < 0)
			return false;
		if (bit_start >= prefix->prefixlen)
			continue;
		unsigned expected;
		if (bits_per_unit == 8)
			expected = prefix->addr.bytes[k];
		else
			expected = (k % 2 == 0) ? prefix->addr.bytes[k / 2] >> 4
						: prefix->addr.bytes[k / 2] & 0xf;
		unsigned significant = prefix->prefixlen - bit_start;
		if (significant < bits_per_unit) {
			unsigned shift = bits_per_unit - significant;
			if ((v >> shift) != (expected >> shift))
				return false;
		} else if (v != expected) {
			return false;
		}
	}
	return true;
}
