/* Kernel FUSE passthrough (Linux 6.9+) for a share's connection: the
 * kernel reads, writes and maps a file opened in passthrough mode straight
 * from its backing file, without a round trip to volumed.
 *
 * libfuse 3.14 (Debian 12) has no API for it, so volumed mounts the share
 * itself and gives libfuse its /dev/fuse fd with custom I/O hooks
 * (fuse_session_custom_io): the INIT reply gets FUSE_PASSTHROUGH and a
 * stack depth added, and an open or create reply gets FOPEN_PASSTHROUGH and
 * a backing id. Everything else passes through the hooks unchanged. */
#pragma once

#include <stdbool.h>

struct share_fs;

/* Mounts fs at mountpoint (allow_other, default_permissions, nosuid,
 * nodev) on a /dev/fuse fd handed to fs->session with the hooks. */
int fs_passthrough_mount(struct share_fs *fs, const char *mountpoint);

/* Registers fd (a backing file opened read-write, or read-only for a
 * read-only inode) with the connection: returns a backing id > 0, or
 * -EPERM when the kernel did not accept passthrough for this connection. */
int fs_backing_open(struct share_fs *fs, int fd);
void fs_backing_close(struct share_fs *fs, int backing_id);

/* The next open or create reply this thread sends (fuse_reply_open or
 * fuse_reply_create, which write it before returning) opens the file in
 * passthrough mode on backing_id. Disarmed by that reply, or by
 * fs_passthrough_disarm() when no reply was sent. */
void fs_passthrough_arm(int backing_id);
void fs_passthrough_disarm(void);
