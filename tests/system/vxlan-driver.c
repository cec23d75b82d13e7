/* Test driver for netd/vxlan.c: makes the calls netd will make for a
 * cluster VNet, from the command line, in the netns it runs in (tests run
 * it with `ip netns exec`).
 *
 *   vxlan-driver ensure NAME BRIDGE VNI LOCAL [MTU [TTL]]
 *                            vxlan_ensure; prints "created" or "kept"; MTU 0
 *                            (or none) takes the underlay's MTU - 50/70
 *   vxlan-driver remove NAME
 *   vxlan-driver mtu UNDERLAY_MTU 4|6      prints the inner MTU
 *   vxlan-driver underlay-mtu ADDR         prints the MTU of the interface with ADDR
 *   vxlan-driver bridge-mtu BRIDGE MTU
 *   vxlan-driver fdb-add NAME MAC VTEP / fdb-del NAME MAC
 *   vxlan-driver neigh-add BRIDGE ADDR MAC / neigh-del BRIDGE ADDR
 *   vxlan-driver fdb-list NAME     "self MAC VTEP STATE" and "master MAC - STATE"
 *                                  lines, STATE permanent, static or learned
 *   vxlan-driver neigh-list BRIDGE "ADDR MAC STATE" lines
 *   vxlan-driver filter DEV [VTEP...]      prints the nft script
 * Errors: one line on stderr, exit 1 (2 for usage). */
#include <inttypes.h>
#include <linux/neighbour.h>
#include <netinet/ether.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../netd/netlink.h"
#include "../../netd/vxlan.h"
#include "error.h"
#include "macro.h"

static int usage(void)
{
	fprintf(stderr,
		"usage: vxlan-driver ensure NAME BRIDGE VNI LOCAL [MTU [TTL]] | remove NAME "
		"| mtu UNDERLAY_MTU 4|6 | underlay-mtu ADDR | bridge-mtu BRIDGE MTU | "
		"fdb-add NAME MAC VTEP | fdb-del NAME MAC | neigh-add BRIDGE ADDR MAC | "
		"neigh-del BRIDGE ADDR | fdb-list NAME | neigh-list BRIDGE | "
		"filter DEV [VTEP...]\n");
	return 2;
}

static int parse_uint(const char *text, unsigned long max, unsigned long *ret)
{
	char *end;
	unsigned long value;

	errno = 0;
	value = strtoul(text, &end, 10);
	if (errno || end == text || *end || text[0] == '-' || value > max)
		return -EINVAL;
	*ret = value;
	return 0;
}

static int parse_mac(const char *text, uint8_t mac[static ETH_ALEN])
{
	struct ether_addr addr;

	if (strlen(text) != 17 || !ether_aton_r(text, &addr))
		return -EINVAL;
	memcpy(mac, addr.ether_addr_octet, ETH_ALEN);
	return 0;
}

static const char *state_text(uint16_t state)
{
	if (state & NUD_PERMANENT)
		return "permanent";
	if (state & NUD_NOARP)
		return "static";
	return "learned";
}

static int print_fdb(const struct vxlan_fdb_entry *entry, void *userdata)
{
	char mac[18], buf[INET6_ADDRSTRLEN];

	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", entry->mac[0], entry->mac[1],
		 entry->mac[2], entry->mac[3], entry->mac[4], entry->mac[5]);
	printf("%s %s %s %s\n", entry->master ? "master" : "self", mac,
	       entry->has_remote ? ip_addr_format(&entry->remote, buf) : "-",
	       state_text(entry->state));
	return 0;
}

static int print_neigh(const struct vxlan_neigh_entry *entry, void *userdata)
{
	char mac[18] = "-", buf[INET6_ADDRSTRLEN];

	if (entry->has_mac)
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", entry->mac[0],
			 entry->mac[1], entry->mac[2], entry->mac[3], entry->mac[4], entry->mac[5]);
	printf("%s %s %s\n", ip_addr_format(&entry->address, buf), mac,
	       entry->state & NUD_PERMANENT ? "permanent" : "other");
	return 0;
}

static int bad(const char *what, const char *text)
{
	fprintf(stderr, "vxlan-driver: bad %s '%s'\n", what, text);
	return 2;
}

