/* The I/O half of the hook's content-trust check (see trust.h): the
 * policy queries to netd and volumed, the keysets, the podwire-trust runs
 * and the reports. Each step's requests to one daemon are pipelined (one
 * send, then the replies in order), and netd's and volumed's are in flight
 * together, so the queries cost one round trip; the helpers of different
 * keysets run side by side. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemons.h"
#include "event-loop.h"
#include "log.h"
#include "macro.h"
#include "trace.h"
#include "trust.h"
#include "xalloc.h"

extern char **environ;

static void fill_string(char *dst, size_t size, json_t *value)
{
	snprintf(dst, size, "%s", json_string_value(value) ?: "");
}

/* vnet.show for each VNet and share.show for each share, in flight
 * together. A VNet or share that does not exist has no policy: the attach
 * or share.use that follows fails with the daemon's usual message. */
static int query_policies(const struct trust_clients *cl, const struct hook_spec *spec,
			  struct trust_check *check, struct pw_error *err)
{
	struct daemon_call vnets[HOOK_VNETS_MAX] = {}, shares[HOOK_VOLUMES_MAX] = {};
	struct rpc_client *netd = NULL, *volumed = NULL;
	size_t share_count = 0;
	int r = 0;

	for (size_t i = 0; i < spec->vnet_count; i++) {
		vnets[i].method = "vnet.show";
		vnets[i].params = json_pack("{s:s}", "name", spec->vnets[i]);
	}
	for (size_t i = 0; i < spec->volume_count; i++) {
		bool seen = false;

		for (size_t j = 0; j < share_count; j++)
			seen = seen ||
			       streq(json_string_value(json_object_get(shares[j].params, "name")),
				     spec->volumes[i].share);
		if (seen)
			continue;
		shares[share_count].method = "share.show";
		shares[share_count++].params = json_pack("{s:s}", "name", spec->volumes[i].share);
	}
	/* A container with shares only needs no netd, as without trust. */
	if (spec->vnet_count > 0) {
		r = cl->get(cl->ctx, "netd", &netd, err);
		if (r < 0)
			goto out;
		r = daemon_send_many(netd, vnets, spec->vnet_count, err);
		if (r < 0) {
			pw_error_wrap(err, r, "podwire-netd");
			goto out;
		}
	}
	if (share_count > 0) {
		r = cl->get(cl->ctx, "volumed", &volumed, err);
		if (r >= 0)
			r = daemon_send_many(volumed, shares, share_count, err);
		if (r < 0) {
			pw_error_wrap(err, r, "podwire-volumed");
			goto out;
		}
	}
	if (netd)
		r = daemon_recv_many(netd, "netd", vnets, spec->vnet_count, err);
	if (r >= 0 && volumed)
		r = daemon_recv_many(volumed, "volumed", shares, share_count, err);
	trace_step("trust policies read");
	if (r < 0)
		goto out;

	check->have_domains = true;
	for (size_t i = 0; i < spec->vnet_count && r >= 0; i++) {
		json_t *res = vnets[i].result;

		check->domains[i][0] = '\0';
		if (vnets[i].r == -ENOENT) {
			check->have_domains = false;
			continue;
		}
		if (vnets[i].r < 0) {
			daemon_call_error(&vnets[i], err);
			r = pw_error_wrap(err, vnets[i].r, "vnet '%s'", spec->vnets[i]);
			break;
		}
		fill_string(check->domains[i], sizeof(check->domains[i]),
			    json_object_get(res, "domain"));
		r = trust_check_add(check, false, spec->vnets[i],
				    json_string_value(json_object_get(res, "trust")),
				    json_string_value(json_object_get(res, "trust_keys")), err);
	}
	for (size_t i = 0; i < share_count && r >= 0; i++) {
		const char *name = json_string_value(json_object_get(shares[i].params, "name"));
		json_t *res = shares[i].result;

		if (shares[i].r == -ENOENT)
			continue;
		if (shares[i].r < 0) {
			daemon_call_error(&shares[i], err);
			r = pw_error_wrap(err, shares[i].r, "share '%s'", name);
			break;
		}
		r = trust_check_add(check, true, name,
				    json_string_value(json_object_get(res, "trust")),
				    json_string_value(json_object_get(res, "trust_keys")), err);
	}
out:
	daemon_calls_done(vnets, spec->vnet_count);
	daemon_calls_done(shares, share_count);
	return r;
}

