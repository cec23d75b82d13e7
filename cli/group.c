/* `podwire group`: attach container groups (network namespaces) to VNets,
 * detach, list and show them (netd's group.* methods). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "xalloc.h"

#define CMD "group"

static void usage_family(FILE *out)
{
	fprintf(out,
		"Usage: podwire group COMMAND [OPTIONS]\n"
		"\n"
		"Container groups: network namespaces attached to one or more VNets. Each\n"
		"attachment is a veth pair: eth0, eth1, ... inside the group with its address\n"
		"(the first VNet also gives the default route), the other end on the VNet's\n"
		"bridge.\n"
		"\n"
		"Commands:\n"
		"  attach GROUP --netns PATH --vnet NAME[,NAME] [...]  attach a group\n"
		"  detach GROUP                                        detach it\n"
		"  ls [--vnet NAME] [--json]                           list groups\n"
		"  show GROUP [--json]                                 show one group\n"
		"\n"
		"'podwire group COMMAND --help' describes a command.\n");
}

static void usage_attach(FILE *out)
{
	fprintf(out,
		"Usage: podwire group attach GROUP --netns PATH --vnet NAME[,NAME] [OPTIONS]\n"
		"\n"
		"Attaches the group GROUP (an id: letters, digits, '_', '.', '-'; up to 128)\n"
		"whose network namespace is PATH (e.g. /run/netns/web or /proc/PID/ns/net) to\n"
		"the given VNets, in order: eth0 on the first, eth1 on the second, ... Each\n"
		"gets the lowest free address of its VNet unless --ip names one. Attaching\n"
		"the same group again with the same settings succeeds and changes nothing.\n"
		"\n"
		"Options:\n"
		"  --netns PATH       the group's network namespace (required)\n"
		"  --vnet NAME[,...]  VNets to attach to, in order (required; repeatable)\n"
		"  --ip [VNET=]IP     a static IPv4 address; without VNET= it is for the first\n"
		"                     VNet (repeatable, once per VNet)\n"
		"  --mac MAC          MAC address of eth0 (default: derived from the group id)\n"
		"  --hostname NAME    DNS name of the group (default: the id, if it is a valid\n"
		"                     host name)\n"
		"  --alias NAME       another DNS name (repeatable)\n"
		"  --publish [HOSTIP:]HOSTPORT[-LAST]:PORT[/tcp|udp]\n"
		"                     publish a port (or a range, one to one) of the group on\n"
		"                     the host: HOSTPORT on every host address (or HOSTIP only;\n"
		"                     an IPv6 one in brackets) goes to PORT of the group's\n"
		"                     first address; tcp by default. Reachable from outside,\n"
		"                     from the host and from groups, the group itself included.\n"
		"                     A host port another group publishes is refused\n"
		"                     (repeatable, at most 32)\n"
		"  --rate RATE        limit what the group sends and receives, each, to RATE:\n"
		"                     a number with bit, kbit, mbit, gbit (bits/s) or bps,\n"
		"                     kbps, mbps, gbps (bytes/s), e.g. 100mbit\n"
		"  --json             print the attached group as JSON\n"
		"  -h, --help         show this help\n");
}

static void usage_detach(FILE *out)
{
	fprintf(out, "Usage: podwire group detach GROUP\n"
		     "\n"
		     "Removes the group's interfaces and releases its addresses. Detaching a\n"
		     "group that is not attached succeeds.\n");
}

static void usage_ls(FILE *out)
{
	fprintf(out, "Usage: podwire group ls [--vnet NAME] [--json]\n"
		     "\n"
		     "Lists the attached groups (only those on VNet NAME with --vnet): id,\n"
		     "VNets, addresses, host name and network namespace. --json prints netd's\n"
		     "objects (docs/netd.md).\n");
}

static void usage_show(FILE *out)
{
	fprintf(out, "Usage: podwire group show GROUP [--json]\n"
		     "\n"
		     "Shows a group and each of its attachments: interface, host-side interface,\n"
		     "MAC, addresses and gateway. --json prints netd's object.\n");
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

static void split_append(json_t *array, const char *list)
{
	_cleanup_free_ char *copy = xstrdup(list);
	char *save = NULL;

	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		json_array_append_new(array, json_string(tok));
}

static int group_attach(struct cli_ctx *ctx, int argc, char **argv)
{
	enum {
		OPT_NETNS = 256,
		OPT_VNET,
		OPT_IP,
		OPT_MAC,
		OPT_HOSTNAME,
		OPT_ALIAS,
		OPT_PUBLISH,
		OPT_RATE,
		OPT_JSON
	};
	static const struct option options[] = {
	    {"netns", required_argument, NULL, OPT_NETNS},
	    {"vnet", required_argument, NULL, OPT_VNET},
	    {"ip", required_argument, NULL, OPT_IP},
	    {"mac", required_argument, NULL, OPT_MAC},
	    {"hostname", required_argument, NULL, OPT_HOSTNAME},
	    {"alias", required_argument, NULL, OPT_ALIAS},
	    {"publish", required_argument, NULL, OPT_PUBLISH},
	    {"rate", required_argument, NULL, OPT_RATE},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	json_auto_t *params = json_object(), *result = NULL, *ip_args = json_array();
	json_t *vnets = json_array(), *aliases = NULL, *ips = NULL, *ports = NULL;
	bool as_json = false;
	size_t i;
	json_t *item;
	int c;

	json_object_set_new(params, "vnets", vnets);
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case OPT_NETNS:
			json_object_set_new(params, "netns", json_string(optarg));
			break;
		case OPT_VNET:
			split_append(vnets, optarg);
			break;
		case OPT_IP:
			json_array_append_new(ip_args, json_string(optarg));
			break;
		case OPT_MAC:
			json_object_set_new(params, "mac", json_string(optarg));
			break;
		case OPT_HOSTNAME:
			json_object_set_new(params, "hostname", json_string(optarg));
			break;
		case OPT_ALIAS:
			if (!aliases) {
				aliases = json_array();
				json_object_set_new(params, "aliases", aliases);
			}
			json_array_append_new(aliases, json_string(optarg));
			break;
		case OPT_PUBLISH:
			if (!ports) {
				ports = json_array();
				json_object_set_new(params, "ports", ports);
			}
			json_array_append_new(ports, json_string(optarg));
			break;
		case OPT_RATE:
			json_object_set_new(params, "rate", json_string(optarg));
			break;
		case OPT_JSON:
			as_json = true;
			break;
		case 'h':
			usage_attach(stdout);
			return CLI_EXIT_OK;
		default:
			return cli_usage_error(CMD " attach",
					       "invalid option or missing value: '%s'",
					       argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return cli_usage_error(CMD " attach", "expected exactly one group id");
	if (!json_object_get(params, "netns"))
		return cli_usage_error(CMD " attach", "--netns is required");
	if (json_array_size(vnets) == 0)
		return cli_usage_error(CMD " attach", "--vnet is required");
	json_array_foreach(ip_args, i, item)
	{
		const char *arg = json_string_value(item);
		const char *eq = strchr(arg, '=');
		_cleanup_free_ char *vnet = NULL;

		if (eq)
			vnet = xstrndup(arg, (size_t)(eq - arg));
		else
			vnet = xstrdup(json_string_value(json_array_get(vnets, 0)));
		if (!ips) {
			ips = json_object();
			json_object_set_new(params, "ips", ips);
		}
		if (json_object_get(ips, vnet))
			return cli_usage_error(CMD " attach", "two --ip for vnet '%s'", vnet);
		json_object_set_new(ips, vnet, json_string(eq ? eq + 1 : arg));
	}
	json_object_set_new(params, "id", json_string(argv[optind]));

	if (cli_call(ctx, "netd", "group attach", "group.attach", params, &result) < 0)
		return CLI_EXIT_FAILURE;
	if (as_json) {
		cli_print_json(result);
		return CLI_EXIT_OK;
	}
	json_array_foreach(json_object_get(result, "attachments"), i, item)
	{
		_cleanup_free_ char *addresses =
		    join_strings(json_object_get(item, "addresses"), ", ");

		printf("group %s: %s on vnet %s: %s\n", argv[optind],
		       json_string_value(json_object_get(item, "interface")),
		       json_string_value(json_object_get(item, "vnet")), addresses);
	}
	return CLI_EXIT_OK;
}

/* [--json] [--vnet NAME] [-h] and exactly args positional arguments. */
static int parse_simple(int argc, char **argv, const char *cmd, void (*usage)(FILE *),
			bool *ret_json, const char **ret_vnet, size_t args)
{
	static const struct option options[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"vnet", required_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case 'j':
			if (!ret_json)
				return cli_usage_error(cmd, "--json is not an option here");
			*ret_json = true;
			break;
		case 'v':
			if (!ret_vnet)
				return cli_usage_error(cmd, "--vnet is not an option here");
			*ret_vnet = optarg;
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			return cli_usage_error(cmd, "invalid option or missing value: '%s'",
					       argv[optind - 1]);
		}
	}
	if ((size_t)(argc - optind) != args) {
		if (args)
			return cli_usage_error(cmd, "expected exactly one group id");
		return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	}
	return 0;
}

