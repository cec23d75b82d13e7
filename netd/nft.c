/* netd's nftables tables `inet podwire` and `bridge podwire`, built with
 * libnftnl and sent with libmnl. This file owns those two tables and
 * nothing else: every message names table `podwire` in family inet or
 * bridge.
 *
 * Layout (see docs/netd.md "nftables layout"):
 * inet podwire
 *   set bridges   ifname           every VNet bridge
 *   set allowed   ifname . ifname  (in, out) bridge pairs that may forward:
 *                                  pw-x . pw-x for a VNet that is not
 *                                  isolate; pw-a . pw-b both ways for peers
 *   set internal  ifname           bridges of internal VNets
 *   set masq4     ipv4_addr, interval  subnets of non-internal VNets
 *   set masq6     ipv6_addr, interval
 *   set subnets4/6  interval       every VNet subnet (hairpin masquerade)
 *   set dropped   ifname, counter  every bridge: what isolation dropped
 *                                  (and what host access refused)
 *   set gateways4 ifname . ipv4_addr  each bridge . its gateway address
 *   set gateways6 ifname . ipv6_addr
 *   set host_dns  ifname           bridges whose groups may ask DNS on
 *                                  their gateway (host access dns, all)
 *   set host_all  ifname           bridges with host access all
 *   map ports4    inet_proto . inet_service : ipv4_addr . inet_service
 *   map ports4a   ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service
 *   map ports6, ports6a            the same for IPv6
 *   chain forward      filter hook forward, priority 0
 *   chain input        filter hook input, priority 0: what groups may
 *                      reach on the host itself (host access)
 *   chain postrouting  nat hook postrouting, priority 100
 *   chain prerouting   nat hook prerouting, priority -100 (published ports)
 *   chain output       nat hook output, priority -100 (published ports, from the host)
 * bridge podwire
 *   set tx, rx, spoofed  ifname, counter  every group's host veth
 *   set macs      ifname . ether_addr
 *   set addrs4    ifname . ether_addr . ipv4_addr, counter  what a group may
 *                 send from (the counters: IPv4 it sent, part of its tx)
 *   set addrs6    ifname . ether_addr . ipv6_addr, counter
 *   set arp4      addrs4 without counters (ARP checks)
 *   chain prerouting   filter hook prerouting, priority -200: a group's own
 *                      IP packets accepted (and counted) by one lookup, not
 *                      tracked when bridged to another group; anything
 *                      else from group ports counted in tx and checked in
 *                      chain group: anti-spoofing
 *   chain postrouting  filter hook postrouting, priority -200: rx counters
 * All base chains have policy accept. The rules are static; a VNet, a
 * peering or a group only changes elements.
 *
 * Invariants: every change is one batch (nftnl_batch_begin ... end) that
 * the kernel applies entirely or not at all; the reply of every message is
 * read before a call returns, and an error names the message (object) the
 * kernel refused and its errno. Removing elements first adds them (create
 * without EXCL, a no-op when present) and then deletes them in the same
 * batch, so removing what is gone succeeds on any kernel, without the 6.3+
 * DESTROY messages our headers do not define.
 *
 * Locking: none; a context belongs to one thread. */
#include <errno.h>
#include <netinet/in.h> /* before the linux/ headers, which then defer to it */
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_nat.h>
#include <net/if.h>
#include <linux/if_packet.h> /* PACKET_OTHERHOST, what meta pkttype loads */
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <libnftnl/batch.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include "log.h"
#include "nft.h"
#include "xalloc.h"

#define NFT_TABLE_NAME "podwire"
/* Every rule and set carries a comment starting with the owner, so that
 * `nft list ruleset` says who made it and cleanup can find it by owner. */
#define NFT_OWNER "podwire"

/* nftables' own data type ids (nftables src/datatype.h), stored as the key
 * type so that `nft list` prints the sets' types; a concatenation is the
 * types shifted by NFT_TYPE_BITS each. */
#define NFT_TYPE_IPADDR	      7
#define NFT_TYPE_IP6ADDR      8
#define NFT_TYPE_ETHERADDR    9
#define NFT_TYPE_INET_PROTO   12
#define NFT_TYPE_INET_SERVICE 13
#define NFT_TYPE_IFNAME	      41
#define NFT_TYPE_BITS	      6
#define NFT_CONCAT2(a, b)     (((a) << NFT_TYPE_BITS) | (b))
#define NFT_CONCAT3(a, b, c)  ((((a) << NFT_TYPE_BITS | (b)) << NFT_TYPE_BITS) | (c))
/* nftables' byte order ids for NFTNL_UDATA_SET_KEYBYTEORDER. */
#define NFT_BYTEORDER_HOST	 1
#define NFT_BYTEORDER_BIG_ENDIAN 2

/* Batch pages as nftables sizes them: 128 KiB pages plus room for one
 * message past the page end. No message is larger than NFT_MESSAGE_MAX:
 * a set element list is a nested attribute whose length is 16 bits, so
 * element messages are cut at NFT_ELEMS_PER_MESSAGE elements (at most
 * ~100 bytes each). */
#define NFT_BATCH_PAGE_SIZE   (128 * 1024)
#define NFT_MESSAGE_MAX	      (64 * 1024)
#define NFT_ELEMS_PER_MESSAGE 256
/* libmnl (1.0.4) leaves the padding after an attribute unwritten and the
 * batch pages are malloc'd: the bytes where the next message goes are
 * zeroed first, so that no stale heap byte goes to the kernel (and
 * valgrind has nothing to report). Every message but element lists is far
 * smaller; element keys and data are whole 32-bit words, so those have no
 * padding to hide. Always inside the page: a page has NFT_MESSAGE_MAX of
 * room past its end. */
#define NFT_ZERO_AHEAD 4096
_Static_assert(NFT_ZERO_AHEAD <= NFT_MESSAGE_MAX, "zeroing ahead stays inside a page");
/* The kernel handles a batch inside sendmsg(), so every reply is queued
 * when it returns; the timeout only guards against a reply that never
 * comes. */
#define NFT_REPLY_TIMEOUT_MS 5000
/* Base chain priorities as nft names them: "filter", "srcnat", "dstnat"
 * and the bridge family's "filter". */
#define NFT_PRIORITY_FILTER	   0
#define NFT_PRIORITY_SRCNAT	   100
#define NFT_PRIORITY_DSTNAT	   -100
#define NFT_PRIORITY_BRIDGE_FILTER -200
/* The longest key: ifname . ether_addr (padded to 8) . ipv6_addr; the
 * longest map value: ipv6_addr . inet_service (padded to 4). */
#define NFT_KEY_MAX  (IFNAMSIZ + 8 + 16)
#define NFT_DATA_MAX (16 + 4)
/* A field of a concatenation takes whole 32-bit registers. */
#define NFT_FIELD_LEN(len) (((len) + 3) / 4 * 4)
#define NFT_MAC_LEN	   6
#define NFT_ADDRTYPE_LOCAL 2 /* RTN_LOCAL, what `fib daddr type local` compares */
/* From linux/netfilter_bridge.h and linux/if_ether.h, which clash with
 * net/if.h. */
#define NFT_BR_PRE_ROUTING  0
#define NFT_BR_POST_ROUTING 4
#define NFT_ETH_P_IP	    0x0800
#define NFT_ETH_P_ARP	    0x0806
#define NFT_ETH_P_IPV6	    0x86dd
/* ICMP and ICMPv6 types (RFC 792, RFC 4443, RFC 4861). */
#define NFT_ICMP_ECHO_REQUEST	8
#define NFT_ICMPV6_ECHO_REQUEST 128
#define NFT_ICMPV6_ND_SOLICIT	135
#define NFT_ICMPV6_ND_ADVERT	136
#define NFT_DNS_PORT		53

struct nft_ctx {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;
};

/* The two tables, by family; a batch may change both. */
enum nft_table_index {
	NFT_TABLE_INET,
	NFT_TABLE_BRIDGE,
	NFT_TABLE_COUNT,
};

static const uint32_t nft_table_families[NFT_TABLE_COUNT] = {
    [NFT_TABLE_INET] = NFPROTO_INET,
    [NFT_TABLE_BRIDGE] = NFPROTO_BRIDGE,
};

static const char *nft_family_name(uint32_t family)
{
	return family == NFPROTO_BRIDGE ? "bridge" : "inet";
}

enum nft_set_index {
	/* inet podwire: VNets */
	NFT_SET_BRIDGES,
	NFT_SET_ALLOWED,
	NFT_SET_INTERNAL,
	NFT_SET_MASQ4,
	NFT_SET_MASQ6,
	NFT_SET_SUBNETS4,
	NFT_SET_SUBNETS6,
	NFT_SET_DROPPED,
	NFT_SET_GATEWAYS4,
	NFT_SET_GATEWAYS6,
	NFT_SET_HOST_DNS,
	NFT_SET_HOST_ALL,
	/* inet podwire: published ports */
	NFT_SET_PORTS4,
	NFT_SET_PORTS4A,
	NFT_SET_PORTS6,
	NFT_SET_PORTS6A,
	/* bridge podwire: groups */
	NFT_SET_TX,
	NFT_SET_RX,
	NFT_SET_SPOOFED,
	NFT_SET_MACS,
	NFT_SET_ADDRS4,
	NFT_SET_ADDRS6,
	NFT_SET_ARP4,
	NFT_SET_COUNT,
};

