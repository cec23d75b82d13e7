/* `podwire events`: follows netd's event stream (events.subscribe). */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "rpc-client.h"
#include "xalloc.h"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: podwire events [--json] [--snapshot] [--count N]\n"
		"\n"
		"Prints netd's changes as they happen, one line each: VNets created and\n"
		"deleted, groups attached and detached (with addresses, host names and\n"
		"aliases; a detach says why: reason=detach, or reason=netns-gone when\n"
		"the group's network namespace died). Runs until interrupted or netd\n"
		"goes away.\n"
		"\n"
		"Options:\n"
		"  --json        print each event as netd sends it: one JSON object per line,\n"
		"                {\"event\":NAME,\"seq\":N,\"data\":{...}} (docs/netd.md)\n"
		"  --snapshot    first print the current state (the events.subscribe result;\n"
		"                with --json as one JSON line)\n"
		"  --count N     exit after N events\n"
		"  -h, --help    show this help\n");
}

static char *join_strings(json_t *array, const char *sep)
{
	size_t i, len = 1;
	json_t *item;
	char *out;

	json_array_foreach(array, i, item) len +=
	    strlen(json_string_value(item) ?: "") + strlen(sep);
	out = xcalloc(1, len);
	json_array_foreach(array, i, item)
	{
		if (i > 0)
			strcat(out, sep);
		strcat(out, json_string_value(item) ?: "");
	}
	return out;
}

static void print_group_line(const char *prefix, json_t *group)
{
	json_t *a;
	size_t i;

	printf("%s group %s", prefix, json_string_value(json_object_get(group, "id")));
	/* group.detached: why ("detach" or "netns-gone"). */
	if (json_string_value(json_object_get(group, "reason")))
		printf(" reason=%s", json_string_value(json_object_get(group, "reason")));
	if (json_string_value(json_object_get(group, "hostname")))
		printf(" hostname=%s", json_string_value(json_object_get(group, "hostname")));
	if (json_array_size(json_object_get(group, "aliases")) > 0) {
		_cleanup_free_ char *aliases = join_strings(json_object_get(group, "aliases"), ",");

		printf(" aliases=%s", aliases);
	}
	json_array_foreach(json_object_get(group, "attachments"), i, a)
	{
		_cleanup_free_ char *addresses = join_strings(json_object_get(a, "addresses"), ",");

		printf(" %s=%s", json_string_value(json_object_get(a, "vnet")), addresses);
	}
	printf("\n");
}

static void print_vnet_line(const char *prefix, json_t *vnet)
{
	_cleanup_free_ char *subnets = join_strings(json_object_get(vnet, "subnets"), ",");

	printf("%s vnet %s subnets=%s\n", prefix, json_string_value(json_object_get(vnet, "name")),
	       subnets);
}

static void print_event(json_t *message)
{
	const char *event = json_string_value(json_object_get(message, "event")) ?: "?";
	json_t *data = json_object_get(message, "data");
	char prefix[64];

	snprintf(prefix, sizeof(prefix), "%" JSON_INTEGER_FORMAT " %s",
		 json_integer_value(json_object_get(message, "seq")), event);
	if (streq(event, "group.attached") || streq(event, "group.detached"))
		print_group_line(prefix, data);
	else if (streq(event, "vnet.created"))
		print_vnet_line(prefix, data);
	else if (streq(event, "vnet.deleted"))
		printf("%s vnet %s\n", prefix, json_string_value(json_object_get(data, "name")));
	else {
		_cleanup_free_ char *text = json_dumps(data, JSON_COMPACT);

		printf("%s %s\n", prefix, text ?: "");
	}
}

static void print_snapshot(json_t *snapshot)
{
	json_t *item;
	size_t i;

	json_array_foreach(json_object_get(snapshot, "vnets"), i, item)
	    print_vnet_line("snapshot", item);
	json_array_foreach(json_object_get(snapshot, "groups"), i, item)
	    print_group_line("snapshot", item);
}

int cli_events_main(struct cli_ctx *ctx, int argc, char **argv)
{
	enum { OPT_JSON = 256, OPT_SNAPSHOT, OPT_COUNT };
	static const struct option options[] = {
	    {"json", no_argument, NULL, OPT_JSON},
	    {"snapshot", no_argument, NULL, OPT_SNAPSHOT},
	    {"count", required_argument, NULL, OPT_COUNT},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	_cleanup_rpc_client_ struct rpc_client *client = NULL;
	json_auto_t *snapshot = NULL;
	struct pw_error err = {0};
	bool as_json = false, with_snapshot = false;
	long count = -1;
	char path[4096];
	int c, r;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case OPT_JSON:
			as_json = true;
			break;
		case OPT_SNAPSHOT:
			with_snapshot = true;
			break;
		case OPT_COUNT: {
			char *end;

			errno = 0;
			count = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || count < 0)
				return cli_usage_error("events", "invalid count '%s'", optarg);
			break;
		}
		case 'h':
			usage(stdout);
			return CLI_EXIT_OK;
		default:
			return cli_usage_error("events", "invalid option or missing value: '%s'",
					       argv[optind - 1]);
		}
	}
	if (optind != argc)
		return cli_usage_error("events", "unexpected argument '%s'", argv[optind]);

	/* Events go to pipes and scripts as they happen. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	cli_socket_path(ctx, "netd", path, sizeof(path));
	/* No call timeout: events may be hours apart. */
	r = rpc_client_connect(path, 0, &client, &err);
	if (r >= 0)
		r = rpc_client_call(client, "events.subscribe", NULL, &snapshot, &err);
	if (r < 0)
		return cli_fail("events: %s", pw_error_message(&err));
	if (with_snapshot) {
		if (as_json) {
			_cleanup_free_ char *text = json_dumps(snapshot, JSON_COMPACT);

			printf("%s\n", text ?: "{}");
		} else {
			print_snapshot(snapshot);
		}
	}
	for (long seen = 0; count < 0 || seen < count; seen++) {
		json_auto_t *message = NULL;

		r = rpc_client_read(client, &message, &err);
		if (r < 0)
			return cli_fail("events: %s", pw_error_message(&err));
		if (as_json) {
			_cleanup_free_ char *text = json_dumps(message, JSON_COMPACT);

			printf("%s\n", text ?: "{}");
		} else {
			print_event(message);
		}
	}
	return CLI_EXIT_OK;
}
