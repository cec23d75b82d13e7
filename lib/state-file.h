/* Durable state files: one JSON document per object, written atomically
 * (temp file in the same directory, fsync, rename, fsync of the directory)
 * so a crash at any moment leaves either the old or the new content, never
 * a torn file. Everything is relative to a held directory fd. */
#pragma once

#include <jansson.h>
#include <sys/types.h>

/* mkdir -p with the given mode for the directories it creates. */
int mkdir_p(const char *path, mode_t mode);
/* Opens (creating with mkdir_p) a directory, O_DIRECTORY|O_CLOEXEC. */
int state_dir_open(const char *path, int *ret_fd);

int state_write_json(int dir_fd, const char *name, json_t *value);
/* -ENOENT if missing, -EBADMSG if not valid JSON. */
int state_read_json(int dir_fd, const char *name, json_t **ret_value);
/* Removes name and fsyncs the directory; a missing file is success. */
int state_remove(int dir_fd, const char *name);
/* Calls cb for every regular file in dir_fd whose name ends with suffix
 * (temp files of interrupted writes, ".tmp-*", are removed on the way).
 * Stops at and returns the first negative value cb returns. */
int state_foreach(int dir_fd, const char *suffix, int (*cb)(int dir_fd, const char *name, void *userdata),
		  void *userdata);
