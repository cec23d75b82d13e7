/* Test driver for netd/bandwidth.c: sets and removes a group's rate limits
 * from the command line, in the netns it runs in.
 *
 *   bw-driver apply HOSTIF INGRESS EGRESS   rates as tc writes them ("10mbit"),
 *                                           "0" for no limit
 *   bw-driver remove HOSTIF
 *   bw-driver parse RATE                    prints the rate in bits/s
 * Errors: one line on stderr, exit 1 (2 for usage). */
#include <inttypes.h>
#include <stdio.h>

#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "../../netd/bandwidth.h"
#include "error.h"
#include "macro.h"

static int usage(void)
{
	fprintf(stderr,
		"usage: bw-driver apply HOSTIF INGRESS EGRESS | remove HOSTIF | parse RATE\n");
	return 2;
}

static int parse(const char *text, uint64_t *ret)
{
	if (streq(text, "0")) {
		*ret = 0;
		return 0;
	}
	return bandwidth_parse_rate(text, ret);
}

int main(int argc, char **argv)
{
	struct pw_error err = {0};
	struct bandwidth_spec spec = {0};
	struct nl_sock *sock;
	int r;

	if (argc == 3 && streq(argv[1], "parse")) {
		uint64_t bps;
		if (bandwidth_parse_rate(argv[2], &bps) < 0) {
			fprintf(stderr, "bw-driver: bad rate '%s'\n", argv[2]);
			return 1;
		}
		printf("%" PRIu64 "\n", bps);
		return 0;
	}
	if (!((argc == 5 && streq(argv[1], "apply")) || (argc == 3 && streq(argv[1], "remove"))))
		return usage();
	if (argc == 5 &&
	    (parse(argv[3], &spec.ingress_bps) < 0 || parse(argv[4], &spec.egress_bps) < 0)) {
		fprintf(stderr, "bw-driver: bad rate\n");
		return 2;
	}
	sock = nl_socket_alloc();
	if (!sock || nl_connect(sock, NETLINK_ROUTE) < 0) {
		fprintf(stderr, "bw-driver: netlink socket\n");
		return 1;
	}
	if (streq(argv[1], "apply"))
		r = bandwidth_apply(sock, argv[2], &spec, &err);
	else
		r = bandwidth_remove(sock, argv[2], &err);
	nl_socket_free(sock);
	if (r < 0) {
		fprintf(stderr, "bw-driver: %s\n", pw_error_message(&err));
		return 1;
	}
	return 0;
}
