/* DNS records and zones, owned by netd (durable admin state, events) and
 * served by podwire-dnsd, which reads them from the event stream.
 *
 *   record: {"vnet":"prod"} or {"zone":"corp.example"} plus
 *           {"name":"db","type":"A","value":"10.1.0.9","ttl":300}
 *   zone:   {"name":"corp.example","vnets":["prod","dev"]}
 *
 * State: STATE_DIR/dns/zones/NAME.json and STATE_DIR/dns/records/H.json
 * (H: a hash of the record's identity), one file per object, written
 * atomically before the reply; so one change costs one file write.
 *
 * The module keeps its tables in file-local state: netd is one process on
 * one event-loop thread, and this keeps the edits to netd's own files to a
 * method-table entry list, the snapshot members and init/done calls. */
#pragma once

#include <jansson.h>

#include "error.h"
#include "prefix.h"
#include "rpc-server.h"

/* Limits: records and zones are admin-made; these bound memory and the
 * snapshot dnsd reads (100,000 records is ~10 MiB of JSON). */
#define DNS_RECORDS_MAX 100000
#define DNS_ZONES_MAX	1024
/* Records in one bulk dns.record.add: its work (one validation pass, one
 * state file) stays well under a second; the 1 MiB request line bounds it
 * about as much (some 20,000 short records). */
#define DNS_RECORDS_PER_CALL 50000
/* Default and maximum TTL of admin records (one day, as caches cap). */
#define DNS_RECORD_TTL_DEFAULT 300
#define DNS_RECORD_TTL_MAX     86400
/* Longest TXT value: 4000 octets still fits an EDNS answer. */
#define DNS_TXT_VALUE_MAX 4000

/* Opens STATE_DIR/dns and loads every record and zone. */
int dns_records_init(const char *state_dir, struct pw_error *err);
void dns_records_done(void);

/* The snapshot members "records" and "zones" (new references). */
json_t *dns_records_json_all(void);
json_t *dns_zones_json_all(void);

/* RPC handlers (userdata: struct netd). */
int dns_rpc_record_add(struct rpc_request *req, void *userdata, json_t **ret_result,
		       struct pw_error *err);
int dns_rpc_record_remove(struct rpc_request *req, void *userdata, json_t **ret_result,
			  struct pw_error *err);
int dns_rpc_record_list(struct rpc_request *req, void *userdata, json_t **ret_result,
			struct pw_error *err);
int dns_rpc_zone_create(struct rpc_request *req, void *userdata, json_t **ret_result,
			struct pw_error *err);
int dns_rpc_zone_delete(struct rpc_request *req, void *userdata, json_t **ret_result,
			struct pw_error *err);
int dns_rpc_zone_list(struct rpc_request *req, void *userdata, json_t **ret_result,
		      struct pw_error *err);
int dns_rpc_zone_link(struct rpc_request *req, void *userdata, json_t **ret_result,
		      struct pw_error *err);
int dns_rpc_zone_unlink(struct rpc_request *req, void *userdata, json_t **ret_result,
			struct pw_error *err);

/* Validation of one record against its domain (pure; for tests):
 * normalises name and value in place (lower case, no trailing dot,
 * canonical addresses). domain is the VNet's domain or the zone name;
 * subnets (may be NULL) allow PTR names given as addresses of the VNet. */
struct dns_record_spec {
	char *vnet;
	char *zone;
	char *name;
	char *type;
	char *value;
	unsigned ttl;
};
int dns_record_validate(struct dns_record_spec *spec, const char *domain,
			const struct ip_prefix *subnets, size_t subnet_count, struct pw_error *err);
