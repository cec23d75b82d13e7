/* Command-line options of podwire-volumed, parsed into a struct so main.c
 * only wires things together and unit tests can call the parser. */
#pragma once

#include <stdbool.h>

#include "error.h"
#include "log.h"

#define VOLUMED_VERSION		  "0.1.0"
#define VOLUMED_RUN_DIR_DEFAULT	  "/run/podwire"
#define VOLUMED_STATE_DIR_DEFAULT "/var/lib/podwire/volumed"

enum volumed_action {
	VOLUMED_RUN,
	VOLUMED_HELP,
	VOLUMED_VERSION_ACTION,
};

struct volumed_options {
	enum volumed_action action;
	const char *run_dir; /* points into argv or a default */
	const char *state_dir;
	const char *admin_group; /* NULL: root only */
	enum log_level log_level;
};

/* -EINVAL with err filled on a usage error. Resets getopt itself. */
int volumed_options_parse(int argc, char **argv, struct volumed_options *ret, struct pw_error *err);
void volumed_usage(FILE *out);
