/* Start and stop of a container (see stage.h).
 *
 * Start:
 *   1. parse the annotations (nothing is done if they are wrong);
 *   1b. the trust check (trust.h): the VNets' and shares' policies and, when
 *      one asks, the image's verdict; an untrusted image under enforce
 *      stops here, before the store lock (a GPG check takes 100 ms and
 *      more, and needs none of the hook's records). The rest runs under
 *      the store lock:
 *   2. the member record (intent: network, shares) is written by the step
 *      that first acts, before it acts (the container index with it);
 *   3. network: the first network member attaches the group (netd
 *      group.attach with /proc/PID/ns/net); later ones must be in the same
 *      netns and only add a reference;
 *   4. render resolv.conf and hosts from netd's view of the group (the
 *      attach reply, or group.show for a later member);
 *   5. share.use for every volume;
 *   6. one mount pass into the container (DNS files and shares);
 *   7. mark the record complete.
 * Any failure runs stop for this container, which releases exactly what
 * the record says it holds.
 *
 * Stop: release shares no other member of the group still uses, detach
 * the group when no network member is left, remove files and records. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "../common/resolvconf.h"
#include "daemons.h"
#include "log.h"
#include "mntns.h"
#include "stage.h"
#include "state-file.h"
#include "store.h"
#include "trace.h"
#include "trust.h"
#include "xalloc.h"

int hook_stage_parse(const char *name, enum hook_stage *ret)
{
	if (streq(name, "createRuntime") || streq(name, "prestart")) {
		*ret = HOOK_STAGE_START;
		return 0;
	}
	if (streq(name, "poststop")) {
		*ret = HOOK_STAGE_STOP;
		return 0;
	}
	return -EINVAL;
}

int hook_stage_from_status(const char *status, enum hook_stage *ret)
{
	if (!status)
		return -EINVAL;
	if (streq(status, "creating") || streq(status, "created")) {
		*ret = HOOK_STAGE_START;
		return 0;
	}
	if (streq(status, "stopped")) {
		*ret = HOOK_STAGE_STOP;
		return 0;
	}
	return -EINVAL;
}

struct clients {
	const char *run_dir;
	struct rpc_client *netd;
	struct rpc_client *volumed;
};

static void clients_done(struct clients *cl)
{
	if (cl->netd)
		rpc_client_free(cl->netd);
	if (cl->volumed)
		rpc_client_free(cl->volumed);
}

static int get_netd(struct clients *cl, struct rpc_client **ret, struct pw_error *err)
{
	if (!cl->netd) {
		int r = daemon_connect(cl->run_dir, "netd", &cl->netd, err);
		if (r < 0)
			return r;
	}
	*ret = cl->netd;
	return 0;
}

static int get_volumed(struct clients *cl, struct rpc_client **ret, struct pw_error *err)
{
	if (!cl->volumed) {
		int r = daemon_connect(cl->run_dir, "volumed", &cl->volumed, err);
		if (r < 0)
			return r;
	}
	*ret = cl->volumed;
	return 0;
}

/* For the trust check (struct trust_clients). */
static int get_client(void *ctx, const char *daemon, struct rpc_client **ret, struct pw_error *err)
{
	struct clients *cl = ctx;

	return streq(daemon, "netd") ? get_netd(cl, ret, err) : get_volumed(cl, ret, err);
}

/* Releases what member m holds and removes its records. Continues past
 * errors (so as much as possible is cleaned) and returns the first. */
static int member_teardown(struct store *s, struct clients *cl, struct member *m,
			   struct pw_error *err)
{
	struct pw_error step_err = {0};
	int first = 0, r;

