/* netd's data plane beyond links: what issue 6 adds on top of the veth
 * pairs, glued to the operations (ops.c), start-up (reconcile.c), the RPC
 * methods (rpc.c) and the event loop (main.c):
 *   - a group's nftables elements (anti-spoofing, counters, published
 *     ports), its bridge ports' hairpin mode and its rate limits;
 *   - the whole-table sync (start-up and self-healing after someone
 *     flushed or deleted our tables: the nft monitor);
 *   - VNet peering;
 *   - statistics: nft counters per group and VNet, operation latencies.
 *
 * Single-threaded like the rest of netd. */
#pragma once

#include <jansson.h>
#include <stdint.h>

#include "error.h"
#include "netd.h"

/* Latency samples kept per operation kind: the last 4096 give p99 from at
 * least 40 samples past the 99th percentile, in 16 KiB. */
#define LATENCY_SAMPLES 4096

struct latency_ring {
	uint32_t us[LATENCY_SAMPLES];
	size_t count; /* valid samples, at most LATENCY_SAMPLES */
	size_t next;
	uint64_t total; /* operations recorded since start */
};

void latency_record(struct latency_ring *ring, uint64_t us);
/* {"count":N,"p50_us":N,"p99_us":N} */
json_t *latency_json(const struct latency_ring *ring);

/* Whether two port lists are the same mappings in the same order (field by
 * field: the structs may differ in padding). */
bool ports_same(const struct nft_port_spec *a, size_t a_count, const struct nft_port_spec *b,
		size_t b_count);

/* A host port of req already published by another group: -EEXIST naming
 * that group and the port. */
int netd_ports_check(const struct netd *netd, const char *id, const struct nft_port_spec *ports,
		     size_t port_count, struct pw_error *err);

/* After the veth pairs exist: hairpin (if the group publishes ports), rate
 * limits, nft elements. Undoes its own work on failure. */
int netd_group_dataplane_add(struct netd *netd, const struct pw_group *group, struct pw_error *err);
/* The reverse (gone is success; problems are logged). */
void netd_group_dataplane_remove(struct netd *netd, const struct pw_group *group);
/* Hairpin and rate limits again (reconcile, after recreating links). */
void netd_group_links_repair(struct netd *netd, const struct pw_group *group);

/* Rewrites both nft tables from netd's VNets and groups (one batch). */
int netd_nft_sync(struct netd *netd, struct pw_error *err);

/* Starts watching the nft tables (after reconcile) on netd->loop. */
int netd_monitor_start(struct netd *netd, struct pw_error *err);
void netd_monitor_stop(struct netd *netd);

/* vnet.peer / vnet.unpeer: both sides' state files, the `allowed` set,
 * events vnet.peered / vnet.unpeered. Idempotent. */
int netd_vnet_peer(struct netd *netd, const char *a, const char *b, struct pw_error *err);
int netd_vnet_unpeer(struct netd *netd, const char *a, const char *b, struct pw_error *err);
/* Unpeers a VNet from every peer (before it is deleted). */
void netd_vnet_unpeer_all(struct netd *netd, struct vnet *vnet);

/* The stats method's result (docs/netd.md). */
int netd_stats(struct netd *netd, json_t **ret, struct pw_error *err);
