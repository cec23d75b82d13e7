/* The OCI side of the hook: the container state the runtime writes on our
 * stdin, and what we need from the bundle's config.json (the rootfs path
 * and the annotations). Runtimes add keys of their own (crun adds "root"),
 * so these objects are read leniently; only the keys we use are checked. */
#pragma once

#include <jansson.h>
#include <stddef.h>

#include "error.h"

/* The state JSON is a few hundred bytes plus annotations; 1 MiB is the
 * most we read from the runtime. */
#define OCI_STATE_MAX (1024 * 1024)
/* config.json of a real container is under 64 KiB; refuse monsters. */
#define OCI_CONFIG_MAX (4 * 1024 * 1024)

struct oci_container {
	char *id;
	char *status; /* creating, created, running, stopped; NULL if absent */
	int pid;      /* host pid; 0 when the state has none (poststop) */
	char *bundle;
	char *rootfs;	     /* absolute; NULL until oci_config_load() */
	json_t *annotations; /* owned; an object (maybe empty) */
};

/* Parses the state JSON text. The id must be usable as a file name
 * (name_validate_group's alphabet). */
int oci_state_parse(const char *text, size_t len, struct oci_container *ret, struct pw_error *err);
/* Reads BUNDLE/config.json: root.path (relative to the bundle unless
 * absolute) and annotations (which replace those of the state, if any). */
int oci_config_load(struct oci_container *c, struct pw_error *err);
void oci_container_done(struct oci_container *c);
