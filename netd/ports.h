/* Published ports of a group: parsing group.attach's "ports" param (and the
 * hook's podwire.ports / the CLI's --publish strings) into nft_port_spec,
 * conflict checks between groups, and rendering back to JSON. Pure: no
 * kernel, no allocation beyond the returned JSON. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "nft.h"

/* Port ranges one group may publish: each range is up to
 * NFT_PORT_RANGE_MAX map elements, and a group's attach is one batch. */
#define GROUP_PORTS_MAX 32
/* "[fd00::1]:65535-65535:65535/tcp" and then some. */
#define PORT_SPEC_STRLEN 80

/* Parses "[HOSTIP:]HOSTPORT[-LAST]:PORT[/tcp|udp]" (an IPv6 HOSTIP in
 * brackets); the protocol defaults to tcp. */
int port_parse_string(const char *text, struct nft_port_spec *ret, struct pw_error *err);
/* Parses one element of "ports": such a string, or an object
 * {"host_ip"?: IP, "host_port": N or "N-M", "port": N, "proto"?: "tcp"|"udp"}
 * (unknown keys are an error). */
int port_parse_json(json_t *value, struct nft_port_spec *ret, struct pw_error *err);
/* Parses a "ports" array (NULL: none) into ret (room for GROUP_PORTS_MAX);
 * ranges that overlap each other are an error. */
int ports_parse(json_t *array, struct nft_port_spec *ret, size_t *ret_count, struct pw_error *err);

/* True if a and b claim a common host port: same protocol, intersecting
 * host port ranges, and the same host address or either on every address. */
bool port_overlaps(const struct nft_port_spec *a, const struct nft_port_spec *b);
/* The string form, e.g. "192.0.2.1:8000-8002:9000/tcp". */
const char *port_format(const struct nft_port_spec *p, char buf[static PORT_SPEC_STRLEN]);
/* [{"host_ip"?,"host_port","host_port_last","port","proto"}, ...] */
json_t *ports_to_json(const struct nft_port_spec *ports, size_t count);
