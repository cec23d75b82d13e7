/* An image's identity as containers-storage (podman, buildah, skopeo,
 * CRI-O's storage) records it, read straight from its files: calling
 * podman from an OCI hook deadlocks on the storage lock podman holds while
 * it runs the hook. The chain:
 *   bundle ROOT/DRIVER-containers/ID/userdata  -> container ID
 *   ROOT/DRIVER-containers/containers.json     -> image id, container layer
 *   ROOT/DRIVER-images/images.json             -> names, top layer, the
 *                                                 manifests and signatures
 *                                                 (big-data items)
 *   ROOT/DRIVER-layers/layers.json             -> the container layer's
 *                                                 parent (RUN/DRIVER-*
 *                                                 volatile-*.json too)
 * A big-data item KEY lives in ROOT/DRIVER-images/IMAGE/NAME, where NAME is
 * KEY when KEY has only [0-9a-z.] and "=" BASE64(KEY) otherwise.
 *
 * Trust in what is read: a manifest digest enters the identity only if
 * the stored manifest hashes to it and names the image's config (whose
 * digest is the image id), or is a manifest list naming such a manifest.
 * Signatures are returned as stored; verify.c decides which, if any, to
 * believe. Nothing here takes the storage lock: the files are replaced by
 * rename, so a read sees one whole version. */
#pragma once

#include <limits.h>
#include <stddef.h>

#include "error.h"

/* Image, container and layer ids are 64 hex digits. */
#define STORAGE_ID_LEN 64
/* graph drivers' names: overlay, vfs, btrfs, zfs, ... */
#define STORAGE_DRIVER_MAX 32
/* Manifests per image: one per pull (a list and its instance each count);
 * 16 is far above what real images gather. */
#define STORAGE_MANIFESTS_MAX 16
/* Signatures kept per image: a few per key and manifest in practice. */
#define STORAGE_SIGNATURES_MAX 64
/* containers.json and images.json grow with the number of containers and
 * images; 64 MiB is thousands of either. */
#define STORAGE_INDEX_MAX (64 * 1024 * 1024)
/* A manifest, or one image's signatures: registries cap manifests at 4 MiB. */
#define STORAGE_BLOB_MAX (4 * 1024 * 1024)
/* A digest string: "sha256:" and 64 hex digits. */
#define STORAGE_DIGEST_STRLEN 71
/* For messages: the image's first name. */
#define STORAGE_NAME_MAX 512

struct storage_location {
	char graph_root[PATH_MAX];
	char run_root[PATH_MAX]; /* "" = do not look for volatile records */
	char driver[STORAGE_DRIVER_MAX + 1];
};

struct storage_signature {
	char manifest_digest[STORAGE_DIGEST_STRLEN + 1]; /* what it is stored under */
	unsigned char *data;
	size_t len;
};

struct image_identity {
	char container_id[STORAGE_ID_LEN + 1];
	char image_id[STORAGE_ID_LEN + 1];
	char image_name[STORAGE_NAME_MAX + 1]; /* "" when the image has no name */
	char top_layer[STORAGE_ID_LEN + 1];    /* "" for an image without layers */
	char container_layer[STORAGE_ID_LEN + 1];
	char manifest_digests[STORAGE_MANIFESTS_MAX][STORAGE_DIGEST_STRLEN + 1];
	size_t manifest_count;
	struct storage_signature *signatures;
	size_t signature_count;
};

/* Splits a podman bundle path (ROOT/DRIVER-containers/ID/userdata) into
 * its storage root, driver and container id. The run root is left "".
 * -EINVAL when the path does not have that shape. */
int storage_locate_bundle(const char *bundle, struct storage_location *ret_loc,
			  char ret_container_id[STORAGE_ID_LEN + 1], struct pw_error *err);
/* The identity of container_id's image. -ENOENT when the container or its
 * image is not there (a hand-made rootfs has no identity); -EBADMSG when a
 * file is malformed or inconsistent (a container layer that does not sit
 * on the image's top layer, signature sizes that do not add up). */
int storage_identity_read(const struct storage_location *loc, const char *container_id,
			  struct image_identity *ret, struct pw_error *err);
/* Checks that rootfs is where the driver mounts the container's layer
 * (vfs: ROOT/vfs/dir/LAYER, overlay: ROOT/overlay/LAYER/merged), so a
 * bundle cannot borrow a signed image's records for another tree. */
int storage_rootfs_check(const struct storage_location *loc, const struct image_identity *id,
			 const char *rootfs, struct pw_error *err);
void image_identity_done(struct image_identity *id);
/* The file name of big-data item key (exposed for tests). */
int storage_big_data_name(const char *key, char *buf, size_t size);
