/* Content trust at createRuntime (docs/trust.md, issue 14): before the hook
 * attaches or mounts anything it asks netd (vnet.show) and volumed
 * (share.show) for the trust policy of each VNet and share the container
 * asks for. With every policy off nothing more happens. Otherwise, per
 * distinct keyset: trust.keyset.show on netd, then one run of the
 * podwire-trust helper (a separate, dynamically linked program: see
 * docs/trust.md) whose --json verdict decides. Untrusted verdicts under
 * audit or enforce are reported to netd (trust.report: counters, log,
 * event); one under enforce fails the start with one line. The verdicts
 * then travel with group.attach and share.use, where netd and volumed
 * check them again.
 *
 * The pure pieces (the helper's arguments, reading its verdict, the
 * decision) are exposed for tests/unit/test-hook-trust.c; trust_check()
 * does the I/O. */
#pragma once

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>

#include "../common/annotations.h"
#include "error.h"
#include "rpc-client.h"

/* containers-storage's defaults, as podwire-trust has them. */
#define TRUST_DEFAULT_GRAPH_ROOT "/var/lib/containers/storage"
#define TRUST_DEFAULT_RUN_ROOT	 "/run/containers/storage"
/* The helper is looked for next to the hook's own binary. */
#define TRUST_HELPER_NAME "podwire-trust"
/* A GPG check takes a few hundred ms on a busy machine; 20 s stays under
 * the 30 s timeout of the shipped hooks.d file, so a hung helper fails
 * the start with our line rather than the runtime's. */
#define TRUST_HELPER_TIMEOUT_MS 20000
/* The helper prints one JSON line and at most a line on stderr. */
#define TRUST_HELPER_OUTPUT_MAX (64 * 1024)
/* Keyset names follow VNet name rules (trust-spec: lib/name.c). */
#define TRUST_KEYSET_MAX VNET_NAME_MAX
/* Objects a container can name: its VNets and its shares. */
#define TRUST_OBJECTS_MAX (HOOK_VNETS_MAX + HOOK_VOLUMES_MAX)
/* Verdict fields, as podwire-trust bounds them (STORAGE_NAME_MAX,
 * PW_ERROR_MESSAGE_MAX); longer ones are cut, they are for people. */
#define TRUST_IMAGE_MAX	  512
#define TRUST_DIGEST_MAX  80
#define TRUST_REASON_MAX  64
#define TRUST_MESSAGE_MAX 1024
/* podwire-trust's argument vector: 20 words at most (see trust_helper_argv). */
#define TRUST_ARGV_MAX 32

enum trust_mode {
	TRUST_MODE_OFF,
	TRUST_MODE_AUDIT,
	TRUST_MODE_ENFORCE,
};

/* Hook options: where the helper and containers-storage are. */
struct trust_config {
	const char *helper;	/* NULL: TRUST_HELPER_NAME next to /proc/self/exe */
	const char *graph_root; /* NULL: TRUST_DEFAULT_GRAPH_ROOT */
	const char *run_root;	/* NULL: the default with the default graph root */
};

struct trust_verdict_info {
	bool trusted;
	char image[TRUST_IMAGE_MAX + 1];
	char digest[TRUST_DIGEST_MAX + 1];
	char reason[TRUST_REASON_MAX + 1];
	char message[TRUST_MESSAGE_MAX + 1];
};

/* Which container podwire-trust looks at, derived from the OCI state and
 * where the bundle lies. */
struct trust_target {
	/* CRI-O keeps its bundles in the run root
	 * (RUN/DRIVER-containers/ID/userdata) and sets
	 * io.kubernetes.cri-o.ImageRef: --container ID --driver DRIVER
	 * --image-id REF. Else (podman, or no image at all): --bundle. */
	bool crio;
	/* A bundle in a containers-storage layout that names another container
	 * than the runtime's state: no identity (podwire-trust is not run). */
	bool foreign_bundle;
	char container_id[65]; /* the bundle path's */
	char driver[33];
	const char *image_ref; /* borrowed from the annotations */
	const char *bundle;    /* borrowed */
	const char *rootfs;    /* borrowed */
};

struct trust_keyset {
	char name[TRUST_KEYSET_MAX + 1];
	bool found;		    /* trust.keyset.show knew it */
	char cosign_key[PATH_MAX];  /* "" = none */
	char gpg_keyring[PATH_MAX]; /* "" = none */
	char repository[TRUST_IMAGE_MAX + 1];
	struct trust_verdict_info verdict;
};