/* trust.keyset.show for each keyset; a missing one makes an untrusted
 * verdict of its own (trust-spec: reason "keyset 'K' not found"). */
static int query_keysets(struct rpc_client *netd, struct trust_check *check, struct pw_error *err)
{
	struct daemon_call calls[TRUST_OBJECTS_MAX] = {};
	int r;

	for (size_t i = 0; i < check->keyset_count; i++) {
		calls[i].method = "trust.keyset.show";
		calls[i].params = json_pack("{s:s}", "name", check->keysets[i].name);
	}
	r = daemon_send_many(netd, calls, check->keyset_count, err);
	if (r < 0)
		pw_error_wrap(err, r, "podwire-netd");
	else
		r = daemon_recv_many(netd, "netd", calls, check->keyset_count, err);
	for (size_t i = 0; i < check->keyset_count && r >= 0; i++) {
		struct trust_keyset *ks = &check->keysets[i];
		json_t *res = calls[i].result;

		if (calls[i].r == -ENOENT) {
			ks->found = false;
			ks->verdict = (struct trust_verdict_info){.trusted = false};
			snprintf(ks->verdict.reason, sizeof(ks->verdict.reason),
				 "keyset '%s' not found", ks->name);
			strcpy(ks->verdict.message, ks->verdict.reason);
			strcpy(ks->verdict.image, "(not checked)");
			strcpy(ks->verdict.digest, "(not checked)");
			continue;
		}
		if (calls[i].r < 0) {
			daemon_call_error(&calls[i], err);
			r = pw_error_wrap(err, calls[i].r, "keyset '%s'", ks->name);
			break;
		}
		ks->found = true;
		fill_string(ks->cosign_key, sizeof(ks->cosign_key),
			    json_object_get(res, "cosign_key_path"));
		fill_string(ks->gpg_keyring, sizeof(ks->gpg_keyring),
			    json_object_get(res, "gpg_keyring_path"));
		fill_string(ks->repository, sizeof(ks->repository),
			    json_object_get(res, "repository"));
		if ((ks->cosign_key[0] && ks->cosign_key[0] != '/') ||
		    (ks->gpg_keyring[0] && ks->gpg_keyring[0] != '/') ||
		    (!ks->cosign_key[0] && !ks->gpg_keyring[0]))
			r = pw_error_set(err, -EBADMSG,
					 "netd reply: keyset '%s' has no absolute key paths",
					 ks->name);
	}
	trace_step("trust keysets read");
	daemon_calls_done(calls, check->keyset_count);
	return r;
}

