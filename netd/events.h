/* The JSON form of netd's objects (what vnet.show, group.show, the lists,
 * events.subscribe and the events carry; docs/netd.md) and the events
 * themselves, broadcast to subscribers through the RPC server. */
#pragma once

#include <jansson.h>

#include "group.h"
#include "netd.h"
#include "vnet.h"

json_t *events_vnet_json(const struct vnet *vnet);
json_t *events_group_json(const struct pw_group *group);
/* {"seq":N,"vnets":[...],"groups":[...],"zones":[],"records":[]} */
json_t *events_snapshot(const struct netd *netd);

void events_vnet_created(struct netd *netd, const struct vnet *vnet);
void events_vnet_deleted(struct netd *netd, const char *name);
void events_vnet_updated(struct netd *netd, const struct vnet *vnet);
void events_group_attached(struct netd *netd, const struct pw_group *group);
/* data: the group as it was, plus "reason": "detach" or "netns-gone". */
void events_group_detached(struct netd *netd, const struct pw_group *group,
			   enum group_detach_reason reason);