static const struct nft_set_def {
	const char *name;
	enum nft_table_index table;
	uint32_t key_type;
	uint32_t key_len;
	uint32_t flags;
	uint32_t byteorder;
	uint32_t data_type; /* maps only */
	uint32_t data_len;
	bool counter; /* every element carries a counter, bumped by lookups */
	const char *comment;
} nft_set_defs[NFT_SET_COUNT] = {
    [NFT_SET_BRIDGES] = {"bridges", NFT_TABLE_INET, NFT_TYPE_IFNAME, IFNAMSIZ, 0,
			 NFT_BYTEORDER_HOST, .comment = NFT_OWNER ": every VNet bridge"},
    [NFT_SET_ALLOWED] = {"allowed", NFT_TABLE_INET, NFT_CONCAT2(NFT_TYPE_IFNAME, NFT_TYPE_IFNAME),
			 2 * IFNAMSIZ, 0, NFT_BYTEORDER_HOST,
			 .comment = NFT_OWNER ": bridge pairs that may forward (in . out)"},
    [NFT_SET_INTERNAL] = {"internal", NFT_TABLE_INET, NFT_TYPE_IFNAME, IFNAMSIZ, 0,
			  NFT_BYTEORDER_HOST, .comment = NFT_OWNER ": bridges of internal VNets"},
    [NFT_SET_MASQ4] = {"masq4", NFT_TABLE_INET, NFT_TYPE_IPADDR, 4, NFT_SET_INTERVAL,
		       NFT_BYTEORDER_BIG_ENDIAN,
		       .comment = NFT_OWNER ": IPv4 subnets to masquerade"},
    [NFT_SET_MASQ6] = {"masq6", NFT_TABLE_INET, NFT_TYPE_IP6ADDR, 16, NFT_SET_INTERVAL,
		       NFT_BYTEORDER_BIG_ENDIAN,
		       .comment = NFT_OWNER ": IPv6 subnets to masquerade"},
    [NFT_SET_SUBNETS4] = {"subnets4", NFT_TABLE_INET, NFT_TYPE_IPADDR, 4, NFT_SET_INTERVAL,
			  NFT_BYTEORDER_BIG_ENDIAN,
			  .comment = NFT_OWNER ": every VNet IPv4 subnet (hairpin)"},
    [NFT_SET_SUBNETS6] = {"subnets6", NFT_TABLE_INET, NFT_TYPE_IP6ADDR, 16, NFT_SET_INTERVAL,
			  NFT_BYTEORDER_BIG_ENDIAN,
			  .comment = NFT_OWNER ": every VNet IPv6 subnet (hairpin)"},
    [NFT_SET_DROPPED] = {"dropped", NFT_TABLE_INET, NFT_TYPE_IFNAME, IFNAMSIZ, 0,
			 NFT_BYTEORDER_HOST, .counter = true,
			 .comment = NFT_OWNER ": per bridge, packets isolation dropped"},
    [NFT_SET_GATEWAYS4] = {"gateways4", NFT_TABLE_INET,
			   NFT_CONCAT2(NFT_TYPE_IFNAME, NFT_TYPE_IPADDR), IFNAMSIZ + 4, 0,
			   NFT_BYTEORDER_HOST,
			   .comment = NFT_OWNER ": each bridge's own IPv4 gateway address"},
    [NFT_SET_GATEWAYS6] = {"gateways6", NFT_TABLE_INET,
			   NFT_CONCAT2(NFT_TYPE_IFNAME, NFT_TYPE_IP6ADDR), IFNAMSIZ + 16, 0,
			   NFT_BYTEORDER_HOST,
			   .comment = NFT_OWNER ": each bridge's own IPv6 gateway address"},
    [NFT_SET_HOST_DNS] = {"host_dns", NFT_TABLE_INET, NFT_TYPE_IFNAME, IFNAMSIZ, 0,
			  NFT_BYTEORDER_HOST,
			  .comment =
			      NFT_OWNER ": bridges whose groups may ask DNS on their gateway"},
    [NFT_SET_HOST_ALL] = {"host_all", NFT_TABLE_INET, NFT_TYPE_IFNAME, IFNAMSIZ, 0,
			  NFT_BYTEORDER_HOST,
			  .comment = NFT_OWNER ": bridges whose groups may reach the host"},
    [NFT_SET_PORTS4] = {"ports4", NFT_TABLE_INET,
			NFT_CONCAT2(NFT_TYPE_INET_PROTO, NFT_TYPE_INET_SERVICE), 8, NFT_SET_MAP,
			NFT_BYTEORDER_BIG_ENDIAN,
			NFT_CONCAT2(NFT_TYPE_IPADDR, NFT_TYPE_INET_SERVICE), 8,
			.comment = NFT_OWNER ": ports published on every host address"},
    [NFT_SET_PORTS4A] = {"ports4a", NFT_TABLE_INET,
			 NFT_CONCAT3(NFT_TYPE_IPADDR, NFT_TYPE_INET_PROTO, NFT_TYPE_INET_SERVICE),
			 12, NFT_SET_MAP, NFT_BYTEORDER_BIG_ENDIAN,
			 NFT_CONCAT2(NFT_TYPE_IPADDR, NFT_TYPE_INET_SERVICE), 8,
			 .comment = NFT_OWNER ": ports published on one host address"},
    [NFT_SET_PORTS6] = {"ports6", NFT_TABLE_INET,
			NFT_CONCAT2(NFT_TYPE_INET_PROTO, NFT_TYPE_INET_SERVICE), 8, NFT_SET_MAP,
			NFT_BYTEORDER_BIG_ENDIAN,
			NFT_CONCAT2(NFT_TYPE_IP6ADDR, NFT_TYPE_INET_SERVICE), 20,
			.comment = NFT_OWNER ": ports published on every host IPv6 address"},
    [NFT_SET_PORTS6A] = {"ports6a", NFT_TABLE_INET,
			 NFT_CONCAT3(NFT_TYPE_IP6ADDR, NFT_TYPE_INET_PROTO, NFT_TYPE_INET_SERVICE),
			 24, NFT_SET_MAP, NFT_BYTEORDER_BIG_ENDIAN,
			 NFT_CONCAT2(NFT_TYPE_IP6ADDR, NFT_TYPE_INET_SERVICE), 20,
			 .comment = NFT_OWNER ": ports published on one host IPv6 address"},
    [NFT_SET_TX] = {"tx", NFT_TABLE_BRIDGE, NFT_TYPE_IFNAME, IFNAMSIZ, 0, NFT_BYTEORDER_HOST,
		    .counter = true, .comment = NFT_OWNER ": per group port, what the group sent"},
    [NFT_SET_RX] = {"rx", NFT_TABLE_BRIDGE, NFT_TYPE_IFNAME, IFNAMSIZ, 0, NFT_BYTEORDER_HOST,
		    .counter = true, .comment = NFT_OWNER ": per group port, what it was sent"},
    [NFT_SET_SPOOFED] = {"spoofed", NFT_TABLE_BRIDGE, NFT_TYPE_IFNAME, IFNAMSIZ, 0,
			 NFT_BYTEORDER_HOST, .counter = true,
			 .comment = NFT_OWNER ": per group port, spoofed frames dropped"},
    [NFT_SET_MACS] = {"macs", NFT_TABLE_BRIDGE, NFT_CONCAT2(NFT_TYPE_IFNAME, NFT_TYPE_ETHERADDR),
		      IFNAMSIZ + 8, 0, NFT_BYTEORDER_HOST,
		      .comment = NFT_OWNER ": the MAC each group port may send from"},
    /* The lookup that lets a group's IP packet through also counts it:
     * a group's tx is its tx element plus its addrs4 and addrs6 ones. */
    [NFT_SET_ADDRS4] = {"addrs4", NFT_TABLE_BRIDGE,
			NFT_CONCAT3(NFT_TYPE_IFNAME, NFT_TYPE_ETHERADDR, NFT_TYPE_IPADDR),
			IFNAMSIZ + 8 + 4, 0, NFT_BYTEORDER_HOST, .counter = true,
			.comment = NFT_OWNER ": the IPv4 addresses each group port may send from"},
    [NFT_SET_ADDRS6] = {"addrs6", NFT_TABLE_BRIDGE,
			NFT_CONCAT3(NFT_TYPE_IFNAME, NFT_TYPE_ETHERADDR, NFT_TYPE_IP6ADDR),
			IFNAMSIZ + 8 + 16, 0, NFT_BYTEORDER_HOST, .counter = true,
			.comment = NFT_OWNER ": the IPv6 addresses each group port may send from"},
    /* addrs4 without counters, for checking ARP (counted in tx). */
    [NFT_SET_ARP4] = {"arp4", NFT_TABLE_BRIDGE,
		      NFT_CONCAT3(NFT_TYPE_IFNAME, NFT_TYPE_ETHERADDR, NFT_TYPE_IPADDR),
		      IFNAMSIZ + 8 + 4, 0, NFT_BYTEORDER_HOST,
		      .comment = NFT_OWNER ": the IPv4 addresses each group port may ARP for"},
};

static uint32_t nft_set_family(enum nft_set_index set)
{
	return nft_table_families[nft_set_defs[set].table];
}

static struct nftnl_expr *nft_expr_new(const char *name);
/* Set ids tie lookups to sets created in the same batch. */
static uint32_t nft_set_batch_id(enum nft_set_index set)
{
	return set + 1;
}

/* One element of one set; an interval end carries NFT_SET_ELEM_INTERVAL_END. */
struct nft_elem {
	enum nft_set_index set;
	uint8_t key[NFT_KEY_MAX];
	uint32_t key_len;
	uint8_t data[NFT_DATA_MAX]; /* maps */
	uint32_t data_len;
	uint32_t flags;
};

struct nft_elem_list {
	struct nft_elem *elems;
	size_t count;
	size_t allocated;
};

static void nft_elem_list_done(struct nft_elem_list *list)
{
	free(list->elems);
	list->elems = NULL;
	list->count = list->allocated = 0;
}

static struct nft_elem *nft_elem_list_add(struct nft_elem_list *list, enum nft_set_index set,
					  const void *key, uint32_t key_len, uint32_t flags)
{
	struct nft_elem *e;

	if (list->count == list->allocated) {
		list->allocated = list->allocated ? list->allocated * 2 : 16;
		list->elems = xrealloc(list->elems, list->allocated * sizeof(*list->elems));
	}
	e = &list->elems[list->count++];
	memset(e, 0, sizeof(*e));
	e->set = set;
	memcpy(e->key, key, key_len);
	e->key_len = key_len;
	e->flags = flags;
	return e;
}

/* A bridge name as the kernel's meta iifname/oifname loads it: IFNAMSIZ
 * bytes, zero padded. */
static void nft_ifname_key(const char *name, uint8_t key[static IFNAMSIZ])
{
	memset(key, 0, IFNAMSIZ);
	memcpy(key, name, strlen(name));
}

static int nft_ifname_validate(const char *what, const char *name, struct pw_error *err)
{
	size_t len;

	if (strempty(name))
		return pw_error_set(err, -EINVAL, "%s name is empty", what);
	len = strlen(name);
	if (len >= IFNAMSIZ)
		return pw_error_set(err, -EINVAL, "%s name '%s' is too long (%zu > %d characters)",
				    what, name, len, IFNAMSIZ - 1);
	return 0;
}

static int nft_vnet_validate(const struct nft_vnet_spec *vnet, struct pw_error *err)
{
	size_t len, i;
	int r;

	if (strempty(vnet->bridge))
		return pw_error_set(err, -EINVAL, "bridge name is empty");
	len = strlen(vnet->bridge);
	if (len >= IFNAMSIZ)
		return pw_error_set(err, -EINVAL,
				    "bridge name '%s' is too long (%zu > %d characters)",
				    vnet->bridge, len, IFNAMSIZ - 1);
	if (vnet->subnet_count && !vnet->subnets)
		return pw_error_set(err, -EINVAL, "bridge '%s': subnets missing", vnet->bridge);
	for (i = 0; i < vnet->peer_count; i++) {
		r = nft_ifname_validate("peer bridge", vnet->peers ? vnet->peers[i] : NULL, err);
		if (r < 0)
			return pw_error_wrap(err, r, "bridge '%s'", vnet->bridge);
	}
	if (vnet->host_access != NFT_HOST_ACCESS_DNS && vnet->host_access != NFT_HOST_ACCESS_NONE &&
	    vnet->host_access != NFT_HOST_ACCESS_ALL)
		return pw_error_set(err, -EINVAL, "bridge '%s': unknown host access %d",
				    vnet->bridge, (int)vnet->host_access);
	for (i = 0; i < vnet->subnet_count; i++) {
		const struct ip_prefix *p = &vnet->subnets[i];
		size_t size = ip_family_addr_size(p->family);
		unsigned bit;

		if (vnet->gateways && !ip_prefix_contains(p, &vnet->gateways[i])) {
			char buf[IP_PREFIX_STRLEN];
			return pw_error_set(err, -EINVAL,
					    "bridge '%s': gateway %zu is not in subnet %s",
					    vnet->bridge, i, ip_prefix_format(p, buf));
		}

		if (!size)
			return pw_error_set(err, -EINVAL,
					    "bridge '%s': subnet %zu has no address family",
					    vnet->bridge, i);
		if (p->prefixlen > size * 8)
			return pw_error_set(err, -EINVAL,
					    "bridge '%s': prefix length %u is too long",
					    vnet->bridge, p->prefixlen);
		/* Interval elements start at the network address. */
		for (bit = p->prefixlen; bit < size * 8; bit++)
			if (p->addr.bytes[bit / 8] & (0x80 >> (bit % 8))) {
				char buf[IP_PREFIX_STRLEN];
				return pw_error_set(err, -EINVAL,
						    "bridge '%s': subnet %s has host bits set",
						    vnet->bridge, ip_prefix_format(p, buf));
			}
	}
	return 0;
}

/* The interval [network, network + size) as a start element and an end
 * element holding the first address past it; a prefix reaching the top of
 * the address space has no end element. */
static void nft_prefix_elems(struct nft_elem_list *list, const struct ip_prefix *p,
			     enum nft_set_index set4, enum nft_set_index set6)
{
	enum nft_set_index set = p->family == AF_INET ? set4 : set6;
	uint32_t size = ip_family_addr_size(p->family);
	unsigned carry, sum;
	uint8_t end[16];
	int byte;

	nft_elem_list_add(list, set, p->addr.bytes, size, 0);
	if (p->prefixlen == 0)
		return;
	/* Add 1 at the last bit of the prefix, carrying towards byte 0. */
	memcpy(end, p->addr.bytes, size);
	carry = 0x80 >> ((p->prefixlen - 1) % 8);
	for (byte = (p->prefixlen - 1) / 8; byte >= 0 && carry; byte--) {
		sum = end[byte] + carry;
		end[byte] = sum & 0xff;
		carry = sum >> 8;
	}
	if (carry)
		return;
	nft_elem_list_add(list, set, end, size, NFT_SET_ELEM_INTERVAL_END);
}

