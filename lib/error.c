/* User-facing errors with context (see error.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

int pw_error_set(struct pw_error *err, int r, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return r;
	err->errnum = r < 0 ? -r : r;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return r;
}

int pw_error_wrap(struct pw_error *err, int r, const char *fmt, ...)
{
	char context[PW_ERROR_MESSAGE_MAX];
	char old[PW_ERROR_MESSAGE_MAX];
	va_list ap;

	if (!err)
		return r;
	va_start(ap, fmt);
	vsnprintf(context, sizeof(context), fmt, ap);
	va_end(ap);
	if (err->message[0])
		snprintf(old, sizeof(old), "%s", err->message);
	else
		snprintf(old, sizeof(old), "%s", strerror(r < 0 ? -r : r));
	if (!err->errnum)
		err->errnum = r < 0 ? -r : r;
	snprintf(err->message, sizeof(err->message), "%s: %s", context, old);
	return r;
}

void pw_error_clear(struct pw_error *err)
{
	if (!err)
		return;
	err->errnum = 0;
	err->message[0] = '\0';
}

const char *pw_error_message(const struct pw_error *err)
{
	if (err->message[0])
		return err->message;
	return strerror(err->errnum);
}

static const struct {
	int errnum;
	const char *code;
} error_codes[] = {
	{ EINVAL, "invalid_params" },
	{ ENOENT, "not_found" },
	{ EEXIST, "exists" },
	{ EBUSY, "busy" },
	{ EPERM, "permission_denied" },
	{ EACCES, "permission_denied" },
	{ ENOSPC, "exhausted" },
	{ EDQUOT, "quota_exceeded" },
	{ EMSGSIZE, "too_large" },
	{ E2BIG, "too_large" },
	{ EBADMSG, "parse_error" },
	{ EOPNOTSUPP, "unknown_method" },
	{ ETIMEDOUT, "timeout" },
	{ ECONNREFUSED, "unavailable" },
	{ EROFS, "read_only" },
	{ ENOTEMPTY, "not_empty" },
	{ EADDRINUSE, "address_in_use" },
};

const char *pw_error_code_from_errno(int errnum)
{
	if (errnum < 0)
		errnum = -errnum;
	for (size_t i = 0; i < ARRAY_SIZE(error_codes); i++)
		if (error_codes[i].errnum == errnum)
			return error_codes[i].code;
	return "internal";
}

int pw_error_errno_from_code(const char *code)
{
	for (size_t i = 0; i < ARRAY_SIZE(error_codes); i++)
		if (streq(error_codes[i].code, code))
			return error_codes[i].errnum;
	return EIO;
}
