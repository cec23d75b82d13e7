/* `podwire share`: file shares served by podwire-volumed (its share.* and
 * snapshot.* methods, docs/volumes.md): create, list, show, remove,
 * quota, trust policy, snapshots and restore. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cli.h"
#include "xalloc.h"

#define CMD "share"

static void usage_family(FILE *out)
{
	fprintf(out,
		"Usage: podwire share COMMAND [OPTIONS]\n"
		"\n"
		"File shares: named directories served by podwire-volumed as FUSE mounts at\n"
		"RUN_DIR/shares/NAME and bind-mounted into container groups, read-write or\n"
		"read-only. All groups of a share see one coherent file system with working\n"
		"locks; shares have quotas (bytes and files) and read-only snapshots,\n"
		"browsable at .snapshots/SNAP/ inside the share.\n"
		"\n"
		"Commands:\n"
		"  create NAME [OPTIONS]        define a share and mount it\n"
		"  ls [--json]                  list shares: usage, users, trust\n"
		"  show NAME [--json]           show one share\n"
		"  rm NAME [--force] [--purge]  delete a share\n"
		"  quota NAME [--quota SIZE] [--files N]\n"
		"                               change a share's quota\n"
		"  set NAME [--trust MODE] [--trust-keys KEYSET]\n"
		"                               change a share's content-trust policy\n"
		"  snapshot NAME [SNAP]         take a snapshot\n"
		"  snapshots NAME [--json]      list a share's snapshots\n"
		"  snapshot-rm NAME SNAP        delete a snapshot\n"
		"  restore NAME SNAP [--path P] restore a share (or one path) from a snapshot\n"
		"  use NAME GROUP [--read-only] record that a group uses a share\n"
		"  release NAME GROUP           record that it stopped\n"
		"\n"
		"'podwire share COMMAND --help' describes a command.\n");
}

static const char *const usages[] = {
    "create",
    "Usage: podwire share create NAME [OPTIONS]\n"
    "\n"
    "Defines the share NAME (letters, digits, '-', '_', '.'; at most 63, not\n"
    "starting with '.') and mounts it at RUN_DIR/shares/NAME. Creating a share that\n"
    "exists with the same settings succeeds and changes nothing.\n"
    "\n"
    "Options:\n"
    "  --quota SIZE      byte quota, e.g. 10G, 512M (default: none); a write past it\n"
    "                    fails with EDQUOT, df in a group shows it as the size\n"
    "  --files N         quota in files and directories (default: none)\n"
    "  --uid U, --gid G  every file shows this owner; chown is refused\n"
    "  --file-mode M     every file shows this octal mode (e.g. 0644); chmod is\n"
    "                    ignored\n"
    "  --dir-mode M      every directory shows this octal mode\n"
    "  --backing DIR     serve this existing directory (default: a new directory\n"
    "                    under volumed's state dir)\n"
    "  --trust MODE      content trust: off (default), audit or enforce; enforce\n"
    "                    mounts the share only into groups whose image is signed\n"
    "                    by a key of KEYSET, audit mounts it anyway and counts\n"
    "                    the denial (docs/trust.md)\n"
    "  --trust-keys KEYSET  the keyset (podwire trust keyset add) that signs the\n"
    "                    admitted images; needed by audit and enforce\n"
    "  --json            print the created share as JSON\n"
    "  -h, --help        show this help\n"
    "\n"
    "Permissions are checked against what files show, as on an SMB mount with\n"
    "uid=/gid=/file_mode=/dir_mode=. New files get the creating process's owner.\n",
    "ls",
    "Usage: podwire share ls [--json]\n"
    "\n"
    "Lists the shares: name, usage against quota (bytes and files), number of\n"
    "groups using it, snapshots, trust policy (MODE:KEYSET, '-' when off) and the\n"
    "mount point. --json prints volumed's objects (docs/volumes.md).\n",
    "show",
    "Usage: podwire share show NAME [--json]\n"
    "\n"
    "Shows the share NAME: settings, usage against quota, the groups using it,\n"
    "operation and byte counters. --json prints volumed's object.\n",
    "rm",
    "Usage: podwire share rm NAME [--force] [--purge]\n"
    "\n"
    "Deletes the share NAME and unmounts it. A share that groups use is refused\n"
    "unless --force (their mounts then fail with ENOTCONN). Its data and snapshots\n"
    "are kept unless --purge, which removes the backing directory and every\n"
    "snapshot. Removing a share that does not exist succeeds.\n",
    "quota",
    "Usage: podwire share quota NAME [--quota SIZE] [--files N]\n"
    "\n"
    "Changes the quota of the share NAME; 0 removes a limit. A limit below the\n"
    "current usage is allowed: then nothing may grow until enough is removed.\n",
    "set",
    "Usage: podwire share set NAME [--trust MODE] [--trust-keys KEYSET] [--json]\n"
    "\n"
    "Changes the content-trust policy of the share NAME (docs/trust.md):\n"
    "  --trust MODE      off, audit or enforce. enforce: the runtime hook mounts\n"
    "                    the share only into groups whose image is signed by a\n"
    "                    key of the keyset; audit: it mounts it anyway and counts\n"
    "                    the denial (podwire stats). off drops the keyset.\n"
    "  --trust-keys KEYSET  the keyset (podwire trust keyset add). Without it the\n"
    "                    current keyset is kept; audit and enforce need one.\n"
    "Groups using the share already keep their mounts. 'podwire share use' passes\n"
    "no image, so under enforce it is refused.\n",
    "snapshot",
    "Usage: podwire share snapshot NAME [SNAP] [--json]\n"
    "\n"
    "Takes a read-only, point-in-time snapshot of the share NAME, named SNAP\n"
    "(default: the UTC time, e.g. 20261128-074001). Writers wait while it is taken;\n"
    "files are reflinked where the backing file system can, copied otherwise.\n"
    "Groups see it at .snapshots/SNAP/ in the share.\n",
    "snapshots",
    "Usage: podwire share snapshots NAME [--json]\n"
    "\n"
    "Lists the snapshots of the share NAME with their time, files and bytes.\n",
    "snapshot-rm",
    "Usage: podwire share snapshot-rm NAME SNAP\n"
    "\n"
    "Deletes the snapshot SNAP of the share NAME. A missing snapshot is success.\n",
    "restore",
    "Usage: podwire share restore NAME SNAP [--path P]\n"
    "\n"
    "Makes the share NAME what it was in snapshot SNAP: changed files get their old\n"
    "content (in place, so open files see it), files the snapshot lacks are\n"
    "removed, missing ones come back. With --path, only P (a path relative to the\n"
    "share, e.g. dir/file.txt) is restored.\n",
    "use",
    "Usage: podwire share use NAME GROUP [--read-only]\n"
    "\n"
    "Records that the container group GROUP uses the share NAME (the runtime hook\n"
    "does this when it bind-mounts the share). A share in use cannot be removed\n"
    "without --force.\n",
    "release",
    "Usage: podwire share release NAME GROUP\n"
    "\n"
    "Records that GROUP no longer uses the share NAME.\n",
};

static void usage_verb(const char *verb, FILE *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(usages); i += 2)
		if (streq(usages[i], verb))
			fputs(usages[i + 1], out);
}

enum {
	OPT_QUOTA = 256,
	OPT_FILES,
	OPT_UID,
	OPT_GID,
	OPT_FILE_MODE,
	OPT_DIR_MODE,
	OPT_BACKING,
	OPT_JSON,
	OPT_FORCE,
	OPT_PURGE,
	OPT_PATH,
	OPT_READ_ONLY,
	OPT_TRUST,
	OPT_TRUST_KEYS,
};

struct share_args {
	const char *pos[3];
	int pos_count;
	bool json, force, purge, read_only;
	const char *quota, *files, *uid, *gid, *file_mode, *dir_mode, *backing, *path;
	const char *trust, *trust_keys;
};

/* Parses argv of one verb. allowed: the OPT_* it accepts (0-terminated). */
static int parse_args(const char *verb, int argc, char **argv, const int *allowed, int min_pos,
		      int max_pos, struct share_args *a, bool *ret_help)
{
	static const struct option options[] = {
	    {"quota", required_argument, NULL, OPT_QUOTA},
	    {"files", required_argument, NULL, OPT_FILES},
	    {"uid", required_argument, NULL, OPT_UID},
	    {"gid", required_argument, NULL, OPT_GID},
	    {"file-mode", required_argument, NULL, OPT_FILE_MODE},
	    {"dir-mode", required_argument, NULL, OPT_DIR_MODE},
	    {"backing", required_argument, NULL, OPT_BACKING},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"force", no_argument, NULL, OPT_FORCE},
	    {"purge", no_argument, NULL, OPT_PURGE},
	    {"path", required_argument, NULL, OPT_PATH},
	    {"read-only", no_argument, NULL, OPT_READ_ONLY},
	    {"trust", required_argument, NULL, OPT_TRUST},
	    {"trust-keys", required_argument, NULL, OPT_TRUST_KEYS},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	int c;

	*a = (struct share_args){};
	*ret_help = false;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		bool ok = false;

		if (c == 'h') {
			usage_verb(verb, stdout);
			*ret_help = true;
			return CLI_EXIT_OK;
		}
		if (c == ':')
			return cli_usage_error(CMD, "'share %s': option '%s' needs a value", verb,
					       argv[optind - 1]);
		for (const int *p = allowed; *p; p++)
			ok |= *p == c;
		if (c == '?' || !ok)
			return cli_usage_error(CMD, "'share %s' has no option '%s'", verb,
					       argv[optind - 1]);
		switch (c) {
		case OPT_QUOTA:
			a->quota = optarg;
			break;
		case OPT_FILES:
			a->files = optarg;
			break;
		case OPT_UID:
			a->uid = optarg;
			break;
		case OPT_GID:
			a->gid = optarg;
			break;
		case OPT_FILE_MODE:
			a->file_mode = optarg;
			break;
		case OPT_DIR_MODE:
			a->dir_mode = optarg;
			break;
		case OPT_BACKING:
			a->backing = optarg;
			break;
		case OPT_JSON:
			a->json = true;
			break;
		case OPT_FORCE:
			a->force = true;
			break;
		case OPT_PURGE:
			a->purge = true;
			break;
		case OPT_PATH:
			a->path = optarg;
			break;
		case OPT_READ_ONLY:
			a->read_only = true;
			break;
		case OPT_TRUST:
			a->trust = optarg;
			break;
		case OPT_TRUST_KEYS:
			a->trust_keys = optarg;
			break;
		}
	}
	for (; optind < argc; optind++) {
		if (a->pos_count >= max_pos)
			return cli_usage_error(CMD, "unexpected argument '%s'", argv[optind]);
		a->pos[a->pos_count++] = argv[optind];
	}
	if (a->pos_count < min_pos)
		return cli_usage_error(CMD, "'share %s' needs %s", verb,
				       min_pos == 1 ? "a share name" : "a share name and more");
	return -1; /* parsed: go on */
}

