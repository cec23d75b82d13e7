/* Snapshots of a share: read-only point-in-time copies of its backing
 * tree, kept under STATE/snapshots/NAME/ (see volumed.h), browsable in
 * the share at .snapshots/SNAP/, restorable whole or one path at a time.
 * Files are reflinked (FICLONE) where the backing file system supports it
 * and copied (holes kept) otherwise. Runs in the main thread; the share's
 * file system is frozen (fs.h: share_fs_freeze) while a snapshot is taken
 * or restored, so both see and make one consistent tree. */
#pragma once

#include <jansson.h>

#include "volumed.h"

/* Snapshots kept per share: each can be a full copy of the share. */
#define SNAPSHOTS_MAX 256

/* snap NULL: named after the current UTC time (20261128-074001). Taking a
 * snapshot whose name exists returns the existing one (idempotent). */
int snapshot_create(struct volumed *v, struct share *s, const char *snap, json_t **ret,
		    struct pw_error *err);
int snapshot_list(struct volumed *v, struct share *s, json_t **ret, struct pw_error *err);
int snapshot_count(struct volumed *v, struct share *s);
/* A missing snapshot is success. */
int snapshot_delete(struct volumed *v, struct share *s, const char *snap, struct pw_error *err);
/* Makes the share (path NULL) or one path in it ("dir/file") what it was
 * in the snapshot: changed files get the old content in place, files the
 * snapshot does not have are removed, missing ones come back. */
int snapshot_restore(struct volumed *v, struct share *s, const char *snap, const char *path,
		     json_t **ret, struct pw_error *err);
