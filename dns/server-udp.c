/* The UDP server: reads queries in batches with recvmmsg(), answers each
 * into a preallocated slot, and sends all replies with one sendmmsg(). So
 * a burst of N queries costs about 2 syscalls per batch, not 2N.
 *
 * The batch buffers are static: one event-loop thread, and a batch is
 * finished before the next socket is read. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "dnsd.h"
#include "listeners.h"
#include "log.h"

/* Datagrams per recvmmsg: 64 amortises the syscalls well; more only
 * grows the buffers. */
#define UDP_BATCH 64
/* Batches per wake-up before going back to the loop, so one busy VNet
 * cannot starve the others. */
#define UDP_ROUNDS_MAX 8
/* Queries larger than this are not real queries (a question and an OPT
 * fit in 300 bytes); MSG_TRUNC tells us and we drop it. */
#define UDP_QUERY_MAX 4096

static uint8_t in_bufs[UDP_BATCH][UDP_QUERY_MAX];
static uint8_t out_bufs[UDP_BATCH][DNS_EDNS_UDP_MAX];
static struct sockaddr_storage addrs[UDP_BATCH];
static struct iovec in_iov[UDP_BATCH], out_iov[UDP_BATCH];
static struct mmsghdr in_msgs[UDP_BATCH], out_msgs[UDP_BATCH];

void server_udp_send(struct listener *l, const struct sockaddr *addr, socklen_t addr_len,
		     const uint8_t *msg, size_t len)
{
	if (sendto(l->udp_fd, msg, len, MSG_DONTWAIT, addr, addr_len) < 0)
		log_debug("udp send failed: %s", strerror(errno));
}

void server_udp_readable(struct event_loop *loop, int fd, uint32_t events, void *userdata)
{
	struct listener *l = userdata;
	struct dnsd *d = l->d;

	for (int round = 0; round < UDP_ROUNDS_MAX; round++) {
		for (int i = 0; i < UDP_BATCH; i++) {
			in_iov[i].iov_base = in_bufs[i];
			in_iov[i].iov_len = sizeof(in_bufs[i]);
			memset(&in_msgs[i].msg_hdr, 0, sizeof(in_msgs[i].msg_hdr));
			in_msgs[i].msg_hdr.msg_iov = &in_iov[i];
			in_msgs[i].msg_hdr.msg_iovlen = 1;
			in_msgs[i].msg_hdr.msg_name = &addrs[i];
			in_msgs[i].msg_hdr.msg_namelen = sizeof(addrs[i]);
		}
		int n = recvmmsg(fd, in_msgs, UDP_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0) {
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				log_debug("udp receive failed: %s", strerror(errno));
			return;
		}
		int replies = 0;
		for (int i = 0; i < n; i++) {
			struct msghdr *h = &in_msgs[i].msg_hdr;
			d->counters.queries_udp++;
			size_t len = in_msgs[i].msg_len;
			if (h->msg_flags & MSG_TRUNC)
				len = 0; /* dropped by the parser as too short */
			size_t out_len = server_handle_query(
			    d, l, (struct sockaddr *)&addrs[i], h->msg_namelen, in_bufs[i], len,
			    out_bufs[replies], DNS_EDNS_UDP_MAX, 0);
			if (out_len == 0)
				continue;
			out_iov[replies].iov_base = out_bufs[replies];
			out_iov[replies].iov_len = out_len;
			memset(&out_msgs[replies].msg_hdr, 0, sizeof(out_msgs[replies].msg_hdr));
			out_msgs[replies].msg_hdr.msg_iov = &out_iov[replies];
			out_msgs[replies].msg_hdr.msg_iovlen = 1;
			out_msgs[replies].msg_hdr.msg_name = &addrs[i];
			out_msgs[replies].msg_hdr.msg_namelen = h->msg_namelen;
			replies++;
		}
		int sent = 0;
		while (sent < replies) {
			int r =
			    sendmmsg(fd, out_msgs + sent, (unsigned)(replies - sent), MSG_DONTWAIT);
			if (r < 0) {
				if (errno == EINTR)
					continue;
				/* a full socket buffer: the clients will retry */
				log_debug("udp send failed: %s", strerror(errno));
				break;
			}
			sent += r;
		}
		if (n < UDP_BATCH)
			return;
	}
}
