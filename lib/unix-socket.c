/* Unix socket paths a server binds (see unix-socket.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "macro.h"
#include "unix-socket.h"

int unix_socket_claim(const char *path, struct pw_error *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	_cleanup_close_ int fd = -EBADF;
	struct stat st;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0
				       : pw_error_set(err, -errno, "%s: %s", path, strerror(errno));
	if (!S_ISSOCK(st.st_mode))
		return pw_error_set(err, -EEXIST, "%s exists and is not a socket", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return pw_error_set(err, -errno, "socket: %s", strerror(errno));
	if (connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) == 0)
		return pw_error_set(err, -EADDRINUSE, "%s: another server is already serving it",
				    path);
	if (unlink(path) < 0 && errno != ENOENT)
		return pw_error_set(err, -errno, "remove stale socket %s: %s", path,
				    strerror(errno));
	return 0;
}
