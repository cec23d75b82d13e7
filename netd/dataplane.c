/* netd's data plane glue (see dataplane.h): group elements, hairpin, rate
 * limits, the whole-table sync and its monitor, peering and statistics.
 *
 * Invariants: a group in netd->groups has its nft elements (one batch
 * with all its attachments), hairpin on its ports if it publishes any,
 * and its rate limits; a peering is listed by both VNets, saved in both
 * state files, and is two elements of the `allowed` set. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "dataplane.h"
#include "events.h"
#include "log.h"
#include "veth.h"
#include "xalloc.h"

void latency_record(struct latency_ring *ring, uint64_t us)
{
	ring->us[ring->next] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
	ring->next = (ring->next + 1) % LATENCY_SAMPLES;
	if (ring->count < LATENCY_SAMPLES)
		ring->count++;
	ring->total++;
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

json_t *latency_json(const struct latency_ring *ring)
{
	uint32_t sorted[LATENCY_SAMPLES];
	uint64_t p50 = 0, p99 = 0;

	if (ring && ring->count) {
		memcpy(sorted, ring->us, ring->count * sizeof(sorted[0]));
		qsort(sorted, ring->count, sizeof(sorted[0]), u32_cmp);
		p50 = sorted[(ring->count - 1) / 2];
		p99 = sorted[(ring->count - 1) * 99 / 100];
	}
	return json_pack("{s:I, s:I, s:I}", "count", (json_int_t)(ring ? ring->total : 0), "p50_us",
			 (json_int_t)p50, "p99_us", (json_int_t)p99);
}

bool ports_same(const struct nft_port_spec *a, size_t a_count, const struct nft_port_spec *b,
		size_t b_count)
{
	if (a_count != b_count)
		return false;
	for (size_t i = 0; i < a_count; i++) {
		const struct nft_port_spec *x = &a[i], *y = &b[i];

		if (x->host_addr.family != y->host_addr.family ||
		    (x->host_addr.family && !ip_addr_equal(&x->host_addr, &y->host_addr)) ||
		    x->proto != y->proto || x->host_port != y->host_port ||
		    x->host_port_last != y->host_port_last || x->port != y->port)
			return false;
	}
	return true;
}

int netd_ports_check(const struct netd *netd, const char *id, const struct nft_port_spec *ports,
		     size_t port_count, struct pw_error *err)
{
	_cleanup_free_ struct pw_group **groups = NULL;
	char a_buf[PORT_SPEC_STRLEN], b_buf[PORT_SPEC_STRLEN];
	size_t count;
	bool used = false;

	for (size_t k = 0; k < port_count && !used; k++)
		used = group_table_port_used(&netd->groups, &ports[k]);
	if (!used)
		return 0;
	/* Someone publishes one of the ports: find who (and whether the host
	 * addresses overlap too), in id order for a stable message. */
	groups = group_table_sorted(&netd->groups, &count);
	for (size_t i = 0; i < count; i++) {
		if (streq(groups[i]->id, id))
			continue;
		for (size_t j = 0; j < groups[i]->port_count; j++)
			for (size_t k = 0; k < port_count; k++)
				if (port_overlaps(&groups[i]->ports[j], &ports[k]))
					return pw_error_set(
					    err, -EEXIST,
					    "host port %s is already published by group '%s' (%s)",
					    port_format(&ports[k], a_buf), groups[i]->id,
					    port_format(&groups[i]->ports[j], b_buf));
	}
	return 0;
}

/* The nft view of a group: one spec per attachment; the ports go with the
 * first one (its address is the DNAT target). */
static size_t group_specs(const struct pw_group *group, struct nft_group_spec *specs)
{
	for (size_t i = 0; i < group->attachment_count; i++) {
		const struct attachment *a = &group->attachments[i];

		specs[i] = (struct nft_group_spec){
		    .host_ifname = a->host_ifname,
		    .addrs = a->addresses,
		    .addr_count = a->address_count,
		    .ports = i == 0 ? group->ports : NULL,
		    .port_count = i == 0 ? group->port_count : 0,
		};
		memcpy(specs[i].mac, a->mac, sizeof(specs[i].mac));
	}
	return group->attachment_count;
}

