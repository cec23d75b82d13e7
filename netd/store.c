/* One state file per VNet and per group (see store.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>

#include "log.h"
#include "state-file.h"
#include "store.h"
#include "xalloc.h"

#define STATE_SUFFIX ".json"

int store_open(struct store *store, const char *state_dir, const char *run_dir,
	       struct pw_error *err)
{
	_cleanup_free_ char *vnets = xasprintf("%s/vnets", state_dir);
	_cleanup_free_ char *groups = xasprintf("%s/netd/groups", run_dir);
	int r;

	*store = (struct store){.vnets_fd = -EBADF, .groups_fd = -EBADF};
	r = state_dir_open(vnets, &store->vnets_fd);
	if (r < 0)
		return pw_error_set(err, r, "state dir %s: %s", vnets, strerror(-r));
	r = state_dir_open(groups, &store->groups_fd);
	if (r < 0) {
		store_close(store);
		return pw_error_set(err, r, "run dir %s: %s", groups, strerror(-r));
	}
	return 0;
}

void store_close(struct store *store)
{
	if (store->vnets_fd >= 0)
		close(store->vnets_fd);
	if (store->groups_fd >= 0)
		close(store->groups_fd);
	store->vnets_fd = store->groups_fd = -EBADF;
}

static int save(int dir_fd, const char *name, json_t *value)
{
	char file[NAME_MAX + 1];
	json_auto_t *v = value;

	if (!v)
		return -ENOMEM;
	snprintf(file, sizeof(file), "%s" STATE_SUFFIX, name);
	return state_write_json(dir_fd, file, v);
}

static int remove_file(int dir_fd, const char *name)
{
	char file[NAME_MAX + 1];

	snprintf(file, sizeof(file), "%s" STATE_SUFFIX, name);
	return state_remove(dir_fd, file);
}

int store_vnet_save(struct store *store, const struct vnet *vnet)
{
	return save(store->vnets_fd, vnet->name, vnet_spec_json(vnet));
}

int store_vnet_remove(struct store *store, const char *name)
{
	return remove_file(store->vnets_fd, name);
}

int store_group_save(struct store *store, const struct pw_group *group)
{
	return save(store->groups_fd, group->id, group_state_json(group));
}

int store_group_remove(struct store *store, const char *id)
{
	return remove_file(store->groups_fd, id);
}

struct load_ctx {
	bool groups;
	int (*vnet_cb)(struct vnet *vnet, void *userdata);
	int (*group_cb)(struct pw_group *group, void *userdata);
	void *userdata;
};

static int load_one(int dir_fd, const char *file, void *userdata)
{
	struct load_ctx *ctx = userdata;
	json_auto_t *json = NULL;
	struct pw_error err = {0};
	int r;

	r = state_read_json(dir_fd, file, &json);
	if (r < 0) {
		log_error("cannot read state file file=%s error=%s", file, strerror(-r));
		goto bad;
	}
	if (ctx->groups) {
		struct pw_group *group = NULL;

		r = group_state_parse(json, &group, &err);
		if (r < 0) {
			log_error("invalid group state file file=%s error=\"%s\"", file,
				  pw_error_message(&err));
			goto bad;
		}
		if (strlen(file) != strlen(group->id) + strlen(STATE_SUFFIX) ||
		    strncmp(file, group->id, strlen(group->id)) != 0) {
			log_error("group state file name does not match its id file=%s", file);
			group_free(group);
			goto bad;
		}
		return ctx->group_cb(group, ctx->userdata);
	} else {
		struct vnet *vnet = NULL;

		r = vnet_parse_stored(json, &vnet, &err);
		if (r >= 0 && vnet->mtu == 0)
			r = pw_error_set(&err, -EINVAL, "no MTU");
		if (r < 0) {
			log_error("invalid VNet state file, skipped file=%s error=\"%s\"", file,
				  pw_error_message(&err));
			vnet_free(vnet);
			return 0;
		}
		if (strlen(file) != strlen(vnet->name) + strlen(STATE_SUFFIX) ||
		    strncmp(file, vnet->name, strlen(vnet->name)) != 0) {
			log_error("VNet state file name does not match its name, skipped file=%s",
				  file);
			vnet_free(vnet);
			return 0;
		}
		return ctx->vnet_cb(vnet, ctx->userdata);
	}
bad:
	/* Only group files get here: run-time state that cannot be read
	 * describes nothing we can undo by name, so it goes. */
	if (ctx->groups)
		(void)state_remove(dir_fd, file);
	return 0;
}

int store_vnet_load_all(struct store *store, int (*cb)(struct vnet *vnet, void *userdata),
			void *userdata)
{
	struct load_ctx ctx = {.groups = false, .vnet_cb = cb, .userdata = userdata};

	return state_foreach(store->vnets_fd, STATE_SUFFIX, load_one, &ctx);
}

int store_group_load_all(struct store *store, int (*cb)(struct pw_group *group, void *userdata),
			 void *userdata)
{
	struct load_ctx ctx = {.groups = true, .group_cb = cb, .userdata = userdata};

	return state_foreach(store->groups_fd, STATE_SUFFIX, load_one, &ctx);
}
