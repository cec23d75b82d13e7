/* A VNet's bridge in the host netns: "pw-" + VNet name, up, with the
 * VNet's MTU (set explicitly, so the kernel does not recompute it from
 * the ports), no multicast snooping, and one gateway address per subnet. */
#pragma once

#include <netlink/socket.h>

#include "error.h"
#include "vnet.h"

/* Makes the bridge exist as the VNet says: creates it if missing, fixes
 * MTU and up state, adds missing gateway addresses. Idempotent; a
 * non-bridge link with the name is an error. */
int bridge_ensure(struct nl_sock *sock, const struct vnet *vnet, struct pw_error *err);
/* Deletes the bridge (its ports are released, not deleted); a missing
 * bridge is success. */
int bridge_remove(struct nl_sock *sock, const char *name);
/* ifindex of the bridge; -ENODEV if missing, -EINVAL if not a bridge. */
int bridge_ifindex(struct nl_sock *sock, const char *name, int *ret_ifindex);
/* The same, for the attach path: by name (SIOCGIFINDEX) and sysfs when
 * they can tell, else as bridge_ifindex. No RTM_GETLINK: the kernel would
 * first run the bridge's pending link events, whose IPv6 route walk grows
 * with the groups. */
int bridge_ifindex_fast(struct nl_sock *sock, const char *name, int *ret_ifindex);
