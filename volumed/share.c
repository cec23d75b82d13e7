/* The share model (see share.h): parsing and printing of share settings
 * and validation of the names and paths users give. Pure functions. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "json-util.h"
#include "name.h"
#include "share.h"

/* Largest uid/gid accepted: (uid_t)-1 means "unchanged" to chown(2). */
#define SHARE_ID_MAX ((int64_t)UINT32_MAX - 1)

void share_config_init(struct share_config *c)
{
	*c = (struct share_config){.uid = -1, .gid = -1, .file_mode = -1, .dir_mode = -1};
}

void share_config_done(struct share_config *c)
{
	free(c->name);
	free(c->backing);
	share_trust_done(&c->trust);
	share_config_init(c);
}

int share_mode_parse(const char *s, int *ret_mode)
{
	unsigned long v;
	char *end;

	if (strempty(s))
		return -EINVAL;
	if (s[0] == '0' && (s[1] == 'o' || s[1] == 'O'))
		s += 2;
	if (*s < '0' || *s > '7')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 8);
	if (errno || *end || v > 07777)
		return -EINVAL;
	*ret_mode = (int)v;
	return 0;
}

const char *share_mode_format(int mode, char buf[static 8])
{
	snprintf(buf, 8, "%04o", (unsigned)mode & 07777);
	return buf;
}

static int mode_from_json(json_t *value, const char *key, int *ret, struct pw_error *err)
{
	if (!value)
		return 0;
	if (json_is_integer(value)) {
		json_int_t v = json_integer_value(value);
		if (v < 0 || v > 07777)
			return pw_error_set(
			    err, -EINVAL, "%s %" JSON_INTEGER_FORMAT " is out of range (0..07777)",
			    key, v);
		*ret = (int)v;
		return 0;
	}
	if (json_is_string(value)) {
		if (share_mode_parse(json_string_value(value), ret) < 0)
			return pw_error_set(err, -EINVAL,
					    "%s '%s' is not an octal mode (e.g. 0644)", key,
					    json_string_value(value));
		return 0;
	}
	return pw_error_set(err, -EINVAL, "%s must be an octal string like \"0644\"", key);
}

static int id_from_json(json_t *value, const char *key, int64_t *ret, struct pw_error *err)
{
	json_int_t v;

	if (!value)
		return 0;
	if (!json_is_integer(value))
		return pw_error_set(err, -EINVAL, "%s must be an integer", key);
	v = json_integer_value(value);
	if (v < 0 || v > SHARE_ID_MAX)
		return pw_error_set(err, -EINVAL, "%s %" JSON_INTEGER_FORMAT " is out of range",
				    key, v);
	*ret = v;
	return 0;
}

static int count_from_json(json_t *value, const char *key, uint64_t *ret, struct pw_error *err)
{
	if (!value)
		return 0;
	if (!json_is_integer(value) || json_integer_value(value) < 0)
		return pw_error_set(err, -EINVAL, "%s must be a non-negative integer", key);
	*ret = (uint64_t)json_integer_value(value);
	return 0;
}

int share_config_from_json(json_t *obj, struct share_config *ret, struct pw_error *err)
{
	const char *name = NULL, *backing = NULL, *trust = NULL, *trust_keys = NULL;
	struct share_trust off = {SHARE_TRUST_OFF, NULL};
	json_t *quota_bytes = NULL, *quota_files = NULL, *uid = NULL, *gid = NULL;
	json_t *file_mode = NULL, *dir_mode = NULL;
	struct share_config c;
	int r;

	share_config_init(&c);
	r = json_unpack_err(obj, err, "share", JSON_STRICT,
			    "{s:s, s?s, s?o, s?o, s?o, s?o, s?o, s?o, s?s, s?s}", "name", &name,
			    "backing", &backing, "quota_bytes", &quota_bytes, "quota_files",
			    &quota_files, "uid", &uid, "gid", &gid, "file_mode", &file_mode,
			    "dir_mode", &dir_mode, "trust", &trust, "trust_keys", &trust_keys);
	if (r < 0)
		return r;
	r = name_validate_share(name, err);
	if (r < 0)
		return r;
	if (backing) {
		r = share_backing_validate(backing, err);
		if (r < 0)
			return r;
	}
	if ((r = count_from_json(quota_bytes, "quota_bytes", &c.quota_bytes, err)) < 0 ||
	    (r = count_from_json(quota_files, "quota_files", &c.quota_files, err)) < 0 ||
	    (r = id_from_json(uid, "uid", &c.uid, err)) < 0 ||
	    (r = id_from_json(gid, "gid", &c.gid, err)) < 0 ||
	    (r = mode_from_json(file_mode, "file_mode", &c.file_mode, err)) < 0 ||
	    (r = mode_from_json(dir_mode, "dir_mode", &c.dir_mode, err)) < 0 ||
	    (r = share_trust_apply(&off, trust, trust_keys, &c.trust, err)) < 0)
		return r;

	c.name = strdup(name);
	c.backing = backing ? strdup(backing) : NULL;
	if (!c.name || (backing && !c.backing)) {
		share_config_done(&c);
		return pw_error_set(err, -ENOMEM, "out of memory");
	}
	/* One spelling per directory: "/srv/data/" and "/srv/data" are the same. */
	if (c.backing) {
		size_t len = strlen(c.backing);
		while (len > 1 && c.backing[len - 1] == '/')
			c.backing[--len] = '\0';
	}
	*ret = c;
	return 0;
}

