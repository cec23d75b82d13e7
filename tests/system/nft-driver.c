/* Test driver for netd/nft.c: makes the calls netd makes, from the command
 * line, in the netns it runs in (tests run it with `ip netns exec`).
 *
 *   nft-driver sync [VNET...] [-- GROUP...]
 *                                 replace tables inet and bridge podwire
 *   nft-driver add VNET           nft_vnet_add
 *   nft-driver remove VNET        nft_vnet_remove
 *   nft-driver peer BRIDGE BRIDGE / unpeer BRIDGE BRIDGE
 *   nft-driver group-add GROUP... / group-remove GROUP...
 *                                 one attachment per GROUP, all in one call
 *   nft-driver counters           prints "KIND NAME PACKETS BYTES" lines
 *   nft-driver watch SECONDS [VNET...] [-- GROUP...]
 *                                 sync, then for SECONDS restore the tables
 *                                 whenever someone else changes them (as
 *                                 netd does), printing "restored" each time
 *   nft-driver exists             prints 1 or 0 (nft_table_exists)
 *   nft-driver remove-table       nft_table_remove
 *   nft-driver time COUNT         COUNT x (add, remove) of VNets pw-t0.. on
 *                                 the table as it is; prints the median and
 *                                 p99 microseconds of each call
 *
 * VNET is BRIDGE[,CIDR]...[,internal][,isolate][,host=none|dns|all][,peer=BRIDGE]...,
 * e.g. pw-a,10.1.0.0/24,fd00:1::/64,isolate; each subnet's gateway is its
 * first host (as netd's default) and host access is dns unless given. GROUP is
 * HOSTIF,MAC[,ADDR]...[,port=[HOSTIP@]HOSTPORT[-LAST]:PORT/PROTO]..., e.g.
 * pwva1,02:00:00:00:00:01,10.1.0.2,port=8080:80/tcp. Errors: one line on stderr, exit 1
 * (2 for usage). */
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "macro.h"
#include "../../netd/nft-monitor.h"
#include "../../netd/nft.h"
#include <poll.h>
#include "prefix.h"

/* Enough for an IPv4 and an IPv6 subnet and then some. */
#define DRIVER_SUBNETS_MAX 8
#define DRIVER_PEERS_MAX   8
#define DRIVER_ADDRS_MAX   8
#define DRIVER_PORTS_MAX   8

struct driver_vnet {
	char *text; /* strtok'd copy of the argument; bridge points into it */
	struct ip_prefix subnets[DRIVER_SUBNETS_MAX];
	struct ip_addr gateways[DRIVER_SUBNETS_MAX];
	const char *peers[DRIVER_PEERS_MAX];
	struct nft_vnet_spec spec;
};

struct driver_group {
	char *text;
	struct ip_addr addrs[DRIVER_ADDRS_MAX];
	struct nft_port_spec ports[DRIVER_PORTS_MAX];
	struct nft_group_spec spec;
};

static int usage(void)
{
	fprintf(stderr,
		"usage: nft-driver sync [VNET...] [-- GROUP...] | add VNET | remove VNET | "
		"peer BR BR | unpeer BR BR | group-add GROUP... | group-remove GROUP... | "
		"counters | exists | remove-table | time COUNT\n"
		"  VNET = BRIDGE[,CIDR]...[,internal][,isolate][,host=none|dns|all]"
		"[,peer=BRIDGE]...\n"
		"  GROUP = HOSTIF,MAC[,ADDR]...[,port=[HOSTIP@]HOSTPORT[-LAST]:PORT/PROTO]...\n");
	return 2;
}

