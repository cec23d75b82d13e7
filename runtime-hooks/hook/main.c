/* podwire-hook: the OCI runtime hook. Parses options, reads the state on
 * stdin, and runs the stage (stage.c). Errors are one line on stderr:
 *   podwire-hook: createRuntime web-1: attach group 'web': vnet 'nope' not found */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "oci.h"
#include "stage.h"
#include "trace.h"
#include "trust.h"
#include "xalloc.h"

#define HOOK_VERSION	"0.1.0"
#define DEFAULT_RUN_DIR "/run/podwire"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: podwire-hook [OPTIONS] [STAGE]\n"
		"\n"
		"The podwire OCI runtime hook. A runtime (crun, runc, podman, CRI-O) runs it\n"
		"with the container state on stdin; it reads the bundle's config.json and\n"
		"wires the container into what its podwire.* annotations ask for: VNets\n"
		"through podwire-netd, /etc/resolv.conf and /etc/hosts, and shares of\n"
		"podwire-volumed mounted inside the container. See podwire-hook(8).\n"
		"\n"
		"Stages:\n"
		"  createRuntime, prestart   attach the group, write DNS files, mount shares\n"
		"  poststop                  undo what createRuntime did for this container\n"
		"Without STAGE (an oci-hooks(5) file gives every stage the same arguments) the\n"
		"stage follows from the state's status: creating or created = start, stopped =\n"
		"poststop.\n"
		"\n"
		"Options:\n"
		"  --run-dir DIR       podwire's run directory (default: $PODWIRE_RUN_DIR or\n"
		"                      " DEFAULT_RUN_DIR
		"); sockets DIR/netd.sock, DIR/volumed.sock\n"
		"  --log-level LEVEL   debug, info, warn or error (default: warn)\n"
		"Content trust (VNets and shares with a trust policy, docs/trust.md):\n"
		"  --trust-helper PATH podwire-trust to run (default: next to this program)\n"
		"  --storage-root DIR  containers-storage graph root (default\n"
		"                      " TRUST_DEFAULT_GRAPH_ROOT ")\n"
		"  --run-root DIR      its run root (default " TRUST_DEFAULT_RUN_ROOT "\n"
		"                      with the default graph root)\n"
		"  -h, --help          show this help\n"
		"      --version       show the version\n");
}

static char *read_all(FILE *in, size_t limit, size_t *ret_len)
{
	size_t cap = 4096, len = 0;
	char *buf = xmalloc(cap);

	for (;;) {
		size_t n;

		if (len == cap) {
			if (cap > limit) {
				free(buf);
				return NULL;
			}
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		n = fread(buf + len, 1, cap - len, in);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(in) || len > limit) {
		free(buf);
		return NULL;
	}
	*ret_len = len;
	return buf;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
	    {"run-dir", required_argument, NULL, 'r'},
	    {"log-level", required_argument, NULL, 'l'},
	    {"trust-helper", required_argument, NULL, 't'},
	    {"storage-root", required_argument, NULL, 's'},
	    {"run-root", required_argument, NULL, 'R'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {},
	};
	const char *run_dir = getenv("PODWIRE_RUN_DIR");
	struct trust_config trust = {0};
	struct oci_container c = {0};
	struct pw_error err = {0};
	enum hook_stage stage = HOOK_STAGE_START;
	const char *stage_name;
	_cleanup_free_ char *state = NULL;
	size_t state_len = 0;
	int opt, r;

	trace_init();
	log_set_ident("podwire-hook");
	log_set_level(LOG_LEVEL_WARN);
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'r':
			run_dir = optarg;
			break;
		case 't':
			trust.helper = optarg;
			break;
		case 's':
			trust.graph_root = optarg;
			break;
		case 'R':
			trust.run_root = optarg;
			break;
		case 'l': {
			enum log_level level;

			if (log_level_parse(optarg, &level) < 0) {
				fprintf(stderr, "podwire-hook: bad log level '%s'\n", optarg);
				return 2;
			}
			log_set_level(level);
			break;
		}
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("podwire-hook %s\n", HOOK_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind + 1 < argc) {
		fprintf(stderr, "podwire-hook: expected at most one STAGE argument (createRuntime, "
				"prestart or poststop)\n");
		return 2;
	}
	stage_name = optind < argc ? argv[optind] : NULL;
	if (stage_name && hook_stage_parse(stage_name, &stage) < 0) {
		fprintf(stderr,
			"podwire-hook: stage '%s' is not one podwire-hook runs at; use "
			"createRuntime (or prestart) and poststop\n",
			stage_name);
		return 2;
	}
	if (strempty(run_dir))
		run_dir = DEFAULT_RUN_DIR;

	state = read_all(stdin, OCI_STATE_MAX, &state_len);
	if (!state) {
		fprintf(stderr, "podwire-hook: cannot read the container state on stdin\n");
		return 1;
	}
	r = oci_state_parse(state, state_len, &c, &err);
	trace_step("state read");
	if (r >= 0 && !stage_name) {
		r = hook_stage_from_status(c.status, &stage);
		if (r < 0)
			pw_error_set(&err, r,
				     "no STAGE argument and the state's status '%s' does not tell "
				     "the stage",
				     c.status ? c.status : "");
		else
			stage_name = stage == HOOK_STAGE_START ? "createRuntime" : "poststop";
	}
	if (r >= 0) {
		if (stage == HOOK_STAGE_START) {
			r = oci_config_load(&c, &err);
			trace_step("config.json read");
			if (r >= 0)
				r = hook_start(run_dir, &trust, &c, &err);
		} else {
			r = hook_stop(run_dir, c.id, &err);
		}
	}
	if (r < 0)
		fprintf(stderr, "podwire-hook: %s%s%s: %s\n", stage_name ? stage_name : "hook",
			c.id ? " " : "", c.id ? c.id : "", pw_error_message(&err));
	oci_container_done(&c);
	trace_step("done");
	return r < 0 ? 1 : 0;
}
