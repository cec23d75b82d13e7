/* What netd does when a group's host veth disappears while it runs
 * (link-monitor.c tells it):
 *   - the group's netns is gone (the kernel destroyed it, and the veth
 *     pairs with it: a runtime that never said DEL, `ctr task rm` without
 *     --rm, a crashed CNI caller): the group is released at once, as a
 *     detach would (address, DNS name, published ports, nft elements, rate
 *     limits, state file), with a group.detached event whose "reason" is
 *     "netns-gone";
 *   - the netns lives (someone deleted either end by hand): the pair is
 *     recreated with the same names, addresses and MAC, as the start-up
 *     reconcile does for a missing pair, and the group stays attached.
 * netd's own deletions (detach, an attach's undo) are of groups no longer
 * (or not yet) in the table, so they are ignored; a link found again when
 * netd looks (recreated since) is ignored too.
 *
 * Single-threaded: runs on netd's event loop. */
#pragma once

#include "error.h"
#include "netd.h"

/* Opens the monitor and watches it on netd->loop. Called before the
 * start-up reconcile, so that nothing that dies between reconcile and the
 * first loop iteration is missed (events about groups reconcile dropped
 * find no group and are ignored). */
int netd_link_watch_start(struct netd *netd, struct pw_error *err);
void netd_link_watch_stop(struct netd *netd);
/* Checks every attachment of every group (after lost events). */
void netd_link_watch_rescan(struct netd *netd);
