/* Kernel FUSE passthrough on libfuse 3.14 (see fs-passthrough.h).
 *
 * The hooks see every request and reply of the connection; they touch only
 * two: the INIT request is noted (its unique id, and which of the flags
 * libfuse does not know the kernel offers), and its reply gets
 * FUSE_PASSTHROUGH plus the stack depth the kernel needs,
 * FUSE_DIRECT_IO_ALLOW_MMAP and FUSE_HANDLE_KILLPRIV_V2; an open or create reply sent while this
 * thread is armed gets FOPEN_PASSTHROUGH and the backing id. libfuse builds both replies itself and
 * writes them with our writev hook before fuse_reply_*() returns, which is what makes a
 * thread-local arm safe.
 *
 * The kernel structures are declared here (Debian 12's linux/fuse.h
 * predates passthrough), checked against their sizes in the protocol. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fs-internal.h"
#include "fs-passthrough.h"
#include "log.h"
#include "macro.h"
#include "xalloc.h"

#define WIRE_OP_INIT  26
#define WIRE_INIT_EXT (1u << 30)
/* FUSE_HANDLE_KILLPRIV_V2: volumed clears set-user/group-ID bits on writes
 * and truncates itself (fs_kill_sxid), so the kernel marks inodes S_NOSEC
 * after a first check instead of asking for security.capability on every
 * write(2), one round trip each. */
#define WIRE_INIT_HANDLE_KILLPRIV_V2 (1u << 28)
#define WIRE_INIT_WRITEBACK_CACHE    (1u << 16)
/* FUSE_PASSTHROUGH is bit 37 of the 64-bit flags: bit 5 of flags2;
 * FUSE_DIRECT_IO_ALLOW_MMAP bit 36 (shared mmap of a file opened with
 * direct I/O, as volumed opens writers on a share with a byte quota). */
#define WIRE_INIT2_PASSTHROUGH		(1u << 5)
#define WIRE_INIT2_DIRECT_IO_ALLOW_MMAP (1u << 4)
#define WIRE_FOPEN_PASSTHROUGH		(1u << 7)
#define WIRE_FOPEN_KEEP_CACHE		(1u << 1)
#define WIRE_DEV_IOC_MAGIC		229

/* Super block magics of stacking file systems: a backing file on one of
 * them needs a FUSE stack depth of 2 (the kernel refuses a backing file
 * whose own depth is not below ours). */
#define OVERLAYFS_MAGIC 0x794c7630
#define FUSE_MAGIC	0x65735546
#define ECRYPTFS_MAGIC	0xf15f

struct wire_in_header {
	uint32_t len;
	uint32_t opcode;
	uint64_t unique;
	uint64_t nodeid;
	uint32_t uid, gid, pid;
	uint16_t total_extlen;
	uint16_t padding;
};
_Static_assert(sizeof(struct wire_in_header) == 40, "fuse_in_header");

struct wire_init_in {
	uint32_t major, minor, max_readahead, flags, flags2;
};

struct wire_out_header {
	uint32_t len;
	int32_t error;
	uint64_t unique;
};
_Static_assert(sizeof(struct wire_out_header) == 16, "fuse_out_header");

struct wire_init_out {
	uint32_t major, minor, max_readahead, flags;
	uint16_t max_background, congestion_threshold;
	uint32_t max_write, time_gran;
	uint16_t max_pages, map_alignment;
	uint32_t flags2;
	uint32_t max_stack_depth;
	uint32_t unused[6];
};
_Static_assert(sizeof(struct wire_init_out) == 64, "fuse_init_out");

struct wire_open_out {
	uint64_t fh;
	uint32_t open_flags;
	int32_t backing_id;
};
_Static_assert(sizeof(struct wire_open_out) == 16, "fuse_open_out");

struct wire_backing_map {
	int32_t fd;
	uint32_t flags;
	uint64_t padding;
};
#define WIRE_DEV_IOC_BACKING_OPEN  _IOW(WIRE_DEV_IOC_MAGIC, 1, struct wire_backing_map)
#define WIRE_DEV_IOC_BACKING_CLOSE _IOW(WIRE_DEV_IOC_MAGIC, 2, uint32_t)

static __thread int armed_backing_id;

void fs_passthrough_arm(int backing_id)
{
	armed_backing_id = backing_id;
}

void fs_passthrough_disarm(void)
{
	armed_backing_id = 0;
}

static ssize_t io_read(int fd, void *buf, size_t buf_len, void *userdata)
{
	struct share_fs *fs = userdata;
	ssize_t n = read(fd, buf, buf_len);
	const struct wire_in_header *in = buf;

	if (n >= (ssize_t)(sizeof(*in) + sizeof(struct wire_init_in)) &&
	    in->opcode == WIRE_OP_INIT) {
		const struct wire_init_in *init = (const void *)(in + 1);

		__atomic_store_n(&fs->kernel_flags, init->flags, __ATOMIC_RELAXED);
		__atomic_store_n(&fs->kernel_flags2,
				 (init->flags & WIRE_INIT_EXT) ? init->flags2 : 0,
				 __ATOMIC_RELAXED);
		__atomic_store_n(&fs->kernel_offers_passthrough,
				 (init->flags & WIRE_INIT_EXT) &&
				     (init->flags2 & WIRE_INIT2_PASSTHROUGH),
				 __ATOMIC_RELAXED);
		__atomic_store_n(&fs->init_unique, in->unique, __ATOMIC_RELEASE);
	}
	return n;
}

