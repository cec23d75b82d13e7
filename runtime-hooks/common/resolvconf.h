/* Rendering of the files the hook puts over a container's /etc/resolv.conf
 * and /etc/hosts. Pure: text in, text out; the hook decides where it goes.
 *
 * resolv.conf: each of nameservers, search list and options comes from the
 * podwire.dns.* annotation when given (even empty: then the line is left
 * out), else from the defaults (the group's VNet gateways and domains), so
 * an annotation produces exactly the asked lines. */
#pragma once

#include <stddef.h>

#include "annotations.h"

struct resolv_defaults {
	const char *nameservers[RESOLV_NAMESERVERS_MAX]; /* VNet gateways, first VNet first */
	size_t nameserver_count;
	const char *searches[RESOLV_SEARCHES_MAX]; /* VNet domains */
	size_t search_count;
};

/* *ret_text is malloc'd. -ENOMEM, or -EINVAL for a default that is not a
 * plain token (defaults come from netd, but a file format is no place to
 * trust input). */
int resolvconf_render(const struct dns_spec *spec, const struct resolv_defaults *defaults,
		      char **ret_text);

/* The group's own line(s) in /etc/hosts. */
#define HOSTS_ADDRESSES_MAX 16

struct hosts_entry {
	const char *addresses[HOSTS_ADDRESSES_MAX]; /* the group's addresses */
	size_t address_count;
	const char *hostname; /* NULL or "": no own line */
	const char *domain;   /* NULL or "": names are not qualified */
	const char *const *aliases;
	size_t alias_count;
};

/* localhost lines, then one line per address of the group:
 *   10.1.0.2 web.prod.internal web www.prod.internal www */
int hosts_render(const struct hosts_entry *entry, char **ret_text);
