/* Typed access to members of RPC params objects with errors that name the
 * member ("mtu: expected an integer"), which jansson's unpack messages do
 * not. The object's set of keys is checked by json_unpack_err with
 * JSON_STRICT ("o" for every member); these check each member's type. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "error.h"

/* value may be NULL (member absent): *ret is left as it is and 0 returned. */
int param_string(json_t *value, const char *key, const char **ret, struct pw_error *err);
int param_bool(json_t *value, const char *key, bool *ret, struct pw_error *err);
int param_int(json_t *value, const char *key, long long min, long long max, long long *ret,
	      struct pw_error *err);