	for (size_t i = m->share_count; i-- > 0;) {
		struct rpc_client *volumed;
		size_t network, users;

		r = store_group_count(s, m->group, m->id, m->shares[i].name, &network, &users);
		if (r >= 0 && users == 0) {
			r = get_volumed(cl, &volumed, &step_err);
			if (r >= 0)
				r = volumed_share_release(volumed, m->shares[i].name, m->group,
							  &step_err);
			if (r == -ENOENT) /* the share is gone: nothing to release */
				r = 0;
		} else if (r < 0) {
			pw_error_set(&step_err, r, "group records: %s", strerror(-r));
		}
		if (r < 0) {
			pw_error_wrap(&step_err, r, "release share '%s'", m->shares[i].name);
			if (!first) {
				first = r;
				*err = step_err;
			}
			continue;
		}
		m->share_count = i;
		/* Keep the record true to what is still held. */
		(void)store_member_write(s, m);
	}

	if (m->network) {
		struct attachment_record a;
		size_t network = 0, users;

		r = store_group_count(s, m->group, m->id, NULL, &network, &users);
		if (r >= 0 && network == 0 && store_attachment_read(s, m->group, &a) >= 0) {
			struct rpc_client *netd;

			r = get_netd(cl, &netd, &step_err);
			if (r >= 0)
				r = netd_group_detach(netd, m->group, &step_err);
			trace_step("netd group.detach");
			if (r >= 0)
				r = store_attachment_remove(s, m->group);
			if (r < 0) {
				pw_error_wrap(&step_err, r, "detach group '%s'", m->group);
				if (!first) {
					first = r;
					*err = step_err;
				}
			}
		}
	}
	if (first < 0)
		return first;

	r = store_files_remove(s, m->id);
	if (r < 0)
		return pw_error_set(err, r, "remove generated files: %s", strerror(-r));
	r = store_member_remove(s, m);
	if (r < 0)
		return pw_error_set(err, r, "remove container record: %s", strerror(-r));
	return 0;
}

static int netns_identity(int pid, uint64_t *ret_dev, uint64_t *ret_ino, char *path,
			  size_t path_size, struct pw_error *err)
{
	struct stat st;

	if (pid <= 0)
		return pw_error_set(err, -EINVAL, "state on stdin has no pid");
	snprintf(path, path_size, "/proc/%d/ns/net", pid);
	if (stat(path, &st) < 0)
		return pw_error_set(err, -errno, "container process %d: %s: %m", pid, path);
	*ret_dev = st.st_dev;
	*ret_ino = st.st_ino;
	return 0;
}

static bool same_vnets(const struct hook_spec *spec, const struct attachment_record *a)
{
	if (spec->vnet_count != a->vnet_count)
		return false;
	for (size_t i = 0; i < a->vnet_count; i++)
		if (!streq(spec->vnets[i], a->vnets[i]))
			return false;
	return true;
}

/* Step 3: join or make the group's attachment. Sets m->network; when this
 * call attached the group, *ret_have_net says *net is filled (from netd's
 * reply, and the VNets' domains from the trust check's vnet.show calls). */
static int start_network(struct store *s, struct clients *cl, const struct hook_spec *spec,
			 const struct trust_check *check, struct oci_container *c,
			 struct member *m, struct group_net *net, bool *ret_have_net,
			 struct pw_error *err)
{
	struct attachment_record a;
	char netns[64];
	uint64_t dev = 0, ino = 0;
	bool have;
	int r;

	r = store_attachment_read(s, spec->group, &a);
	if (r < 0 && r != -ENOENT)
		return pw_error_set(err, r, "group '%s' record: %s", spec->group, strerror(-r));
	have = r >= 0;
	/* Without podwire.vnet a container joins only a group already
	 * attached in its netns (a sidecar naming podwire.group). */
	if (!hook_spec_wants_network(spec) && !have)
		return 0;
	r = netns_identity(c->pid, &dev, &ino, netns, sizeof(netns), err);
	if (r < 0)
		return r;

	if (have) {
		if (a.netns_dev != dev || a.netns_ino != ino) {
			if (!hook_spec_wants_network(spec))
				return 0;
			return pw_error_set(err, -EBUSY,
					    "group '%s' is attached in another network namespace; "
					    "a second container of a group must join the first's "
					    "(linux.namespaces network path)",
					    spec->group);
		}
		if (hook_spec_wants_network(spec) && !same_vnets(spec, &a))
			return pw_error_set(
			    err, -EINVAL,
			    "group '%s' is attached to other VNets than podwire.vnet "
			    "asks",
			    spec->group);
		if (a.attached) {
			m->network = true;
			r = store_member_write(s, m);
			if (r < 0)
				return pw_error_set(err, r, "write container record: %s",
						    strerror(-r));
			return 0;
		}
	}

