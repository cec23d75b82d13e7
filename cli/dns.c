/* `podwire dns`: admin DNS records and shared zones (netd's dns.record.*
 * and dns.zone.* methods; podwire-dnsd serves them). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "rpc-client.h"
#include "rpc-server.h"
#include "xalloc.h"

#define CMD "dns"

static void usage_family(FILE *out)
{
	fprintf(out, "Usage: podwire dns record|zone COMMAND [OPTIONS]\n"
		     "\n"
		     "DNS names of your own, served by podwire-dnsd to the groups of a VNet:\n"
		     "records of one VNet (under its domain, e.g. db.prod.internal), and shared\n"
		     "zones (e.g. corp.example) linked to several VNets, like private DNS zones.\n"
		     "A group sees the records of its VNets and of the zones linked to them only.\n"
		     "\n"
		     "Commands:\n"
		     "  record add VNET|--zone ZONE NAME TYPE VALUE [--ttl N]   add a record\n"
		     "  record add VNET|--zone ZONE --file FILE [--ttl N]       add many at once\n"
		     "  record rm VNET|--zone ZONE NAME TYPE [VALUE]            remove records\n"
		     "  record ls [VNET|--zone ZONE] [--json]                   list records\n"
		     "  zone create ZONE [--vnet VNET]...                       create a zone\n"
		     "  zone rm ZONE                                            delete a zone\n"
		     "  zone ls [--json]                                        list zones\n"
		     "  zone link ZONE VNET                                     let a VNet see it\n"
		     "  zone unlink ZONE VNET                                   hide it again\n"
		     "\n"
		     "'podwire dns record --help' and 'podwire dns zone --help' say more.\n");
}

static void usage_record(FILE *out)
{
	fprintf(
	    out,
	    "Usage: podwire dns record add VNET|--zone ZONE NAME TYPE VALUE [--ttl N] [--json]\n"
	    "       podwire dns record add VNET|--zone ZONE --file FILE [--ttl N] [--json]\n"
	    "       podwire dns record rm VNET|--zone ZONE NAME TYPE [VALUE]\n"
	    "       podwire dns record ls [VNET|--zone ZONE] [--json]\n"
	    "\n"
	    "A record belongs to a VNet (its NAME is relative to the VNet's domain) or to\n"
	    "a zone (relative to the zone). NAME '@' is the domain itself; a NAME ending in\n"
	    "'.' is absolute and must lie inside the domain. For PTR records of a VNet,\n"
	    "NAME may be an address of one of its subnets (10.1.0.9).\n"
	    "\n"
	    "Types and values:\n"
	    "  A      an IPv4 address             AAAA   an IPv6 address\n"
	    "  CNAME  a target name (absolute)    PTR    a target name (absolute)\n"
	    "  MX     'PREFERENCE HOST'           SRV    'PRIORITY WEIGHT PORT TARGET'\n"
	    "  TXT    the text (up to 4000 bytes)\n"
	    "\n"
	    "Options:\n"
	    "  --zone ZONE   the record belongs to this zone instead of a VNet\n"
	    "  --ttl N       time to live in seconds, 0..86400 (default 300)\n"
	    "  --file FILE   add every record in FILE ('-': standard input) in one call\n"
	    "  --json        print the result as JSON\n"
	    "  -h, --help    show this help\n"
	    "\n"
	    "Adding a record that exists succeeds (a different --ttl updates it). Bad\n"
	    "values are refused: a malformed address, a CNAME loop or a CNAME next to\n"
	    "other records, a name over 253 bytes or a label over 63. 'rm' without VALUE\n"
	    "removes every record of that name and type; removing nothing succeeds.\n"
	    "\n"
	    "--file: one record per line, as in a zone file: NAME [TTL] TYPE VALUE, where\n"
	    "VALUE is the rest of the line (a TXT value may be in double quotes); blank\n"
	    "lines and lines starting with '#' or ';' are skipped; a line without TTL\n"
	    "takes --ttl (default 300). The records are checked together, then added in\n"
	    "one step: one bad line fails the call, naming the line, and adds nothing. A\n"
	    "file whose records take over 1 MiB as JSON (some 20,000 short records) is\n"
	    "sent in several such calls, all checked by netd before any is added.\n");
}

static void usage_zone(FILE *out)
{
	fprintf(out, "Usage: podwire dns zone create ZONE [--vnet VNET]... [--json]\n"
		     "       podwire dns zone rm ZONE\n"
		     "       podwire dns zone ls [--json]\n"
		     "       podwire dns zone link ZONE VNET\n"
		     "       podwire dns zone unlink ZONE VNET\n"
		     "\n"
		     "A zone is a DNS domain of your own (corp.example) whose records are seen by\n"
		     "the groups of the VNets linked to it, and by no one else: a group on an\n"
		     "unlinked VNet gets NXDOMAIN for its names (they are never forwarded).\n"
		     "Deleting a zone deletes its records. Creating a zone that exists, linking a\n"
		     "linked VNet and deleting a missing zone all succeed.\n"
		     "\n"
		     "Options:\n"
		     "  --vnet VNET   link the new zone to VNET (repeatable)\n"
		     "  --json        print the result as JSON\n"
		     "  -h, --help    show this help\n");
}

static void print_record_table(json_t *records)
{
	struct table *t = table_new(6, "SCOPE", "NAME", "TYPE", "TTL", "VALUE", "KIND");
	size_t i;
	json_t *r;
	json_array_foreach(records, i, r)
	{
		char ttl[16];
		json_t *vnet = json_object_get(r, "vnet");
		snprintf(ttl, sizeof(ttl), "%" JSON_INTEGER_FORMAT,
			 json_integer_value(json_object_get(r, "ttl")));
		table_add_row(t, json_string_value(vnet ? vnet : json_object_get(r, "zone")),
			      json_string_value(json_object_get(r, "name")),
			      json_string_value(json_object_get(r, "type")), ttl,
			      json_string_value(json_object_get(r, "value")),
			      vnet ? "vnet" : "zone");
	}
	table_print(t, stdout);
	table_free(t);
}

/* Parses the options shared by the record verbs; positional arguments stay
 * in argv[optind..]. Returns 0, -1 after --help, or an exit code. */
