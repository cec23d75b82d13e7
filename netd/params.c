/* Typed params members with member-naming errors (see params.h). */
#include <errno.h>

#include "params.h"

static const char *type_name(json_t *value)
{
	switch (json_typeof(value)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	default:
		return "null";
	}
}

int param_string(json_t *value, const char *key, const char **ret, struct pw_error *err)
{
	if (!value)
		return 0;
	if (!json_is_string(value))
		return pw_error_set(err, -EINVAL, "%s: expected a string, got %s", key,
				    type_name(value));
	*ret = json_string_value(value);
	return 0;
}

int param_bool(json_t *value, const char *key, bool *ret, struct pw_error *err)
{
	if (!value)
		return 0;
	if (!json_is_boolean(value))
		return pw_error_set(err, -EINVAL, "%s: expected true or false, got %s", key,
				    type_name(value));
	*ret = json_is_true(value);
	return 0;
}

int param_int(json_t *value, const char *key, long long min, long long max, long long *ret,
	      struct pw_error *err)
{
	if (!value)
		return 0;
	if (!json_is_integer(value))
		return pw_error_set(err, -EINVAL, "%s: expected an integer, got %s", key,
				    type_name(value));
	if (json_integer_value(value) < min || json_integer_value(value) > max)
		return pw_error_set(err, -EINVAL, "%s: %lld is out of range (%lld..%lld)", key,
				    (long long)json_integer_value(value), min, max);
	*ret = json_integer_value(value);
	return 0;
}
