/* Unit tests for netd/etcd-codec.c: the v3 JSON gateway's encoding
 * (base64 bytes, int64 as strings, absent fields as zero/false), request
 * bodies, replies as etcd 3.4 sends them, and the watch stream splitter
 * fed in every possible cut. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "../../netd/etcd-codec.h"

static void test_base64(void **state)
{
	static const struct {
		const char *plain, *encoded;
	} cases[] = {
	    {"", ""},
	    {"f", "Zg=="},
	    {"fo", "Zm8="},
	    {"foo", "Zm9v"},
	    {"foob", "Zm9vYg=="},
	    {"fooba", "Zm9vYmE="},
	    {"foobar", "Zm9vYmFy"},
	    {"/podwire/hosts/a", "L3BvZHdpcmUvaG9zdHMvYQ=="},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *enc = etcd_base64_encode(cases[i].plain, strlen(cases[i].plain));
		void *dec;
		size_t len;

		assert_string_equal(enc, cases[i].encoded);
		assert_int_equal(etcd_base64_decode(cases[i].encoded, &dec, &len), 0);
		assert_int_equal(len, strlen(cases[i].plain));
		assert_memory_equal(dec, cases[i].plain, len);
		assert_int_equal(((char *)dec)[len], '\0');
		free(enc);
		free(dec);
	}
	/* Binary bytes, including NUL and 0xff, survive a round trip. */
	unsigned char bin[256];
	for (size_t i = 0; i < sizeof(bin); i++)
		bin[i] = (unsigned char)(255 - i);
	char *enc = etcd_base64_encode(bin, sizeof(bin));
	void *dec;
	size_t len;
	assert_int_equal(etcd_base64_decode(enc, &dec, &len), 0);
	assert_int_equal(len, sizeof(bin));
	assert_memory_equal(dec, bin, sizeof(bin));
	free(enc);
	free(dec);
}

static void test_base64_rejects(void **state)
{
	const char *bad[] = {"Zg=",  "Zg",   "Z===", "=Zg=", "Zg==Zg==", "Zm9v\n",
			     "Zm 9", "Zm9-", "Zm9_", "Zg=a", "Zm8=Zm8="};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		void *dec = NULL;
		size_t len;
		assert_int_equal(etcd_base64_decode(bad[i], &dec, &len), -EINVAL);
		assert_null(dec);
	}
}

static void test_prefix_range_end(void **state)
{
	size_t len;
	char *end = etcd_prefix_range_end("/podwire/", &len);
	assert_int_equal(len, 9);
	assert_memory_equal(end, "/podwire0", 9);
	free(end);
	end = etcd_prefix_range_end("a\xff\xff", &len);
	assert_int_equal(len, 1);
	assert_memory_equal(end, "b", 1);
	free(end);
	/* Nothing to increment: "\0" means every key. */
	end = etcd_prefix_range_end("\xff", &len);
	assert_int_equal(len, 1);
	assert_int_equal(end[0], '\0');
	free(end);
}

/* The body as a JSON value, for comparing without caring about order. */
static json_t *J(const char *text)
{
	json_error_t jerr;
	json_t *v = json_loads(text, 0, &jerr);
	if (!v)
		fail_msg("bad JSON %s: %s", text, jerr.text);
	return v;
}

static void assert_json_equal(const char *actual, const char *expected)
{
	json_t *a = J(actual), *e = J(expected);
	if (!json_equal(a, e))
		fail_msg("JSON differs:\n  got      %s\n  expected %s", actual, expected);
	json_decref(a);
	json_decref(e);
}

