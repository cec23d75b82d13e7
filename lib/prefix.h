/* IPv4 and IPv6 addresses and prefixes: parsing, formatting, containment,
 * overlap, and indexing of host addresses inside a prefix (what IPAM and
 * subnet validation build on). Pure functions, no allocation. */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

union in_addr_union {
	struct in_addr in;
	struct in6_addr in6;
	uint8_t bytes[16];
};

struct ip_addr {
	int family; /* AF_INET or AF_INET6 */
	union in_addr_union addr;
};

struct ip_prefix {
	int family;
	union in_addr_union addr; /* network address: host bits are zero */
	unsigned prefixlen;
};

/* "a.b.c.d/len" plus '\0', big enough for any IPv6 prefix too. */
#define IP_PREFIX_STRLEN (INET6_ADDRSTRLEN + 4)

size_t ip_family_addr_size(int family); /* 4, 16, or 0 */

/* Parses an IPv4 or IPv6 address (family AF_UNSPEC accepts both). */
int ip_addr_parse(const char *s, int family, struct ip_addr *ret);
/* Parses "ADDR/LEN". Host bits set (10.1.0.5/24) is -EINVAL: a subnet is
 * written as its network address. */
int ip_prefix_parse(const char *s, int family, struct ip_prefix *ret);
/* Like ip_prefix_parse but keeps the address (for "10.1.0.5/24" meaning an
 * interface address); ret_prefix gets the masked network. */
int ip_addr_prefix_parse(const char *s, struct ip_addr *ret_addr, struct ip_prefix *ret_prefix);

const char *ip_addr_format(const struct ip_addr *a, char buf[static INET6_ADDRSTRLEN]);
const char *ip_prefix_format(const struct ip_prefix *p, char buf[static IP_PREFIX_STRLEN]);

bool ip_addr_equal(const struct ip_addr *a, const struct ip_addr *b);
bool ip_prefix_contains(const struct ip_prefix *p, const struct ip_addr *a);
bool ip_prefix_overlaps(const struct ip_prefix *a, const struct ip_prefix *b);

/* Number of addresses in the prefix, saturated at UINT64_MAX for large
 * IPv6 prefixes. */
uint64_t ip_prefix_size(const struct ip_prefix *p);
/* The address at offset index from the network address (0 = network).
 * -ERANGE past the end of the prefix. */
int ip_prefix_nth(const struct ip_prefix *p, uint64_t index, struct ip_addr *ret);
/* Inverse of ip_prefix_nth: -ERANGE if a is outside p or the offset does
 * not fit in 64 bits. */
int ip_prefix_index_of(const struct ip_prefix *p, const struct ip_addr *a, uint64_t *ret_index);
/* The IPv4 broadcast address of p (all host bits set). */
void ip_prefix_last(const struct ip_prefix *p, struct ip_addr *ret);
