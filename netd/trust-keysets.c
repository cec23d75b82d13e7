/* netd's keysets: files under STATE_DIR/trust, the list in memory and the
 * trust.keyset.* methods (see trust-keysets.h). Single-threaded like the
 * rest of netd: one method runs to completion before the next. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>

#include "json-util.h"
#include "log.h"
#include "netd.h"
#include "params.h"
#include "state-file.h"
#include "trust-keys.h"
#include "trust-keysets.h"
#include "xalloc.h"

#define KEYSET_FILE "keyset.json"
#define COSIGN_FILE "cosign.pub"
#define GPG_FILE    "keyring.gpg"
#define TMP_PREFIX  ".tmp-"

/* --- Files ------------------------------------------------------------- */

static int write_all(int fd, const void *data, size_t size)
{
	const char *p = data;

	while (size > 0) {
		ssize_t n = write(fd, p, size);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		size -= (size_t)n;
	}
	return 0;
}

/* Atomically replaces dir_fd/name with data, mode 0600 (lib/state-file.c
 * writes 0644 JSON; these files are the admin's key material). */
static int write_file(int dir_fd, const char *name, const void *data, size_t size)
{
	_cleanup_close_ int fd = -EBADF;
	char tmp[NAME_MAX + 1];
	int r;

	snprintf(tmp, sizeof(tmp), TMP_PREFIX "%d-%s", (int)getpid(), name);
	fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	r = write_all(fd, data, size);
	if (r >= 0 && fsync(fd) < 0)
		r = -errno;
	if (r >= 0 && renameat(dir_fd, tmp, dir_fd, name) < 0)
		r = -errno;
	if (r < 0) {
		(void)unlinkat(dir_fd, tmp, 0);
		return r;
	}
	if (fsync(dir_fd) < 0)
		return -errno;
	return 0;
}

/* Reads dir_fd/name (at most KEYSET_KEY_MAX bytes) into *ret (malloc'd);
 * -ENOENT when missing. */
static int read_file(int dir_fd, const char *name, char **ret, size_t *ret_size)
{
	_cleanup_close_ int fd = -EBADF;
	_cleanup_free_ char *data = xmalloc(KEYSET_KEY_MAX + 1);
	size_t size = 0;

	fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n = read(fd, data + size, KEYSET_KEY_MAX + 1 - size);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		size += (size_t)n;
		if (size > KEYSET_KEY_MAX)
			return -EFBIG;
	}
	*ret = TAKE_PTR(data);
	*ret_size = size;
	return 0;
}