static int record_options(int argc, char **argv, const char *cmd, const char **ret_zone,
			  long *ret_ttl, bool *ret_json, bool allow_ttl, const char **ret_file)
{
	static const struct option options[] = {
	    {"zone", required_argument, NULL, 'z'}, {"file", required_argument, NULL, 'f'},
	    {"ttl", required_argument, NULL, 't'},  {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},	    {0},
	};
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case 'z':
			*ret_zone = optarg;
			break;
		case 't': {
			char *end;
			errno = 0;
			long ttl = strtol(optarg, &end, 10);
			if (!allow_ttl)
				return cli_usage_error(cmd, "--ttl is not an option here");
			if (errno || *end || end == optarg || ttl < 0 || ttl > 86400)
				return cli_usage_error(cmd, "invalid TTL '%s' (0..86400)", optarg);
			*ret_ttl = ttl;
			break;
		}
		case 'f':
			if (!ret_file)
				return cli_usage_error(cmd, "--file is not an option here");
			*ret_file = optarg;
			break;
		case 'j':
			if (!ret_json)
				return cli_usage_error(cmd, "--json is not an option here");
			*ret_json = true;
			break;
		case 'h':
			usage_record(stdout);
			return -1;
		default:
			return cli_usage_error(cmd, "invalid option or missing value: '%s'",
					       argv[optind - 1]);
		}
	}
	return 0;
}

/* Sets "vnet" or "zone" in params from --zone or the first positional. */
static int scope_param(json_t *params, const char *zone, int argc, char **argv)
{
	if (zone) {
		json_object_set_new(params, "zone", json_string(zone));
		return 0;
	}
	if (optind >= argc)
		return -1;
	json_object_set_new(params, "vnet", json_string(argv[optind++]));
	return 0;
}

/* --- record add --file --- */

/* A request line may be RPC_LINE_MAX (1 MiB): the records of one call
 * take at most this much of it, the rest is room for the envelope. */
#define RECORD_FILE_CALL_BYTES (RPC_LINE_MAX - 4096)

struct record_file {
	json_t *records; /* {"name","type","value"[,"ttl"]} objects */
	size_t *lines;	 /* the line of each */
	size_t *bytes;	 /* its size in a request (about) */
};

static char *trim(char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	size_t len = strlen(p);
	while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t' || p[len - 1] == '\r' ||
			   p[len - 1] == '\n'))
		p[--len] = 0;
	return p;
}

static char *next_field(char **p)
{
	char *start = *p;
	while (**p && **p != ' ' && **p != '\t')
		(*p)++;
	if (**p)
		*(*p)++ = 0;
	while (**p == ' ' || **p == '\t')
		(*p)++;
	return start;
}

