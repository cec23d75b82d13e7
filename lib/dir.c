/* Directory streams relative to a directory fd (see dir.h). */
#include <fcntl.h>

#include "dir.h"
#include "macro.h"

int dir_stream_at(int dir_fd, const char *name, int extra_flags, DIR **ret_dir)
{
	_cleanup_close_ int fd = -EBADF;
	DIR *d;

	fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | extra_flags);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d)
		return -errno;
	TAKE_FD(fd);
	*ret_dir = d;
	return 0;
}
