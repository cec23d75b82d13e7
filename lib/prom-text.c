/* Prometheus text exposition of netd's stats object (see prom-text.h).
 * Metric names, HELP texts and their order are an interface: dashboards
 * and alerts name them, and the CLI and the listener must agree. */
#include <errno.h>

#include "macro.h"
#include "prom-text.h"

/* One counter per group or VNet: metric name (after "podwire_"), the stats
 * object's member it reads, HELP text. */
struct counter_metric {
	const char *metric, *key, *help;
};

static const struct counter_metric group_metrics[] = {
    {"group_receive_bytes_total", "rx_bytes", "Bytes the group was sent."},
    {"group_receive_packets_total", "rx_packets", "Packets the group was sent."},
    {"group_transmit_bytes_total", "tx_bytes", "Bytes the group sent."},
    {"group_transmit_packets_total", "tx_packets", "Packets the group sent."},
    {"group_spoofed_packets_total", "spoofed_packets",
     "Frames from the group dropped: not its source MAC or address."},
};

static const struct counter_metric vnet_metrics[] = {
    {"vnet_receive_bytes_total", "rx_bytes", "Bytes the VNet's groups were sent."},
    {"vnet_transmit_bytes_total", "tx_bytes", "Bytes the VNet's groups sent."},
    {"vnet_spoofed_packets_total", "spoofed_packets",
     "Frames from the VNet's groups dropped as spoofed."},
    {"vnet_isolation_dropped_packets_total", "isolation_dropped_packets",
     "Packets to or from the VNet dropped by isolation."},
    {"vnet_isolation_dropped_bytes_total", "isolation_dropped_bytes",
     "Bytes to or from the VNet dropped by isolation."},
};

static json_int_t get_int(json_t *o, const char *a, const char *b)
{
	json_t *v = json_object_get(o, a);

	if (b)
		v = json_object_get(v, b);
	return json_integer_value(v);
}

/* Label values: backslash, double quote and newline escaped. */
static void label_value(const char *v, FILE *out)
{
	for (; v && *v; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', out);
		if (*v == '\n') {
			fputs("\\n", out);
			continue;
		}
		fputc(*v, out);
	}
}

static void counter_family(json_t *items, const char *label, const char *label_key,
			   const struct counter_metric *m, FILE *out)
{
	const char *metric = m->metric;
	json_t *item;
	size_t i;

	fprintf(out, "# HELP podwire_%s %s\n# TYPE podwire_%s counter\n", metric, m->help, metric);
	json_array_foreach(items, i, item)
	{
		fprintf(out, "podwire_%s{%s=\"", metric, label);
		label_value(json_string_value(json_object_get(item, label_key)), out);
		fprintf(out, "\"} %" JSON_INTEGER_FORMAT "\n",
			json_integer_value(json_object_get(item, m->key)));
	}
}

/* Content trust: denials per (kind, name, mode), counted by netd. */
static void trust_family(json_t *items, FILE *out)
{
	json_t *item;
	size_t i;

	fprintf(out, "# HELP podwire_trust_denied_total Containers whose image was not trusted "
		     "by a VNet's or share's content-trust policy (enforce: refused; audit: "
		     "admitted).\n# TYPE podwire_trust_denied_total counter\n");
	json_array_foreach(items, i, item)
	{
		fputs("podwire_trust_denied_total{kind=\"", out);
		label_value(json_string_value(json_object_get(item, "kind")), out);
		fputs("\",name=\"", out);
		label_value(json_string_value(json_object_get(item, "name")), out);
		fputs("\",mode=\"", out);
		label_value(json_string_value(json_object_get(item, "mode")), out);
		fprintf(out, "\"} %" JSON_INTEGER_FORMAT "\n", get_int(item, "denied", NULL));
	}
}

int prom_text_netd_stats(json_t *stats, FILE *out)
{
	const char *key;
	json_t *op;

	for (size_t i = 0; i < ARRAY_SIZE(group_metrics); i++)
		counter_family(json_object_get(stats, "groups"), "group", "id", &group_metrics[i],
			       out);
	for (size_t i = 0; i < ARRAY_SIZE(vnet_metrics); i++)
		counter_family(json_object_get(stats, "vnets"), "vnet", "name", &vnet_metrics[i],
			       out);
	fprintf(out, "# HELP podwire_operation_duration_seconds Latency of netd operations (last "
		     "4096).\n# TYPE podwire_operation_duration_seconds summary\n");
	json_object_foreach(json_object_get(stats, "operations"), key, op)
	{
		fputs("podwire_operation_duration_seconds{operation=\"", out);
		label_value(key, out);
		fprintf(out, "\",quantile=\"0.5\"} %.6f\n",
			(double)get_int(op, "p50_us", NULL) / 1e6);
		fputs("podwire_operation_duration_seconds{operation=\"", out);
		label_value(key, out);
		fprintf(out, "\",quantile=\"0.99\"} %.6f\n",
			(double)get_int(op, "p99_us", NULL) / 1e6);
		fputs("podwire_operation_duration_seconds_count{operation=\"", out);
		label_value(key, out);
		fprintf(out, "\"} %" JSON_INTEGER_FORMAT "\n", get_int(op, "count", NULL));
	}
	fprintf(out,
		"# HELP podwire_nftables_restores_total Times netd restored its nftables "
		"tables.\n# TYPE podwire_nftables_restores_total counter\n"
		"podwire_nftables_restores_total %" JSON_INTEGER_FORMAT "\n",
		get_int(stats, "nftables", "restores"));
	trust_family(json_object_get(stats, "trust"), out);
	return ferror(out) ? -EIO : 0;
}
