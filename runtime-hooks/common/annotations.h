/* What a container asks of podwire, read from its OCI annotations
 * (podwire.group, podwire.vnet, podwire.ip, podwire.mac, podwire.hostname,
 * podwire.aliases, podwire.ports, podwire.dns.*, podwire.volumes) into a
 * typed struct.
 *
 * Pure: no I/O, no allocation (every field is a fixed array with a named
 * limit), so a parse either fills the whole struct or fails with one line
 * naming the annotation and the value at fault. Unknown "podwire.*" keys are
 * an error (a typo would otherwise silently start an unwired container);
 * other annotations are ignored. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "name.h"
#include "prefix.h"

#define ANNOTATION_PREFIX "podwire."

/* netd attaches at most 8 VNets to a group (eth0..eth7, GROUP_VNETS_MAX in
 * netd/group.h); asking for more could never succeed. */
#define HOOK_VNETS_MAX 8
/* netd's limit of DNS aliases per group (GROUP_ALIASES_MAX). */
#define HOOK_ALIASES_MAX 32
/* Published ports per container: a handful in practice; 64 bounds the
 * nftables map elements one container can add. */
#define HOOK_PORTS_MAX 64
/* Volumes per container: each costs a mount and a share reference. */
#define HOOK_VOLUMES_MAX 32
/* Mount destinations are paths inside the container; 1024 is far above
 * any real one while keeping the struct small enough for the stack. */
#define HOOK_VOLUME_DEST_MAX 1024
/* glibc's MAXNS: resolvers read at most 3 nameserver lines. */
#define RESOLV_NAMESERVERS_MAX 3
/* The classic MAXDNSRCH; musl and busybox read at most 6 search domains. */
#define RESOLV_SEARCHES_MAX 6
/* resolv.conf options (ndots:N, timeout:N, attempts:N, rotate, edns0, ...):
 * there are about a dozen kinds. */
#define RESOLV_OPTIONS_MAX 16
/* An option token such as "ndots:15" or "use-vc"; 32 is twice the longest. */
#define RESOLV_OPTION_MAX 32
/* "02:00:00:00:00:01" plus the NUL. */
#define MAC_STRLEN 18

struct hook_ip {
	char vnet[VNET_NAME_MAX + 1]; /* "" = the first VNet */
	struct ip_addr addr;
};

struct hook_port {
	uint16_t host_port;
	uint16_t container_port;
	char protocol[4]; /* "tcp" or "udp" */
};

struct hook_volume {
	char share[SHARE_NAME_MAX + 1];
	char dest[HOOK_VOLUME_DEST_MAX]; /* absolute, normalised */
	bool read_only;
};

/* A field whose has_ flag is false takes the default (the VNet gateways as
 * name servers, the VNet domains as search list, no options); a present but
 * empty annotation means "none". */
struct dns_spec {
	bool has_nameservers;
	struct ip_addr nameservers[RESOLV_NAMESERVERS_MAX];
	size_t nameserver_count;
	bool has_searches;
	char searches[RESOLV_SEARCHES_MAX][DNS_NAME_MAX + 1];
	size_t search_count;
	bool has_options;
	char options[RESOLV_OPTIONS_MAX][RESOLV_OPTION_MAX + 1];
	size_t option_count;
};

struct hook_spec {
	char group[GROUP_ID_MAX + 1];
	char vnets[HOOK_VNETS_MAX][VNET_NAME_MAX + 1];
	size_t vnet_count;
	struct hook_ip ips[HOOK_VNETS_MAX];
	size_t ip_count;
	char mac[MAC_STRLEN];		  /* "" = netd picks */
	char hostname[DNS_LABEL_MAX + 1]; /* "" = none */
	char aliases[HOOK_ALIASES_MAX][DNS_LABEL_MAX + 1];
	size_t alias_count;
	struct hook_port ports[HOOK_PORTS_MAX];
	size_t port_count;
	struct dns_spec dns;
	struct hook_volume volumes[HOOK_VOLUMES_MAX];
	size_t volume_count;
};

/* Parses the annotations object (string values) of a container whose OCI
 * id is container_id (the default group). annotations may be NULL (no
 * annotations). */
int hook_spec_parse(json_t *annotations, const char *container_id, struct hook_spec *ret,
		    struct pw_error *err);

/* Whether the spec asks for anything network-related (a VNet). */
bool hook_spec_wants_network(const struct hook_spec *spec);

/* Parsers of single annotation values, exposed for the CNI plugin and the
 * unit tests. Each fills err with a message naming the value. */
int hook_parse_ports(const char *value, struct hook_port *ports, size_t *ret_count,
		     struct pw_error *err);
int hook_parse_volumes(const char *value, struct hook_volume *volumes, size_t *ret_count,
		       struct pw_error *err);
/* An absolute, normalised path: no "." or ".." component, no "//", no
 * trailing '/', not "/" itself, shorter than HOOK_VOLUME_DEST_MAX. */
int hook_validate_dest(const char *dest, struct pw_error *err);
/* "02:00:00:00:00:01": six hex pairs, unicast, not all zero. */
int hook_validate_mac(const char *mac, struct pw_error *err);