/* Removes every file of a keyset directory and the directory. */
static int remove_dir(int trust_fd, const char *name)
{
	_cleanup_closedir_ DIR *dir = NULL;
	struct dirent *de;
	int fd;

	fd = openat(trust_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return -errno;
	}
	/* keyset.json first: without it what remains is no keyset. */
	if (unlinkat(fd, KEYSET_FILE, 0) < 0 && errno != ENOENT)
		return -errno;
	while ((de = readdir(dir)))
		if (!streq(de->d_name, ".") && !streq(de->d_name, "..") &&
		    unlinkat(fd, de->d_name, 0) < 0 && errno != ENOENT)
			return -errno;
	if (unlinkat(trust_fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return -errno;
	if (fsync(trust_fd) < 0)
		return -errno;
	return 0;
}

/* Removes the files of a keyset directory its keyset does not name: temp
 * files of an interrupted write, and a key a replace dropped. */
static void remove_strays(int dir_fd, const struct keyset *keyset)
{
	_cleanup_closedir_ DIR *dir = NULL;
	struct dirent *de;
	int fd = dup(dir_fd);

	if (fd < 0)
		return;
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return;
	}
	while ((de = readdir(dir))) {
		const char *n = de->d_name;

		if (streq(n, ".") || streq(n, "..") || streq(n, KEYSET_FILE) ||
		    (streq(n, COSIGN_FILE) && keyset->has_cosign) ||
		    (streq(n, GPG_FILE) && keyset->has_gpg))
			continue;
		if (unlinkat(dir_fd, n, 0) < 0)
			log_warn_errno(-errno, "cannot remove %s of keyset %s", n, keyset->name);
	}
}

/* --- The model --------------------------------------------------------- */

static void keyset_free(struct keyset *keyset)
{
	if (!keyset)
		return;
	free(keyset->repository);
	free(keyset);
}

static void keyset_freep(struct keyset **keyset)
{
	keyset_free(*keyset);
}

static json_t *keyset_state_json(const struct keyset *keyset)
{
	return json_pack("{s:s, s:s, s:b, s:b}", "name", keyset->name, "repository",
			 keyset->repository, "cosign_key", keyset->has_cosign, "gpg_keyring",
			 keyset->has_gpg);
}

static int keyset_state_parse(json_t *json, struct keyset **ret, struct pw_error *err)
{
	_cleanup_(keyset_freep) struct keyset *keyset = NULL;
	const char *name, *repository;
	int cosign, gpg, r;

	r = json_unpack_err(json, err, "keyset", JSON_STRICT, "{s:s, s:s, s:b, s:b}", "name", &name,
			    "repository", &repository, "cosign_key", &cosign, "gpg_keyring", &gpg);
	if (r < 0)
		return r;
	if ((r = keyset_name_validate(name, err)) < 0 ||
	    (r = keyset_repository_validate(repository, err)) < 0)
		return r;
	if (!cosign && !gpg)
		return pw_error_set(err, -EINVAL, "keyset '%s' has no key", name);
	keyset = xcalloc(1, sizeof(*keyset));
	snprintf(keyset->name, sizeof(keyset->name), "%s", name);
	keyset->repository = xstrdup(repository);
	keyset->has_cosign = cosign;
	keyset->has_gpg = gpg;
	*ret = TAKE_PTR(keyset);
	return 0;
}

struct keyset *trust_keysets_find(const struct trust_keysets *keysets, const char *name)
{
	for (size_t i = 0; i < keysets->count; i++)
		if (streq(keysets->items[i]->name, name))
			return keysets->items[i];
	return NULL;
}

static void keysets_insert(struct trust_keysets *keysets, struct keyset *keyset)
{
	size_t at = 0;

	while (at < keysets->count && strcmp(keysets->items[at]->name, keyset->name) < 0)
		at++;
	memmove(&keysets->items[at + 1], &keysets->items[at],
		(keysets->count - at) * sizeof(keysets->items[0]));
	keysets->items[at] = keyset;
	keysets->count++;
}

static void keysets_unlink(struct trust_keysets *keysets, struct keyset *keyset)
{
	for (size_t i = 0; i < keysets->count; i++)
		if (keysets->items[i] == keyset) {
			memmove(&keysets->items[i], &keysets->items[i + 1],
				(keysets->count - i - 1) * sizeof(keysets->items[0]));
			keysets->count--;
			return;
		}
}

/* --- Start-up ---------------------------------------------------------- */

static void load_one(struct trust_keysets *keysets, const char *name)
{
	_cleanup_close_ int fd = -EBADF;
	json_auto_t *json = NULL;
	struct pw_error err = {0};
	struct keyset *keyset = NULL;
	int r;

	if (keyset_name_validate(name, NULL) < 0) {
		log_warn("not a keyset, left alone dir=%s/%s", keysets->dir_path, name);
		return;
	}
	fd = openat(keysets->dir_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		log_warn_errno(-errno, "cannot open keyset dir %s/%s", keysets->dir_path, name);
		return;
	}
	r = state_read_json(fd, KEYSET_FILE, &json);
	if (r == -ENOENT) {
		/* An add that did not commit. */
		log_info("removing an unfinished keyset name=%s", name);
		r = remove_dir(keysets->dir_fd, name);
		if (r < 0)
			log_warn_errno(r, "cannot remove %s/%s", keysets->dir_path, name);
		return;
	}
	if (r >= 0)
		r = keyset_state_parse(json, &keyset, &err);
	else
		pw_error_set(&err, r, "%s", strerror(-r));
	if (r >= 0 && !streq(keyset->name, name))
		r = pw_error_set(&err, -EINVAL, "names keyset '%s'", keyset->name);
	if (r >= 0 && keysets->count >= KEYSETS_MAX)
		r = pw_error_set(&err, -ENOSPC, "more than %d keysets", KEYSETS_MAX);
	if (r < 0) {
		log_error("invalid keyset, skipped dir=%s/%s error=\"%s\"", keysets->dir_path, name,
			  pw_error_message(&err));
		keyset_free(keyset);
		return;
	}
	remove_strays(fd, keyset);
	if ((keyset->has_cosign && faccessat(fd, COSIGN_FILE, F_OK, AT_SYMLINK_NOFOLLOW) < 0) ||
	    (keyset->has_gpg && faccessat(fd, GPG_FILE, F_OK, AT_SYMLINK_NOFOLLOW) < 0))
		log_error("keyset is missing a key file (verification under it fails; add it "
			  "again with --replace) name=%s",
			  name);
	keysets_insert(keysets, keyset);
}

int trust_keysets_open(struct trust_keysets *keysets, const char *state_dir, struct pw_error *err)
{
	_cleanup_free_ char *path = xasprintf("%s/trust", state_dir);
	_cleanup_closedir_ DIR *dir = NULL;
	struct dirent *de;
	int fd, r;

	*keysets = (struct trust_keysets){.dir_fd = -EBADF};
	r = mkdir_p(state_dir, 0755);
	if (r < 0)
		return pw_error_set(err, r, "state dir %s: %s", state_dir, strerror(-r));
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return pw_error_set(err, -errno, "%s: %m", path);
	keysets->dir_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (keysets->dir_fd < 0)
		return pw_error_set(err, -errno, "%s: %m", path);
	keysets->dir_path = realpath(path, NULL);
	if (!keysets->dir_path)
		return pw_error_set(err, -errno, "%s: %m", path);

	fd = dup(keysets->dir_fd);
	if (fd < 0)
		return pw_error_set(err, -errno, "%s: %m", path);
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return pw_error_set(err, -errno, "%s: %m", path);
	}
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		load_one(keysets, de->d_name);
	}
	log_debug("keysets loaded count=%zu", keysets->count);
	return 0;
}

