/* Listeners per VNet gateway: see listeners.h. */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "listeners.h"
#include "log.h"
#include "xalloc.h"

/* Accept backlog: connections are short DNS exchanges. */
#define LISTENER_TCP_BACKLOG 64
/* Kernel receive buffer for UDP listeners: 1 MiB absorbs bursts between
 * two recvmmsg batches without drops. */
#define LISTENER_UDP_RCVBUF (1024 * 1024)

#ifndef IPV6_FREEBIND
#define IPV6_FREEBIND 78
#endif

static int open_socket(const struct ip_addr *addr, uint16_t port, int type)
{
	struct sockaddr_storage ss;
	socklen_t ss_len;
	int one = 1;

	memset(&ss, 0, sizeof(ss));
	if (addr->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sin->sin_addr = addr->addr.in;
		ss_len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		sin6->sin6_addr = addr->addr.in6;
		ss_len = sizeof(*sin6);
	}
	_cleanup_close_ int fd = socket(addr->family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		return -errno;
	if (addr->family == AF_INET) {
		if (setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one)) < 0)
			return -errno;
	} else {
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0 ||
		    setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &one, sizeof(one)) < 0)
			return -errno;
	}
	if (type == SOCK_DGRAM) {
		int size = LISTENER_UDP_RCVBUF;
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	}
	if (bind(fd, (struct sockaddr *)&ss, ss_len) < 0)
		return -errno;
	if (type == SOCK_STREAM && listen(fd, LISTENER_TCP_BACKLOG) < 0)
		return -errno;
	return TAKE_FD(fd);
}

static void listener_free(struct dnsd *d, struct listener *l)
{
	server_tcp_close_listener(d, l);
	if (l->udp_watch)
		event_loop_remove(d->loop, l->udp_watch);
	accept_pause_done(&l->tcp_pause);
	if (l->tcp_watch)
		event_loop_remove(d->loop, l->tcp_watch);
	if (l->udp_fd >= 0)
		close(l->udp_fd);
	if (l->tcp_fd >= 0)
		close(l->tcp_fd);
	free(l);
}

static int listener_open(struct dnsd *d, struct view *v, const struct ip_addr *addr)
{
	char buf[INET6_ADDRSTRLEN];
	struct listener *l = xcalloc(1, sizeof(*l));
	l->d = d;
	l->view = v;
	l->addr = *addr;
	l->id = ++d->next_listener_id;
	l->udp_fd = l->tcp_fd = -1;

	int r = open_socket(addr, d->opts.port, SOCK_DGRAM);
	if (r < 0)
		goto fail;
	l->udp_fd = r;
	r = open_socket(addr, d->opts.port, SOCK_STREAM);
	if (r < 0)
		goto fail;
	l->tcp_fd = r;
	r = event_loop_add_fd(d->loop, l->udp_fd, EPOLLIN, server_udp_readable, l, &l->udp_watch);
	if (r < 0)
		goto fail;
	r = event_loop_add_fd(d->loop, l->tcp_fd, EPOLLIN, server_tcp_accept, l, &l->tcp_watch);
	if (r < 0)
		goto fail;
	r = accept_pause_init(&l->tcp_pause, d->loop, l->tcp_watch, EPOLLIN);
	if (r < 0)
		goto fail;
	l->next = d->listeners;
	d->listeners = l;
	log_info("listening vnet=%s address=%s port=%u", v->info.name, ip_addr_format(addr, buf),
		 d->opts.port);
	return 0;
fail:
	log_error_errno(r, "cannot listen vnet=%s address=%s port=%u", v->info.name,
			ip_addr_format(addr, buf), d->opts.port);
	listener_free(d, l);
	return r;
}

void listeners_sync(struct dnsd *d, struct view *v)
{
	/* close listeners whose address is no longer a gateway of v */
	struct listener **pp = &d->listeners;
	while (*pp) {
		struct listener *l = *pp;
		bool keep = l->view != v;
		for (size_t i = 0; !keep && i < v->info.gateway_count; i++)
			if (ip_addr_equal(&l->addr, &v->info.gateways[i]))
				keep = true;
		if (keep) {
			pp = &l->next;
			continue;
		}
		*pp = l->next;
		listener_free(d, l);
	}
	for (size_t i = 0; i < v->info.gateway_count; i++) {
		bool have = false;
		for (struct listener *l = d->listeners; l && !have; l = l->next)
			if (l->view == v && ip_addr_equal(&l->addr, &v->info.gateways[i]))
				have = true;
		if (!have)
			listener_open(d, v, &v->info.gateways[i]);
	}
}

void listeners_close_view(struct dnsd *d, struct view *v)
{
	struct listener **pp = &d->listeners;
	while (*pp) {
		struct listener *l = *pp;
		if (l->view != v) {
			pp = &l->next;
			continue;
		}
		*pp = l->next;
		listener_free(d, l);
	}
}

void listeners_close_all(struct dnsd *d)
{
	while (d->listeners) {
		struct listener *l = d->listeners;
		d->listeners = l->next;
		listener_free(d, l);
	}
}

struct listener *listener_find(struct dnsd *d, uint64_t id)
{
	for (struct listener *l = d->listeners; l; l = l->next)
		if (l->id == id)
			return l;
	return NULL;
}