json_t *share_config_to_json(const struct share_config *c)
{
	json_t *obj = json_pack("{s:s}", "name", c->name);
	char buf[8];

	if (!obj)
		return NULL;
	if (c->backing)
		json_object_set_new(obj, "backing", json_string(c->backing));
	if (c->quota_bytes)
		json_object_set_new(obj, "quota_bytes", json_integer((json_int_t)c->quota_bytes));
	if (c->quota_files)
		json_object_set_new(obj, "quota_files", json_integer((json_int_t)c->quota_files));
	if (c->uid >= 0)
		json_object_set_new(obj, "uid", json_integer(c->uid));
	if (c->gid >= 0)
		json_object_set_new(obj, "gid", json_integer(c->gid));
	if (c->file_mode >= 0)
		json_object_set_new(obj, "file_mode",
				    json_string(share_mode_format(c->file_mode, buf)));
	if (c->dir_mode >= 0)
		json_object_set_new(obj, "dir_mode",
				    json_string(share_mode_format(c->dir_mode, buf)));
	if (c->trust.mode != SHARE_TRUST_OFF) {
		json_object_set_new(obj, "trust",
				    json_string(share_trust_mode_name(c->trust.mode)));
		json_object_set_new(obj, "trust_keys", json_string(c->trust.keys));
	}
	return obj;
}

static bool str_equal(const char *a, const char *b)
{
	return (!a && !b) || (a && b && streq(a, b));
}

bool share_config_equal(const struct share_config *a, const struct share_config *b)
{
	return str_equal(a->name, b->name) && str_equal(a->backing, b->backing) &&
	       a->quota_bytes == b->quota_bytes && a->quota_files == b->quota_files &&
	       a->uid == b->uid && a->gid == b->gid && a->file_mode == b->file_mode &&
	       a->dir_mode == b->dir_mode && share_trust_equal(&a->trust, &b->trust);
}

int snapshot_name_validate(const char *name, struct pw_error *err)
{
	size_t len;

	if (strempty(name))
		return pw_error_set(err, -EINVAL, "snapshot name is empty");
	len = strlen(name);
	if (len > SNAPSHOT_NAME_MAX)
		return pw_error_set(err, -EINVAL, "snapshot name is longer than %d characters",
				    SNAPSHOT_NAME_MAX);
	for (size_t i = 0; i < len; i++) {
		char ch = name[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.'))
			return pw_error_set(err, -EINVAL,
					    "snapshot name may contain only letters, digits, '-', "
					    "'_' and '.'");
	}
	if (name[0] == '.' || name[0] == '-')
		return pw_error_set(err, -EINVAL, "snapshot name may not start with '.' or '-'");
	return 0;
}

/* Checks the '/'-separated components of path starting at p. */
static int components_validate(const char *what, const char *p, bool allow_trailing_slash,
			       struct pw_error *err)
{
	while (*p) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);

		if (len == 0) {
			if (allow_trailing_slash && slash && slash[1] == '\0')
				return 0;
			return pw_error_set(err, -EINVAL, "%s has an empty component", what);
		}
		if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
			return pw_error_set(err, -EINVAL, "%s may not contain '.' or '..'", what);
		if (!slash)
			break;
		p = slash + 1;
		if (!*p && !allow_trailing_slash)
			return pw_error_set(err, -EINVAL, "%s ends with '/'", what);
	}
	return 0;
}

int share_path_validate(const char *path, struct pw_error *err)
{
	if (strempty(path))
		return pw_error_set(err, -EINVAL, "path is empty");
	if (strlen(path) > SHARE_PATH_MAX)
		return pw_error_set(err, -EINVAL, "path is longer than %d characters",
				    SHARE_PATH_MAX);
	if (path[0] == '/')
		return pw_error_set(err, -EINVAL, "path '%s' must be relative to the share", path);
	return components_validate("path", path, false, err);
}

int share_backing_validate(const char *path, struct pw_error *err)
{
	if (strempty(path))
		return pw_error_set(err, -EINVAL, "backing directory is empty");
	if (strlen(path) > SHARE_PATH_MAX)
		return pw_error_set(err, -EINVAL, "backing directory is longer than %d characters",
				    SHARE_PATH_MAX);
	if (path[0] != '/')
		return pw_error_set(err, -EINVAL, "backing directory '%s' must be an absolute path",
				    path);
	if (streq(path, "/"))
		return pw_error_set(err, -EINVAL, "backing directory may not be '/'");
	return components_validate("backing directory", path + 1, true, err);
}
