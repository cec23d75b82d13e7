/* Quota accounting for one share: limits and usage in bytes (the logical
 * size of regular files, what Azure Files and `du --apparent-size` count)
 * and files (every inode but the root). Pure bookkeeping, no file system
 * access: the file system charges growth before it makes it and credits
 * shrinkage after it.
 *
 * Locking: one mutex per struct quota; every function may be called from
 * any thread. A limit of 0 means no limit. Usage may exceed a limit (a
 * limit lowered below usage, a restore): then growth is refused and
 * shrinkage allowed. */
#pragma once

#include <pthread.h>
#include <stdint.h>
#include <sys/statvfs.h>

struct quota {
	pthread_mutex_t lock;
	uint64_t limit_bytes;
	uint64_t limit_files;
	uint64_t used_bytes;
	uint64_t used_files;
};

struct quota_usage {
	uint64_t limit_bytes;
	uint64_t limit_files;
	uint64_t used_bytes;
	uint64_t used_files;
};

void quota_init(struct quota *q, uint64_t limit_bytes, uint64_t limit_files);
void quota_done(struct quota *q);
void quota_set_limits(struct quota *q, uint64_t limit_bytes, uint64_t limit_files);
void quota_set_usage(struct quota *q, uint64_t used_bytes, uint64_t used_files);
void quota_get(struct quota *q, struct quota_usage *ret);

/* Applies a change of usage. Positive deltas are checked against the
 * limits first: if either would be passed, nothing is charged and -EDQUOT
 * returned. Negative deltas always succeed (usage does not go below 0). */
int quota_charge(struct quota *q, int64_t bytes, int64_t files);
/* Records a change of byte usage that already happened where volumed
 * could not refuse it (writes the kernel passed through to the backing
 * file): never refused, so usage may end up above the limit. */
void quota_account(struct quota *q, int64_t bytes);
/* Growth in bytes when a file of old_size becomes new_size (0 if not
 * larger): what a write at offset..offset+len or a truncate charges. */
int64_t quota_size_delta(uint64_t old_size, uint64_t new_size);

/* What statfs reports: with a byte limit the limit is the size and the
 * free space is what is left of it (never more than the backing file
 * system has free); the same for files. Without limits the backing
 * numbers pass through. */
void quota_statfs(const struct quota_usage *u, const struct statvfs *backing, struct statvfs *ret);
