/* The keysets netd keeps for content trust (docs/trust.md, "Policy"): a
 * name, an optional repository prefix and the key material podwire-trust
 * verifies with. One directory per keyset:
 *
 *   STATE_DIR/trust/NAME/keyset.json   {name, repository, cosign_key: b,
 *                                       gpg_keyring: b} (commits the add)
 *   STATE_DIR/trust/NAME/cosign.pub    PEM, ECDSA P-256
 *   STATE_DIR/trust/NAME/keyring.gpg   OpenPGP public keys, as given
 *
 * Directories 0700, files 0600. The key files are written (temp file,
 * fsync, rename) before keyset.json, so a crash leaves either no
 * keyset.json (the directory is removed at the next start) or a complete
 * keyset; files keyset.json does not name (a replace that dropped one)
 * are removed after it commits, and again at start.
 *
 * A VNet names a keyset (vnet->trust_keys); keyset.remove is refused
 * while one does. volumed's shares name keysets too and are not checked:
 * a share naming a missing keyset denies under enforce. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "error.h"
#include "rpc-server.h"
#include "trust.h"

/* A keyset per VNet is the most an admin would make (VNETS_MAX), and
 * shares may name others; each costs a directory and a list entry. */
#define KEYSETS_MAX 256

struct keyset {
	char name[KEYSET_NAME_MAX + 1];
	char *repository; /* "" = any */
	bool has_cosign;
	bool has_gpg;
};

struct trust_keysets {
	int dir_fd;			   /* STATE_DIR/trust */
	char *dir_path;			   /* absolute: trust.keyset.show hands paths to the hook */
	struct keyset *items[KEYSETS_MAX]; /* sorted by name */
	size_t count;
};

/* Opens (creating, 0700) STATE_DIR/trust and loads every keyset; removes
 * what an interrupted add or replace left behind. */
int trust_keysets_open(struct trust_keysets *keysets, const char *state_dir, struct pw_error *err);
void trust_keysets_close(struct trust_keysets *keysets);
struct keyset *trust_keysets_find(const struct trust_keysets *keysets, const char *name);

/* RPC handlers (userdata: struct netd): trust.keyset.add, .remove, .list,
 * .show (docs/netd.md). */
int trust_rpc_keyset_add(struct rpc_request *req, void *userdata, json_t **ret_result,
			 struct pw_error *err);
int trust_rpc_keyset_remove(struct rpc_request *req, void *userdata, json_t **ret_result,
			    struct pw_error *err);
int trust_rpc_keyset_list(struct rpc_request *req, void *userdata, json_t **ret_result,
			  struct pw_error *err);
int trust_rpc_keyset_show(struct rpc_request *req, void *userdata, json_t **ret_result,
			  struct pw_error *err);