	/* First network member: write the intent, then attach. */
	m->network = true;
	r = store_member_write(s, m);
	if (r < 0)
		return pw_error_set(err, r, "write container record: %s", strerror(-r));
	memset(&a, 0, sizeof(a));
	a.netns_dev = dev;
	a.netns_ino = ino;
	for (size_t i = 0; i < spec->vnet_count; i++)
		strcpy(a.vnets[i], spec->vnets[i]);
	a.vnet_count = spec->vnet_count;
	r = store_attachment_write(s, spec->group, &a);
	if (r < 0)
		return pw_error_set(err, r, "write group record: %s", strerror(-r));

	{
		const struct trust_verdict_info *verdict = trust_check_vnet_verdict(check);
		json_auto_t *trust = verdict ? trust_verdict_to_json(verdict) : NULL;
		struct rpc_client *netd;

		r = get_netd(cl, &netd, err);
		if (r < 0)
			return r;
		r = netd_group_attach(netd, spec, netns, trust, net, err);
		trace_step("netd group.attach");
		if (r < 0)
			return pw_error_wrap(err, r, "attach group '%s'", spec->group);
	}
	a.attached = true;
	r = store_attachment_write(s, spec->group, &a);
	if (r < 0)
		return pw_error_set(err, r, "write group record: %s", strerror(-r));
	/* A VNet that did not exist at the trust check was created since:
	 * ask for the domains again (render_dns does). */
	if (!check->have_domains)
		return 0;
	group_net_set_domains(net, spec, check->domains);
	*ret_have_net = true;
	return 0;
}

static int write_text(int dir_fd, const char *dir, const char *name, const char *text,
		      char **ret_path)
{
	_cleanup_close_ int fd = -EBADF;
	_cleanup_free_ char *tmp = xasprintf("%s.tmp", name);
	size_t len = strlen(text);

	fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len)
		return errno ? -errno : -EIO;
	/* A file a container reads, not durable state: no fsync (the run dir
	 * does not survive a reboot anyway). */
	if (renameat(dir_fd, tmp, dir_fd, name) < 0)
		return -errno;
	*ret_path = xasprintf("%s/%s", dir, name);
	return 0;
}

/* Step 4: resolv.conf and hosts for a network member. With have_net, net
 * holds the group as this start's attach returned it; else group.show and
 * vnet.show. */
static int render_dns(struct store *s, struct clients *cl, const struct hook_spec *spec,
		      struct oci_container *c, struct group_net *net, bool have_net,
		      char **ret_resolv, char **ret_hosts, struct pw_error *err)
{
	struct resolv_defaults defaults = {0};
	struct hosts_entry hosts = {0};
	const char *aliases[HOOK_ALIASES_MAX];
	_cleanup_free_ char *dir = NULL, *resolv_text = NULL, *hosts_text = NULL;
	_cleanup_close_ int dir_fd = -EBADF;
	struct rpc_client *netd;
	int r;

	r = get_netd(cl, &netd, err);
	if (r < 0)
		return r;
	if (!have_net) {
		r = netd_group_net(netd, spec->group, net, err);
		if (r >= 0)
			r = netd_group_domains(netd, net, err);
		trace_step("netd group/vnet.show");
		if (r < 0)
			return pw_error_wrap(err, r, "group '%s'", spec->group);
	}

	for (size_t i = 0; i < net->gateway_count; i++)
		defaults.nameservers[defaults.nameserver_count++] = net->gateways[i];
	for (size_t i = 0; i < net->domain_count; i++)
		defaults.searches[defaults.search_count++] = net->domains[i];
	r = resolvconf_render(&spec->dns, &defaults, &resolv_text);
	if (r < 0)
		return pw_error_set(err, r, "render resolv.conf: %s", strerror(-r));

	for (size_t i = 0; i < net->address_count; i++)
		hosts.addresses[hosts.address_count++] = net->addresses[i];
	for (size_t i = 0; i < net->alias_count; i++)
		aliases[i] = net->aliases[i];
	hosts.hostname = net->hostname;
	hosts.domain = net->domain_count > 0 ? net->domains[0] : NULL;
	hosts.aliases = aliases;
	hosts.alias_count = net->alias_count;
	r = hosts_render(&hosts, &hosts_text);
	if (r < 0)
		return pw_error_set(err, r, "render hosts: %s", strerror(-r));

	r = store_files_dir(s, c->id, &dir_fd, &dir);
	if (r < 0)
		return pw_error_set(err, r, "cannot create the hook's files directory: %s",
				    strerror(-r));
	r = write_text(dir_fd, dir, "resolv.conf", resolv_text, ret_resolv);
	if (r >= 0)
		r = write_text(dir_fd, dir, "hosts", hosts_text, ret_hosts);
	trace_step("dns files written");
	if (r < 0)
		return pw_error_set(err, r, "write %s: %s", dir, strerror(-r));
	return 0;
}

