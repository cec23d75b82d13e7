/* podwire — the admin CLI. Parses the global options and hands the rest of
 * the command line to one subcommand family (see cli.h). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

#define PODWIRE_VERSION "0.1.0"

struct cli_command {
	const char *name;
	int (*main)(struct cli_ctx *ctx, int argc, char **argv);
	const char *summary;
};

static const struct cli_command commands[] = {
	{ "vnet", cli_vnet_main, "create, list, show and remove virtual networks" },
	{ "group", cli_group_main, "attach container groups to VNets, detach, list, show" },
	{ "events", cli_events_main, "follow netd's event stream" },
	{ "share", cli_share_main, "file shares: create, list, quota, snapshot, restore, remove" },
	{ "dns", cli_dns_main, "DNS records and shared zones for VNets" },
	{ "stats", cli_stats_main, "daemon statistics (stats dns)" },
	{ "trust", cli_trust_main, "content-trust keysets: add, list, show, remove" },
	{ "cluster", cli_cluster_main, "hosts sharing VNets through etcd: status" },
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: podwire [--run-dir DIR] COMMAND [ARGS...]\n"
		"\n"
		"Administer podwire: virtual networks, container groups, DNS records and\n"
		"file shares on this host. Every command talks to a daemon over its control\n"
		"socket in the run directory (netd.sock, volumed.sock, dnsd.sock).\n"
		"\n"
		"Commands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(out,
		"\n"
		"Options:\n"
		"  --run-dir DIR  where the daemons' sockets are (default: $PODWIRE_RUN_DIR,\n"
		"                 else /run/podwire)\n"
		"  -h, --help     show this help\n"
		"  --version      show the version\n"
		"\n"
		"'podwire COMMAND --help' describes a command. Listing commands take --json\n"
		"for machine-readable output. Exit status: 0 on success, 1 on failure (one\n"
		"line on stderr says why), 2 on a usage error.\n");
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "run-dir", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{},
	};
	struct cli_ctx ctx = { .run_dir = getenv("PODWIRE_RUN_DIR") };
	int c;

	if (strempty(ctx.run_dir))
		ctx.run_dir = "/run/podwire";
	/* '+': stop at the first non-option, the command's own options follow. */
	while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0) {
		switch (c) {
		case 'r':
			ctx.run_dir = optarg;
			break;
		case 'h':
			usage(stdout);
			return CLI_EXIT_OK;
		case 'V':
			printf("podwire %s\n", PODWIRE_VERSION);
			return CLI_EXIT_OK;
		default:
			fprintf(stderr, "Try 'podwire --help'.\n");
			return CLI_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (streq(argv[optind], commands[i].name)) {
			int sub_argc = argc - optind;
			char **sub_argv = argv + optind;
			optind = 0; /* reset getopt for the subcommand */
			return commands[i].main(&ctx, sub_argc, sub_argv);
		}
	fprintf(stderr, "podwire: unknown command '%s'\nTry 'podwire --help'.\n", argv[optind]);
	return CLI_EXIT_USAGE;
}