struct trust_object {
	bool share; /* else a VNet */
	char name[SHARE_NAME_MAX + 1];
	enum trust_mode mode;
	size_t keyset; /* index into trust_check.keysets (mode != off) */
};

struct trust_check {
	struct trust_object objects[TRUST_OBJECTS_MAX];
	size_t object_count;
	struct trust_keyset keysets[TRUST_OBJECTS_MAX];
	size_t keyset_count;
	/* vnet.show's domains, by the spec's VNet order ("" = none), so the
	 * start need not ask again; valid when have_domains. */
	char domains[HOOK_VNETS_MAX][DNS_NAME_MAX + 1];
	bool have_domains;
};

/* "off", "audit", "enforce"; -EINVAL otherwise. */
int trust_mode_parse(const char *text, enum trust_mode *ret);
const char *trust_mode_name(enum trust_mode mode);

/* Adds a VNet's or share's policy (from vnet.show/share.show's "trust" and
 * "trust_keys"; trust NULL = off, an older daemon). Shares one keyset
 * entry between objects naming the same keyset. */
int trust_check_add(struct trust_check *check, bool share, const char *name, const char *trust,
		    const char *trust_keys, struct pw_error *err);
/* Whether any object has a policy (audit or enforce). */
bool trust_check_needed(const struct trust_check *check);

/* Decides which container podwire-trust looks at. bundle_real is the
 * bundle's canonical path (or NULL when it cannot be resolved), run_root
 * the canonical run root (or NULL). Pure. */
void trust_target_build(const char *state_id, const char *bundle, const char *bundle_real,
			const char *rootfs, const char *run_root, json_t *annotations,
			struct trust_target *ret);
/* The argument vector of one podwire-trust run (NULL-terminated, pointing
 * into its arguments). Pure. */
size_t trust_helper_argv(const char *helper, const struct trust_config *cfg,
			 const struct trust_target *target, const struct trust_keyset *ks,
			 const char *argv[TRUST_ARGV_MAX]);
/* Turns the helper's exit status (a wait status) and output into a
 * verdict: exit 0 with {"trusted":true,...}, or exit 1 with
 * {"trusted":false,...}. Anything else (a usage error, a key it could not
 * load, a crash) is an error naming what the helper said. Pure. */
int trust_verdict_parse(int wait_status, const char *out, size_t out_len, const char *err_text,
			struct trust_verdict_info *ret, struct pw_error *err);
/* The verdict group.attach carries (NULL: no VNet has a policy): an
 * enforce VNet's when there is one (all are trusted by the time the hook
 * attaches), else the first audit VNet's. */
const struct trust_verdict_info *trust_check_vnet_verdict(const struct trust_check *check);
/* The verdict share.use of share carries (NULL: no policy). */
const struct trust_verdict_info *trust_check_share_verdict(const struct trust_check *check,
							   const char *share);
/* The first object under enforce whose verdict is untrusted, or -1. */
int trust_check_refused(const struct trust_check *check);
/* One line for the refused object:
 *   VNet 'X' admits only signed images (trust enforce): image I (D): REASON: MESSAGE */
void trust_refusal_message(const struct trust_check *check, size_t object, struct pw_error *err);
/* {"trusted","image","digest","reason","message"} for group.attach/share.use. */
json_t *trust_verdict_to_json(const struct trust_verdict_info *v);

/* The hook's daemon connections, made when first needed (a container
 * with shares only needs no netd unless a share has a policy). */
struct trust_clients {
	int (*get)(void *ctx, const char *daemon, struct rpc_client **ret, struct pw_error *err);
	void *ctx;
};

/* The whole check (see the top of this file). check must be zeroed (and
 * is big, 400 KiB, mostly keyset paths: calloc it, so the pages a start
 * without a policy never touches cost no page fault). On success it holds
 * the policies and verdicts (and the VNets' domains); an untrusted image
 * under enforce is an error (after the report). */
int trust_check_run(const struct trust_clients *cl, const struct trust_config *cfg,
		    const struct hook_spec *spec, const char *state_id, const char *bundle,
		    const char *rootfs, json_t *annotations, struct trust_check *check,
		    struct pw_error *err);
