/* An error that must reach a user (an RPC reply, a hook's stderr line):
 * filled where the failure happens, then wrapped with context on the way
 * up, as crun's libcrun_error_t is, so the user reads
 *   attach group 'web': vnet 'prod': subnet 10.1.0.0/24 is full
 * rather than "error -28".
 *
 * All functions accept a NULL error pointer (the caller does not want the
 * text) and return the negative errno they were given, so a failure site is
 * one line:  return pw_error_set(err, -EINVAL, "bad MTU %d", mtu); */
#pragma once

#include "macro.h"

#define PW_ERROR_MESSAGE_MAX 1024

struct pw_error {
	int errnum; /* positive errno; 0 = no error */
	char message[PW_ERROR_MESSAGE_MAX];
};

/* Sets the message (replacing any earlier one). r must be negative. */
int pw_error_set(struct pw_error *err, int r, const char *fmt, ...) _printf_(3, 4);
/* Prefixes the current message with "<context>: ". If no message was set
 * yet, the message becomes "<context>: <strerror(-r)>". */
int pw_error_wrap(struct pw_error *err, int r, const char *fmt, ...) _printf_(3, 4);
void pw_error_clear(struct pw_error *err);
/* The message, or strerror(errnum) if none was set. */
const char *pw_error_message(const struct pw_error *err);

/* Stable RPC error codes (the "code" member of an error reply), mapped
 * from and to errno values:
 *   invalid_params EINVAL, not_found ENOENT, exists EEXIST, busy EBUSY,
 *   permission_denied EPERM/EACCES, exhausted ENOSPC, quota_exceeded EDQUOT,
 *   read_only EROFS, not_empty ENOTEMPTY, address_in_use EADDRINUSE,
 *   too_large EMSGSIZE/E2BIG, parse_error EBADMSG, unknown_method
 *   EOPNOTSUPP, timeout ETIMEDOUT, unavailable ECONNREFUSED, internal (any
 *   other). */
const char *pw_error_code_from_errno(int errnum);
int pw_error_errno_from_code(const char *code);