/* podwire-trust next to the hook's own binary. */
static int helper_path(const struct trust_config *cfg, char *buf, size_t size, struct pw_error *err)
{
	char self[PATH_MAX];
	ssize_t n;
	char *slash;

	if (cfg->helper) {
		snprintf(buf, size, "%s", cfg->helper);
		return 0;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		return pw_error_set(err, -errno, "cannot find podwire-trust: /proc/self/exe: %m");
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (!slash)
		return pw_error_set(err, -ENOENT, "cannot find podwire-trust next to %s", self);
	*slash = '\0';
	if ((size_t)snprintf(buf, size, "%s/%s", self, TRUST_HELPER_NAME) >= size)
		return pw_error_set(err, -ENAMETOOLONG, "cannot find podwire-trust: path too long");
	return 0;
}

struct helper_run {
	pid_t pid;
	int pidfd;
	int out_fd, err_fd; /* memfds: no pipe to drain while waiting */
};

static void helper_run_done(struct helper_run *h)
{
	if (h->pid > 0) {
		kill(h->pid, SIGKILL);
		(void)waitpid(h->pid, NULL, 0);
	}
	if (h->pidfd >= 0)
		close(h->pidfd);
	if (h->out_fd >= 0)
		close(h->out_fd);
	if (h->err_fd >= 0)
		close(h->err_fd);
	*h = (struct helper_run){.pid = 0, .pidfd = -1, .out_fd = -1, .err_fd = -1};
}

static int helper_start(const char *const argv[], struct helper_run *h, struct pw_error *err)
{
	posix_spawn_file_actions_t fa;
	int r;

	h->out_fd = memfd_create("podwire-trust-out", MFD_CLOEXEC);
	h->err_fd = memfd_create("podwire-trust-err", MFD_CLOEXEC);
	if (h->out_fd < 0 || h->err_fd < 0)
		return pw_error_set(err, -errno, "memfd_create: %m");
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, h->out_fd, 1);
	posix_spawn_file_actions_adddup2(&fa, h->err_fd, 2);
	r = posix_spawn(&h->pid, argv[0], &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (r != 0) {
		h->pid = 0;
		return pw_error_set(err, -r, "cannot run %s: %s", argv[0], strerror(r));
	}
	/* Our unreaped child: its pid cannot be reused, so this is its pidfd. */
	h->pidfd = pidfd_open(h->pid, 0);
	if (h->pidfd < 0)
		return pw_error_set(err, -errno, "pidfd_open: %m");
	return 0;
}

static char *read_memfd(int fd)
{
	off_t size = lseek(fd, 0, SEEK_END);
	size_t len;
	char *buf;
	ssize_t n;

	if (size < 0)
		size = 0;
	len = (size_t)size > TRUST_HELPER_OUTPUT_MAX ? TRUST_HELPER_OUTPUT_MAX : (size_t)size;
	buf = xmalloc(len + 1);
	n = pread(fd, buf, len, 0);
	buf[n > 0 ? (size_t)n : 0] = '\0';
	return buf;
}

static int helper_wait(struct helper_run *h, uint64_t deadline_ms, struct trust_verdict_info *ret,
		       struct pw_error *err)
{
	struct pollfd pfd = {.fd = h->pidfd, .events = POLLIN};
	_cleanup_free_ char *out = NULL, *errtext = NULL;
	int status, r;

	for (;;) {
		uint64_t now = now_ms();

		r = now >= deadline_ms ? 0 : poll(&pfd, 1, (int)(deadline_ms - now));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return pw_error_set(err, -errno, "poll: %m");
		if (r == 0)
			return pw_error_set(err, -ETIMEDOUT,
					    "podwire-trust gave no verdict within %d s",
					    TRUST_HELPER_TIMEOUT_MS / 1000);
		break;
	}
	if (waitpid(h->pid, &status, 0) < 0)
		return pw_error_set(err, -errno, "waitpid: %m");
	h->pid = 0;
	out = read_memfd(h->out_fd);
	errtext = read_memfd(h->err_fd);
	return trust_verdict_parse(status, out, strlen(out), errtext, ret, err);
}

/* One podwire-trust run per found keyset, all started before any is
 * waited for. */
static int run_helpers(const struct trust_config *cfg, const struct trust_target *target,
		       struct trust_check *check, struct pw_error *err)
{
	struct helper_run runs[TRUST_OBJECTS_MAX];
	char helper[PATH_MAX];
	uint64_t deadline;
	int r = 0;

	for (size_t i = 0; i < check->keyset_count; i++)
		runs[i] = (struct helper_run){.pidfd = -1, .out_fd = -1, .err_fd = -1};
	r = helper_path(cfg, helper, sizeof(helper), err);
	for (size_t i = 0; i < check->keyset_count && r >= 0; i++) {
		const char *argv[TRUST_ARGV_MAX];

		if (!check->keysets[i].found)
			continue;
		trust_helper_argv(helper, cfg, target, &check->keysets[i], argv);
		r = helper_start(argv, &runs[i], err);
	}
	deadline = now_ms() + TRUST_HELPER_TIMEOUT_MS;
	for (size_t i = 0; i < check->keyset_count && r >= 0; i++) {
		if (!check->keysets[i].found)
			continue;
		r = helper_wait(&runs[i], deadline, &check->keysets[i].verdict, err);
		if (r < 0)
			pw_error_wrap(err, r, "keyset '%s'", check->keysets[i].name);
		else
			log_debug("keyset '%s': image %s (%s): %s: %s", check->keysets[i].name,
				  check->keysets[i].verdict.image, check->keysets[i].verdict.digest,
				  check->keysets[i].verdict.reason,
				  check->keysets[i].verdict.message);
	}
	for (size_t i = 0; i < check->keyset_count; i++)
		helper_run_done(&runs[i]);
	trace_step("podwire-trust done");
	/* The inner messages name the helper (cannot run PATH, podwire-trust
	 * gave no verdict: ...). */
	if (r < 0)
		return pw_error_wrap(err, r, "trust check");
	return 0;
}

/* The verdict without a run: a bundle that names another container. */
static void foreign_bundle_verdicts(const struct trust_target *target, const char *state_id,
				    struct trust_check *check)
{
	for (size_t i = 0; i < check->keyset_count; i++) {
		struct trust_verdict_info *v = &check->keysets[i].verdict;

		if (!check->keysets[i].found)
			continue;
		*v = (struct trust_verdict_info){.trusted = false};
		strcpy(v->image, "(no image)");
		strcpy(v->digest, "(no digest)");
		strcpy(v->reason, "no identity");
		snprintf(v->message, sizeof(v->message),
			 "bundle %s names container %.12s, the runtime runs %.12s", target->bundle,
			 target->container_id, state_id);
	}
}

/* trust.report for every object under a policy whose verdict is
 * untrusted: netd counts, logs and emits the event. */
static int report_untrusted(struct rpc_client *netd, const struct hook_spec *spec,
			    const struct trust_check *check, struct pw_error *err)
{
	struct daemon_call calls[TRUST_OBJECTS_MAX] = {};
	size_t count = 0;
	int r;

	for (size_t i = 0; i < check->object_count; i++) {
		const struct trust_object *o = &check->objects[i];
		const struct trust_verdict_info *v = &check->keysets[o->keyset].verdict;

		if (o->mode == TRUST_MODE_OFF || v->trusted)
			continue;
		calls[count].method = "trust.report";
		calls[count++].params =
		    json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "kind",
			      o->share ? "share" : "vnet", "name", o->name, "mode",
			      trust_mode_name(o->mode), "group", spec->group, "image", v->image,
			      "digest", v->digest, "reason", v->reason, "message", v->message);
	}
	r = daemon_send_many(netd, calls, count, err);
	if (r < 0)
		pw_error_wrap(err, r, "podwire-netd");
	else
		r = daemon_recv_many(netd, "netd", calls, count, err);
	for (size_t i = 0; i < count && r >= 0; i++)
		if (calls[i].r < 0)
			r = daemon_call_error(&calls[i], err);
	daemon_calls_done(calls, count);
	trace_step("trust.report");
	/* Audit's whole point is the count: a report that does not reach
	 * netd fails the start rather than admitting unseen. */
	if (r < 0)
		return pw_error_wrap(err, r, "report an untrusted image to podwire-netd");
	return 0;
}

