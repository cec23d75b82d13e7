/* podwire-dnsd: options, then wiring the parts together (see dnsd.h). */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnsd.h"
#include "feed.h"
#include "listeners.h"
#include "log.h"
#include "service.h"
#include "state-file.h"
#include "xalloc.h"

#define DNSD_VERSION "0.1"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: podwire-dnsd [OPTIONS]\n"
		"\n"
		"Answers DNS for podwire VNets on each VNet gateway address (port 53, UDP and\n"
		"TCP): the groups of the VNet, admin records and linked zones; forwards the rest\n"
		"to the VNet's upstreams with a cache. Fed by podwire-netd's event stream.\n"
		"SIGHUP re-reads the host upstreams (--resolv-conf); see podwire-dnsd(8).\n"
		"\n"
		"Options:\n"
		"  --run-dir DIR         netd.sock is found and dnsd.sock served here\n"
		"                        (default /run/podwire)\n"
		"  --state-dir DIR       accepted for symmetry; dnsd keeps no durable state\n"
		"  --resolv-conf PATH    host upstreams (default /etc/resolv.conf)\n"
		"  --port N              port to listen on (default 53)\n"
		"  --upstream-timeout MS timeout per upstream attempt (default %d)\n"
		"  --cache-size N        cached answers at most (default %d, 0 disables)\n"
		"  --admin-group GROUP   group allowed on the stats socket besides root\n"
		"  --log-level LEVEL     debug, info, warn or error (default info)\n"
		"  -h, --help            show this help\n"
		"  --version             show the version\n",
		FORWARD_TIMEOUT_MS_DEFAULT, CACHE_ENTRIES_DEFAULT);
}

static int parse_uint(const char *s, unsigned long max, unsigned long *ret)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *s == 0 || *end != 0 || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

int main(int argc, char **argv)
{
	enum {
		OPT_RUN_DIR = 256,
		OPT_STATE_DIR,
		OPT_RESOLV,
		OPT_PORT,
		OPT_TIMEOUT,
		OPT_CACHE,
		OPT_ADMIN,
		OPT_LOG,
		OPT_VERSION
	};
	static const struct option options[] = {
	    {"run-dir", required_argument, NULL, OPT_RUN_DIR},
	    {"state-dir", required_argument, NULL, OPT_STATE_DIR},
	    {"resolv-conf", required_argument, NULL, OPT_RESOLV},
	    {"port", required_argument, NULL, OPT_PORT},
	    {"upstream-timeout", required_argument, NULL, OPT_TIMEOUT},
	    {"cache-size", required_argument, NULL, OPT_CACHE},
	    {"admin-group", required_argument, NULL, OPT_ADMIN},
	    {"log-level", required_argument, NULL, OPT_LOG},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, OPT_VERSION},
	    {},
	};
	struct dnsd d = {
	    .opts =
		{
		    .run_dir = "/run/podwire",
		    .resolv_conf = "/etc/resolv.conf",
		    .port = 53,
		    .upstream_timeout_ms = FORWARD_TIMEOUT_MS_DEFAULT,
		    .cache_entries = CACHE_ENTRIES_DEFAULT,
		},
	};
	unsigned long v;
	int c, r;

	log_set_ident("podwire-dnsd");
	while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		switch (c) {
		case OPT_RUN_DIR:
			d.opts.run_dir = optarg;
			break;
		case OPT_STATE_DIR:
			break;
		case OPT_RESOLV:
			d.opts.resolv_conf = optarg;
			break;
		case OPT_PORT:
			if (parse_uint(optarg, 65535, &v) < 0 || v == 0) {
				fprintf(stderr, "podwire-dnsd: bad --port '%s'\n", optarg);
				return 2;
			}
			d.opts.port = (uint16_t)v;
			break;
		case OPT_TIMEOUT:
			if (parse_uint(optarg, 60000, &v) < 0 || v == 0) {
				fprintf(stderr, "podwire-dnsd: bad --upstream-timeout '%s'\n",
					optarg);
				return 2;
			}
			d.opts.upstream_timeout_ms = (unsigned)v;
			break;
		case OPT_CACHE:
			if (parse_uint(optarg, 10000000, &v) < 0) {
				fprintf(stderr, "podwire-dnsd: bad --cache-size '%s'\n", optarg);
				return 2;
			}
			d.opts.cache_entries = v;
			break;
		case OPT_ADMIN: {
			struct group *gr = getgrnam(optarg);
			if (!gr) {
				fprintf(stderr, "podwire-dnsd: unknown group '%s'\n", optarg);
				return 2;
			}
			d.opts.admin_gid = gr->gr_gid;
			d.opts.admin_gid_set = true;
			break;
		}
		case OPT_LOG: {
			enum log_level level;
			if (log_level_parse(optarg, &level) < 0) {
				fprintf(stderr, "podwire-dnsd: bad --log-level '%s'\n", optarg);
				return 2;
			}
			log_set_level(level);
			break;
		}
		case 'h':
			usage(stdout);
			return 0;
		case OPT_VERSION:
			printf("podwire-dnsd %s\n", DNSD_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "podwire-dnsd: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}

	d.start_ms = now_ms();
	(void)dnsd_load_host_upstreams(&d);

	r = event_loop_new(&d.loop);
	if (r < 0)
		return log_error_errno(r, "event loop"), 1;
	r = event_loop_handle_signals(d.loop);
	if (r < 0)
		return log_error_errno(r, "signals"), 1;
	event_loop_on_reload(d.loop, dnsd_reload, &d);

	struct model_hooks hooks = server_model_hooks;
	hooks.userdata = &d;
	model_init(&d.model, &hooks);
	d.cache = cache_new(d.opts.cache_entries, CACHE_BYTES_DEFAULT);

	int exit_code = 1;
	struct pw_error err = {0};
	r = forwarder_new(d.loop, d.opts.upstream_timeout_ms, server_forward_done, &d, &d.fwd);
	if (r < 0) {
		log_error_errno(r, "forwarder");
		goto out;
	}
	r = server_tcp_init(&d);
	if (r < 0) {
		log_error_errno(r, "tcp server");
		goto out;
	}
	if (mkdir_p(d.opts.run_dir, 0755) < 0 && errno != EEXIST)
		log_warn("cannot create run dir %s", d.opts.run_dir);
	r = stats_server_start(&d, &err);
	if (r < 0) {
		log_error("cannot serve the stats socket: %s", pw_error_message(&err));
		goto out;
	}
	char netd_socket[4096];
	snprintf(netd_socket, sizeof(netd_socket), "%s/netd.sock", d.opts.run_dir);
	r = feed_new(d.loop, netd_socket, &d.model, &d.feed);
	if (r < 0) {
		log_error_errno(r, "netd feed");
		goto out;
	}
	log_info("started run_dir=%s port=%u", d.opts.run_dir, d.opts.port);
	service_notify_ready("serving");
	r = event_loop_run(d.loop);
	exit_code = r < 0 ? 1 : 0;
	service_notify_stopping();
	log_info("stopping");
out:
	feed_free(d.feed);
	listeners_close_all(&d);
	server_tcp_done(&d);
	forwarder_free(d.fwd);
	model_done(&d.model);
	cache_free(d.cache);
	if (d.rpc)
		rpc_server_free(d.rpc);
	event_loop_free(d.loop);
	return exit_code;
}
