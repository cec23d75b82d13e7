/* netd's metrics listener (netd/metrics-listener.c): --metrics-listen
 * addresses (loopback and Unix only) and the verdict on an HTTP request;
 * the Prometheus text (lib/prom-text.c) of a stats object. */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include <cmocka.h>

#include "../../netd/metrics-listener.h"
#include "prom-text.h"

static void assert_addr_bad(const char *text, const char *message_part)
{
	struct metrics_addr addr;
	struct pw_error err = {0};

	assert_int_equal(metrics_addr_parse(text, &addr, &err), -EINVAL);
	if (!strstr(pw_error_message(&err), message_part))
		fail_msg("'%s': '%s' not in '%s'", text, message_part, pw_error_message(&err));
	if (strchr(pw_error_message(&err), '\n'))
		fail_msg("'%s': message has more than one line", text);
}

static void test_addresses(void **state)
{
	struct metrics_addr addr;
	struct pw_error err = {0};

	assert_int_equal(metrics_addr_parse("127.0.0.1:9100", &addr, &err), 0);
	assert_false(addr.is_unix);
	assert_int_equal(addr.sa.ss_family, AF_INET);
	assert_int_equal(ntohs(((struct sockaddr_in *)&addr.sa)->sin_port), 9100);
	assert_int_equal(metrics_addr_parse("127.1.2.3:1", &addr, &err), 0);
	assert_int_equal(metrics_addr_parse("[::1]:65535", &addr, &err), 0);
	assert_int_equal(addr.sa.ss_family, AF_INET6);
	assert_int_equal(ntohs(((struct sockaddr_in6 *)&addr.sa)->sin6_port), 65535);
	assert_int_equal(metrics_addr_parse("unix:/run/podwire/metrics.sock", &addr, &err), 0);
	assert_true(addr.is_unix);
	assert_string_equal(((struct sockaddr_un *)&addr.sa)->sun_path,
			    "/run/podwire/metrics.sock");
	assert_string_equal(addr.text, "unix:/run/podwire/metrics.sock");

	assert_addr_bad("0.0.0.0:9100", "not a loopback address");
	assert_addr_bad("10.0.0.1:9100", "not a loopback address");
	assert_addr_bad("[::]:9100", "not a loopback address");
	assert_addr_bad("[::ffff:127.0.0.1]:9100", "not a loopback address");
	assert_addr_bad("garbage", "expected");
	assert_addr_bad("", "expected");
	assert_addr_bad("localhost:9100", "not an IPv4 address");
	assert_addr_bad("::1:9100", "expected");
	assert_addr_bad("[::1]9100", "expected [IPV6]:PORT");
	assert_addr_bad("[::1", "expected [IPV6]:PORT");
	assert_addr_bad("127.0.0.1:", "no port");
	assert_addr_bad("127.0.0.1:0", "1-65535");
	assert_addr_bad("127.0.0.1:65536", "1-65535");
	assert_addr_bad("127.0.0.1:99999999999999999999", "bad port");
	assert_addr_bad("127.0.0.1:-1", "bad port");
	assert_addr_bad("127.0.0.1: 80", "bad port");
	assert_addr_bad("unix:", "absolute");
	assert_addr_bad("unix:relative.sock", "absolute");
	char long_path[200];
	memset(long_path, 'a', sizeof(long_path));
	memcpy(long_path, "unix:/", 6);
	long_path[120] = '\0';
	assert_addr_bad(long_path, "longer than");
	long_path[199] = '\0';
	assert_addr_bad(long_path, "longer than");
}

static int verdict(const char *request, bool *ret_head)
{
	*ret_head = false;
	return metrics_request_parse(request, strlen(request), ret_head);
}