static void test_bodies(void **state)
{
	struct pw_error err = {0};
	char *body;

	struct etcd_op range = {
	    .type = ETCD_OP_RANGE, .key = "/a/", .prefix = true, .revision = 42};
	assert_int_equal(etcd_body_op(&range, &body, &err), 0);
	assert_json_equal(body, "{\"key\":\"L2Ev\",\"range_end\":\"L2Ew\",\"revision\":\"42\"}");
	free(body);

	struct etcd_op put = {.type = ETCD_OP_PUT,
			      .key = "k",
			      .value = "v\0x",
			      .value_len = 3,
			      .lease = 7587869251385733640};
	assert_int_equal(etcd_body_op(&put, &body, &err), 0);
	assert_json_equal(
	    body, "{\"key\":\"aw==\",\"value\":\"dgB4\",\"lease\":\"7587869251385733640\"}");
	free(body);

	struct etcd_op del = {.type = ETCD_OP_DELETE, .key = "k"};
	assert_int_equal(etcd_body_op(&del, &body, &err), 0);
	assert_json_equal(body, "{\"key\":\"aw==\"}");
	free(body);

	struct etcd_op nokey = {.type = ETCD_OP_PUT, .key = ""};
	assert_int_equal(etcd_body_op(&nokey, &body, &err), -EINVAL);
	assert_string_equal(err.message, "etcd operation without a key");

	struct etcd_compare cmps[] = {
	    {.key = "k", .target = ETCD_CMP_CREATE, .result = ETCD_CMP_EQUAL, .number = 0},
	    {.key = "v",
	     .target = ETCD_CMP_VALUE,
	     .result = ETCD_CMP_NOT_EQUAL,
	     .value = "x",
	     .value_len = 1},
	};
	struct etcd_op get = {.type = ETCD_OP_RANGE, .key = "k"};
	assert_int_equal(etcd_body_txn(cmps, 2, &put, 1, &get, 1, &body, &err), 0);
	assert_json_equal(
	    body, "{\"compare\":[{\"key\":\"aw==\",\"target\":\"CREATE\",\"result\":\"EQUAL\","
		  "\"create_revision\":\"0\"},{\"key\":\"dg==\",\"target\":\"VALUE\","
		  "\"result\":\"NOT_EQUAL\",\"value\":\"eA==\"}],"
		  "\"success\":[{\"request_put\":{\"key\":\"aw==\",\"value\":\"dgB4\","
		  "\"lease\":\"7587869251385733640\"}}],"
		  "\"failure\":[{\"request_range\":{\"key\":\"aw==\"}}]}");
	free(body);
	assert_int_equal(etcd_body_txn(cmps, 2, &nokey, 1, NULL, 0, &body, &err), -EINVAL);

	/* "Nothing under /g/": create_revision == 0 over the prefix. */
	struct etcd_compare empty = {
	    .key = "/g/", .prefix = true, .target = ETCD_CMP_CREATE, .result = ETCD_CMP_EQUAL};
	assert_int_equal(etcd_body_txn(&empty, 1, &del, 1, NULL, 0, &body, &err), 0);
	assert_json_equal(body, "{\"compare\":[{\"key\":\"L2cv\",\"range_end\":\"L2cw\",\"target\":"
				"\"CREATE\",\"result\":\"EQUAL\",\"create_revision\":\"0\"}],"
				"\"success\":[{\"request_delete_range\":{\"key\":\"aw==\"}}],"
				"\"failure\":[]}");
	free(body);

	body = etcd_body_watch("/w/", true, 17);
	assert_json_equal(body, "{\"create_request\":{\"key\":\"L3cv\",\"range_end\":\"L3cw\","
				"\"start_revision\":\"17\"}}");
	free(body);
	body = etcd_body_lease_grant(15);
	assert_json_equal(body, "{\"TTL\":\"15\"}");
	free(body);
	body = etcd_body_lease_id(-5);
	assert_json_equal(body, "{\"ID\":\"-5\"}");
	free(body);
}

/* Replies copied from etcd 3.4.23's gateway. */
static void test_reply_range(void **state)
{
	const char *text =
	    "{\"header\":{\"cluster_id\":\"2037210783374497686\",\"member_id\":"
	    "\"13195394291058371180\",\"revision\":\"2\",\"raft_term\":\"2\"},\"kvs\":[{\"key\":"
	    "\"YQ==\",\"create_revision\":\"2\",\"mod_revision\":\"2\",\"version\":\"1\","
	    "\"value\":\"MQ==\"}],\"count\":\"1\"}";
	struct etcd_response resp;
	struct pw_error err = {0};

	assert_int_equal(etcd_reply_parse(ETCD_REPLY_RANGE, text, strlen(text), &resp, &err), 0);
	assert_int_equal(resp.revision, 2);
	assert_int_equal(resp.kv_count, 1);
	assert_int_equal(resp.count, 1);
	assert_false(resp.more); /* absent */
	assert_string_equal(resp.kvs[0].key, "a");
	assert_string_equal(resp.kvs[0].value, "1");
	assert_int_equal(resp.kvs[0].value_len, 1);
	assert_int_equal(resp.kvs[0].create_revision, 2);
	assert_int_equal(resp.kvs[0].version, 1);
	assert_int_equal(resp.kvs[0].lease, 0); /* absent */
	etcd_response_done(&resp);

	/* No key: no "kvs", no "count". */
	text = "{\"header\":{\"revision\":\"9\"}}";
	assert_int_equal(etcd_reply_parse(ETCD_REPLY_RANGE, text, strlen(text), &resp, &err), 0);
	assert_int_equal(resp.kv_count, 0);
	assert_int_equal(resp.count, 0);
	assert_int_equal(resp.revision, 9);
	etcd_response_done(&resp);
}

