/* `podwire trust`: content-trust keysets (netd's trust.keyset.* methods;
 * docs/trust.md). A keyset is the key material a VNet's (or a share's)
 * policy verifies images with; the CLI reads the key files and hands
 * their content to netd, which checks and stores it. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "cli.h"
#include "xalloc.h"

#define CMD "trust keyset"
/* netd refuses larger key files (netd/trust-keys.h); the CLI says so
 * before sending them. */
#define KEY_FILE_MAX (1024 * 1024)

static void usage_family(FILE *out)
{
	fprintf(out,
		"Usage: podwire trust keyset COMMAND [OPTIONS]\n"
		"\n"
		"Content trust: a VNet created or set with --trust enforce (or audit) and\n"
		"--trust-keys KEYSET admits only groups whose image carries a valid signature\n"
		"by a key of KEYSET (podwire-hook checks it when a container starts; see\n"
		"docs/trust.md). A keyset holds a cosign public key, a GPG keyring, or both,\n"
		"and optionally the repository its signatures must name. podwire-netd keeps\n"
		"keysets in its state directory; shares name them too.\n"
		"\n"
		"Commands:\n"
		"  keyset add NAME [--cosign-key FILE] [--gpg-keyring FILE]\n"
		"             [--repository PREFIX] [--replace]\n"
		"                            add (or with --replace, replace) a keyset\n"
		"  keyset ls [--json]        list keysets and the VNets naming them\n"
		"  keyset show NAME [--json] show one keyset and where its key files are\n"
		"  keyset rm NAME            remove a keyset no VNet names\n"
		"\n"
		"'podwire trust keyset COMMAND --help' describes a command.\n");
}

static void usage_add(FILE *out)
{
	fprintf(out,
		"Usage: podwire trust keyset add NAME [--cosign-key FILE] [--gpg-keyring FILE]\n"
		"                                [--repository PREFIX] [--replace] [--json]\n"
		"\n"
		"Adds the keyset NAME (1-12 characters of a-z, 0-9 and '-'). At least one key\n"
		"is required; an image is trusted when one signature verifies with any key of\n"
		"the keyset.\n"
		"\n"
		"Options:\n"
		"  --cosign-key FILE    a cosign public key: PEM, ECDSA P-256 ('cosign.pub',\n"
		"                       or 'openssl ec -pubout'); other key types are refused\n"
		"  --gpg-keyring FILE   OpenPGP public keys, binary or ASCII-armored ('gpg\n"
		"                       --export KEYID'); secret keys are refused\n"
		"  --repository PREFIX  signatures must name a reference in this repository:\n"
		"                       equal to it or continuing it after '/', ':' or '@'\n"
		"                       (registry.example/app matches registry.example/app:1\n"
		"                       and registry.example/app/web, not\n"
		"                       registry.example/application). Default: any\n"
		"  --replace            replace an existing keyset of that name (VNets naming\n"
		"                       it use the new keys from their next container start);\n"
		"                       without it an existing name is refused\n"
		"  --json               print netd's keyset object\n"
		"  -h, --help           show this help\n"
		"\n"
		"Each key file may be at most 1 MiB. A refused keyset changes nothing.\n");
}

static void usage_ls(FILE *out)
{
	fprintf(out, "Usage: podwire trust keyset ls [--json]\n"
		     "\n"
		     "Lists the keysets: name, repository prefix (- for any), which keys it has\n"
		     "and the VNets whose trust policy names it. --json prints netd's objects.\n");
}

static void usage_show(FILE *out)
{
	fprintf(out, "Usage: podwire trust keyset show NAME [--json]\n"
		     "\n"
		     "Shows the keyset NAME: its repository prefix, the paths of its key files\n"
		     "in netd's state directory (what podwire-hook hands podwire-trust) and the\n"
		     "VNets naming it.\n");
}

static void usage_rm(FILE *out)
{
	fprintf(out, "Usage: podwire trust keyset rm NAME\n"
		     "\n"
		     "Removes the keyset NAME and its key files. Refused while a VNet names it\n"
		     "(set the VNet's --trust off or --trust-keys OTHER first). Shares are not\n"
		     "checked: a share naming a missing keyset refuses every image under enforce.\n"
		     "Removing a keyset that does not exist succeeds.\n");
}

static const char base64_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *base64_encode(const unsigned char *data, size_t size)
{
	char *out = xmalloc((size + 2) / 3 * 4 + 1), *p = out;

	for (size_t i = 0; i < size; i += 3) {
		uint32_t v = (uint32_t)data[i] << 16;

		if (i + 1 < size)
			v |= (uint32_t)data[i + 1] << 8;
		if (i + 2 < size)
			v |= data[i + 2];
		*p++ = base64_chars[(v >> 18) & 63];
		*p++ = base64_chars[(v >> 12) & 63];
		*p++ = i + 1 < size ? base64_chars[(v >> 6) & 63] : '=';
		*p++ = i + 2 < size ? base64_chars[v & 63] : '=';
	}
	*p = '\0';
	return out;
}

