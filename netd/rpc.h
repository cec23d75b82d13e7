/* netd's RPC methods (docs/netd.md): the method table the RPC server
 * dispatches on and the handlers, which parse params strictly into typed
 * requests and call the operations in ops.c. */
#pragma once

#include <stddef.h>

#include "rpc-server.h"

/* The table; userdata of every handler is the struct netd. */
extern const struct rpc_method netd_rpc_methods[];
extern const size_t netd_rpc_method_count;