static int group_detach(struct cli_ctx *ctx, int argc, char **argv)
{
	json_auto_t *params = NULL, *result = NULL;
	int r;

	r = parse_simple(argc, argv, CMD " detach", usage_detach, NULL, NULL, 1);
	if (r != 0)
		return r < 0 ? CLI_EXIT_OK : r;
	params = json_pack("{s:s}", "id", argv[optind]);
	if (cli_call(ctx, "netd", "group detach", "group.detach", params, &result) < 0)
		return CLI_EXIT_FAILURE;
	return CLI_EXIT_OK;
}

static int group_ls(struct cli_ctx *ctx, int argc, char **argv)
{
	json_auto_t *params = json_object(), *result = NULL;
	const char *vnet = NULL;
	bool as_json = false;
	struct table *t;
	json_t *group;
	size_t i;
	int r;

	r = parse_simple(argc, argv, CMD " ls", usage_ls, &as_json, &vnet, 0);
	if (r != 0)
		return r < 0 ? CLI_EXIT_OK : r;
	if (vnet)
		json_object_set_new(params, "vnet", json_string(vnet));
	if (cli_call(ctx, "netd", "group ls", "group.list", params, &result) < 0)
		return CLI_EXIT_FAILURE;
	if (as_json) {
		cli_print_json(json_object_get(result, "groups"));
		return CLI_EXIT_OK;
	}
	t = table_new(5, "ID", "VNETS", "ADDRESSES", "HOSTNAME", "NETNS");
	json_array_foreach(json_object_get(result, "groups"), i, group)
	{
		json_auto_t *vnets = json_array(), *addresses = json_array();
		_cleanup_free_ char *vnet_text = NULL, *address_text = NULL;
		json_t *a;
		size_t j;

		json_array_foreach(json_object_get(group, "attachments"), j, a)
		{
			json_array_append(vnets, json_object_get(a, "vnet"));
			json_array_extend(addresses, json_object_get(a, "addresses"));
		}
		vnet_text = join_strings(vnets, ",");
		address_text = join_strings(addresses, ",");
		table_add_row(t, json_string_value(json_object_get(group, "id")), vnet_text,
			      address_text, json_string_value(json_object_get(group, "hostname")),
			      json_string_value(json_object_get(group, "netns")));
	}
	table_print(t, stdout);
	table_free(t);
	return CLI_EXIT_OK;
}