/* a . b and b . a in allowed. */
static void nft_peer_elems(struct nft_elem_list *list, const char *bridge_a, const char *bridge_b)
{
	uint8_t key[NFT_KEY_MAX];

	nft_ifname_key(bridge_a, key);
	nft_ifname_key(bridge_b, key + IFNAMSIZ);
	nft_elem_list_add(list, NFT_SET_ALLOWED, key, 2 * IFNAMSIZ, 0);
	nft_ifname_key(bridge_b, key);
	nft_ifname_key(bridge_a, key + IFNAMSIZ);
	nft_elem_list_add(list, NFT_SET_ALLOWED, key, 2 * IFNAMSIZ, 0);
}

/* The elements of a VNet's host access (see nft_vnet_elems). */
static void nft_host_access_elems(struct nft_elem_list *list, const struct nft_vnet_spec *vnet,
				  bool every_possible)
{
	uint8_t key[NFT_KEY_MAX];

	nft_ifname_key(vnet->bridge, key);
	if (every_possible || vnet->host_access != NFT_HOST_ACCESS_NONE)
		nft_elem_list_add(list, NFT_SET_HOST_DNS, key, IFNAMSIZ, 0);
	if (every_possible || vnet->host_access == NFT_HOST_ACCESS_ALL)
		nft_elem_list_add(list, NFT_SET_HOST_ALL, key, IFNAMSIZ, 0);
}

/* The elements VNet vnet puts into the sets. With every_possible, also
 * those its flags leave out (what a removal must make sure are gone). */
static void nft_vnet_elems(struct nft_elem_list *list, const struct nft_vnet_spec *vnet,
			   bool every_possible)
{
	uint8_t key[NFT_KEY_MAX];
	size_t i;

	nft_ifname_key(vnet->bridge, key);
	nft_elem_list_add(list, NFT_SET_BRIDGES, key, IFNAMSIZ, 0);
	nft_elem_list_add(list, NFT_SET_DROPPED, key, IFNAMSIZ, 0);
	if (every_possible || vnet->internal)
		nft_elem_list_add(list, NFT_SET_INTERNAL, key, IFNAMSIZ, 0);
	if (every_possible || !vnet->isolate) {
		nft_ifname_key(vnet->bridge, key + IFNAMSIZ);
		nft_elem_list_add(list, NFT_SET_ALLOWED, key, 2 * IFNAMSIZ, 0);
	}
	nft_host_access_elems(list, vnet, every_possible);
	nft_ifname_key(vnet->bridge, key);
	for (i = 0; vnet->gateways && i < vnet->subnet_count; i++) {
		const struct ip_addr *gw = &vnet->gateways[i];
		uint32_t size = ip_family_addr_size(gw->family);

		memcpy(key + IFNAMSIZ, gw->addr.bytes, size);
		nft_elem_list_add(list,
				  gw->family == AF_INET ? NFT_SET_GATEWAYS4 : NFT_SET_GATEWAYS6,
				  key, IFNAMSIZ + size, 0);
	}
	for (i = 0; i < vnet->subnet_count; i++) {
		nft_prefix_elems(list, &vnet->subnets[i], NFT_SET_SUBNETS4, NFT_SET_SUBNETS6);
		if (every_possible || !vnet->internal)
			nft_prefix_elems(list, &vnet->subnets[i], NFT_SET_MASQ4, NFT_SET_MASQ6);
	}
	for (i = 0; i < vnet->peer_count; i++)
		nft_peer_elems(list, vnet->bridge, vnet->peers[i]);
}

/* A batch under construction, with a description of every message so that
 * an error reply can say which object the kernel refused. */
struct nft_batch {
	struct nftnl_batch *batch;
	uint32_t seq_begin;
	uint32_t seq_next;
	char **what; /* what[seq - seq_begin - 1]; NULL for begin and end */
	int *set_of; /* the set an element message changes, or -1 */
	size_t message_count;
	size_t message_allocated;
};

static void nft_batch_done(struct nft_batch *b)
{
	size_t i;

	if (b->batch)
		nftnl_batch_free(b->batch);
	for (i = 0; i < b->message_count; i++)
		free(b->what[i]);
	free(b->what);
	free(b->set_of);
	memset(b, 0, sizeof(*b));
}

static void nft_batch_start(struct nft_ctx *ctx, struct nft_batch *b)
{
	memset(b, 0, sizeof(*b));
	b->batch = nftnl_batch_alloc(NFT_BATCH_PAGE_SIZE, NFT_MESSAGE_MAX);
	if (!b->batch)
		xalloc_die();
	b->seq_begin = ctx->seq;
	memset(nftnl_batch_buffer(b->batch), 0, NFT_ZERO_AHEAD);
	nftnl_batch_begin(nftnl_batch_buffer(b->batch), b->seq_begin);
	nftnl_batch_update(b->batch);
	memset(nftnl_batch_buffer(b->batch), 0, NFT_ZERO_AHEAD);
	b->seq_next = b->seq_begin + 1;
}

/* Starts the header of the next message; the caller adds its payload and
 * calls nft_batch_commit_message(). */
static struct nlmsghdr *nft_batch_message(struct nft_batch *b, uint16_t type, uint32_t family,
					  uint16_t flags, char *what)
{
	if (b->message_count == b->message_allocated) {
		b->message_allocated = b->message_allocated ? b->message_allocated * 2 : 32;
		b->what = xrealloc(b->what, b->message_allocated * sizeof(*b->what));
		b->set_of = xrealloc(b->set_of, b->message_allocated * sizeof(*b->set_of));
	}
	b->set_of[b->message_count] = -1;
	b->what[b->message_count++] = what;
	return nftnl_nlmsg_build_hdr(nftnl_batch_buffer(b->batch), type, family, flags | NLM_F_ACK,
				     b->seq_next++);
}

static void nft_batch_commit_message(struct nft_batch *b)
{
	if (nftnl_batch_update(b->batch) < 0)
		xalloc_die();
	memset(nftnl_batch_buffer(b->batch), 0, NFT_ZERO_AHEAD);
}

static const char *nft_batch_what(const struct nft_batch *b, uint32_t seq)
{
	if (seq > b->seq_begin && seq - b->seq_begin - 1 < b->message_count)
		return b->what[seq - b->seq_begin - 1];
	return "batch";
}

/* What EEXIST means for a message: elements are added without EXCL, so it
 * is an interval overlapping one there, or a map key holding another
 * value. */
static const char *nft_batch_eexist_text(const struct nft_batch *b, uint32_t seq)
{
	int set = -1;

	if (seq > b->seq_begin && seq - b->seq_begin - 1 < b->message_count)
		set = b->set_of[seq - b->seq_begin - 1];
	if (set >= 0 && (nft_set_defs[set].flags & NFT_SET_MAP))
		return "a host port published by another group";
	if (set >= 0 && (nft_set_defs[set].flags & NFT_SET_INTERVAL))
		return "overlaps a subnet already there";
	return strerror(EEXIST);
}

static void nft_table_message(struct nft_batch *b, uint16_t type, uint32_t family, uint16_t flags,
			      const char *verb)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;

	if (!t)
		xalloc_die();
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, NFT_TABLE_NAME);
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, family);
	nlh = nft_batch_message(b, type, family, flags,
				xasprintf("%s table %s podwire", verb, nft_family_name(family)));
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	nft_batch_commit_message(b);
}

static void nft_chain_message(struct nft_batch *b, uint32_t family, const char *name,
			      const char *type, uint32_t hook, int32_t priority)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nlmsghdr *nlh;

	if (!c)
		xalloc_die();
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, NFT_TABLE_NAME);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, family);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	if (type) { /* a base chain; else a regular one, reached by jumps */
		nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, type);
		nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, hook);
		nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, priority);
		nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	}
	nlh = nft_batch_message(b, NFT_MSG_NEWCHAIN, family, NLM_F_CREATE,
				xasprintf("add chain %s %s", nft_family_name(family), name));
	nftnl_chain_nlmsg_build_payload(nlh, c);
	nftnl_chain_free(c);
	nft_batch_commit_message(b);
}

static void nft_set_message(struct nft_batch *b, enum nft_set_index set)
{
	const struct nft_set_def *def = &nft_set_defs[set];
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_udata_buf *udata = nftnl_udata_buf_alloc(NFT_MESSAGE_MAX);
	struct nlmsghdr *nlh;

	if (!s || !udata)
		xalloc_die();
	nftnl_set_set_str(s, NFTNL_SET_TABLE, NFT_TABLE_NAME);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, nft_set_family(set));
	nftnl_set_set_str(s, NFTNL_SET_NAME, def->name);
	nftnl_set_set_u32(s, NFTNL_SET_ID, nft_set_batch_id(set));
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, def->key_type);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, def->key_len);
	if (def->flags)
		nftnl_set_set_u32(s, NFTNL_SET_FLAGS, def->flags);
	if (def->flags & NFT_SET_MAP) {
		nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, def->data_type);
		nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, def->data_len);
	}
	if (def->counter)
		nftnl_set_add_expr(s, nft_expr_new("counter"));
	if (!nftnl_udata_put_u32(udata, NFTNL_UDATA_SET_KEYBYTEORDER, def->byteorder) ||
	    !nftnl_udata_put_strz(udata, NFTNL_UDATA_SET_COMMENT, def->comment))
		xalloc_die();
	nftnl_set_set_data(s, NFTNL_SET_USERDATA, nftnl_udata_buf_data(udata),
			   nftnl_udata_buf_len(udata));
	nlh = nft_batch_message(
	    b, NFT_MSG_NEWSET, nft_set_family(set), NLM_F_CREATE,
	    xasprintf("add set %s %s", nft_family_name(nft_set_family(set)), def->name));
	nftnl_set_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	nftnl_udata_buf_free(udata);
	nft_batch_commit_message(b);
}

/* Adds (NEWSETELEM, create without EXCL: present is fine) or deletes the
 * elements of list that belong to set, NFT_ELEMS_PER_MESSAGE per message.
 * what_prefix says whose elements they are, for error messages. */
static void nft_elems_messages(struct nft_batch *b, const struct nft_elem_list *list,
			       enum nft_set_index set, uint16_t type, const char *what_prefix)
{
	const char *set_name = nft_set_defs[set].name;
	struct nftnl_set *s = NULL;
	size_t i, in_message = 0;

	for (i = 0; i <= list->count; i++) {
		if (s && (i == list->count || in_message == NFT_ELEMS_PER_MESSAGE)) {
			struct nlmsghdr *nlh = nft_batch_message(
			    b, type, nft_set_family(set),
			    type == NFT_MSG_NEWSETELEM ? NLM_F_CREATE : 0,
			    xasprintf("%s %s %s %s", what_prefix,
				      type == NFT_MSG_NEWSETELEM ? "add to" : "delete from",
				      nft_set_defs[set].flags & NFT_SET_MAP ? "map" : "set",
				      set_name));
			b->set_of[b->message_count - 1] = set;
			nftnl_set_elems_nlmsg_build_payload(nlh, s);
			nftnl_set_free(s);
			s = NULL;
			in_message = 0;
			nft_batch_commit_message(b);
		}
		if (i == list->count)
			break;
		if (list->elems[i].set != set)
			continue;
		if (!s) {
			s = nftnl_set_alloc();
			if (!s)
				xalloc_die();
			nftnl_set_set_str(s, NFTNL_SET_TABLE, NFT_TABLE_NAME);
			nftnl_set_set_u32(s, NFTNL_SET_FAMILY, nft_set_family(set));
			nftnl_set_set_str(s, NFTNL_SET_NAME, set_name);
		}
		struct nftnl_set_elem *e = nftnl_set_elem_alloc();
		if (!e)
			xalloc_die();
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, list->elems[i].key,
				   list->elems[i].key_len);
		if (list->elems[i].flags)
			nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_FLAGS, list->elems[i].flags);
		if (list->elems[i].data_len)
			nftnl_set_elem_set(e, NFTNL_SET_ELEM_DATA, list->elems[i].data,
					   list->elems[i].data_len);
		nftnl_set_elem_add(s, e);
		in_message++;
	}
}

static void nft_all_elems_messages(struct nft_batch *b, const struct nft_elem_list *list,
				   uint16_t type, const char *what_prefix)
{
	enum nft_set_index set;

	for (set = 0; set < NFT_SET_COUNT; set++)
		nft_elems_messages(b, list, set, type, what_prefix);
}

/* Expression builders: each mirrors what `nft -d netlink add rule ...`
 * shows for the rule text in the comments of nft_rules_messages(). */
static struct nftnl_expr *nft_expr_new(const char *name)
{
	struct nftnl_expr *e = nftnl_expr_alloc(name);

	if (!e)
		xalloc_die();
	return e;
}

