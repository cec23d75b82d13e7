/* Validation of the names users give objects. Names end up in interface
 * names, file names under the state dir, DNS labels and log lines, so each
 * kind has a narrow alphabet and a length limit with a reason. */
#pragma once

#include <stdbool.h>

#include "error.h"

/* VNet names become bridge names "pw-NAME"; IFNAMSIZ is 16 with the NUL,
 * so 12 characters is the most that fits. */
#define VNET_NAME_MAX 12
/* Group ids are often OCI container ids (64 hex characters); 128 leaves
 * room for readable prefixes while keeping file names short. */
#define GROUP_ID_MAX 128
/* A DNS label is at most 63 octets (RFC 1035 2.3.4). */
#define DNS_LABEL_MAX 63
#define DNS_NAME_MAX 253
/* Share names are directory names and appear in mount paths. */
#define SHARE_NAME_MAX 63

/* [a-z0-9-], not starting or ending with '-', 1..VNET_NAME_MAX. */
int name_validate_vnet(const char *name, struct pw_error *err);
/* [A-Za-z0-9_.-], not starting with '.' or '-', 1..GROUP_ID_MAX. */
int name_validate_group(const char *name, struct pw_error *err);
/* [A-Za-z0-9_.-], not "." or "..", not starting with '.', 1..SHARE_NAME_MAX. */
int name_validate_share(const char *name, struct pw_error *err);
/* A host name or alias: one DNS label, [A-Za-z0-9-], 1..63, no leading or
 * trailing '-'. */
int name_validate_hostname(const char *name, struct pw_error *err);
/* A domain name: dot-separated labels as above ([A-Za-z0-9_-] to allow
 * _srv._tcp), total at most DNS_NAME_MAX, an optional trailing dot. */
int name_validate_domain(const char *name, struct pw_error *err);
