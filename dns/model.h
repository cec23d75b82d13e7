/* dnsd's model of what netd says exists (VNets, groups, zones, records),
 * kept in step with netd's event stream and turned into the lookup tables
 * (zone.h) incrementally: each change adds or removes exactly the RRs of
 * the object that changed.
 *
 * A view is one VNet as dnsd sees it: its domain scope, one reverse scope
 * per subnet, the zones linked to it, the domain and reverse scopes of the
 * VNets peered with it (netd's "peers"), its upstreams and (opaque here) its
 * listeners. Objects may arrive in any order: a group attached to a VNet
 * not known yet, or a record for a zone not created yet, waits in the model
 * and is installed when its VNet or zone appears.
 *
 * The hooks let the daemon core open and close listeners and pick
 * upstreams when views come, change and go. Single-threaded. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "name.h"
#include "prefix.h"
#include "resolve.h"
#include "strmap.h"
#include "wire.h"
#include "zone.h"

/* netd gives a VNet one IPv4 subnet and optionally one IPv6 one; a few
 * more leave room without making the struct large. */
#define VIEW_SUBNETS_MAX 8
/* glibc uses at most 3 name servers (MAXNS); one more for slack. */
#define VIEW_UPSTREAMS_MAX 4
/* Aliases per group, as netd caps them. */
#define GROUP_ALIASES_MAX 32
/* Peered VNets per VNet, as netd caps them (VNET_PEERS_MAX). */
#define VIEW_PEERS_MAX 32
/* A zone may be linked to at most this many VNets. */
#define ZONE_VNETS_MAX 256

/* Typed forms of netd's JSON objects (see notes/schema.md). */
struct vnet_info {
	char name[VNET_NAME_MAX + 1];
	char domain[DNS_NAME_MAX + 2];
	size_t subnet_count;
	struct ip_prefix subnets[VIEW_SUBNETS_MAX];
	size_t gateway_count;
	struct ip_addr gateways[VIEW_SUBNETS_MAX];
	size_t upstream_count; /* 0: the host's resolv.conf */
	struct ip_addr upstreams[VIEW_UPSTREAMS_MAX];
	/* Peered VNets: their names (domain and reverse scopes) resolve in
	 * this view too; not transitive. */
	size_t peer_count;
	char peers[VIEW_PEERS_MAX][VNET_NAME_MAX + 1];
};

struct attachment_info {
	char vnet[VNET_NAME_MAX + 1];
	size_t address_count;
	struct ip_addr addresses[VIEW_SUBNETS_MAX];
};

struct group_info {
	char id[GROUP_ID_MAX + 1];
	char hostname[DNS_LABEL_MAX + 1];
	size_t alias_count;
	char (*aliases)[DNS_LABEL_MAX + 1]; /* alias_count of them, malloc'd */
	size_t attachment_count;
	struct attachment_info *attachments;
};

struct record_info {
	char vnet[VNET_NAME_MAX + 1]; /* one of vnet and zone is set */
	char zone[DNS_NAME_MAX + 2];
	char name[DNS_NAME_MAX + 2];
	uint16_t type;
	char *value;
	uint32_t ttl;
};

struct zone_info {
	char name[DNS_NAME_MAX + 2];
	size_t vnet_count;
	char (*vnets)[VNET_NAME_MAX + 1];
};

void group_info_done(struct group_info *g);
void record_info_done(struct record_info *r);
void zone_info_done(struct zone_info *z);

struct admin_zone;

struct view {
	struct vnet_info info;
	struct dns_scope domain_scope;
	struct dns_scope reverse_scopes[VIEW_SUBNETS_MAX];
	/* domain, reverse scopes, then linked zones: what resolve.c searches */
	struct dns_scope **scope_list;
	size_t scope_list_cap;
	struct resolve_view resolve;
	void *core; /* the daemon core's per-view data (listeners, upstreams) */
	bool seen;
};

struct model;

struct model_hooks {
	/* A view appeared (its tables are filled). */
	void (*view_added)(struct model *m, struct view *v, void *userdata);
	/* A view's VNet changed (gateways, upstreams, domain...). old is the
	 * previous info. */
	void (*view_changed)(struct model *m, struct view *v, const struct vnet_info *old,
			     void *userdata);
	/* A view is about to be freed. */
	void (*view_removed)(struct model *m, struct view *v, void *userdata);
	void *userdata;
};

struct model {
	struct zone_table table;
	struct strmap views;   /* name -> struct view */
	struct strmap groups;  /* id -> struct group_entry */
	struct strmap zones;   /* name -> struct admin_zone */
	struct strmap records; /* key -> struct record_entry */
	struct strmap apexes;  /* apex key -> struct dns_scope chain (resolve.h) */
	struct model_hooks hooks;
	uint64_t generation; /* bumped on every change (stats, tests) */
};

void model_init(struct model *m, const struct model_hooks *hooks);
void model_done(struct model *m);

struct view *model_view(struct model *m, const char *name);

/* Upserts: install the object, replacing an earlier version with the same
 * identity. They take ownership of the info's allocations. */
void model_vnet_set(struct model *m, struct vnet_info *info);
void model_vnet_remove(struct model *m, const char *name);
void model_group_set(struct model *m, struct group_info *info);
void model_group_remove(struct model *m, const char *id);
void model_record_set(struct model *m, struct record_info *info);
void model_record_remove(struct model *m, const struct record_info *info);
void model_zone_set(struct model *m, struct zone_info *info);
void model_zone_remove(struct model *m, const char *name);

/* During a snapshot: if the model already has this very object, mark it
 * seen and return true (nothing to change); false if it is new or differs. */
bool model_vnet_unchanged(struct model *m, const struct vnet_info *info);
bool model_group_unchanged(struct model *m, const struct group_info *info);
bool model_record_unchanged(struct model *m, const struct record_info *info);
bool model_zone_unchanged(struct model *m, const struct zone_info *info);

/* A snapshot replaces everything: begin marks all objects unseen, the
 * snapshot's objects are set (marking them seen), end removes the rest. */
void model_snapshot_begin(struct model *m);
void model_snapshot_end(struct model *m);