static int parse_vnet(const char *arg, struct driver_vnet *v)
{
	char *token, *save = NULL;
	size_t count = 0;

	memset(v, 0, sizeof(*v));
	v->text = strdup(arg);
	if (!v->text)
		return -ENOMEM;
	v->spec.bridge = strtok_r(v->text, ",", &save);
	if (!v->spec.bridge) {
		fprintf(stderr, "nft-driver: empty VNet '%s'\n", arg);
		return -EINVAL;
	}
	while ((token = strtok_r(NULL, ",", &save))) {
		if (strncmp(token, "peer=", 5) == 0) {
			if (v->spec.peer_count == DRIVER_PEERS_MAX)
				return -EINVAL;
			v->peers[v->spec.peer_count++] = token + 5;
			v->spec.peers = v->peers;
		} else if (streq(token, "internal")) {
			v->spec.internal = true;
		} else if (streq(token, "isolate")) {
			v->spec.isolate = true;
		} else if (streq(token, "host=none")) {
			v->spec.host_access = NFT_HOST_ACCESS_NONE;
		} else if (streq(token, "host=dns")) {
			v->spec.host_access = NFT_HOST_ACCESS_DNS;
		} else if (streq(token, "host=all")) {
			v->spec.host_access = NFT_HOST_ACCESS_ALL;
		} else {
			if (count == DRIVER_SUBNETS_MAX) {
				fprintf(stderr, "nft-driver: too many subnets in '%s'\n", arg);
				return -EINVAL;
			}
			if (ip_prefix_parse(token, AF_UNSPEC, &v->subnets[count]) < 0) {
				fprintf(stderr, "nft-driver: bad subnet '%s'\n", token);
				return -EINVAL;
			}
			if (ip_prefix_nth(&v->subnets[count], 1, &v->gateways[count]) < 0) {
				fprintf(stderr, "nft-driver: no gateway in '%s'\n", token);
				return -EINVAL;
			}
			count++;
		}
	}
	v->spec.subnets = v->subnets;
	v->spec.gateways = v->gateways;
	v->spec.subnet_count = count;
	return 0;
}

/* [HOSTIP@]HOSTPORT[-LAST]:PORT/PROTO */
static int parse_port(char *text, struct nft_port_spec *p)
{
	char *at = strchr(text, '@'), *slash, *colon, *dash;

	memset(p, 0, sizeof(*p));
	if (at) {
		*at = '\0';
		if (ip_addr_parse(text, AF_UNSPEC, &p->host_addr) < 0)
			return -EINVAL;
		text = at + 1;
	}
	slash = strchr(text, '/');
	colon = strchr(text, ':');
	if (!slash || !colon)
		return -EINVAL;
	*slash = *colon = '\0';
	p->proto = streq(slash + 1, "tcp")   ? IPPROTO_TCP
		   : streq(slash + 1, "udp") ? IPPROTO_UDP
					     : 0;
	dash = strchr(text, '-');
	if (dash)
		*dash = '\0';
	p->host_port = atoi(text);
	p->host_port_last = dash ? atoi(dash + 1) : p->host_port;
	p->port = atoi(colon + 1);
	return 0;
}

static int parse_group(const char *arg, struct driver_group *g)
{
	char *token, *save = NULL, *mac;
	unsigned m[6];

	memset(g, 0, sizeof(*g));
	g->text = strdup(arg);
	if (!g->text)
		return -ENOMEM;
	g->spec.host_ifname = strtok_r(g->text, ",", &save);
	mac = strtok_r(NULL, ",", &save);
	if (!g->spec.host_ifname || !mac ||
	    sscanf(mac, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6) {
		fprintf(stderr, "nft-driver: bad group '%s'\n", arg);
		return -EINVAL;
	}
	for (int i = 0; i < 6; i++)
		g->spec.mac[i] = m[i];
	g->spec.addrs = g->addrs;
	g->spec.ports = g->ports;
	while ((token = strtok_r(NULL, ",", &save))) {
		if (strncmp(token, "port=", 5) == 0) {
			if (g->spec.port_count == DRIVER_PORTS_MAX ||
			    parse_port(token + 5, &g->ports[g->spec.port_count]) < 0) {
				fprintf(stderr, "nft-driver: bad port '%s'\n", token);
				return -EINVAL;
			}
			g->spec.port_count++;
		} else {
			if (g->spec.addr_count == DRIVER_ADDRS_MAX ||
			    ip_addr_parse(token, AF_UNSPEC, &g->addrs[g->spec.addr_count]) < 0) {
				fprintf(stderr, "nft-driver: bad address '%s'\n", token);
				return -EINVAL;
			}
			g->spec.addr_count++;
		}
	}
	return 0;
}

static const char *const counter_kinds[NFT_COUNTER_KIND_COUNT] = {
    [NFT_COUNTER_GROUP_TX] = "tx",
    [NFT_COUNTER_GROUP_RX] = "rx",
    [NFT_COUNTER_SPOOFED] = "spoofed",
    [NFT_COUNTER_DROPPED] = "dropped",
};

static int print_counters(struct nft_ctx *ctx, struct pw_error *err)
{
	struct nft_counters counters;
	int r = nft_counters_read(ctx, &counters, err);

	if (r < 0)
		return r;
	for (size_t i = 0; i < counters.count; i++)
		printf("%s %s %" PRIu64 " %" PRIu64 "\n", counter_kinds[counters.items[i].kind],
		       counters.items[i].name, counters.items[i].packets, counters.items[i].bytes);
	nft_counters_done(&counters);
	return 0;
}

struct watch {
	struct nft_ctx *ctx;
	const struct nft_vnet_spec *vnets;
	size_t vnet_count;
	const struct nft_group_spec *groups;
	size_t group_count;
	int result;
};

static void watch_alert(struct nft_monitor *monitor, bool lost, void *userdata)
{
	struct watch *w = userdata;
	struct pw_error err = {0};

	if (lost && nft_table_exists(w->ctx) == 1)
		return;
	w->result =
	    nft_table_sync_all(w->ctx, w->vnets, w->vnet_count, w->groups, w->group_count, &err);
	if (w->result < 0)
		fprintf(stderr, "nft-driver: restoring: %s\n", pw_error_message(&err));
	else
		printf("restored\n");
	fflush(stdout);
}

static int watch(struct watch *w, int seconds, struct pw_error *err)
{
	struct nft_monitor *monitor = NULL;
	struct timespec start, now;
	int r;

	r = nft_monitor_new(nft_ctx_portid(w->ctx), watch_alert, w, &monitor, err);
	if (r < 0)
		return r;
	r = nft_table_sync_all(w->ctx, w->vnets, w->vnet_count, w->groups, w->group_count, err);
	if (r < 0)
		goto out;
	nft_monitor_process(monitor); /* our own sync's events */
	printf("watching\n");
	fflush(stdout);
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct pollfd pfd = {.fd = nft_monitor_fd(monitor), .events = POLLIN};

		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec >= seconds)
			break;
		if (poll(&pfd, 1, 100) > 0)
			nft_monitor_process(monitor);
		if (w->result < 0) {
			r = pw_error_set(err, w->result, "restoring failed");
			break;
		}
	}
