/* resolv.conf and hosts rendering (see resolvconf.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resolvconf.h"

/* A value written on a resolv.conf or hosts line must not be able to end
 * the line or start another keyword. */
static bool is_token(const char *s)
{
	if (strempty(s))
		return false;
	for (; *s; s++)
		if (*s <= ' ' || *s == '#' || *s == ';' || *s == 0x7f)
			return false;
	return true;
}

static int finish(FILE *f, char **text, char **ret_text)
{
	if (fclose(f) != 0) {
		free(*text);
		return -ENOMEM;
	}
	*ret_text = *text;
	return 0;
}

int resolvconf_render(const struct dns_spec *spec, const struct resolv_defaults *defaults,
		      char **ret_text)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f;

	f = open_memstream(&text, &size);
	if (!f)
		return -ENOMEM;

	if (spec->has_nameservers) {
		for (size_t i = 0; i < spec->nameserver_count; i++) {
			char buf[INET6_ADDRSTRLEN];

			fprintf(f, "nameserver %s\n", ip_addr_format(&spec->nameservers[i], buf));
		}
	} else {
		for (size_t i = 0; i < defaults->nameserver_count; i++) {
			if (!is_token(defaults->nameservers[i]))
				goto invalid;
			fprintf(f, "nameserver %s\n", defaults->nameservers[i]);
		}
	}

	if (spec->has_searches) {
		if (spec->search_count > 0) {
			fputs("search", f);
			for (size_t i = 0; i < spec->search_count; i++)
				fprintf(f, " %s", spec->searches[i]);
			fputc('\n', f);
		}
	} else if (defaults->search_count > 0) {
		fputs("search", f);
		for (size_t i = 0; i < defaults->search_count; i++) {
			if (!is_token(defaults->searches[i]))
				goto invalid;
			fprintf(f, " %s", defaults->searches[i]);
		}
		fputc('\n', f);
	}

	if (spec->has_options && spec->option_count > 0) {
		fputs("options", f);
		for (size_t i = 0; i < spec->option_count; i++)
			fprintf(f, " %s", spec->options[i]);
		fputc('\n', f);
	}
	return finish(f, &text, ret_text);

invalid:
	fclose(f);
	free(text);
	return -EINVAL;
}

static void hosts_names(FILE *f, const char *name, const char *domain)
{
	if (!strempty(domain))
		fprintf(f, " %s.%s", name, domain);
	fprintf(f, " %s", name);
}

int hosts_render(const struct hosts_entry *entry, char **ret_text)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f;

	if (entry->address_count > HOSTS_ADDRESSES_MAX)
		return -E2BIG;
	if (!strempty(entry->hostname) && !is_token(entry->hostname))
		return -EINVAL;
	if (!strempty(entry->domain) && !is_token(entry->domain))
		return -EINVAL;
	for (size_t i = 0; i < entry->address_count; i++)
		if (!is_token(entry->addresses[i]))
			return -EINVAL;
	for (size_t i = 0; i < entry->alias_count; i++)
		if (!is_token(entry->aliases[i]))
			return -EINVAL;

	f = open_memstream(&text, &size);
	if (!f)
		return -ENOMEM;
	fputs("127.0.0.1 localhost\n"
	      "::1 localhost ip6-localhost ip6-loopback\n",
	      f);
	if (!strempty(entry->hostname)) {
		for (size_t i = 0; i < entry->address_count; i++) {
			fputs(entry->addresses[i], f);
			/* The first name on the line is the canonical one. */
			hosts_names(f, entry->hostname, entry->domain);
			for (size_t a = 0; a < entry->alias_count; a++)
				hosts_names(f, entry->aliases[a], entry->domain);
			fputc('\n', f);
		}
	}
	return finish(f, &text, ret_text);
}
