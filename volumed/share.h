/* The share model: what an admin defines for one share (name, backing
 * directory, quota, the owner and modes its files show) as a typed struct,
 * parsed from and written to JSON at the edge. Pure: no file system or
 * daemon state here, so unit tests call it directly.
 *
 * Invariants of a parsed struct share_config: name passed
 * name_validate_share(); backing is NULL or an absolute, normalised path
 * without "." or ".." components; uid/gid are -1 or a valid id; modes are
 * -1 or within 07777; trust satisfies trust.h's invariant. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "share-trust.h"

/* Snapshot names are directory names under .snapshots/; the same alphabet
 * and limit as share names keeps them safe in paths and log lines. */
#define SNAPSHOT_NAME_MAX 63
/* A path given to share.restore: far more than any sane tree depth, small
 * enough to keep error messages and the walk bounded. */
#define SHARE_PATH_MAX 4096
/* The name of the read-only snapshot directory at the root of each share. */
#define SHARE_SNAPSHOT_DIR ".snapshots"

struct share_config {
	char *name;
	char *backing;	      /* absolute path; NULL = default under the state dir */
	uint64_t quota_bytes; /* 0 = no limit */
	uint64_t quota_files; /* 0 = no limit */
	int64_t uid;	      /* -1: files show their real owner */
	int64_t gid;
	int file_mode; /* -1: files show their real mode */
	int dir_mode;
	struct share_trust trust; /* off unless set (state from before it = off) */
};

void share_config_init(struct share_config *c);
void share_config_done(struct share_config *c);

/* Parses share.create params (or a state file): strict object with
 * "name" required and "backing", "quota_bytes", "quota_files", "uid",
 * "gid", "file_mode", "dir_mode", "trust", "trust_keys" optional. Modes
 * are octal strings ("0644") or integers; trust follows
 * share_trust_apply(). On failure nothing is allocated in ret. */
int share_config_from_json(json_t *obj, struct share_config *ret, struct pw_error *err);
/* The inverse: only the fields that are set (no "trust" when off). */
json_t *share_config_to_json(const struct share_config *c);
bool share_config_equal(const struct share_config *a, const struct share_config *b);

/* "0644" / "644" / "0o644" octal text to a mode in 0..07777. */
int share_mode_parse(const char *s, int *ret_mode);
/* Writes "0644"-style text; buf needs 6 bytes. */
const char *share_mode_format(int mode, char buf[static 8]);

int snapshot_name_validate(const char *name, struct pw_error *err);
/* A path inside a share ("dir/file"): relative, components not empty, "."
 * or "..", no NUL, at most SHARE_PATH_MAX. Repeated or trailing '/' are
 * refused too, so one path has one spelling. */
int share_path_validate(const char *path, struct pw_error *err);
/* An absolute directory path given as a backing dir: starts with '/', no
 * "." or ".." components, no empty components except a trailing '/'. */
int share_backing_validate(const char *path, struct pw_error *err);
