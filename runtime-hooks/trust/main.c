/* podwire-trust: reads a container's image identity from containers-storage
 * and checks its signatures against a key; the helper podwire-hook runs for
 * containers that join a VNet or share with a trust policy (docs/trust.md
 * says why it is a separate program). Exit 0 trusted, 1 not trusted (one
 * line on stderr naming the image, the digest and the reason), 2 usage. */
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "signature.h"
#include "storage.h"
#include "verify.h"

#define DEFAULT_GRAPH_ROOT "/var/lib/containers/storage"
#define DEFAULT_RUN_ROOT   "/run/containers/storage"

static void usage(FILE *out)
{
	fputs("Usage: podwire-trust identity|verify [OPTIONS]\n"
	      "  identity   print the container's image identity as JSON\n"
	      "  verify     check the image's stored signatures against a key\n"
	      "Which container (one of):\n"
	      "  --bundle PATH         an OCI bundle podman made "
	      "(ROOT/DRIVER-containers/ID/userdata)\n"
	      "  --container ID        a container id, with --driver (default overlay)\n"
	      "Storage:\n"
	      "  --storage-root DIR    containers-storage graph root (default " DEFAULT_GRAPH_ROOT
	      ");\n"
	      "                        with --bundle, the bundle must lie in it\n"
	      "  --run-root DIR        its run root (default " DEFAULT_RUN_ROOT
	      " for the default root)\n"
	      "  --driver NAME         storage driver (with --container)\n"
	      "  --rootfs PATH         also check that PATH is the container's layer\n"
	      "  --image-id ID         also check that the container's image is ID\n"
	      "                        (\"sha256:\" prefix allowed; CRI-O's ImageRef)\n"
	      "Policy (verify):\n"
	      "  --cosign-key FILE     PEM ECDSA P-256 public key (cosign key pair)\n"
	      "  --gpg-keyring FILE    OpenPGP public keys (armored or binary)\n"
	      "  --repository PREFIX   the signed reference must lie in PREFIX\n"
	      "  --json                print the verdict as one JSON object\n"
	      "Exit status: 0 trusted, 1 not trusted or no identity, 2 usage error.\n",
	      out);
}

struct options {
	const char *command;
	const char *bundle, *container, *graph_root, *run_root, *driver, *rootfs, *image_id;
	struct trust_policy policy;
	bool json;
};

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
	    {"bundle", required_argument, NULL, 'b'},
	    {"container", required_argument, NULL, 'c'},
	    {"storage-root", required_argument, NULL, 's'},
	    {"run-root", required_argument, NULL, 'r'},
	    {"driver", required_argument, NULL, 'd'},
	    {"rootfs", required_argument, NULL, 'f'},
	    {"image-id", required_argument, NULL, 'i'},
	    {"cosign-key", required_argument, NULL, 'k'},
	    {"gpg-keyring", required_argument, NULL, 'g'},
	    {"repository", required_argument, NULL, 'p'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'b':
			o->bundle = optarg;
			break;
		case 'c':
			o->container = optarg;
			break;
		case 's':
			o->graph_root = optarg;
			break;
		case 'r':
			o->run_root = optarg;
			break;
		case 'd':
			o->driver = optarg;
			break;
		case 'f':
			o->rootfs = optarg;
			break;
		case 'i':
			o->image_id = optarg;
			break;
		case 'k':
			o->policy.cosign_key_path = optarg;
			break;
		case 'g':
			o->policy.gpg_keyring_path = optarg;
			break;
		case 'p':
			o->policy.repository = optarg;
			break;
		case 'j':
			o->json = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -EINVAL;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "podwire-trust: give one command: identity or verify\n");
		return -EINVAL;
	}
	o->command = argv[optind];
	if (!streq(o->command, "identity") && !streq(o->command, "verify")) {
		fprintf(stderr, "podwire-trust: unknown command '%s'\n", o->command);
		return -EINVAL;
	}
	if (!o->bundle == !o->container) {
		fprintf(stderr, "podwire-trust: give one of --bundle and --container\n");
		return -EINVAL;
	}
	if (o->bundle && o->driver) {
		fprintf(stderr, "podwire-trust: --driver goes with --container\n");
		return -EINVAL;
	}
	return 0;
}

static int locate(const struct options *o, struct storage_location *loc,
		  char container_id[STORAGE_ID_LEN + 1], struct pw_error *err)
{
	const char *graph_root = o->graph_root ?: DEFAULT_GRAPH_ROOT;
	_cleanup_free_ char *want = NULL, *have = NULL;
	int r;

	if (o->bundle) {
		r = storage_locate_bundle(o->bundle, loc, container_id, err);
		if (r < 0)
			return r;
		/* A bundle outside the configured storage could carry records
		 * copied from a signed image next to any tree. */
		want = realpath(graph_root, NULL);
		have = realpath(loc->graph_root, NULL);
		if (!want || !have || !streq(want, have))
			return pw_error_set(err, -EPERM, "bundle %s is not in storage %s",
					    o->bundle, graph_root);
	} else {
		*loc = (struct storage_location){};
		snprintf(loc->graph_root, sizeof(loc->graph_root), "%s", graph_root);
		snprintf(loc->driver, sizeof(loc->driver), "%s", o->driver ?: "overlay");
		snprintf(container_id, STORAGE_ID_LEN + 1, "%s", o->container);
	}
	if (o->run_root)
		snprintf(loc->run_root, sizeof(loc->run_root), "%s", o->run_root);
	else if (streq(graph_root, DEFAULT_GRAPH_ROOT))
		snprintf(loc->run_root, sizeof(loc->run_root), "%s", DEFAULT_RUN_ROOT);
	return 0;
}