/* Reads FILE into rf; a line that cannot be a record is an error naming
 * it (netd checks the values). */
static int record_file_read(const char *path, struct record_file *rf)
{
	FILE *f = streq(path, "-") ? stdin : fopen(path, "re");
	if (!f)
		return cli_fail("dns record add: cannot open %s: %s", path, strerror(errno));
	_cleanup_free_ char *buf = NULL;
	size_t cap = 0, line_no = 0, count = 0, alloc = 0;
	int r = 0;
	rf->records = json_array();
	while (getline(&buf, &cap, f) >= 0) {
		line_no++;
		char *p = trim(buf);
		if (!*p || *p == '#' || *p == ';')
			continue;
		char *name = next_field(&p);
		char *ttl_text = NULL;
		if (*p >= '0' && *p <= '9')
			ttl_text = next_field(&p);
		char *type = next_field(&p);
		char *value = p;
		size_t vlen = strlen(value);
		if (vlen >= 2 && value[0] == '"' && value[vlen - 1] == '"') {
			value[vlen - 1] = 0;
			value++;
		}
		if (!*type || !*value) {
			r = cli_fail("dns record add: %s:%zu: expected NAME [TTL] TYPE VALUE", path,
				     line_no);
			break;
		}
		json_t *rec =
		    json_pack("{s:s, s:s, s:s}", "name", name, "type", type, "value", value);
		if (!rec) {
			r = cli_fail("dns record add: %s:%zu: not valid UTF-8", path, line_no);
			break;
		}
		if (ttl_text) {
			char *end;
			errno = 0;
			long ttl = strtol(ttl_text, &end, 10);
			if (errno || *end || ttl < 0 || ttl > 86400) {
				json_decref(rec);
				r = cli_fail("dns record add: %s:%zu: invalid TTL '%s' (0..86400)",
					     path, line_no, ttl_text);
				break;
			}
			json_object_set_new(rec, "ttl", json_integer(ttl));
		}
		if (count == alloc) {
			alloc = alloc ? alloc * 2 : 256;
			rf->lines = xrealloc(rf->lines, alloc * sizeof(size_t));
			rf->bytes = xrealloc(rf->bytes, alloc * sizeof(size_t));
		}
		rf->lines[count] = line_no;
		/* its exact size in the request, and a comma */
		rf->bytes[count] = json_dumpb(rec, NULL, 0, JSON_COMPACT) + 1;
		count++;
		json_array_append_new(rf->records, rec);
	}
	if (r == 0 && ferror(f))
		r = cli_fail("dns record add: cannot read %s", path);
	if (r == 0 && count == 0)
		r = cli_fail("dns record add: %s has no records", path);
	if (f != stdin)
		fclose(f);
	return r;
}

/* One call with records [from, to); on failure the message names the
 * file's line of the record netd refused. */
static int record_file_call(struct cli_ctx *ctx, struct rpc_client *client, json_t *base,
			    const struct record_file *rf, const char *path, size_t from, size_t to,
			    json_t **ret_result)
{
	struct pw_error err = {};
	json_auto_t *params = json_deep_copy(base);
	json_t *list = json_array();
	for (size_t i = from; i < to; i++)
		json_array_append(list, json_array_get(rf->records, i));
	json_object_set_new(params, "records", list);
	int r = rpc_client_call(client, "dns.record.add", params, ret_result, &err);
	if (r >= 0)
		return 0;
	const char *msg = pw_error_message(&err);
	size_t index;
	if (sscanf(msg, "record %zu", &index) == 1 && index >= 1 && from + index - 1 < to)
		return cli_fail("dns record add: %s:%zu: %s", path, rf->lines[from + index - 1],
				msg);
	return cli_fail("dns record add: %s", msg);
}