/* Registers: the 16-byte NFT_REG_1 is the 32-bit NFT_REG32_00..03; a
 * concatenation fills consecutive 32-bit registers, each field rounded up
 * to whole registers (nft_concat_reg gives the one a field starts in). */
static uint32_t nft_concat_reg(unsigned word)
{
	return word == 0 ? NFT_REG_1 : NFT_REG32_00 + word;
}

static void nft_add_meta(struct nftnl_rule *r, uint32_t key, uint32_t dreg)
{
	struct nftnl_expr *e = nft_expr_new("meta");

	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, dreg);
	nftnl_rule_add_expr(r, e);
}

/* A lookup in set (dreg NFT_REG_VERDICT + 1 = none, else a map's value
 * goes there). */
static void nft_add_lookup_full(struct nftnl_rule *r, uint32_t sreg, enum nft_set_index set,
				bool invert, int dreg)
{
	struct nftnl_expr *e = nft_expr_new("lookup");

	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, sreg);
	if (dreg >= 0)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, dreg);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, nft_set_defs[set].name);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, nft_set_batch_id(set));
	if (invert)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS, NFT_LOOKUP_F_INV);
	nftnl_rule_add_expr(r, e);
}

static void nft_add_lookup(struct nftnl_rule *r, uint32_t sreg, enum nft_set_index set, bool invert)
{
	nft_add_lookup_full(r, sreg, set, invert, -1);
}

static void nft_add_cmp(struct nftnl_rule *r, uint32_t sreg, uint32_t op, const void *data,
			uint32_t len)
{
	struct nftnl_expr *e = nft_expr_new("cmp");

	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, sreg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	nftnl_rule_add_expr(r, e);
}

static void nft_add_cmp_u32(struct nftnl_rule *r, uint32_t sreg, uint32_t op, uint32_t value)
{
	nft_add_cmp(r, sreg, op, &value, sizeof(value));
}

static void nft_add_cmp_u8(struct nftnl_rule *r, uint32_t sreg, uint32_t op, uint8_t value)
{
	nft_add_cmp(r, sreg, op, &value, sizeof(value));
}

static void nft_add_bitwise(struct nftnl_rule *r, uint32_t reg, const void *mask, uint32_t len)
{
	struct nftnl_expr *e = nft_expr_new("bitwise");
	uint8_t zero[16] = {0};

	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, reg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, reg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, len);
	nftnl_rule_add_expr(r, e);
}

/* ct KEY & bits != 0 (ct state established,related; ct status dnat). */
static void nft_add_ct_bits(struct nftnl_rule *r, uint32_t key, uint32_t bits)
{
	struct nftnl_expr *e = nft_expr_new("ct");

	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	nftnl_rule_add_expr(r, e);
	nft_add_bitwise(r, NFT_REG_1, &bits, sizeof(bits));
	nft_add_cmp_u32(r, NFT_REG_1, NFT_CMP_NEQ, 0);
}

static void nft_add_payload(struct nftnl_rule *r, uint32_t base, uint32_t offset, uint32_t len,
			    uint32_t dreg)
{
	struct nftnl_expr *e = nft_expr_new("payload");

	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
	nftnl_rule_add_expr(r, e);
}

/* meta nfproto ipv4|ipv6 (inet family) */
static void nft_add_nfproto(struct nftnl_rule *r, uint8_t nfproto)
{
	nft_add_meta(r, NFT_META_NFPROTO, NFT_REG_1);
	nft_add_cmp_u8(r, NFT_REG_1, NFT_CMP_EQ, nfproto);
}

/* ether type TYPE (bridge family) */
static void nft_add_ether_type(struct nftnl_rule *r, uint16_t ethertype)
{
	uint16_t be = htons(ethertype);

	nft_add_payload(r, NFT_PAYLOAD_LL_HEADER, 12, 2, NFT_REG_1);
	nft_add_cmp(r, NFT_REG_1, NFT_CMP_EQ, &be, sizeof(be));
}

static void nft_add_verdict(struct nftnl_rule *r, int verdict)
{
	struct nftnl_expr *e = nft_expr_new("immediate");

	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, verdict);
	nftnl_rule_add_expr(r, e);
}

static void nft_add_masquerade(struct nftnl_rule *r)
{
	nftnl_rule_add_expr(r, nft_expr_new("masq"));
}

static struct nftnl_rule *nft_rule_new(uint32_t family, const char *chain)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	if (!r)
		xalloc_die();
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, NFT_TABLE_NAME);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, family);
	return r;
}

/* Appends rule r with its owner comment (userdata, as nft stores
 * `comment "..."`) and frees it. */
static void nft_rule_message(struct nft_batch *b, struct nftnl_rule *r, const char *comment)
{
	struct nftnl_udata_buf *udata = nftnl_udata_buf_alloc(NFT_MESSAGE_MAX);
	_cleanup_free_ char *text = xasprintf(NFT_OWNER ": %s", comment);
	uint32_t family = nftnl_rule_get_u32(r, NFTNL_RULE_FAMILY);
	struct nlmsghdr *nlh;

	if (!udata)
		xalloc_die();
	if (!nftnl_udata_put_strz(udata, NFTNL_UDATA_RULE_COMMENT, text))
		xalloc_die();
	nftnl_rule_set_data(r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(udata),
			    nftnl_udata_buf_len(udata));
	nlh = nft_batch_message(b, NFT_MSG_NEWRULE, family, NLM_F_CREATE | NLM_F_APPEND,
				xasprintf("add rule '%s' to chain %s %s", text,
					  nft_family_name(family),
					  nftnl_rule_get_str(r, NFTNL_RULE_CHAIN)));
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	nftnl_udata_buf_free(udata);
	nft_batch_commit_message(b);
}

/* The published-port rules of a nat chain (prerouting: from outside and
 * from groups; output: from the host itself), for IPv4 or IPv6:
 *   dnat ip to ip daddr . meta l4proto . th dport map @ports4a
 *   ip daddr != 127.0.0.0/8 fib daddr type local dnat ip to meta l4proto . th dport map @ports4
 * Loopback is left out: a DNAT'd packet from 127.0.0.1 cannot leave the
 * host. */
static void nft_dnat_rules(struct nft_batch *b, const char *chain, bool ipv6)
{
	uint32_t addr_len = ipv6 ? 16 : 4, addr_words = addr_len / 4;
	uint32_t daddr_offset = ipv6 ? 24 : 16;
	struct nftnl_rule *r;
	struct nftnl_expr *e;
	int pass;

	for (pass = 0; pass < 2; pass++) {
		bool by_addr = pass == 0;
		unsigned word = 0;

		r = nft_rule_new(NFPROTO_INET, chain);
		nft_add_nfproto(r, ipv6 ? NFPROTO_IPV6 : NFPROTO_IPV4);
		if (by_addr) {
			nft_add_payload(r, NFT_PAYLOAD_NETWORK_HEADER, daddr_offset, addr_len,
					NFT_REG_1);
			word = addr_words;
		} else {
			static const uint8_t loopback6[16] = {[15] = 1};

			if (ipv6) {
				nft_add_payload(r, NFT_PAYLOAD_NETWORK_HEADER, daddr_offset, 16,
						NFT_REG_1);
				nft_add_cmp(r, NFT_REG_1, NFT_CMP_NEQ, loopback6, 16);
			} else {
				nft_add_payload(r, NFT_PAYLOAD_NETWORK_HEADER, daddr_offset, 1,
						NFT_REG_1);
				nft_add_cmp_u8(r, NFT_REG_1, NFT_CMP_NEQ, 127);
			}
			e = nft_expr_new("fib");
			nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, NFTA_FIB_F_DADDR);
			nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
			nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, NFT_REG_1);
			nftnl_rule_add_expr(r, e);
			nft_add_cmp_u32(r, NFT_REG_1, NFT_CMP_EQ, NFT_ADDRTYPE_LOCAL);
		}
		nft_add_meta(r, NFT_META_L4PROTO, nft_concat_reg(word));
		nft_add_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, nft_concat_reg(word + 1));
		nft_add_lookup_full(r, NFT_REG_1,
				    ipv6 ? (by_addr ? NFT_SET_PORTS6A : NFT_SET_PORTS6)
					 : (by_addr ? NFT_SET_PORTS4A : NFT_SET_PORTS4),
				    false, NFT_REG_1);
		/* The value: address . port, the port in the register after
		 * the address. */
		e = nft_expr_new("nat");
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT);
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, ipv6 ? NFPROTO_IPV6 : NFPROTO_IPV4);
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MAX, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, nft_concat_reg(addr_words));
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MAX, nft_concat_reg(addr_words));
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FLAGS,
				   NF_NAT_RANGE_MAP_IPS | NF_NAT_RANGE_PROTO_SPECIFIED);
		nftnl_rule_add_expr(r, e);
		nft_rule_message(b, r,
				 by_addr ? "ports published on one host address"
					 : "ports published on every host address");
	}
}

/* meta nfproto ipv4 iifname . ip daddr @gateways4 (ip6: @gateways6): to
 * the gateway address of the bridge it came in by. */
static void nft_add_own_gateway(struct nftnl_rule *r, bool v6)
{
	nft_add_nfproto(r, v6 ? NFPROTO_IPV6 : NFPROTO_IPV4);
	nft_add_meta(r, NFT_META_IIFNAME, NFT_REG_1);
	nft_add_payload(r, NFT_PAYLOAD_NETWORK_HEADER, v6 ? 24 : 16, v6 ? 16 : 4,
			nft_concat_reg(IFNAMSIZ / 4));
	nft_add_lookup(r, NFT_REG_1, v6 ? NFT_SET_GATEWAYS6 : NFT_SET_GATEWAYS4, false);
}

/* meta l4proto PROTO (after meta nfproto) */
static void nft_add_l4proto(struct nftnl_rule *r, uint8_t proto)
{
	nft_add_meta(r, NFT_META_L4PROTO, NFT_REG_1);
	nft_add_cmp_u8(r, NFT_REG_1, NFT_CMP_EQ, proto);
}

/* Host access (chain input): what the groups of each VNet may reach on the
 * host itself. A group's packet to any host address, its own gateway's or
 * another VNet's, arrives here by its bridge, whatever the address; only
 * its own gateway's addresses are offered to it (gateways4/6, keyed by
 * bridge, so B's gateway is never A's), and what it may do there depends
 * on the VNet's host access, an element of host_dns / host_all: a change
 * is one batch of elements, the rules stay. What is left is dropped and
 * counted in `dropped` (per bridge, with isolation). */
