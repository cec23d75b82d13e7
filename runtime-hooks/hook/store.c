/* The hook's run-dir records (see store.h). Records are small JSON files
 * replaced atomically (a temp file renamed over the record), without
 * fsync: they describe live kernel state (attached netns, mounts, share
 * uses) that does not outlive a reboot, so surviving a power loss has no
 * value, while a hook killed at any moment still leaves either the old or
 * the new record (rename is atomic). The run dir is a tmpfs on a real
 * system (/run), where fsync does nothing anyway; elsewhere it would cost
 * milliseconds per record on a start's critical path.
 *
 * Directories are opened relative to RUN_DIR/hook's fd and created one
 * component at a time only when missing: a start touches a few records,
 * each path lookup is a syscall. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json-util.h"
#include "state-file.h"
#include "store.h"
#include "xalloc.h"

/* A record is one member (a few hundred bytes with HOOK_VOLUMES_MAX
 * shares of SHARE_NAME_MAX names) or an attachment; 16 KiB bounds both
 * with room. */
#define RECORD_MAX (16 * 1024)

/* The prefix lib/state-file.c's state_foreach removes as a leftover of an
 * interrupted write. */
#define RECORD_TMP_PREFIX ".tmp-"

static int record_write(int dir_fd, const char *name, json_t *value)
{
	char text[RECORD_MAX], tmp[64 + GROUP_ID_MAX];
	_cleanup_close_ int fd = -EBADF;
	size_t len;
	ssize_t n;

	len = json_dumpb(value, text, sizeof(text) - 1, JSON_COMPACT | JSON_SORT_KEYS);
	if (len == 0 || len >= sizeof(text) - 1)
		return -E2BIG;
	text[len++] = '\n';
	snprintf(tmp, sizeof(tmp), RECORD_TMP_PREFIX "%d-%s", (int)getpid(), name);
	fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	n = write(fd, text, len);
	if (n != (ssize_t)len || renameat(dir_fd, tmp, dir_fd, name) < 0) {
		int r = n < 0 || n == (ssize_t)len ? -errno : -EIO;

		unlinkat(dir_fd, tmp, 0);
		return r;
	}
	return 0;
}

/* -ENOENT if missing, -EBADMSG if not a JSON record. */
static int record_read(int dir_fd, const char *name, json_t **ret)
{
	char text[RECORD_MAX];
	_cleanup_close_ int fd = -EBADF;
	ssize_t n;

	fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	n = read(fd, text, sizeof(text));
	if (n < 0)
		return -errno;
	if (n == (ssize_t)sizeof(text))
		return -EBADMSG;
	*ret = json_loadb(text, (size_t)n, JSON_REJECT_DUPLICATES, NULL);
	return *ret ? 0 : -EBADMSG;
}

