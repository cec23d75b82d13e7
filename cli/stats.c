/* `podwire stats`: daemon statistics. `stats` (or `stats netd`) reads
 * podwire-netd's counters (its "stats" method: per-group traffic and spoof
 * drops, per-VNet totals and isolation drops, operation latencies), also as
 * Prometheus text (lib/prom-text.c, shared with netd's metrics listener);
 * `stats dns` reads podwire-dnsd's counters (its "stats.get" method on
 * dnsd.sock). */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "prom-text.h"

#define CMD "stats"

static void usage_family(FILE *out)
{
	fprintf(out, "Usage: podwire stats [netd] [--json|--prometheus]\n"
		     "       podwire stats trust [--json]\n"
		     "       podwire stats dns [--json]\n"
		     "\n"
		     "Shows a daemon's counters.\n"
		     "\n"
		     "Commands:\n"
		     "  [netd] [--json|--prometheus]\n"
		     "                 podwire-netd: bytes and packets each group sent and was\n"
		     "                 sent, frames dropped as spoofed, per-VNet totals and\n"
		     "                 packets dropped by isolation, attach/detach latencies\n"
		     "                 (p50, p99), nftables restores and content-trust denials\n"
		     "  trust [--json]  podwire-netd's content-trust denials only\n"
		     "  dns [--json]   podwire-dnsd: queries, answers by rcode, cache hits and\n"
		     "                 misses, upstream questions and latency\n");
}

static void usage_dns(FILE *out)
{
	fprintf(out,
		"Usage: podwire stats dns [--json]\n"
		"\n"
		"Shows podwire-dnsd's counters since it started:\n"
		"  queries      queries received (UDP and TCP)\n"
		"  local        answered from the VNets' names, records and zones\n"
		"  cached       answered from the cache of forwarded names\n"
		"  forwarded    sent to an upstream (or joined an identical question in flight)\n"
		"  rcodes       replies by response code (NOERROR, NXDOMAIN, SERVFAIL, ...)\n"
		"  cache        hits, misses, entries, bytes, evictions, expired\n"
		"  upstream     questions sent, attempts, timeouts, failures, latency\n"
		"  state        netd stream connected, VNets, groups, zones, records, listeners\n"
		"\n"
		"--json prints dnsd's stats object.\n");
}

static json_int_t get_int(json_t *o, const char *a, const char *b)
{
	json_t *v = json_object_get(o, a);
	if (b)
		v = json_object_get(v, b);
	return json_integer_value(v);
}

