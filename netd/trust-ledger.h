/* The trust ledger: denials counted per (kind, name, mode), each logged
 * and announced on the event stream as "trust.denied" (docs/netd.md).
 * Two sources: podwire-hook reports the untrusted verdicts it reached
 * (trust.report, for VNets and volumed's shares), and group.attach counts
 * the attaches to an audit or enforce VNet that came with no verdict at
 * all (podwire-cni, `podwire group attach`), which nobody else reports.
 *
 * In memory, like netd's other counters: a restart starts from zero
 * (Prometheus counters may reset). */
#pragma once

#include <jansson.h>
#include <stdint.h>

#include "error.h"
#include "group.h"
#include "rpc-server.h"
#include "trust.h"

/* (kind, name, mode) keys: two modes for each of VNETS_MAX VNets and as
 * many shares. A report past this is logged and announced, not counted. */
#define TRUST_COUNTERS_MAX 1024

enum trust_kind {
	TRUST_KIND_VNET,
	TRUST_KIND_SHARE,
};

/* Share names (lib/name.h SHARE_NAME_MAX) are the longest names counted. */
struct trust_counter {
	enum trust_kind kind;
	enum trust_mode mode;
	char name[64];
	uint64_t denied;
};

struct trust_ledger {
	struct trust_counter *counters; /* in first-seen order */
	size_t count;
	uint64_t uncounted; /* reports past TRUST_COUNTERS_MAX */
};

struct netd;

/* One denial: what trust.report carries (strings "" when unknown). */
struct trust_denial {
	enum trust_kind kind;
	const char *name;
	enum trust_mode mode;
	const char *group;
	const char *image;
	const char *digest;
	const char *reason;
	const char *message;
};

/* Counts, logs and announces one denial. */
void trust_ledger_deny(struct netd *netd, const struct trust_denial *denial);
/* The "trust" member of the stats reply: [{"kind","name","mode","denied"}]. */
json_t *trust_ledger_json(const struct trust_ledger *ledger);
void trust_ledger_done(struct trust_ledger *ledger);

/* The check of group.attach, before anything changes: for each VNet of
 * req under audit or enforce, counts a missing verdict; refuses (-EACCES,
 * err the one line of docs/netd.md) when an enforce VNet has no trusted
 * verdict. The VNets must exist. */
int trust_check_attach(struct netd *netd, const struct group_request *req, struct pw_error *err);

/* trust.report (userdata: struct netd). */
int trust_rpc_report(struct rpc_request *req, void *userdata, json_t **ret_result,
		     struct pw_error *err);