static void nft_input_rules_messages(struct nft_batch *b)
{
	const uint32_t inet = NFPROTO_INET;
	const uint16_t dns_port_be = htons(NFT_DNS_PORT);
	struct nftnl_rule *r;
	int v6, tcp;

	/* iifname != @bridges accept: not from a group, not ours to judge. */
	r = nft_rule_new(inet, "input");
	nft_add_meta(r, NFT_META_IIFNAME, NFT_REG_1);
	nft_add_lookup(r, NFT_REG_1, NFT_SET_BRIDGES, true);
	nft_add_verdict(r, NF_ACCEPT);
	nft_rule_message(b, r, "host access: not from a group");

	/* ct state established,related accept: replies to what the host
	 * opened (into a group, e.g.), and errors about it. */
	r = nft_rule_new(inet, "input");
	nft_add_ct_bits(r, NFT_CT_STATE,
			NF_CT_STATE_BIT(IP_CT_ESTABLISHED) | NF_CT_STATE_BIT(IP_CT_RELATED));
	nft_add_verdict(r, NF_ACCEPT);
	nft_rule_message(b, r, "host access: replies");

	/* meta nfproto ipv6 meta l4proto ipv6-icmp icmpv6 type
	 * nd-neighbor-solicit-nd-neighbor-advert accept: without neighbour
	 * discovery with the gateway, no IPv6 packet of a group gets past
	 * it, to the host or to the outside. */
	r = nft_rule_new(inet, "input");
	nft_add_nfproto(r, NFPROTO_IPV6);
	nft_add_l4proto(r, IPPROTO_ICMPV6);
	nft_add_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1, NFT_REG_1);
	nft_add_cmp_u8(r, NFT_REG_1, NFT_CMP_GTE, NFT_ICMPV6_ND_SOLICIT);
	nft_add_cmp_u8(r, NFT_REG_1, NFT_CMP_LTE, NFT_ICMPV6_ND_ADVERT);
	nft_add_verdict(r, NF_ACCEPT);
	nft_rule_message(b, r, "host access: IPv6 neighbour discovery");

	for (v6 = 0; v6 < 2; v6++) {
		/* iifname . ip daddr @gateways4 meta l4proto icmp icmp type
		 * echo-request accept: every VNet's gateway answers ping, as
		 * a router does. */
		r = nft_rule_new(inet, "input");
		nft_add_own_gateway(r, v6);
		nft_add_l4proto(r, v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP);
		nft_add_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1, NFT_REG_1);
		nft_add_cmp_u8(r, NFT_REG_1, NFT_CMP_EQ,
			       v6 ? NFT_ICMPV6_ECHO_REQUEST : NFT_ICMP_ECHO_REQUEST);
		nft_add_verdict(r, NF_ACCEPT);
		nft_rule_message(b, r,
				 v6 ? "host access: ping6 of the own gateway"
				    : "host access: ping of the own gateway");

		/* iifname @host_dns iifname . ip daddr @gateways4
		 * meta l4proto udp th dport 53 accept (and tcp) */
		for (tcp = 0; tcp < 2; tcp++) {
			r = nft_rule_new(inet, "input");
			nft_add_meta(r, NFT_META_IIFNAME, NFT_REG_1);
			nft_add_lookup(r, NFT_REG_1, NFT_SET_HOST_DNS, false);
			nft_add_own_gateway(r, v6);
			nft_add_l4proto(r, tcp ? IPPROTO_TCP : IPPROTO_UDP);
			nft_add_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, NFT_REG_1);
			nft_add_cmp(r, NFT_REG_1, NFT_CMP_EQ, &dns_port_be, sizeof(dns_port_be));
			nft_add_verdict(r, NF_ACCEPT);
			nft_rule_message(b, r, "host access dns: DNS on the own gateway");
		}

		/* iifname @host_all iifname . ip daddr @gateways4 accept */
		r = nft_rule_new(inet, "input");
		nft_add_meta(r, NFT_META_IIFNAME, NFT_REG_1);
		nft_add_lookup(r, NFT_REG_1, NFT_SET_HOST_ALL, false);
		nft_add_own_gateway(r, v6);
		nft_add_verdict(r, NF_ACCEPT);
		nft_rule_message(b, r, "host access all: the own gateway");

		/* iifname @host_all ip daddr != @subnets4 accept: the host's
		 * addresses outside every VNet (never another VNet's gateway) */
		r = nft_rule_new(inet, "input");
		nft_add_meta(r, NFT_META_IIFNAME, NFT_REG_1);
		nft_add_lookup(r, NFT_REG_1, NFT_SET_HOST_ALL, false);
		nft_add_nfproto(r, v6 ? NFPROTO_IPV6 : NFPROTO_IPV4);
		nft_add_payload(r, NFT_PAYLOAD_NETWORK_HEADER, v6 ? 24 : 16, v6 ? 16 : 4,
				NFT_REG_1);
		nft_add_lookup(r, NFT_REG_1, v6 ? NFT_SET_SUBNETS6 : NFT_SET_SUBNETS4, true);
		nft_add_verdict(r, NF_ACCEPT);
		nft_rule_message(b, r, "host access all: host addresses outside the VNets");
	}

	/* iifname @dropped drop: anything else from a group (counted) */
	r = nft_rule_new(inet, "input");
	nft_add_meta(r, NFT_META_IIFNAME, NFT_REG_1);
	nft_add_lookup(r, NFT_REG_1, NFT_SET_DROPPED, false);
	nft_add_verdict(r, NF_DROP);
	nft_rule_message(b, r, "host access: anything else from a group");
}

/* Registers of 16 bytes: an ifname fills one, so a concatenation of two
 * ifnames is NFT_REG_1 . NFT_REG_2. */
static void nft_inet_rules_messages(struct nft_batch *b)
{
	static const char loopback_ifname[IFNAMSIZ] = "lo";
	const uint32_t inet = NFPROTO_INET;
	struct nftnl_rule *r;
	int v6;

	/* iifname . oifname @allowed accept. First: the bulk of what passes
	 * here is frames bridged between two groups of a VNet (br_netfilter),
	 * untracked, which the two conntrack rules below would only test and
	 * pass on. */
	r = nft_rule_new(inet, "forward");
	nft_add_meta(r, NFT_META_IIFNAME, NFT_REG_1);
	nft_add_meta(r, NFT_META_OIFNAME, NFT_REG_2);
	nft_add_lookup(r, NFT_REG_1, NFT_SET_ALLOWED, false);
	nft_add_verdict(r, NF_ACCEPT);
	nft_rule_message(b, r, "within a VNet (not isolate) and between peers");

	/* ct state established,related accept */
	r = nft_rule_new(inet, "forward");
	nft_add_ct_bits(r, NFT_CT_STATE,
			NF_CT_STATE_BIT(IP_CT_ESTABLISHED) | NF_CT_STATE_BIT(IP_CT_RELATED));
	nft_add_verdict(r, NF_ACCEPT);
	nft_rule_message(b, r, "return traffic");

	/* ct status dnat accept: a published port is open to whoever reaches
	 * the host, other VNets and isolate VNets included. */
	r = nft_rule_new(inet, "forward");
	nft_add_ct_bits(r, NFT_CT_STATUS, IPS_DST_NAT);
	nft_add_verdict(r, NF_ACCEPT);
	nft_rule_message(b, r, "published ports");

	/* iifname @bridges oifname @bridges iifname @dropped drop: between
	 * two VNets, and between two groups of an isolate VNet (br_netfilter
	 * passes frames bridged between two ports with in and out both the
	 * bridge); the last lookup counts it for the bridge it came from. */
	r = nft_rule_new(inet, "forward");
	nft_add_meta(r, NFT_META_IIFNAME, NFT_REG_1);
	nft_add_lookup(r, NFT_REG_1, NFT_SET_BRIDGES, false);
	nft_add_meta(r, NFT_META_OIFNAME, NFT_REG_2);
	nft_add_lookup(r, NFT_REG_2, NFT_SET_BRIDGES, false);
	nft_add_lookup(r, NFT_REG_1, NFT_SET_DROPPED, false);
	nft_add_verdict(r, NF_DROP);
	nft_rule_message(b, r, "between VNets, and between groups of an isolate VNet");

	/* iifname @internal iifname @dropped drop (pairs of bridges were
	 * decided above, so what is left goes to a non-podwire interface) */
	r = nft_rule_new(inet, "forward");
	nft_add_meta(r, NFT_META_IIFNAME, NFT_REG_1);
	nft_add_lookup(r, NFT_REG_1, NFT_SET_INTERNAL, false);
	nft_add_lookup(r, NFT_REG_1, NFT_SET_DROPPED, false);
	nft_add_verdict(r, NF_DROP);
	nft_rule_message(b, r, "internal VNet: nothing out");

	/* oifname @internal oifname @dropped drop */
	r = nft_rule_new(inet, "forward");
	nft_add_meta(r, NFT_META_OIFNAME, NFT_REG_1);
	nft_add_lookup(r, NFT_REG_1, NFT_SET_INTERNAL, false);
	nft_add_lookup(r, NFT_REG_1, NFT_SET_DROPPED, false);
	nft_add_verdict(r, NF_DROP);
	nft_rule_message(b, r, "internal VNet: nothing in");

	for (v6 = 0; v6 < 2; v6++) {
		/* oifname != @bridges oifname != "lo" ip saddr @masq4 masquerade.
		 * What the host sends to one of its own addresses leaves by lo
		 * and passes here too; when it goes to a gateway (the host
		 * asking dnsd) its source is that gateway, inside masq4, and
		 * masquerading it would pick the host's first global address
		 * (eth0's), which dnsd refuses as a stranger. */
		r = nft_rule_new(inet, "postrouting");
		nft_add_meta(r, NFT_META_OIFNAME, NFT_REG_1);
		nft_add_lookup(r, NFT_REG_1, NFT_SET_BRIDGES, true);
		nft_add_cmp(r, NFT_REG_1, NFT_CMP_NEQ, loopback_ifname, IFNAMSIZ);
		nft_add_nfproto(r, v6 ? NFPROTO_IPV6 : NFPROTO_IPV4);
		nft_add_payload(r, NFT_PAYLOAD_NETWORK_HEADER, v6 ? 8 : 12, v6 ? 16 : 4, NFT_REG_1);
		nft_add_lookup(r, NFT_REG_1, v6 ? NFT_SET_MASQ6 : NFT_SET_MASQ4, false);
		nft_add_masquerade(r);
		nft_rule_message(b, r,
				 v6 ? "masquerade IPv6 leaving the VNets"
				    : "masquerade IPv4 leaving the VNets");
	}
	for (v6 = 0; v6 < 2; v6++) {
		/* oifname @bridges ct status dnat ip saddr @subnets4 masquerade:
		 * a group reaching a published port on the host comes back
		 * through the host, whichever group serves it (hairpin). */
		r = nft_rule_new(inet, "postrouting");
		nft_add_meta(r, NFT_META_OIFNAME, NFT_REG_1);
		nft_add_lookup(r, NFT_REG_1, NFT_SET_BRIDGES, false);
		nft_add_ct_bits(r, NFT_CT_STATUS, IPS_DST_NAT);
		nft_add_nfproto(r, v6 ? NFPROTO_IPV6 : NFPROTO_IPV4);
		nft_add_payload(r, NFT_PAYLOAD_NETWORK_HEADER, v6 ? 8 : 12, v6 ? 16 : 4, NFT_REG_1);
		nft_add_lookup(r, NFT_REG_1, v6 ? NFT_SET_SUBNETS6 : NFT_SET_SUBNETS4, false);
		nft_add_masquerade(r);
		nft_rule_message(b, r,
				 v6 ? "hairpin: IPv6 groups reaching published ports"
				    : "hairpin: groups reaching published ports");
	}
	for (v6 = 0; v6 < 2; v6++) {
		nft_dnat_rules(b, "prerouting", v6);
		nft_dnat_rules(b, "output", v6);
	}
	nft_input_rules_messages(b);
}

/* ether saddr . SOURCE ADDRESS lookup in addrs4/addrs6 of a group port:
 * iifname . ether saddr . ip saddr @addrs4 (ip6: @addrs6). */
static void nft_add_own_address(struct nftnl_rule *r, bool v6)
{
	const unsigned mac_word = IFNAMSIZ / 4, addr_word = (IFNAMSIZ + 8) / 4;

	nft_add_ether_type(r, v6 ? NFT_ETH_P_IPV6 : NFT_ETH_P_IP);
	nft_add_meta(r, NFT_META_IIFNAME, NFT_REG_1);
	nft_add_payload(r, NFT_PAYLOAD_LL_HEADER, 6, NFT_MAC_LEN, nft_concat_reg(mac_word));
	nft_add_payload(r, NFT_PAYLOAD_NETWORK_HEADER, v6 ? 8 : 12, v6 ? 16 : 4,
			nft_concat_reg(addr_word));
	nft_add_lookup(r, NFT_REG_1, v6 ? NFT_SET_ADDRS6 : NFT_SET_ADDRS4, false);
}

/* bridge podwire: what each group port may send. Frames from ports that
 * are not a group's pass untouched. The common case costs one rule and
 * one lookup: an IPv4 or IPv6 packet from a group's own MAC and address
 * is accepted by the lookup that also counts it (the element's counter is
 * part of the group's tx). When it is bridged to another port (its
 * destination MAC is not the bridge's own: pkttype other), conntrack is
 * skipped (notrack): frames between two groups of one bridge need no
 * connection state (the inet forward chain decides them by bridge pair
 * alone, and no NAT applies to them), and tracking them is the largest
 * part of what the rules cost. Whatever else a group port sends (ARP,
 * IPv6 link-local and DAD, spoofed frames) is counted in tx and checked in
 * chain "group". What a group is sent costs one lookup (rx). */
