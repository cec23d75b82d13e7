/* The set of shares and the operations on it (see volumed.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "mount.h"
#include "name.h"
#include "snapshot.h"
#include "state-file.h"
#include "store.h"
#include "tree.h"
#include "volumed.h"
#include "xalloc.h"

static int open_subdir(const char *base, const char *sub, int *ret_fd)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", base, sub);

	return state_dir_open(path, ret_fd);
}

int volumed_init(struct volumed *v, const char *run_dir, const char *state_dir,
		 struct pw_error *err)
{
	int r;

	*v = (struct volumed){
	    .config_fd = -EBADF, .data_fd = -EBADF, .snapshots_fd = -EBADF, .users_fd = -EBADF};
	v->run_dir = xstrdup(run_dir);
	v->state_dir = xstrdup(state_dir);
	v->mount_root = xasprintf("%s/shares", run_dir);
	if ((r = open_subdir(state_dir, "config", &v->config_fd)) < 0 ||
	    (r = open_subdir(state_dir, "shares", &v->data_fd)) < 0 ||
	    (r = open_subdir(state_dir, "snapshots", &v->snapshots_fd)) < 0)
		return pw_error_set(err, r, "state dir %s: %s", state_dir, strerror(-r));
	if ((r = open_subdir(run_dir, "volumed/users", &v->users_fd)) < 0 ||
	    (r = mkdir_p(v->mount_root, 0755)) < 0)
		return pw_error_set(err, r, "run dir %s: %s", run_dir, strerror(-r));
	return 0;
}

struct share *volumed_find(struct volumed *v, const char *name)
{
	for (struct share *s = v->shares; s; s = s->next)
		if (streq(s->config.name, name))
			return s;
	return NULL;
}

int volumed_snapshot_dir(struct volumed *v, const char *share, const char *sub, int *ret_fd)
{
	_cleanup_close_ int base = -EBADF;
	int fd;

	if (mkdirat(v->snapshots_fd, share, 0700) < 0 && errno != EEXIST)
		return -errno;
	base = openat(v->snapshots_fd, share, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (base < 0)
		return -errno;
	/* data/ is what groups browse as .snapshots: readable by all. */
	if (mkdirat(base, sub, streq(sub, "data") ? 0755 : 0700) < 0 && errno != EEXIST)
		return -errno;
	fd = openat(base, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	*ret_fd = fd;
	return 0;
}

static void share_free(struct share *s)
{
	share_fs_stop(s->fs);
	for (size_t i = 0; i < s->user_count; i++)
		free(s->users[i].group);
	free(s->users);
	free(s->backing_path);
	free(s->mountpoint);
	share_config_done(&s->config);
	free(s);
}

static struct share *share_new(struct volumed *v, struct share_config *cfg)
{
	struct share *s = xcalloc(1, sizeof(*s));

	s->config = *cfg;
	share_config_init(cfg);
	s->backing_path = s->config.backing
			      ? xstrdup(s->config.backing)
			      : xasprintf("%s/shares/%s", v->state_dir, s->config.name);
	s->mountpoint = xasprintf("%s/%s", v->mount_root, s->config.name);
	return s;
}

/* Whether path a is b or below it (both canonical). */
static bool path_within(const char *a, const char *b)
{
	size_t len = strlen(b);

	if (streq(b, "/"))
		return true;
	return strncmp(a, b, len) == 0 && (a[len] == '\0' || a[len] == '/');
}

/* A backing dir may not overlap volumed's own state or run dirs: snapshots
 * would become writable through the share, or a share would mount over
 * its own data. */
static int check_backing(struct volumed *v, const char *backing, struct pw_error *err)
{
	char real[PATH_MAX], state[PATH_MAX], run[PATH_MAX];

	if (!realpath(backing, real))
		return pw_error_set(err, -errno, "backing directory %s: %s", backing,
				    strerror(errno));
	if (!realpath(v->state_dir, state) || !realpath(v->run_dir, run))
		return pw_error_set(err, -errno, "resolving volumed's own dirs: %s",
				    strerror(errno));
	if (path_within(real, state) || path_within(state, real) || path_within(real, run) ||
	    path_within(run, real))
		return pw_error_set(
		    err, -EINVAL, "backing directory %s overlaps volumed's state or run dir", real);
	return 0;
}

int volumed_share_open_backing(struct volumed *v, struct share *s, int *ret_fd,
			       struct pw_error *err)
{
	int fd;

