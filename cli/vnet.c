/* `podwire vnet`: create, list, show and remove virtual networks (netd's
 * vnet.* methods). */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cli.h"
#include "xalloc.h"

#define CMD "vnet"

static void usage_family(FILE *out)
{
	fprintf(out,
		"Usage: podwire vnet COMMAND [OPTIONS]\n"
		"\n"
		"Virtual networks (VNets): each is a Linux bridge on this host with a gateway\n"
		"address per subnet; groups attached to it get addresses from its subnet.\n"
		"Groups on different VNets cannot reach each other; groups reach the outside\n"
		"through NAT unless the VNet is internal.\n"
		"\n"
		"Commands:\n"
		"  create NAME --subnet CIDR [...]  define a VNet\n"
		"  ls [--json]                      list VNets\n"
		"  show NAME [--json]               show one VNet\n"
		"  set NAME [--host-access MODE] [--trust MODE] [--trust-keys KEYSET]\n"
		"                                   change host access or content trust\n"
		"  rm NAME [--force]                delete a VNet\n"
		"  peer NAME OTHER                  let two VNets' groups reach each other\n"
		"  unpeer NAME OTHER                undo a peering\n"
		"\n"
		"'podwire vnet COMMAND --help' describes a command.\n");
}

static void usage_create(FILE *out)
{
	fprintf(out,
		"Usage: podwire vnet create NAME --subnet CIDR [--subnet CIDR6] [OPTIONS]\n"
		"\n"
		"Creates the VNet NAME (1-12 characters of a-z, 0-9 and '-'): a bridge pw-NAME\n"
		"with the gateway address of each subnet. Creating a VNet that exists with\n"
		"the same settings succeeds and changes nothing.\n"
		"\n"
		"Options:\n"
		"  --subnet CIDR     IPv4 subnet, /16 to /30 (required), e.g. 10.1.0.0/24;\n"
		"                    give it again for an optional IPv6 subnet, /48 or\n"
		"                    longer, e.g. fd00:1::/64 (a group's IPv6 address has the\n"
		"                    same host part as its IPv4 address)\n"
		"  --gateway IP      IPv4 gateway (default: the first host, e.g. 10.1.0.1)\n"
		"  --domain DOMAIN   DNS domain of the VNet's groups (default NAME.internal)\n"
		"  --mtu N           MTU of the bridge and the groups' interfaces (default: the\n"
		"                    MTU of the host's default-route interface)\n"
		"  --internal        no outbound traffic: no NAT, nothing leaves the host\n"
		"  --isolate         groups reach the gateway only, not each other\n"
		"  --host-access none|dns|all\n"
		"                    what the VNet's groups reach on this host itself: dns\n"
		"                    (default) DNS on their own gateway only; none: not even\n"
		"                    that; all: any service on their own gateway's addresses\n"
		"                    and on host addresses outside every VNet. Never another\n"
		"                    VNet's gateway. Ping of the own gateway, replies to\n"
		"                    connections the host opens and published ports always work\n"
		"  --dns IP[,IP]     upstream DNS servers (at most 3; default: the host's)\n"
		"  --trust off|audit|enforce\n"
		"                    content trust (docs/trust.md): enforce admits only groups\n"
		"                    whose image podwire-hook found signed by a key of the\n"
		"                    keyset --trust-keys names; audit admits every group and\n"
		"                    counts the others (podwire stats, an event); off (default)\n"
		"                    checks nothing. Groups attached without a verdict\n"
		"                    (podwire-cni, 'podwire group attach') are refused under\n"
		"                    enforce and counted under audit\n"
		"  --trust-keys KEYSET\n"
		"                    the keyset (podwire trust keyset add); required with\n"
		"                    audit and enforce, and it must exist\n"
		"  --json            print the created VNet as JSON\n"
		"  -h, --help        show this help\n"
		"\n"
		"Subnets overlapping another VNet or a route of the host are refused, and so\n"
		"are loopback, link-local, multicast and reserved ranges (IPv4 0/8, 127/8,\n"
		"169.254/16, 224/4, 240/4; IPv6 ::1, ::, ::ffff:0:0/96, fe80::/10, ff00::/8).\n");
}

