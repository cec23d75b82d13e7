/* The daemon's state: the set of shares, where their state lives, and the
 * operations the RPC methods call (create, delete, quota, users).
 *
 * Threads: everything here runs in the main thread (the event loop that
 * serves the control socket); the share list and struct share are never
 * touched by the FUSE threads, which only see their struct share_fs (with
 * its own locks, see fs.h). So nothing here needs a lock.
 *
 * Layout on disk (one file per object, written atomically):
 *   STATE/config/NAME.json             share settings (durable)
 *   STATE/shares/NAME/                 default backing directory
 *   STATE/snapshots/NAME/data/SNAP/    snapshot trees (.snapshots in the share)
 *   STATE/snapshots/NAME/meta/SNAP.json
 *   STATE/snapshots/NAME/tmp/          snapshots being made
 *   RUN/shares/NAME                    the FUSE mount point
 *   RUN/volumed/users/NAME/GROUP.json  groups using a share (gone at reboot) */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "error.h"
#include "fs.h"
#include "share.h"

/* Shares served at once: each is a mount with its own worker threads. */
#define VOLUMED_SHARES_MAX 256
/* Groups recorded as using one share. */
#define SHARE_USERS_MAX 4096

struct share_user {
	char *group;
	bool read_only;
};

struct share {
	struct share_config config;
	char *backing_path; /* config.backing or the default */
	char *mountpoint;
	struct share_fs *fs; /* NULL if it could not be mounted */
	struct share_user *users;
	size_t user_count;
	struct share *next;
};

struct volumed {
	char *run_dir;
	char *state_dir;
	int config_fd;	  /* STATE/config */
	int data_fd;	  /* STATE/shares */
	int snapshots_fd; /* STATE/snapshots */
	int users_fd;	  /* RUN/volumed/users */
	char *mount_root; /* RUN/shares */
	struct share *shares;
	size_t share_count;
};

int volumed_init(struct volumed *v, const char *run_dir, const char *state_dir,
		 struct pw_error *err);
/* Loads every share, clears stale mounts, mounts each share again. A share
 * that fails to mount is logged and kept (shown unmounted). */
int volumed_start(struct volumed *v);
void volumed_done(struct volumed *v);

struct share *volumed_find(struct volumed *v, const char *name);
/* cfg is taken over on success and on failure. Creating a share that
 * exists with the same settings returns it (idempotent). */
int volumed_share_create(struct volumed *v, struct share_config *cfg, struct share **ret_share,
			 struct pw_error *err);
/* An unknown share is success (idempotent), purge still removes data. */
int volumed_share_delete(struct volumed *v, const char *name, bool force, bool purge,
			 struct pw_error *err);
int volumed_share_set_quota(struct volumed *v, struct share *s, uint64_t bytes, uint64_t files,
			    struct pw_error *err);
/* Takes over p (on success and on failure). */
int volumed_share_set_trust(struct volumed *v, struct share *s, struct share_trust *p,
			    struct pw_error *err);
/* verdict: what podwire-hook found out about the group's image, NULL if
 * the caller passed none; checked against the share's trust policy before
 * anything is recorded. */
int volumed_share_use(struct volumed *v, struct share *s, const char *group, bool read_only,
		      const struct share_verdict *verdict, struct pw_error *err);
int volumed_share_release(struct volumed *v, struct share *s, const char *group,
			  struct pw_error *err);
json_t *volumed_share_json(struct volumed *v, struct share *s);

/* O_PATH fd of the share's backing directory (creating the default one). */
int volumed_share_open_backing(struct volumed *v, struct share *s, int *ret_fd,
			       struct pw_error *err);
/* Opens STATE/snapshots/NAME/<sub> (creating it). */
int volumed_snapshot_dir(struct volumed *v, const char *share, const char *sub, int *ret_fd);