int trust_check_run(const struct trust_clients *cl, const struct trust_config *cfg,
		    const struct hook_spec *spec, const char *state_id, const char *bundle,
		    const char *rootfs, json_t *annotations, struct trust_check *check,
		    struct pw_error *err)
{
	_cleanup_free_ char *bundle_real = NULL, *run_root_real = NULL;
	struct trust_target target;
	struct rpc_client *netd;
	const char *run_root;
	int refused, r;

	r = query_policies(cl, spec, check, err);
	if (r < 0 || !trust_check_needed(check))
		return r;

	/* netd keeps the keysets and the counters. */
	r = cl->get(cl->ctx, "netd", &netd, err);
	if (r >= 0)
		r = query_keysets(netd, check, err);
	if (r < 0)
		return r;
	run_root = cfg->run_root
		       ?: (!cfg->graph_root || streq(cfg->graph_root, TRUST_DEFAULT_GRAPH_ROOT)
			       ? TRUST_DEFAULT_RUN_ROOT
			       : NULL);
	bundle_real = bundle ? realpath(bundle, NULL) : NULL;
	run_root_real = run_root ? realpath(run_root, NULL) : NULL;
	trust_target_build(state_id, bundle ?: "", bundle_real, rootfs, run_root_real, annotations,
			   &target);
	if (target.foreign_bundle)
		foreign_bundle_verdicts(&target, state_id, check);
	else
		r = run_helpers(cfg, &target, check, err);
	if (r >= 0)
		r = report_untrusted(netd, spec, check, err);
	if (r < 0)
		return r;
	refused = trust_check_refused(check);
	if (refused >= 0) {
		trust_refusal_message(check, (size_t)refused, err);
		return -EPERM;
	}
	return 0;
}
