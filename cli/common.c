/* Shared CLI plumbing: daemon calls with one-line errors, messages, JSON
 * output, and size parsing/formatting (see cli.h). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "cli.h"
#include "rpc-client.h"

/* Long enough for a netd attach under load, short enough that a hung
 * daemon does not hang scripts forever. */
#define CLI_CALL_TIMEOUT_MS 60000

const char *cli_socket_path(const struct cli_ctx *ctx, const char *daemon, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s.sock", ctx->run_dir, daemon);
	return buf;
}

int cli_call(const struct cli_ctx *ctx, const char *daemon, const char *what, const char *method,
	     json_t *params, json_t **ret_result)
{
	_cleanup_rpc_client_ struct rpc_client *client = NULL;
	struct pw_error err = {};
	char path[4096];
	int r;

	cli_socket_path(ctx, daemon, path, sizeof(path));
	r = rpc_client_connect(path, CLI_CALL_TIMEOUT_MS, &client, &err);
	if (r >= 0)
		r = rpc_client_call(client, method, params, ret_result, &err);
	if (r < 0) {
		if (what)
			fprintf(stderr, "podwire: %s: %s\n", what, pw_error_message(&err));
		else
			fprintf(stderr, "podwire: %s\n", pw_error_message(&err));
	}
	return r;
}

int cli_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("podwire: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CLI_EXIT_FAILURE;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fputs("podwire: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'podwire %s --help'.\n", cmd);
	return CLI_EXIT_USAGE;
}

void cli_print_json(json_t *value)
{
	json_dumpf(value, stdout, JSON_INDENT(2) | JSON_ENCODE_ANY);
	fputc('\n', stdout);
}

int cli_parse_size(const char *s, uint64_t *ret_bytes)
{
	static const char units[] = "KMGTPE";
	char *end;
	uint64_t value, mult = 1;

	if (strempty(s) || *s == '-')
		return -EINVAL;
	errno = 0;
	value = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	if (*end) {
		const char *u = strchr(units, *end >= 'a' ? *end - 'a' + 'A' : *end);
		if (!u || !*u)
			return -EINVAL;
		for (const char *p = units; p <= u; p++)
			mult *= 1024;
		end++;
		if (streq(end, "iB") || streq(end, "B") || streq(end, "ib") || streq(end, "b"))
			end += strlen(end);
		if (*end)
			return -EINVAL;
	}
	if (value > UINT64_MAX / mult)
		return -ERANGE;
	*ret_bytes = value * mult;
	return 0;
}

const char *cli_format_size(uint64_t bytes, char *buf, size_t size)
{
	static const char units[] = "KMGTPE";
	double v = (double)bytes;
	int i = -1;

	while (v >= 1024 && i < 5) {
		v /= 1024;
		i++;
	}
	if (i < 0)
		snprintf(buf, size, "%" PRIu64, bytes);
	else if (v < 10 && v != (double)(uint64_t)v)
		snprintf(buf, size, "%.1f%c", v, units[i]);
	else
		snprintf(buf, size, "%.0f%c", v, units[i]);
	return buf;
}
