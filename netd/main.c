/* podwire-netd: options and wiring only. The parts: vnet.c/group.c/ipam.c
 * (model), store.c (state files), bridge.c/veth.c/hostnet.c/netlink.c
 * (kernel), nft.c (nftables), ops.c (operations), reconcile.c (start-up),
 * link-monitor.c/link-watch.c (groups whose netns died), heap-trim.c,
 * rpc.c/events.c (control socket), metrics-listener.c (Prometheus),
 * cluster.c (membership of a cluster through etcd). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "cluster.h"
#include "dataplane.h"
#include "dns-records.h"
#include "link-watch.h"
#include "metrics-listener.h"
#include "netd.h"
#include "netlink.h"
#include "reconcile.h"
#include "rpc.h"
#include "service.h"
#include "state-file.h"
#include "xalloc.h"

#define NETD_VERSION	  "0.1.0"
#define DEFAULT_RUN_DIR	  "/run/podwire"
#define DEFAULT_STATE_DIR "/var/lib/podwire/netd"

struct options {
	const char *run_dir;
	const char *state_dir;
	const char *admin_group;
	struct metrics_addr metrics_addrs[METRICS_LISTENERS_MAX];
	size_t metrics_addr_count;
	struct cluster_options cluster;
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: podwire-netd [OPTIONS]\n"
		"\n"
		"The podwire network daemon: virtual networks (VNets) made of Linux bridges,\n"
		"address management, veth attachments for container groups (network\n"
		"namespaces), isolation, NAT, published ports and anti-spoofing in the\n"
		"nftables tables 'inet podwire' and 'bridge podwire' (restored when someone\n"
		"removes them), rate limits, peering, statistics and an event stream.\n"
		"Runs in the foreground and logs to stderr; see podwire-netd(8).\n"
		"\n"
		"Options:\n"
		"  --run-dir DIR        socket DIR/netd.sock and attachments under DIR/netd/\n"
		"                       (default " DEFAULT_RUN_DIR ")\n"
		"  --state-dir DIR      VNet definitions (default " DEFAULT_STATE_DIR ")\n"
		"  --log-level LEVEL    debug, info (default), warn or error\n"
		"  --admin-group GROUP  give the socket to GROUP (mode 0660): its members\n"
		"                       (primary or supplementary) may connect and change\n"
		"                       VNets and groups (root always may)\n"
		"  --metrics-listen ADDR\n"
		"                       serve Prometheus metrics over HTTP (GET /metrics: the\n"
		"                       text of 'podwire stats --prometheus') on ADDR:\n"
		"                       unix:/PATH, 127.0.0.1:PORT or [::1]:PORT (loopback\n"
		"                       only: the metrics are not authenticated); may be\n"
		"                       given up to 4 times\n"
		"  --cluster-etcd URL[,URL...]\n"
		"                       join the cluster kept in this etcd (http://HOST:PORT\n"
		"                       or https://HOST:PORT, up to 16): register this host\n"
		"                       on a lease and watch the others (docs/cluster.md);\n"
		"                       needs --host-name and --underlay\n"
		"  --host-name NAME     this host's name in the cluster (a DNS label, unique)\n"
		"  --underlay ADDR      this host's underlay address (its VXLAN endpoint)\n"
		"  -h, --help           show this help\n"
		"  --version            show the version\n");
}

static int parse_options(int argc, char **argv, struct options *opts)
{
	enum {
		OPT_RUN_DIR = 256,
		OPT_STATE_DIR,
		OPT_LOG_LEVEL,
		OPT_ADMIN_GROUP,
		OPT_METRICS_LISTEN,
		OPT_CLUSTER_ETCD,
		OPT_HOST_NAME,
		OPT_UNDERLAY,
		OPT_VERSION
	};
	static const struct option long_options[] = {
	    {"run-dir", required_argument, NULL, OPT_RUN_DIR},
	    {"state-dir", required_argument, NULL, OPT_STATE_DIR},
	    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
	    {"admin-group", required_argument, NULL, OPT_ADMIN_GROUP},
	    {"metrics-listen", required_argument, NULL, OPT_METRICS_LISTEN},
	    {"cluster-etcd", required_argument, NULL, OPT_CLUSTER_ETCD},
	    {"host-name", required_argument, NULL, OPT_HOST_NAME},
	    {"underlay", required_argument, NULL, OPT_UNDERLAY},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, OPT_VERSION},
	    {0},
	};
	struct pw_error err = {0};
	enum log_level level;
	int c;

	while ((c = getopt_long(argc, argv, "h", long_options, NULL)) != -1) {
		switch (c) {
		case OPT_RUN_DIR:
			opts->run_dir = optarg;
			break;
		case OPT_STATE_DIR:
			opts->state_dir = optarg;
			break;
		case OPT_LOG_LEVEL:
			if (log_level_parse(optarg, &level) < 0) {
				fprintf(stderr, "podwire-netd: invalid log level '%s'\n", optarg);
				return -EINVAL;
			}
			log_set_level(level);
			break;
		case OPT_ADMIN_GROUP:
			opts->admin_group = optarg;
			break;
		case OPT_METRICS_LISTEN:
			if (opts->metrics_addr_count == METRICS_LISTENERS_MAX) {
				fprintf(stderr, "podwire-netd: at most %d --metrics-listen\n",
					METRICS_LISTENERS_MAX);
				return -EINVAL;
			}
			if (metrics_addr_parse(
				optarg, &opts->metrics_addrs[opts->metrics_addr_count], &err) < 0) {
				fprintf(stderr, "podwire-netd: %s\n", pw_error_message(&err));
				return -EINVAL;
			}
			opts->metrics_addr_count++;
			break;
		case OPT_CLUSTER_ETCD:
			opts->cluster.endpoints = optarg;
			break;
		case OPT_HOST_NAME:
			opts->cluster.host_name = optarg;
			break;
		case OPT_UNDERLAY:
			opts->cluster.underlay = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(EXIT_SUCCESS);
		case OPT_VERSION:
			printf("podwire-netd " NETD_VERSION "\n");
			exit(EXIT_SUCCESS);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "podwire-netd: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (opts->cluster.endpoints) {
		if (cluster_options_check(&opts->cluster, &err) < 0) {
			fprintf(stderr, "podwire-netd: %s\n", pw_error_message(&err));
			return -EINVAL;
		}
	} else if (opts->cluster.host_name || opts->cluster.underlay) {
		fprintf(stderr, "podwire-netd: --host-name and --underlay need --cluster-etcd\n");
		return -EINVAL;
	}
	return 0;
}

static void netd_done(struct netd *netd)
{
	netd_monitor_stop(netd);
	netd_link_watch_stop(netd);
	netd_heap_trim_done(netd);
	cluster_free(netd->cluster);
	netd->cluster = NULL;
	rpc_server_free(netd->server);
	netd->server = NULL;
	free(netd->attach_latency);
	free(netd->detach_latency);
	group_table_done(&netd->groups);
	for (size_t i = 0; i < netd->vnet_count; i++)
		vnet_free(netd->vnets[i]);
	netd->vnet_count = 0;
	store_close(&netd->store);
	trust_keysets_close(&netd->keysets);
	trust_ledger_done(&netd->ledger);
	dns_records_done();
	port_mroutes_done(&netd->mroutes);
	if (netd->nft)
		nft_ctx_free(netd->nft);
	if (netd->nl)
		netlink_close(netd->nl);
	if (netd->host_netns_fd >= 0)
		close(netd->host_netns_fd);
	if (netd->loop)
		event_loop_free(netd->loop);
}

static int run(const struct options *opts)
{
	struct netd netd = {.host_netns_fd = -EBADF};
	struct metrics_listener *metrics[METRICS_LISTENERS_MAX] = {0};
	struct pw_error err = {0};
	_cleanup_free_ char *socket_path = xasprintf("%s/netd.sock", opts->run_dir);
	gid_t admin_gid = 0;
	int r;

	if (opts->admin_group) {
		struct group *gr = getgrnam(opts->admin_group);

		if (!gr) {
			log_error("unknown admin group group=%s", opts->admin_group);
			return -EINVAL;
		}
		admin_gid = gr->gr_gid;
	}
	group_table_init(&netd.groups);
	netd.attach_latency = xcalloc(1, sizeof(*netd.attach_latency));
	netd.detach_latency = xcalloc(1, sizeof(*netd.detach_latency));
	netd.store.vnets_fd = netd.store.groups_fd = -EBADF;
	netd.keysets.dir_fd = -EBADF;

	r = event_loop_new(&netd.loop);
	if (r < 0) {
		log_error_errno(r, "cannot create the event loop");
		goto out;
	}
	r = event_loop_handle_signals(netd.loop);
	if (r < 0) {
		log_error_errno(r, "cannot handle signals");
		goto out;
	}
	netd.host_netns_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (netd.host_netns_fd < 0) {
		r = log_error_errno(-errno, "cannot open /proc/self/ns/net");
		goto out;
	}
	r = netlink_open(-1, &netd.nl);
	if (r < 0) {
		log_error_errno(r, "cannot open a netlink socket");
		goto out;
	}
	r = port_mroutes_init(&netd.mroutes, netd.loop, netd.nl);
	if (r < 0) {
		log_error_errno(r, "cannot create a timer");
		goto out;
	}
	r = nft_ctx_new(&netd.nft, &err);
	if (r < 0) {
		log_error("cannot open nftables error=\"%s\"", pw_error_message(&err));
		goto out;
	}
	r = mkdir_p(opts->run_dir, 0755);
	if (r < 0) {
		log_error_errno(r, "cannot create run dir %s", opts->run_dir);
		goto out;
	}
	r = store_open(&netd.store, opts->state_dir, opts->run_dir, &err);
	if (r < 0) {
		log_error("cannot open state error=\"%s\"", pw_error_message(&err));
		goto out;
	}
	/* Content trust: the keysets VNets name (netd/trust-keysets.c). */
	r = trust_keysets_open(&netd.keysets, opts->state_dir, &err);
	if (r < 0) {
		log_error("cannot open keysets error=\"%s\"", pw_error_message(&err));
		goto out;
	}
	/* Deleted host veths (a group's netns died): watched from before
	 * reconcile, so that nothing dying in between is missed. */
	r = netd_link_watch_start(&netd, &err);
	if (r < 0) {
		log_error("cannot watch links error=\"%s\"", pw_error_message(&err));
		goto out;
	}
	r = reconcile_run(&netd, &err);
	if (r < 0) {
		log_error("reconcile failed error=\"%s\"", pw_error_message(&err));
		goto out;
	}
	/* Self-healing: put the nft tables back when someone removes them. */
	r = netd_monitor_start(&netd, &err);
	if (r < 0) {
		log_error("cannot watch nftables error=\"%s\"", pw_error_message(&err));
		goto out;
	}
	/* DNS records and zones (netd/dns-records.c) */
	r = dns_records_init(opts->state_dir, &err);
	if (r < 0) {
		log_error("cannot open dns state error=\"%s\"", pw_error_message(&err));
		goto out;
	}
	/* Cluster membership: everything asynchronous, so etcd being down
	 * delays nothing here (docs/cluster.md). */
	if (opts->cluster.endpoints) {
		struct cluster_options cluster_opts = opts->cluster;

		cluster_opts.run_dir = opts->run_dir;
		cluster_opts.version = NETD_VERSION;
		r = cluster_start(netd.loop, &cluster_opts, &netd.cluster, &err);
		if (r < 0) {
			log_error("cannot join the cluster error=\"%s\"", pw_error_message(&err));
			goto out;
		}
	}
	r = rpc_server_new(netd.loop, socket_path, netd_rpc_methods, netd_rpc_method_count, &netd,
			   &netd.server, &err);
	if (r < 0) {
		log_error("cannot serve error=\"%s\"", pw_error_message(&err));
		goto out;
	}
	if (opts->admin_group) {
		r = rpc_server_set_admin_gid(netd.server, admin_gid);
		if (r < 0) {
			log_error_errno(r, "cannot give %s to group %s", socket_path,
					opts->admin_group);
			goto out;
		}
	}
	for (size_t i = 0; i < opts->metrics_addr_count; i++) {
		r = metrics_listener_new(&netd, &opts->metrics_addrs[i],
					 opts->admin_group ? admin_gid : (gid_t)-1, &metrics[i],
					 &err);
		if (r < 0) {
			log_error("cannot serve metrics error=\"%s\"", pw_error_message(&err));
			goto out;
		}
	}
	log_info("serving socket=%s vnets=%zu groups=%zu", socket_path, netd.vnet_count,
		 netd.groups.count);
	service_notify_ready("serving vnets=%zu groups=%zu", netd.vnet_count, netd.groups.count);
	r = event_loop_run(netd.loop);
	service_notify_stopping();
	log_info("exiting");
out:
	for (size_t i = 0; i < METRICS_LISTENERS_MAX; i++)
		metrics_listener_free(metrics[i]);
	netd_done(&netd);
	return r;
}

int main(int argc, char **argv)
{
	struct options opts = {
	    .run_dir = DEFAULT_RUN_DIR,
	    .state_dir = DEFAULT_STATE_DIR,
	};

	log_set_ident("podwire-netd");
	if (parse_options(argc, argv, &opts) < 0)
		return 2;
	return run(&opts) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