static void print_dns(json_t *s)
{
	json_t *rcodes = json_object_get(s, "rcodes");
	const char *key;
	json_t *v;

	printf("Queries:    %" JSON_INTEGER_FORMAT " (udp %" JSON_INTEGER_FORMAT
	       ", tcp %" JSON_INTEGER_FORMAT ")\n",
	       get_int(s, "queries", NULL), get_int(s, "udp", NULL), get_int(s, "tcp", NULL));
	printf("Answered:   local %" JSON_INTEGER_FORMAT ", cached %" JSON_INTEGER_FORMAT
	       ", forwarded %" JSON_INTEGER_FORMAT "\n",
	       get_int(s, "local", NULL), get_int(s, "cached", NULL),
	       get_int(s, "forwarded", NULL));
	printf("Dropped:    %" JSON_INTEGER_FORMAT ", truncated %" JSON_INTEGER_FORMAT
	       ", refused (outside source) %" JSON_INTEGER_FORMAT "\n",
	       get_int(s, "dropped", NULL), get_int(s, "truncated", NULL),
	       get_int(s, "refused_source", NULL));
	printf("Rcodes:    ");
	json_object_foreach(rcodes, key, v) if (json_integer_value(v))
	    printf(" %s %" JSON_INTEGER_FORMAT, key, json_integer_value(v));
	printf("\n");
	printf("Cache:      hits %" JSON_INTEGER_FORMAT ", misses %" JSON_INTEGER_FORMAT
	       ", entries %" JSON_INTEGER_FORMAT ", bytes %" JSON_INTEGER_FORMAT
	       ", evictions %" JSON_INTEGER_FORMAT ", expired %" JSON_INTEGER_FORMAT "\n",
	       get_int(s, "cache", "hits"), get_int(s, "cache", "misses"),
	       get_int(s, "cache", "entries"), get_int(s, "cache", "bytes"),
	       get_int(s, "cache", "evictions"), get_int(s, "cache", "expired"));
	printf("Upstream:   questions %" JSON_INTEGER_FORMAT ", joined %" JSON_INTEGER_FORMAT
	       ", attempts %" JSON_INTEGER_FORMAT ", timeouts %" JSON_INTEGER_FORMAT
	       ", failures %" JSON_INTEGER_FORMAT ", latency avg %" JSON_INTEGER_FORMAT
	       " us, max %" JSON_INTEGER_FORMAT " us\n",
	       get_int(s, "upstream", "queries"), get_int(s, "upstream", "joined"),
	       get_int(s, "upstream", "attempts"), get_int(s, "upstream", "timeouts"),
	       get_int(s, "upstream", "failures"), get_int(s, "upstream", "latency_avg_us"),
	       get_int(s, "upstream", "latency_max_us"));
	json_t *st = json_object_get(s, "state");
	printf("State:      netd %s, vnets %" JSON_INTEGER_FORMAT ", groups %" JSON_INTEGER_FORMAT
	       ", zones %" JSON_INTEGER_FORMAT ", records %" JSON_INTEGER_FORMAT
	       ", listeners %" JSON_INTEGER_FORMAT ", up %" JSON_INTEGER_FORMAT " s\n",
	       json_is_true(json_object_get(st, "netd_connected")) ? "connected" : "disconnected",
	       get_int(st, "vnets", NULL), get_int(st, "groups", NULL), get_int(st, "zones", NULL),
	       get_int(st, "records", NULL), get_int(st, "listeners", NULL),
	       get_int(st, "uptime_s", NULL));
	json_t *tc = json_object_get(s, "tcp_connections");
	printf("TCP conns:  open %" JSON_INTEGER_FORMAT ", evicted (client %" JSON_INTEGER_FORMAT
	       ", gateway %" JSON_INTEGER_FORMAT ", total %" JSON_INTEGER_FORMAT
	       "), query deadline %" JSON_INTEGER_FORMAT ", idle %" JSON_INTEGER_FORMAT
	       ", accept errors %" JSON_INTEGER_FORMAT "\n",
	       get_int(tc, "open", NULL), get_int(tc, "evicted_client", NULL),
	       get_int(tc, "evicted_listener", NULL), get_int(tc, "evicted_total", NULL),
	       get_int(tc, "query_deadline", NULL), get_int(tc, "idle_timeout", NULL),
	       get_int(tc, "accept_errors", NULL));
}

static int stats_dns(struct cli_ctx *ctx, int argc, char **argv)
{
	bool as_json = false;
	json_auto_t *result = NULL;
	for (int i = 1; i < argc; i++) {
		if (streq(argv[i], "--json")) {
			as_json = true;
		} else if (streq(argv[i], "-h") || streq(argv[i], "--help")) {
			usage_dns(stdout);
			return CLI_EXIT_OK;
		} else {
			return cli_usage_error(CMD " dns", "unexpected argument '%s'", argv[i]);
		}
	}
	if (cli_call(ctx, "dnsd", "stats dns", "stats.get", NULL, &result) < 0)
		return CLI_EXIT_FAILURE;
	if (as_json)
		cli_print_json(result);
	else
		print_dns(result);
	return CLI_EXIT_OK;
}