/* Reads a key file of at most KEY_FILE_MAX bytes; prints why not. */
static int read_key_file(const char *path, unsigned char **ret, size_t *ret_size)
{
	_cleanup_close_ int fd = -EBADF;
	_cleanup_free_ unsigned char *data = xmalloc(KEY_FILE_MAX + 1);
	size_t size = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -cli_fail("trust keyset add: cannot read %s: %s", path, strerror(errno));
	for (;;) {
		ssize_t n = read(fd, data + size, KEY_FILE_MAX + 1 - size);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -cli_fail("trust keyset add: cannot read %s: %s", path,
					 strerror(errno));
		}
		if (n == 0)
			break;
		size += (size_t)n;
		if (size > KEY_FILE_MAX)
			return -cli_fail("trust keyset add: %s is larger than 1 MiB", path);
	}
	if (size == 0)
		return -cli_fail("trust keyset add: %s is empty", path);
	*ret = TAKE_PTR(data);
	*ret_size = size;
	return 0;
}

static const char *keys_text(json_t *keyset)
{
	bool cosign = json_is_true(json_object_get(keyset, "cosign_key"));
	bool gpg = json_is_true(json_object_get(keyset, "gpg_keyring"));

	return cosign && gpg ? "cosign,gpg" : cosign ? "cosign" : gpg ? "gpg" : "-";
}

/* "a, b" from a JSON array of strings (malloc'd). */
static char *join_names(json_t *array)
{
	size_t i, len = 1;
	json_t *item;
	char *out;

	json_array_foreach(array, i, item) len += strlen(json_string_value(item) ?: "") + 2;
	out = xcalloc(1, len);
	json_array_foreach(array, i, item)
	{
		if (i > 0)
			strcat(out, ", ");
		strcat(out, json_string_value(item) ?: "");
	}
	return out;
}