	if (s->config.backing) {
		struct stat st;

		fd = open(s->config.backing, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			return pw_error_set(err, -errno, "backing directory %s: %s",
					    s->config.backing, strerror(errno));
		if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode)) {
			close(fd);
			return pw_error_set(err, -ENOTDIR, "backing %s is not a directory",
					    s->config.backing);
		}
	} else {
		if (mkdirat(v->data_fd, s->config.name, 0755) < 0 && errno != EEXIST)
			return pw_error_set(err, -errno, "creating %s: %s", s->backing_path,
					    strerror(errno));
		fd = openat(v->data_fd, s->config.name,
			    O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return pw_error_set(err, -errno, "opening %s: %s", s->backing_path,
					    strerror(errno));
	}
	*ret_fd = fd;
	return 0;
}

static int share_mount(struct volumed *v, struct share *s, struct pw_error *err)
{
	_cleanup_close_ int backing = -EBADF, snapshots = -EBADF;
	int r;

	r = volumed_share_open_backing(v, s, &backing, err);
	if (r < 0)
		return r;
	r = volumed_snapshot_dir(v, s->config.name, "data", &snapshots);
	if (r < 0)
		return pw_error_set(err, r, "snapshot directory: %s", strerror(-r));
	r = mount_prepare(s->mountpoint);
	if (r < 0)
		return pw_error_set(err, r, "mount point %s: %s", s->mountpoint, strerror(-r));
	struct share_fs_params p = {
	    .name = s->config.name,
	    .mountpoint = s->mountpoint,
	    .backing_fd = backing,
	    .snapshots_fd = snapshots,
	    .override = {s->config.uid, s->config.gid, s->config.file_mode, s->config.dir_mode},
	    .quota_bytes = s->config.quota_bytes,
	    .quota_files = s->config.quota_files,
	};
	r = share_fs_start(&p, &s->fs);
	if (r < 0)
		return pw_error_set(err, r, "mounting at %s failed: %s", s->mountpoint,
				    strerror(-r));
	log_info(
	    "share mounted share=%s backing=%s mountpoint=%s passthrough=%s writeback_cache=%s",
	    s->config.name, s->backing_path, s->mountpoint,
	    __atomic_load_n(&s->fs->passthrough, __ATOMIC_RELAXED) ? "yes" : "no",
	    s->fs->writeback_cache ? "yes" : "no");
	return 0;
}

static void share_link(struct volumed *v, struct share *s)
{
	s->next = v->shares;
	v->shares = s;
	v->share_count++;
}

static void share_unlink(struct volumed *v, struct share *s)
{
	for (struct share **p = &v->shares; *p; p = &(*p)->next)
		if (*p == s) {
			*p = s->next;
			v->share_count--;
			return;
		}
}

static void load_cb(struct share_config *cfg, void *userdata)
{
	struct volumed *v = userdata;

	if (volumed_find(v, cfg->name) || v->share_count >= VOLUMED_SHARES_MAX) {
		share_config_done(cfg);
		return;
	}
	share_link(v, share_new(v, cfg));
}

static bool keep_mountpoint(const char *name, void *userdata)
{
	return volumed_find(userdata, name) != NULL;
}

int volumed_start(struct volumed *v)
{
	int r;

	r = store_shares_load(v, load_cb, v);
	if (r < 0)
		return log_error_errno(r, "loading shares failed");
	mount_sweep(v->mount_root, keep_mountpoint, v);
	for (struct share *s = v->shares; s; s = s->next) {
		struct pw_error err = {};

		r = store_users_load(v, s);
		if (r < 0)
			log_warn_errno(r, "share %s: loading its users failed", s->config.name);
		if (share_mount(v, s, &err) < 0)
			log_error("share %s: %s", s->config.name, pw_error_message(&err));
	}
	log_info("volumed started shares=%zu", v->share_count);
	return 0;
}

void volumed_done(struct volumed *v)
{
	while (v->shares) {
		struct share *s = v->shares;
		v->shares = s->next;
		share_free(s);
	}
	v->share_count = 0;
	if (v->config_fd >= 0)
		close(v->config_fd);
	if (v->data_fd >= 0)
		close(v->data_fd);
	if (v->snapshots_fd >= 0)
		close(v->snapshots_fd);
	if (v->users_fd >= 0)
		close(v->users_fd);
	free(v->mount_root);
	free(v->run_dir);
	free(v->state_dir);
}

int volumed_share_create(struct volumed *v, struct share_config *cfg, struct share **ret_share,
			 struct pw_error *err)
{
	struct share *s = volumed_find(v, cfg->name);
	int r;