static int parse_count(const char *what, const char *s, json_int_t *ret)
{
	char *end;
	unsigned long long v;

	if (strempty(s) || *s == '-')
		return cli_usage_error(CMD, "%s '%s' is not a number", what, s);
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > INT64_MAX)
		return cli_usage_error(CMD, "%s '%s' is not a number", what, s);
	*ret = (json_int_t)v;
	return -1;
}

static int parse_quota(const char *s, json_int_t *ret)
{
	uint64_t bytes;

	if (cli_parse_size(s, &bytes) < 0 || bytes > INT64_MAX)
		return cli_usage_error(CMD, "quota '%s' is not a size (e.g. 10G, 512M, 4096)", s);
	*ret = (json_int_t)bytes;
	return -1;
}

static const char *fmt_quota(json_t *obj, const char *used_key, const char *limit_key, bool bytes,
			     char *buf, size_t size)
{
	json_int_t used = json_integer_value(json_object_get(obj, used_key));
	json_int_t limit = json_integer_value(json_object_get(obj, limit_key));
	char a[32], b[32];

	if (bytes) {
		cli_format_size((uint64_t)used, a, sizeof(a));
		cli_format_size((uint64_t)limit, b, sizeof(b));
	} else {
		snprintf(a, sizeof(a), "%" JSON_INTEGER_FORMAT, used);
		snprintf(b, sizeof(b), "%" JSON_INTEGER_FORMAT, limit);
	}
	snprintf(buf, size, "%s/%s", a, limit ? b : "-");
	return buf;
}