static void usage_netd(FILE *out)
{
	fprintf(out, "Usage: podwire stats [netd] [--json|--prometheus]\n"
		     "\n"
		     "Shows podwire-netd's counters (nftables counters, from zero when a group is\n"
		     "attached or the tables are restored):\n"
		     "  groups       per group: RX (bytes/packets it was sent), TX (it sent), and\n"
		     "               frames dropped because their source MAC or address was not\n"
		     "               the group's (SPOOFED)\n"
		     "  vnets        per VNet: the sums over its groups, and packets dropped by\n"
		     "               isolation (to or from its bridge)\n"
		     "  operations   attach and detach: count, p50 and p99 latency (last 4096)\n"
		     "  nftables     how often netd restored its tables, and when it last did\n"
		     "  trust        content-trust denials per VNet or share and mode: images\n"
		     "               not trusted (refused under enforce, admitted under audit),\n"
		     "               reported by podwire-hook or counted by netd for attaches\n"
		     "               without a verdict; from zero when netd starts\n"
		     "\n"
		     "--json prints netd's stats object (docs/netd.md); --prometheus prints the\n"
		     "Prometheus text exposition format (version 0.0.4).\n");
}

static const char *fmt_int(json_t *o, const char *key, char *buf, size_t size)
{
	snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(json_object_get(o, key)));
	return buf;
}

static void print_trust(json_t *s)
{
	json_t *items = json_object_get(s, "trust"), *item;
	struct table *t;
	size_t i;

	if (json_array_size(items) == 0) {
		printf("content trust: no denials\n");
		return;
	}
	t = table_new(4, "TRUST", "NAME", "MODE", "DENIED");
	json_array_foreach(items, i, item)
	{
		char denied[32];

		table_add_row(t, json_string_value(json_object_get(item, "kind")),
			      json_string_value(json_object_get(item, "name")),
			      json_string_value(json_object_get(item, "mode")),
			      fmt_int(item, "denied", denied, sizeof(denied)));
	}
	table_print(t, stdout);
	table_free(t);
}

static void print_netd(json_t *s)
{
	struct table *t;
	json_t *item, *op;
	const char *key;
	size_t i;

	t = table_new(6, "GROUP", "RX BYTES", "RX PACKETS", "TX BYTES", "TX PACKETS", "SPOOFED");
	json_array_foreach(json_object_get(s, "groups"), i, item)
	{
		char a[32], b[32], c[32], d[32], e[32];

		table_add_row(t, json_string_value(json_object_get(item, "id")),
			      fmt_int(item, "rx_bytes", a, sizeof(a)),
			      fmt_int(item, "rx_packets", b, sizeof(b)),
			      fmt_int(item, "tx_bytes", c, sizeof(c)),
			      fmt_int(item, "tx_packets", d, sizeof(d)),
			      fmt_int(item, "spoofed_packets", e, sizeof(e)));
	}
	table_print(t, stdout);
	table_free(t);
	printf("\n");
	t = table_new(7, "VNET", "GROUPS", "RX BYTES", "TX BYTES", "SPOOFED", "ISOLATION DROPS",
		      "ISOLATION BYTES");
	json_array_foreach(json_object_get(s, "vnets"), i, item)
	{
		char a[32], b[32], c[32], d[32], e[32], f[32];

		table_add_row(t, json_string_value(json_object_get(item, "name")),
			      fmt_int(item, "groups", a, sizeof(a)),
			      fmt_int(item, "rx_bytes", b, sizeof(b)),
			      fmt_int(item, "tx_bytes", c, sizeof(c)),
			      fmt_int(item, "spoofed_packets", d, sizeof(d)),
			      fmt_int(item, "isolation_dropped_packets", e, sizeof(e)),
			      fmt_int(item, "isolation_dropped_bytes", f, sizeof(f)));
	}
	table_print(t, stdout);
	table_free(t);
	printf("\n");
	json_object_foreach(json_object_get(s, "operations"), key, op)
	    printf("%-7s %" JSON_INTEGER_FORMAT " operations, p50 %" JSON_INTEGER_FORMAT
		   " us, p99 %" JSON_INTEGER_FORMAT " us\n",
		   key, get_int(op, "count", NULL), get_int(op, "p50_us", NULL),
		   get_int(op, "p99_us", NULL));
	printf("nftables restored %" JSON_INTEGER_FORMAT " time(s)\n",
	       get_int(s, "nftables", "restores"));
	printf("\n");
	print_trust(s);
}