static void patch_init_reply(struct share_fs *fs, struct iovec *body)
{
	struct wire_init_out *out = body->iov_base;
	uint32_t offered = __atomic_load_n(&fs->kernel_flags2, __ATOMIC_RELAXED);

	if (body->iov_len < sizeof(*out))
		return;
	out->flags |=
	    __atomic_load_n(&fs->kernel_flags, __ATOMIC_RELAXED) & WIRE_INIT_HANDLE_KILLPRIV_V2;
	if (!offered)
		return;
	out->flags |= WIRE_INIT_EXT;
	out->flags2 |= offered & WIRE_INIT2_DIRECT_IO_ALLOW_MMAP;
	/* The kernel turns passthrough down for a connection with the
	 * writeback cache; fs_init does not ask for it when passthrough is
	 * offered. */
	if (offered & WIRE_INIT2_PASSTHROUGH) {
		out->flags2 |= WIRE_INIT2_PASSTHROUGH;
		out->max_stack_depth = (uint32_t)fs->stack_depth;
		__atomic_store_n(&fs->passthrough, true, __ATOMIC_RELEASE);
	}
}

static void patch_open_reply(struct iovec *body, int backing_id)
{
	struct wire_open_out *out;

	if (body->iov_len < sizeof(*out))
		return;
	/* fuse_open_out ends both replies (create puts the entry first). */
	out = (void *)((char *)body->iov_base + body->iov_len - sizeof(*out));
	/* FOPEN_DIRECT_IO stays: with passthrough it sends reads and writes
	 * to volumed and maps the backing file. */
	out->open_flags &= ~WIRE_FOPEN_KEEP_CACHE;
	out->open_flags |= WIRE_FOPEN_PASSTHROUGH;
	out->backing_id = backing_id;
}

static ssize_t io_writev(int fd, struct iovec *iov, int count, void *userdata)
{
	struct share_fs *fs = userdata;

	if (count >= 2 && iov[0].iov_len >= sizeof(struct wire_out_header)) {
		const struct wire_out_header *hdr = iov[0].iov_base;

		if (armed_backing_id > 0) {
			if (hdr->error == 0)
				patch_open_reply(&iov[count - 1], armed_backing_id);
			armed_backing_id = 0;
		} else if (hdr->error == 0 &&
			   hdr->unique == __atomic_load_n(&fs->init_unique, __ATOMIC_ACQUIRE)) {
			patch_init_reply(fs, &iov[1]);
		}
	}
	return writev(fd, iov, count);
}

static ssize_t io_splice_send(int fdin, off_t *offin, int fdout, off_t *offout, size_t len,
			      unsigned int flags, void *userdata)
{
	return splice(fdin, offin, fdout, offout, len, flags);
}

static int stack_depth_for(int backing_fd)
{
	struct statfs sfs;

	if (fstatfs(backing_fd, &sfs) < 0)
		return 2;
	switch ((unsigned long)sfs.f_type) {
	case OVERLAYFS_MAGIC:
	case FUSE_MAGIC:
	case ECRYPTFS_MAGIC:
		return 2;
	default:
		return 1;
	}
}

int fs_passthrough_mount(struct share_fs *fs, const char *mountpoint)
{
	static const struct fuse_custom_io io = {
	    .read = io_read,
	    .writev = io_writev,
	    .splice_send = io_splice_send,
	};
	_cleanup_close_ int fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	_cleanup_free_ char *source = NULL, *opts = NULL;
	int r;

	if (fd < 0)
		return log_error_errno(-errno, "share %s: opening /dev/fuse", fs->name);
	fs->stack_depth = stack_depth_for(fs->root_fd);
	source = xasprintf("podwire:%s", fs->name);
	/* What fuse_session_mount() would pass for our options; the root
	 * is a directory owned by root (volumed's uid). */
	opts = xasprintf("fd=%d,rootmode=40000,user_id=0,group_id=0,allow_other,"
			 "default_permissions",
			 fd);
	if (mount(source, mountpoint, "fuse.podwire", MS_NOSUID | MS_NODEV, opts) < 0)
		return log_error_errno(-errno, "share %s: mounting at %s", fs->name, mountpoint);
	r = fuse_session_custom_io(fs->session, &io, fd);
	if (r < 0) {
		umount2(mountpoint, MNT_DETACH);
		return log_error_errno(r, "share %s: handing /dev/fuse to libfuse", fs->name);
	}
	fs->dev_fd = TAKE_FD(fd); /* the session owns it now */
	return 0;
}

int fs_backing_open(struct share_fs *fs, int fd)
{
	struct wire_backing_map map = {.fd = fd};
	int id;

	if (!__atomic_load_n(&fs->passthrough, __ATOMIC_ACQUIRE))
		return -EPERM;
	id = ioctl(fs->dev_fd, WIRE_DEV_IOC_BACKING_OPEN, &map);
	if (id < 0) {
		int r = -errno;
		/* The kernel did not take passthrough for this connection
		 * after all: stop asking. */
		if (r == -EPERM || r == -ENOTTY || r == -EINVAL)
			__atomic_store_n(&fs->passthrough, false, __ATOMIC_RELEASE);
		log_errno(LOG_LEVEL_DEBUG, r, "share %s: registering a backing file", fs->name);
		return r;
	}
	return id;
}

void fs_backing_close(struct share_fs *fs, int backing_id)
{
	uint32_t id = (uint32_t)backing_id;

	if (ioctl(fs->dev_fd, WIRE_DEV_IOC_BACKING_CLOSE, &id) < 0)
		log_errno(LOG_LEVEL_DEBUG, -errno, "share %s: releasing backing id %d", fs->name,
			  backing_id);
}
