/* etcd v3 JSON gateway codec (see etcd-codec.h). Pure: no I/O, no
 * logging; out of memory is fatal as everywhere in netd. */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>

#include "etcd-codec.h"
#include "json-util.h"
#include "xalloc.h"

/* --- Base64 ---------------------------------------------------------------- */

static const char base64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *etcd_base64_encode(const void *data, size_t len)
{
	const unsigned char *in = data;
	char *out = xmalloc((len + 2) / 3 * 4 + 1), *o = out;
	size_t i;

	for (i = 0; i + 3 <= len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		*o++ = base64_alphabet[v >> 18];
		*o++ = base64_alphabet[(v >> 12) & 63];
		*o++ = base64_alphabet[(v >> 6) & 63];
		*o++ = base64_alphabet[v & 63];
	}
	if (len - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		*o++ = base64_alphabet[v >> 18];
		*o++ = base64_alphabet[(v >> 12) & 63];
		*o++ = '=';
		*o++ = '=';
	} else if (len - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		*o++ = base64_alphabet[v >> 18];
		*o++ = base64_alphabet[(v >> 12) & 63];
		*o++ = base64_alphabet[(v >> 6) & 63];
		*o++ = '=';
	}
	*o = '\0';
	return out;
}

static int base64_value(char c)
{
	const char *p = c ? strchr(base64_alphabet, c) : NULL;
	return p ? (int)(p - base64_alphabet) : -1;
}