static int record_add_file(struct cli_ctx *ctx, const char *path, json_t *base, bool as_json)
{
	struct record_file rf = {0};
	_cleanup_rpc_client_ struct rpc_client *client = NULL;
	struct pw_error err = {};
	char sock[4096];
	int r = record_file_read(path, &rf);
	size_t count = json_array_size(rf.records);
	json_int_t added = 0, updated = 0, unchanged = 0;
	size_t calls = 0;
	_cleanup_free_ size_t *bounds = NULL;
	if (r != 0)
		goto out;
	cli_socket_path(ctx, "netd", sock, sizeof(sock));
	if (rpc_client_connect(sock, 600000, &client, &err) < 0) {
		r = cli_fail("dns record add: %s", pw_error_message(&err));
		goto out;
	}
	/* Split by size; a file that needs more than one call is first
	 * checked whole (dry_run) so a bad line still adds nothing. */
	bounds = xcalloc(count + 2, sizeof(size_t));
	size_t bound_count = 0, used = 0;
	bounds[bound_count++] = 0;
	for (size_t i = 0; i < count; i++) {
		if (used > 0 && used + rf.bytes[i] > RECORD_FILE_CALL_BYTES) {
			bounds[bound_count++] = i;
			used = 0;
		}
		used += rf.bytes[i];
	}
	bounds[bound_count] = count;
	if (bound_count > 1) {
		json_auto_t *dry = json_deep_copy(base);
		json_object_set_new(dry, "dry_run", json_true());
		for (size_t c = 0; c < bound_count; c++) {
			json_auto_t *res = NULL;
			r = record_file_call(ctx, client, dry, &rf, path, bounds[c], bounds[c + 1],
					     &res);
			if (r != 0)
				goto out;
		}
	}
	for (size_t c = 0; c < bound_count; c++) {
		json_auto_t *res = NULL;
		r = record_file_call(ctx, client, base, &rf, path, bounds[c], bounds[c + 1], &res);
		if (r != 0) {
			if (c > 0)
				fprintf(stderr,
					"podwire: dns record add: the records before line %zu were "
					"added\n",
					rf.lines[bounds[c]]);
			goto out;
		}
		added += json_integer_value(json_object_get(res, "added"));
		updated += json_integer_value(json_object_get(res, "updated"));
		unchanged += json_integer_value(json_object_get(res, "unchanged"));
		calls++;
	}
	if (as_json) {
		json_auto_t *o = json_pack("{s:I, s:I, s:I}", "added", added, "updated", updated,
					   "unchanged", unchanged);
		cli_print_json(o);
	} else {
		printf("added %" JSON_INTEGER_FORMAT ", updated %" JSON_INTEGER_FORMAT
		       ", unchanged %" JSON_INTEGER_FORMAT " (%zu records, %zu call%s)\n",
		       added, updated, unchanged, count, calls, calls == 1 ? "" : "s");
	}
	r = CLI_EXIT_OK;
out:
	json_decref(rf.records);
	free(rf.lines);
	free(rf.bytes);
	return r;
}

static int record_add(struct cli_ctx *ctx, int argc, char **argv)
{
	const char *zone = NULL, *file = NULL;
	long ttl = -1;
	bool as_json = false;
	json_auto_t *params = json_object(), *result = NULL;
	int r = record_options(argc, argv, CMD " record add", &zone, &ttl, &as_json, true, &file);
	if (r != 0)
		return r < 0 ? CLI_EXIT_OK : r;
	if (file) {
		if (scope_param(params, zone, argc, argv) < 0 || argc - optind != 0)
			return cli_usage_error(CMD " record add",
					       "expected VNET|--zone ZONE with --file FILE");
		if (ttl >= 0)
			json_object_set_new(params, "ttl", json_integer(ttl));
		return record_add_file(ctx, file, params, as_json);
	}
	if (scope_param(params, zone, argc, argv) < 0 || argc - optind != 3)
		return cli_usage_error(CMD " record add",
				       "expected VNET|--zone ZONE, NAME, TYPE and VALUE");
	json_object_set_new(params, "name", json_string(argv[optind]));
	json_object_set_new(params, "type", json_string(argv[optind + 1]));
	json_object_set_new(params, "value", json_string(argv[optind + 2]));
	if (ttl >= 0)
		json_object_set_new(params, "ttl", json_integer(ttl));
	if (cli_call(ctx, "netd", "dns record add", "dns.record.add", params, &result) < 0)
		return CLI_EXIT_FAILURE;
	if (as_json) {
		cli_print_json(result);
	} else {
		json_t *one = json_array();
		json_array_append(one, result);
		print_record_table(one);
		json_decref(one);
	}
	return CLI_EXIT_OK;
}