static int run(struct nl_sock *sock, int argc, char **argv, struct pw_error *err)
{
	const char *cmd = argv[1];
	uint8_t mac[ETH_ALEN];
	struct ip_addr addr;
	unsigned long value;
	int r;

	if (streq(cmd, "ensure") && argc >= 6 && argc <= 8) {
		struct vxlan_config config = {.name = argv[2], .bridge = argv[3]};

		if (parse_uint(argv[4], UINT32_MAX, &value) < 0)
			return bad("VNI", argv[4]);
		config.vni = (uint32_t)value;
		if (ip_addr_parse(argv[5], AF_UNSPEC, &config.local) < 0)
			return bad("address", argv[5]);
		if (argc >= 7) {
			if (parse_uint(argv[6], 65535, &value) < 0)
				return bad("MTU", argv[6]);
			config.mtu = (unsigned)value;
		}
		if (argc == 8) {
			if (parse_uint(argv[7], 255, &value) < 0)
				return bad("TTL", argv[7]);
			config.ttl = (uint8_t)value;
		}
		r = vxlan_ensure(sock, &config, err);
		if (r >= 0)
			printf("%s\n", r ? "created" : "kept");
		return r;
	}
	if (streq(cmd, "remove") && argc == 3) {
		r = vxlan_remove(sock, argv[2]);
		return r < 0 ? pw_error_set(err, r, "remove %s: %s", argv[2], strerror(-r)) : 0;
	}
	if (streq(cmd, "mtu") && argc == 4) {
		unsigned mtu;

		if (parse_uint(argv[2], UINT32_MAX, &value) < 0)
			return bad("MTU", argv[2]);
		if (!streq(argv[3], "4") && !streq(argv[3], "6"))
			return bad("family", argv[3]);
		r = vxlan_mtu((unsigned)value, streq(argv[3], "4") ? AF_INET : AF_INET6, &mtu);
		if (r < 0)
			return pw_error_set(err, r, "underlay MTU %lu is too small", value);
		printf("%u\n", mtu);
		return 0;
	}
	if (streq(cmd, "underlay-mtu") && argc == 3) {
		unsigned mtu;

		if (ip_addr_parse(argv[2], AF_UNSPEC, &addr) < 0)
			return bad("address", argv[2]);
		r = vxlan_underlay_mtu(sock, &addr, &mtu);
		if (r < 0)
			return pw_error_set(err, r, "%s: %s", argv[2], strerror(-r));
		printf("%u\n", mtu);
		return 0;
	}
	if (streq(cmd, "bridge-mtu") && argc == 4) {
		if (parse_uint(argv[3], 65535, &value) < 0)
			return bad("MTU", argv[3]);
		return vxlan_bridge_set_mtu(sock, argv[2], (unsigned)value, err);
	}
	if (streq(cmd, "fdb-add") && argc == 5) {
		if (parse_mac(argv[3], mac) < 0)
			return bad("MAC", argv[3]);
		if (ip_addr_parse(argv[4], AF_UNSPEC, &addr) < 0)
			return bad("address", argv[4]);
		return vxlan_fdb_add(sock, argv[2], mac, &addr, err);
	}
	if (streq(cmd, "fdb-del") && argc == 4) {
		if (parse_mac(argv[3], mac) < 0)
			return bad("MAC", argv[3]);
		return vxlan_fdb_remove(sock, argv[2], mac, err);
	}
	if (streq(cmd, "neigh-add") && argc == 5) {
		if (ip_addr_parse(argv[3], AF_UNSPEC, &addr) < 0)
			return bad("address", argv[3]);
		if (parse_mac(argv[4], mac) < 0)
			return bad("MAC", argv[4]);
		return vxlan_neigh_add(sock, argv[2], &addr, mac, err);
	}
	if (streq(cmd, "neigh-del") && argc == 4) {
		if (ip_addr_parse(argv[3], AF_UNSPEC, &addr) < 0)
			return bad("address", argv[3]);
		return vxlan_neigh_remove(sock, argv[2], &addr, err);
	}
	if (streq(cmd, "fdb-list") && argc == 3) {
		r = vxlan_fdb_foreach(sock, argv[2], print_fdb, NULL);
		return r < 0 ? pw_error_set(err, r, "FDB of %s: %s", argv[2], strerror(-r)) : 0;
	}
	if (streq(cmd, "neigh-list") && argc == 3) {
		r = vxlan_neigh_foreach(sock, argv[2], print_neigh, NULL);
		return r < 0 ? pw_error_set(err, r, "neighbours of %s: %s", argv[2], strerror(-r))
			     : 0;
	}
	if (streq(cmd, "filter") && argc >= 3) {
		size_t count = (size_t)argc - 3;
		_cleanup_free_ struct ip_addr *vteps = calloc(count ? count : 1, sizeof(*vteps));
		_cleanup_free_ char *script = NULL;

		if (!vteps)
			return pw_error_set(err, -ENOMEM, "out of memory");
		for (size_t i = 0; i < count; i++)
			if (ip_addr_parse(argv[3 + i], AF_UNSPEC, &vteps[i]) < 0)
				return bad("address", argv[3 + i]);
		r = vxlan_filter_script(argv[2], vteps, count, &script);
		if (r < 0)
			return pw_error_set(err, r, "filter for %s: %s", argv[2], strerror(-r));
		fputs(script, stdout);
		return 0;
	}
	return usage();
}

int main(int argc, char **argv)
{
	_cleanup_netlink_ struct nl_sock *sock = NULL;
	struct pw_error err = {0};
	int r;

	if (argc < 2)
		return usage();
	r = netlink_open(-1, &sock);
	if (r < 0) {
		fprintf(stderr, "vxlan-driver: netlink socket: %s\n", strerror(-r));
		return 1;
	}
	r = run(sock, argc, argv, &err);
	if (r == 2)
		return 2;
	if (r < 0) {
		fprintf(stderr, "vxlan-driver: %s\n", pw_error_message(&err));
		return 1;
	}
	return 0;
}