/* CRI-O names the image it made the container from in an annotation
 * (io.kubernetes.cri-o.ImageRef); the storage's records must agree. */
static int image_id_check(const struct image_identity *id, const char *want, struct pw_error *err)
{
	const char *hex = strncmp(want, "sha256:", 7) == 0 ? want + 7 : want;

	if (!streq(hex, id->image_id))
		return pw_error_set(err, -EPERM,
				    "container %.12s runs image %.12s, not the runtime's image %s",
				    id->container_id, id->image_id, want);
	return 0;
}

static const char *format_name(const struct storage_signature *s)
{
	struct trust_sig sig;

	if (trust_sig_classify(s->data, s->len, &sig, NULL) < 0)
		return "malformed";
	switch (sig.format) {
	case TRUST_SIG_SIMPLE:
		return "simple-signing";
	case TRUST_SIG_SIGSTORE:
		return "sigstore-json";
	default:
		return "unknown";
	}
}

static int print_identity(const struct image_identity *id)
{
	json_auto_t *digests = json_array(), *signatures = json_array(), *out = NULL;
	_cleanup_free_ char *text = NULL;

	for (size_t i = 0; i < id->manifest_count; i++)
		json_array_append_new(digests, json_string(id->manifest_digests[i]));
	for (size_t i = 0; i < id->signature_count; i++)
		json_array_append_new(signatures,
				      json_pack("{s:s, s:s, s:I}", "manifest_digest",
						id->signatures[i].manifest_digest, "format",
						format_name(&id->signatures[i]), "size",
						(json_int_t)id->signatures[i].len));
	out = json_pack("{s:s, s:s, s:s, s:s, s:s, s:O, s:O}", "container", id->container_id,
			"image", id->image_id, "name", id->image_name, "top_layer", id->top_layer,
			"container_layer", id->container_layer, "manifest_digests", digests,
			"signatures", signatures);
	text = out ? json_dumps(out, JSON_INDENT(2)) : NULL;
	if (!text)
		return -ENOMEM;
	puts(text);
	return 0;
}

/* Names the signed digest when a signature got that far, else the image's
 * first manifest digest. */
static void print_verdict(const struct options *o, const struct image_identity *id,
			  const char *signed_digest, bool trusted, const char *reason,
			  const char *message)
{
	const char *name = id && id->image_name[0] ? id->image_name
			   : id && id->image_id[0] ? id->image_id
						   : "(no image)";
	const char *digest = !strempty(signed_digest)	? signed_digest
			     : id && id->manifest_count ? id->manifest_digests[0]
							: "(no digest)";

	if (o->json) {
		json_auto_t *out =
		    json_pack("{s:b, s:s, s:s, s:s, s:s}", "trusted", trusted, "reason", reason,
			      "image", name, "digest", digest, "message", message);
		_cleanup_free_ char *text = out ? json_dumps(out, JSON_COMPACT) : NULL;

		if (text)
			puts(text);
	}
	if (trusted) {
		if (!o->json)
			printf("trusted: image %s (%s): %s\n", name, digest, message);
	} else {
		fprintf(stderr, "podwire-trust: image %s (%s): %s: %s\n", name, digest, reason,
			message);
	}
}

int main(int argc, char **argv)
{
	struct options o = {};
	struct storage_location loc;
	char container_id[STORAGE_ID_LEN + 1];
	struct image_identity id = {};
	struct trust_verifier verifier = {};
	struct trust_verdict verdict;
	struct pw_error err = {};
	int r;

	if (parse_options(argc, argv, &o) < 0) {
		usage(stderr);
		return 2;
	}
	if (streq(o.command, "verify")) {
		/* Keys first: a broken policy is the admin's error, whatever the image. */
		r = trust_verifier_open(&o.policy, &verifier, &err);
		if (r < 0) {
			fprintf(stderr, "podwire-trust: %s\n", pw_error_message(&err));
			return r == -EINVAL && strempty(o.policy.cosign_key_path) &&
				       strempty(o.policy.gpg_keyring_path)
				   ? 2
				   : 1;
		}
	}
	r = locate(&o, &loc, container_id, &err);
	if (r >= 0)
		r = storage_identity_read(&loc, container_id, &id, &err);
	if (r >= 0 && o.rootfs)
		r = storage_rootfs_check(&loc, &id, o.rootfs, &err);
	if (r >= 0 && o.image_id)
		r = image_id_check(&id, o.image_id, &err);
	if (r < 0) {
		if (streq(o.command, "verify"))
			print_verdict(&o, &id, NULL, false, "no identity", pw_error_message(&err));
		else
			fprintf(stderr, "podwire-trust: %s\n", pw_error_message(&err));
		image_identity_done(&id);
		trust_verifier_close(&verifier);
		return 1;
	}
	if (streq(o.command, "identity")) {
		r = print_identity(&id);
		image_identity_done(&id);
		return r < 0 ? 1 : 0;
	}
	r = trust_verify(&verifier, &id, &verdict);
	print_verdict(&o, &id, verdict.claim.digest, r == 0, trust_reason_name(verdict.reason),
		      verdict.detail);
	image_identity_done(&id);
	trust_verifier_close(&verifier);
	return r == 0 ? 0 : 1;
}
