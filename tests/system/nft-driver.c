/* Test driver for netd/nft.c: makes the calls netd makes, from the command
 * line, in the netns it runs in (tests run it with `ip netns exec`).
 *
 *   nft-driver sync [VNET...]     replace table inet podwire
 *   nft-driver add VNET           nft_vnet_add
 *   nft-driver remove VNET        nft_vnet_remove
 *   nft-driver exists             prints 1 or 0 (nft_table_exists)
 *   nft-driver remove-table       nft_table_remove
 *   nft-driver time COUNT         COUNT x (add, remove) of VNets pw-t0.. on
 *                                 the table as it is; prints the median and
 *                                 p99 microseconds of each call
 *
 * VNET is BRIDGE[,CIDR]...[,internal][,isolate], e.g.
 * pw-a,10.1.0.0/24,fd00:1::/64,isolate. Errors: one line on stderr, exit 1
 * (2 for usage). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "macro.h"
#include "../../netd/nft.h"
#include "prefix.h"

/* Enough for an IPv4 and an IPv6 subnet and then some. */
#define DRIVER_SUBNETS_MAX 8

struct driver_vnet {
	char *text; /* strtok'd copy of the argument; bridge points into it */
	struct ip_prefix subnets[DRIVER_SUBNETS_MAX];
	struct nft_vnet_spec spec;
};

static int usage(void)
{
	fprintf(stderr, "usage: nft-driver sync [VNET...] | add VNET | remove VNET | exists | "
			"remove-table | time COUNT\n"
			"  VNET = BRIDGE[,CIDR]...[,internal][,isolate]\n");
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
		if (streq(token, "internal")) {
			v->spec.internal = true;
		} else if (streq(token, "isolate")) {
			v->spec.isolate = true;
		} else {
			if (count == DRIVER_SUBNETS_MAX) {
				fprintf(stderr, "nft-driver: too many subnets in '%s'\n", arg);
				return -EINVAL;
			}
			if (ip_prefix_parse(token, AF_UNSPEC, &v->subnets[count]) < 0) {
				fprintf(stderr, "nft-driver: bad subnet '%s'\n", token);
				return -EINVAL;
			}
			count++;
		}
	}
	v->spec.subnets = v->subnets;
	v->spec.subnet_count = count;
	return 0;
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

int main(int argc, char **argv)
{
	struct pw_error err = {0};
	struct driver_vnet *vnets = NULL;
	struct nft_vnet_spec *specs = NULL;
	struct nft_ctx *ctx = NULL;
	size_t vnet_count = 0, i;
	const char *cmd;
	int r;

	if (argc < 2)
		return usage();
	cmd = argv[1];
	if (streq(cmd, "sync") || streq(cmd, "add") || streq(cmd, "remove")) {
		vnet_count = argc - 2;
		if (!streq(cmd, "sync") && vnet_count != 1)
			return usage();
		vnets = calloc(vnet_count ? vnet_count : 1, sizeof(*vnets));
		specs = calloc(vnet_count ? vnet_count : 1, sizeof(*specs));
		if (!vnets || !specs)
			return 1;
		for (i = 0; i < vnet_count; i++) {
			if (parse_vnet(argv[i + 2], &vnets[i]) < 0) {
				r = 2;
				goto out;
			}
			specs[i] = vnets[i].spec;
		}
	} else if (streq(cmd, "time")) {
		if (argc != 3 || atoi(argv[2]) <= 0)
			return usage();
	} else if (!streq(cmd, "exists") && !streq(cmd, "remove-table")) {
		return usage();
	}

	r = nft_ctx_new(&ctx, &err);
	if (r >= 0) {
		if (streq(cmd, "sync"))
			r = nft_table_sync(ctx, specs, vnet_count, &err);
		else if (streq(cmd, "add"))
			r = nft_vnet_add(ctx, &specs[0], &err);
		else if (streq(cmd, "remove"))
			r = nft_vnet_remove(ctx, &specs[0], &err);
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
	free(vnets);
	free(specs);
	return r;
}
