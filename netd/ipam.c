/* IPAM: lowest-free allocation over a bitmap per subnet (see ipam.h). */
#include <errno.h>

#include "ipam.h"
#include "xalloc.h"

static bool bit_get(const struct ipam *ipam, uint64_t index)
{
	return ipam->bitmap[index / 64] & (UINT64_C(1) << (index % 64));
}

static void bit_set(struct ipam *ipam, uint64_t index)
{
	ipam->bitmap[index / 64] |= UINT64_C(1) << (index % 64);
}

static void bit_clear(struct ipam *ipam, uint64_t index)
{
	ipam->bitmap[index / 64] &= ~(UINT64_C(1) << (index % 64));
}

static bool index_is_fixed(const struct ipam *ipam, uint64_t index)
{
	if (index == 0 || index == ipam->gateway_index)
		return true;
	/* The IPv4 broadcast address; netd's pools are IPv4 (a group's IPv6
	 * address mirrors its IPv4 index), but an IPv6 pool keeps it out too. */
	return index == ipam->size - 1;
}

int ipam_init(struct ipam *ipam, const struct ip_prefix *subnet, const struct ip_addr *gateway)
{
	uint64_t size, gateway_index;

	*ipam = (struct ipam){0};
	if (gateway->family != subnet->family)
		return -EINVAL;
	size = ip_prefix_size(subnet);
	if (size < IPAM_POOL_SIZE_MIN || size > IPAM_POOL_SIZE_MAX)
		return -EINVAL;
	if (ip_prefix_index_of(subnet, gateway, &gateway_index) < 0)
		return -EINVAL;
	if (gateway_index == 0 || gateway_index == size - 1)
		return -EINVAL;

	ipam->subnet = *subnet;
	ipam->size = size;
	ipam->gateway_index = gateway_index;
	ipam->bitmap = xcalloc((size + 63) / 64, sizeof(uint64_t));
	bit_set(ipam, 0);
	bit_set(ipam, gateway_index);
	bit_set(ipam, size - 1);
	ipam->free_hint = 1;
	return 0;
}

void ipam_done(struct ipam *ipam)
{
	free(ipam->bitmap);
	*ipam = (struct ipam){0};
}

int ipam_allocate(struct ipam *ipam, struct ip_addr *ret_addr)
{
	uint64_t words = (ipam->size + 63) / 64;

	for (uint64_t w = ipam->free_hint / 64; w < words; w++) {
		uint64_t free_bits = ~ipam->bitmap[w];
		uint64_t index;

		if (w == ipam->free_hint / 64)
			free_bits &= ~((UINT64_C(1) << (ipam->free_hint % 64)) - 1);
		if (!free_bits)
			continue;
		index = w * 64 + (uint64_t)__builtin_ctzll(free_bits);
		if (index >= ipam->size)
			break;
		if (ip_prefix_nth(&ipam->subnet, index, ret_addr) < 0)
			return -ERANGE;
		bit_set(ipam, index);
		ipam->used_count++;
		ipam->free_hint = index + 1;
		return 0;
	}
	ipam->free_hint = ipam->size;
	return -ENOSPC;
}

static int addr_index(const struct ipam *ipam, const struct ip_addr *addr, uint64_t *ret_index)
{
	if (!ipam->bitmap || addr->family != ipam->subnet.family)
		return -ERANGE;
	if (ip_prefix_index_of(&ipam->subnet, addr, ret_index) < 0 || *ret_index >= ipam->size)
		return -ERANGE;
	return 0;
}

int ipam_reserve(struct ipam *ipam, const struct ip_addr *addr)
{
	uint64_t index;
	int r;

	r = addr_index(ipam, addr, &index);
	if (r < 0)
		return r;
	if (index_is_fixed(ipam, index))
		return -EINVAL;
	if (bit_get(ipam, index))
		return -EADDRINUSE;
	bit_set(ipam, index);
	ipam->used_count++;
	/* The hint stays valid: taking an address never frees a lower one. */
	return 0;
}

int ipam_release(struct ipam *ipam, const struct ip_addr *addr)
{
	uint64_t index;
	int r;

	r = addr_index(ipam, addr, &index);
	if (r < 0)
		return r;
	if (index_is_fixed(ipam, index))
		return -EINVAL;
	if (!bit_get(ipam, index))
		return 0;
	bit_clear(ipam, index);
	ipam->used_count--;
	if (index < ipam->free_hint)
		ipam->free_hint = index;
	return 0;
}

bool ipam_is_used(const struct ipam *ipam, const struct ip_addr *addr)
{
	uint64_t index;

	if (addr_index(ipam, addr, &index) < 0)
		return false;
	return bit_get(ipam, index);
}

bool ipam_is_fixed(const struct ipam *ipam, const struct ip_addr *addr)
{
	uint64_t index;

	if (addr_index(ipam, addr, &index) < 0)
		return false;
	return index_is_fixed(ipam, index);
}

uint64_t ipam_free_count(const struct ipam *ipam)
{
	return ipam->size - 3 - ipam->used_count;
}
