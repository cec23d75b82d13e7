/* Share and user state files (see store.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json-util.h"
#include "log.h"
#include "name.h"
#include "state-file.h"
#include "store.h"
#include "tree.h"
#include "xalloc.h"

static char *file_name(const char *name)
{
	return xasprintf("%s.json", name);
}

int store_share_save(struct volumed *v, const struct share_config *c)
{
	_cleanup_free_ char *file = file_name(c->name);
	json_auto_t *obj = share_config_to_json(c);

	if (!obj)
		return -ENOMEM;
	return state_write_json(v->config_fd, file, obj);
}

int store_share_remove(struct volumed *v, const char *name)
{
	_cleanup_free_ char *file = file_name(name);

	return state_remove(v->config_fd, file);
}

struct load_ctx {
	void (*cb)(struct share_config *cfg, void *userdata);
	void *userdata;
};

static int load_one(int dir_fd, const char *name, void *userdata)
{
	struct load_ctx *ctx = userdata;
	json_auto_t *obj = NULL;
	struct share_config cfg;
	struct pw_error err = {};
	int r;

	r = state_read_json(dir_fd, name, &obj);
	if (r < 0) {
		log_error_errno(r, "reading share state %s failed; skipped", name);
		return 0;
	}
	r = share_config_from_json(obj, &cfg, &err);
	if (r < 0) {
		log_error("share state %s is invalid (%s); skipped", name, pw_error_message(&err));
		return 0;
	}
	ctx->cb(&cfg, ctx->userdata);
	return 0;
}

int store_shares_load(struct volumed *v, void (*cb)(struct share_config *cfg, void *userdata),
		      void *userdata)
{
	struct load_ctx ctx = {cb, userdata};

	return state_foreach(v->config_fd, ".json", load_one, &ctx);
}

static int users_dir(struct volumed *v, const char *share, bool create, int *ret_fd)
{
	int fd;

	if (create && mkdirat(v->users_fd, share, 0755) < 0 && errno != EEXIST)
		return -errno;
	fd = openat(v->users_fd, share, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	*ret_fd = fd;
	return 0;
}

int store_user_save(struct volumed *v, const char *share, const struct share_user *u)
{
	_cleanup_close_ int dir = -EBADF;
	_cleanup_free_ char *file = file_name(u->group);
	json_auto_t *obj = json_pack("{s:s, s:b}", "group", u->group, "read_only", u->read_only);
	int r;

	if (!obj)
		return -ENOMEM;
	r = users_dir(v, share, true, &dir);
	if (r < 0)
		return r;
	return state_write_json(dir, file, obj);
}

int store_user_remove(struct volumed *v, const char *share, const char *group)
{
	_cleanup_close_ int dir = -EBADF;
	_cleanup_free_ char *file = file_name(group);
	int r;

	r = users_dir(v, share, false, &dir);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	return state_remove(dir, file);
}

static int load_user(int dir_fd, const char *name, void *userdata)
{
	struct share *s = userdata;
	json_auto_t *obj = NULL;
	const char *group = NULL;
	int read_only = 0;

	if (state_read_json(dir_fd, name, &obj) < 0 ||
	    json_unpack(obj, "{s:s, s?b}", "group", &group, "read_only", &read_only) < 0 ||
	    name_validate_group(group, NULL) < 0) {
		log_warn("user record %s of share %s is invalid; skipped", name, s->config.name);
		return 0;
	}
	if (s->user_count >= SHARE_USERS_MAX)
		return 0;
	s->users = xrealloc(s->users, (s->user_count + 1) * sizeof(*s->users));
	s->users[s->user_count++] = (struct share_user){xstrdup(group), read_only};
	return 0;
}

int store_users_load(struct volumed *v, struct share *s)
{
	_cleanup_close_ int dir = -EBADF;
	int r;

	r = users_dir(v, s->config.name, false, &dir);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	return state_foreach(dir, ".json", load_user, s);
}

int store_users_clear(struct volumed *v, const char *share)
{
	return tree_remove(v->users_fd, share);
}
