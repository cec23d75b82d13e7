/* The CNI side of podwire-cni: the request a runtime makes (CNI_* variables
 * plus the network configuration on stdin, spec 1.0.0 and 1.1.0), the
 * error object with the spec's codes, and version negotiation. The
 * operations themselves are in commands.c.
 *
 * Netconf (as a plugin entry of a conflist):
 *   {"type":"podwire","vnet":"front","runDir":"/run/podwire",
 *    "capabilities":{"ips":true,"mac":true,"portMappings":true}}
 * Static address and MAC: runtimeConfig.ips / runtimeConfig.mac, args.cni.ips
 * / args.cni.mac (CNI conventions), or CNI_ARGS IP=..;MAC=..; the group's
 * host name: CNI_ARGS K8S_POD_NAME when it is a DNS label. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "../common/annotations.h"
#include "error.h"

#define CNI_VERSION_LATEST "1.1.0"
/* Versions whose result format we write (the 1.0 result format, which
 * 1.1.0 keeps). */
#define CNI_SUPPORTED_VERSIONS "1.0.0", "1.1.0"
/* A network configuration is a few KiB; prevResult adds little. */
#define CNI_STDIN_MAX (1024 * 1024)
/* GC's valid-attachments list: one per container the runtime knows. */
#define CNI_VALID_ATTACHMENTS_MAX 65536

/* Error codes of the CNI spec ("Error" section). */
enum cni_code {
	CNI_ERR_INCOMPATIBLE_VERSION = 1,
	CNI_ERR_UNSUPPORTED_FIELD = 2,
	CNI_ERR_UNKNOWN_CONTAINER = 3,
	CNI_ERR_INVALID_ENV = 4,
	CNI_ERR_IO = 5,
	CNI_ERR_DECODE = 6,
	CNI_ERR_INVALID_CONFIG = 7,
	CNI_ERR_TRY_AGAIN = 11,
	CNI_ERR_NOT_AVAILABLE = 50,
	/* 100+: plugin-specific. */
	CNI_ERR_NETD = 100, /* netd refused the request */
};

enum cni_command {
	CNI_ADD,
	CNI_DEL,
	CNI_CHECK,
	CNI_VERSION,
	CNI_STATUS,
	CNI_GC,
};

struct cni_error {
	enum cni_code code;
	struct pw_error err; /* msg */
	char details[256];
};

struct cni_attachment_ref {
	char container_id[GROUP_ID_MAX + 1];
	char ifname[16];
};

struct cni_request {
	enum cni_command command;
	char version[16];		/* netconf cniVersion */
	char network[GROUP_ID_MAX + 1]; /* netconf name */
	char vnet[VNET_NAME_MAX + 1];
	char run_dir[1024];
	/* CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME (ADD, DEL, CHECK). */
	char container_id[GROUP_ID_MAX + 1];
	char netns[1024];
	char ifname[16];
	/* Static requests. */
	bool has_ip;
	struct ip_addr ip;
	char mac[MAC_STRLEN];
	char hostname[DNS_LABEL_MAX + 1];
	/* runtimeConfig.portMappings as netd's group.attach "ports" (NULL:
	 * none; owned). */
	json_t *ports;
	/* GC: attachments the runtime still knows (malloc'd). */
	struct cni_attachment_ref *valid;
	size_t valid_count;
	bool has_valid;
	/* CHECK: addresses of prevResult.ips ("10.1.0.2/24"). */
	char prev_ips[HOOK_VNETS_MAX][IP_PREFIX_STRLEN];
	size_t prev_ip_count;
};

struct cni_env {
	const char *command, *container_id, *netns, *ifname, *args, *path;
	const char *run_dir_default; /* $PODWIRE_RUN_DIR or /run/podwire */
};

int cni_command_parse(const char *name, enum cni_command *ret);
/* Parses the env and the netconf text (stdin). Fills ce on failure. */
int cni_request_parse(const struct cni_env *env, const char *stdin_text, size_t len,
		      struct cni_request *ret, struct cni_error *ce);
void cni_request_done(struct cni_request *req);

int cni_error_set(struct cni_error *ce, enum cni_code code, int r, const char *fmt, ...)
    _printf_(4, 5);
/* {"cniVersion":..,"code":..,"msg":..,"details":..} */
json_t *cni_error_json(const struct cni_error *ce, const char *version);
json_t *cni_version_json(void);
bool cni_version_supported(const char *version);