static void test_reply_txn(void **state)
{
	/* A failed create-if-absent: "succeeded" absent, the range of the
	 * failure branch in "responses". */
	const char *failed =
	    "{\"header\":{\"revision\":\"2\"},\"responses\":[{\"response_range\":{\"header\":"
	    "{\"revision\":\"2\"},\"kvs\":[{\"key\":\"YQ==\",\"create_revision\":\"2\","
	    "\"mod_revision\":\"2\",\"version\":\"1\",\"value\":\"MQ==\"}],\"count\":\"1\"}}]}";
	const char *succeeded =
	    "{\"header\":{\"revision\":\"5\"},\"succeeded\":true,\"responses\":[{\"response_put\":"
	    "{\"header\":{\"revision\":\"5\"}}},{\"response_delete_range\":{\"header\":{},"
	    "\"deleted\":\"3\"}}]}";
	struct etcd_response resp;
	struct pw_error err = {0};

	assert_int_equal(etcd_reply_parse(ETCD_REPLY_TXN, failed, strlen(failed), &resp, &err), 0);
	assert_false(resp.succeeded);
	assert_int_equal(resp.response_count, 1);
	assert_int_equal(resp.responses[0].type, ETCD_OP_RANGE);
	assert_string_equal(resp.responses[0].kvs[0].value, "1");
	etcd_response_done(&resp);

	assert_int_equal(
	    etcd_reply_parse(ETCD_REPLY_TXN, succeeded, strlen(succeeded), &resp, &err), 0);
	assert_true(resp.succeeded);
	assert_int_equal(resp.revision, 5);
	assert_int_equal(resp.response_count, 2);
	assert_int_equal(resp.responses[0].type, ETCD_OP_PUT);
	assert_int_equal(resp.responses[1].type, ETCD_OP_DELETE);
	assert_int_equal(resp.responses[1].deleted, 3);
	etcd_response_done(&resp);
}

static void test_reply_lease(void **state)
{
	const char *grant = "{\"header\":{\"revision\":\"2\"},\"ID\":\"7668682703045995273\","
			    "\"TTL\":\"5\"}";
	/* Keep-alive of an expired lease: no TTL. */
	const char *gone = "{\"result\":{\"header\":{\"revision\":\"2\"},\"ID\":\"1234\"}}";
	const char *alive = "{\"result\":{\"header\":{},\"ID\":\"1234\",\"TTL\":\"15\"}}";
	struct etcd_response resp;
	struct pw_error err = {0};

	assert_int_equal(etcd_reply_parse(ETCD_REPLY_LEASE, grant, strlen(grant), &resp, &err), 0);
	assert_int_equal(resp.lease_id, 7668682703045995273);
	assert_int_equal(resp.ttl, 5);
	etcd_response_done(&resp);
	assert_int_equal(etcd_reply_parse(ETCD_REPLY_KEEPALIVE, gone, strlen(gone), &resp, &err),
			 0);
	assert_int_equal(resp.lease_id, 1234);
	assert_int_equal(resp.ttl, 0);
	etcd_response_done(&resp);
	assert_int_equal(etcd_reply_parse(ETCD_REPLY_KEEPALIVE, alive, strlen(alive), &resp, &err),
			 0);
	assert_int_equal(resp.ttl, 15);
	etcd_response_done(&resp);
}

