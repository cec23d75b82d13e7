/* Directory streams relative to a held directory fd: the one way podwire
 * walks directories (state dirs, share trees), never by path string. */
#pragma once

#include <dirent.h>

/* Opens name ("." for dir_fd itself) below dir_fd as a directory stream;
 * extra_flags adds open flags such as O_NOFOLLOW. The stream owns its own
 * fd: close it with closedir(). Returns 0 or a negative errno. */
int dir_stream_at(int dir_fd, const char *name, int extra_flags, DIR **ret_dir);