static int keyset_add(struct cli_ctx *ctx, int argc, char **argv)
{
	enum { OPT_COSIGN = 256, OPT_GPG, OPT_REPOSITORY, OPT_REPLACE, OPT_JSON };
	static const struct option options[] = {
	    {"cosign-key", required_argument, NULL, OPT_COSIGN},
	    {"gpg-keyring", required_argument, NULL, OPT_GPG},
	    {"repository", required_argument, NULL, OPT_REPOSITORY},
	    {"replace", no_argument, NULL, OPT_REPLACE},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	json_auto_t *params = json_object(), *result = NULL;
	const char *cosign_path = NULL, *gpg_path = NULL;
	bool as_json = false;
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case OPT_COSIGN:
			cosign_path = optarg;
			break;
		case OPT_GPG:
			gpg_path = optarg;
			break;
		case OPT_REPOSITORY:
			json_object_set_new(params, "repository", json_string(optarg));
			break;
		case OPT_REPLACE:
			json_object_set_new(params, "replace", json_true());
			break;
		case OPT_JSON:
			as_json = true;
			break;
		case 'h':
			usage_add(stdout);
			return CLI_EXIT_OK;
		default:
			return cli_usage_error(CMD " add", "invalid option or missing value: '%s'",
					       argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return cli_usage_error(CMD " add", "expected exactly one keyset name");
	if (!cosign_path && !gpg_path)
		return cli_usage_error(CMD " add",
				       "a key is required (--cosign-key, --gpg-keyring)");
	if (cosign_path) {
		_cleanup_free_ unsigned char *data = NULL;
		json_t *pem;
		size_t size;

		if (read_key_file(cosign_path, &data, &size) < 0)
			return CLI_EXIT_FAILURE;
		pem = json_stringn((const char *)data, size);
		if (!pem || memchr(data, '\0', size))
			return cli_fail("trust keyset add: %s is not a PEM text file", cosign_path);
		json_object_set_new(params, "cosign_key", pem);
	}
	if (gpg_path) {
		_cleanup_free_ unsigned char *data = NULL;
		_cleanup_free_ char *text = NULL;
		size_t size;

		if (read_key_file(gpg_path, &data, &size) < 0)
			return CLI_EXIT_FAILURE;
		text = base64_encode(data, size);
		json_object_set_new(params, "gpg_keyring", json_string(text));
	}
	json_object_set_new(params, "name", json_string(argv[optind]));
	if (cli_call(ctx, "netd", "trust keyset add", "trust.keyset.add", params, &result) < 0)
		return CLI_EXIT_FAILURE;
	if (as_json) {
		cli_print_json(result);
	} else {
		const char *repository = json_string_value(json_object_get(result, "repository"));

		printf("keyset %s: %s, repository %s\n", argv[optind], keys_text(result),
		       strempty(repository) ? "any" : repository);
	}
	return CLI_EXIT_OK;
}

/* Parses [--json] [-h] and args positional arguments: 0 to go on, -1 when
 * help was printed, else the exit code of a usage error. */
static int parse_simple(int argc, char **argv, const char *cmd, void (*usage)(FILE *),
			bool *ret_json, int args)
{
	static const struct option options[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case 'j':
			if (!ret_json)
				return cli_usage_error(cmd, "--json is not an option here");
			*ret_json = true;
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			return cli_usage_error(cmd, "invalid option '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind != args) {
		if (args)
			return cli_usage_error(cmd, "expected exactly one keyset name");
		return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	}
	return 0;
}

static int keyset_ls(struct cli_ctx *ctx, int argc, char **argv)
{
	json_auto_t *result = NULL;
	bool as_json = false;
	struct table *t;
	json_t *keyset;
	size_t i;
	int r;

	r = parse_simple(argc, argv, CMD " ls", usage_ls, &as_json, 0);
	if (r != 0)
		return r < 0 ? CLI_EXIT_OK : r;
	if (cli_call(ctx, "netd", "trust keyset ls", "trust.keyset.list", NULL, &result) < 0)
		return CLI_EXIT_FAILURE;
	if (as_json) {
		cli_print_json(json_object_get(result, "keysets"));
		return CLI_EXIT_OK;
	}
	t = table_new(4, "NAME", "KEYS", "REPOSITORY", "VNETS");
	json_array_foreach(json_object_get(result, "keysets"), i, keyset)
	{
		_cleanup_free_ char *vnets = join_names(json_object_get(keyset, "vnets"));
		const char *repository = json_string_value(json_object_get(keyset, "repository"));

		table_add_row(t, json_string_value(json_object_get(keyset, "name")),
			      keys_text(keyset), strempty(repository) ? NULL : repository,
			      vnets[0] ? vnets : NULL);
	}
	table_print(t, stdout);
	table_free(t);
	return CLI_EXIT_OK;
}

static int keyset_show(struct cli_ctx *ctx, int argc, char **argv)
{
	json_auto_t *params = NULL, *result = NULL;
	_cleanup_free_ char *vnets = NULL;
	bool as_json = false;
	const char *repository;
	int r;

	r = parse_simple(argc, argv, CMD " show", usage_show, &as_json, 1);
	if (r != 0)
		return r < 0 ? CLI_EXIT_OK : r;
	params = json_pack("{s:s}", "name", argv[optind]);
	if (cli_call(ctx, "netd", "trust keyset show", "trust.keyset.show", params, &result) < 0)
		return CLI_EXIT_FAILURE;
	if (as_json) {
		cli_print_json(result);
		return CLI_EXIT_OK;
	}
	repository = json_string_value(json_object_get(result, "repository"));
	vnets = join_names(json_object_get(result, "vnets"));
	printf("Name:        %s\n", json_string_value(json_object_get(result, "name")));
	printf("Repository:  %s\n", strempty(repository) ? "(any)" : repository);
	printf("Cosign key:  %s\n",
	       json_string_value(json_object_get(result, "cosign_key_path")) ?: "-");
	printf("GPG keyring: %s\n",
	       json_string_value(json_object_get(result, "gpg_keyring_path")) ?: "-");
	printf("VNets:       %s\n", vnets[0] ? vnets : "-");
	return CLI_EXIT_OK;
}

static int keyset_rm(struct cli_ctx *ctx, int argc, char **argv)
{
	json_auto_t *params = NULL, *result = NULL;
	int r;

	r = parse_simple(argc, argv, CMD " rm", usage_rm, NULL, 1);
	if (r != 0)
		return r < 0 ? CLI_EXIT_OK : r;
	params = json_pack("{s:s}", "name", argv[optind]);
	if (cli_call(ctx, "netd", "trust keyset rm", "trust.keyset.remove", params, &result) < 0)
		return CLI_EXIT_FAILURE;
	return CLI_EXIT_OK;
}

int cli_trust_main(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct {
		const char *verb;
		int (*fn)(struct cli_ctx *ctx, int argc, char **argv);
	} verbs[] = {
	    {"add", keyset_add},   {"ls", keyset_ls}, {"list", keyset_ls},
	    {"show", keyset_show}, {"rm", keyset_rm}, {"remove", keyset_rm},
	};

	if (argc < 2) {
		usage_family(stderr);
		return CLI_EXIT_USAGE;
	}
	if (streq(argv[1], "--help") || streq(argv[1], "-h") || streq(argv[1], "help")) {
		usage_family(stdout);
		return CLI_EXIT_OK;
	}
	if (!streq(argv[1], "keyset"))
		return cli_usage_error("trust", "unknown command 'trust %s'", argv[1]);
	if (argc < 3) {
		usage_family(stderr);
		return CLI_EXIT_USAGE;
	}
	if (streq(argv[2], "--help") || streq(argv[2], "-h") || streq(argv[2], "help")) {
		usage_family(stdout);
		return CLI_EXIT_OK;
	}
	for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
		if (streq(argv[2], verbs[i].verb))
			return verbs[i].fn(ctx, argc - 2, argv + 2);
	return cli_usage_error("trust", "unknown command 'trust keyset %s'", argv[2]);
}
