/* Start-up reconciliation: make the kernel match the state files before
 * netd serves (DESIGN.md "Restart"). */
#pragma once

#include "error.h"
#include "netd.h"

/* Loads VNets and groups from the store into netd and then:
 *  - rolls back groups still "attaching" (a crash mid-attach: links gone,
 *    addresses free, file removed; the caller never got an OK);
 *  - releases groups whose netns is gone (path missing, or now another
 *    namespace than the one attached);
 *  - recreates missing bridges and gateway addresses, re-enslaves and
 *    recreates missing veth pairs of live groups;
 *  - completes one-sided peerings and drops peers that are gone;
 *  - puts hairpin mode and rate limits back on live groups' ports;
 *  - deletes pw-* bridges, pwv* veths and pwb* ifbs the state does not
 *    know;
 *  - rewrites tables inet and bridge podwire with every VNet and group
 *    (netd_nft_sync);
 *  - turns on forwarding.
 * Problems with single objects are logged and skipped; only a failure that
 * leaves netd unable to work (the nft table) is returned. */
int reconcile_run(struct netd *netd, struct pw_error *err);
