/* `podwire cluster`: the cluster this host's netd belongs to
 * (docs/cluster.md). `cluster status` shows netd's "cluster.status": this
 * host's registration and lease, the etcd connection, and the hosts netd
 * sees. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define CMD "cluster"

static void usage_family(FILE *out)
{
	fprintf(out, "Usage: podwire cluster status [--json]\n"
		     "\n"
		     "The cluster of hosts that share VNets through etcd (podwire-netd\n"
		     "--cluster-etcd).\n"
		     "\n"
		     "Commands:\n"
		     "  status [--json]  this host's registration, its lease, the etcd\n"
		     "                   connection and the hosts netd sees\n");
}

static void usage_status(FILE *out)
{
	fprintf(out, "Usage: podwire cluster status [--json]\n"
		     "\n"
		     "Shows, from podwire-netd's view (no request to etcd is made):\n"
		     "  Host        this host's name and underlay address\n"
		     "  Registered  whether its record is in etcd on a live lease, the lease\n"
		     "              (hex) and its TTL, and for how long\n"
		     "  etcd        the endpoints, whether the watch is connected (healthy: it\n"
		     "              is and the host is registered), the last error and its age\n"
		     "  hosts       every registered host: name, underlay, lease\n"
		     "\n"
		     "Fails on a netd started without --cluster-etcd. --json prints netd's\n"
		     "cluster.status object (docs/netd.md).\n");
}

static const char *str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static json_int_t num(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static void print_status(json_t *s)
{
	json_t *etcd = json_object_get(s, "etcd"), *host;
	bool watching = json_is_true(json_object_get(etcd, "watching"));
	const char *watch_endpoint = str(etcd, "watch_endpoint");
	struct table *t;
	size_t i;

	printf("Host:       %s (underlay %s)\n", str(s, "host"), str(s, "underlay"));
	if (json_is_true(json_object_get(s, "registered")))
		printf("Registered: yes, lease %" PRIx64 " (TTL %" JSON_INTEGER_FORMAT
		       " s), for %" JSON_INTEGER_FORMAT " s\n",
		       (uint64_t)num(s, "lease"), num(s, "lease_ttl_s"),
		       num(s, "registered_for_s"));
	else
		printf("Registered: no\n");
	printf("etcd:       %s, watch %s%s\n",
	       json_is_true(json_object_get(etcd, "healthy")) ? "healthy" : "unhealthy",
	       watching ? "connected to " : "disconnected",
	       watching && watch_endpoint ? watch_endpoint : "");
	printf("Endpoints:  %s\n", str(etcd, "endpoints"));
	if (str(etcd, "last_error"))
		printf("Last error: %s (%" JSON_INTEGER_FORMAT " s ago)\n", str(etcd, "last_error"),
		       num(etcd, "last_error_age_s"));
	printf("\n");
	t = table_new(4, "HOST", "UNDERLAY", "LEASE", "SELF");
	json_array_foreach(json_object_get(s, "hosts"), i, host)
	{
		char lease[32];

		snprintf(lease, sizeof(lease), "%" PRIx64, (uint64_t)num(host, "lease"));
		table_add_row(t, str(host, "name"), str(host, "underlay"), lease,
			      json_is_true(json_object_get(host, "self")) ? "yes" : NULL);
	}
	table_print(t, stdout);
	table_free(t);
}

static int cluster_status(struct cli_ctx *ctx, int argc, char **argv)
{
	json_auto_t *result = NULL;
	bool as_json = false;

	for (int i = 2; i < argc; i++) {
		if (streq(argv[i], "--json")) {
			as_json = true;
		} else if (streq(argv[i], "-h") || streq(argv[i], "--help")) {
			usage_status(stdout);
			return CLI_EXIT_OK;
		} else {
			return cli_usage_error(CMD " status", "unexpected argument '%s'", argv[i]);
		}
	}
	if (cli_call(ctx, "netd", "cluster status", "cluster.status", NULL, &result) < 0)
		return CLI_EXIT_FAILURE;
	if (as_json)
		cli_print_json(result);
	else
		print_status(result);
	return CLI_EXIT_OK;
}

int cli_cluster_main(struct cli_ctx *ctx, int argc, char **argv)
{
	if (argc < 2) {
		usage_family(stderr);
		return CLI_EXIT_USAGE;
	}
	if (streq(argv[1], "-h") || streq(argv[1], "--help")) {
		usage_family(stdout);
		return CLI_EXIT_OK;
	}
	if (streq(argv[1], "status"))
		return cluster_status(ctx, argc, argv);
	return cli_usage_error(CMD, "unknown command '%s'", argv[1]);
}
