/* Record values to rdata: see rdata.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dname.h"
#include "prefix.h"
#include "rdata.h"

static const struct {
	const char *name;
	uint16_t type;
} types[] = {
    {"A", DNS_TYPE_A},	   {"AAAA", DNS_TYPE_AAAA}, {"CNAME", DNS_TYPE_CNAME},
    {"TXT", DNS_TYPE_TXT}, {"SRV", DNS_TYPE_SRV},   {"MX", DNS_TYPE_MX},
    {"PTR", DNS_TYPE_PTR},
};

uint16_t dns_type_from_text(const char *text)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcasecmp(text, types[i].name) == 0)
			return types[i].type;
	return 0;
}

const char *dns_type_to_text(uint16_t type)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (types[i].type == type)
			return types[i].name;
	return "?";
}

/* Parses a decimal 0..65535 field followed by a space; advances *p. */
static int parse_u16(const char **p, uint16_t *ret)
{
	char *end;
	errno = 0;
	if (**p < '0' || **p > '9')
		return -EINVAL;
	unsigned long v = strtoul(*p, &end, 10);
	if (errno || v > 65535 || *end != ' ')
		return -EINVAL;
	*ret = (uint16_t)v;
	*p = end + 1;
	return 0;
}

int dns_rdata_from_text(uint16_t type, const char *value, uint8_t *out)
{
	struct ip_addr addr;
	const char *p = value;
	uint16_t nums[3];
	int r;

	switch (type) {
	case DNS_TYPE_A:
		if (ip_addr_parse(value, AF_INET, &addr) < 0)
			return -EINVAL;
		memcpy(out, addr.addr.bytes, 4);
		return 4;
	case DNS_TYPE_AAAA:
		if (ip_addr_parse(value, AF_INET6, &addr) < 0)
			return -EINVAL;
		memcpy(out, addr.addr.bytes, 16);
		return 16;
	case DNS_TYPE_CNAME:
	case DNS_TYPE_PTR:
		return dns_name_from_text(value, out, true);
	case DNS_TYPE_MX:
		if (parse_u16(&p, &nums[0]) < 0)
			return -EINVAL;
		dns_put16(out, nums[0]);
		r = dns_name_from_text(p, out + 2, true);
		return r < 0 ? r : r + 2;
	case DNS_TYPE_SRV:
		for (int i = 0; i < 3; i++)
			if (parse_u16(&p, &nums[i]) < 0)
				return -EINVAL;
		for (int i = 0; i < 3; i++)
			dns_put16(out + 2 * i, nums[i]);
		r = dns_name_from_text(p, out + 6, true);
		return r < 0 ? r : r + 6;
	case DNS_TYPE_TXT: {
		size_t len = strlen(value);
		size_t o = 0;
		if (len > DNS_TXT_MAX)
			return -EINVAL;
		if (len == 0) {
			out[0] = 0;
			return 1;
		}
		for (size_t i = 0; i < len; i += 255) {
			size_t chunk = len - i < 255 ? len - i : 255;
			out[o++] = (uint8_t)chunk;
			memcpy(out + o, value + i, chunk);
			o += chunk;
		}
		return (int)o;
	}
	default:
		return -EINVAL;
	}
}