/* Step 5: share.use for each volume, recorded before it is called.
 * mountpoints[i] gets where volumed serves volume i's share. */
static int use_shares(struct store *s, struct clients *cl, const struct hook_spec *spec,
		      const struct trust_check *check, struct member *m, char **mountpoints,
		      struct pw_error *err)
{
	for (size_t i = 0; i < spec->volume_count; i++) {
		const struct hook_volume *vol = &spec->volumes[i];
		const struct trust_verdict_info *verdict =
		    trust_check_share_verdict(check, vol->share);
		json_auto_t *trust = verdict ? trust_verdict_to_json(verdict) : NULL;
		struct rpc_client *volumed;
		bool held = false;
		int r;

		for (size_t j = 0; j < m->share_count; j++)
			held = held || streq(m->shares[j].name, vol->share);
		if (!held) {
			strcpy(m->shares[m->share_count].name, vol->share);
			m->shares[m->share_count].read_only = vol->read_only;
			m->share_count++;
			r = store_member_write(s, m);
			if (r < 0)
				return pw_error_set(err, r, "write container record: %s",
						    strerror(-r));
		}
		r = get_volumed(cl, &volumed, err);
		if (r < 0)
			return r;
		r = volumed_share_use(volumed, vol->share, spec->group, vol->read_only, trust,
				      &mountpoints[i], err);
		if (r < 0)
			return pw_error_wrap(err, r, "share '%s'", vol->share);
	}
	return 0;
}

static int do_start(struct store *s, struct clients *cl, const struct hook_spec *spec,
		    const struct trust_check *check, struct oci_container *c, struct member *m,
		    struct pw_error *err)
{
	struct bind_request reqs[HOOK_VOLUMES_MAX + 2];
	_cleanup_free_ char *resolv = NULL, *hosts = NULL;
	char *mountpoints[HOOK_VOLUMES_MAX] = {0};
	struct group_net net;
	bool have_net = false;
	size_t req_count = 0;
	int r;

	r = start_network(s, cl, spec, check, c, m, &net, &have_net, err);
	if (r < 0)
		return r;
	if (m->network) {
		r = render_dns(s, cl, spec, c, &net, have_net, &resolv, &hosts, err);
		if (r < 0)
			return r;
		reqs[req_count++] = (struct bind_request){
		    .source = resolv, .dest = "/etc/resolv.conf", .file = true};
		reqs[req_count++] =
		    (struct bind_request){.source = hosts, .dest = "/etc/hosts", .file = true};
	}
	r = use_shares(s, cl, spec, check, m, mountpoints, err);
	if (r >= 0) {
		for (size_t i = 0; i < spec->volume_count; i++)
			reqs[req_count++] =
			    (struct bind_request){.source = mountpoints[i],
						  .dest = spec->volumes[i].dest,
						  .read_only = spec->volumes[i].read_only};
		trace_step("shares used");
		r = mntns_bind_all(c->pid, c->rootfs, reqs, req_count, err);
		trace_step("mounts made");
	}
	for (size_t i = 0; i < spec->volume_count; i++)
		free(mountpoints[i]);
	if (r < 0)
		return r;

