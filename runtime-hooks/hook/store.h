/* The hook's own state under RUN_DIR/hook/. OCI poststop gets no usable pid
 * and runtimes may skip it after a failed start, so everything a later
 * stage must undo is written down before it is done (an intent log):
 *
 *   lock                                 flock'ed for the whole of a stage
 *   containers/ID.json                   {"group":G}: which group a container is in
 *   groups/G/members/ID.json             the container's record (struct member)
 *   groups/G/attachment.json             the group's netd attachment (struct attachment_record)
 *   files/ID/resolv.conf, files/ID/hosts generated files bound into the container
 *
 * A group is attached to netd while it has an attachment record; members
 * with network=true hold it, and the last one to leave detaches. A share is
 * "used" (volumed share.use, keyed by group) while some member lists it.
 * Counting members reads one group's directory, so the cost of a stage
 * grows with the size of its group, never with the number of groups.
 *
 * Locking: every stage holds an exclusive flock on RUN_DIR/hook/lock from
 * before it reads any record until after its last write, so concurrent
 * hook runs (two containers of one group starting at once) serialise. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "../common/annotations.h"
#include "error.h"

/* Containers in one group: a pod is a handful; 64 bounds the records one
 * group's refcount scan reads. */
#define GROUP_MEMBERS_MAX 64

struct store {
	char *root; /* RUN_DIR/hook */
	int root_fd;
	int lock_fd;
};

struct member {
	char id[GROUP_ID_MAX + 1];
	char group[GROUP_ID_MAX + 1];
	bool network;  /* holds a reference on the group's attachment */
	bool complete; /* the start stage finished */
	struct {
		char name[SHARE_NAME_MAX + 1];
		bool read_only;
	} shares[HOOK_VOLUMES_MAX]; /* shares it holds a use of */
	size_t share_count;
	bool indexed; /* not stored: containers/ID.json is known to be written */
};

struct attachment_record {
	uint64_t netns_dev; /* identity of the group's network namespace */
	uint64_t netns_ino;
	char vnets[HOOK_VNETS_MAX][VNET_NAME_MAX + 1];
	size_t vnet_count;
	bool attached; /* netd confirmed the attach (else: attach in progress) */
};

/* Opens RUN_DIR/hook (creating it) and takes the lock (blocking). */
int store_open(const char *run_dir, struct store *ret, struct pw_error *err);
void store_close(struct store *s);

/* The group a container is recorded in: -ENOENT if none. */
int store_container_group(struct store *s, const char *id, char ret_group[GROUP_ID_MAX + 1]);
int store_member_read(struct store *s, const char *group, const char *id, struct member *ret);
/* Writes the member record, and the container index first unless
 * m->indexed (then sets it). */
int store_member_write(struct store *s, struct member *m);
/* Removes both, and the group directory when it is left empty. */
int store_member_remove(struct store *s, const struct member *m);

/* Other members of the group: count with network=true, and of those that
 * hold share `share` (NULL: not counted). `except` is left out. */
int store_group_count(struct store *s, const char *group, const char *except, const char *share,
		      size_t *ret_network, size_t *ret_share_users);

int store_attachment_read(struct store *s, const char *group, struct attachment_record *ret);
int store_attachment_write(struct store *s, const char *group, const struct attachment_record *a);
int store_attachment_remove(struct store *s, const char *group);

/* RUN_DIR/hook/files/ID (created), for the generated resolv.conf/hosts:
 * an open fd of it and its path. */
int store_files_dir(struct store *s, const char *id, int *ret_fd, char **ret_path);
/* Removes RUN_DIR/hook/files/ID and what is in it. */
int store_files_remove(struct store *s, const char *id);