static void usage_set(FILE *out)
{
	fprintf(
	    out,
	    "Usage: podwire vnet set NAME [--host-access none|dns|all]\n"
	    "                        [--trust off|audit|enforce] [--trust-keys KEYSET] [--json]\n"
	    "\n"
	    "Changes settings of the VNet NAME (see 'vnet create --help'); the other\n"
	    "settings of a VNet are fixed at creation. Setting what is set already\n"
	    "changes nothing.\n"
	    "\n"
	    "  --host-access MODE  what its groups reach on this host; attached groups get\n"
	    "                      the new setting at once, and connections already open\n"
	    "                      stay until they close\n"
	    "  --trust MODE        content trust for the groups attached from now on (groups\n"
	    "                      already attached stay). audit or enforce without\n"
	    "                      --trust-keys keeps the VNet's keyset (one is required);\n"
	    "                      off forgets it\n"
	    "  --trust-keys KEYSET\n"
	    "                      the keyset images must be signed with; alone, it\n"
	    "                      changes the keyset of a VNet under audit or enforce\n");
}

static void usage_ls(FILE *out)
{
	fprintf(out, "Usage: podwire vnet ls [--json]\n"
		     "\n"
		     "Lists the VNets: name, subnets, gateways, MTU, flags, number of attached\n"
		     "groups, DNS domain and content trust (MODE:KEYSET, - when off). --json\n"
		     "prints netd's objects (docs/netd.md).\n");
}

static void usage_show(FILE *out)
{
	fprintf(out, "Usage: podwire vnet show NAME [--json]\n"
		     "\n"
		     "Shows every setting of the VNet NAME. --json prints netd's object.\n");
}

static void usage_peer(FILE *out)
{
	fprintf(out, "Usage: podwire vnet peer NAME OTHER\n"
		     "       podwire vnet unpeer NAME OTHER\n"
		     "\n"
		     "Peers two VNets: groups of NAME and groups of OTHER reach each other (both\n"
		     "ways) and resolve each other's names; isolation inside each VNet stays as\n"
		     "it is. Peering is not transitive: peering a with b and b with c does not\n"
		     "let a reach c. A VNet has at most 32 peers. 'unpeer' ends a peering\n"
		     "(connections already open may last until the kernel forgets them).\n"
		     "Peering peered VNets and unpeering VNets that are not peered succeed.\n");
}

static void usage_rm(FILE *out)
{
	fprintf(out, "Usage: podwire vnet rm NAME [--force]\n"
		     "\n"
		     "Deletes the VNet NAME: its bridge, addresses and firewall elements. A VNet\n"
		     "with attached groups is refused unless --force, which detaches those groups\n"
		     "first (entirely, from all their VNets). Removing a VNet that does not\n"
		     "exist succeeds.\n");
}

/* "a, b" from a JSON array of strings (malloc'd). */
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

static char *flags_text(json_t *vnet)
{
	bool internal = json_is_true(json_object_get(vnet, "internal"));
	bool isolate = json_is_true(json_object_get(vnet, "isolate"));

	if (internal && isolate)
		return xstrdup("internal,isolate");
	if (internal)
		return xstrdup("internal");
	if (isolate)
		return xstrdup("isolate");
	return xstrdup("");
}

/* "enforce:KEYSET", or NULL ("-") when off (malloc'd). */
static char *trust_text(json_t *vnet)
{
	const char *mode = json_string_value(json_object_get(vnet, "trust"));
	const char *keys = json_string_value(json_object_get(vnet, "trust_keys"));

	if (strempty(mode) || streq(mode, "off"))
		return NULL;
	return xasprintf("%s:%s", mode, keys ?: "-");
}

static void print_vnet(json_t *vnet)
{
	_cleanup_free_ char *trust = trust_text(vnet);
	_cleanup_free_ char *subnets = join_strings(json_object_get(vnet, "subnets"), ", ");
	_cleanup_free_ char *gateways = join_strings(json_object_get(vnet, "gateways"), ", ");
	_cleanup_free_ char *dns = join_strings(json_object_get(vnet, "dns_servers"), ", ");
	_cleanup_free_ char *flags = flags_text(vnet);
	_cleanup_free_ char *peers = join_strings(json_object_get(vnet, "peers"), ", ");

	printf("Name:        %s\n", json_string_value(json_object_get(vnet, "name")));
	printf("Bridge:      %s\n", json_string_value(json_object_get(vnet, "bridge")));
	printf("Subnets:     %s\n", subnets);
	printf("Gateways:    %s\n", gateways);
	printf("Domain:      %s\n", json_string_value(json_object_get(vnet, "domain")));
	printf("MTU:         %" JSON_INTEGER_FORMAT "\n",
	       json_integer_value(json_object_get(vnet, "mtu")));
	printf("Flags:       %s\n", flags[0] ? flags : "-");
	printf("Host access: %s\n", json_string_value(json_object_get(vnet, "host_access")) ?: "-");
	printf("Trust:       %s\n", trust ?: "off");
	printf("DNS servers: %s\n", dns[0] ? dns : "(host resolv.conf)");
	printf("Groups:      %" JSON_INTEGER_FORMAT "\n",
	       json_integer_value(json_object_get(vnet, "group_count")));
	printf("Peers:       %s\n", peers[0] ? peers : "-");
	if (json_integer_value(json_object_get(vnet, "nft_restored_at")) > 0) {
		time_t at = (time_t)json_integer_value(json_object_get(vnet, "nft_restored_at"));
		char when[64];

		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %Z", localtime(&at));
		printf("Firewall:    tables last restored by netd at %s\n", when);
	} else if (json_object_get(vnet, "nft_restored_at")) {
		printf("Firewall:    tables never needed restoring\n");
	}
}