out:
	nft_monitor_free(monitor);
	return r;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

static int compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void print_times(const char *what, uint64_t *times, size_t count)
{
	qsort(times, count, sizeof(*times), compare_u64);
	printf("%s median_us=%.1f p99_us=%.1f\n", what, times[count / 2] / 1000.0,
	       times[count * 99 / 100] / 1000.0);
}

/* COUNT VNets added one by one onto the table as it is, then removed one
 * by one: the per-call cost netd pays on vnet.create/delete. */
static int time_calls(struct nft_ctx *ctx, size_t count, struct pw_error *err)
{
	_cleanup_free_ uint64_t *add_ns = calloc(count, sizeof(uint64_t));
	_cleanup_free_ uint64_t *remove_ns = calloc(count, sizeof(uint64_t));
	struct nft_vnet_spec spec = {0};
	struct ip_prefix subnet = {.family = AF_INET, .prefixlen = 24};
	char bridge[16];
	size_t i;
	int r;

	if (!add_ns || !remove_ns)
		return -ENOMEM;
	spec.bridge = bridge;
	spec.subnets = &subnet;
	spec.subnet_count = 1;
	for (int pass = 0; pass < 2; pass++)
		for (i = 0; i < count; i++) {
			uint64_t start;

			snprintf(bridge, sizeof(bridge), "pw-t%zu", i);
			/* 10.128.0.0/24 onwards, one /24 each. */
			subnet.addr.bytes[0] = 10;
			subnet.addr.bytes[1] = 128 + i / 256;
			subnet.addr.bytes[2] = i % 256;
			start = now_ns();
			r = pass == 0 ? nft_vnet_add(ctx, &spec, err)
				      : nft_vnet_remove(ctx, &spec, err);
			if (r < 0)
				return r;
			(pass == 0 ? add_ns : remove_ns)[i] = now_ns() - start;
		}
	print_times("nft_vnet_add", add_ns, count);
	print_times("nft_vnet_remove", remove_ns, count);
	return 0;
}

static int main_watch(int argc, char **argv, int seconds);
static int watch_seconds_arg;