int etcd_base64_decode(const char *text, void **ret_data, size_t *ret_len)
{
	size_t text_len = strlen(text), out_len = 0;
	_cleanup_free_ unsigned char *out = NULL;

	if (text_len % 4)
		return -EINVAL;
	out = xmalloc(text_len / 4 * 3 + 1);
	for (size_t i = 0; i < text_len; i += 4) {
		int v[4];
		bool last = i + 4 == text_len;

		for (int k = 0; k < 4; k++)
			v[k] = base64_value(text[i + k]);
		if (v[0] < 0 || v[1] < 0)
			return -EINVAL;
		/* '=' only at the end: "xx==" or "xxx=". */
		if (v[2] < 0 && !(last && text[i + 2] == '=' && text[i + 3] == '='))
			return -EINVAL;
		if (v[2] >= 0 && v[3] < 0 && !(last && text[i + 3] == '='))
			return -EINVAL;
		out[out_len++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		if (v[2] >= 0)
			out[out_len++] = (unsigned char)((v[1] & 15) << 4 | v[2] >> 2);
		if (v[3] >= 0)
			out[out_len++] = (unsigned char)((v[2] & 3) << 6 | v[3]);
	}
	out[out_len] = '\0';
	*ret_data = TAKE_PTR(out);
	*ret_len = out_len;
	return 0;
}

void *etcd_prefix_range_end(const char *prefix, size_t *ret_len)
{
	size_t len = strlen(prefix);
	unsigned char *end = (unsigned char *)xstrdup(prefix);

	while (len > 0) {
		if (end[len - 1] < 0xff) {
			end[len - 1]++;
			*ret_len = len;
			return end;
		}
		len--;
	}
	/* All 0xff or empty: etcd reads a range_end of "\0" as "to the end". */
	end[0] = '\0';
	*ret_len = 1;
	return end;
}

/* --- Requests ---------------------------------------------------------------- */

static json_t *json_bytes(const void *data, size_t len)
{
	_cleanup_free_ char *text = etcd_base64_encode(data, len);
	return json_string(text);
}

/* int64 fields go out as strings, as the gateway sends them: a JSON
 * number beyond 2^53 is not exact for every reader. */
static json_t *json_int64(int64_t v)
{
	char text[24];
	snprintf(text, sizeof(text), "%" PRId64, v);
	return json_string(text);
}

static void set_new(json_t *obj, const char *name, json_t *value)
{
	if (!value || json_object_set_new(obj, name, value) < 0)
		xalloc_die();
}

static void set_key_range(json_t *obj, const char *key, bool prefix)
{
	set_new(obj, "key", json_bytes(key, strlen(key)));
	if (prefix) {
		size_t end_len;
		_cleanup_free_ void *end = etcd_prefix_range_end(key, &end_len);
		set_new(obj, "range_end", json_bytes(end, end_len));
	}
}

static json_t *op_json(const struct etcd_op *op, struct pw_error *err)
{
	json_t *obj;

	if (strempty(op->key)) {
		pw_error_set(err, -EINVAL, "etcd operation without a key");
		return NULL;
	}
	obj = json_object();
	if (!obj)
		xalloc_die();
	switch (op->type) {
	case ETCD_OP_RANGE:
		set_key_range(obj, op->key, op->prefix);
		if (op->revision > 0)
			set_new(obj, "revision", json_int64(op->revision));
		if (op->limit > 0)
			set_new(obj, "limit", json_int64(op->limit));
		break;
	case ETCD_OP_PUT:
		set_new(obj, "key", json_bytes(op->key, strlen(op->key)));
		set_new(obj, "value", json_bytes(op->value ? op->value : "", op->value_len));
		if (op->lease)
			set_new(obj, "lease", json_int64(op->lease));
		break;
	case ETCD_OP_DELETE:
		set_key_range(obj, op->key, op->prefix);
		break;
	}
	return obj;
}

static char *dump(json_t *obj)
{
	char *text = json_dump_line(obj);
	if (!text)
		xalloc_die();
	return text;
}

int etcd_body_op(const struct etcd_op *op, char **ret_body, struct pw_error *err)
{
	json_auto_t *obj = op_json(op, err);
	if (!obj)
		return -EINVAL;
	*ret_body = dump(obj);
	return 0;
}

static const char *const op_request_names[] = {
    [ETCD_OP_RANGE] = "request_range",
    [ETCD_OP_PUT] = "request_put",
    [ETCD_OP_DELETE] = "request_delete_range",
};

static int ops_json(const struct etcd_op *ops, size_t count, json_t **ret, struct pw_error *err)
{
	json_auto_t *array = json_array();

	if (!array)
		xalloc_die();
	for (size_t i = 0; i < count; i++) {
		json_t *op = op_json(&ops[i], err), *wrap;
		if (!op)
			return -EINVAL;
		wrap = json_object();
		if (!wrap)
			xalloc_die();
		set_new(wrap, op_request_names[ops[i].type], op);
		if (json_array_append_new(array, wrap) < 0)
			xalloc_die();
	}
	*ret = TAKE_PTR(array);
	return 0;
}

static const char *const compare_targets[] = {
    [ETCD_CMP_VERSION] = "VERSION", [ETCD_CMP_CREATE] = "CREATE", [ETCD_CMP_MOD] = "MOD",
    [ETCD_CMP_VALUE] = "VALUE",	    [ETCD_CMP_LEASE] = "LEASE",
};
/* The member of Compare holding the operand, per target. */
static const char *const compare_fields[] = {
    [ETCD_CMP_VERSION] = "version",  [ETCD_CMP_CREATE] = "create_revision",
    [ETCD_CMP_MOD] = "mod_revision", [ETCD_CMP_VALUE] = "value",
    [ETCD_CMP_LEASE] = "lease",
};
static const char *const compare_results[] = {
    [ETCD_CMP_EQUAL] = "EQUAL",
    [ETCD_CMP_NOT_EQUAL] = "NOT_EQUAL",
    [ETCD_CMP_GREATER] = "GREATER",
    [ETCD_CMP_LESS] = "LESS",
};

int etcd_body_txn(const struct etcd_compare *compares, size_t compare_count,
		  const struct etcd_op *success, size_t success_count,
		  const struct etcd_op *failure, size_t failure_count, char **ret_body,
		  struct pw_error *err)
{
	json_auto_t *obj = json_object(), *cmps = json_array();
	json_t *ops;
	int r;

	if (!obj || !cmps)
		xalloc_die();
	if (compare_count > ETCD_TXN_OPS_MAX || success_count > ETCD_TXN_OPS_MAX ||
	    failure_count > ETCD_TXN_OPS_MAX)
		return pw_error_set(err, -EINVAL, "etcd transaction: more than %u operations",
				    ETCD_TXN_OPS_MAX);
	for (size_t i = 0; i < compare_count; i++) {
		const struct etcd_compare *c = &compares[i];
		json_t *cmp;

		if (strempty(c->key))
			return pw_error_set(err, -EINVAL,
					    "etcd transaction: compare without a key");
		cmp = json_object();
		if (!cmp)
			xalloc_die();
		set_key_range(cmp, c->key, c->prefix);
		set_new(cmp, "target", json_string(compare_targets[c->target]));
		set_new(cmp, "result", json_string(compare_results[c->result]));
		if (c->target == ETCD_CMP_VALUE)
			set_new(cmp, "value", json_bytes(c->value ? c->value : "", c->value_len));
		else
			set_new(cmp, compare_fields[c->target], json_int64(c->number));
		if (json_array_append_new(cmps, cmp) < 0)
			xalloc_die();
	}
	set_new(obj, "compare", TAKE_PTR(cmps));
	r = ops_json(success, success_count, &ops, err);
	if (r < 0)
		return r;
	set_new(obj, "success", ops);
	r = ops_json(failure, failure_count, &ops, err);
	if (r < 0)
		return r;
	set_new(obj, "failure", ops);
	*ret_body = dump(obj);
	return 0;
}

char *etcd_body_watch(const char *key, bool prefix, int64_t start_revision)
{
	json_auto_t *obj = json_object(), *create = json_object();

	if (!obj || !create)
		xalloc_die();
	set_key_range(create, key, prefix);
	if (start_revision > 0)
		set_new(create, "start_revision", json_int64(start_revision));
	set_new(obj, "create_request", TAKE_PTR(create));
	return dump(obj);
}

char *etcd_body_lease_grant(int64_t ttl_s)
{
	json_auto_t *obj = json_object();
	if (!obj)
		xalloc_die();
	set_new(obj, "TTL", json_int64(ttl_s));
	return dump(obj);
}

char *etcd_body_lease_id(int64_t lease_id)
{
	json_auto_t *obj = json_object();
	if (!obj)
		xalloc_die();
	set_new(obj, "ID", json_int64(lease_id));
	return dump(obj);
}

/* --- Replies ------------------------------------------------------------------ */

/* An int64 member: a decimal string as the gateway sends, a JSON integer
 * as a hand-written reply might, absent as 0. */
static int get_int64(json_t *obj, const char *name, int64_t *ret, struct pw_error *err)
{
	json_t *v = json_object_get(obj, name);
	const char *text;
	char *end;
	long long n;

	*ret = 0;
	if (!v || json_is_null(v))
		return 0;
	if (json_is_integer(v)) {
		*ret = json_integer_value(v);
		return 0;
	}
	if (!json_is_string(v))
		return pw_error_set(err, -EBADMSG, "etcd reply: \"%s\" is not an integer", name);
	text = json_string_value(v);
	errno = 0;
	n = strtoll(text, &end, 10);
	if (!*text || *end || errno)
		return pw_error_set(err, -EBADMSG, "etcd reply: \"%s\" is not an integer: '%s'",
				    name, text);
	*ret = n;
	return 0;
}

/* A bool member: absent is false (proto3 leaves false out). */
static int get_bool(json_t *obj, const char *name, bool *ret, struct pw_error *err)
{
	json_t *v = json_object_get(obj, name);

	*ret = false;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return pw_error_set(err, -EBADMSG, "etcd reply: \"%s\" is not a boolean", name);
	*ret = json_is_true(v);
	return 0;
}

/* A bytes member, decoded; absent is empty. */
static int get_bytes(json_t *obj, const char *name, char **ret, size_t *ret_len,
		     struct pw_error *err)
{
	json_t *v = json_object_get(obj, name);
	void *data;
	int r;

	if (!v || json_is_null(v)) {
		*ret = xstrdup("");
		*ret_len = 0;
		return 0;
	}
	if (!json_is_string(v))
		return pw_error_set(err, -EBADMSG, "etcd reply: \"%s\" is not a string", name);
	r = etcd_base64_decode(json_string_value(v), &data, ret_len);
	if (r < 0)
		return pw_error_set(err, -EBADMSG, "etcd reply: \"%s\" is not base64", name);
	*ret = data;
	return 0;
}

static void kv_done(struct etcd_kv *kv)
{
	free(kv->key);
	free(kv->value);
	*kv = (struct etcd_kv){0};
}

static int kv_parse(json_t *obj, struct etcd_kv *kv, struct pw_error *err)
{
	int r;

	*kv = (struct etcd_kv){0};
	if (!json_is_object(obj))
		return pw_error_set(err, -EBADMSG, "etcd reply: a key-value is not an object");
	if ((r = get_bytes(obj, "key", &kv->key, &kv->key_len, err)) < 0 ||
	    (r = get_bytes(obj, "value", &kv->value, &kv->value_len, err)) < 0 ||
	    (r = get_int64(obj, "create_revision", &kv->create_revision, err)) < 0 ||
	    (r = get_int64(obj, "mod_revision", &kv->mod_revision, err)) < 0 ||
	    (r = get_int64(obj, "version", &kv->version, err)) < 0 ||
	    (r = get_int64(obj, "lease", &kv->lease, err)) < 0) {
		kv_done(kv);
		return r;
	}
	return 0;
}

void etcd_response_done(struct etcd_response *resp)
{
	for (size_t i = 0; i < resp->kv_count; i++)
		kv_done(&resp->kvs[i]);
	free(resp->kvs);
	for (size_t i = 0; i < resp->response_count; i++)
		etcd_response_done(&resp->responses[i]);
	free(resp->responses);
	*resp = (struct etcd_response){0};
}

static int header_revision(json_t *obj, int64_t *ret, struct pw_error *err)
{
	json_t *header = json_object_get(obj, "header");

	*ret = 0;
	if (!header)
		return 0;
	if (!json_is_object(header))
		return pw_error_set(err, -EBADMSG, "etcd reply: \"header\" is not an object");
	return get_int64(header, "revision", ret, err);
}

static int response_parse(enum etcd_reply_kind kind, json_t *obj, struct etcd_response *resp,
			  struct pw_error *err);

static int txn_responses_parse(json_t *obj, struct etcd_response *resp, struct pw_error *err)
{
	json_t *list = json_object_get(obj, "responses"), *item;
	size_t i;
	int r;

	if (!list)
		return 0;
	if (!json_is_array(list))
		return pw_error_set(err, -EBADMSG, "etcd reply: \"responses\" is not an array");
	resp->responses =
	    xcalloc(json_array_size(list) ? json_array_size(list) : 1, sizeof(*resp->responses));
	json_array_foreach(list, i, item)
	{
		static const struct {
			const char *name;
			enum etcd_reply_kind kind;
			enum etcd_op_type type;
		} kinds[] = {
		    {"response_range", ETCD_REPLY_RANGE, ETCD_OP_RANGE},
		    {"response_put", ETCD_REPLY_PUT, ETCD_OP_PUT},
		    {"response_delete_range", ETCD_REPLY_DELETE, ETCD_OP_DELETE},
		};
		struct etcd_response *sub = &resp->responses[resp->response_count];
		json_t *inner = NULL;
		size_t k;

		for (k = 0; k < ARRAY_SIZE(kinds); k++)
			if ((inner = json_object_get(item, kinds[k].name)))
				break;
		if (!inner)
			return pw_error_set(err, -EBADMSG,
					    "etcd reply: transaction response %zu of no known kind",
					    i);
		resp->response_count++;
		r = response_parse(kinds[k].kind, inner, sub, err);
		if (r < 0)
			return r;
		sub->type = kinds[k].type;
	}
	return 0;
}

static int response_parse(enum etcd_reply_kind kind, json_t *obj, struct etcd_response *resp,
			  struct pw_error *err)
{
	json_t *kvs, *item;
	size_t i;
	int r;

	if (!json_is_object(obj))
		return pw_error_set(err, -EBADMSG, "etcd reply: not an object");
	r = header_revision(obj, &resp->revision, err);
	if (r < 0)
		return r;
	switch (kind) {
	case ETCD_REPLY_RANGE:
		kvs = json_object_get(obj, "kvs");
		if (kvs && !json_is_array(kvs))
			return pw_error_set(err, -EBADMSG, "etcd reply: \"kvs\" is not an array");
		if (kvs && json_array_size(kvs)) {
			resp->kvs = xcalloc(json_array_size(kvs), sizeof(*resp->kvs));
			json_array_foreach(kvs, i, item)
			{
				r = kv_parse(item, &resp->kvs[i], err);
				if (r < 0)
					return r;
				resp->kv_count++;
			}
		}
		if ((r = get_int64(obj, "count", &resp->count, err)) < 0 ||
		    (r = get_bool(obj, "more", &resp->more, err)) < 0)
			return r;
		break;
	case ETCD_REPLY_PUT:
		break;
	case ETCD_REPLY_DELETE:
		r = get_int64(obj, "deleted", &resp->deleted, err);
		if (r < 0)
			return r;
		break;
	case ETCD_REPLY_TXN:
		r = get_bool(obj, "succeeded", &resp->succeeded, err);
		if (r < 0)
			return r;
		r = txn_responses_parse(obj, resp, err);
		if (r < 0)
			return r;
		break;
	case ETCD_REPLY_LEASE:
	case ETCD_REPLY_KEEPALIVE:
		if ((r = get_int64(obj, "ID", &resp->lease_id, err)) < 0 ||
		    (r = get_int64(obj, "TTL", &resp->ttl, err)) < 0)
			return r;
		break;
	}
	return 0;
}

static int load(const char *text, size_t len, json_t **ret, struct pw_error *err)
{
	json_error_t jerr;
	json_t *root = json_loadb(text, len, 0, &jerr);

	if (!root)
		return pw_error_set(err, -EBADMSG, "etcd reply is not JSON: %s", jerr.text);
	*ret = root;
	return 0;
}

int etcd_reply_parse(enum etcd_reply_kind kind, const char *body, size_t len,
		     struct etcd_response *ret, struct pw_error *err)
{
	json_auto_t *root = NULL;
	json_t *obj;
	int r;

	*ret = (struct etcd_response){0};
	r = load(body, len, &root, err);
	if (r < 0)
		return r;
	obj = root;
	if (kind == ETCD_REPLY_KEEPALIVE) {
		/* A streaming method: the reply is wrapped as a stream message. */
		json_t *error = json_object_get(root, "error");
		if (error) {
			_cleanup_free_ char *text = json_dumps(error, JSON_COMPACT);
			return etcd_error_parse(200, text, text ? strlen(text) : 0, err);
		}
		obj = json_object_get(root, "result");
		if (!obj)
			return pw_error_set(err, -EBADMSG, "etcd reply: no \"result\"");
	}
	r = response_parse(kind, obj, ret, err);
	if (r < 0)
		etcd_response_done(ret);
	return r;
}

/* gRPC status codes (google.golang.org/grpc/codes) to errno. */
static int grpc_code_errno(int64_t code)
{
	switch (code) {
	case 3: /* InvalidArgument */
		return -EINVAL;
	case 4: /* DeadlineExceeded */
		return -ETIMEDOUT;
	case 5: /* NotFound: e.g. "requested lease not found" */
		return -ENOENT;
	case 7:	 /* PermissionDenied */
	case 16: /* Unauthenticated */
		return -EACCES;
	case 9: /* FailedPrecondition */
		return -EBUSY;
	case 11: /* OutOfRange: "required revision has been compacted" */
		return -ERANGE;
	case 14: /* Unavailable: "no leader", "not capable" */
		return -ECONNREFUSED;
	default:
		return -EIO;
	}
}

int etcd_error_parse(long http_status, const char *body, size_t len, struct pw_error *err)
{
	json_auto_t *root = NULL;
	json_error_t jerr;
	json_t *obj, *message;
	int64_t code = 0;

	root = body && len ? json_loadb(body, len, 0, &jerr) : NULL;
	if (!root || !json_is_object(root))
		return pw_error_set(err, -EIO, "HTTP %ld", http_status);
	/* Stream errors are {"error":{"grpc_code":N,"message":...}}, unary
	 * ones {"error":"...","message":"...","code":N}. */
	obj = json_object_get(root, "error");
	if (json_is_object(obj)) {
		if (get_int64(obj, "grpc_code", &code, NULL) < 0)
			code = 0;
	} else {
		obj = root;
		if (get_int64(obj, "code", &code, NULL) < 0)
			code = 0;
	}
	message = json_object_get(obj, "message");
	if (!json_is_string(message) || !*json_string_value(message))
		message = json_object_get(root, "error");
	if (!json_is_string(message))
		return pw_error_set(err, grpc_code_errno(code), "HTTP %ld, gRPC code %" PRId64,
				    http_status, code);
	return pw_error_set(err, grpc_code_errno(code), "%s", json_string_value(message));
}

void etcd_watch_message_done(struct etcd_watch_message *msg)
{
	for (size_t i = 0; i < msg->event_count; i++)
		kv_done(&msg->events[i].kv);
	free(msg->events);
	free(msg->cancel_reason);
	*msg = (struct etcd_watch_message){0};
}

static int watch_result_parse(json_t *obj, struct etcd_watch_message *msg, struct pw_error *err)
{
	json_t *events, *item, *reason;
	size_t i;
	int r;

	if (!json_is_object(obj))
		return pw_error_set(err, -EBADMSG, "etcd watch: \"result\" is not an object");
	if ((r = header_revision(obj, &msg->revision, err)) < 0 ||
	    (r = get_bool(obj, "created", &msg->created, err)) < 0 ||
	    (r = get_bool(obj, "canceled", &msg->canceled, err)) < 0 ||
	    (r = get_int64(obj, "compact_revision", &msg->compact_revision, err)) < 0)
		return r;
	reason = json_object_get(obj, "cancel_reason");
	if (json_is_string(reason) && *json_string_value(reason))
		msg->cancel_reason = xstrdup(json_string_value(reason));
	events = json_object_get(obj, "events");
	if (!events)
		return 0;
	if (!json_is_array(events))
		return pw_error_set(err, -EBADMSG, "etcd watch: \"events\" is not an array");
	if (!json_array_size(events))
		return 0;
	msg->events = xcalloc(json_array_size(events), sizeof(*msg->events));
	json_array_foreach(events, i, item)
	{
		struct etcd_event *ev = &msg->events[i];
		json_t *type = json_object_get(item, "type");

		if (!json_is_object(item))
			return pw_error_set(err, -EBADMSG, "etcd watch: an event is not an object");
		/* PUT is the enum's zero value, so it is never sent. */
		if (!type || (json_is_string(type) && streq(json_string_value(type), "PUT")))
			ev->type = ETCD_EVENT_PUT;
		else if (json_is_string(type) && streq(json_string_value(type), "DELETE"))
			ev->type = ETCD_EVENT_DELETE;
		else
			return pw_error_set(err, -EBADMSG, "etcd watch: unknown event type");
		r = kv_parse(json_object_get(item, "kv"), &ev->kv, err);
		if (r < 0)
			return r;
		msg->event_count++;
	}
	return 0;
}

int etcd_watch_message_parse(const char *text, size_t len, struct etcd_watch_message *ret,
			     struct pw_error *err)
{
	json_auto_t *root = NULL;
	json_t *result;
	int r;

	*ret = (struct etcd_watch_message){0};
	r = load(text, len, &root, err);
	if (r < 0)
		return r;
	if (json_object_get(root, "error"))
		return etcd_error_parse(200, text, len, err);
	result = json_object_get(root, "result");
	if (!result)
		return pw_error_set(err, -EBADMSG, "etcd watch: message without \"result\"");
	r = watch_result_parse(result, ret, err);
	if (r < 0)
		etcd_watch_message_done(ret);
	return r;
}

/* --- Stream splitting ---------------------------------------------------------- */

/* Drops the bytes before the object being collected (or all scanned
 * bytes between objects), so the buffer holds at most one object plus
 * the unscanned tail. */
static void splitter_compact(struct etcd_stream_splitter *s)
{
	size_t drop = s->depth > 0 ? s->start : s->scanned;

	if (!drop)
		return;
	memmove(s->buf, s->buf + drop, s->len - drop);
	s->len -= drop;
	s->scanned -= drop;
	s->start = s->depth > 0 ? 0 : s->start;
}

int etcd_stream_feed(struct etcd_stream_splitter *s, const void *data, size_t len)
{
	splitter_compact(s);
	if (s->len + len > ETCD_STREAM_MESSAGE_MAX)
		return -EMSGSIZE;
	if (s->len + len + 1 > s->cap) {
		s->cap = MAX(s->cap * 2, s->len + len + 1);
		s->buf = xrealloc(s->buf, s->cap);
	}
	memcpy(s->buf + s->len, data, len);
	s->len += len;
	return 0;
}

int etcd_stream_next(struct etcd_stream_splitter *s, const char **ret_text, size_t *ret_len)
{
	splitter_compact(s);
	while (s->scanned < s->len) {
		char c = s->buf[s->scanned++];

		if (s->depth == 0) {
			if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
				continue;
			if (c != '{')
				return -EBADMSG;
			s->start = s->scanned - 1;
			s->depth = 1;
			continue;
		}
		if (s->in_string) {
			if (s->escaped)
				s->escaped = false;
			else if (c == '\\')
				s->escaped = true;
			else if (c == '"')
				s->in_string = false;
			continue;
		}
		if (c == '"') {
			s->in_string = true;
		} else if (c == '{' || c == '[') {
			s->depth++;
		} else if (c == '}' || c == ']') {
			if (--s->depth == 0) {
				*ret_text = s->buf + s->start;
				*ret_len = s->scanned - s->start;
				s->start = s->scanned;
				return 1;
			}
		}
	}
	return 0;
}

void etcd_stream_reset(struct etcd_stream_splitter *s)
{
	s->len = s->scanned = s->start = 0;
	s->depth = 0;
	s->in_string = s->escaped = false;
}

void etcd_stream_done(struct etcd_stream_splitter *s)
{
	free(s->buf);
	*s = (struct etcd_stream_splitter){0};
}
