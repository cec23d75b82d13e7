/* jansson helpers (see json-util.h). */
#include <stdarg.h>
#include <string.h>

#include "json-util.h"

int json_unpack_err(json_t *root, struct pw_error *err, const char *context, size_t flags,
		    const char *fmt, ...)
{
	json_error_t jerr;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = json_vunpack_ex(root, &jerr, flags, fmt, ap);
	va_end(ap);
	if (r < 0)
		return pw_error_set(err, -EINVAL, "%s: %s", context, jerr.text);
	return 0;
}

int json_parse_line(const char *line, size_t len, json_t **ret, struct pw_error *err)
{
	json_error_t jerr;
	json_t *v;

	v = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!v)
		return pw_error_set(err, -EBADMSG, "malformed JSON at column %d: %s", jerr.column,
				    jerr.text);
	*ret = v;
	return 0;
}

char *json_dump_line(json_t *value)
{
	return json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
}
