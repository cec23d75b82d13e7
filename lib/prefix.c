/* IPv4/IPv6 address and prefix math (see prefix.h). Addresses are handled
 * as 16-byte big-endian arrays (IPv4 uses the first 4), so one code path
 * serves both families. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "macro.h"
#include "prefix.h"

size_t ip_family_addr_size(int family)
{
	switch (family) {
	case AF_INET:
		return 4;
	case AF_INET6:
		return 16;
	default:
		return 0;
	}
}

static unsigned family_bits(int family)
{
	return (unsigned)ip_family_addr_size(family) * 8;
}

int ip_addr_parse(const char *s, int family, struct ip_addr *ret)
{
	struct ip_addr a = {};

	if (!s || !*s)
		return -EINVAL;
	if ((family == AF_UNSPEC || family == AF_INET) && inet_pton(AF_INET, s, &a.addr.in) == 1)
		a.family = AF_INET;
	else if ((family == AF_UNSPEC || family == AF_INET6) &&
		 inet_pton(AF_INET6, s, &a.addr.in6) == 1)
		a.family = AF_INET6;
	else
		return -EINVAL;
	*ret = a;
	return 0;
}

static void mask_bytes(uint8_t *bytes, size_t size, unsigned prefixlen)
{
	for (size_t i = 0; i < size; i++) {
		unsigned bit = (unsigned)i * 8;
		if (bit >= prefixlen)
			bytes[i] = 0;
		else if (prefixlen - bit < 8)
			bytes[i] &= (uint8_t)(0xff << (8 - (prefixlen - bit)));
	}
}

static int split_prefix(const char *s, int family, struct ip_addr *ret_addr, unsigned *ret_len)
{
	const char *slash;
	char addr[INET6_ADDRSTRLEN];
	char *end;
	int r;

	if (!s)
		return -EINVAL;
	slash = strchr(s, '/');
	if (!slash || slash == s || (size_t)(slash - s) >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, s, slash - s);
	addr[slash - s] = '\0';
	r = ip_addr_parse(addr, family, ret_addr);
	if (r < 0)
		return r;
	if (slash[1] < '0' || slash[1] > '9')
		return -EINVAL;
	errno = 0;
	unsigned long len = strtoul(slash + 1, &end, 10);
	if (errno || *end || len > family_bits(ret_addr->family) || end - (slash + 1) > 3)
		return -EINVAL;
	*ret_len = (unsigned)len;
	return 0;
}

int ip_prefix_parse(const char *s, int family, struct ip_prefix *ret)
{
	struct ip_addr a;
	unsigned len;
	int r;

	r = split_prefix(s, family, &a, &len);
	if (r < 0)
		return r;
	struct ip_prefix p = { .family = a.family, .addr = a.addr, .prefixlen = len };
	mask_bytes(p.addr.bytes, ip_family_addr_size(p.family), len);
	if (memcmp(p.addr.bytes, a.addr.bytes, ip_family_addr_size(p.family)) != 0)
		return -EINVAL; /* host bits set */
	*ret = p;
	return 0;
}

int ip_addr_prefix_parse(const char *s, struct ip_addr *ret_addr, struct ip_prefix *ret_prefix)
{
	struct ip_addr a;
	unsigned len;
	int r;

	r = split_prefix(s, AF_UNSPEC, &a, &len);
	if (r < 0)
		return r;
	if (ret_prefix) {
		*ret_prefix = (struct ip_prefix){ .family = a.family, .addr = a.addr, .prefixlen = len };
		mask_bytes(ret_prefix->addr.bytes, ip_family_addr_size(a.family), len);
	}
	if (ret_addr)
		*ret_addr = a;
	return 0;
}

const char *ip_addr_format(const struct ip_addr *a, char buf[static INET6_ADDRSTRLEN])
{
	if (!inet_ntop(a->family, &a->addr, buf, INET6_ADDRSTRLEN))
		snprintf(buf, INET6_ADDRSTRLEN, "?");
	return buf;
}