void trust_keysets_close(struct trust_keysets *keysets)
{
	for (size_t i = 0; i < keysets->count; i++)
		keyset_free(keysets->items[i]);
	keysets->count = 0;
	if (keysets->dir_fd >= 0)
		close(keysets->dir_fd);
	keysets->dir_fd = -EBADF;
	free(keysets->dir_path);
	keysets->dir_path = NULL;
}

/* --- Methods ----------------------------------------------------------- */

/* The VNets naming the keyset, as a JSON array (creation order). */
static json_t *keyset_vnets_json(const struct netd *netd, const char *name)
{
	json_t *vnets = json_array();

	for (size_t i = 0; i < netd->vnet_count; i++)
		if (netd->vnets[i]->trust != TRUST_OFF && streq(netd->vnets[i]->trust_keys, name))
			json_array_append_new(vnets, json_string(netd->vnets[i]->name));
	return vnets;
}

static json_t *keyset_list_json(const struct netd *netd, const struct keyset *keyset)
{
	return json_pack("{s:s, s:s, s:b, s:b, s:o}", "name", keyset->name, "repository",
			 keyset->repository, "cosign_key", keyset->has_cosign, "gpg_keyring",
			 keyset->has_gpg, "vnets", keyset_vnets_json(netd, keyset->name));
}

/* A key file's old content, to put back when a replace fails. */
struct backup {
	const char *file;
	char *data; /* NULL: there was none */
	size_t size;
};

static void backups_restore(int dir_fd, struct backup *backups, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		int r = backups[i].data
			    ? write_file(dir_fd, backups[i].file, backups[i].data, backups[i].size)
			    : (unlinkat(dir_fd, backups[i].file, 0) < 0 && errno != ENOENT ? -errno
											   : 0);

		if (r < 0)
			log_warn_errno(r, "cannot restore %s of a keyset", backups[i].file);
	}
}

/* Writes the key files and keyset.json of keyset into its directory;
 * on failure the directory is as it was (or gone, for a new keyset). */
static int keyset_write(struct trust_keysets *keysets, const struct keyset *keyset,
			const char *cosign, const uint8_t *gpg, size_t gpg_size, bool existed,
			struct pw_error *err)
{
	_cleanup_close_ int fd = -EBADF;
	_cleanup_free_ char *state = NULL;
	struct backup backups[2] = {{.file = COSIGN_FILE}, {.file = GPG_FILE}};
	size_t written = 0;
	int r;

