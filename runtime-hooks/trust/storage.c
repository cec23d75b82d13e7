/* containers-storage records read without podman (see storage.h). */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "storage.h"

static bool id_valid(const char *id)
{
	if (strlen(id) != STORAGE_ID_LEN)
		return false;
	for (const char *p = id; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

int storage_big_data_name(const char *key, char *buf, size_t size)
{
	bool plain = *key != '\0';
	size_t len = strlen(key);

	/* containers-storage's makeBigDataBaseName: only [0-9a-z.] stays. */
	for (const char *p = key; *p; p++)
		if (!(*p == '.' || (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z')))
			plain = false;
	if (plain) {
		if (len + 1 > size)
			return -ENAMETOOLONG;
		memcpy(buf, key, len + 1);
		return 0;
	}
	if (1 + (len + 2) / 3 * 4 + 1 > size)
		return -ENAMETOOLONG;
	buf[0] = '=';
	EVP_EncodeBlock((unsigned char *)buf + 1, (const unsigned char *)key, (int)len);
	return 0;
}

/* Reads a regular file below dir_fd (no symlink as the last component). */
static int read_at(int dir_fd, const char *name, size_t max, char **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = -EBADF;
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	size_t done = 0;

	fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EBADMSG;
	if ((size_t)st.st_size > max)
		return -EFBIG;
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return -ENOMEM;
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + done, (size_t)st.st_size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	buf[done] = '\0';
	*ret = TAKE_PTR(buf);
	*ret_len = done;
	return 0;
}

/* Opens DIR/DRIVER-KIND (KIND: containers, images, layers). */
static int open_store(const char *root, const char *driver, const char *kind)
{
	char path[PATH_MAX];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s-%s", root, driver, kind) >= sizeof(path))
		return -ENAMETOOLONG;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* Loads a JSON index (an array of records) below dir_fd. */
static int load_index(int dir_fd, const char *name, json_t **ret, struct pw_error *err)
{
	_cleanup_free_ char *text = NULL;
	json_error_t jerr;
	size_t len;
	json_t *v;
	int r;

	r = read_at(dir_fd, name, STORAGE_INDEX_MAX, &text, &len);
	if (r < 0)
		return pw_error_set(err, r, "%s: %s", name, strerror(-r));
	v = json_loadb(text, len, 0, &jerr);
	if (!v || !json_is_array(v)) {
		json_decref(v);
		return pw_error_set(err, -EBADMSG, "%s is malformed", name);
	}
	*ret = v;
	return 0;
}

static json_t *find_record(json_t *index, const char *id)
{
	size_t i;
	json_t *record;

	json_array_foreach(index, i, record)
	{
		const char *record_id = json_string_value(json_object_get(record, "id"));

		if (record_id && streq(record_id, id))
			return record;
	}
	return NULL;
}

/* Finds id in ROOT/DRIVER-KIND/NAME, then in RUN/DRIVER-KIND/volatile-NAME:
 * 1 found (*ret_index keeps the record alive), 0 not there, or a negative
 * errno with err set (no such index, a malformed one). */
static int find_in_store(const struct storage_location *loc, const char *kind, const char *name,
			 const char *id, json_t **ret_index, json_t **ret_record,
			 struct pw_error *err)
{
	const char *roots[] = {loc->graph_root, loc->run_root};

	for (size_t i = 0; i < ARRAY_SIZE(roots); i++) {
		_cleanup_close_ int dir_fd = -EBADF;
		char file[64];
		json_t *index = NULL;
		int r;

		if (strempty(roots[i]))
			continue;
		dir_fd = open_store(roots[i], loc->driver, kind);
		snprintf(file, sizeof(file), "%s%s", i == 0 ? "" : "volatile-", name);
		if (dir_fd < 0 || faccessat(dir_fd, file, F_OK, AT_SYMLINK_NOFOLLOW) < 0) {
			if (i == 0)
				return pw_error_set(err, -ENOENT, "no %s-%s/%s under %s",
						    loc->driver, kind, name, roots[i]);
			continue;
		}
		r = load_index(dir_fd, file, &index, err);
		if (r < 0)
			return pw_error_wrap(err, r, "%s", roots[i]);
		json_t *record = find_record(index, id);
		if (record) {
			*ret_index = index;
			*ret_record = record;
			return 1;
		}
		json_decref(index);
	}
	return 0;
}

static void copy_id(char dst[STORAGE_ID_LEN + 1], json_t *value)
{
	const char *s = json_string_value(value);

	snprintf(dst, STORAGE_ID_LEN + 1, "%s", s && id_valid(s) ? s : "");
}

static int sha256_hex(const char *data, size_t len, char ret[STORAGE_DIGEST_STRLEN + 1])
{
	unsigned char md[32];
	unsigned md_len = 0;

	if (EVP_Digest(data, len, md, &md_len, EVP_sha256(), NULL) != 1 || md_len != 32)
		return -EIO;
	strcpy(ret, "sha256:");
	for (unsigned i = 0; i < 32; i++)
		sprintf(ret + 7 + 2 * i, "%02x", md[i]);
	return 0;
}

static int read_big_data(int image_fd, const char *key, char **ret, size_t *ret_len)
{
	char name[NAME_MAX + 1];
	int r = storage_big_data_name(key, name, sizeof(name));

	if (r < 0)
		return r;
	return read_at(image_fd, name, STORAGE_BLOB_MAX, ret, ret_len);
}

enum manifest_kind { MANIFEST_OTHER, MANIFEST_IMAGE, MANIFEST_LIST };

/* Reads manifest "manifest-DIGEST" and says whether it is this image's. */
static enum manifest_kind classify_manifest(int image_fd, const char *digest, const char *image_id,
					    json_t **ret_list)
{
	_cleanup_free_ char *text = NULL;
	char actual[STORAGE_DIGEST_STRLEN + 1], key[16 + STORAGE_DIGEST_STRLEN];
	json_auto_t *manifest = NULL;
	size_t len;
	const char *config;

	snprintf(key, sizeof(key), "manifest-%s", digest);
	if (read_big_data(image_fd, key, &text, &len) < 0 || sha256_hex(text, len, actual) < 0 ||
	    !streq(actual, digest))
		return MANIFEST_OTHER;
	manifest = json_loadb(text, len, 0, NULL);
	config = json_string_value(json_object_get(json_object_get(manifest, "config"), "digest"));
	if (config)
		return strncmp(config, "sha256:", 7) == 0 && streq(config + 7, image_id)
			   ? MANIFEST_IMAGE
			   : MANIFEST_OTHER;
	if (json_is_array(json_object_get(manifest, "manifests"))) {
		*ret_list = json_incref(json_object_get(manifest, "manifests"));
		return MANIFEST_LIST;
	}
	return MANIFEST_OTHER;
}

static bool has_digest(const struct image_identity *id, const char *digest)
{
	for (size_t i = 0; i < id->manifest_count; i++)
		if (streq(id->manifest_digests[i], digest))
			return true;
	return false;
}

static void add_digest(struct image_identity *id, const char *digest)
{
	if (id->manifest_count < STORAGE_MANIFESTS_MAX && !has_digest(id, digest))
		snprintf(id->manifest_digests[id->manifest_count++], STORAGE_DIGEST_STRLEN + 1,
			 "%s", digest);
}

static void read_manifests(int image_fd, json_t *image, struct image_identity *id)
{
	json_t *lists[STORAGE_MANIFESTS_MAX];
	char list_digests[STORAGE_MANIFESTS_MAX][STORAGE_DIGEST_STRLEN + 1];
	size_t list_count = 0, i;
	json_t *name;

	json_array_foreach(json_object_get(image, "big-data-names"), i, name)
	{
		const char *key = json_string_value(name);
		json_t *list = NULL;

		if (!key || strncmp(key, "manifest-", 9) != 0 ||
		    strlen(key + 9) != STORAGE_DIGEST_STRLEN)
			continue;
		switch (classify_manifest(image_fd, key + 9, id->image_id, &list)) {
		case MANIFEST_IMAGE:
			add_digest(id, key + 9);
			break;
		case MANIFEST_LIST:
			if (list_count < STORAGE_MANIFESTS_MAX) {
				strcpy(list_digests[list_count], key + 9);
				lists[list_count++] = list;
			} else {
				json_decref(list);
			}
			break;
		case MANIFEST_OTHER:
			break;
		}
	}
	/* A list is this image's when it names one of its manifests. */
	for (size_t l = 0; l < list_count; l++) {
		json_t *entry;

		json_array_foreach(lists[l], i, entry)
		{
			const char *d = json_string_value(json_object_get(entry, "digest"));

			if (d && has_digest(id, d)) {
				add_digest(id, list_digests[l]);
				break;
			}
		}
		json_decref(lists[l]);
	}
}

/* metadata."signatures-sizes" maps a manifest digest to the sizes of the
 * signatures concatenated in big-data item "signature-HEX". */
static int read_signatures(int image_fd, json_t *image, struct image_identity *id,
			   struct pw_error *err)
{
	const char *metadata_text = json_string_value(json_object_get(image, "metadata"));
	json_auto_t *metadata = NULL;
	json_t *sizes_by_digest, *sizes;
	const char *digest;

	if (!metadata_text)
		return 0;
	metadata = json_loads(metadata_text, 0, NULL);
	sizes_by_digest = json_object_get(metadata, "signatures-sizes");
	if (!sizes_by_digest)
		return 0;
	if (!json_is_object(sizes_by_digest))
		return pw_error_set(err, -EBADMSG, "image %s: malformed signatures-sizes",
				    id->image_id);
	json_object_foreach(sizes_by_digest, digest, sizes)
	{
		_cleanup_free_ char *blob = NULL;
		char key[16 + STORAGE_DIGEST_STRLEN];
		size_t len, offset = 0, i;
		json_t *size;
		int r;

		if (!json_is_array(sizes) || json_array_size(sizes) == 0)
			continue;
		if (strncmp(digest, "sha256:", 7) != 0 || strlen(digest) != STORAGE_DIGEST_STRLEN)
			return pw_error_set(err, -EBADMSG, "image %s: signatures under '%s'",
					    id->image_id, digest);
		snprintf(key, sizeof(key), "signature-%s", digest + 7);
		r = read_big_data(image_fd, key, &blob, &len);
		if (r < 0)
			return pw_error_set(err, r == -ENOENT ? -EBADMSG : r,
					    "image %s: signatures of %s: %s", id->image_id, digest,
					    strerror(-r));
		json_array_foreach(sizes, i, size)
		{
			json_int_t n = json_integer_value(size);
			struct storage_signature *sig;

			if (!json_is_integer(size) || n <= 0 || (size_t)n > len - offset)
				return pw_error_set(err, -EBADMSG,
						    "image %s: signature sizes of %s do not match "
						    "what is stored",
						    id->image_id, digest);
			if (id->signature_count == STORAGE_SIGNATURES_MAX)
				return pw_error_set(err, -EBADMSG,
						    "image %s: more than %d signatures",
						    id->image_id, STORAGE_SIGNATURES_MAX);
			sig = &id->signatures[id->signature_count];
			sig->data = malloc((size_t)n);
			if (!sig->data)
				return pw_error_set(err, -ENOMEM, "out of memory");
			memcpy(sig->data, blob + offset, (size_t)n);
			sig->len = (size_t)n;
			snprintf(sig->manifest_digest, sizeof(sig->manifest_digest), "%s", digest);
			id->signature_count++;
			offset += (size_t)n;
		}
		if (offset != len)
			return pw_error_set(err, -EBADMSG,
					    "image %s: signature sizes of %s do not match what is "
					    "stored",
					    id->image_id, digest);
	}
	return 0;
}

void image_identity_done(struct image_identity *id)
{
	for (size_t i = 0; i < id->signature_count; i++)
		free(id->signatures[i].data);
	free(id->signatures);
	*id = (struct image_identity){};
}

static int identity_read(const struct storage_location *loc, const char *container_id,
			 struct image_identity *id, struct pw_error *err)
{
	json_auto_t *containers = NULL, *images = NULL, *layers = NULL;
	json_t *container = NULL, *image = NULL, *layer = NULL;
	_cleanup_close_ int images_fd = -EBADF, image_fd = -EBADF;
	const char *parent;
	int r;

	if (!id_valid(container_id))
		return pw_error_set(err, -EINVAL, "'%s' is not a container id", container_id);
	snprintf(id->container_id, sizeof(id->container_id), "%s", container_id);

	r = find_in_store(loc, "containers", "containers.json", container_id, &containers,
			  &container, err);
	if (r < 0)
		return r;
	if (r == 0)
		return pw_error_set(err, -ENOENT,
				    "container %.12s is not in containers-storage at %s (no image "
				    "identity)",
				    container_id, loc->graph_root);
	copy_id(id->image_id, json_object_get(container, "image"));
	copy_id(id->container_layer, json_object_get(container, "layer"));
	if (!id->image_id[0])
		return pw_error_set(err, -ENOENT, "container %.12s has no image", container_id);

	r = find_in_store(loc, "images", "images.json", id->image_id, &images, &image, err);
	if (r < 0)
		return r;
	if (r == 0)
		return pw_error_set(err, -ENOENT, "image %.12s of container %.12s is not in %s",
				    id->image_id, container_id, loc->graph_root);
	/* The name the container was made from (podman records it in the
	 * container's metadata), else the image's first name: images with the
	 * same content share one record and collect every name. */
	{
		json_auto_t *metadata = json_loads(
		    json_string_value(json_object_get(container, "metadata")) ?: "", 0, NULL);
		const char *name = json_string_value(json_object_get(metadata, "image-name"));

		if (!name)
			name =
			    json_string_value(json_array_get(json_object_get(image, "names"), 0));
		snprintf(id->image_name, sizeof(id->image_name), "%s", name ?: "");
	}
	copy_id(id->top_layer, json_object_get(image, "layer"));

	/* The container's own layer must sit on the image's top layer: its
	 * records say it was made from this image, its layers say so too. */
	if (!id->container_layer[0])
		return pw_error_set(err, -EBADMSG, "container %.12s has no layer", container_id);
	r = find_in_store(loc, "layers", "layers.json", id->container_layer, &layers, &layer, err);
	if (r < 0)
		return r;
	if (r == 0)
		return pw_error_set(err, -EBADMSG, "layer %.12s of container %.12s is not in %s",
				    id->container_layer, container_id, loc->graph_root);
	parent = json_string_value(json_object_get(layer, "parent")) ?: "";
	if (!streq(parent, id->top_layer))
		return pw_error_set(
		    err, -EBADMSG,
		    "container %.12s: its layer's parent %.12s is not image %.12s's "
		    "top layer %.12s",
		    container_id, parent[0] ? parent : "(none)", id->image_id,
		    id->top_layer[0] ? id->top_layer : "(none)");

	images_fd = open_store(loc->graph_root, loc->driver, "images");
	if (images_fd < 0)
		return pw_error_set(err, images_fd, "%s: %s-images: %s", loc->graph_root,
				    loc->driver, strerror(-images_fd));
	image_fd = openat(images_fd, id->image_id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (image_fd < 0)
		return pw_error_set(err, -errno, "image %.12s: its directory: %m", id->image_id);
	read_manifests(image_fd, image, id);
	id->signatures = calloc(STORAGE_SIGNATURES_MAX, sizeof(*id->signatures));
	if (!id->signatures)
		return pw_error_set(err, -ENOMEM, "out of memory");
	return read_signatures(image_fd, image, id, err);
}

int storage_identity_read(const struct storage_location *loc, const char *container_id,
			  struct image_identity *ret, struct pw_error *err)
{
	struct image_identity id = {};
	int r;

	r = identity_read(loc, container_id, &id, err);
	if (r < 0) {
		image_identity_done(&id);
		return r;
	}
	*ret = id;
	return 0;
}

int storage_locate_bundle(const char *bundle, struct storage_location *ret_loc,
			  char ret_container_id[STORAGE_ID_LEN + 1], struct pw_error *err)
{
	_cleanup_free_ char *path = realpath(bundle, NULL);
	char *slash, *container_id, *store;
	size_t len;

	if (!path)
		return pw_error_set(err, -errno, "bundle %s: %m", bundle);
	/* ROOT/DRIVER-containers/ID/userdata */
	slash = strrchr(path, '/');
	if (!slash || !streq(slash + 1, "userdata"))
		goto not_storage;
	*slash = '\0';
	slash = strrchr(path, '/');
	if (!slash)
		goto not_storage;
	container_id = slash + 1;
	*slash = '\0';
	if (!id_valid(container_id))
		goto not_storage;
	slash = strrchr(path, '/');
	if (!slash)
		goto not_storage;
	store = slash + 1;
	len = strlen(store);
	if (len <= strlen("-containers") || len - strlen("-containers") > STORAGE_DRIVER_MAX ||
	    !streq(store + len - strlen("-containers"), "-containers"))
		goto not_storage;
	*ret_loc = (struct storage_location){};
	snprintf(ret_loc->driver, sizeof(ret_loc->driver), "%.*s",
		 (int)(len - strlen("-containers")), store);
	*slash = '\0';
	snprintf(ret_loc->graph_root, sizeof(ret_loc->graph_root), "%s", path[0] ? path : "/");
	snprintf(ret_container_id, STORAGE_ID_LEN + 1, "%s", container_id);
	return 0;

not_storage:
	return pw_error_set(err, -EINVAL,
			    "bundle %s is not a containers-storage container (no image identity)",
			    bundle);
}

int storage_rootfs_check(const struct storage_location *loc, const struct image_identity *id,
			 const char *rootfs, struct pw_error *err)
{
	_cleanup_free_ char *actual = NULL, *expected = NULL;
	char path[PATH_MAX];

	if (streq(loc->driver, "vfs"))
		snprintf(path, sizeof(path), "%s/vfs/dir/%s", loc->graph_root, id->container_layer);
	else if (streq(loc->driver, "overlay"))
		snprintf(path, sizeof(path), "%s/overlay/%s/merged", loc->graph_root,
			 id->container_layer);
	else
		return pw_error_set(err, -EOPNOTSUPP,
				    "storage driver '%s': cannot tell where it mounts a container",
				    loc->driver);
	actual = realpath(rootfs, NULL);
	if (!actual)
		return pw_error_set(err, -errno, "rootfs %s: %m", rootfs);
	expected = realpath(path, NULL);
	if (!expected || !streq(actual, expected))
		return pw_error_set(err, -EBADMSG, "rootfs %s is not container %.12s's layer (%s)",
				    rootfs, id->container_id, path);
	return 0;
}
