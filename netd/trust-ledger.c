/* Trust denials: counters, log lines, events, the attach check (see
 * trust-ledger.h). */
#include <errno.h>
#include <stdio.h>

#include "json-util.h"
#include "log.h"
#include "netd.h"
#include "params.h"
#include "trust-ledger.h"
#include "xalloc.h"

static const char *kind_name(enum trust_kind kind)
{
	return kind == TRUST_KIND_SHARE ? "share" : "vnet";
}

static void count(struct trust_ledger *ledger, const struct trust_denial *denial)
{
	struct trust_counter *c;

	for (size_t i = 0; i < ledger->count; i++) {
		c = &ledger->counters[i];
		if (c->kind == denial->kind && c->mode == denial->mode &&
		    streq(c->name, denial->name)) {
			c->denied++;
			return;
		}
	}
	if (ledger->count >= TRUST_COUNTERS_MAX) {
		if (ledger->uncounted++ == 0)
			log_warn("more than %d trust counters: further ones are not counted",
				 TRUST_COUNTERS_MAX);
		return;
	}
	if (!ledger->counters)
		ledger->counters = xcalloc(TRUST_COUNTERS_MAX, sizeof(*ledger->counters));
	c = &ledger->counters[ledger->count++];
	c->kind = denial->kind;
	c->mode = denial->mode;
	snprintf(c->name, sizeof(c->name), "%s", denial->name);
	c->denied = 1;
}

void trust_ledger_deny(struct netd *netd, const struct trust_denial *denial)
{
	json_auto_t *event = NULL;

	count(&netd->ledger, denial);
	log_warn("trust denied kind=%s name=%s mode=%s group=%s image=%s digest=%s reason=\"%s\" "
		 "message=\"%s\"",
		 kind_name(denial->kind), denial->name, trust_mode_name(denial->mode),
		 denial->group, denial->image, denial->digest, denial->reason, denial->message);
	if (!netd->server)
		return;
	event = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "kind", kind_name(denial->kind),
			  "name", denial->name, "mode", trust_mode_name(denial->mode), "group",
			  denial->group, "image", denial->image, "digest", denial->digest, "reason",
			  denial->reason);
	if (event)
		rpc_server_broadcast(netd->server, "trust.denied", event);
}

json_t *trust_ledger_json(const struct trust_ledger *ledger)
{
	json_t *list = json_array();

	for (size_t i = 0; i < ledger->count; i++) {
		const struct trust_counter *c = &ledger->counters[i];

		json_array_append_new(list,
				      json_pack("{s:s, s:s, s:s, s:I}", "kind", kind_name(c->kind),
						"name", c->name, "mode", trust_mode_name(c->mode),
						"denied", (json_int_t)c->denied));
	}
	return list;
}

void trust_ledger_done(struct trust_ledger *ledger)
{
	free(ledger->counters);
	*ledger = (struct trust_ledger){0};
}

int trust_check_attach(struct netd *netd, const struct group_request *req, struct pw_error *err)
{
	const struct vnet *refused = NULL;

	for (size_t i = 0; i < req->vnet_count; i++) {
		const struct vnet *vnet = netd_vnet_find(netd, req->vnets[i]);
		struct trust_decision d;

		if (!vnet || vnet->trust == TRUST_OFF)
			continue;
		d = trust_decide(vnet->trust, &req->trust);
		if (d.count)
			trust_ledger_deny(netd, &(struct trust_denial){
						    .kind = TRUST_KIND_VNET,
						    .name = vnet->name,
						    .mode = vnet->trust,
						    .group = req->id,
						    .image = "",
						    .digest = "",
						    .reason = TRUST_REASON_UNVERIFIED,
						    .message = TRUST_NO_VERDICT_MESSAGE,
						});
		if (!d.admit && !refused)
			refused = vnet;
	}
	if (!refused)
		return 0;
	return pw_error_set(
	    err, -EACCES, "VNet '%s' admits only signed images (trust enforce): %s", refused->name,
	    req->trust.present
		? (strempty(req->trust.message) ? "the image is not trusted" : req->trust.message)
		: TRUST_NO_VERDICT_MESSAGE);
}

int trust_rpc_report(struct rpc_request *req, void *userdata, json_t **ret_result,
		     struct pw_error *err)
{
	struct netd *netd = userdata;
	struct trust_denial denial = {
	    .group = "", .image = "", .digest = "", .reason = "", .message = ""};
	struct trust_verdict strings;
	json_t *kind = NULL, *name = NULL, *mode = NULL, *group = NULL, *image = NULL,
	       *digest = NULL, *reason = NULL, *message = NULL;
	const char *kind_text = NULL, *mode_text = NULL;
	json_auto_t *verdict = NULL;
	int r;

	r = json_unpack_err(req->params, err, req->method, JSON_STRICT,
			    "{s:o, s:o, s:o, s?:o, s?:o, s?:o, s?:o, s?:o}", "kind", &kind, "name",
			    &name, "mode", &mode, "group", &group, "image", &image, "digest",
			    &digest, "reason", &reason, "message", &message);
	if (r < 0)
		return r;
	if ((r = param_string(kind, "kind", &kind_text, err)) < 0 ||
	    (r = param_string(name, "name", &denial.name, err)) < 0 ||
	    (r = param_string(mode, "mode", &mode_text, err)) < 0 ||
	    (r = param_string(group, "group", &denial.group, err)) < 0)
		return r;
	if (streq(kind_text, "vnet")) {
		denial.kind = TRUST_KIND_VNET;
		r = name_validate_vnet(denial.name, err);
	} else if (streq(kind_text, "share")) {
		denial.kind = TRUST_KIND_SHARE;
		r = name_validate_share(denial.name, err);
	} else {
		return pw_error_set(err, -EINVAL, "kind: '%.16s' is not one of vnet, share",
				    kind_text);
	}
	if (r < 0)
		return r;
	if (trust_mode_parse(mode_text, &denial.mode) < 0 || denial.mode == TRUST_OFF)
		return pw_error_set(err, -EINVAL, "mode: '%.16s' is not one of audit, enforce",
				    mode_text);
	if (denial.group[0]) {
		r = name_validate_group(denial.group, err);
		if (r < 0)
			return r;
	}
	/* The strings are a verdict's: the same limits. */
	verdict = json_pack("{s:b}", "trusted", 0);
	if (image)
		json_object_set(verdict, "image", image);
	if (digest)
		json_object_set(verdict, "digest", digest);
	if (reason)
		json_object_set(verdict, "reason", reason);
	if (message)
		json_object_set(verdict, "message", message);
	r = trust_verdict_parse(verdict, &strings, err);
	if (r < 0)
		return r;
	denial.image = strings.image;
	denial.digest = strings.digest;
	denial.reason = strings.reason;
	denial.message = strings.message;
	trust_ledger_deny(netd, &denial);
	return 0;
}