/* "enforce:KEYSET", or "-" when off. */
static const char *fmt_trust(json_t *s, char *buf, size_t size)
{
	const char *mode = json_string_value(json_object_get(s, "trust"));
	const char *keys = json_string_value(json_object_get(s, "trust_keys"));

	if (!mode || streq(mode, "off"))
		return "-";
	snprintf(buf, size, "%s:%s", mode, keys ? keys : "?");
	return buf;
}

static void print_share(json_t *s)
{
	char buf[64];
	json_t *users = json_object_get(s, "users"), *u, *stats = json_object_get(s, "stats");
	size_t i;

	printf("share %s\n", json_string_value(json_object_get(s, "name")));
	printf("  mountpoint  %s (%s)\n", json_string_value(json_object_get(s, "mountpoint")),
	       json_is_true(json_object_get(s, "mounted")) ? "mounted" : "NOT mounted");
	printf("  backing     %s\n", json_string_value(json_object_get(s, "backing")));
	printf("  bytes       %s\n",
	       fmt_quota(s, "used_bytes", "quota_bytes", true, buf, sizeof(buf)));
	printf("  files       %s\n",
	       fmt_quota(s, "used_files", "quota_files", false, buf, sizeof(buf)));
	if (json_object_get(s, "uid") || json_object_get(s, "gid"))
		printf("  owner       %s:%s\n",
		       json_object_get(s, "uid")
			   ? (snprintf(buf, 32, "%" JSON_INTEGER_FORMAT,
				       json_integer_value(json_object_get(s, "uid"))),
			      buf)
			   : "-",
		       json_object_get(s, "gid")
			   ? (snprintf(buf + 32, 32, "%" JSON_INTEGER_FORMAT,
				       json_integer_value(json_object_get(s, "gid"))),
			      buf + 32)
			   : "-");
	if (json_object_get(s, "file_mode"))
		printf("  file mode   %s\n", json_string_value(json_object_get(s, "file_mode")));
	if (json_object_get(s, "dir_mode"))
		printf("  dir mode    %s\n", json_string_value(json_object_get(s, "dir_mode")));
	printf("  snapshots   %" JSON_INTEGER_FORMAT "\n",
	       json_integer_value(json_object_get(s, "snapshots")));
	if (json_object_get(s, "trust_keys"))
		printf("  trust       %s (keyset %s)\n",
		       json_string_value(json_object_get(s, "trust")),
		       json_string_value(json_object_get(s, "trust_keys")));
	else
		printf("  trust       off\n");
	if (stats) {
		char r[32], w[32];
		printf("  counters    %" JSON_INTEGER_FORMAT " ops, %s read, %s written\n",
		       json_integer_value(json_object_get(stats, "ops")),
		       cli_format_size(
			   (uint64_t)json_integer_value(json_object_get(stats, "bytes_read")), r,
			   sizeof(r)),
		       cli_format_size(
			   (uint64_t)json_integer_value(json_object_get(stats, "bytes_written")), w,
			   sizeof(w)));
	}
	printf("  users       %zu\n", json_array_size(users));
	json_array_foreach(users, i, u)
	    printf("    %s%s\n", json_string_value(json_object_get(u, "group")),
		   json_is_true(json_object_get(u, "read_only")) ? " (read-only)" : "");
}

