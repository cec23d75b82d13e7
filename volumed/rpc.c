/* RPC methods of podwire-volumed (see rpc.h). userdata is the struct
 * volumed; all handlers run in the main thread. */
#include <errno.h>

#include "json-util.h"
#include "rpc.h"
#include "snapshot.h"
#include "volumed.h"

static int find_share(struct volumed *v, const char *name, struct share **ret, struct pw_error *err)
{
	struct share *s = volumed_find(v, name);

	if (!s)
		return pw_error_set(err, -ENOENT, "no share '%s'", name);
	*ret = s;
	return 0;
}

static int result_or_nomem(json_t *value, json_t **ret, struct pw_error *err)
{
	if (!value)
		return pw_error_set(err, -ENOMEM, "out of memory");
	*ret = value;
	return 0;
}

static int m_share_create(struct rpc_request *req, void *userdata, json_t **ret,
			  struct pw_error *err)
{
	struct volumed *v = userdata;
	struct share_config cfg;
	struct share *s = NULL;
	int r;

	r = share_config_from_json(req->params, &cfg, err);
	if (r < 0)
		return r;
	r = volumed_share_create(v, &cfg, &s, err);
	if (r < 0)
		return r;
	return result_or_nomem(volumed_share_json(v, s), ret, err);
}

static int m_share_delete(struct rpc_request *req, void *userdata, json_t **ret,
			  struct pw_error *err)
{
	const char *name;
	int force = 0, purge = 0;
	int r;

	r = json_unpack_err(req->params, err, "share.delete", JSON_STRICT, "{s:s, s?b, s?b}",
			    "name", &name, "force", &force, "purge", &purge);
	if (r < 0)
		return r;
	return volumed_share_delete(userdata, name, force, purge, err);
}

static int m_share_list(struct rpc_request *req, void *userdata, json_t **ret, struct pw_error *err)
{
	struct volumed *v = userdata;
	json_t *list;
	int r;

	r = json_unpack_err(req->params, err, "share.list", JSON_STRICT, "{}");
	if (r < 0)
		return r;
	list = json_array();
	for (struct share *s = v->shares; s; s = s->next)
		json_array_append_new(list, volumed_share_json(v, s));
	return result_or_nomem(json_pack("{s:o}", "shares", list), ret, err);
}

static int m_share_show(struct rpc_request *req, void *userdata, json_t **ret, struct pw_error *err)
{
	struct volumed *v = userdata;
	const char *name;
	struct share *s = NULL;
	int r;

	r = json_unpack_err(req->params, err, "share.show", JSON_STRICT, "{s:s}", "name", &name);
	if (r < 0 || (r = find_share(v, name, &s, err)) < 0)
		return r;
	return result_or_nomem(volumed_share_json(v, s), ret, err);
}

static int m_share_quota(struct rpc_request *req, void *userdata, json_t **ret,
			 struct pw_error *err)
{
	struct volumed *v = userdata;
	json_int_t bytes = -1, files = -1;
	const char *name;
	struct share *s = NULL;
	int r;

	r = json_unpack_err(req->params, err, "share.quota", JSON_STRICT, "{s:s, s?I, s?I}", "name",
			    &name, "quota_bytes", &bytes, "quota_files", &files);
	if (r < 0 || (r = find_share(v, name, &s, err)) < 0)
		return r;
	if (bytes < -1 || files < -1 || (bytes == -1 && files == -1))
		return pw_error_set(err, -EINVAL,
				    "share.quota: give quota_bytes and/or quota_files (>= 0, "
				    "0 = no limit)");
	r = volumed_share_set_quota(v, s, bytes >= 0 ? (uint64_t)bytes : s->config.quota_bytes,
				    files >= 0 ? (uint64_t)files : s->config.quota_files, err);
	if (r < 0)
		return r;
	return result_or_nomem(volumed_share_json(v, s), ret, err);
}

static int m_share_set(struct rpc_request *req, void *userdata, json_t **ret, struct pw_error *err)
{
	struct volumed *v = userdata;
	const char *name, *trust = NULL, *trust_keys = NULL;
	struct share_trust policy;
	struct share *s = NULL;
	int r;

	r = json_unpack_err(req->params, err, "share.set", JSON_STRICT, "{s:s, s?s, s?s}", "name",
			    &name, "trust", &trust, "trust_keys", &trust_keys);
	if (r < 0 || (r = find_share(v, name, &s, err)) < 0)
		return r;
	if (!trust && !trust_keys)
		return pw_error_set(err, -EINVAL, "share.set: give trust and/or trust_keys");
	r = share_trust_apply(&s->config.trust, trust, trust_keys, &policy, err);
	if (r < 0)
		return r;
	r = volumed_share_set_trust(v, s, &policy, err);
	if (r < 0)
		return r;
	return result_or_nomem(volumed_share_json(v, s), ret, err);
}