static int add_dns(json_t *servers, const char *list)
{
	_cleanup_free_ char *copy = xstrdup(list);
	char *save = NULL;

	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		json_array_append_new(servers, json_string(tok));
	return 0;
}

static bool valid_trust(const char *mode)
{
	return streq(mode, "off") || streq(mode, "audit") || streq(mode, "enforce");
}

static int vnet_create(struct cli_ctx *ctx, int argc, char **argv)
{
	enum {
		OPT_SUBNET = 256,
		OPT_GATEWAY,
		OPT_DOMAIN,
		OPT_MTU,
		OPT_INTERNAL,
		OPT_ISOLATE,
		OPT_HOST_ACCESS,
		OPT_DNS,
		OPT_TRUST,
		OPT_TRUST_KEYS,
		OPT_JSON
	};
	static const struct option options[] = {
	    {"subnet", required_argument, NULL, OPT_SUBNET},
	    {"gateway", required_argument, NULL, OPT_GATEWAY},
	    {"domain", required_argument, NULL, OPT_DOMAIN},
	    {"mtu", required_argument, NULL, OPT_MTU},
	    {"internal", no_argument, NULL, OPT_INTERNAL},
	    {"isolate", no_argument, NULL, OPT_ISOLATE},
	    {"host-access", required_argument, NULL, OPT_HOST_ACCESS},
	    {"dns", required_argument, NULL, OPT_DNS},
	    {"trust", required_argument, NULL, OPT_TRUST},
	    {"trust-keys", required_argument, NULL, OPT_TRUST_KEYS},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	json_auto_t *params = json_object(), *result = NULL;
	json_t *subnets = json_array(), *dns = NULL;
	bool as_json = false;
	int c;

	json_object_set_new(params, "subnets", subnets);
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case OPT_SUBNET:
			json_array_append_new(subnets, json_string(optarg));
			break;
		case OPT_GATEWAY:
			json_object_set_new(params, "gateway", json_string(optarg));
			break;
		case OPT_DOMAIN:
			json_object_set_new(params, "domain", json_string(optarg));
			break;
		case OPT_MTU: {
			char *end;
			long mtu;

			errno = 0;
			mtu = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || mtu <= 0 || mtu > 65535)
				return cli_usage_error(CMD " create", "invalid MTU '%s'", optarg);
			json_object_set_new(params, "mtu", json_integer(mtu));
			break;
		}
		case OPT_INTERNAL:
			json_object_set_new(params, "internal", json_true());
			break;
		case OPT_ISOLATE:
			json_object_set_new(params, "isolate", json_true());
			break;
		case OPT_HOST_ACCESS:
			if (!streq(optarg, "none") && !streq(optarg, "dns") &&
			    !streq(optarg, "all"))
				return cli_usage_error(
				    CMD " create", "invalid --host-access '%s' (none, dns or all)",
				    optarg);
			json_object_set_new(params, "host_access", json_string(optarg));
			break;
		case OPT_DNS:
			if (!dns) {
				dns = json_array();
				json_object_set_new(params, "dns_servers", dns);
			}
			add_dns(dns, optarg);
			break;
		case OPT_TRUST:
			if (!valid_trust(optarg))
				return cli_usage_error(
				    CMD " create", "invalid --trust '%s' (off, audit or enforce)",
				    optarg);
			json_object_set_new(params, "trust", json_string(optarg));
			break;
		case OPT_TRUST_KEYS:
			json_object_set_new(params, "trust_keys", json_string(optarg));
			break;
		case OPT_JSON:
			as_json = true;
			break;
		case 'h':
			usage_create(stdout);
			return CLI_EXIT_OK;
		default:
			return cli_usage_error(CMD " create",
					       "invalid option or missing value: '%s'",
					       argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return cli_usage_error(CMD " create", "expected exactly one VNet name");
	if (json_array_size(subnets) == 0)
		return cli_usage_error(CMD " create", "--subnet is required");
	json_object_set_new(params, "name", json_string(argv[optind]));

	if (cli_call(ctx, "netd", "vnet create", "vnet.create", params, &result) < 0)
		return CLI_EXIT_FAILURE;
	if (as_json) {
		cli_print_json(result);
	} else {
		_cleanup_free_ char *subnet_text =
		    join_strings(json_object_get(result, "subnets"), ", ");
		_cleanup_free_ char *gateway_text =
		    join_strings(json_object_get(result, "gateways"), ", ");

		printf("vnet %s: %s, gateway %s, bridge %s\n", argv[optind], subnet_text,
		       gateway_text, json_string_value(json_object_get(result, "bridge")));
	}
	return CLI_EXIT_OK;
}

static int vnet_set(struct cli_ctx *ctx, int argc, char **argv)
{
	enum { OPT_HOST_ACCESS = 256, OPT_TRUST, OPT_TRUST_KEYS, OPT_JSON };
	static const struct option options[] = {
	    {"host-access", required_argument, NULL, OPT_HOST_ACCESS},
	    {"trust", required_argument, NULL, OPT_TRUST},
	    {"trust-keys", required_argument, NULL, OPT_TRUST_KEYS},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	json_auto_t *params = json_object(), *result = NULL;
	bool as_json = false;
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case OPT_HOST_ACCESS:
			if (!streq(optarg, "none") && !streq(optarg, "dns") &&
			    !streq(optarg, "all"))
				return cli_usage_error(
				    CMD " set", "invalid --host-access '%s' (none, dns or all)",
				    optarg);
			json_object_set_new(params, "host_access", json_string(optarg));
			break;
		case OPT_TRUST:
			if (!valid_trust(optarg))
				return cli_usage_error(
				    CMD " set", "invalid --trust '%s' (off, audit or enforce)",
				    optarg);
			json_object_set_new(params, "trust", json_string(optarg));
			break;
		case OPT_TRUST_KEYS:
			json_object_set_new(params, "trust_keys", json_string(optarg));
			break;
		case OPT_JSON:
			as_json = true;
			break;
		case 'h':
			usage_set(stdout);
			return CLI_EXIT_OK;
		default:
			return cli_usage_error(CMD " set", "invalid option or missing value: '%s'",
					       argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return cli_usage_error(CMD " set", "expected exactly one VNet name");
	if (json_object_size(params) == 0)
		return cli_usage_error(CMD " set",
				       "nothing to set (--host-access, --trust, --trust-keys)");
	json_object_set_new(params, "name", json_string(argv[optind]));
	if (cli_call(ctx, "netd", "vnet set", "vnet.set", params, &result) < 0)
		return CLI_EXIT_FAILURE;
	if (as_json) {
		cli_print_json(result);
	} else if (!json_object_get(params, "trust") && !json_object_get(params, "trust_keys")) {
		printf("vnet %s: host access %s\n", argv[optind],
		       json_string_value(json_object_get(result, "host_access")));
	} else {
		_cleanup_free_ char *trust = trust_text(result);

		printf("vnet %s: host access %s, trust %s\n", argv[optind],
		       json_string_value(json_object_get(result, "host_access")), trust ?: "off");
	}
	return CLI_EXIT_OK;
}

/* Parses [--json] [-h] and at most max_args positional arguments. */
static int parse_simple(int argc, char **argv, const char *cmd, void (*usage)(FILE *),
			bool allow_json, bool *ret_json, bool *ret_force, size_t args)
{
	static const struct option options[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"force", no_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "hf", options, NULL)) != -1) {
		switch (c) {
		case 'j':
			if (!allow_json)
				return cli_usage_error(cmd, "--json is not an option here");
			*ret_json = true;
			break;
		case 'f':
			if (!ret_force)
				return cli_usage_error(cmd, "--force is not an option here");
			*ret_force = true;
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			return cli_usage_error(cmd, "invalid option '%s'", argv[optind - 1]);
		}
	}
	if ((size_t)(argc - optind) != args) {
		if (args == 2)
			return cli_usage_error(cmd, "expected two VNet names");
		if (args)
			return cli_usage_error(cmd, "expected exactly one VNet name");
		return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	}
	return 0;
}

static int vnet_ls(struct cli_ctx *ctx, int argc, char **argv)
{
	json_auto_t *result = NULL;
	struct table *t;
	bool as_json = false;
	json_t *vnet;
	size_t i;
	int r;

	r = parse_simple(argc, argv, CMD " ls", usage_ls, true, &as_json, NULL, 0);
	if (r != 0)
		return r < 0 ? CLI_EXIT_OK : r;
	if (cli_call(ctx, "netd", "vnet ls", "vnet.list", NULL, &result) < 0)
		return CLI_EXIT_FAILURE;
	if (as_json) {
		cli_print_json(json_object_get(result, "vnets"));
		return CLI_EXIT_OK;
	}
	t = table_new(8, "NAME", "SUBNETS", "GATEWAYS", "MTU", "FLAGS", "GROUPS", "DOMAIN",
		      "TRUST");
	json_array_foreach(json_object_get(result, "vnets"), i, vnet)
	{
		_cleanup_free_ char *subnets = join_strings(json_object_get(vnet, "subnets"), ",");
		_cleanup_free_ char *gateways =
		    join_strings(json_object_get(vnet, "gateways"), ",");
		_cleanup_free_ char *flags = flags_text(vnet);
		_cleanup_free_ char *trust = trust_text(vnet);
		char mtu[16], groups[16];

		snprintf(mtu, sizeof(mtu), "%" JSON_INTEGER_FORMAT,
			 json_integer_value(json_object_get(vnet, "mtu")));
		snprintf(groups, sizeof(groups), "%" JSON_INTEGER_FORMAT,
			 json_integer_value(json_object_get(vnet, "group_count")));
		table_add_row(t, json_string_value(json_object_get(vnet, "name")), subnets,
			      gateways, mtu, flags, groups,
			      json_string_value(json_object_get(vnet, "domain")), trust);
	}
	table_print(t, stdout);
	table_free(t);
	return CLI_EXIT_OK;
}

static int vnet_show(struct cli_ctx *ctx, int argc, char **argv)
{
	json_auto_t *params = NULL, *result = NULL;
	bool as_json = false;
	int r;

	r = parse_simple(argc, argv, CMD " show", usage_show, true, &as_json, NULL, 1);
	if (r != 0)
		return r < 0 ? CLI_EXIT_OK : r;
	params = json_pack("{s:s}", "name", argv[optind]);
	if (cli_call(ctx, "netd", "vnet show", "vnet.show", params, &result) < 0)
		return CLI_EXIT_FAILURE;
	if (as_json)
		cli_print_json(result);
	else
		print_vnet(result);
	return CLI_EXIT_OK;
}

static int vnet_peering(struct cli_ctx *ctx, int argc, char **argv, bool peer)
{
	const char *cmd = peer ? CMD " peer" : CMD " unpeer";
	json_auto_t *params = NULL, *result = NULL;
	int r;

	r = parse_simple(argc, argv, cmd, usage_peer, false, NULL, NULL, 2);
	if (r != 0)
		return r < 0 ? CLI_EXIT_OK : r;
	params = json_pack("{s:s, s:s}", "name", argv[optind], "peer", argv[optind + 1]);
	if (cli_call(ctx, "netd", cmd, peer ? "vnet.peer" : "vnet.unpeer", params, &result) < 0)
		return CLI_EXIT_FAILURE;
	return CLI_EXIT_OK;
}

static int vnet_peer(struct cli_ctx *ctx, int argc, char **argv)
{
	return vnet_peering(ctx, argc, argv, true);
}

static int vnet_unpeer(struct cli_ctx *ctx, int argc, char **argv)
{
	return vnet_peering(ctx, argc, argv, false);
}

static int vnet_rm(struct cli_ctx *ctx, int argc, char **argv)
{
	json_auto_t *params = NULL, *result = NULL;
	bool force = false;
	int r;

	r = parse_simple(argc, argv, CMD " rm", usage_rm, false, NULL, &force, 1);
	if (r != 0)
		return r < 0 ? CLI_EXIT_OK : r;
	params = json_pack("{s:s, s:b}", "name", argv[optind], "force", force);
	if (cli_call(ctx, "netd", "vnet rm", "vnet.delete", params, &result) < 0)
		return CLI_EXIT_FAILURE;
	return CLI_EXIT_OK;
}

int cli_vnet_main(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct {
		const char *verb;
		int (*fn)(struct cli_ctx *ctx, int argc, char **argv);
	} verbs[] = {
	    {"create", vnet_create}, {"ls", vnet_ls},	      {"list", vnet_ls},
	    {"show", vnet_show},     {"rm", vnet_rm},	      {"delete", vnet_rm},
	    {"peer", vnet_peer},     {"unpeer", vnet_unpeer}, {"set", vnet_set},
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
	return cli_usage_error(CMD, "unknown command 'vnet %s'", argv[1]);
}