static void usage_trust(FILE *out)
{
	fprintf(out, "Usage: podwire stats trust [--json]\n"
		     "\n"
		     "Shows podwire-netd's content-trust denials (docs/trust.md), one row per\n"
		     "VNet or share and mode: how many containers' images were not trusted,\n"
		     "refused under enforce, admitted under audit. podwire-hook reports its\n"
		     "verdicts; netd counts attaches that came without one (podwire-cni,\n"
		     "'podwire group attach'). The counters start from zero when netd starts.\n"
		     "--json prints the \"trust\" member of netd's stats object.\n");
}

static int stats_trust(struct cli_ctx *ctx, int argc, char **argv)
{
	bool as_json = false;
	json_auto_t *result = NULL;

	for (int i = 1; i < argc; i++) {
		if (streq(argv[i], "--json")) {
			as_json = true;
		} else if (streq(argv[i], "-h") || streq(argv[i], "--help")) {
			usage_trust(stdout);
			return CLI_EXIT_OK;
		} else {
			return cli_usage_error(CMD " trust", "unexpected argument '%s'", argv[i]);
		}
	}
	if (cli_call(ctx, "netd", "stats trust", "stats", NULL, &result) < 0)
		return CLI_EXIT_FAILURE;
	if (as_json)
		cli_print_json(json_object_get(result, "trust") ?: json_array());
	else
		print_trust(result);
	return CLI_EXIT_OK;
}

static int stats_netd(struct cli_ctx *ctx, int argc, char **argv, int first)
{
	bool as_json = false, prometheus = false;
	json_auto_t *result = NULL;

	for (int i = first; i < argc; i++) {
		if (streq(argv[i], "--json")) {
			as_json = true;
		} else if (streq(argv[i], "--prometheus")) {
			prometheus = true;
		} else if (streq(argv[i], "-h") || streq(argv[i], "--help")) {
			usage_netd(stdout);
			return CLI_EXIT_OK;
		} else {
			return cli_usage_error(CMD, "unexpected argument '%s'", argv[i]);
		}
	}
	if (as_json && prometheus)
		return cli_usage_error(CMD, "--json and --prometheus exclude each other");
	if (cli_call(ctx, "netd", "stats", "stats", NULL, &result) < 0)
		return CLI_EXIT_FAILURE;
	if (as_json) {
		cli_print_json(result);
	} else if (prometheus) {
		if (prom_text_netd_stats(result, stdout) < 0)
			return cli_fail("stats: cannot write the Prometheus text");
	} else {
		print_netd(result);
	}
	return CLI_EXIT_OK;
}

int cli_stats_main(struct cli_ctx *ctx, int argc, char **argv)
{
	if (argc < 2 || streq(argv[1], "--json") || streq(argv[1], "--prometheus"))
		return stats_netd(ctx, argc, argv, 1);
	if (streq(argv[1], "netd"))
		return stats_netd(ctx, argc, argv, 2);
	if (streq(argv[1], "--help") || streq(argv[1], "-h") || streq(argv[1], "help")) {
		usage_family(stdout);
		return CLI_EXIT_OK;
	}
	if (streq(argv[1], "dns"))
		return stats_dns(ctx, argc - 1, argv + 1);
	if (streq(argv[1], "trust"))
		return stats_trust(ctx, argc - 1, argv + 1);
	return cli_usage_error(CMD, "unknown command 'stats %s'", argv[1]);
}
