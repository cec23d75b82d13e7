/* The control-socket methods of podwire-volumed (docs/volumes.md lists
 * their params and results). Params are parsed strictly into C values
 * here; the work is done by volumed.c and snapshot.c. */
#pragma once

#include <stddef.h>

#include "rpc-server.h"

extern const struct rpc_method volumed_methods[];
extern const size_t volumed_method_count;