/* "0.0.0.0:8080:80/tcp"-style lines of the published ports. */
static void print_ports(json_t *ports)
{
	json_t *p;
	size_t i;

	printf("Ports:     %s\n", json_array_size(ports) ? "" : "-");
	json_array_foreach(ports, i, p)
	{
		const char *host_ip = json_string_value(json_object_get(p, "host_ip"));
		json_int_t first = json_integer_value(json_object_get(p, "host_port"));
		json_int_t last = json_integer_value(json_object_get(p, "host_port_last"));
		json_int_t port = json_integer_value(json_object_get(p, "port"));
		bool v6 = host_ip && strchr(host_ip, ':');

		printf("  %s%s%s%s", v6 ? "[" : "", host_ip ? host_ip : "*", v6 ? "]" : "", ":");
		if (last > first)
			printf("%" JSON_INTEGER_FORMAT "-%" JSON_INTEGER_FORMAT, first, last);
		else
			printf("%" JSON_INTEGER_FORMAT, first);
		printf(" -> %" JSON_INTEGER_FORMAT, port);
		if (last > first)
			printf("-%" JSON_INTEGER_FORMAT, port + (last - first));
		printf("/%s\n", json_string_value(json_object_get(p, "proto")) ?: "tcp");
	}
}

static void print_rate(json_t *rate)
{
	json_int_t in = json_integer_value(json_object_get(rate, "ingress_bps"));
	json_int_t out = json_integer_value(json_object_get(rate, "egress_bps"));
	char in_text[32] = "unlimited", out_text[32] = "unlimited";

	if (in)
		snprintf(in_text, sizeof(in_text), "%" JSON_INTEGER_FORMAT " bit/s", in);
	if (out)
		snprintf(out_text, sizeof(out_text), "%" JSON_INTEGER_FORMAT " bit/s", out);
	printf("Rate:      receive %s, send %s\n", in_text, out_text);
}

