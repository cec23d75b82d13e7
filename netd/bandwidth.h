/* Per-group rate limits with tc, through libnl-route-3 — what the CNI
 * `bandwidth` plugin does, in-process:
 *   - what the group receives (egress of its host veth): a tbf qdisc at
 *     the root of the host veth;
 *   - what the group sends (ingress of its host veth): an ingress qdisc on
 *     the host veth whose match-all u32 filter redirects every packet
 *     (mirred) to an ifb device, with a tbf qdisc at the ifb's root. The ifb
 *     is named after the host veth ("pwv..." -> "pwb..."), so reconcile can
 *     find and remove one whose veth is gone.
 * Nothing here enters the group's netns: a group cannot lift its limits. */
#pragma once

#include <net/if.h>
#include <stdint.h>

#include <netlink/socket.h>

#include "error.h"

/* The largest rate tbf takes: libnl and the kernel's tc_ratespec carry
 * bytes per second in 32 bits (tc's 64-bit rates are not in libnl). */
#define BANDWIDTH_RATE_MAX_BPS ((uint64_t)UINT32_MAX * 8)
/* Below this tbf's token bucket cannot hold a full-size packet per tick. */
#define BANDWIDTH_RATE_MIN_BPS 8000

struct bandwidth_spec {
	uint64_t ingress_bps; /* what the group receives, bits/s; 0 = unlimited */
	uint64_t egress_bps;  /* what the group sends, bits/s; 0 = unlimited */
};

/* Parses a tc-style rate: a number with an optional unit: bit, kbit, mbit,
 * gbit (powers of 1000), bps, kbps, mbps, gbps (bytes/s), or none (bits/s).
 * "100mbit" -> 100000000. -EINVAL for anything else or out of range. */
int bandwidth_parse_rate(const char *text, uint64_t *ret_bps);

/* The ifb device for a host veth name. */
void bandwidth_ifb_name(const char *host_ifname, char ret_name[static IFNAMSIZ]);

/* Sets the limits on host_ifname (in sock's netns), replacing any there;
 * a zero rate removes that direction's limit. Idempotent. */
int bandwidth_apply(struct nl_sock *sock, const char *host_ifname,
		    const struct bandwidth_spec *spec, struct pw_error *err);
/* Removes both limits and the ifb (gone is success). */
int bandwidth_remove(struct nl_sock *sock, const char *host_ifname, struct pw_error *err);