static int record_remove(int dir_fd, const char *name)
{
	if (unlinkat(dir_fd, name, 0) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int store_open(const char *run_dir, struct store *ret, struct pw_error *err)
{
	_cleanup_free_ char *root = xasprintf("%s/hook", run_dir);
	_cleanup_close_ int root_fd = -EBADF, lock_fd = -EBADF;
	int r;

	root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0) {
		r = state_dir_open(root, &root_fd);
		if (r < 0)
			return pw_error_set(err, r, "cannot create %s: %s", root, strerror(-r));
	}
	lock_fd = openat(root_fd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lock_fd < 0)
		return pw_error_set(err, -errno, "cannot open %s/lock: %m", root);
	while (flock(lock_fd, LOCK_EX) < 0)
		if (errno != EINTR)
			return pw_error_set(err, -errno, "cannot lock %s/lock: %m", root);
	ret->root = TAKE_PTR(root);
	ret->root_fd = TAKE_FD(root_fd);
	ret->lock_fd = TAKE_FD(lock_fd);
	return 0;
}

void store_close(struct store *s)
{
	free(s->root);
	if (s->root_fd >= 0)
		close(s->root_fd);
	/* Closing the fd drops the flock. */
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	s->root = NULL;
	s->root_fd = s->lock_fd = -EBADF;
}

/* Opens RUN_DIR/hook/SUB (SUB relative, no "." or ".." components: built
 * from validated ids), creating missing directories when create is set. */
static int open_sub(struct store *s, const char *sub, bool create, int *ret_fd)
{
	char path[PATH_MAX];
	size_t len = strlen(sub);
	int fd;

	fd = openat(s->root_fd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0 || errno != ENOENT || !create) {
		if (fd < 0)
			return -errno;
		*ret_fd = fd;
		return 0;
	}
	if (len >= sizeof(path))
		return -ENAMETOOLONG;
	memcpy(path, sub, len + 1);
	for (char *p = path;; p++) {
		char saved = *p;

		if (saved != '/' && saved != '\0')
			continue;
		*p = '\0';
		if (mkdirat(s->root_fd, path, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = saved;
		if (!saved)
			break;
	}
	fd = openat(s->root_fd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	*ret_fd = fd;
	return 0;
}

int store_container_group(struct store *s, const char *id, char ret_group[GROUP_ID_MAX + 1])
{
	_cleanup_close_ int fd = -EBADF;
	_cleanup_free_ char *name = xasprintf("%s.json", id);
	json_auto_t *json = NULL;
	const char *group;
	int r;

	r = open_sub(s, "containers", false, &fd);
	if (r < 0)
		return r;
	r = record_read(fd, name, &json);
	if (r < 0)
		return r;
	if (json_unpack(json, "{s:s}", "group", &group) < 0 || strlen(group) > GROUP_ID_MAX)
		return -EBADMSG;
	strcpy(ret_group, group);
	return 0;
}

static json_t *member_to_json(const struct member *m)
{
	json_t *shares = json_array();

	for (size_t i = 0; i < m->share_count; i++)
		json_array_append_new(shares, json_pack("{s:s, s:b}", "name", m->shares[i].name,
							"read_only", m->shares[i].read_only));
	return json_pack("{s:s, s:s, s:b, s:b, s:o}", "id", m->id, "group", m->group, "network",
			 m->network, "complete", m->complete, "shares", shares);
}

static int member_from_json(json_t *json, struct member *ret)
{
	json_t *shares, *share;
	const char *id, *group;
	int network, complete;
	size_t i;

	memset(ret, 0, sizeof(*ret));
	if (json_unpack(json, "{s:s, s:s, s:b, s:b, s:o}", "id", &id, "group", &group, "network",
			&network, "complete", &complete, "shares", &shares) < 0 ||
	    !json_is_array(shares) || json_array_size(shares) > HOOK_VOLUMES_MAX ||
	    strlen(id) > GROUP_ID_MAX || strlen(group) > GROUP_ID_MAX)
		return -EBADMSG;
	strcpy(ret->id, id);
	strcpy(ret->group, group);
	ret->network = network;
	ret->complete = complete;
	json_array_foreach(shares, i, share)
	{
		const char *name;
		int read_only;

		if (json_unpack(share, "{s:s, s:b}", "name", &name, "read_only", &read_only) < 0 ||
		    strlen(name) > SHARE_NAME_MAX)
			return -EBADMSG;
		strcpy(ret->shares[i].name, name);
		ret->shares[i].read_only = read_only;
		ret->share_count++;
	}
	return 0;
}

static char *members_path(const char *group)
{
	return xasprintf("groups/%s/members", group);
}

int store_member_read(struct store *s, const char *group, const char *id, struct member *ret)
{
	_cleanup_free_ char *sub = members_path(group);
	_cleanup_free_ char *name = xasprintf("%s.json", id);
	_cleanup_close_ int fd = -EBADF;
	json_auto_t *json = NULL;
	int r;

	r = open_sub(s, sub, false, &fd);
	if (r < 0)
		return r;
	r = record_read(fd, name, &json);
	if (r < 0)
		return r;
	r = member_from_json(json, ret);
	if (r < 0)
		return r;
	/* Found from the index, so the index is there. */
	ret->indexed = true;
	return 0;
}

int store_member_write(struct store *s, struct member *m)
{
	_cleanup_free_ char *sub = members_path(m->group);
	_cleanup_free_ char *name = xasprintf("%s.json", m->id);
	_cleanup_close_ int members_fd = -EBADF, containers_fd = -EBADF;
	json_auto_t *json = member_to_json(m);
	int r;

	/* The index first: a record nobody can find from the id would leak.
	 * It names only the group, so once written it stays right. */
	if (!m->indexed) {
		json_auto_t *index = json_pack("{s:s}", "group", m->group);

		r = open_sub(s, "containers", true, &containers_fd);
		if (r < 0)
			return r;
		r = record_write(containers_fd, name, index);
		if (r < 0)
			return r;
		m->indexed = true;
	}
	r = open_sub(s, sub, true, &members_fd);
	if (r < 0)
		return r;
	return record_write(members_fd, name, json);
}

/* rmdir of a directory that may be non-empty or gone: both are fine. */
static void rmdir_quiet(struct store *s, const char *sub)
{
	(void)unlinkat(s->root_fd, sub, AT_REMOVEDIR);
}

int store_member_remove(struct store *s, const struct member *m)
{
	_cleanup_free_ char *sub = members_path(m->group);
	_cleanup_free_ char *name = xasprintf("%s.json", m->id);
	_cleanup_free_ char *group_sub = xasprintf("groups/%s", m->group);
	_cleanup_close_ int members_fd = -EBADF, containers_fd = -EBADF;
	int r;

	r = open_sub(s, sub, false, &members_fd);
	if (r >= 0) {
		r = record_remove(members_fd, name);
		if (r < 0)
			return r;
	} else if (r != -ENOENT) {
		return r;
	}
	rmdir_quiet(s, sub);
	rmdir_quiet(s, group_sub);
	/* The index last, so a crash in between still finds the group. */
	r = open_sub(s, "containers", false, &containers_fd);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	return record_remove(containers_fd, name);
}

struct count_ctx {
	const char *except;
	const char *share;
	size_t network;
	size_t share_users;
	size_t seen;
};

static int count_one(int dir_fd, const char *name, void *userdata)
{
	struct count_ctx *ctx = userdata;
	json_auto_t *json = NULL;
	struct member m;
	int r;

	if (++ctx->seen > GROUP_MEMBERS_MAX * 4)
		return -E2BIG;
	r = record_read(dir_fd, name, &json);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	r = member_from_json(json, &m);
	if (r < 0)
		return r;
	if (ctx->except && streq(m.id, ctx->except))
		return 0;
	if (m.network)
		ctx->network++;
	if (ctx->share)
		for (size_t i = 0; i < m.share_count; i++)
			if (streq(m.shares[i].name, ctx->share))
				ctx->share_users++;
	return 0;
}

int store_group_count(struct store *s, const char *group, const char *except, const char *share,
		      size_t *ret_network, size_t *ret_share_users)
{
	_cleanup_free_ char *sub = members_path(group);
	_cleanup_close_ int fd = -EBADF;
	struct count_ctx ctx = {.except = except, .share = share};
	int r;

	r = open_sub(s, sub, false, &fd);
	if (r == -ENOENT) {
		*ret_network = *ret_share_users = 0;
		return 0;
	}
	if (r < 0)
		return r;
	r = state_foreach(fd, ".json", count_one, &ctx);
	if (r < 0)
		return r;
	*ret_network = ctx.network;
	*ret_share_users = ctx.share_users;
	return 0;
}

static int group_dir(struct store *s, const char *group, bool create, int *ret_fd)
{
	_cleanup_free_ char *sub = xasprintf("groups/%s", group);

	return open_sub(s, sub, create, ret_fd);
}

int store_attachment_read(struct store *s, const char *group, struct attachment_record *ret)
{
	_cleanup_close_ int fd = -EBADF;
	json_auto_t *json = NULL;
	json_t *vnets, *vnet;
	json_int_t dev, ino;
	int attached;
	size_t i;
	int r;

	memset(ret, 0, sizeof(*ret));
	r = group_dir(s, group, false, &fd);
	if (r < 0)
		return r;
	r = record_read(fd, "attachment.json", &json);
	if (r < 0)
		return r;
	if (json_unpack(json, "{s:I, s:I, s:o, s:b}", "netns_dev", &dev, "netns_ino", &ino, "vnets",
			&vnets, "attached", &attached) < 0 ||
	    !json_is_array(vnets) || json_array_size(vnets) > HOOK_VNETS_MAX)
		return -EBADMSG;
	ret->netns_dev = (uint64_t)dev;
	ret->netns_ino = (uint64_t)ino;
	ret->attached = attached;
	json_array_foreach(vnets, i, vnet)
	{
		if (!json_is_string(vnet) || json_string_length(vnet) > VNET_NAME_MAX)
			return -EBADMSG;
		strcpy(ret->vnets[i], json_string_value(vnet));
		ret->vnet_count++;
	}
	return 0;
}

int store_attachment_write(struct store *s, const char *group, const struct attachment_record *a)
{
	_cleanup_close_ int fd = -EBADF;
	json_auto_t *json = NULL;
	json_t *vnets = json_array();
	int r;

	for (size_t i = 0; i < a->vnet_count; i++)
		json_array_append_new(vnets, json_string(a->vnets[i]));
	json = json_pack("{s:I, s:I, s:o, s:b}", "netns_dev", (json_int_t)a->netns_dev, "netns_ino",
			 (json_int_t)a->netns_ino, "vnets", vnets, "attached", a->attached);
	r = group_dir(s, group, true, &fd);
	if (r < 0)
		return r;
	return record_write(fd, "attachment.json", json);
}

int store_attachment_remove(struct store *s, const char *group)
{
	_cleanup_free_ char *sub = xasprintf("groups/%s", group);
	_cleanup_close_ int fd = -EBADF;
	int r;

	r = group_dir(s, group, false, &fd);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	r = record_remove(fd, "attachment.json");
	if (r < 0)
		return r;
	rmdir_quiet(s, sub);
	return 0;
}

int store_files_dir(struct store *s, const char *id, int *ret_fd, char **ret_path)
{
	_cleanup_free_ char *sub = xasprintf("files/%s", id);
	int r;

	r = open_sub(s, sub, true, ret_fd);
	if (r < 0)
		return r;
	*ret_path = xasprintf("%s/%s", s->root, sub);
	return 0;
}

int store_files_remove(struct store *s, const char *id)
{
	static const char *const names[] = {"resolv.conf", "hosts"};
	_cleanup_free_ char *sub = xasprintf("files/%s", id);
	_cleanup_close_ int fd = -EBADF;

	fd = openat(s->root_fd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (unlinkat(fd, names[i], 0) < 0 && errno != ENOENT)
			return -errno;
	if (unlinkat(s->root_fd, sub, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}
