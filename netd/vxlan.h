/* The VXLAN data plane of a VNet that spans hosts (issue 13): one kernel
 * VXLAN link per VNet and host, a port of the VNet's bridge, plus the
 * static forwarding state that replaces flooding and learning.
 *
 * Model: the control plane (etcd, netd) knows every remote group's MAC,
 * address and host; nothing is learned from the wire.
 *   - the VXLAN link has learning off and no multicast group or default
 *     remote: a frame for a MAC it has no entry for is dropped;
 *   - as a bridge port it has learning, unknown-unicast, multicast and
 *     broadcast flooding off, and neigh_suppress on: the bridge answers
 *     ARP requests and IPv6 neighbour solicitations for remote groups
 *     itself, from the permanent neighbour entries on the bridge, and
 *     never sends them across;
 *   - per remote group: a static bridge FDB entry (MAC -> the VXLAN port)
 *     and a permanent VXLAN FDB entry (MAC -> remote VTEP), i.e.
 *       bridge fdb add MAC dev VX master static
 *       bridge fdb add MAC dev VX dst VTEP self permanent
 *     and a permanent neighbour entry on the bridge (IP -> MAC).
 * No all-zeros FDB entry is ever added, so there is no head-end
 * replication of broadcasts to remote VTEPs.
 *
 * Every call is one or two synchronous netlink round trips in the socket's
 * netns; the dumps (the *_foreach calls) are for reconciling after a
 * restart. Adding what exists and removing what is gone succeed. */
#pragma once

#include <linux/if_ether.h>
#include <netlink/socket.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "prefix.h"

/* The IANA port (RFC 7348), not the kernel's historic default 8472. */
#define VXLAN_UDP_PORT 4789
/* Outer Ethernet is not counted in an MTU: outer IPv4 20 + UDP 8 +
 * VXLAN 8 + inner Ethernet 14 = 50; with an IPv6 outer header (40) 70. */
#define VXLAN_OVERHEAD_IPV4 50
#define VXLAN_OVERHEAD_IPV6 70
/* VNIs are 24 bits. */
#define VXLAN_VNI_MAX 0xffffffu
/* The outer TTL when the caller gives none: the usual host default, enough
 * for any routed underlay. */
#define VXLAN_TTL_DEFAULT 64

struct vxlan_config {
	const char *name;     /* the VXLAN link */
	const char *bridge;   /* the VNet's bridge, which must exist */
	uint32_t vni;	      /* 1..VXLAN_VNI_MAX */
	struct ip_addr local; /* this host's VTEP (underlay) address */
	unsigned mtu;	      /* of the VXLAN link; 0: vxlan_mtu(underlay MTU) */
	uint8_t ttl;	      /* outer TTL; 0: VXLAN_TTL_DEFAULT */
};

/* The inner MTU (what the VXLAN link, the bridge and every group's eth0
 * get) for an underlay MTU and the VTEPs' family: underlay - 50 (IPv4) or
 * - 70 (IPv6). -ERANGE below 68 (the IPv4 minimum; whether a VNet with
 * IPv6 subnets gets its 1280 is the caller's check), -EAFNOSUPPORT for
 * another family. */
int vxlan_mtu(unsigned underlay_mtu, int underlay_family, unsigned *ret_mtu);
/* The MTU of the local interface that holds address (the underlay):
 * -EADDRNOTAVAIL if no interface has it. */
int vxlan_underlay_mtu(struct nl_sock *sock, const struct ip_addr *address, unsigned *ret_mtu);

/* Makes the VXLAN link exist as config says, enslaved to the bridge, up,
 * with the port flags above. An existing link with the same VNI, local
 * address, port, TTL and learning/checksum settings is kept (its MTU,
 * master, port flags and up state are fixed in place); a VXLAN link with
 * other settings is deleted and created again; a link of another kind
 * with the name is an error (-EEXIST), left alone. Returns 1 if it
 * created the link, 0 if it kept it. */
int vxlan_ensure(struct nl_sock *sock, const struct vxlan_config *config, struct pw_error *err);
/* Deletes the link; a missing one is success. Its FDB entries go with it. */
int vxlan_remove(struct nl_sock *sock, const char *name);
/* Sets the MTU of the bridge (which must exist); vxlan_mtu says which. */
int vxlan_bridge_set_mtu(struct nl_sock *sock, const char *bridge, unsigned mtu,
			 struct pw_error *err);

/* Adds (replacing an entry with another VTEP) or removes the static
 * forwarding of mac to remote through the link: the bridge's entry and
 * the VXLAN link's entry. Removal by MAC: remote is not needed. */
int vxlan_fdb_add(struct nl_sock *sock, const char *name, const uint8_t mac[static ETH_ALEN],
		  const struct ip_addr *remote, struct pw_error *err);
int vxlan_fdb_remove(struct nl_sock *sock, const char *name, const uint8_t mac[static ETH_ALEN],
		     struct pw_error *err);

/* Adds (or replaces) or removes the permanent neighbour entry address ->
 * mac on the bridge, which ARP/ND suppression answers from. */
int vxlan_neigh_add(struct nl_sock *sock, const char *bridge, const struct ip_addr *address,
		    const uint8_t mac[static ETH_ALEN], struct pw_error *err);
int vxlan_neigh_remove(struct nl_sock *sock, const char *bridge, const struct ip_addr *address,
		       struct pw_error *err);

/* One FDB entry of the VXLAN link, as the kernel has it. */
struct vxlan_fdb_entry {
	uint8_t mac[ETH_ALEN];
	bool master;	       /* the bridge's entry (else the link's own, "self") */
	bool has_remote;       /* self entries: remote is set */
	struct ip_addr remote; /* the VTEP */
	uint16_t state;	       /* NUD_*: PERMANENT/NOARP static, else learned */
	uint8_t flags;	       /* NTF_* */
};
/* Calls cb for every FDB entry on the link (bridge and link entries),
 * the link's own address included (master, NUD_PERMANENT). A negative
 * return of cb stops the dump and is returned; -EAGAIN if the kernel's
 * table changed during the dump (call again). */
int vxlan_fdb_foreach(struct nl_sock *sock, const char *name,
		      int (*cb)(const struct vxlan_fdb_entry *entry, void *userdata),
		      void *userdata);

struct vxlan_neigh_entry {
	struct ip_addr address;
	uint8_t mac[ETH_ALEN];
	bool has_mac;
	uint16_t state; /* NUD_* */
};
/* Calls cb for every neighbour entry (IPv4 and IPv6) on the bridge. */
int vxlan_neigh_foreach(struct nl_sock *sock, const char *bridge,
			int (*cb)(const struct vxlan_neigh_entry *entry, void *userdata),
			void *userdata);

/* The nftables script that drops VXLAN (UDP to VXLAN_UDP_PORT) arriving
 * on underlay_dev from any source not among the known VTEPs: table netdev
 * podwire with sets vteps4/vteps6 of the known addresses and a chain on
 * the device's ingress hook (before IP, conntrack and the VXLAN socket).
 * The script replaces the table in one transaction, so loading it again
 * with another VTEP list is atomic. Sets *ret_script to a malloc'ed
 * string; -EINVAL for a bad device name or address, -ENOMEM. */
int vxlan_filter_script(const char *underlay_dev, const struct ip_addr *vteps, size_t vtep_count,
			char **ret_script);
