/* OCI state and config.json reading (see oci.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>

#include "json-util.h"
#include "name.h"
#include "oci.h"
#include "xalloc.h"

int oci_state_parse(const char *text, size_t len, struct oci_container *ret, struct pw_error *err)
{
	json_auto_t *state = NULL;
	json_t *annotations = NULL;
	const char *id, *bundle = NULL, *status = NULL;
	json_int_t pid = 0;
	json_error_t jerr;
	int r;

	memset(ret, 0, sizeof(*ret));
	if (len > OCI_STATE_MAX)
		return pw_error_set(err, -E2BIG, "state on stdin is larger than %d bytes",
				    OCI_STATE_MAX);
	state = json_loadb(text, len, 0, &jerr);
	if (!state)
		return pw_error_set(err, -EBADMSG, "state on stdin is not JSON: %s", jerr.text);
	r = json_unpack_err(state, err, "state on stdin", 0, "{s:s, s?:s, s?:I, s?:s, s?:o}", "id",
			    &id, "status", &status, "pid", &pid, "bundle", &bundle, "annotations",
			    &annotations);
	if (r < 0)
		return r;
	r = name_validate_group(id, err);
	if (r < 0)
		return pw_error_wrap(err, r, "container id");
	if (pid < 0 || pid > INT_MAX)
		return pw_error_set(err, -EINVAL, "state on stdin: bad pid %lld", (long long)pid);
	if (annotations && !json_is_object(annotations))
		return pw_error_set(err, -EINVAL, "state on stdin: annotations is not an object");

	ret->id = xstrdup(id);
	ret->status = status ? xstrdup(status) : NULL;
	ret->pid = (int)pid;
	ret->bundle = bundle && *bundle ? xstrdup(bundle) : NULL;
	ret->annotations = annotations ? json_incref(annotations) : json_object();
	return 0;
}

int oci_config_load(struct oci_container *c, struct pw_error *err)
{
	_cleanup_free_ char *path = NULL;
	json_auto_t *config = NULL;
	json_t *annotations = NULL;
	const char *root_path;
	json_error_t jerr;

	if (!c->bundle)
		return pw_error_set(err, -EINVAL, "state on stdin has no bundle");
	path = xasprintf("%s/config.json", c->bundle);
	config = json_load_file(path, 0, &jerr);
	if (!config)
		return pw_error_set(err, -EBADMSG, "%s: %s", path, jerr.text);
	if (json_unpack_ex(config, &jerr, 0, "{s:{s:s}, s?:o}", "root", "path", &root_path,
			   "annotations", &annotations) < 0)
		return pw_error_set(err, -EINVAL, "%s: %s", path, jerr.text);
	if (annotations) {
		if (!json_is_object(annotations))
			return pw_error_set(err, -EINVAL, "%s: annotations is not an object", path);
		json_decref(c->annotations);
		c->annotations = json_incref(annotations);
	}
	if (root_path[0] == '/')
		c->rootfs = xstrdup(root_path);
	else
		c->rootfs = xasprintf("%s/%s", c->bundle, root_path);
	return 0;
}

void oci_container_done(struct oci_container *c)
{
	free(c->id);
	free(c->status);
	free(c->bundle);
	free(c->rootfs);
	json_decref(c->annotations);
	memset(c, 0, sizeof(*c));
}