static int m_share_snapshot(struct rpc_request *req, void *userdata, json_t **ret,
			    struct pw_error *err)
{
	struct volumed *v = userdata;
	const char *name, *snap = NULL;
	struct share *s = NULL;
	int r;

	r = json_unpack_err(req->params, err, "share.snapshot", JSON_STRICT, "{s:s, s?s}", "name",
			    &name, "snapshot", &snap);
	if (r < 0 || (r = find_share(v, name, &s, err)) < 0)
		return r;
	return snapshot_create(v, s, snap, ret, err);
}

static int m_snapshot_list(struct rpc_request *req, void *userdata, json_t **ret,
			   struct pw_error *err)
{
	struct volumed *v = userdata;
	const char *name;
	struct share *s = NULL;
	int r;

	r = json_unpack_err(req->params, err, "snapshot.list", JSON_STRICT, "{s:s}", "share",
			    &name);
	if (r < 0 || (r = find_share(v, name, &s, err)) < 0)
		return r;
	return snapshot_list(v, s, ret, err);
}

static int m_snapshot_delete(struct rpc_request *req, void *userdata, json_t **ret,
			     struct pw_error *err)
{
	struct volumed *v = userdata;
	const char *name, *snap;
	struct share *s = NULL;
	int r;

	r = json_unpack_err(req->params, err, "snapshot.delete", JSON_STRICT, "{s:s, s:s}", "share",
			    &name, "snapshot", &snap);
	if (r < 0 || (r = find_share(v, name, &s, err)) < 0)
		return r;
	return snapshot_delete(v, s, snap, err);
}

static int m_share_restore(struct rpc_request *req, void *userdata, json_t **ret,
			   struct pw_error *err)
{
	struct volumed *v = userdata;
	const char *name, *snap, *path = NULL;
	struct share *s = NULL;
	int r;

	r = json_unpack_err(req->params, err, "share.restore", JSON_STRICT, "{s:s, s:s, s?s}",
			    "name", &name, "snapshot", &snap, "path", &path);
	if (r < 0 || (r = find_share(v, name, &s, err)) < 0)
		return r;
	return snapshot_restore(v, s, snap, path, ret, err);
}

static int m_share_use(struct rpc_request *req, void *userdata, json_t **ret, struct pw_error *err)
{
	struct volumed *v = userdata;
	const char *name, *group;
	int read_only = 0;
	json_t *trust = NULL;
	struct share_verdict verdict = {};
	struct share *s = NULL;
	int r;

	r = json_unpack_err(req->params, err, "share.use", JSON_STRICT, "{s:s, s:s, s?b, s?o}",
			    "name", &name, "group", &group, "read_only", &read_only, "trust",
			    &trust);
	if (r < 0 || (trust && (r = share_verdict_from_json(trust, &verdict, err)) < 0) ||
	    (r = find_share(v, name, &s, err)) < 0)
		return r;
	r = volumed_share_use(v, s, group, read_only, trust ? &verdict : NULL, err);
	if (r < 0)
		return r;
	return result_or_nomem(json_pack("{s:s, s:s, s:b}", "mountpoint", s->mountpoint, "group",
					 group, "read_only", read_only),
			       ret, err);
}

static int m_share_release(struct rpc_request *req, void *userdata, json_t **ret,
			   struct pw_error *err)
{
	struct volumed *v = userdata;
	const char *name, *group;
	int r;

	r = json_unpack_err(req->params, err, "share.release", JSON_STRICT, "{s:s, s:s}", "name",
			    &name, "group", &group);
	if (r < 0)
		return r;
	/* Releasing from a share that is gone is done already. */
	struct share *s = volumed_find(v, name);
	if (!s)
		return 0;
	return volumed_share_release(v, s, group, err);
}

const struct rpc_method volumed_methods[] = {
    {"share.create", m_share_create, true},
    {"share.delete", m_share_delete, true},
    {"share.list", m_share_list, false},
    {"share.show", m_share_show, false},
    {"share.quota", m_share_quota, true},
    {"share.set", m_share_set, true},
    {"share.snapshot", m_share_snapshot, true},
    {"snapshot.list", m_snapshot_list, false},
    {"snapshot.delete", m_snapshot_delete, true},
    {"share.restore", m_share_restore, true},
    {"share.use", m_share_use, true},
    {"share.release", m_share_release, true},
};
const size_t volumed_method_count = sizeof(volumed_methods) / sizeof(volumed_methods[0]);