static int call(struct cli_ctx *ctx, const char *what, const char *method, json_t *params,
		json_t **ret)
{
	json_t *result = NULL;
	int r = cli_call(ctx, "volumed", what, method, params, &result);

	json_decref(params);
	if (r < 0)
		return CLI_EXIT_FAILURE;
	if (ret)
		*ret = result;
	else
		json_decref(result);
	return CLI_EXIT_OK;
}

static int share_create(struct cli_ctx *ctx, int argc, char **argv)
{
	static const int allowed[] = {
	    OPT_QUOTA, OPT_FILES,      OPT_UID,	 OPT_GID, OPT_FILE_MODE, OPT_DIR_MODE, OPT_BACKING,
	    OPT_TRUST, OPT_TRUST_KEYS, OPT_JSON, 0};
	struct share_args a;
	json_auto_t *result = NULL;
	json_t *params;
	json_int_t n = 0;
	bool help;
	int r;

	r = parse_args("create", argc, argv, allowed, 1, 1, &a, &help);
	if (r >= 0)
		return r;
	params = json_pack("{s:s}", "name", a.pos[0]);
	if (a.quota) {
		if ((r = parse_quota(a.quota, &n)) >= 0)
			goto bad;
		json_object_set_new(params, "quota_bytes", json_integer(n));
	}
	if (a.files) {
		if ((r = parse_count("--files", a.files, &n)) >= 0)
			goto bad;
		json_object_set_new(params, "quota_files", json_integer(n));
	}
	if (a.uid) {
		if ((r = parse_count("--uid", a.uid, &n)) >= 0)
			goto bad;
		json_object_set_new(params, "uid", json_integer(n));
	}
	if (a.gid) {
		if ((r = parse_count("--gid", a.gid, &n)) >= 0)
			goto bad;
		json_object_set_new(params, "gid", json_integer(n));
	}
	if (a.file_mode)
		json_object_set_new(params, "file_mode", json_string(a.file_mode));
	if (a.dir_mode)
		json_object_set_new(params, "dir_mode", json_string(a.dir_mode));
	if (a.backing)
		json_object_set_new(params, "backing", json_string(a.backing));
	if (a.trust)
		json_object_set_new(params, "trust", json_string(a.trust));
	if (a.trust_keys)
		json_object_set_new(params, "trust_keys", json_string(a.trust_keys));
	r = call(ctx, NULL, "share.create", params, &result);
	if (r != CLI_EXIT_OK)
		return r;
	if (a.json)
		cli_print_json(result);
	else
		printf("share %s: mounted at %s\n", a.pos[0],
		       json_string_value(json_object_get(result, "mountpoint")));
	return CLI_EXIT_OK;
bad:
	json_decref(params);
	return r;
}