static int record_rm(struct cli_ctx *ctx, int argc, char **argv)
{
	const char *zone = NULL;
	long ttl = -1;
	json_auto_t *params = json_object(), *result = NULL;
	int r = record_options(argc, argv, CMD " record rm", &zone, &ttl, NULL, false, NULL);
	if (r != 0)
		return r < 0 ? CLI_EXIT_OK : r;
	if (scope_param(params, zone, argc, argv) < 0 || argc - optind < 2 || argc - optind > 3)
		return cli_usage_error(
		    CMD " record rm", "expected VNET|--zone ZONE, NAME, TYPE and optionally VALUE");
	json_object_set_new(params, "name", json_string(argv[optind]));
	json_object_set_new(params, "type", json_string(argv[optind + 1]));
	if (argc - optind == 3)
		json_object_set_new(params, "value", json_string(argv[optind + 2]));
	if (cli_call(ctx, "netd", "dns record rm", "dns.record.remove", params, &result) < 0)
		return CLI_EXIT_FAILURE;
	return CLI_EXIT_OK;
}

static int record_ls(struct cli_ctx *ctx, int argc, char **argv)
{
	const char *zone = NULL;
	long ttl = -1;
	bool as_json = false;
	json_auto_t *params = json_object(), *result = NULL;
	int r = record_options(argc, argv, CMD " record ls", &zone, &ttl, &as_json, false, NULL);
	if (r != 0)
		return r < 0 ? CLI_EXIT_OK : r;
	if (argc - optind > (zone ? 0 : 1))
		return cli_usage_error(CMD " record ls", "unexpected argument '%s'",
				       argv[argc - 1]);
	if (zone || optind < argc)
		scope_param(params, zone, argc, argv);
	if (cli_call(ctx, "netd", "dns record ls", "dns.record.list", params, &result) < 0)
		return CLI_EXIT_FAILURE;
	if (as_json)
		cli_print_json(json_object_get(result, "records"));
	else
		print_record_table(json_object_get(result, "records"));
	return CLI_EXIT_OK;
}

static int cli_dns_record(struct cli_ctx *ctx, int argc, char **argv)
{
	if (argc < 2) {
		usage_record(stderr);
		return CLI_EXIT_USAGE;
	}
	if (streq(argv[1], "--help") || streq(argv[1], "-h") || streq(argv[1], "help")) {
		usage_record(stdout);
		return CLI_EXIT_OK;
	}
	if (streq(argv[1], "add"))
		return record_add(ctx, argc - 1, argv + 1);
	if (streq(argv[1], "rm") || streq(argv[1], "remove"))
		return record_rm(ctx, argc - 1, argv + 1);
	if (streq(argv[1], "ls") || streq(argv[1], "list"))
		return record_ls(ctx, argc - 1, argv + 1);
	return cli_usage_error(CMD " record", "unknown command 'dns record %s'", argv[1]);
}

/* --- zones --- */

static int zone_options(int argc, char **argv, const char *cmd, json_t *vnets, bool *ret_json)
{
	static const struct option options[] = {
	    {"vnet", required_argument, NULL, 'v'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case 'v':
			if (!vnets)
				return cli_usage_error(cmd, "--vnet is not an option here");
			json_array_append_new(vnets, json_string(optarg));
			break;
		case 'j':
			if (!ret_json)
				return cli_usage_error(cmd, "--json is not an option here");
			*ret_json = true;
			break;
		case 'h':
			usage_zone(stdout);
			return -1;
		default:
			return cli_usage_error(cmd, "invalid option or missing value: '%s'",
					       argv[optind - 1]);
		}
	}
	return 0;
}

static void print_zones(json_t *zones)
{
	struct table *t = table_new(2, "ZONE", "VNETS");
	size_t i, j;
	json_t *z, *v;
	json_array_foreach(zones, i, z)
	{
		size_t len = 1;
		json_array_foreach(json_object_get(z, "vnets"), j, v) len +=
		    strlen(json_string_value(v)) + 1;
		_cleanup_free_ char *list = xcalloc(1, len);
		json_array_foreach(json_object_get(z, "vnets"), j, v)
		{
			if (j)
				strcat(list, ",");
			strcat(list, json_string_value(v));
		}
		table_add_row(t, json_string_value(json_object_get(z, "name")),
			      list[0] ? list : NULL);
	}
	table_print(t, stdout);
	table_free(t);
}

static int zone_create(struct cli_ctx *ctx, int argc, char **argv)
{
	json_t *vnets = json_array();
	json_auto_t *params = json_pack("{s:o}", "vnets", vnets), *result = NULL;
	bool as_json = false;
	int r = zone_options(argc, argv, CMD " zone create", vnets, &as_json);
	if (r != 0)
		return r < 0 ? CLI_EXIT_OK : r;
	if (argc - optind != 1)
		return cli_usage_error(CMD " zone create", "expected exactly one zone name");
	json_object_set_new(params, "name", json_string(argv[optind]));
	if (cli_call(ctx, "netd", "dns zone create", "dns.zone.create", params, &result) < 0)
		return CLI_EXIT_FAILURE;
	if (as_json) {
		cli_print_json(result);
	} else {
		json_t *one = json_array();
		json_array_append(one, result);
		print_zones(one);
		json_decref(one);
	}
	return CLI_EXIT_OK;
}