	if (mkdirat(keysets->dir_fd, keyset->name, 0700) < 0 && errno != EEXIST)
		return pw_error_set(err, -errno, "create %s/%s: %m", keysets->dir_path,
				    keyset->name);
	fd = openat(keysets->dir_fd, keyset->name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		r = pw_error_set(err, -errno, "open %s/%s: %m", keysets->dir_path, keyset->name);
		goto undo;
	}
	if (existed)
		for (size_t i = 0; i < ARRAY_SIZE(backups); i++) {
			r = read_file(fd, backups[i].file, &backups[i].data, &backups[i].size);
			if (r < 0 && r != -ENOENT) {
				pw_error_set(err, r, "read %s of keyset '%s': %s", backups[i].file,
					     keyset->name, strerror(-r));
				goto undo;
			}
		}
	if (cosign) {
		written = 1;
		r = write_file(fd, COSIGN_FILE, cosign, strlen(cosign));
		if (r < 0) {
			pw_error_set(err, r, "write %s: %s", COSIGN_FILE, strerror(-r));
			goto undo;
		}
	}
	if (gpg) {
		written = 2;
		r = write_file(fd, GPG_FILE, gpg, gpg_size);
		if (r < 0) {
			pw_error_set(err, r, "write %s: %s", GPG_FILE, strerror(-r));
			goto undo;
		}
	}
	written = 2;
	{
		json_auto_t *json = keyset_state_json(keyset);

		state = json ? json_dumps(json, JSON_INDENT(1) | JSON_SORT_KEYS) : NULL;
	}
	if (!state) {
		r = pw_error_set(err, -ENOMEM, "out of memory");
		goto undo;
	}
	r = write_file(fd, KEYSET_FILE, state, strlen(state));
	if (r < 0) {
		pw_error_set(err, r, "write %s: %s", KEYSET_FILE, strerror(-r));
		goto undo;
	}
	/* Committed: a key this replace dropped goes. */
	remove_strays(fd, keyset);
	for (size_t i = 0; i < ARRAY_SIZE(backups); i++)
		free(backups[i].data);
	return 0;

undo:
	if (!existed) {
		(void)remove_dir(keysets->dir_fd, keyset->name);
	} else if (fd >= 0) {
		backups_restore(fd, backups, written);
	}
	for (size_t i = 0; i < ARRAY_SIZE(backups); i++)
		free(backups[i].data);
	return pw_error_wrap(err, r, "keyset '%s'", keyset->name);
}

int trust_rpc_keyset_add(struct rpc_request *req, void *userdata, json_t **ret_result,
			 struct pw_error *err)
{
	struct netd *netd = userdata;
	struct trust_keysets *keysets = &netd->keysets;
	_cleanup_(keyset_freep) struct keyset *keyset = NULL;
	_cleanup_free_ uint8_t *gpg = NULL;
	json_t *name_json = NULL, *cosign_json = NULL, *gpg_json = NULL, *repository_json = NULL,
	       *replace_json = NULL;
	const char *name = NULL, *cosign = NULL, *gpg_base64 = NULL, *repository = "";
	struct keyset *existing;
	bool replace = false;
	size_t gpg_size = 0;
	int r;

	r = json_unpack_err(req->params, err, req->method, JSON_STRICT,
			    "{s:o, s?:o, s?:o, s?:o, s?:o}", "name", &name_json, "cosign_key",
			    &cosign_json, "gpg_keyring", &gpg_json, "repository", &repository_json,
			    "replace", &replace_json);
	if (r < 0)
		return r;
	if ((r = param_string(name_json, "name", &name, err)) < 0 ||
	    (r = param_string(cosign_json, "cosign_key", &cosign, err)) < 0 ||
	    (r = param_string(gpg_json, "gpg_keyring", &gpg_base64, err)) < 0 ||
	    (r = param_string(repository_json, "repository", &repository, err)) < 0 ||
	    (r = param_bool(replace_json, "replace", &replace, err)) < 0)
		return r;
	if ((r = keyset_name_validate(name, err)) < 0 ||
	    (r = keyset_repository_validate(repository, err)) < 0)
		return r;
	if (!cosign && !gpg_base64)
		return pw_error_set(err, -EINVAL,
				    "keyset '%s': no key (give cosign_key, gpg_keyring or both)",
				    name);
	existing = trust_keysets_find(keysets, name);
	if (existing && !replace)
		return pw_error_set(err, -EEXIST, "keyset '%s' exists (use --replace)", name);
	if (!existing && keysets->count >= KEYSETS_MAX)
		return pw_error_set(err, -ENOSPC, "too many keysets (at most %d)", KEYSETS_MAX);
	if (cosign) {
		r = trust_keys_check_cosign(cosign, strlen(cosign), err);
		if (r < 0)
			return pw_error_wrap(err, r, "keyset '%s'", name);
	}
	if (gpg_base64) {
		r = trust_keys_decode_gpg(gpg_base64, &gpg, &gpg_size, err);
		if (r < 0)
			return pw_error_wrap(err, r, "keyset '%s'", name);
	}