static int group_show(struct cli_ctx *ctx, int argc, char **argv)
{
	json_auto_t *params = NULL, *result = NULL;
	_cleanup_free_ char *aliases = NULL;
	bool as_json = false;
	json_t *a;
	size_t i;
	int r;

	r = parse_simple(argc, argv, CMD " show", usage_show, &as_json, NULL, 1);
	if (r != 0)
		return r < 0 ? CLI_EXIT_OK : r;
	params = json_pack("{s:s}", "id", argv[optind]);
	if (cli_call(ctx, "netd", "group show", "group.show", params, &result) < 0)
		return CLI_EXIT_FAILURE;
	if (as_json) {
		cli_print_json(result);
		return CLI_EXIT_OK;
	}
	aliases = join_strings(json_object_get(result, "aliases"), ", ");
	printf("Id:        %s\n", json_string_value(json_object_get(result, "id")));
	printf("Netns:     %s\n", json_string_value(json_object_get(result, "netns")));
	printf("Hostname:  %s\n", json_string_value(json_object_get(result, "hostname")) ?: "-");
	printf("Aliases:   %s\n", aliases[0] ? aliases : "-");
	json_array_foreach(json_object_get(result, "attachments"), i, a)
	{
		_cleanup_free_ char *addresses =
		    join_strings(json_object_get(a, "addresses"), ", ");

		printf("Attachment %zu:\n", i);
		printf("  VNet:      %s\n", json_string_value(json_object_get(a, "vnet")));
		printf("  Interface: %s (host side %s)\n",
		       json_string_value(json_object_get(a, "interface")),
		       json_string_value(json_object_get(a, "host_interface")));
		printf("  MAC:       %s\n", json_string_value(json_object_get(a, "mac")));
		printf("  Addresses: %s\n", addresses);
		printf("  Gateway:   %s\n", json_string_value(json_object_get(a, "gateway")));
	}
	print_ports(json_object_get(result, "ports"));
	print_rate(json_object_get(result, "rate"));
	return CLI_EXIT_OK;
}

int cli_group_main(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct {
		const char *verb;
		int (*fn)(struct cli_ctx *ctx, int argc, char **argv);
	} verbs[] = {
	    {"attach", group_attach}, {"detach", group_detach}, {"ls", group_ls},
	    {"list", group_ls},	      {"show", group_show},
	};

	if (argc < 2) {
		usage_family(stderr);
		return CLI_EXIT_USAGE;
	}
	if (streq(argv[1], "--help") || streq(argv[1], "-h") || streq(argv[1], "help")) {
		usage_family(stdout);
		return CLI_EXIT_OK;
	}
	for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
		if (streq(argv[1], verbs[i].verb))
			return verbs[i].fn(ctx, argc - 1, argv + 1);
	return cli_usage_error(CMD, "unknown command 'group %s'", argv[1]);
}
