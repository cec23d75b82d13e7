/* The wire format of etcd's v3 JSON gateway (grpc-gateway over the v3
 * gRPC API, served under /v3/ by etcd 3.4), kept apart from the transport
 * (etcd-client.c) so unit tests feed it text directly.
 *
 * The gateway speaks protobuf's JSON mapping: bytes fields (keys, values)
 * are base64, int64 fields are decimal strings, and fields at their zero
 * value are left out (an absent "succeeded" is false, an absent "count" is
 * 0, a PUT event has no "type"). Request bodies are built here from typed
 * structs, replies are parsed here into typed structs: json_t does not
 * leave this file.
 *
 * Streams (watch, lease keep-alive) are a sequence of JSON objects, each
 * {"result":{...}} or {"error":{...}}, newline-separated in practice;
 * etcd_stream_splitter finds the object boundaries itself (it does not
 * rely on the newlines) and keeps its state across chunks, so each byte is
 * scanned once however the transport cuts the stream. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* A reply body larger than this is refused: a range over netd's whole
 * prefix at 10,000 groups with a few hundred bytes each is ~5 MB. */
#define ETCD_REPLY_MAX (64u * 1024 * 1024)
/* One streamed message (one watch response) larger than this ends the
 * stream as malformed; etcd's own limit for a request is 1.5 MiB and a
 * watch response carries the events of one revision at a time. */
#define ETCD_STREAM_MESSAGE_MAX (16u * 1024 * 1024)
/* Operations per transaction: etcd's default --max-txn-ops. */
#define ETCD_TXN_OPS_MAX 128

/* --- Base64 (RFC 4648, standard alphabet, padded) --------------------- */

/* Encodes len bytes; returns a malloc'd NUL-terminated string. */
char *etcd_base64_encode(const void *data, size_t len);
/* Decodes text strictly (padding required, no whitespace, no stray
 * characters); *ret_data is malloc'd and NUL-terminated (not counted in
 * *ret_len) so text values can be used as strings. -EINVAL if malformed. */
int etcd_base64_decode(const char *text, void **ret_data, size_t *ret_len);

/* The range_end that makes [key, range_end) cover every key starting
 * with prefix: prefix with its last byte below 0xff incremented and the
 * rest dropped; "\0" (all keys) when there is no such byte. Returns a
 * malloc'd buffer of *ret_len bytes. */
void *etcd_prefix_range_end(const char *prefix, size_t *ret_len);

/* --- Requests ------------------------------------------------------------- */

enum etcd_op_type {
	ETCD_OP_RANGE,
	ETCD_OP_PUT,
	ETCD_OP_DELETE,
};

/* One operation, alone or inside a transaction. key is a NUL-terminated
 * string (netd's keys are paths); values are bytes. */
struct etcd_op {
	enum etcd_op_type type;
	const char *key;
	bool prefix;	   /* RANGE, DELETE: every key starting with key */
	const void *value; /* PUT */
	size_t value_len;  /* PUT */
	int64_t lease;	   /* PUT: attach to this lease (0: none) */
	int64_t revision;  /* RANGE: read at this revision (0: latest) */
	int64_t limit;	   /* RANGE: at most this many keys (0: no limit) */
};

enum etcd_compare_target {
	ETCD_CMP_VERSION, /* number: times the key was put since created (0: absent) */
	ETCD_CMP_CREATE,  /* number: create_revision (0: absent) */
	ETCD_CMP_MOD,	  /* number: mod_revision */
	ETCD_CMP_VALUE,	  /* value, value_len */
	ETCD_CMP_LEASE,	  /* number: lease id */
};

enum etcd_compare_result {
	ETCD_CMP_EQUAL,
	ETCD_CMP_NOT_EQUAL,
	ETCD_CMP_GREATER,
	ETCD_CMP_LESS,
};

/* With prefix, the compare covers every key under key (range_end), and
 * holds when it holds for each of them; over no key at all it is made
 * against a key's zero values, so create_revision == 0 over a prefix
 * means "no key under the prefix". */
struct etcd_compare {
	const char *key;
	bool prefix;
	enum etcd_compare_target target;
	enum etcd_compare_result result;
	int64_t number;
	const void *value;
	size_t value_len;
};

/* Bodies for POST /v3/kv/range, /v3/kv/put, /v3/kv/deleterange (by
 * op->type) and /v3/kv/txn; malloc'd compact JSON. -EINVAL with err set
 * for an op that cannot be expressed (no key, too many ops). */
int etcd_body_op(const struct etcd_op *op, char **ret_body, struct pw_error *err);
int etcd_body_txn(const struct etcd_compare *compares, size_t compare_count,
		  const struct etcd_op *success, size_t success_count,
		  const struct etcd_op *failure, size_t failure_count, char **ret_body,
		  struct pw_error *err);