static int share_ls(struct cli_ctx *ctx, int argc, char **argv)
{
	static const int allowed[] = {OPT_JSON, 0};
	json_auto_t *result = NULL;
	struct share_args a;
	struct table *t;
	json_t *s;
	size_t i;
	bool help;
	int r;

	r = parse_args("ls", argc, argv, allowed, 0, 0, &a, &help);
	if (r >= 0)
		return r;
	r = call(ctx, NULL, "share.list", NULL, &result);
	if (r != CLI_EXIT_OK)
		return r;
	if (a.json) {
		cli_print_json(json_object_get(result, "shares"));
		return CLI_EXIT_OK;
	}
	t = table_new(7, "NAME", "BYTES", "FILES", "USERS", "SNAPSHOTS", "TRUST", "MOUNTPOINT");
	json_array_foreach(json_object_get(result, "shares"), i, s)
	{
		char bytes[64], files[64], users[16], snaps[16], trust[96];

		snprintf(users, sizeof(users), "%zu", json_array_size(json_object_get(s, "users")));
		snprintf(snaps, sizeof(snaps), "%" JSON_INTEGER_FORMAT,
			 json_integer_value(json_object_get(s, "snapshots")));
		table_add_row(
		    t, json_string_value(json_object_get(s, "name")),
		    fmt_quota(s, "used_bytes", "quota_bytes", true, bytes, sizeof(bytes)),
		    fmt_quota(s, "used_files", "quota_files", false, files, sizeof(files)), users,
		    snaps, fmt_trust(s, trust, sizeof(trust)),
		    json_is_true(json_object_get(s, "mounted"))
			? json_string_value(json_object_get(s, "mountpoint"))
			: "(not mounted)");
	}
	table_print(t, stdout);
	table_free(t);
	return CLI_EXIT_OK;
}

static int share_show(struct cli_ctx *ctx, int argc, char **argv)
{
	static const int allowed[] = {OPT_JSON, 0};
	json_auto_t *result = NULL;
	struct share_args a;
	bool help;
	int r;

	r = parse_args("show", argc, argv, allowed, 1, 1, &a, &help);
	if (r >= 0)
		return r;
	r = call(ctx, NULL, "share.show", json_pack("{s:s}", "name", a.pos[0]), &result);
	if (r != CLI_EXIT_OK)
		return r;
	if (a.json)
		cli_print_json(result);
	else
		print_share(result);
	return CLI_EXIT_OK;
}

static int share_rm(struct cli_ctx *ctx, int argc, char **argv)
{
	static const int allowed[] = {OPT_FORCE, OPT_PURGE, 0};
	struct share_args a;
	bool help;
	int r;

	r = parse_args("rm", argc, argv, allowed, 1, 1, &a, &help);
	if (r >= 0)
		return r;
	return call(
	    ctx, NULL, "share.delete",
	    json_pack("{s:s, s:b, s:b}", "name", a.pos[0], "force", a.force, "purge", a.purge),
	    NULL);
}

