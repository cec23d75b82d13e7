/* podwire-cni: a CNI 1.0/1.1 plugin backed by podwire-netd. Reads the
 * CNI_* environment and the network configuration on stdin, runs the
 * command (commands.c) and prints the result or the spec's error object on
 * stdout (exit 1 on error). Without CNI_COMMAND it prints help. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cni.h"
#include "commands.h"
#include "json-util.h"
#include "xalloc.h"

#define CNI_PLUGIN_VERSION "0.1.0"
#define DEFAULT_RUN_DIR	   "/run/podwire"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: CNI_COMMAND=ADD|DEL|CHECK|VERSION|STATUS|GC CNI_CONTAINERID=ID \\\n"
		"         CNI_NETNS=PATH CNI_IFNAME=eth0 [CNI_ARGS=..] podwire-cni < netconf.json\n"
		"\n"
		"The podwire CNI plugin (CNI spec 1.0.0 and 1.1.0): attaches a container's\n"
		"network namespace to a podwire VNet through podwire-netd. Runtimes run it\n"
		"from CNI_PATH; a network configuration names it with\n"
		"  {\"type\":\"podwire\",\"vnet\":\"front\",\"runDir\":\"/run/podwire\"}\n"
		"(runDir defaults to $PODWIRE_RUN_DIR, then " DEFAULT_RUN_DIR ").\n"
		"See podwire-cni(8) and docs/cni-example.conflist.\n"
		"\n"
		"Options:\n"
		"  -h, --help     show this help\n"
		"  --version      show the version\n");
}

static char *read_stdin(size_t *ret_len)
{
	size_t cap = 4096, len = 0, n;
	char *buf = xmalloc(cap);

	while ((n = fread(buf + len, 1, cap - len, stdin)) > 0) {
		len += n;
		if (len == cap) {
			if (cap > CNI_STDIN_MAX)
				break;
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
	}
	*ret_len = len;
	return buf;
}

static void print_json(json_t *value)
{
	char *text = json_dumps(value, JSON_COMPACT);

	if (text)
		puts(text);
	free(text);
}

int main(int argc, char **argv)
{
	struct cni_env env = {
	    .command = getenv("CNI_COMMAND"),
	    .container_id = getenv("CNI_CONTAINERID"),
	    .netns = getenv("CNI_NETNS"),
	    .ifname = getenv("CNI_IFNAME"),
	    .args = getenv("CNI_ARGS"),
	    .path = getenv("CNI_PATH"),
	    .run_dir_default = getenv("PODWIRE_RUN_DIR"),
	};
	struct cni_request req = {0};
	struct cni_error ce = {0};
	json_auto_t *result = NULL;
	_cleanup_free_ char *input = NULL;
	size_t len;
	int r;

	if (argc > 1 && (streq(argv[1], "-h") || streq(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (argc > 1 && streq(argv[1], "--version")) {
		printf("podwire-cni %s (CNI %s)\n", CNI_PLUGIN_VERSION, "1.0.0, 1.1.0");
		return 0;
	}
	if (!env.command) {
		usage(stderr);
		return 2;
	}
	if (strempty(env.run_dir_default))
		env.run_dir_default = DEFAULT_RUN_DIR;

	input = read_stdin(&len);
	r = cni_request_parse(&env, input, len, &req, &ce);
	if (r >= 0)
		r = cni_run(&req, &result, &ce);
	if (r < 0) {
		json_auto_t *error = cni_error_json(&ce, req.version);

		print_json(error);
		fprintf(stderr, "podwire-cni: %s\n", pw_error_message(&ce.err));
		cni_request_done(&req);
		return 1;
	}
	if (result)
		print_json(result);
	cni_request_done(&req);
	return 0;
}
