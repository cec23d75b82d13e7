/* Whole-tree operations on backing directories, all relative to held
 * directory fds with O_NOFOLLOW: copying (for snapshots and restores) and
 * removing (for snapshot deletion and purge). A symlink is copied or
 * removed as a link, never followed. */
#pragma once

#include <stdbool.h>
#include <sys/stat.h>

struct tree_copy_stats {
	unsigned long files;
	unsigned long reflinked; /* files cloned with FICLONE */
	unsigned long long bytes;
};

/* Copies the object src_dir/src_name to dst_dir/dst_name (which must not
 * exist): regular files are reflinked where the file system can (FICLONE)
 * and copied otherwise, keeping holes; directories recursively;
 * symlinks, FIFOs and sockets recreated. Owner, mode, times and extended
 * attributes are kept. skip_name, if set, is left out at the top level of
 * a directory copy (".snapshots"). */
int tree_copy(int src_dir, const char *src_name, int dst_dir, const char *dst_name,
	      const char *skip_name, struct tree_copy_stats *stats);
/* Replaces the content of the regular file dst_fd (opened O_RDWR) with
 * that of src_fd, reflinking if possible. */
int tree_copy_file_data(int src_fd, int dst_fd, struct tree_copy_stats *stats);
/* Copies owner, mode, times and xattrs of src (an O_PATH or real fd) to dst. */
int tree_copy_attrs(int src_fd, int dst_fd, const struct stat *src_st);
/* Removes dir/name recursively; a missing name is success. */
int tree_remove(int dir, const char *name);