static void test_reply_rejects(void **state)
{
	const char *bad[] = {
	    "",
	    "not json",
	    "[]",
	    "{\"header\":{\"revision\":\"two\"}}",
	    "{\"header\":{\"revision\":\"2x\"}}",
	    "{\"header\":\"x\"}",
	    "{\"kvs\":{}}",
	    "{\"kvs\":[{\"key\":\"not base64!\"}]}",
	    "{\"kvs\":[{\"key\":\"YQ==\",\"version\":true}]}",
	    "{\"kvs\":[\"x\"]}",
	    "{\"more\":\"yes\"}",
	};
	struct etcd_response resp;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pw_error err = {0};
		assert_int_equal(
		    etcd_reply_parse(ETCD_REPLY_RANGE, bad[i], strlen(bad[i]), &resp, &err),
		    -EBADMSG);
		assert_true(err.message[0] != '\0');
		assert_int_equal(resp.kv_count, 0);
	}
	struct pw_error err = {0};
	const char *txn = "{\"responses\":[{\"response_mystery\":{}}]}";
	assert_int_equal(etcd_reply_parse(ETCD_REPLY_TXN, txn, strlen(txn), &resp, &err), -EBADMSG);
	assert_int_equal(etcd_reply_parse(ETCD_REPLY_KEEPALIVE, "{}", 2, &resp, &err), -EBADMSG);
}

static void test_errors(void **state)
{
	struct pw_error err = {0};
	const char *unary = "{\"error\":\"etcdserver: requested lease not found\",\"message\":"
			    "\"etcdserver: requested lease not found\",\"code\":5}";
	const char *future = "{\"error\":\"etcdserver: mvcc: required revision is a future "
			     "revision\",\"message\":\"etcdserver: mvcc: required revision is a "
			     "future revision\",\"code\":11}";
	const char *stream = "{\"error\":{\"grpc_code\":14,\"http_code\":503,\"message\":"
			     "\"etcdserver: no leader\",\"http_status\":\"Service Unavailable\"}}";

	assert_int_equal(etcd_error_parse(404, unary, strlen(unary), &err), -ENOENT);
	assert_string_equal(err.message, "etcdserver: requested lease not found");
	assert_int_equal(etcd_error_parse(400, future, strlen(future), &err), -ERANGE);
	assert_int_equal(etcd_error_parse(200, stream, strlen(stream), &err), -ECONNREFUSED);
	assert_string_equal(err.message, "etcdserver: no leader");
	assert_int_equal(etcd_error_parse(502, "<html>", 6, &err), -EIO);
	assert_string_equal(err.message, "HTTP 502");
	assert_int_equal(etcd_error_parse(500, NULL, 0, &err), -EIO);
}

static void test_watch_messages(void **state)
{
	const char *created = "{\"result\":{\"header\":{\"revision\":\"5\"},\"created\":true}}";
	const char *events =
	    "{\"result\":{\"header\":{\"revision\":\"5\"},\"events\":[{\"kv\":{\"key\":"
	    "\"YQ==\",\"create_revision\":\"4\",\"mod_revision\":\"4\",\"version\":\"1\","
	    "\"value\":\"Mg==\"}},{\"type\":\"DELETE\",\"kv\":{\"key\":\"YQ==\","
	    "\"mod_revision\":\"5\"}}]}}";
	const char *compacted = "{\"result\":{\"header\":{},\"canceled\":true,"
				"\"compact_revision\":\"3\"}}";
	const char *error = "{\"error\":{\"grpc_code\":14,\"message\":\"etcdserver: no leader\"}}";
	struct etcd_watch_message msg;
	struct pw_error err = {0};

	assert_int_equal(etcd_watch_message_parse(created, strlen(created), &msg, &err), 0);
	assert_true(msg.created);
	assert_false(msg.canceled);
	assert_int_equal(msg.revision, 5);
	assert_int_equal(msg.event_count, 0);
	etcd_watch_message_done(&msg);

	assert_int_equal(etcd_watch_message_parse(events, strlen(events), &msg, &err), 0);
	assert_int_equal(msg.event_count, 2);
	assert_int_equal(msg.events[0].type, ETCD_EVENT_PUT);
	assert_string_equal(msg.events[0].kv.key, "a");
	assert_string_equal(msg.events[0].kv.value, "2");
	assert_int_equal(msg.events[0].kv.mod_revision, 4);
	assert_int_equal(msg.events[1].type, ETCD_EVENT_DELETE);
	assert_int_equal(msg.events[1].kv.mod_revision, 5);
	assert_int_equal(msg.events[1].kv.value_len, 0);
	etcd_watch_message_done(&msg);

	assert_int_equal(etcd_watch_message_parse(compacted, strlen(compacted), &msg, &err), 0);
	assert_true(msg.canceled);
	assert_int_equal(msg.compact_revision, 3);
	etcd_watch_message_done(&msg);

	assert_int_equal(etcd_watch_message_parse(error, strlen(error), &msg, &err), -ECONNREFUSED);
	assert_string_equal(err.message, "etcdserver: no leader");
	const char *bad_type = "{\"result\":{\"events\":[{\"type\":\"MOVE\",\"kv\":{}}]}}";
	assert_int_equal(etcd_watch_message_parse(bad_type, strlen(bad_type), &msg, &err),
			 -EBADMSG);
	assert_int_equal(etcd_watch_message_parse("{}", 2, &msg, &err), -EBADMSG);
}