int main(int argc, char **argv)
{
	int watch_seconds;
	struct pw_error err = {0};
	struct driver_vnet *vnets = NULL;
	struct nft_vnet_spec *specs = NULL;
	struct driver_group *groups = NULL;
	struct nft_group_spec *group_specs = NULL;
	struct nft_ctx *ctx = NULL;
	size_t vnet_count = 0, group_count = 0, i;
	const char *cmd;
	int r = 0;

	if (argc < 2)
		return usage();
	cmd = argv[1];
	if (streq(cmd, "sync") || streq(cmd, "add") || streq(cmd, "remove") ||
	    streq(cmd, "group-add") || streq(cmd, "group-remove")) {
		bool groups_only = strncmp(cmd, "group-", 6) == 0;
		int first_group = groups_only ? 2 : argc, vnets_end = groups_only ? 2 : argc;

		for (i = 2; i < (size_t)argc && !groups_only; i++)
			if (streq(argv[i], "--")) {
				vnets_end = i;
				first_group = i + 1;
				break;
			}
		vnet_count = vnets_end - 2;
		group_count = argc - first_group;
		if ((streq(cmd, "add") || streq(cmd, "remove")) && (vnet_count != 1 || group_count))
			return usage();
		if (!streq(cmd, "sync") && !groups_only && first_group != argc)
			return usage();
		vnets = calloc(vnet_count ? vnet_count : 1, sizeof(*vnets));
		specs = calloc(vnet_count ? vnet_count : 1, sizeof(*specs));
		groups = calloc(group_count ? group_count : 1, sizeof(*groups));
		group_specs = calloc(group_count ? group_count : 1, sizeof(*group_specs));
		if (!vnets || !specs || !groups || !group_specs)
			return 1;
		for (i = 0; i < vnet_count; i++) {
			if (parse_vnet(argv[i + 2], &vnets[i]) < 0) {
				r = 2;
				goto out;
			}
			specs[i] = vnets[i].spec;
		}
		for (i = 0; i < group_count; i++) {
			if (parse_group(argv[first_group + i], &groups[i]) < 0) {
				r = 2;
				goto out;
			}
			group_specs[i] = groups[i].spec;
		}
	} else if (streq(cmd, "watch")) {
		/* watch SECONDS, then the same arguments as sync */
		if (argc < 3 || atoi(argv[2]) <= 0)
			return usage();
		watch_seconds = atoi(argv[2]);
		argv[2] = (char *)"sync";
		return main_watch(argc - 1, argv + 1, watch_seconds);
	} else if (streq(cmd, "time")) {
		if (argc != 3 || atoi(argv[2]) <= 0)
			return usage();
	} else if (streq(cmd, "peer") || streq(cmd, "unpeer")) {
		if (argc != 4)
			return usage();
	} else if (!streq(cmd, "exists") && !streq(cmd, "remove-table") &&
		   !streq(cmd, "counters")) {
		return usage();
	}

	r = nft_ctx_new(&ctx, &err);
	if (r >= 0) {
		if (streq(cmd, "sync") && watch_seconds_arg) {
			struct watch w = {ctx, specs, vnet_count, group_specs, group_count, 0};
			r = watch(&w, watch_seconds_arg, &err);
		} else if (streq(cmd, "sync"))
			r = nft_table_sync_all(ctx, specs, vnet_count, group_specs, group_count,
					       &err);
		else if (streq(cmd, "add"))
			r = nft_vnet_add(ctx, &specs[0], &err);
		else if (streq(cmd, "remove"))
			r = nft_vnet_remove(ctx, &specs[0], &err);
		else if (streq(cmd, "group-add"))
			r = nft_group_add(ctx, group_specs, group_count, &err);
		else if (streq(cmd, "group-remove"))
			r = nft_group_remove(ctx, group_specs, group_count, &err);
		else if (streq(cmd, "peer"))
			r = nft_vnet_peer(ctx, argv[2], argv[3], &err);
		else if (streq(cmd, "unpeer"))
			r = nft_vnet_unpeer(ctx, argv[2], argv[3], &err);
		else if (streq(cmd, "counters"))
			r = print_counters(ctx, &err);
		else if (streq(cmd, "remove-table"))
			r = nft_table_remove(ctx, &err);
		else if (streq(cmd, "time"))
			r = time_calls(ctx, atoi(argv[2]), &err);
		else {
			r = nft_table_exists(ctx);
			if (r >= 0)
				printf("%d\n", r);
			else
				pw_error_set(&err, r, "nftables: table lookup: %s", strerror(-r));
		}
	}
	if (r < 0)
		fprintf(stderr, "nft-driver: %s\n", pw_error_message(&err));
	r = r < 0 ? 1 : 0;
out:
	nft_ctx_free(ctx);
	for (i = 0; i < vnet_count; i++)
		free(vnets[i].text);
	for (i = 0; i < group_count; i++)
		free(groups[i].text);
	free(vnets);
	free(specs);
	free(groups);
	free(group_specs);
	return r;
}

/* watch: main() again with "sync ARGS", watching for SECONDS instead of a
 * single sync. */
static int main_watch(int argc, char **argv, int seconds)
{
	watch_seconds_arg = seconds;
	return main(argc, argv);
}
