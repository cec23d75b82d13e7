/* Groups whose host veth went away (see link-watch.h). */
#include <errno.h>

#include "dataplane.h"
#include "link-monitor.h"
#include "link-watch.h"
#include "log.h"
#include "netlink.h"
#include "netns.h"
#include "xalloc.h"

/* A recreation that fails after the pair was made deletes the pair again:
 * one more deletion to handle. Failures within this long of the last one
 * are not retried, so that cannot loop; the start-up reconcile retries. */
#define RECREATE_RETRY_MS 1000

/* Recreates attachment index of a group whose netns lives. */
static void reattach(struct netd *netd, struct pw_group *group, size_t index)
{
	struct attachment *a = &group->attachments[index];
	_cleanup_close_ int netns_fd = -EBADF;
	struct pw_error err = {0};
	int r;

	r = netns_open(group->netns, &netns_fd, &err);
	if (r >= 0)
		r = netd_attachment_create(netd, group, index, netns_fd, &err);
	if (r < 0) {
		log_warn("cannot recreate a deleted attachment group=%s vnet=%s error=\"%s\"",
			 group->id, a->vnet_name, pw_error_message(&err));
		a->recreate_failed_ms = now_ms();
		return;
	}
	a->recreate_failed_ms = 0;
	/* The veth's hairpin and rate limits went with it; nft elements are
	 * by name and stayed. */
	netd_group_links_repair(netd, group);
	log_warn("attachment deleted by someone else, recreated group=%s vnet=%s link=%s",
		 group->id, a->vnet_name, a->host_ifname);
}

/* Handles a deletion reported for attachment index of group: 1 if the
 * group was released (and freed), else 0 (the link is there, was
 * recreated, or could not be). */
static int check_attachment(struct netd *netd, struct pw_group *group, size_t index)
{
	_cleanup_link_ struct rtnl_link *link = NULL;
	const char *host_ifname = group->attachments[index].host_ifname;
	struct pw_error err = {0};
	int r;

	r = link_get(netd->nl, host_ifname, &link);
	if (r >= 0)
		return 0; /* there (recreated since the event) */
	if (r != -ENODEV) {
		log_warn_errno(r, "cannot look up %s of group %s", host_ifname, group->id);
		return 0;
	}
	if (netd_group_netns_alive(group)) {
		uint64_t failed = group->attachments[index].recreate_failed_ms;

		if (failed && now_ms() - failed < RECREATE_RETRY_MS)
			log_debug("not recreating %s again so soon group=%s", host_ifname,
				  group->id);
		else
			reattach(netd, group, index);
		return 0;
	}
	log_info("netns gone, releasing group=%s netns=%s link=%s", group->id, group->netns,
		 host_ifname);
	r = netd_group_release(netd, group, GROUP_DETACH_NETNS_GONE, &err);
	if (r < 0) {
		log_error("cannot release group=%s error=\"%s\"", group->id,
			  pw_error_message(&err));
		return 0;
	}
	return 1;
}

void netd_link_watch_rescan(struct netd *netd)
{
	_cleanup_free_ struct pw_group **groups = NULL;
	_cleanup_free_ char **ids = NULL;
	size_t count;

	/* By id: checking one group may release it. */
	groups = group_table_sorted(&netd->groups, &count);
	ids = xcalloc(count + 1, sizeof(*ids));
	for (size_t i = 0; i < count; i++)
		ids[i] = xstrdup(groups[i]->id);
	for (size_t i = 0; i < count; i++) {
		struct pw_group *group = group_table_find(&netd->groups, ids[i]);

		for (size_t j = 0; group && j < group->attachment_count; j++)
			if (check_attachment(netd, group, j) == 1)
				break;
		free(ids[i]);
	}
}

static void link_deleted(const char *ifname, void *userdata)
{
	struct netd *netd = userdata;
	struct pw_group *group;
	size_t index;

	if (!ifname) {
		netd_link_watch_rescan(netd);
		return;
	}
	group = group_table_find_host(&netd->groups, ifname, &index);
	if (!group)
		return; /* a stranger, or netd's own detach */
	(void)check_attachment(netd, group, index);
}

static void monitor_ready(struct event_loop *loop, int fd, uint32_t events, void *userdata)
{
	struct netd *netd = userdata;
	int r;

	(void)loop;
	(void)fd;
	(void)events;
	r = link_monitor_process(netd->link_monitor);
	if (r < 0 && r != -EAGAIN)
		log_warn_errno(r, "link monitor");
}

int netd_link_watch_start(struct netd *netd, struct pw_error *err)
{
	int r;

	r = link_monitor_new(HOST_IFNAME_PREFIX, link_deleted, netd, &netd->link_monitor, err);
	if (r < 0)
		return r;
	r = event_loop_add_fd(netd->loop, link_monitor_fd(netd->link_monitor), EPOLLIN,
			      monitor_ready, netd, &netd->link_watch);
	if (r < 0)
		return pw_error_set(err, r, "watch the link monitor: %s", strerror(-r));
	return 0;
}

void netd_link_watch_stop(struct netd *netd)
{
	if (netd->link_watch)
		event_loop_remove(netd->loop, netd->link_watch);
	netd->link_watch = NULL;
	link_monitor_free(netd->link_monitor);
	netd->link_monitor = NULL;
}