	if (s) {
		bool same = share_config_equal(&s->config, cfg);
		share_config_done(cfg);
		if (!same)
			return pw_error_set(err, -EEXIST, "share '%s' exists with other settings",
					    s->config.name);
		*ret_share = s;
		return 0;
	}
	if (v->share_count >= VOLUMED_SHARES_MAX) {
		share_config_done(cfg);
		return pw_error_set(err, -ENOSPC, "at most %d shares", VOLUMED_SHARES_MAX);
	}
	if (cfg->backing) {
		r = check_backing(v, cfg->backing, err);
		if (r < 0) {
			share_config_done(cfg);
			return r;
		}
	}
	s = share_new(v, cfg);
	r = share_mount(v, s, err);
	if (r < 0) {
		share_free(s);
		return r;
	}
	r = store_share_save(v, &s->config);
	if (r < 0) {
		share_fs_stop(s->fs);
		s->fs = NULL;
		rmdir(s->mountpoint);
		share_free(s);
		return pw_error_set(err, r, "saving share state: %s", strerror(-r));
	}
	share_link(v, s);
	log_info("share created share=%s", s->config.name);
	*ret_share = s;
	return 0;
}

static int purge_data(struct volumed *v, const char *name, const char *backing)
{
	int r;

	r = tree_remove(v->snapshots_fd, name);
	if (r < 0)
		return r;
	if (!backing)
		return tree_remove(v->data_fd, name);
	/* An admin-given directory: remove it by its parent's fd. */
	_cleanup_free_ char *dir = xstrdup(backing);
	char *slash = strrchr(dir, '/');
	_cleanup_close_ int parent = -EBADF;

	if (!slash || !slash[1])
		return -EINVAL;
	*slash = '\0';
	parent = open(*dir ? dir : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (parent < 0)
		return -errno;
	return tree_remove(parent, slash + 1);
}

int volumed_share_delete(struct volumed *v, const char *name, bool force, bool purge,
			 struct pw_error *err)
{
	struct share *s = volumed_find(v, name);
	_cleanup_free_ char *backing = NULL;
	int r;

	if (!s) {
		/* Gone already: success; --purge still removes what a delete
		 * without it left of a default-backed share. */
		if (purge) {
			r = purge_data(v, name, NULL);
			if (r < 0)
				return pw_error_set(err, r, "purging share '%s': %s", name,
						    strerror(-r));
		}
		return 0;
	}
	if (s->user_count > 0 && !force)
		return pw_error_set(err, -EBUSY,
				    "share '%s' is used by %zu group(s) (first: %s); use force",
				    name, s->user_count, s->users[0].group);
	r = store_share_remove(v, name);
	if (r < 0)
		return pw_error_set(err, r, "removing share state: %s", strerror(-r));
	share_unlink(v, s);
	backing = s->config.backing ? xstrdup(s->config.backing) : NULL;
	share_fs_stop(s->fs);
	s->fs = NULL;
	if (rmdir(s->mountpoint) < 0 && errno != ENOENT)
		log_warn("share %s: removing mount point %s failed: %m", name, s->mountpoint);
	store_users_clear(v, name);
	share_free(s);
	log_info("share deleted share=%s force=%s purge=%s", name, force ? "yes" : "no",
		 purge ? "yes" : "no");
	if (purge) {
		r = purge_data(v, name, backing);
		if (r < 0)
			return pw_error_set(err, r, "share '%s' deleted, but purging its data: %s",
					    name, strerror(-r));
	}
	return 0;
}

int volumed_share_set_quota(struct volumed *v, struct share *s, uint64_t bytes, uint64_t files,
			    struct pw_error *err)
{
	struct share_config saved = s->config;
	int r;

	s->config.quota_bytes = bytes;
	s->config.quota_files = files;
	r = store_share_save(v, &s->config);
	if (r < 0) {
		s->config = saved;
		return pw_error_set(err, r, "saving share state: %s", strerror(-r));
	}
	if (s->fs)
		quota_set_limits(&s->fs->quota, bytes, files);
	log_info("share quota set share=%s bytes=%llu files=%llu", s->config.name,
		 (unsigned long long)bytes, (unsigned long long)files);
	return 0;
}

int volumed_share_set_trust(struct volumed *v, struct share *s, struct share_trust *p,
			    struct pw_error *err)
{
	struct share_trust saved = s->config.trust;
	int r;

	s->config.trust = *p;
	*p = (struct share_trust){};
	r = store_share_save(v, &s->config);
	if (r < 0) {
		share_trust_done(&s->config.trust);
		s->config.trust = saved;
		return pw_error_set(err, r, "saving share state: %s", strerror(-r));
	}
	share_trust_done(&saved);
	log_info("share trust set share=%s trust=%s keyset=%s", s->config.name,
		 share_trust_mode_name(s->config.trust.mode),
		 s->config.trust.keys ? s->config.trust.keys : "-");
	return 0;
}

int volumed_share_use(struct volumed *v, struct share *s, const char *group, bool read_only,
		      const struct share_verdict *verdict, struct pw_error *err)
{
	struct share_user u = {(char *)group, read_only};
	struct share_user *existing = NULL;
	char reason[64];
	int r;

	r = name_validate_group(group, err);
	if (r < 0)
		return r;
	r = share_trust_admit(s->config.name, &s->config.trust, verdict, err);
	if (r < 0) {
		log_info("share use refused share=%s group=%s trust=enforce reason=%s",
			 s->config.name, group, share_verdict_reason(verdict, reason));
		return r;
	}
	/* Under audit the hook reports the untrusted image to netd, which
	 * counts it; this line is for whoever reads volumed's log. */
	if (r > 0)
		log_warn("share use admitted without a trusted image share=%s group=%s "
			 "trust=audit reason=%s",
			 s->config.name, group, share_verdict_reason(verdict, reason));
	for (size_t i = 0; i < s->user_count; i++)
		if (streq(s->users[i].group, group))
			existing = &s->users[i];
	if (existing && existing->read_only == read_only)
		return 0;
	if (!existing && s->user_count >= SHARE_USERS_MAX)
		return pw_error_set(err, -ENOSPC, "share '%s' has %d users already", s->config.name,
				    SHARE_USERS_MAX);
	r = store_user_save(v, s->config.name, &u);
	if (r < 0)
		return pw_error_set(err, r, "saving user state: %s", strerror(-r));
	if (existing) {
		existing->read_only = read_only;
		return 0;
	}
	s->users = xrealloc(s->users, (s->user_count + 1) * sizeof(*s->users));
	s->users[s->user_count++] = (struct share_user){xstrdup(group), read_only};
	log_info("share in use share=%s group=%s read_only=%s", s->config.name, group,
		 read_only ? "yes" : "no");
	return 0;
}

int volumed_share_release(struct volumed *v, struct share *s, const char *group,
			  struct pw_error *err)
{
	int r;

	r = name_validate_group(group, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < s->user_count; i++) {
		if (!streq(s->users[i].group, group))
			continue;
		r = store_user_remove(v, s->config.name, group);
		if (r < 0)
			return pw_error_set(err, r, "removing user state: %s", strerror(-r));
		free(s->users[i].group);
		s->users[i] = s->users[--s->user_count];
		log_info("share released share=%s group=%s", s->config.name, group);
		return 0;
	}
	return 0; /* not a user: nothing to do */
}

json_t *volumed_share_json(struct volumed *v, struct share *s)
{
	json_t *obj = share_config_to_json(&s->config);
	json_t *users = json_array();
	struct quota_usage usage = {.limit_bytes = s->config.quota_bytes,
				    .limit_files = s->config.quota_files};

	if (!obj || !users) {
		json_decref(obj);
		json_decref(users);
		return NULL;
	}
	json_object_set_new(obj, "backing", json_string(s->backing_path));
	json_object_set_new(obj, "mountpoint", json_string(s->mountpoint));
	json_object_set_new(obj, "mounted", json_boolean(s->fs != NULL));
	json_object_set_new(obj, "trust", json_string(share_trust_mode_name(s->config.trust.mode)));
	if (s->fs)
		quota_get(&s->fs->quota, &usage);
	json_object_set_new(obj, "quota_bytes", json_integer((json_int_t)usage.limit_bytes));
	json_object_set_new(obj, "quota_files", json_integer((json_int_t)usage.limit_files));
	json_object_set_new(obj, "used_bytes", json_integer((json_int_t)usage.used_bytes));
	json_object_set_new(obj, "used_files", json_integer((json_int_t)usage.used_files));
	for (size_t i = 0; i < s->user_count; i++)
		json_array_append_new(users, json_pack("{s:s, s:b}", "group", s->users[i].group,
						       "read_only", s->users[i].read_only));
	json_object_set_new(obj, "users", users);
	if (s->fs) {
		json_object_set_new(obj, "writeback_cache", json_boolean(s->fs->writeback_cache));
		json_object_set_new(
		    obj, "passthrough",
		    json_boolean(__atomic_load_n(&s->fs->passthrough, __ATOMIC_RELAXED)));
		json_object_set_new(
		    obj, "stats",
		    json_pack(
			"{s:I, s:I, s:I, s:I}", "ops",
			(json_int_t)__atomic_load_n(&s->fs->stats.ops, __ATOMIC_RELAXED),
			"bytes_read",
			(json_int_t)__atomic_load_n(&s->fs->stats.bytes_read, __ATOMIC_RELAXED),
			"bytes_written",
			(json_int_t)__atomic_load_n(&s->fs->stats.bytes_written, __ATOMIC_RELAXED),
			"passthrough_opens",
			(json_int_t)__atomic_load_n(&s->fs->stats.passthrough_opens,
						    __ATOMIC_RELAXED)));
	}
	json_object_set_new(obj, "snapshots", json_integer(snapshot_count(v, s)));
	return obj;
}
