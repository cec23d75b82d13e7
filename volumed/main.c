/* podwire-volumed: parses options and wires the parts together — the
 * event loop with the control socket in the main thread, the shares (each
 * its own FUSE session thread, see fs.h) — then runs until SIGTERM/SIGINT
 * and unmounts and frees everything. */
#include <grp.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "event-loop.h"
#include "log.h"
#include "options.h"
#include "rpc-server.h"
#include "rpc.h"
#include "service.h"
#include "volumed.h"
#include "xalloc.h"

/* Each known inode holds an fd: let volumed have as many as the host allows. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int main(int argc, char **argv)
{
	struct volumed_options opts;
	struct event_loop *loop = NULL;
	struct rpc_server *server = NULL;
	struct volumed v = {.config_fd = -1, .data_fd = -1, .snapshots_fd = -1, .users_fd = -1};
	struct pw_error err = {};
	_cleanup_free_ char *socket_path = NULL;
	int r;

	log_set_ident("podwire-volumed");
	if (volumed_options_parse(argc, argv, &opts, &err) < 0) {
		fprintf(stderr, "podwire-volumed: %s\nTry 'podwire-volumed --help'.\n",
			pw_error_message(&err));
		return 2;
	}
	if (opts.action == VOLUMED_HELP) {
		volumed_usage(stdout);
		return 0;
	}
	if (opts.action == VOLUMED_VERSION_ACTION) {
		printf("podwire-volumed %s\n", VOLUMED_VERSION);
		return 0;
	}
	log_set_level(opts.log_level);
	/* Modes come from the client with its umask already applied. */
	umask(0);
	raise_fd_limit();

	r = event_loop_new(&loop);
	if (r < 0) {
		log_error_errno(r, "creating the event loop failed");
		return 1;
	}
	/* Before any FUSE thread exists, so they all inherit the blocked
	 * SIGTERM/SIGINT and only the loop sees them. */
	r = event_loop_handle_signals(loop);
	if (r < 0) {
		log_error_errno(r, "setting up signal handling failed");
		goto out;
	}
	r = volumed_init(&v, opts.run_dir, opts.state_dir, &err);
	if (r < 0) {
		log_error("%s", pw_error_message(&err));
		goto out;
	}
	/* The socket first: binding it proves no other volumed serves this
	 * run dir, so every mount under it is ours to clear. */
	socket_path = xasprintf("%s/volumed.sock", opts.run_dir);
	r = rpc_server_new(loop, socket_path, volumed_methods, volumed_method_count, &v, &server,
			   &err);
	if (r < 0) {
		log_error("control socket: %s", pw_error_message(&err));
		goto out;
	}
	if (opts.admin_group) {
		struct group *gr = getgrnam(opts.admin_group);
		if (!gr) {
			r = -ENOENT;
			log_error("admin group '%s' does not exist", opts.admin_group);
			goto out;
		}
		r = rpc_server_set_admin_gid(server, gr->gr_gid);
		if (r < 0) {
			log_error_errno(r, "cannot give %s to group %s", socket_path,
					opts.admin_group);
			goto out;
		}
	}
	r = volumed_start(&v);
	if (r < 0)
		goto out;
	log_info("listening socket=%s", socket_path);
	service_notify_ready("serving");
	r = event_loop_run(loop);
	service_notify_stopping();
	log_info("shutting down");
out:
	rpc_server_free(server);
	volumed_done(&v);
	event_loop_free(loop);
	return r < 0 ? 1 : 0;
}
