/* Option parsing of podwire-volumed (see options.h). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "options.h"

void volumed_usage(FILE *out)
{
	fprintf(out,
		"Usage: podwire-volumed [OPTIONS]\n"
		"\n"
		"Serve podwire file shares: one FUSE mount per share at RUN_DIR/shares/NAME,\n"
		"with quotas and snapshots, administered over RUN_DIR/volumed.sock\n"
		"(`podwire share ...`). Runs in the foreground and logs to stderr.\n"
		"\n"
		"Options:\n"
		"  --run-dir DIR        socket, mount points and users (default %s)\n"
		"  --state-dir DIR      share settings, default backing dirs, snapshots\n"
		"                       (default %s)\n"
		"  --log-level LEVEL    debug, info, warn or error (default info)\n"
		"  --admin-group GROUP  give the socket to GROUP (mode 0660): its members\n"
		"                       (primary or supplementary) may connect and change\n"
		"                       shares (root always may)\n"
		"  -h, --help           show this help\n"
		"  --version            show the version\n",
		VOLUMED_RUN_DIR_DEFAULT, VOLUMED_STATE_DIR_DEFAULT);
}

int volumed_options_parse(int argc, char **argv, struct volumed_options *ret, struct pw_error *err)
{
	enum { OPT_RUN_DIR = 256, OPT_STATE_DIR, OPT_LOG_LEVEL, OPT_ADMIN_GROUP, OPT_VERSION };
	static const struct option long_options[] = {
	    {"run-dir", required_argument, NULL, OPT_RUN_DIR},
	    {"state-dir", required_argument, NULL, OPT_STATE_DIR},
	    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
	    {"admin-group", required_argument, NULL, OPT_ADMIN_GROUP},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, OPT_VERSION},
	    {},
	};
	struct volumed_options o = {
	    .action = VOLUMED_RUN,
	    .run_dir = VOLUMED_RUN_DIR_DEFAULT,
	    .state_dir = VOLUMED_STATE_DIR_DEFAULT,
	    .log_level = LOG_LEVEL_INFO,
	};
	int c;

	optind = 0; /* full reset, so the parser can run more than once */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
		switch (c) {
		case OPT_RUN_DIR:
		case OPT_STATE_DIR:
			if (optarg[0] != '/')
				return pw_error_set(err, -EINVAL, "%s must be an absolute path: %s",
						    c == OPT_RUN_DIR ? "--run-dir" : "--state-dir",
						    optarg);
			if (c == OPT_RUN_DIR)
				o.run_dir = optarg;
			else
				o.state_dir = optarg;
			break;
		case OPT_LOG_LEVEL:
			if (log_level_parse(optarg, &o.log_level) < 0)
				return pw_error_set(err, -EINVAL,
						    "unknown log level '%s' (debug, info, warn, "
						    "error)",
						    optarg);
			break;
		case OPT_ADMIN_GROUP:
			if (strempty(optarg))
				return pw_error_set(err, -EINVAL, "--admin-group is empty");
			o.admin_group = optarg;
			break;
		case 'h':
			o.action = VOLUMED_HELP;
			break;
		case OPT_VERSION:
			o.action = VOLUMED_VERSION_ACTION;
			break;
		case ':':
			return pw_error_set(err, -EINVAL, "option %s needs a value",
					    argv[optind - 1]);
		default:
			return pw_error_set(err, -EINVAL, "unknown option %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return pw_error_set(err, -EINVAL, "unexpected argument '%s'", argv[optind]);
	*ret = o;
	return 0;
}
