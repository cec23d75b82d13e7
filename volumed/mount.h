/* Mount points under RUN/shares: creating them and clearing stale FUSE
 * mounts a killed volumed left behind (their connection is gone, every
 * access gives ENOTCONN). Only volumed mounts there, and it runs once per
 * run dir (the control socket guarantees that), so whatever is mounted
 * there when it starts is stale. */
#pragma once

/* Lazily unmounts everything mounted at path (stacked mounts too). Returns
 * the number of mounts removed. */
int mount_clear(const char *path);
/* mkdir -p of path, clearing stale mounts on it first. */
int mount_prepare(const char *path);
/* Unmounts and removes every directory under root whose name is not a
 * known share (keep(name) false). */
void mount_sweep(const char *root, bool (*keep)(const char *name, void *userdata), void *userdata);
