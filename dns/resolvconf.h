/* The host's upstream name servers, read from resolv.conf: the default
 * upstreams of every VNet that names none. Loopback addresses are skipped:
 * they are local stubs (systemd-resolved's 127.0.0.53, a dnsmasq on
 * 127.0.0.1) that live in the host's netns and that a forwarder should not
 * loop through. */
#pragma once

#include "forward.h"

/* Parses resolv.conf text ("nameserver ADDR" lines; comments with # or ;)
 * into set (at most UPSTREAM_SET_MAX). Returns the number found. */
int resolvconf_parse(const char *text, struct upstream_set *set);
/* Reads and parses the file; -errno if it cannot be read. */
int resolvconf_load(const char *path, struct upstream_set *set);