static bool has_rate(const struct pw_group *group)
{
	return group->rate.ingress_bps || group->rate.egress_bps;
}

static int links_setup(struct netd *netd, const struct pw_group *group, struct pw_error *err)
{
	int r;

	for (size_t i = 0; i < group->attachment_count; i++) {
		const char *ifname = group->attachments[i].host_ifname;

		/* Only the port of the attachment the ports DNAT to needs it;
		 * hairpin on others would just reflect their floods. */
		if (i == 0 && group->port_count > 0) {
			r = veth_set_hairpin(netd->nl, ifname);
			if (r < 0)
				return pw_error_set(err, r, "hairpin mode on %s: %s", ifname,
						    strerror(-r));
		}
		if (has_rate(group)) {
			r = bandwidth_apply(netd->nl, ifname, &group->rate, err);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static void rate_remove(struct netd *netd, const struct pw_group *group)
{
	if (!has_rate(group))
		return;
	for (size_t i = 0; i < group->attachment_count; i++) {
		struct pw_error err = {0};

		if (bandwidth_remove(netd->nl, group->attachments[i].host_ifname, &err) < 0)
			log_warn("cannot remove rate limit group=%s error=\"%s\"", group->id,
				 pw_error_message(&err));
	}
}

int netd_group_dataplane_add(struct netd *netd, const struct pw_group *group, struct pw_error *err)
{
	struct nft_group_spec specs[GROUP_VNETS_MAX];
	size_t count = group_specs(group, specs);
	int r;

	r = links_setup(netd, group, err);
	if (r < 0)
		goto fail;
	r = nft_group_add(netd->nft, specs, count, err);
	if (r == -EEXIST) {
		pw_error_clear(err);
		r = pw_error_set(err, r, "a host port is already published by another group");
	}
	if (r < 0) {
		pw_error_wrap(err, r, "nftables");
		goto fail;
	}
	return 0;
fail:
	rate_remove(netd, group);
	return r;
}

void netd_group_dataplane_remove(struct netd *netd, const struct pw_group *group)
{
	struct nft_group_spec specs[GROUP_VNETS_MAX];
	size_t count = group_specs(group, specs);
	struct pw_error err = {0};

	if (nft_group_remove(netd->nft, specs, count, &err) < 0)
		log_warn("cannot remove nft elements group=%s error=\"%s\"", group->id,
			 pw_error_message(&err));
	rate_remove(netd, group);
}

void netd_group_links_repair(struct netd *netd, const struct pw_group *group)
{
	struct pw_error err = {0};

	if (group->port_count == 0 && !has_rate(group))
		return;
	if (links_setup(netd, group, &err) < 0)
		log_warn("cannot restore hairpin or rate limit group=%s error=\"%s\"", group->id,
			 pw_error_message(&err));
}

int netd_nft_sync(struct netd *netd, struct pw_error *err)
{
	struct nft_vnet_spec vnets[VNETS_MAX];
	_cleanup_free_ struct pw_group **groups = NULL;
	_cleanup_free_ struct nft_group_spec *specs = NULL;
	size_t count, n = 0;

	for (size_t i = 0; i < netd->vnet_count; i++)
		vnet_nft_spec(netd->vnets[i], &vnets[i]);
	groups = group_table_sorted(&netd->groups, &count);
	specs = xcalloc(count * GROUP_VNETS_MAX + 1, sizeof(*specs));
	for (size_t i = 0; i < count; i++)
		n += group_specs(groups[i], specs + n);
	return nft_table_sync_all(netd->nft, vnets, netd->vnet_count, specs, n, err);
}

static void restore_tables(struct netd *netd, const char *why)
{
	struct pw_error err = {0};
	uint64_t start = now_us();

	if (netd_nft_sync(netd, &err) < 0) {
		log_error("cannot restore the nftables tables error=\"%s\"",
			  pw_error_message(&err));
		return;
	}
	netd->nft_restores++;
	netd->nft_restored_at = (int64_t)time(NULL);
	log_warn("nftables tables restored reason=\"%s\" took_us=%llu", why,
		 (unsigned long long)(now_us() - start));
}

static void monitor_cb(struct nft_monitor *monitor, bool lost, void *userdata)
{
	struct netd *netd = userdata;
	int r;

	(void)monitor;
	if (lost) {
		/* Events were dropped: check rather than restore blindly. */
		r = nft_table_exists(netd->nft);
		if (r == 1)
			return;
		restore_tables(netd, "tables missing after lost events");
		return;
	}
	restore_tables(netd, "changed by someone else");
}

static void monitor_ready(struct event_loop *loop, int fd, uint32_t events, void *userdata)
{
	struct netd *netd = userdata;
	int r;

	(void)loop;
	(void)fd;
	(void)events;
	r = nft_monitor_process(netd->monitor);
	if (r < 0 && r != -EAGAIN)
		log_warn_errno(r, "nftables monitor");
}

int netd_monitor_start(struct netd *netd, struct pw_error *err)
{
	int r;

	r = nft_monitor_new(nft_ctx_portid(netd->nft), monitor_cb, netd, &netd->monitor, err);
	if (r < 0)
		return r;
	r = event_loop_add_fd(netd->loop, nft_monitor_fd(netd->monitor), EPOLLIN, monitor_ready,
			      netd, &netd->monitor_watch);
	if (r < 0)
		return pw_error_set(err, r, "watch the nftables monitor: %s", strerror(-r));
	/* Something may have changed between reconcile's sync and now. */
	r = nft_table_exists(netd->nft);
	if (r == 0)
		restore_tables(netd, "tables missing at start");
	return 0;
}

void netd_monitor_stop(struct netd *netd)
{
	if (netd->monitor_watch)
		event_loop_remove(netd->loop, netd->monitor_watch);
	netd->monitor_watch = NULL;
	if (netd->monitor)
		nft_monitor_free(netd->monitor);
	netd->monitor = NULL;
}

/* vnet.peered / vnet.unpeered {"vnets":[a,b]}, then vnet.updated with
 * each VNet's object (its new "peers"), which is what dnsd follows. */
static void broadcast_peering(struct netd *netd, const char *event, const char *a, const char *b)
{
	json_auto_t *data = json_pack("{s:[s,s]}", "vnets", a, b);
	const char *names[] = {a, b};

	if (!netd->server || !data)
		return;
	rpc_server_broadcast(netd->server, event, data);
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		const struct vnet *vnet = netd_vnet_find(netd, names[i]);
		json_auto_t *obj = vnet ? events_vnet_json(vnet) : NULL;

		if (obj)
			rpc_server_broadcast(netd->server, "vnet.updated", obj);
	}
}

static int peer_lookup(struct netd *netd, const char *a, const char *b, struct vnet **ret_a,
		       struct vnet **ret_b, struct pw_error *err)
{
	if (streq(a, b))
		return pw_error_set(err, -EINVAL, "a VNet cannot peer with itself ('%s')", a);
	*ret_a = netd_vnet_find(netd, a);
	if (!*ret_a)
		return pw_error_set(err, -ENOENT, "vnet '%s' not found", a);
	*ret_b = netd_vnet_find(netd, b);
	if (!*ret_b)
		return pw_error_set(err, -ENOENT, "vnet '%s' not found", b);
	return 0;
}

int netd_vnet_peer(struct netd *netd, const char *a, const char *b, struct pw_error *err)
{
	struct vnet *va, *vb;
	int r;

	r = peer_lookup(netd, a, b, &va, &vb, err);
	if (r < 0)
		return r;
	if (vnet_has_peer(va, b) && vnet_has_peer(vb, a))
		return 0;
	if (vnet_peer_add(va, b) < 0 || vnet_peer_add(vb, a) < 0) {
		vnet_peer_remove(va, b);
		vnet_peer_remove(vb, a);
		return pw_error_set(err, -ENOSPC, "a VNet has at most %d peers", VNET_PEERS_MAX);
	}
	/* State first: a crash after this leaves a peering that the next
	 * start's sync puts in the kernel. */
	r = store_vnet_save(&netd->store, va);
	if (r >= 0)
		r = store_vnet_save(&netd->store, vb);
	if (r < 0) {
		pw_error_set(err, r, "write state: %s", strerror(-r));
		goto undo;
	}
	r = nft_vnet_peer(netd->nft, va->bridge, vb->bridge, err);
	if (r < 0) {
		pw_error_wrap(err, r, "nftables");
		goto undo;
	}
	log_info("vnets peered a=%s b=%s", a, b);
	broadcast_peering(netd, "vnet.peered", a, b);
	return 0;
undo:
	vnet_peer_remove(va, b);
	vnet_peer_remove(vb, a);
	(void)store_vnet_save(&netd->store, va);
	(void)store_vnet_save(&netd->store, vb);
	return r;
}

int netd_vnet_unpeer(struct netd *netd, const char *a, const char *b, struct pw_error *err)
{
	struct vnet *va, *vb;
	int r;

	r = peer_lookup(netd, a, b, &va, &vb, err);
	if (r < 0)
		return r;
	if (!vnet_has_peer(va, b) && !vnet_has_peer(vb, a))
		return 0;
	vnet_peer_remove(va, b);
	vnet_peer_remove(vb, a);
	r = store_vnet_save(&netd->store, va);
	if (r >= 0)
		r = store_vnet_save(&netd->store, vb);
	if (r < 0) {
		/* Put it back as it was: the kernel still has the peering. */
		(void)vnet_peer_add(va, b);
		(void)vnet_peer_add(vb, a);
		(void)store_vnet_save(&netd->store, va);
		(void)store_vnet_save(&netd->store, vb);
		return pw_error_set(err, r, "write state: %s", strerror(-r));
	}
	r = nft_vnet_unpeer(netd->nft, va->bridge, vb->bridge, err);
	if (r < 0)
		/* The state says unpeered; the next sync makes it so. */
		log_warn("cannot remove peering from nftables a=%s b=%s error=\"%s\"", a, b,
			 pw_error_message(err));
	pw_error_clear(err);
	log_info("vnets unpeered a=%s b=%s", a, b);
	broadcast_peering(netd, "vnet.unpeered", a, b);
	return 0;
}

void netd_vnet_unpeer_all(struct netd *netd, struct vnet *vnet)
{
	while (vnet->peer_count > 0) {
		char peer[VNET_NAME_MAX + 1];
		struct pw_error err = {0};

		snprintf(peer, sizeof(peer), "%s", vnet->peers[0]);
		if (!netd_vnet_find(netd, peer)) {
			vnet_peer_remove(vnet, peer);
			continue;
		}
		if (netd_vnet_unpeer(netd, vnet->name, peer, &err) < 0) {
			log_warn("cannot unpeer vnet=%s peer=%s error=\"%s\"", vnet->name, peer,
				 pw_error_message(&err));
			vnet_peer_remove(vnet, peer);
		}
	}
}

struct totals {
	uint64_t rx_bytes, rx_packets, tx_bytes, tx_packets, spoofed_packets, spoofed_bytes;
};

static void add_counter(const struct nft_counters *counters, enum nft_counter_kind kind,
			const char *name, uint64_t *packets, uint64_t *bytes)
{
	const struct nft_counter *c = nft_counters_find(counters, kind, name);

	if (c) {
		*packets += c->packets;
		*bytes += c->bytes;
	}
}

static json_t *totals_json(const struct totals *t)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "rx_bytes", (json_int_t)t->rx_bytes,
			 "rx_packets", (json_int_t)t->rx_packets, "tx_bytes",
			 (json_int_t)t->tx_bytes, "tx_packets", (json_int_t)t->tx_packets,
			 "spoofed_packets", (json_int_t)t->spoofed_packets, "spoofed_bytes",
			 (json_int_t)t->spoofed_bytes);
}

