/* Mount point handling (see mount.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "log.h"
#include "macro.h"
#include "mount.h"
#include "state-file.h"

/* Stacked mounts on one point: more than this means something else keeps
 * mounting there; give up rather than loop. */
#define MOUNT_STACK_MAX 64

int mount_clear(const char *path)
{
	int count = 0;

	while (count < MOUNT_STACK_MAX) {
		if (umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW) < 0) {
			if (errno == EINVAL || errno == ENOENT)
				break; /* not a mount point (any more) */
			return log_warn_errno(-errno, "unmounting %s failed", path);
		}
		count++;
	}
	if (count)
		log_info("cleared stale mount path=%s count=%d", path, count);
	return count;
}

int mount_prepare(const char *path)
{
	struct stat st;
	int r;

	r = mount_clear(path);
	if (r < 0)
		return r;
	r = mkdir_p(path, 0755);
	if (r < 0)
		return r;
	if (stat(path, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	return 0;
}

void mount_sweep(const char *root, bool (*keep)(const char *name, void *userdata), void *userdata)
{
	_cleanup_closedir_ DIR *d = opendir(root);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		_cleanup_free_ char *path = NULL;

		if (de->d_name[0] == '.' || keep(de->d_name, userdata))
			continue;
		if (asprintf(&path, "%s/%s", root, de->d_name) < 0)
			continue;
		mount_clear(path);
		if (rmdir(path) == 0)
			log_info("removed mount point of unknown share path=%s", path);
	}
}
