/* What dnsd reads from outside at start and again on SIGHUP (systemctl
 * reload): the host's upstream name servers from resolv.conf, which change
 * when DHCP, NetworkManager or an admin rewrites the file. VNets that name
 * their own upstreams do not use them. Answers cached from the old
 * upstreams stay until their TTL ends (their cache keys carry the old set's
 * hash, so they are simply not looked up any more). */
#include "dnsd.h"
#include "log.h"
#include "resolvconf.h"
#include "service.h"

int dnsd_load_host_upstreams(struct dnsd *d)
{
	struct upstream_set set;
	int r;

	r = resolvconf_load(d->opts.resolv_conf, &set);
	if (r < 0) {
		/* On reload, an unreadable file (mid-rewrite, removed) keeps
		 * the upstreams dnsd has rather than losing them all. */
		return log_warn_errno(r, "cannot read %s; %s", d->opts.resolv_conf,
				      d->host_upstreams.count > 0
					  ? "keeping the host upstreams read before"
					  : "names without VNet upstreams get SERVFAIL");
	}
	d->host_upstreams = set;
	if (r == 0)
		log_warn("no usable name server in %s (loopback stubs are skipped)",
			 d->opts.resolv_conf);
	else
		log_info("host upstreams from %s count=%d", d->opts.resolv_conf, r);
	return r;
}

void dnsd_reload(struct event_loop *loop, void *userdata)
{
	struct dnsd *d = userdata;

	service_notify_reloading();
	log_info("reloading");
	(void)dnsd_load_host_upstreams(d);
	service_notify_ready("serving");
}