static void test_requests(void **state)
{
	bool head;

	assert_int_equal(verdict("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", &head), 200);
	assert_false(head);
	assert_int_equal(verdict("HEAD /metrics HTTP/1.0\r\n\r\n", &head), 200);
	assert_true(head);
	assert_int_equal(verdict("GET /metrics?name[]=x HTTP/1.1\r\n\r\n", &head), 200);
	assert_int_equal(verdict("GET http://127.0.0.1:9100/metrics HTTP/1.1\r\n\r\n", &head), 200);
	assert_int_equal(verdict("\r\nGET /metrics HTTP/1.1\n\n", &head), 200);
	assert_int_equal(verdict("GET /metrics HTTP/1.1\r\nUser-Agent: Prometheus/2.45\r\nAccept: "
				 "text/plain;version=0.0.4;q=1,*/*;q=0.1\r\nX-Empty:\r\n\r\n",
				 &head),
			 200);

	/* Incomplete: wait. */
	assert_int_equal(verdict("", &head), 0);
	assert_int_equal(verdict("GET /metr", &head), 0);
	assert_int_equal(verdict("GET /metrics HTTP/1.1\r\n", &head), 0);
	assert_int_equal(verdict("GET /metrics HTTP/1.1\r\nHost: x\r\n", &head), 0);
	assert_int_equal(verdict("GET /other HTTP/1.1\r\n", &head), 0);

	assert_int_equal(verdict("GET /other HTTP/1.1\r\n\r\n", &head), 404);
	assert_int_equal(verdict("GET / HTTP/1.1\r\n\r\n", &head), 404);
	assert_int_equal(verdict("GET /metrics/ HTTP/1.1\r\n\r\n", &head), 404);
	assert_int_equal(verdict("GET /metricsx HTTP/1.1\r\n\r\n", &head), 404);
	assert_int_equal(verdict("POST /other HTTP/1.1\r\n\r\n", &head), 404);
	assert_false(head);
	assert_int_equal(verdict("HEAD /other HTTP/1.1\r\n\r\n", &head), 404);
	assert_true(head);
	assert_int_equal(verdict("POST /metrics HTTP/1.1\r\n\r\n", &head), 405);
	assert_int_equal(verdict("get /metrics HTTP/1.1\r\n\r\n", &head), 405);
	assert_int_equal(verdict("DELETE /metrics HTTP/1.0\r\n\r\n", &head), 405);

	/* Garbage is answered as soon as its first line is complete. */
	assert_int_equal(verdict("garbage\n", &head), 400);
	assert_int_equal(verdict("GET /metrics\r\n", &head), 400);
	assert_int_equal(verdict("GET /metrics HTTP/2.0\r\n", &head), 400);
	assert_int_equal(verdict("GET /metrics HTTP/1.1 x\r\n", &head), 400);
	assert_int_equal(verdict("GET  /metrics HTTP/1.1\r\n", &head), 400);
	assert_int_equal(verdict(" GET /metrics HTTP/1.1\r\n", &head), 400);
	assert_int_equal(verdict("GET metrics HTTP/1.1\r\n", &head), 400);
	assert_int_equal(verdict("G(T /metrics HTTP/1.1\r\n", &head), 400);
	assert_int_equal(verdict("GET /met\rrics HTTP/1.1\r\n", &head), 400);
	assert_int_equal(verdict("GET /m\x80 HTTP/1.1\r\n", &head), 400);
	assert_int_equal(verdict("GET /metrics HTTP/1.1\r\nno colon\r\n\r\n", &head), 400);
	assert_int_equal(verdict("GET /metrics HTTP/1.1\r\n: no name\r\n\r\n", &head), 400);
	assert_int_equal(verdict("GET /metrics HTTP/1.1\r\nHost : x\r\n\r\n", &head), 400);
	assert_int_equal(verdict("GET /metrics HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", &head), 400);
	assert_int_equal(verdict("GET /metrics HTTP/1.1\r\nA: b\x01\r\n\r\n", &head), 400);
	const char nul[] = "GET /metrics HTTP/1.1\r\nA: \0\r\n\r\n";
	assert_int_equal(metrics_request_parse(nul, sizeof(nul) - 1, &head), 400);

	/* Too long without the blank line. */
	static char big[METRICS_REQUEST_MAX];
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /metrics HTTP/1.1\r\nX: ", 26);
	assert_int_equal(metrics_request_parse(big, sizeof(big), &head), 431);
	assert_int_equal(metrics_request_parse(big, sizeof(big) - 1, &head), 0);
}

static void test_prom_text(void **state)
{
	json_t *stats = json_pack(
	    "{s:[{s:s,s:i,s:i,s:i,s:i,s:i,s:i}], s:[{s:s,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i}],"
	    "s:{s:{s:i,s:i,s:i}}, s:{s:i,s:i}}",
	    "groups", "id", "we\"b\\\n", "rx_bytes", 10, "rx_packets", 1, "tx_bytes", 20,
	    "tx_packets", 2, "spoofed_packets", 3, "spoofed_bytes", 300, "vnets", "name", "prod",
	    "groups", 1, "rx_bytes", 10, "rx_packets", 1, "tx_bytes", 20, "tx_packets", 2,
	    "spoofed_packets", 3, "spoofed_bytes", 300, "isolation_dropped_packets", 4,
	    "isolation_dropped_bytes", 400, "operations", "attach", "count", 7, "p50_us", 1500,
	    "p99_us", 20000, "nftables", "restores", 2, "restored_at", 1700000000);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(stats);
	assert_non_null(f);
	assert_int_equal(prom_text_netd_stats(stats, f), 0);
	fclose(f);
	assert_non_null(strstr(text,
			       "# HELP podwire_group_receive_bytes_total Bytes the group was "
			       "sent.\n# TYPE podwire_group_receive_bytes_total counter\n"
			       "podwire_group_receive_bytes_total{group=\"we\\\"b\\\\\\n\"} 10\n"));
	assert_non_null(
	    strstr(text, "podwire_group_spoofed_packets_total{group=\"we\\\"b\\\\\\n\"} 3\n"));
	assert_non_null(
	    strstr(text, "podwire_vnet_isolation_dropped_bytes_total{vnet=\"prod\"} 400\n"));
	assert_non_null(strstr(
	    text,
	    "podwire_operation_duration_seconds{operation=\"attach\",quantile=\"0.5\"} 0.001500\n"
	    "podwire_operation_duration_seconds{operation=\"attach\",quantile=\"0.99\"} "
	    "0.020000\n"
	    "podwire_operation_duration_seconds_count{operation=\"attach\"} 7\n"));
	assert_non_null(strstr(text, "\npodwire_nftables_restores_total 2\n"));
	assert_int_equal(text[len - 1], '\n');
	free(text);
	json_decref(stats);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_addresses),
	    cmocka_unit_test(test_requests),
	    cmocka_unit_test(test_prom_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
