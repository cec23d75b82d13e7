/* The Prometheus text exposition (format version 0.0.4) of podwire-netd's
 * counters: the one formatter behind both `podwire stats --prometheus`
 * (cli/stats.c) and netd's optional metrics listener
 * (netd/metrics-listener.c), so a scrape and the CLI print the same text.
 *
 * Input is the result object of netd's "stats" RPC method (docs/netd.md);
 * members that are missing read as 0 or empty, so an older netd's object
 * still renders. No allocation of its own, no logging. */
#pragma once

#include <jansson.h>
#include <stdio.h>

/* What an HTTP reply carrying this text says it is. */
#define PROM_TEXT_CONTENT_TYPE "text/plain; version=0.0.4"

/* Writes the exposition of stats to out. Returns 0, or -EIO if the stream
 * reported an error. */
int prom_text_netd_stats(json_t *stats, FILE *out);
