/* Bind mounts into a container's mount namespace, made from the host at
 * createRuntime (before the runtime's pivot_root), as GPU container hooks
 * do. Nothing on the host changes: the image's own files are covered, not
 * written (a missing mount point is created, as runtimes do for the mounts
 * in config.json).
 *
 * How: each source is cloned as a detached mount in our (host) mount
 * namespace with open_tree(OPEN_TREE_CLONE) and made read-only there with
 * mount_setattr where asked (so read-only is a property of the mount the
 * kernel enforces); the hook then enters /proc/PID/ns/mnt itself (and
 * returns to its own namespace, root and cwd afterwards), resolves each
 * destination inside the rootfs with openat2(RESOLVE_IN_ROOT) so a symlink
 * in the image cannot point it outside, and attaches the clone there with
 * move_mount. All requests are mounted or none is. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

struct bind_request {
	const char *source; /* host path: a file or a directory */
	const char *dest;   /* absolute path inside the container */
	bool read_only;
	bool file; /* mount point is a file (created empty if missing) */
};

int mntns_bind_all(int pid, const char *rootfs, const struct bind_request *reqs, size_t count,
		   struct pw_error *err);
