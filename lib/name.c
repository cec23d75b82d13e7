/* Name validation (see name.h). Error messages quote the offending name so
 * a user sees which argument was wrong. */
#include <ctype.h>
#include <string.h>

#include "name.h"

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

/* Names are echoed in errors; cut long or binary ones so the error stays
 * one readable line. */
static const char *printable(const char *name, char *buf, size_t size)
{
	size_t i;

	for (i = 0; name[i] && i + 4 < size && i < 40; i++)
		buf[i] = isprint((unsigned char)name[i]) ? name[i] : '?';
	if (name[i]) {
		memcpy(buf + i, "...", 4);
		return buf;
	}
	buf[i] = '\0';
	return buf;
}

int name_validate_vnet(const char *name, struct pw_error *err)
{
	char shown[48];
	size_t len;

	if (strempty(name))
		return pw_error_set(err, -EINVAL, "vnet name is empty");
	len = strlen(name);
	if (len > VNET_NAME_MAX)
		return pw_error_set(err, -EINVAL, "vnet name '%s' is longer than %d characters",
				    printable(name, shown, sizeof(shown)), VNET_NAME_MAX);
	for (size_t i = 0; i < len; i++)
		if (!is_lower_alnum(name[i]) && name[i] != '-')
			return pw_error_set(err, -EINVAL,
					    "vnet name '%s' may contain only a-z, 0-9 and '-'",
					    printable(name, shown, sizeof(shown)));
	if (name[0] == '-' || name[len - 1] == '-')
		return pw_error_set(err, -EINVAL, "vnet name '%s' may not start or end with '-'", name);
	return 0;
}

static int validate_id(const char *what, const char *name, size_t max, struct pw_error *err)
{
	char shown[48];
	size_t len;

	if (strempty(name))
		return pw_error_set(err, -EINVAL, "%s is empty", what);
	len = strlen(name);
	if (len > max)
		return pw_error_set(err, -EINVAL, "%s '%s' is longer than %zu characters", what,
				    printable(name, shown, sizeof(shown)), max);
	for (size_t i = 0; i < len; i++)
		if (!is_alnum(name[i]) && name[i] != '-' && name[i] != '_' && name[i] != '.')
			return pw_error_set(err, -EINVAL,
					    "%s '%s' may contain only letters, digits, '-', '_' and '.'",
					    what, printable(name, shown, sizeof(shown)));
	if (name[0] == '.' || name[0] == '-')
		return pw_error_set(err, -EINVAL, "%s '%s' may not start with '.' or '-'", what,
				    printable(name, shown, sizeof(shown)));
	return 0;
}

int name_validate_group(const char *name, struct pw_error *err)
{
	return validate_id("group id", name, GROUP_ID_MAX, err);
}

int name_validate_share(const char *name, struct pw_error *err)
{
	return validate_id("share name", name, SHARE_NAME_MAX, err);
}

static int validate_label(const char *what, const char *full, const char *label, size_t len,
			  bool allow_underscore, struct pw_error *err)
{
	char shown[48];

	if (len == 0)
		return pw_error_set(err, -EINVAL, "%s '%s' has an empty label", what,
				    printable(full, shown, sizeof(shown)));
	if (len > DNS_LABEL_MAX)
		return pw_error_set(err, -EINVAL, "%s '%s' has a label longer than %d characters",
				    what, printable(full, shown, sizeof(shown)), DNS_LABEL_MAX);
	for (size_t i = 0; i < len; i++)
		if (!is_alnum(label[i]) && label[i] != '-' && !(allow_underscore && label[i] == '_'))
			return pw_error_set(err, -EINVAL, "%s '%s' may contain only letters, digits and '-'",
					    what, printable(full, shown, sizeof(shown)));
	if (label[0] == '-' || label[len - 1] == '-')
		return pw_error_set(err, -EINVAL, "%s '%s' has a label starting or ending with '-'",
				    what, printable(full, shown, sizeof(shown)));
	return 0;
}

int name_validate_hostname(const char *name, struct pw_error *err)
{
	if (strempty(name))
		return pw_error_set(err, -EINVAL, "host name is empty");
	return validate_label("host name", name, name, strlen(name), false, err);
}

int name_validate_domain(const char *name, struct pw_error *err)
{
	char shown[48];
	size_t len;

	if (strempty(name))
		return pw_error_set(err, -EINVAL, "domain name is empty");
	len = strlen(name);
	if (name[len - 1] == '.')
		len--;
	if (len > DNS_NAME_MAX)
		return pw_error_set(err, -EINVAL, "domain name '%s' is longer than %d characters",
				    printable(name, shown, sizeof(shown)), DNS_NAME_MAX);
	for (size_t start = 0; start <= len;) {
		const char *dot = memchr(name + start, '.', len - start);
		size_t label_len = dot ? (size_t)(dot - (name + start)) : len - start;
		int r = validate_label("domain name", name, name + start, label_len, true, err);
		if (r < 0)
			return r;
		start += label_len + 1;
	}
	return 0;
}