static int share_quota(struct cli_ctx *ctx, int argc, char **argv)
{
	static const int allowed[] = {OPT_QUOTA, OPT_FILES, OPT_JSON, 0};
	json_auto_t *result = NULL;
	struct share_args a;
	json_t *params;
	json_int_t n = 0;
	bool help;
	int r;

	r = parse_args("quota", argc, argv, allowed, 1, 1, &a, &help);
	if (r >= 0)
		return r;
	if (!a.quota && !a.files)
		return cli_usage_error(CMD, "'share quota' needs --quota and/or --files");
	params = json_pack("{s:s}", "name", a.pos[0]);
	if (a.quota) {
		if ((r = parse_quota(a.quota, &n)) >= 0) {
			json_decref(params);
			return r;
		}
		json_object_set_new(params, "quota_bytes", json_integer(n));
	}
	if (a.files) {
		if ((r = parse_count("--files", a.files, &n)) >= 0) {
			json_decref(params);
			return r;
		}
		json_object_set_new(params, "quota_files", json_integer(n));
	}
	r = call(ctx, NULL, "share.quota", params, &result);
	if (r == CLI_EXIT_OK && a.json)
		cli_print_json(result);
	return r;
}

static int share_set(struct cli_ctx *ctx, int argc, char **argv)
{
	static const int allowed[] = {OPT_TRUST, OPT_TRUST_KEYS, OPT_JSON, 0};
	json_auto_t *result = NULL;
	struct share_args a;
	json_t *params;
	bool help;
	int r;

	r = parse_args("set", argc, argv, allowed, 1, 1, &a, &help);
	if (r >= 0)
		return r;
	if (!a.trust && !a.trust_keys)
		return cli_usage_error(CMD, "'share set' needs --trust and/or --trust-keys");
	params = json_pack("{s:s}", "name", a.pos[0]);
	if (a.trust)
		json_object_set_new(params, "trust", json_string(a.trust));
	if (a.trust_keys)
		json_object_set_new(params, "trust_keys", json_string(a.trust_keys));
	r = call(ctx, NULL, "share.set", params, &result);
	if (r != CLI_EXIT_OK)
		return r;
	if (a.json) {
		cli_print_json(result);
	} else {
		json_t *keys = json_object_get(result, "trust_keys");

		printf("share %s: trust %s", a.pos[0],
		       json_string_value(json_object_get(result, "trust")));
		if (keys)
			printf(" (keyset %s)", json_string_value(keys));
		printf("\n");
	}
	return CLI_EXIT_OK;
}

static int share_snapshot(struct cli_ctx *ctx, int argc, char **argv)
{
	static const int allowed[] = {OPT_JSON, 0};
	json_auto_t *result = NULL;
	struct share_args a;
	json_t *params;
	bool help;
	int r;

	r = parse_args("snapshot", argc, argv, allowed, 1, 2, &a, &help);
	if (r >= 0)
		return r;
	params = json_pack("{s:s}", "name", a.pos[0]);
	if (a.pos_count > 1)
		json_object_set_new(params, "snapshot", json_string(a.pos[1]));
	r = call(ctx, NULL, "share.snapshot", params, &result);
	if (r != CLI_EXIT_OK)
		return r;
	if (a.json)
		cli_print_json(result);
	else
		printf("%s\n", json_string_value(json_object_get(result, "name")));
	return CLI_EXIT_OK;
}

