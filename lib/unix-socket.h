/* Unix socket paths a server binds. */
#pragma once

#include "error.h"

/* Makes path (shorter than sun_path) free for bind(2): nothing there is fine; a socket no server
 * answers on (left by a crash) is removed; a socket a server answers on is
 * -EADDRINUSE, and anything else at the path -EEXIST (never removed). */
int unix_socket_claim(const char *path, struct pw_error *err);