static void nft_bridge_rules_messages(struct nft_batch *b)
{
	const uint32_t bridge = NFPROTO_BRIDGE;
	const unsigned mac_word = IFNAMSIZ / 4, addr_word = (IFNAMSIZ + 8) / 4;
	static const uint8_t ll_mask[16] = {0xff, 0xc0}, ll_prefix[16] = {0xfe, 0x80};
	static const uint8_t unspecified6[16] = {0};
	struct nftnl_rule *r;
	struct nftnl_expr *e;
	int v6;

	for (v6 = 0; v6 < 2; v6++) {
		/* meta pkttype other iifname . ether saddr . ip saddr @addrs4
		 * notrack accept */
		r = nft_rule_new(bridge, "prerouting");
		nft_add_meta(r, NFT_META_PKTTYPE, NFT_REG_1);
		nft_add_cmp_u8(r, NFT_REG_1, NFT_CMP_EQ, PACKET_OTHERHOST);
		nft_add_own_address(r, v6);
		nftnl_rule_add_expr(r, nft_expr_new("notrack"));
		nft_add_verdict(r, NF_ACCEPT);
		nft_rule_message(b, r,
				 v6 ? "a group's own IPv6 addresses, to another group"
				    : "a group's own IPv4 addresses, to another group");

		/* iifname . ether saddr . ip saddr @addrs4 accept */
		r = nft_rule_new(bridge, "prerouting");
		nft_add_own_address(r, v6);
		nft_add_verdict(r, NF_ACCEPT);
		nft_rule_message(
		    b, r, v6 ? "a group's own IPv6 addresses" : "a group's own IPv4 addresses");
	}

	/* iifname @tx jump group (the lookup counts it) */
	r = nft_rule_new(bridge, "prerouting");
	nft_add_meta(r, NFT_META_IIFNAME, NFT_REG_1);
	nft_add_lookup(r, NFT_REG_1, NFT_SET_TX, false);
	e = nft_expr_new("immediate");
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, NFT_JUMP);
	nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, "group");
	nftnl_rule_add_expr(r, e);
	nft_rule_message(b, r, "count and check anything else a group sends");

	/* ether type arp iifname . ether saddr . arp saddr ip @arp4
	 * iifname . arp saddr ether @macs accept */
	r = nft_rule_new(bridge, "group");
	nft_add_ether_type(r, NFT_ETH_P_ARP);
	nft_add_meta(r, NFT_META_IIFNAME, NFT_REG_1);
	nft_add_payload(r, NFT_PAYLOAD_LL_HEADER, 6, NFT_MAC_LEN, nft_concat_reg(mac_word));
	nft_add_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 14, 4, nft_concat_reg(addr_word));
	nft_add_lookup(r, NFT_REG_1, NFT_SET_ARP4, false);
	nft_add_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 8, NFT_MAC_LEN, nft_concat_reg(mac_word));
	nft_add_lookup(r, NFT_REG_1, NFT_SET_MACS, false);
	nft_add_verdict(r, NF_ACCEPT);
	nft_rule_message(b, r, "ARP for a group's own IPv4 addresses");

	/* iifname . ether saddr != @macs iifname @spoofed drop */
	r = nft_rule_new(bridge, "group");
	nft_add_meta(r, NFT_META_IIFNAME, NFT_REG_1);
	nft_add_payload(r, NFT_PAYLOAD_LL_HEADER, 6, NFT_MAC_LEN, nft_concat_reg(mac_word));
	nft_add_lookup(r, NFT_REG_1, NFT_SET_MACS, true);
	nft_add_lookup(r, NFT_REG_1, NFT_SET_SPOOFED, false);
	nft_add_verdict(r, NF_DROP);
	nft_rule_message(b, r, "spoofed MAC");

	/* ether type ip6 ip6 saddr fe80::/10 accept: link-local (neighbour
	 * discovery), from the group's own MAC (checked above). */
	r = nft_rule_new(bridge, "group");
	nft_add_ether_type(r, NFT_ETH_P_IPV6);
	nft_add_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 8, 16, NFT_REG_1);
	nft_add_bitwise(r, NFT_REG_1, ll_mask, 16);
	nft_add_cmp(r, NFT_REG_1, NFT_CMP_EQ, ll_prefix, 16);
	nft_add_verdict(r, NF_ACCEPT);
	nft_rule_message(b, r, "IPv6 link-local");

	/* ether type ip6 ip6 saddr :: accept: duplicate address detection */
	r = nft_rule_new(bridge, "group");
	nft_add_ether_type(r, NFT_ETH_P_IPV6);
	nft_add_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 8, 16, NFT_REG_1);
	nft_add_cmp(r, NFT_REG_1, NFT_CMP_EQ, unspecified6, 16);
	nft_add_verdict(r, NF_ACCEPT);
	nft_rule_message(b, r, "IPv6 duplicate address detection");

	/* iifname @spoofed drop: anything else from a group port */
	r = nft_rule_new(bridge, "group");
	nft_add_meta(r, NFT_META_IIFNAME, NFT_REG_1);
	nft_add_lookup(r, NFT_REG_1, NFT_SET_SPOOFED, false);
	nft_add_verdict(r, NF_DROP);
	nft_rule_message(b, r, "spoofed source address");

	/* oifname @rx (counts what the group is sent) */
	r = nft_rule_new(bridge, "postrouting");
	nft_add_meta(r, NFT_META_OIFNAME, NFT_REG_1);
	nft_add_lookup(r, NFT_REG_1, NFT_SET_RX, false);
	nft_rule_message(b, r, "count what each group is sent");
}

/* Reads replies until every message of the batch is answered or the
 * kernel refused the batch as a whole; returns 0 or the errno of the
 * first refused message, with err naming it. */
static int nft_batch_replies(struct nft_ctx *ctx, const struct nft_batch *b, struct pw_error *err)
{
	_cleanup_free_ char *buf = xmalloc(MNL_SOCKET_BUFFER_SIZE);
	size_t answered = 0;
	int first_error = 0;
	int fd = mnl_socket_get_fd(ctx->nl);

	while (answered < b->message_count) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		const struct nlmsghdr *nlh;
		ssize_t len;
		int remaining, r;

		r = poll(&pfd, 1, NFT_REPLY_TIMEOUT_MS);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return pw_error_set(err, -errno, "nftables: waiting for replies: %m");
		}
		if (r == 0)
			return pw_error_set(
			    err, -ETIMEDOUT, "nftables: %zu of %zu replies missing after %d ms",
			    b->message_count - answered, b->message_count, NFT_REPLY_TIMEOUT_MS);
		len = mnl_socket_recvfrom(ctx->nl, buf, MNL_SOCKET_BUFFER_SIZE);
		if (len < 0) {
			if (errno == EINTR)
				continue;
			/* ENOBUFS: replies were dropped; the outcome is unknown. */
			return pw_error_set(err, -errno, "nftables: reading replies: %m");
		}
		remaining = (int)len;
		for (nlh = (const struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, remaining);
		     nlh = mnl_nlmsg_next(nlh, &remaining)) {
			const struct nlmsgerr *e;

			if (nlh->nlmsg_pid != ctx->portid || nlh->nlmsg_type != NLMSG_ERROR)
				continue;
			if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
				return pw_error_set(err, -EBADMSG, "nftables: short error reply");
			e = mnl_nlmsg_get_payload(nlh);
			if (nlh->nlmsg_seq < b->seq_begin || nlh->nlmsg_seq >= b->seq_next)
				continue; /* a reply to an earlier call that gave up */
			if (e->error && !first_error) {
				first_error = e->error;
				/* Elements are added without EXCL, so EEXIST
				 * means an interval overlapping one there. */
				pw_error_set(err, e->error, "nftables: %s: %s",
					     nft_batch_what(b, nlh->nlmsg_seq),
					     e->error == -EEXIST
						 ? nft_batch_eexist_text(b, nlh->nlmsg_seq)
						 : strerror(-e->error));
			}
			/* An error on the batch itself (out of memory, or the
			 * commit failed) is the only reply that comes. */
			if (nlh->nlmsg_seq == b->seq_begin)
				return first_error ? first_error : -EPROTO;
			answered++;
		}
	}
	return first_error;
}

static int nft_batch_send(struct nft_ctx *ctx, struct nft_batch *b, struct pw_error *err)
{
	_cleanup_free_ struct iovec *iov = NULL;
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	struct msghdr msg = {0};
	int iov_count, sndbuf = 0;
	socklen_t optlen = sizeof(sndbuf);
	uint32_t total;
	ssize_t sent;

	nftnl_batch_end(nftnl_batch_buffer(b->batch), b->seq_next++);
	nftnl_batch_update(b->batch);
	ctx->seq = b->seq_next;

	iov_count = nftnl_batch_iovec_len(b->batch);
	iov = xcalloc(iov_count, sizeof(*iov));
	nftnl_batch_iovec(b->batch, iov, iov_count);
	total = 0;
	for (int i = 0; i < iov_count; i++)
		total += iov[i].iov_len;

	/* The kernel takes a batch only in one piece, which must fit the
	 * socket's send buffer (as nft does, grow it when a big sync needs). */
	if (getsockopt(mnl_socket_get_fd(ctx->nl), SOL_SOCKET, SO_SNDBUF, &sndbuf, &optlen) == 0 &&
	    (uint32_t)sndbuf < total) {
		int want = total;

		if (setsockopt(mnl_socket_get_fd(ctx->nl), SOL_SOCKET, SO_SNDBUFFORCE, &want,
			       sizeof(want)) < 0)
			(void)setsockopt(mnl_socket_get_fd(ctx->nl), SOL_SOCKET, SO_SNDBUF, &want,
					 sizeof(want));
	}

	msg.msg_name = &kernel;
	msg.msg_namelen = sizeof(kernel);
	msg.msg_iov = iov;
	msg.msg_iovlen = iov_count;
	sent = sendmsg(mnl_socket_get_fd(ctx->nl), &msg, 0);
	if (sent < 0)
		return pw_error_set(err, -errno, "nftables: sending a batch of %u bytes: %m",
				    total);
	return nft_batch_replies(ctx, b, err);
}

int nft_ctx_new(struct nft_ctx **ret_ctx, struct pw_error *err)
{
	struct nft_ctx *ctx = xcalloc(1, sizeof(*ctx));
	struct timespec now;

	ctx->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!ctx->nl) {
		int r = -errno;
		free(ctx);
		return pw_error_set(err, r, "nftables: opening a netfilter netlink socket: %s",
				    strerror(-r));
	}
	if (mnl_socket_bind(ctx->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int r = -errno;
		nft_ctx_free(ctx);
		return pw_error_set(err, r, "nftables: binding the netlink socket: %s",
				    strerror(-r));
	}
	ctx->portid = mnl_socket_get_portid(ctx->nl);
	/* A fresh start point, so that late replies to an earlier process's
	 * socket are not mistaken for ours (they are filtered by port too). */
	clock_gettime(CLOCK_MONOTONIC, &now);
	ctx->seq = (uint32_t)(now.tv_sec ^ now.tv_nsec) & 0x7fffffff;
	*ret_ctx = ctx;
	return 0;
}

void nft_ctx_free(struct nft_ctx *ctx)
{
	if (!ctx)
		return;
	if (ctx->nl)
		mnl_socket_close(ctx->nl);
	free(ctx);
}

uint32_t nft_ctx_portid(const struct nft_ctx *ctx)
{
	return ctx->portid;
}

static void nft_batch_table_reset(struct nft_batch *b)
{
	enum nft_table_index t;

	/* Adding first makes the delete succeed whether or not the table is
	 * there; both are undone if anything later in the batch fails. */
	for (t = 0; t < NFT_TABLE_COUNT; t++) {
		nft_table_message(b, NFT_MSG_NEWTABLE, nft_table_families[t], NLM_F_CREATE, "add");
		nft_table_message(b, NFT_MSG_DELTABLE, nft_table_families[t], 0, "delete");
	}
}

/* Overlapping intervals are refused by the kernel only when one lies
 * inside another, and merge otherwise, so that removing one VNet would cut
 * into the other: refuse any overlap among the subnets a sync puts into
 * the interval sets. (netd never lets subnets overlap; a single add cannot
 * see the other VNets, so there the kernel's check is all.) */
static int nft_vnets_check_overlap(const struct nft_vnet_spec *vnets, size_t vnet_count,
				   struct pw_error *err)
{
	struct vnet_subnet {
		const struct ip_prefix *prefix;
		const char *bridge;
	};
	_cleanup_free_ struct vnet_subnet *subnets = NULL;
	size_t count = 0, total = 0, i, j;