static int zone_rm(struct cli_ctx *ctx, int argc, char **argv)
{
	json_auto_t *params = NULL, *result = NULL;
	int r = zone_options(argc, argv, CMD " zone rm", NULL, NULL);
	if (r != 0)
		return r < 0 ? CLI_EXIT_OK : r;
	if (argc - optind != 1)
		return cli_usage_error(CMD " zone rm", "expected exactly one zone name");
	params = json_pack("{s:s}", "name", argv[optind]);
	if (cli_call(ctx, "netd", "dns zone rm", "dns.zone.delete", params, &result) < 0)
		return CLI_EXIT_FAILURE;
	return CLI_EXIT_OK;
}

static int zone_ls(struct cli_ctx *ctx, int argc, char **argv)
{
	json_auto_t *result = NULL;
	bool as_json = false;
	int r = zone_options(argc, argv, CMD " zone ls", NULL, &as_json);
	if (r != 0)
		return r < 0 ? CLI_EXIT_OK : r;
	if (argc - optind != 0)
		return cli_usage_error(CMD " zone ls", "unexpected argument '%s'", argv[optind]);
	if (cli_call(ctx, "netd", "dns zone ls", "dns.zone.list", NULL, &result) < 0)
		return CLI_EXIT_FAILURE;
	if (as_json)
		cli_print_json(json_object_get(result, "zones"));
	else
		print_zones(json_object_get(result, "zones"));
	return CLI_EXIT_OK;
}

static int zone_link(struct cli_ctx *ctx, int argc, char **argv, bool link)
{
	const char *cmd = link ? CMD " zone link" : CMD " zone unlink";
	json_auto_t *params = NULL, *result = NULL;
	int r = zone_options(argc, argv, cmd, NULL, NULL);
	if (r != 0)
		return r < 0 ? CLI_EXIT_OK : r;
	if (argc - optind != 2)
		return cli_usage_error(cmd, "expected ZONE and VNET");
	params = json_pack("{s:s, s:s}", "name", argv[optind], "vnet", argv[optind + 1]);
	if (cli_call(ctx, "netd", link ? "dns zone link" : "dns zone unlink",
		     link ? "dns.zone.link" : "dns.zone.unlink", params, &result) < 0)
		return CLI_EXIT_FAILURE;
	return CLI_EXIT_OK;
}

static int cli_dns_zone(struct cli_ctx *ctx, int argc, char **argv)
{
	if (argc < 2) {
		usage_zone(stderr);
		return CLI_EXIT_USAGE;
	}
	if (streq(argv[1], "--help") || streq(argv[1], "-h") || streq(argv[1], "help")) {
		usage_zone(stdout);
		return CLI_EXIT_OK;
	}
	if (streq(argv[1], "create"))
		return zone_create(ctx, argc - 1, argv + 1);
	if (streq(argv[1], "rm") || streq(argv[1], "delete"))
		return zone_rm(ctx, argc - 1, argv + 1);
	if (streq(argv[1], "ls") || streq(argv[1], "list"))
		return zone_ls(ctx, argc - 1, argv + 1);
	if (streq(argv[1], "link"))
		return zone_link(ctx, argc - 1, argv + 1, true);
	if (streq(argv[1], "unlink"))
		return zone_link(ctx, argc - 1, argv + 1, false);
	return cli_usage_error(CMD " zone", "unknown command 'dns zone %s'", argv[1]);
}

int cli_dns_main(struct cli_ctx *ctx, int argc, char **argv)
{
	if (argc < 2) {
		usage_family(stderr);
		return CLI_EXIT_USAGE;
	}
	if (streq(argv[1], "--help") || streq(argv[1], "-h") || streq(argv[1], "help")) {
		usage_family(stdout);
		return CLI_EXIT_OK;
	}
	if (streq(argv[1], "record") || streq(argv[1], "records"))
		return cli_dns_record(ctx, argc - 1, argv + 1);
	if (streq(argv[1], "zone") || streq(argv[1], "zones"))
		return cli_dns_zone(ctx, argc - 1, argv + 1);
	return cli_usage_error(CMD, "unknown command 'dns %s'", argv[1]);
}