int netd_stats(struct netd *netd, json_t **ret, struct pw_error *err)
{
	struct nft_counters counters = {0};
	_cleanup_free_ struct pw_group **groups = NULL;
	_cleanup_free_ struct totals *vnet_totals = NULL;
	json_t *groups_json, *vnets_json;
	size_t count;
	int r;

	r = nft_counters_read(netd->nft, &counters, err);
	if (r < 0)
		return pw_error_wrap(err, r, "read nftables counters");
	vnet_totals = xcalloc(netd->vnet_count + 1, sizeof(*vnet_totals));
	groups = group_table_sorted(&netd->groups, &count);
	groups_json = json_array();
	for (size_t i = 0; i < count; i++) {
		struct totals g = {0};
		json_t *item;

		for (size_t j = 0; j < groups[i]->attachment_count; j++) {
			const struct attachment *a = &groups[i]->attachments[j];
			struct totals t = {0};

			add_counter(&counters, NFT_COUNTER_GROUP_RX, a->host_ifname, &t.rx_packets,
				    &t.rx_bytes);
			add_counter(&counters, NFT_COUNTER_GROUP_TX, a->host_ifname, &t.tx_packets,
				    &t.tx_bytes);
			add_counter(&counters, NFT_COUNTER_SPOOFED, a->host_ifname,
				    &t.spoofed_packets, &t.spoofed_bytes);
			for (size_t v = 0; v < netd->vnet_count; v++)
				if (netd->vnets[v] == a->vnet) {
					struct totals *vt = &vnet_totals[v];

					vt->rx_bytes += t.rx_bytes;
					vt->rx_packets += t.rx_packets;
					vt->tx_bytes += t.tx_bytes;
					vt->tx_packets += t.tx_packets;
					vt->spoofed_packets += t.spoofed_packets;
					vt->spoofed_bytes += t.spoofed_bytes;
				}
			g.rx_bytes += t.rx_bytes;
			g.rx_packets += t.rx_packets;
			g.tx_bytes += t.tx_bytes;
			g.tx_packets += t.tx_packets;
			g.spoofed_packets += t.spoofed_packets;
			g.spoofed_bytes += t.spoofed_bytes;
		}
		item = totals_json(&g);
		json_object_set_new(item, "id", json_string(groups[i]->id));
		json_array_append_new(groups_json, item);
	}
	vnets_json = json_array();
	for (size_t v = 0; v < netd->vnet_count; v++) {
		const struct vnet *vnet = netd->vnets[v];
		uint64_t dropped_packets = 0, dropped_bytes = 0;
		json_t *item = totals_json(&vnet_totals[v]);

		add_counter(&counters, NFT_COUNTER_DROPPED, vnet->bridge, &dropped_packets,
			    &dropped_bytes);
		json_object_set_new(item, "name", json_string(vnet->name));
		json_object_set_new(item, "groups", json_integer(vnet->group_count));
		json_object_set_new(item, "isolation_dropped_packets",
				    json_integer((json_int_t)dropped_packets));
		json_object_set_new(item, "isolation_dropped_bytes",
				    json_integer((json_int_t)dropped_bytes));
		json_array_append_new(vnets_json, item);
	}
	nft_counters_done(&counters);
	*ret =
	    json_pack("{s:o, s:o, s:{s:o, s:o}, s:{s:I, s:I}, s:o}", "groups", groups_json, "vnets",
		      vnets_json, "operations", "attach", latency_json(netd->attach_latency),
		      "detach", latency_json(netd->detach_latency), "nftables", "restores",
		      (json_int_t)netd->nft_restores, "restored_at",
		      (json_int_t)netd->nft_restored_at, "trust", trust_ledger_json(&netd->ledger));
	return 0;
}