	for (i = 0; i < vnet_count; i++)
		total += vnets[i].subnet_count;
	subnets = xcalloc(total ? total : 1, sizeof(*subnets));
	for (i = 0; i < vnet_count; i++)
		for (j = 0; j < vnets[i].subnet_count; j++)
			subnets[count++] =
			    (struct vnet_subnet){&vnets[i].subnets[j], vnets[i].bridge};

	for (i = 0; i < count; i++)
		for (j = i + 1; j < count; j++) {
			char buf_i[IP_PREFIX_STRLEN], buf_j[IP_PREFIX_STRLEN];

			if (subnets[i].prefix->family != subnets[j].prefix->family ||
			    !ip_prefix_overlaps(subnets[i].prefix, subnets[j].prefix))
				continue;
			return pw_error_set(
			    err, -EINVAL, "nftables: subnet %s of %s overlaps %s of %s",
			    ip_prefix_format(subnets[i].prefix, buf_i), subnets[i].bridge,
			    ip_prefix_format(subnets[j].prefix, buf_j), subnets[j].bridge);
		}
	return 0;
}

static int nft_group_validate(const struct nft_group_spec *att, struct pw_error *err)
{
	size_t i;
	int r;

	r = nft_ifname_validate("host interface", att->host_ifname, err);
	if (r < 0)
		return r;
	if ((att->addr_count && !att->addrs) || (att->port_count && !att->ports))
		return pw_error_set(err, -EINVAL, "%s: addresses or ports missing",
				    att->host_ifname);
	for (i = 0; i < att->addr_count; i++)
		if (!ip_family_addr_size(att->addrs[i].family))
			return pw_error_set(err, -EINVAL, "%s: address %zu has no address family",
					    att->host_ifname, i);
	for (i = 0; i < att->port_count; i++) {
		const struct nft_port_spec *p = &att->ports[i];

		if (p->proto != IPPROTO_TCP && p->proto != IPPROTO_UDP)
			return pw_error_set(err, -EINVAL, "%s: port protocol %u is not tcp or udp",
					    att->host_ifname, p->proto);
		if (p->host_port == 0 || p->port == 0 || p->host_port_last < p->host_port)
			return pw_error_set(err, -EINVAL, "%s: bad port range %u-%u:%u",
					    att->host_ifname, p->host_port, p->host_port_last,
					    p->port);
		if (p->host_port_last - p->host_port >= NFT_PORT_RANGE_MAX)
			return pw_error_set(
			    err, -EINVAL, "%s: port range %u-%u is wider than %d ports",
			    att->host_ifname, p->host_port, p->host_port_last, NFT_PORT_RANGE_MAX);
		if ((uint32_t)p->port + (p->host_port_last - p->host_port) > UINT16_MAX)
			return pw_error_set(err, -EINVAL, "%s: port range %u-%u:%u ends past 65535",
					    att->host_ifname, p->host_port, p->host_port_last,
					    p->port);
		if (p->host_addr.family && !ip_family_addr_size(p->host_addr.family))
			return pw_error_set(err, -EINVAL, "%s: bad host address family",
					    att->host_ifname);
	}
	return 0;
}

static const struct ip_addr *nft_group_first_addr(const struct nft_group_spec *att, int family)
{
	for (size_t i = 0; i < att->addr_count; i++)
		if (att->addrs[i].family == family)
			return &att->addrs[i];
	return NULL;
}

/* The DNAT map elements of one published range, for one address family:
 * [host address .] proto . host port -> group address . port. */
static void nft_port_elems(struct nft_elem_list *list, const struct nft_port_spec *p,
			   const struct ip_addr *target)
{
	bool ipv6 = target->family == AF_INET6;
	uint32_t addr_len = ipv6 ? 16 : 4;
	enum nft_set_index set = p->host_addr.family ? (ipv6 ? NFT_SET_PORTS6A : NFT_SET_PORTS4A)
						     : (ipv6 ? NFT_SET_PORTS6 : NFT_SET_PORTS4);
	uint32_t port;

	for (port = p->host_port; port <= p->host_port_last; port++) {
		uint8_t key[NFT_KEY_MAX] = {0};
		uint32_t key_len = 0;
		uint16_t host_port_be = htons(port);
		uint16_t port_be = htons(p->port + (port - p->host_port));
		struct nft_elem *e;

		if (p->host_addr.family) {
			memcpy(key, p->host_addr.addr.bytes, addr_len);
			key_len = addr_len;
		}
		key[key_len] = p->proto;
		memcpy(key + key_len + 4, &host_port_be, 2);
		key_len += 8;
		e = nft_elem_list_add(list, set, key, key_len, 0);
		memcpy(e->data, target->addr.bytes, addr_len);
		memcpy(e->data + addr_len, &port_be, 2);
		e->data_len = addr_len + 4;
	}
}

/* The elements of one attachment of a group. */
static int nft_group_elems(struct nft_elem_list *list, const struct nft_group_spec *att,
			   struct pw_error *err)
{
	uint8_t key[NFT_KEY_MAX] = {0};
	size_t i;

	nft_ifname_key(att->host_ifname, key);
	nft_elem_list_add(list, NFT_SET_TX, key, IFNAMSIZ, 0);
	nft_elem_list_add(list, NFT_SET_RX, key, IFNAMSIZ, 0);
	nft_elem_list_add(list, NFT_SET_SPOOFED, key, IFNAMSIZ, 0);
	memcpy(key + IFNAMSIZ, att->mac, NFT_MAC_LEN);
	nft_elem_list_add(list, NFT_SET_MACS, key, IFNAMSIZ + 8, 0);
	for (i = 0; i < att->addr_count; i++) {
		uint32_t size = ip_family_addr_size(att->addrs[i].family);

		memcpy(key + IFNAMSIZ + 8, att->addrs[i].addr.bytes, size);
		nft_elem_list_add(list,
				  att->addrs[i].family == AF_INET ? NFT_SET_ADDRS4 : NFT_SET_ADDRS6,
				  key, IFNAMSIZ + 8 + size, 0);
		if (att->addrs[i].family == AF_INET)
			nft_elem_list_add(list, NFT_SET_ARP4, key, IFNAMSIZ + 8 + size, 0);
	}
	for (i = 0; i < att->port_count; i++) {
		const struct nft_port_spec *p = &att->ports[i];
		const struct ip_addr *v4 = nft_group_first_addr(att, AF_INET);
		const struct ip_addr *v6 = nft_group_first_addr(att, AF_INET6);

		if (p->host_addr.family == AF_INET || (!p->host_addr.family && v4)) {
			if (!v4)
				return pw_error_set(err, -EINVAL,
						    "%s: no IPv4 address to publish a port to",
						    att->host_ifname);
			nft_port_elems(list, p, v4);
		}
		if (p->host_addr.family == AF_INET6 || (!p->host_addr.family && v6)) {
			if (!v6)
				return pw_error_set(err, -EINVAL,
						    "%s: no IPv6 address to publish a port to",
						    att->host_ifname);
			nft_port_elems(list, p, v6);
		}
		if (!p->host_addr.family && !v4 && !v6)
			return pw_error_set(err, -EINVAL, "%s: no address to publish a port to",
					    att->host_ifname);
	}
	return 0;
}

static int nft_groups_elems(struct nft_elem_list *list, const struct nft_group_spec *atts,
			    size_t att_count, struct pw_error *err)
{
	size_t i;
	int r;

	for (i = 0; i < att_count; i++) {
		r = nft_group_validate(&atts[i], err);
		if (r >= 0)
			r = nft_group_elems(list, &atts[i], err);
		if (r < 0)
			return pw_error_wrap(err, r, "nftables: group attachment %zu", i);
	}
	return 0;
}

int nft_table_sync_all(struct nft_ctx *ctx, const struct nft_vnet_spec *vnets, size_t vnet_count,
		       const struct nft_group_spec *attachments, size_t attachment_count,
		       struct pw_error *err)
{
	struct nft_elem_list elems = {0};
	struct nft_batch b;
	enum nft_set_index set;
	size_t i;
	int r;

	for (i = 0; i < vnet_count; i++) {
		r = nft_vnet_validate(&vnets[i], err);
		if (r < 0)
			return pw_error_wrap(err, r, "nftables: VNet %zu", i);
	}
	r = nft_vnets_check_overlap(vnets, vnet_count, err);
	if (r < 0)
		return r;
	for (i = 0; i < vnet_count; i++)
		nft_vnet_elems(&elems, &vnets[i], false);
	r = nft_groups_elems(&elems, attachments, attachment_count, err);
	if (r < 0) {
		nft_elem_list_done(&elems);
		return r;
	}

	nft_batch_start(ctx, &b);
	nft_batch_table_reset(&b);
	nft_table_message(&b, NFT_MSG_NEWTABLE, NFPROTO_INET, NLM_F_CREATE, "create");
	nft_chain_message(&b, NFPROTO_INET, "forward", "filter", NF_INET_FORWARD,
			  NFT_PRIORITY_FILTER);
	nft_chain_message(&b, NFPROTO_INET, "input", "filter", NF_INET_LOCAL_IN,
			  NFT_PRIORITY_FILTER);
	nft_chain_message(&b, NFPROTO_INET, "postrouting", "nat", NF_INET_POST_ROUTING,
			  NFT_PRIORITY_SRCNAT);
	nft_chain_message(&b, NFPROTO_INET, "prerouting", "nat", NF_INET_PRE_ROUTING,
			  NFT_PRIORITY_DSTNAT);
	nft_chain_message(&b, NFPROTO_INET, "output", "nat", NF_INET_LOCAL_OUT,
			  NFT_PRIORITY_DSTNAT);
	nft_table_message(&b, NFT_MSG_NEWTABLE, NFPROTO_BRIDGE, NLM_F_CREATE, "create");
	nft_chain_message(&b, NFPROTO_BRIDGE, "prerouting", "filter", NFT_BR_PRE_ROUTING,
			  NFT_PRIORITY_BRIDGE_FILTER);
	nft_chain_message(&b, NFPROTO_BRIDGE, "postrouting", "filter", NFT_BR_POST_ROUTING,
			  NFT_PRIORITY_BRIDGE_FILTER);
	nft_chain_message(&b, NFPROTO_BRIDGE, "group", NULL, 0, 0);
	for (set = 0; set < NFT_SET_COUNT; set++)
		nft_set_message(&b, set);
	nft_inet_rules_messages(&b);
	nft_bridge_rules_messages(&b);
	nft_all_elems_messages(&b, &elems, NFT_MSG_NEWSETELEM, "sync:");
	r = nft_batch_send(ctx, &b, err);
	nft_batch_done(&b);
	nft_elem_list_done(&elems);
	if (r < 0)
		return r;
	log_debug("nftables tables synced vnets=%zu attachments=%zu", vnet_count, attachment_count);
	return 0;
}

int nft_table_sync(struct nft_ctx *ctx, const struct nft_vnet_spec *vnets, size_t vnet_count,
		   struct pw_error *err)
{
	return nft_table_sync_all(ctx, vnets, vnet_count, NULL, 0, err);
}

/* Sends add-then-delete of every element of list (so that deleting what is
 * gone succeeds), then adds those of wanted (may be NULL), in one batch. */
static int nft_elems_replace(struct nft_ctx *ctx, const struct nft_elem_list *remove,
			     const struct nft_elem_list *wanted, const char *what,
			     struct pw_error *err)
{
	struct nft_batch b;
	int r;

	nft_batch_start(ctx, &b);
	if (remove) {
		nft_all_elems_messages(&b, remove, NFT_MSG_NEWSETELEM, what);
		nft_all_elems_messages(&b, remove, NFT_MSG_DELSETELEM, what);
	}
	if (wanted)
		nft_all_elems_messages(&b, wanted, NFT_MSG_NEWSETELEM, what);
	r = nft_batch_send(ctx, &b, err);
	nft_batch_done(&b);
	return r;
}

int nft_vnet_add(struct nft_ctx *ctx, const struct nft_vnet_spec *vnet, struct pw_error *err)
{
	struct nft_elem_list every = {0}, wanted = {0};
	_cleanup_free_ char *what = NULL;
	int r;

	r = nft_vnet_validate(vnet, err);
	if (r < 0)
		return pw_error_wrap(err, r, "nftables: add VNet");
	nft_vnet_elems(&every, vnet, true);
	nft_vnet_elems(&wanted, vnet, false);
	what = xasprintf("VNet %s:", vnet->bridge);

	/* Clear every element the bridge could have (so a VNet whose flags
	 * changed loses the old ones), then add the wanted ones: one batch,
	 * so nothing is ever missing in between. */
	r = nft_elems_replace(ctx, &every, &wanted, what, err);
	nft_elem_list_done(&every);
	nft_elem_list_done(&wanted);
	return r;
}