const char *ip_prefix_format(const struct ip_prefix *p, char buf[static IP_PREFIX_STRLEN])
{
	char addr[INET6_ADDRSTRLEN];

	if (!inet_ntop(p->family, &p->addr, addr, sizeof(addr)))
		snprintf(addr, sizeof(addr), "?");
	snprintf(buf, IP_PREFIX_STRLEN, "%s/%u", addr, p->prefixlen);
	return buf;
}

bool ip_addr_equal(const struct ip_addr *a, const struct ip_addr *b)
{
	return a->family == b->family &&
	       memcmp(a->addr.bytes, b->addr.bytes, ip_family_addr_size(a->family)) == 0;
}

static bool prefix_matches(const uint8_t *net, const uint8_t *addr, unsigned prefixlen)
{
	unsigned full = prefixlen / 8, rest = prefixlen % 8;

	if (memcmp(net, addr, full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (net[full] & mask) == (addr[full] & mask);
}

bool ip_prefix_contains(const struct ip_prefix *p, const struct ip_addr *a)
{
	if (p->family != a->family)
		return false;
	return prefix_matches(p->addr.bytes, a->addr.bytes, p->prefixlen);
}

bool ip_prefix_overlaps(const struct ip_prefix *a, const struct ip_prefix *b)
{
	if (a->family != b->family)
		return false;
	/* Two prefixes overlap iff the shorter one contains the other's network. */
	return prefix_matches(a->addr.bytes, b->addr.bytes, MIN(a->prefixlen, b->prefixlen));
}

uint64_t ip_prefix_size(const struct ip_prefix *p)
{
	unsigned host_bits = family_bits(p->family) - p->prefixlen;

	if (host_bits >= 64)
		return UINT64_MAX;
	return UINT64_C(1) << host_bits;
}

int ip_prefix_nth(const struct ip_prefix *p, uint64_t index, struct ip_addr *ret)
{
	size_t size = ip_family_addr_size(p->family);
	unsigned host_bits = family_bits(p->family) - p->prefixlen;
	struct ip_addr a = { .family = p->family, .addr = p->addr };

	if (host_bits < 64 && index >= (UINT64_C(1) << host_bits))
		return -ERANGE;
	/* The network address has zero host bits, so adding is OR-ing the
	 * index into the last 8 bytes. */
	for (size_t i = 0; i < 8 && i < size; i++)
		a.addr.bytes[size - 1 - i] |= (uint8_t)(index >> (8 * i));
	*ret = a;
	return 0;
}

int ip_prefix_index_of(const struct ip_prefix *p, const struct ip_addr *a, uint64_t *ret_index)
{
	size_t size = ip_family_addr_size(p->family);
	unsigned host_bits = family_bits(p->family) - p->prefixlen;
	uint64_t index = 0;

	if (!ip_prefix_contains(p, a))
		return -ERANGE;
	if (host_bits > 64) {
		/* Offsets beyond 64 bits are not representable; accept only
		 * addresses whose high host bits are zero. */
		for (size_t i = 0; i < size - 8; i++)
			if (a->addr.bytes[i] != p->addr.bytes[i])
				return -ERANGE;
	}
	for (size_t i = 0; i < 8 && i < size; i++)
		index |= (uint64_t)a->addr.bytes[size - 1 - i] << (8 * i);
	if (host_bits < 64)
		index &= (UINT64_C(1) << host_bits) - 1;
	*ret_index = index;
	return 0;
}

void ip_prefix_last(const struct ip_prefix *p, struct ip_addr *ret)
{
	size_t size = ip_family_addr_size(p->family);
	struct ip_addr a = { .family = p->family, .addr = p->addr };

	for (size_t i = 0; i < size; i++) {
		unsigned bit = (unsigned)i * 8;
		if (bit >= p->prefixlen)
			a.addr.bytes[i] = 0xff;
		else if (p->prefixlen - bit < 8)
			a.addr.bytes[i] |= (uint8_t)(0xff >> (p->prefixlen - bit));
	}
	*ret = a;
}
