/* Published ports (see ports.h): the string and object forms of a port
 * mapping, overlap, and JSON rendering. Pure functions. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json-util.h"
#include "ports.h"

static int port_number(const char *text, const char *what, uint16_t *ret, struct pw_error *err)
{
	char *end;
	long value;

	if (!(*text >= '0' && *text <= '9'))
		return pw_error_set(err, -EINVAL, "%s '%s' is not a port number", what, text);
	errno = 0;
	value = strtol(text, &end, 10);
	if (errno || *end || value < 1 || value > 65535)
		return pw_error_set(err, -EINVAL, "%s '%s' is not a port number (1-65535)", what,
				    text);
	*ret = (uint16_t)value;
	return 0;
}

/* "N" or "N-M" into host_port, host_port_last. */
static int port_range(const char *text, struct nft_port_spec *p, struct pw_error *err)
{
	char buf[16];
	char *dash;
	int r;

	if (strlen(text) >= sizeof(buf))
		return pw_error_set(err, -EINVAL, "host port '%s' is not a port or a range", text);
	strcpy(buf, text);
	dash = strchr(buf, '-');
	if (dash)
		*dash = '\0';
	r = port_number(buf, "host port", &p->host_port, err);
	if (r < 0)
		return r;
	p->host_port_last = p->host_port;
	if (dash) {
		r = port_number(dash + 1, "host port", &p->host_port_last, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int port_check(const struct nft_port_spec *p, struct pw_error *err)
{
	if (p->host_port_last < p->host_port)
		return pw_error_set(err, -EINVAL, "host port range %u-%u ends before it starts",
				    p->host_port, p->host_port_last);
	if (p->host_port_last - p->host_port >= NFT_PORT_RANGE_MAX)
		return pw_error_set(err, -EINVAL, "host port range %u-%u is wider than %d ports",
				    p->host_port, p->host_port_last, NFT_PORT_RANGE_MAX);
	if ((unsigned)p->port + (p->host_port_last - p->host_port) > 65535)
		return pw_error_set(err, -EINVAL, "port range %u-%u:%u ends past 65535",
				    p->host_port, p->host_port_last, p->port);
	return 0;
}

static int port_proto(const char *text, uint8_t *ret, struct pw_error *err)
{
	if (streq(text, "tcp"))
		*ret = IPPROTO_TCP;
	else if (streq(text, "udp"))
		*ret = IPPROTO_UDP;
	else
		return pw_error_set(err, -EINVAL, "protocol '%s' is not tcp or udp", text);
	return 0;
}

int port_parse_string(const char *text, struct nft_port_spec *ret, struct pw_error *err)
{
	char buf[PORT_SPEC_STRLEN];
	struct nft_port_spec p = {.proto = IPPROTO_TCP};
	char *rest = buf, *slash, *colon;
	int r;

	if (strlen(text) >= sizeof(buf))
		return pw_error_set(err, -EINVAL, "port mapping '%.20s...' is too long", text);
	strcpy(buf, text);
	slash = strchr(rest, '/');
	if (slash) {
		*slash = '\0';
		r = port_proto(slash + 1, &p.proto, err);
		if (r < 0)
			goto fail;
	}
	/* Host address: "[v6]:" or "a.b.c.d:" when two colons remain. */
	if (*rest == '[') {
		char *close = strchr(rest, ']');
		if (!close || close[1] != ':') {
			r = pw_error_set(err, -EINVAL, "unclosed '[' in the host address");
			goto fail;
		}
		*close = '\0';
		r = ip_addr_parse(rest + 1, AF_INET6, &p.host_addr);
		if (r < 0) {
			r = pw_error_set(err, -EINVAL, "host address '%s' is not IPv6", rest + 1);
			goto fail;
		}
		rest = close + 2;
	} else {
		char *first = strchr(rest, ':');
		if (first && strchr(first + 1, ':')) {
			*first = '\0';
			r = ip_addr_parse(rest, AF_INET, &p.host_addr);
			if (r < 0) {
				r = pw_error_set(err, -EINVAL, "host address '%s' is not IPv4",
						 rest);
				goto fail;
			}
			rest = first + 1;
		}
	}
	colon = strchr(rest, ':');
	if (!colon) {
		r = pw_error_set(err, -EINVAL, "expected HOSTPORT:PORT");
		goto fail;
	}
	*colon = '\0';
	r = port_range(rest, &p, err);
	if (r >= 0)
		r = port_number(colon + 1, "port", &p.port, err);
	if (r >= 0)
		r = port_check(&p, err);
	if (r < 0)
		goto fail;
	*ret = p;
	return 0;
fail:
	return pw_error_wrap(err, r, "port mapping '%s'", text);
}

int port_parse_json(json_t *value, struct nft_port_spec *ret, struct pw_error *err)
{
	struct nft_port_spec p = {.proto = IPPROTO_TCP};
	const char *host_ip = NULL, *proto = NULL;
	json_t *host_port = NULL;
	json_int_t port = 0;
	int r;

	if (json_is_string(value))
		return port_parse_string(json_string_value(value), ret, err);
	if (!json_is_object(value))
		return pw_error_set(err, -EINVAL, "a port mapping is a string or an object");
	r = json_unpack_err(value, err, "port mapping", JSON_STRICT, "{s?s, s:o, s:I, s?s}",
			    "host_ip", &host_ip, "host_port", &host_port, "port", &port, "proto",
			    &proto);
	if (r < 0)
		return r;
	if (host_ip && ip_addr_parse(host_ip, AF_UNSPEC, &p.host_addr) < 0)
		return pw_error_set(err, -EINVAL, "port mapping: host_ip '%s' is not an address",
				    host_ip);
	if (proto) {
		r = port_proto(proto, &p.proto, err);
		if (r < 0)
			return pw_error_wrap(err, r, "port mapping");
	}
	if (json_is_integer(host_port)) {
		json_int_t n = json_integer_value(host_port);
		if (n < 1 || n > 65535)
			return pw_error_set(err, -EINVAL,
					    "port mapping: host_port %" JSON_INTEGER_FORMAT
					    " is not a port number (1-65535)",
					    n);
		p.host_port = p.host_port_last = (uint16_t)n;
	} else if (json_is_string(host_port)) {
		r = port_range(json_string_value(host_port), &p, err);
		if (r < 0)
			return pw_error_wrap(err, r, "port mapping");
	} else {
		return pw_error_set(err, -EINVAL,
				    "port mapping: host_port must be a number or \"N-M\"");
	}
	if (port < 1 || port > 65535)
		return pw_error_set(err, -EINVAL,
				    "port mapping: port %" JSON_INTEGER_FORMAT
				    " is not a port number (1-65535)",
				    port);
	p.port = (uint16_t)port;
	r = port_check(&p, err);
	if (r < 0)
		return pw_error_wrap(err, r, "port mapping");
	*ret = p;
	return 0;
}

int ports_parse(json_t *array, struct nft_port_spec *ret, size_t *ret_count, struct pw_error *err)
{
	size_t i, j;
	json_t *value;
	int r;

	*ret_count = 0;
	if (!array || json_is_null(array))
		return 0;
	if (!json_is_array(array))
		return pw_error_set(err, -EINVAL, "ports: expected an array");
	if (json_array_size(array) > GROUP_PORTS_MAX)
		return pw_error_set(err, -EINVAL, "ports: more than %d port mappings",
				    GROUP_PORTS_MAX);
	json_array_foreach(array, i, value)
	{
		r = port_parse_json(value, &ret[i], err);
		if (r < 0)
			return pw_error_wrap(err, r, "ports[%zu]", i);
		for (j = 0; j < i; j++)
			if (port_overlaps(&ret[i], &ret[j])) {
				char a[PORT_SPEC_STRLEN], b[PORT_SPEC_STRLEN];
				return pw_error_set(err, -EINVAL, "ports: %s overlaps %s",
						    port_format(&ret[i], a),
						    port_format(&ret[j], b));
			}
	}
	*ret_count = json_array_size(array);
	return 0;
}

bool port_overlaps(const struct nft_port_spec *a, const struct nft_port_spec *b)
{
	if (a->proto != b->proto)
		return false;
	if (a->host_port > b->host_port_last || b->host_port > a->host_port_last)
		return false;
	/* Every address overlaps any address of either family: the wildcard
	 * publishes on both when the group has both. */
	if (!a->host_addr.family || !b->host_addr.family)
		return true;
	return ip_addr_equal(&a->host_addr, &b->host_addr);
}

const char *port_format(const struct nft_port_spec *p, char buf[static PORT_SPEC_STRLEN])
{
	char addr[INET6_ADDRSTRLEN + 3] = "", range[16];

	if (p->host_addr.family == AF_INET6) {
		char a[INET6_ADDRSTRLEN];
		snprintf(addr, sizeof(addr), "[%s]:", ip_addr_format(&p->host_addr, a));
	} else if (p->host_addr.family) {
		char a[INET6_ADDRSTRLEN];
		snprintf(addr, sizeof(addr), "%s:", ip_addr_format(&p->host_addr, a));
	}
	if (p->host_port_last != p->host_port)
		snprintf(range, sizeof(range), "%u-%u", p->host_port, p->host_port_last);
	else
		snprintf(range, sizeof(range), "%u", p->host_port);
	snprintf(buf, PORT_SPEC_STRLEN, "%s%s:%u/%s", addr, range, p->port,
		 p->proto == IPPROTO_UDP ? "udp" : "tcp");
	return buf;
}

json_t *ports_to_json(const struct nft_port_spec *ports, size_t count)
{
	json_t *array = json_array();

	for (size_t i = 0; i < count; i++) {
		const struct nft_port_spec *p = &ports[i];
		json_t *o = json_pack("{s:i, s:i, s:i, s:s}", "host_port", p->host_port,
				      "host_port_last", p->host_port_last, "port", p->port, "proto",
				      p->proto == IPPROTO_UDP ? "udp" : "tcp");
		if (p->host_addr.family) {
			char a[INET6_ADDRSTRLEN];
			json_object_set_new(o, "host_ip",
					    json_string(ip_addr_format(&p->host_addr, a)));
		}
		json_array_append_new(array, o);
	}
	return array;
}