	keyset = xcalloc(1, sizeof(*keyset));
	snprintf(keyset->name, sizeof(keyset->name), "%s", name);
	keyset->repository = xstrdup(repository);
	keyset->has_cosign = cosign != NULL;
	keyset->has_gpg = gpg != NULL;
	r = keyset_write(keysets, keyset, cosign, gpg, gpg_size, existing != NULL, err);
	if (r < 0)
		return r;
	if (existing) {
		keysets_unlink(keysets, existing);
		keyset_free(existing);
	}
	existing = TAKE_PTR(keyset);
	keysets_insert(keysets, existing);
	log_info("keyset %s name=%s cosign_key=%s gpg_keyring=%s repository=\"%s\"",
		 replace ? "replaced" : "added", existing->name,
		 existing->has_cosign ? "yes" : "no", existing->has_gpg ? "yes" : "no",
		 existing->repository);
	*ret_result = keyset_list_json(netd, existing);
	return 0;
}

int trust_rpc_keyset_remove(struct rpc_request *req, void *userdata, json_t **ret_result,
			    struct pw_error *err)
{
	struct netd *netd = userdata;
	struct keyset *keyset;
	json_auto_t *users = NULL;
	const char *name;
	int r;

	r = json_unpack_err(req->params, err, req->method, JSON_STRICT, "{s:s}", "name", &name);
	if (r < 0)
		return r;
	r = keyset_name_validate(name, err);
	if (r < 0)
		return r;
	keyset = trust_keysets_find(&netd->keysets, name);
	if (!keyset)
		return 0;
	users = keyset_vnets_json(netd, name);
	if (json_array_size(users) > 0) {
		char list[PW_ERROR_MESSAGE_MAX / 2] = "";
		size_t i;
		json_t *item;

		json_array_foreach(users, i, item)
		{
			size_t len = strlen(list);

			snprintf(list + len, sizeof(list) - len, "%s%s", i ? ", " : "",
				 json_string_value(item));
		}
		return pw_error_set(err, -EBUSY, "keyset '%s' is used by VNet %s", name, list);
	}
	r = remove_dir(netd->keysets.dir_fd, name);
	if (r < 0)
		return pw_error_set(err, r, "remove keyset '%s': %s", name, strerror(-r));
	keysets_unlink(&netd->keysets, keyset);
	keyset_free(keyset);
	log_info("keyset removed name=%s", name);
	return 0;
}

int trust_rpc_keyset_list(struct rpc_request *req, void *userdata, json_t **ret_result,
			  struct pw_error *err)
{
	struct netd *netd = userdata;
	json_t *list;
	int r;

	r = json_unpack_err(req->params, err, req->method, JSON_STRICT, "{}");
	if (r < 0)
		return r;
	list = json_array();
	for (size_t i = 0; i < netd->keysets.count; i++)
		json_array_append_new(list, keyset_list_json(netd, netd->keysets.items[i]));
	*ret_result = json_pack("{s:o}", "keysets", list);
	return 0;
}

int trust_rpc_keyset_show(struct rpc_request *req, void *userdata, json_t **ret_result,
			  struct pw_error *err)
{
	struct netd *netd = userdata;
	struct keyset *keyset;
	_cleanup_free_ char *cosign = NULL, *gpg = NULL;
	const char *name;
	int r;

	r = json_unpack_err(req->params, err, req->method, JSON_STRICT, "{s:s}", "name", &name);
	if (r < 0)
		return r;
	r = keyset_name_validate(name, err);
	if (r < 0)
		return r;
	keyset = trust_keysets_find(&netd->keysets, name);
	if (!keyset)
		return pw_error_set(err, -ENOENT, "keyset '%s' not found", name);
	if (keyset->has_cosign)
		cosign = xasprintf("%s/%s/" COSIGN_FILE, netd->keysets.dir_path, name);
	if (keyset->has_gpg)
		gpg = xasprintf("%s/%s/" GPG_FILE, netd->keysets.dir_path, name);
	*ret_result = json_pack("{s:s, s:s, s:s?, s:s?, s:o}", "name", keyset->name, "repository",
				keyset->repository, "cosign_key_path", cosign, "gpg_keyring_path",
				gpg, "vnets", keyset_vnets_json(netd, name));
	return 0;
}
