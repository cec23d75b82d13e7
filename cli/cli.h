/* The `podwire` admin CLI: shared plumbing for its subcommands.
 *
 * Each subcommand family lives in its own file (cli/vnet.c, cli/group.c,
 * cli/share.c, cli/dns.c, ...) and exports one entry point
 *   int cli_NAME_main(struct cli_ctx *ctx, int argc, char **argv);
 * registered in the table in cli/main.c. argv[0] is the family name
 * ("vnet"), argv[1] the verb. Entry points return the process exit code:
 * 0 success, 1 failure (one line on stderr already printed), 2 usage error.
 * Every family and verb answers --help/-h with man-page-quality text on
 * stdout and exit 0. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"
#include "macro.h"

#define CLI_EXIT_OK 0
#define CLI_EXIT_FAILURE 1
#define CLI_EXIT_USAGE 2

struct cli_ctx {
	const char *run_dir; /* --run-dir, $PODWIRE_RUN_DIR, or /run/podwire */
};

/* Calls METHOD on the daemon whose socket is RUN_DIR/<daemon>.sock
 * ("netd", "volumed"). On failure prints one line
 *   podwire: <what>: <message>
 * to stderr and returns a negative errno. params is borrowed (NULL = {}). */
int cli_call(const struct cli_ctx *ctx, const char *daemon, const char *what, const char *method,
	     json_t *params, json_t **ret_result);
/* Builds RUN_DIR/<daemon>.sock into buf. */
const char *cli_socket_path(const struct cli_ctx *ctx, const char *daemon, char *buf, size_t size);

/* Prints "podwire: <message>" on stderr; returns CLI_EXIT_FAILURE. */
int cli_fail(const char *fmt, ...) _printf_(1, 2);
/* Prints "podwire: <message>\nTry 'podwire <cmd> --help'." and returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) _printf_(2, 3);
/* Pretty-prints a JSON value to stdout (for --json). */
void cli_print_json(json_t *value);

/* Human tables: columns aligned to their widest cell, a header row in
 * capitals, "-" for empty cells. */
struct table;
struct table *table_new(size_t column_count, ...); /* column headers */
void table_add_row(struct table *t, ...); /* column_count const char * cells (NULL = "-") */
void table_print(struct table *t, FILE *out);
void table_free(struct table *t);

/* Parses sizes like 10G, 512M, 4096 (binary units K/M/G/T, optional
 * "iB"/"B" suffix) into bytes. */
int cli_parse_size(const char *s, uint64_t *ret_bytes);
/* Formats bytes as "1.5G"-style human text into buf. */
const char *cli_format_size(uint64_t bytes, char *buf, size_t size);

/* Entry points of the subcommand families. */
int cli_vnet_main(struct cli_ctx *ctx, int argc, char **argv);
int cli_group_main(struct cli_ctx *ctx, int argc, char **argv);
int cli_events_main(struct cli_ctx *ctx, int argc, char **argv);
int cli_share_main(struct cli_ctx *ctx, int argc, char **argv);
int cli_dns_main(struct cli_ctx *ctx, int argc, char **argv);
int cli_stats_main(struct cli_ctx *ctx, int argc, char **argv);
int cli_trust_main(struct cli_ctx *ctx, int argc, char **argv);
int cli_cluster_main(struct cli_ctx *ctx, int argc, char **argv);
