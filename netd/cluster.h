/* Cluster membership of one netd (docs/cluster.md): with --cluster-etcd,
 * netd registers its host under /podwire/v1/hosts/NAME on a lease it keeps
 * alive (and re-registers on a new lease when that one is lost), and keeps
 * a view of the other hosts from one range over /podwire/v1/ followed by a
 * watch from the revision after it.
 *
 * Everything here is asynchronous (netd/etcd-client.h): no function
 * waits for etcd, so a slow or lost etcd never delays an RPC on a local
 * VNet. What the RPCs see is the view as of the last event (cluster.status
 * reports it with the etcd connection state, without asking etcd). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "event-loop.h"

/* The prefix of every key podwire keeps in etcd ("v1": a later layout can
 * live beside it during an upgrade). */
#define CLUSTER_PREFIX "/podwire/v1/"
/* The host lease: etcd deletes a host's keys this long after its netd
 * stopped renewing (died, or lost etcd); others then forget the host. */
#define CLUSTER_LEASE_TTL_S 15
/* Pause before trying again after a failed registration or initial read:
 * etcd is down or without quorum, an election takes about a second. */
#define CLUSTER_RETRY_MS 1000

struct cluster;

struct cluster_options {
	const char *endpoints; /* --cluster-etcd */
	const char *host_name; /* --host-name */
	const char *underlay;  /* --underlay (validated) */
	const char *run_dir;   /* cluster.json (the lease) lives in RUN_DIR/netd/ */
	const char *version;
};

/* Checks --host-name and --underlay (an IPv4 or IPv6 address). */
int cluster_options_check(const struct cluster_options *opts, struct pw_error *err);
/* Creates the etcd client (validating the endpoints) and starts the
 * registration and the watch in the background. */
int cluster_start(struct event_loop *loop, const struct cluster_options *opts,
		  struct cluster **ret_cluster, struct pw_error *err);
/* Stops without revoking the lease: a netd restarted within its TTL takes
 * its lease back (cluster.json) and other hosts see no change. */
void cluster_free(struct cluster *cluster);

/* cluster.status: this host, its lease, the etcd connection and the hosts
 * in the view. */
json_t *cluster_status_json(const struct cluster *cluster);
