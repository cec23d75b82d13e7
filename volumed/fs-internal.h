/* Declarations shared by the fs-*.c files of one share's FUSE file system
 * (see fs.h for the model and the locking). Not used outside volumed/fs*. */
#pragma once

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>

#include "fs.h"

static inline struct share_fs *fs_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

struct fs_inode *fs_inode_of(struct share_fs *fs, fuse_ino_t ino);
static inline fuse_ino_t fs_nodeid(struct share_fs *fs, struct fs_inode *inode)
{
	return inode == fs->root ? FUSE_ROOT_ID : (fuse_ino_t)(uintptr_t)inode;
}

/* Names the kernel hands over must be single components; anything else is
 * refused before it reaches a system call. */
int fs_name_check(const char *name);
/* ".snapshots" at the root: shown by volumed, never changed by clients. */
bool fs_name_reserved(struct share_fs *fs, struct fs_inode *parent, const char *name);

/* Looks name up under parent; on success e describes the entry and holds
 * one new lookup reference. -ENOENT when absent. */
int fs_lookup_entry(struct share_fs *fs, struct fs_inode *parent, const char *name,
		    struct fuse_entry_param *e);
/* Puts the root (fd consumed) into the empty table; it is never freed
 * before the whole table. */
void fs_table_add_root(struct share_fs *fs, int fd, const struct stat *st);
void fs_inode_unref(struct share_fs *fs, struct fs_inode *inode, uint64_t count);
/* The inode for (dev, ino) if the kernel knows it, else NULL; no reference. */
struct fs_inode *fs_inode_find(struct share_fs *fs, dev_t dev, ino_t ino);

/* fstat of the inode with the share's owner/mode overrides applied. */
int fs_inode_stat(struct share_fs *fs, struct fs_inode *inode, struct stat *ret);
void fs_stat_override(struct share_fs *fs, struct fs_inode *inode, struct stat *st);
/* A real fd for the inode (open(2) flags), through /proc/self/fd. */
int fs_inode_reopen(struct share_fs *fs, struct fs_inode *inode, int flags);

/* Takes the shared mutation lock unless inode is read-only (-EROFS). */
int fs_mutation_begin(struct share_fs *fs, struct fs_inode *inode);
void fs_mutation_end(struct share_fs *fs);

static inline void fs_count_op(struct share_fs *fs)
{
	__atomic_add_fetch(&fs->stats.ops, 1, __ATOMIC_RELAXED);
}

/* Gives a file the caller's owner after volumed (root) created it: the
 * caller's uid, and its gid unless the parent directory is set-group-ID
 * (then the kernel already gave it the directory's group). */
int fs_chown_to_caller(fuse_req_t req, struct fs_inode *parent, int fd);

/* File handles (fi->fh): the backing fd in the low 32 bits, and how the
 * file was opened above them (fs-data.c). */
enum fs_io_mode {
	FS_IO_CACHED = 0,      /* through volumed, kernel page cache */
	FS_IO_PASSTHROUGH = 1, /* the kernel uses the backing file itself */
	FS_IO_DIRECT = 2,      /* through volumed, no page cache */
};
#define FS_FH_MODE_SHIFT 32
#define FS_FH_WRITABLE	 (1ULL << 40)

static inline int fs_fh_fd(const struct fuse_file_info *fi)
{
	return (int)(uint32_t)fi->fh;
}

/* After a write or truncate by a caller other than root: clears the
 * set-user-ID bit, and the set-group-ID bit of a group-executable file, as
 * the kernel does for a local file system (volumed asks the kernel to leave
 * this to it: FUSE_HANDLE_KILLPRIV_V2). Approximates "has no CAP_FSETID" by
 * "uid is not 0". Returns whether it changed the mode. */
bool fs_kill_sxid(fuse_req_t req, int fd);
static inline bool fs_mode_is_sxid(mode_t mode)
{
	return (mode & S_ISUID) || ((mode & S_ISGID) && (mode & S_IXGRP));
}

/* Operations, by file. */
void fs_op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name);
void fs_op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup);
void fs_op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets);
void fs_op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);

void fs_op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		   struct fuse_file_info *fi);
void fs_op_readlink(fuse_req_t req, fuse_ino_t ino);
void fs_op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev);
void fs_op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode);
void fs_op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name);
void fs_op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname);
void fs_op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name);
void fs_op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name);
void fs_op_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		  const char *newname, unsigned int flags);
void fs_op_statfs(fuse_req_t req, fuse_ino_t ino);
void fs_op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
		    size_t size, int flags);
void fs_op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size);
void fs_op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size);
void fs_op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name);

void fs_op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		  struct fuse_file_info *fi);
void fs_op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void fs_op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi);
void fs_op_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *in_buf, off_t off,
		     struct fuse_file_info *fi);
void fs_op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void fs_op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi);
void fs_op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length,
		     struct fuse_file_info *fi);
void fs_op_copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in,
			   struct fuse_file_info *fi_in, fuse_ino_t ino_out, off_t off_out,
			   struct fuse_file_info *fi_out, size_t len, int flags);
void fs_op_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence, struct fuse_file_info *fi);

void fs_op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void fs_op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		   struct fuse_file_info *fi);
void fs_op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi);
void fs_op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void fs_op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi);