int nft_vnet_host_access(struct nft_ctx *ctx, const struct nft_vnet_spec *vnet,
			 struct pw_error *err)
{
	struct nft_elem_list every = {0}, wanted = {0};
	_cleanup_free_ char *what = NULL;
	int r;

	r = nft_vnet_validate(vnet, err);
	if (r < 0)
		return pw_error_wrap(err, r, "nftables: host access");
	nft_host_access_elems(&every, vnet, true);
	nft_host_access_elems(&wanted, vnet, false);
	what = xasprintf("VNet %s host access:", vnet->bridge);
	r = nft_elems_replace(ctx, &every, &wanted, what, err);
	nft_elem_list_done(&every);
	nft_elem_list_done(&wanted);
	return r;
}

int nft_vnet_remove(struct nft_ctx *ctx, const struct nft_vnet_spec *vnet, struct pw_error *err)
{
	struct nft_elem_list every = {0};
	_cleanup_free_ char *what = NULL;
	int r;

	r = nft_vnet_validate(vnet, err);
	if (r < 0)
		return pw_error_wrap(err, r, "nftables: remove VNet");
	nft_vnet_elems(&every, vnet, true);
	what = xasprintf("VNet %s:", vnet->bridge);
	r = nft_elems_replace(ctx, &every, NULL, what, err);
	nft_elem_list_done(&every);
	return r;
}

static int nft_peer_change(struct nft_ctx *ctx, const char *bridge_a, const char *bridge_b,
			   bool peer, struct pw_error *err)
{
	struct nft_elem_list pairs = {0};
	_cleanup_free_ char *what = NULL;
	int r;

	r = nft_ifname_validate("bridge", bridge_a, err);
	if (r >= 0)
		r = nft_ifname_validate("bridge", bridge_b, err);
	if (r < 0)
		return pw_error_wrap(err, r, "nftables: %s", peer ? "peer" : "unpeer");
	if (streq(bridge_a, bridge_b))
		return pw_error_set(err, -EINVAL, "nftables: cannot peer %s with itself", bridge_a);
	nft_peer_elems(&pairs, bridge_a, bridge_b);
	what = xasprintf("%s %s and %s:", peer ? "peer" : "unpeer", bridge_a, bridge_b);
	r = nft_elems_replace(ctx, peer ? NULL : &pairs, peer ? &pairs : NULL, what, err);
	nft_elem_list_done(&pairs);
	return r;
}

int nft_vnet_peer(struct nft_ctx *ctx, const char *bridge_a, const char *bridge_b,
		  struct pw_error *err)
{
	return nft_peer_change(ctx, bridge_a, bridge_b, true, err);
}

int nft_vnet_unpeer(struct nft_ctx *ctx, const char *bridge_a, const char *bridge_b,
		    struct pw_error *err)
{
	return nft_peer_change(ctx, bridge_a, bridge_b, false, err);
}

int nft_group_add(struct nft_ctx *ctx, const struct nft_group_spec *attachments,
		  size_t attachment_count, struct pw_error *err)
{
	struct nft_elem_list elems = {0};
	int r;

	/* Only adds (without EXCL): elements already there keep their
	 * counters, and a port held by another group is refused. */
	r = nft_groups_elems(&elems, attachments, attachment_count, err);
	if (r >= 0)
		r = nft_elems_replace(ctx, NULL, &elems, "group:", err);
	nft_elem_list_done(&elems);
	return r;
}

int nft_group_remove(struct nft_ctx *ctx, const struct nft_group_spec *attachments,
		     size_t attachment_count, struct pw_error *err)
{
	struct nft_elem_list elems = {0};
	int r;

	r = nft_groups_elems(&elems, attachments, attachment_count, err);
	if (r >= 0)
		r = nft_elems_replace(ctx, &elems, NULL, "group:", err);
	nft_elem_list_done(&elems);
	return r;
}

/* Counters: a dump of the elements of each counter set, summed per kind
 * and name (a group's tx is its tx, addrs4 and addrs6 elements: keys
 * start with the host ifname). */
static const struct nft_counter_source {
	enum nft_set_index set;
	enum nft_counter_kind kind;
} nft_counter_sources[] = {
    {NFT_SET_TX, NFT_COUNTER_GROUP_TX},	    {NFT_SET_ADDRS4, NFT_COUNTER_GROUP_TX},
    {NFT_SET_ADDRS6, NFT_COUNTER_GROUP_TX}, {NFT_SET_RX, NFT_COUNTER_GROUP_RX},
    {NFT_SET_SPOOFED, NFT_COUNTER_SPOOFED}, {NFT_SET_DROPPED, NFT_COUNTER_DROPPED},
};

struct nft_counter_dump {
	struct nft_counters *counters;
	size_t allocated;
	enum nft_counter_kind kind;
	struct nft_counter *current;
};

static int nft_counter_expr_cb(struct nftnl_expr *e, void *data)
{
	struct nft_counter *c = data;

	if (streq(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "counter")) {
		c->packets = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
		c->bytes = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_BYTES);
	}
	return 0;
}

static int nft_counter_elem_cb(struct nftnl_set_elem *e, void *data)
{
	struct nft_counter_dump *dump = data;
	struct nft_counters *counters = dump->counters;
	struct nft_counter *c;
	const void *key;
	uint32_t key_len = 0;

	key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &key_len);
	if (!key || key_len < IFNAMSIZ)
		return 0;
	if (counters->count == dump->allocated) {
		dump->allocated = dump->allocated ? dump->allocated * 2 : 64;
		counters->items = xrealloc(counters->items, dump->allocated * sizeof(*c));
	}
	c = &counters->items[counters->count++];
	memset(c, 0, sizeof(*c));
	c->kind = dump->kind;
	memcpy(c->name, key, IFNAMSIZ);
	c->name[IFNAMSIZ - 1] = '\0';
	if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_EXPR)) {
		struct nftnl_expr *expr = (void *)nftnl_set_elem_get(e, NFTNL_SET_ELEM_EXPR, NULL);
		if (expr)
			nft_counter_expr_cb(expr, c);
	}
	nftnl_set_elem_expr_foreach(e, nft_counter_expr_cb, c);
	return 0;
}

static int nft_counter_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_set *s = nftnl_set_alloc();
	int r;

	if (!s)
		xalloc_die();
	r = nftnl_set_elems_nlmsg_parse(nlh, s);
	if (r >= 0)
		nftnl_set_elem_foreach(s, nft_counter_elem_cb, data);
	nftnl_set_free(s);
	return r < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

static int nft_counters_dump_set(struct nft_ctx *ctx, struct nft_counter_dump *dump,
				 enum nft_set_index set, struct pw_error *err)
{
	/* Zeroed: the request built in it has attribute padding libmnl does not
	 * write (see NFT_ZERO_AHEAD). */
	_cleanup_free_ char *buf = xcalloc(1, MNL_SOCKET_BUFFER_SIZE);
	struct nftnl_set *s = nftnl_set_alloc();
	struct nlmsghdr *nlh;
	uint32_t seq = ctx->seq++;
	int r;

	if (!s)
		xalloc_die();
	nftnl_set_set_str(s, NFTNL_SET_TABLE, NFT_TABLE_NAME);
	nftnl_set_set_str(s, NFTNL_SET_NAME, nft_set_defs[set].name);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, nft_set_family(set),
				    NLM_F_DUMP | NLM_F_ACK, seq);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	if (mnl_socket_sendto(ctx->nl, nlh, nlh->nlmsg_len) < 0)
		return pw_error_set(err, -errno, "nftables: asking for set %s: %m",
				    nft_set_defs[set].name);
	for (;;) {
		ssize_t len = mnl_socket_recvfrom(ctx->nl, buf, MNL_SOCKET_BUFFER_SIZE);

		if (len < 0) {
			if (errno == EINTR)
				continue;
			return pw_error_set(err, -errno, "nftables: reading set %s: %m",
					    nft_set_defs[set].name);
		}
		r = mnl_cb_run(buf, len, seq, ctx->portid, nft_counter_msg_cb, dump);
		if (r == MNL_CB_STOP)
			return 0;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return pw_error_set(err, -errno, "nftables: reading set %s: %m",
					    nft_set_defs[set].name);
		}
	}
}

static int nft_counter_cmp(const void *a, const void *b)
{
	const struct nft_counter *x = a, *y = b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return strcmp(x->name, y->name);
}

int nft_counters_read(struct nft_ctx *ctx, struct nft_counters *ret, struct pw_error *err)
{
	struct nft_counter_dump dump = {.counters = ret};
	size_t i, out;
	int r;

	memset(ret, 0, sizeof(*ret));
	for (i = 0; i < ARRAY_SIZE(nft_counter_sources); i++) {
		dump.kind = nft_counter_sources[i].kind;
		r = nft_counters_dump_set(ctx, &dump, nft_counter_sources[i].set, err);
		if (r < 0) {
			nft_counters_done(ret);
			return r;
		}
	}
	/* Sorted, one item per kind and name: finds are binary searches. */
	if (ret->count)
		qsort(ret->items, ret->count, sizeof(ret->items[0]), nft_counter_cmp);
	for (i = 0, out = 0; i < ret->count; i++) {
		if (out > 0 && nft_counter_cmp(&ret->items[out - 1], &ret->items[i]) == 0) {
			ret->items[out - 1].packets += ret->items[i].packets;
			ret->items[out - 1].bytes += ret->items[i].bytes;
			continue;
		}
		ret->items[out++] = ret->items[i];
	}
	ret->count = out;
	return 0;
}

void nft_counters_done(struct nft_counters *counters)
{
	free(counters->items);
	counters->items = NULL;
	counters->count = 0;
}

const struct nft_counter *nft_counters_find(const struct nft_counters *counters,
					    enum nft_counter_kind kind, const char *name)
{
	struct nft_counter key = {.kind = kind};

	if (!counters->count || strlen(name) >= IFNAMSIZ)
		return NULL;
	memcpy(key.name, name, strlen(name) + 1);
	return bsearch(&key, counters->items, counters->count, sizeof(counters->items[0]),
		       nft_counter_cmp);
}

static int nft_one_table_exists(struct nft_ctx *ctx, uint32_t family)
{
	_cleanup_free_ char *buf =
	    xcalloc(1, MNL_SOCKET_BUFFER_SIZE); /* as in nft_counters_dump_set */
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;
	uint32_t seq = ctx->seq++;
	bool found = false;

	if (!t)
		xalloc_die();
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, NFT_TABLE_NAME);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, family, NLM_F_ACK, seq);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	if (mnl_socket_sendto(ctx->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	/* The table in a NEWTABLE message, then an ACK; or an error. */
	for (;;) {
		const struct nlmsghdr *reply;
		ssize_t len;
		int remaining;

		len = mnl_socket_recvfrom(ctx->nl, buf, MNL_SOCKET_BUFFER_SIZE);
		if (len < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		remaining = (int)len;
		for (reply = (const struct nlmsghdr *)buf; mnl_nlmsg_ok(reply, remaining);
		     reply = mnl_nlmsg_next(reply, &remaining)) {
			const struct nlmsgerr *e;

			if (reply->nlmsg_seq != seq)
				continue; /* a late reply to an earlier call */
			if (reply->nlmsg_type != NLMSG_ERROR) {
				found = true;
				continue;
			}
			if (reply->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
				return -EBADMSG;
			e = mnl_nlmsg_get_payload(reply);
			if (e->error == -ENOENT)
				return 0;
			if (e->error)
				return e->error;
			return found ? 1 : 0;
		}
	}
}

int nft_table_exists(struct nft_ctx *ctx)
{
	enum nft_table_index t;
	int r;

	for (t = 0; t < NFT_TABLE_COUNT; t++) {
		r = nft_one_table_exists(ctx, nft_table_families[t]);
		if (r <= 0)
			return r;
	}
	return 1;
}

int nft_table_remove(struct nft_ctx *ctx, struct pw_error *err)
{
	struct nft_batch b;
	int r;

	nft_batch_start(ctx, &b);
	nft_batch_table_reset(&b);
	r = nft_batch_send(ctx, &b, err);
	nft_batch_done(&b);
	return r;
}