/* POST /v3/watch: a create_request from start_revision (0: from now). */
char *etcd_body_watch(const char *key, bool prefix, int64_t start_revision);
/* /v3/lease/grant {"TTL"}, /v3/lease/keepalive and /v3/lease/revoke {"ID"}. */
char *etcd_body_lease_grant(int64_t ttl_s);
char *etcd_body_lease_id(int64_t lease_id);

/* --- Replies -------------------------------------------------------------- */

struct etcd_kv {
	char *key; /* NUL-terminated (keys are text here) */
	size_t key_len;
	char *value; /* NUL-terminated too; value_len counts the bytes */
	size_t value_len;
	int64_t create_revision;
	int64_t mod_revision;
	int64_t version;
	int64_t lease;
};

/* The reply of one operation; a transaction's reply holds one of these
 * per executed operation in responses. */
struct etcd_response {
	enum etcd_op_type type; /* for a txn's responses; RANGE for others */
	int64_t revision;	/* header.revision: the store's revision */
	struct etcd_kv *kvs;	/* RANGE */
	size_t kv_count;
	int64_t count;			 /* RANGE: keys in the range (before limit) */
	bool more;			 /* RANGE: limit cut the result */
	int64_t deleted;		 /* DELETE */
	bool succeeded;			 /* txn */
	struct etcd_response *responses; /* txn: of the branch that ran */
	size_t response_count;
	int64_t lease_id; /* lease grant / keep-alive */
	int64_t ttl;	  /* lease grant / keep-alive: 0 = lease gone */
};

enum etcd_reply_kind {
	ETCD_REPLY_RANGE,
	ETCD_REPLY_PUT,
	ETCD_REPLY_DELETE,
	ETCD_REPLY_TXN,
	ETCD_REPLY_LEASE,     /* grant and revoke */
	ETCD_REPLY_KEEPALIVE, /* {"result":{...}} around a lease reply */
};

/* Parses a 200 reply body. -EBADMSG with err set if it is not what the
 * gateway sends. */
int etcd_reply_parse(enum etcd_reply_kind kind, const char *body, size_t len,
		     struct etcd_response *ret, struct pw_error *err);
void etcd_response_done(struct etcd_response *resp);

/* An error body ({"error":"...","message":"...","code":N}, N a gRPC code)
 * or a stream's {"error":{"grpc_code":N,"message":"..."}}: the message
 * into err and the errno the code maps to (NotFound -ENOENT,
 * InvalidArgument -EINVAL, DeadlineExceeded -ETIMEDOUT, Unavailable
 * -ECONNREFUSED, OutOfRange (compacted/future revision) -ERANGE,
 * FailedPrecondition -EBUSY, else -EIO). Without a parseable body: -EIO
 * and "HTTP <status>". */
int etcd_error_parse(long http_status, const char *body, size_t len, struct pw_error *err);

enum etcd_event_type {
	ETCD_EVENT_PUT,
	ETCD_EVENT_DELETE,
};

struct etcd_event {
	enum etcd_event_type type;
	struct etcd_kv kv; /* DELETE: key and mod_revision only */
};

/* One message of a watch stream. */
struct etcd_watch_message {
	int64_t revision; /* header.revision */
	bool created;
	bool canceled;
	int64_t compact_revision; /* set with canceled: start revision compacted */
	char *cancel_reason;	  /* NULL or the server's reason */
	struct etcd_event *events;
	size_t event_count;
};

/* Parses one stream object; an {"error":{...}} object gives the mapped
 * errno (as etcd_error_parse) with err set. */
int etcd_watch_message_parse(const char *text, size_t len, struct etcd_watch_message *ret,
			     struct pw_error *err);
void etcd_watch_message_done(struct etcd_watch_message *msg);

/* --- Stream splitting ----------------------------------------------------- */

struct etcd_stream_splitter {
	char *buf;
	size_t len, cap;
	size_t scanned; /* bytes of buf already scanned */
	size_t start;	/* where the current object began (valid while depth > 0) */
	int depth;	/* nesting of {} and [] */
	bool in_string;
	bool escaped;
};

/* Appends a chunk. -EMSGSIZE if the object being collected would exceed
 * ETCD_STREAM_MESSAGE_MAX; -EBADMSG on bytes between objects that are not
 * whitespace. */
int etcd_stream_feed(struct etcd_stream_splitter *s, const void *data, size_t len);
/* The next complete top-level object: 1 and its bytes (valid until the
 * next feed/next call), or 0 when none is complete yet. */
int etcd_stream_next(struct etcd_stream_splitter *s, const char **ret_text, size_t *ret_len);
void etcd_stream_reset(struct etcd_stream_splitter *s);
void etcd_stream_done(struct etcd_stream_splitter *s);