/* Three messages, one with braces and an escaped quote inside strings,
 * fed cut at every pair of positions: the same three objects come out. */
static void test_stream_splitter(void **state)
{
	const char *stream = "{\"result\":{\"created\":true}}\n"
			     "{\"result\":{\"cancel_reason\":\"a } \\\" { [\",\"x\":[1,{}]}}\n"
			     "  {\"error\":{\"message\":\"\\\\\"}}\n";
	const char *want[] = {
	    "{\"result\":{\"created\":true}}",
	    "{\"result\":{\"cancel_reason\":\"a } \\\" { [\",\"x\":[1,{}]}}",
	    "{\"error\":{\"message\":\"\\\\\"}}",
	};
	size_t len = strlen(stream);

	for (size_t cut1 = 0; cut1 <= len; cut1++)
		for (size_t cut2 = cut1; cut2 <= len; cut2 += 7) {
			struct etcd_stream_splitter s = {0};
			size_t cuts[] = {0, cut1, cut2, len}, got = 0;

			for (size_t c = 0; c + 1 < 4; c++) {
				const char *text;
				size_t text_len;
				int r;

				assert_int_equal(
				    etcd_stream_feed(&s, stream + cuts[c], cuts[c + 1] - cuts[c]),
				    0);
				while ((r = etcd_stream_next(&s, &text, &text_len)) == 1) {
					assert_true(got < 3);
					assert_int_equal(text_len, strlen(want[got]));
					assert_memory_equal(text, want[got], text_len);
					got++;
				}
				assert_int_equal(r, 0);
			}
			assert_int_equal(got, 3);
			etcd_stream_done(&s);
		}
}

static void test_stream_splitter_rejects(void **state)
{
	struct etcd_stream_splitter s = {0};
	const char *text;
	size_t len;

	assert_int_equal(etcd_stream_feed(&s, "{}x", 3), 0);
	assert_int_equal(etcd_stream_next(&s, &text, &len), 1);
	assert_int_equal(etcd_stream_next(&s, &text, &len), -EBADMSG);
	etcd_stream_done(&s);

	/* An object that never ends is cut off at the limit. */
	char *chunk = malloc(1024 * 1024);
	memset(chunk, ' ', 1024 * 1024);
	chunk[0] = '{';
	chunk[1] = '"';
	int r = 0;
	for (int i = 0; i < 20 && r == 0; i++) {
		r = etcd_stream_feed(&s, chunk, 1024 * 1024);
		if (r == 0)
			assert_int_equal(etcd_stream_next(&s, &text, &len), 0);
		chunk[0] = chunk[1] = ' ';
	}
	assert_int_equal(r, -EMSGSIZE);
	free(chunk);
	etcd_stream_done(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_base64),	     cmocka_unit_test(test_base64_rejects),
	    cmocka_unit_test(test_prefix_range_end), cmocka_unit_test(test_bodies),
	    cmocka_unit_test(test_reply_range),	     cmocka_unit_test(test_reply_txn),
	    cmocka_unit_test(test_reply_lease),	     cmocka_unit_test(test_reply_rejects),
	    cmocka_unit_test(test_errors),	     cmocka_unit_test(test_watch_messages),
	    cmocka_unit_test(test_stream_splitter),  cmocka_unit_test(test_stream_splitter_rejects),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