	m->complete = true;
	r = store_member_write(s, m);
	if (r < 0)
		return pw_error_set(err, r, "write container record: %s", strerror(-r));
	return 0;
}

int hook_start(const char *run_dir, const struct trust_config *trust, struct oci_container *c,
	       struct pw_error *err)
{
	struct store s = {.root_fd = -EBADF, .lock_fd = -EBADF};
	struct clients cl = {.run_dir = run_dir};
	struct trust_clients trust_cl = {.get = get_client, .ctx = &cl};
	struct hook_spec *spec = xmalloc(sizeof(*spec));
	/* Keysets hold two paths each: too big for the stack; calloc'd (see
	 * trust_check_run). */
	struct trust_check *check = xcalloc(1, sizeof(*check));
	struct member m = {0};
	char group[GROUP_ID_MAX + 1];
	int r;

	r = hook_spec_parse(c->annotations, c->id, spec, err);
	if (r < 0)
		goto out;
	r = trust_check_run(&trust_cl, trust, spec, c->id, c->bundle, c->rootfs, c->annotations,
			    check, err);
	trace_step("trust check");
	if (r < 0)
		goto out;
	r = store_open(run_dir, &s, err);
	trace_step("store locked");
	if (r < 0)
		goto out;

	/* Idempotence: a complete start is done; an incomplete one (a hook
	 * killed half-way) is undone first. */
	if (store_container_group(&s, c->id, group) >= 0 &&
	    store_member_read(&s, group, c->id, &m) >= 0) {
		if (m.complete && streq(group, spec->group)) {
			r = 0;
			goto out;
		}
		r = member_teardown(&s, &cl, &m, err);
		if (r < 0)
			goto out;
	}

	/* The record is first written by the step that first acts (attach,
	 * share.use), before it acts; a start with nothing to do writes it
	 * once, complete. */
	memset(&m, 0, sizeof(m));
	strcpy(m.id, c->id);
	strcpy(m.group, spec->group);
	r = do_start(&s, &cl, spec, check, c, &m, err);
	trace_step("start done");
	if (r < 0) {
		struct pw_error undo_err = {0};

		if (member_teardown(&s, &cl, &m, &undo_err) < 0)
			log_warn("undo after failed start: %s", pw_error_message(&undo_err));
	}
out:
	clients_done(&cl);
	store_close(&s);
	free(check);
	free(spec);
	return r;
}

int hook_stop(const char *run_dir, const char *id, struct pw_error *err)
{
	struct store s = {.root_fd = -EBADF, .lock_fd = -EBADF};
	struct clients cl = {.run_dir = run_dir};
	struct member m;
	char group[GROUP_ID_MAX + 1];
	int r;

	r = store_open(run_dir, &s, err);
	trace_step("store locked");
	if (r < 0)
		return r;
	r = store_container_group(&s, id, group);
	if (r == -ENOENT) {
		r = 0; /* never started, or already stopped */
		goto out;
	}
	if (r < 0) {
		r = pw_error_set(err, r, "container record: %s", strerror(-r));
		goto out;
	}
	r = store_member_read(&s, group, id, &m);
	if (r == -ENOENT) {
		/* Index written, member record not: nothing was held. */
		memset(&m, 0, sizeof(m));
		strcpy(m.id, id);
		strcpy(m.group, group);
		r = 0;
	} else if (r < 0) {
		r = pw_error_set(err, r, "container record: %s", strerror(-r));
		goto out;
	}
	trace_step("member read");
	r = member_teardown(&s, &cl, &m, err);
	trace_step("teardown done");
out:
	clients_done(&cl);
	store_close(&s);
	return r;
}
