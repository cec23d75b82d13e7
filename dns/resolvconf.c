/* resolv.conf reading: see resolvconf.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "resolvconf.h"

/* resolv.conf is a few lines; 64 KiB is a generous bound on reading it. */
#define RESOLVCONF_SIZE_MAX (64 * 1024)

static bool is_loopback(const struct ip_addr *a)
{
	if (a->family == AF_INET)
		return a->addr.bytes[0] == 127;
	static const uint8_t loopback6[16] = {[15] = 1};
	return memcmp(a->addr.bytes, loopback6, 16) == 0;
}

int resolvconf_parse(const char *text, struct upstream_set *set)
{
	set->count = 0;
	const char *p = text;
	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		char line[256];
		if (len < sizeof(line)) {
			memcpy(line, p, len);
			line[len] = 0;
			char *save = NULL;
			char *key = strtok_r(line, " \t\r", &save);
			char *value = key ? strtok_r(NULL, " \t\r", &save) : NULL;
			if (key && value && streq(key, "nameserver") &&
			    set->count < UPSTREAM_SET_MAX) {
				char *scope = strchr(value, '%'); /* fe80::1%eth0 */
				struct ip_addr a;
				if (scope)
					*scope = 0;
				if (ip_addr_parse(value, AF_UNSPEC, &a) == 0 && !is_loopback(&a) &&
				    !scope)
					set->addrs[set->count++] = a;
			}
		}
		if (!eol)
			break;
		p = eol + 1;
	}
	upstream_set_update_hash(set);
	return (int)set->count;
}

int resolvconf_load(const char *path, struct upstream_set *set)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	set->count = 0;
	upstream_set_update_hash(set);
	if (!f)
		return -errno;
	_cleanup_free_ char *text = calloc(1, RESOLVCONF_SIZE_MAX + 1);
	if (!text)
		return -ENOMEM;
	size_t n = fread(text, 1, RESOLVCONF_SIZE_MAX, f);
	text[n] = 0;
	return resolvconf_parse(text, set);
}
