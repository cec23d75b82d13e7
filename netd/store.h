/* netd's durable state: one JSON file per object, written atomically
 * (lib/state-file.h) before any reply says OK, so one mutation costs one
 * file write whatever the number of groups.
 *
 *   STATE_DIR/vnets/NAME.json       VNet definitions (survive reboots)
 *   RUN_DIR/netd/groups/ID.json     attachments (gone after a reboot,
 *                                   like the netns they describe)
 *
 * A group file is written with state "attaching" (addresses reserved)
 * before any link is made, then "attached"; a restart rolls back groups
 * still "attaching" (reconcile.c). */
#pragma once

#include "error.h"
#include "group.h"
#include "vnet.h"

struct store {
	int vnets_fd;
	int groups_fd;
};

int store_open(struct store *store, const char *state_dir, const char *run_dir,
	       struct pw_error *err);
void store_close(struct store *store);

int store_vnet_save(struct store *store, const struct vnet *vnet);
int store_vnet_remove(struct store *store, const char *name);
/* Calls cb with every VNet file parsed (cb takes ownership). Files that do
 * not parse are logged and skipped (kept on disk for the admin). */
int store_vnet_load_all(struct store *store, int (*cb)(struct vnet *vnet, void *userdata),
			void *userdata);

int store_group_save(struct store *store, const struct pw_group *group);
int store_group_remove(struct store *store, const char *id);
/* Like store_vnet_load_all; unreadable group files are removed (they
 * describe nothing netd could reconcile; their links are then strangers
 * and reconcile deletes them). */
int store_group_load_all(struct store *store, int (*cb)(struct pw_group *group, void *userdata),
			 void *userdata);