static int share_snapshots(struct cli_ctx *ctx, int argc, char **argv)
{
	static const int allowed[] = {OPT_JSON, 0};
	json_auto_t *result = NULL;
	struct share_args a;
	struct table *t;
	json_t *s;
	size_t i;
	bool help;
	int r;

	r = parse_args("snapshots", argc, argv, allowed, 1, 1, &a, &help);
	if (r >= 0)
		return r;
	r = call(ctx, NULL, "snapshot.list", json_pack("{s:s}", "share", a.pos[0]), &result);
	if (r != CLI_EXIT_OK)
		return r;
	if (a.json) {
		cli_print_json(json_object_get(result, "snapshots"));
		return CLI_EXIT_OK;
	}
	t = table_new(4, "SNAPSHOT", "CREATED", "FILES", "BYTES");
	json_array_foreach(json_object_get(result, "snapshots"), i, s)
	{
		char created[32] = "-", files[32], bytes[32];
		json_t *c = json_object_get(s, "created");

		if (c) {
			time_t when = (time_t)json_integer_value(c);
			struct tm tm;
			gmtime_r(&when, &tm);
			strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm);
		}
		snprintf(files, sizeof(files), "%" JSON_INTEGER_FORMAT,
			 json_integer_value(json_object_get(s, "files")));
		cli_format_size((uint64_t)json_integer_value(json_object_get(s, "bytes")), bytes,
				sizeof(bytes));
		table_add_row(t, json_string_value(json_object_get(s, "name")), created, files,
			      bytes);
	}
	table_print(t, stdout);
	table_free(t);
	return CLI_EXIT_OK;
}

static int share_snapshot_rm(struct cli_ctx *ctx, int argc, char **argv)
{
	static const int allowed[] = {0};
	struct share_args a;
	bool help;
	int r;

	r = parse_args("snapshot-rm", argc, argv, allowed, 2, 2, &a, &help);
	if (r >= 0)
		return r;
	return call(ctx, NULL, "snapshot.delete",
		    json_pack("{s:s, s:s}", "share", a.pos[0], "snapshot", a.pos[1]), NULL);
}

static int share_restore(struct cli_ctx *ctx, int argc, char **argv)
{
	static const int allowed[] = {OPT_PATH, OPT_JSON, 0};
	json_auto_t *result = NULL;
	struct share_args a;
	json_t *params;
	bool help;
	int r;

	r = parse_args("restore", argc, argv, allowed, 2, 2, &a, &help);
	if (r >= 0)
		return r;
	params = json_pack("{s:s, s:s}", "name", a.pos[0], "snapshot", a.pos[1]);
	if (a.path)
		json_object_set_new(params, "path", json_string(a.path));
	r = call(ctx, NULL, "share.restore", params, &result);
	if (r != CLI_EXIT_OK)
		return r;
	if (a.json)
		cli_print_json(result);
	return CLI_EXIT_OK;
}

static int share_use(struct cli_ctx *ctx, int argc, char **argv)
{
	static const int allowed[] = {OPT_READ_ONLY, 0};
	struct share_args a;
	bool help;
	int r;

	r = parse_args("use", argc, argv, allowed, 2, 2, &a, &help);
	if (r >= 0)
		return r;
	return call(ctx, NULL, "share.use",
		    json_pack("{s:s, s:s, s:b}", "name", a.pos[0], "group", a.pos[1], "read_only",
			      a.read_only),
		    NULL);
}

static int share_release(struct cli_ctx *ctx, int argc, char **argv)
{
	static const int allowed[] = {0};
	struct share_args a;
	bool help;
	int r;

	r = parse_args("release", argc, argv, allowed, 2, 2, &a, &help);
	if (r >= 0)
		return r;
	return call(ctx, NULL, "share.release",
		    json_pack("{s:s, s:s}", "name", a.pos[0], "group", a.pos[1]), NULL);
}

int cli_share_main(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct {
		const char *verb;
		int (*fn)(struct cli_ctx *ctx, int argc, char **argv);
	} verbs[] = {
	    {"create", share_create},
	    {"ls", share_ls},
	    {"list", share_ls},
	    {"show", share_show},
	    {"rm", share_rm},
	    {"delete", share_rm},
	    {"quota", share_quota},
	    {"set", share_set},
	    {"snapshot", share_snapshot},
	    {"snapshots", share_snapshots},
	    {"snapshot-rm", share_snapshot_rm},
	    {"restore", share_restore},
	    {"use", share_use},
	    {"release", share_release},
	};

	if (argc < 2) {
		usage_family(stderr);
		return CLI_EXIT_USAGE;
	}
	if (streq(argv[1], "--help") || streq(argv[1], "-h") || streq(argv[1], "help")) {
		usage_family(stdout);
		return CLI_EXIT_OK;
	}
	for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
		if (streq(argv[1], verbs[i].verb))
			return verbs[i].fn(ctx, argc - 1, argv + 1);
	return cli_usage_error(CMD, "unknown command 'share %s'", argv[1]);
}
