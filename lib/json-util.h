/* Small jansson helpers for the edges where JSON becomes typed C structs. */
#pragma once

#include <jansson.h>

#include "error.h"

/* json_unpack_ex with the jansson error text put into err as
 * "<context>: <jansson message>" and -EINVAL returned. */
int json_unpack_err(json_t *root, struct pw_error *err, const char *context, size_t flags,
		    const char *fmt, ...);
/* Parses one line of JSON text; -EBADMSG with err filled when malformed. */
int json_parse_line(const char *line, size_t len, json_t **ret, struct pw_error *err);
/* Compact one-line dump (no newline) into a malloc'd string, or NULL. */
char *json_dump_line(json_t *value);
