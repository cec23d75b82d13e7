/* Giving memory back after groups go (netd_heap_trim_soon, netd.h).
 *
 * What 1,000 groups leave behind once detached is not in use: glibc's
 * heap grew to hold them and their freed chunks stay in its free lists,
 * but a chunk still in use high in the heap (a buffer allocated during
 * the burst) keeps the top from being trimmed, so the kernel never gets
 * the pages back and RSS stays at its peak. malloc_trim(0) gives every
 * whole free page back (MADV_DONTNEED), wherever it is in the heap; it
 * walks the free lists, so it runs from a timer, at most once per delay,
 * not once per detach.
 *
 * Under AddressSanitizer (the test build) the heap is ASan's and this is
 * a no-op: its quarantine keeps freed memory on purpose (256 MiB by
 * default: the 181 MB that 1,000 groups reached there) to catch uses
 * after free, and purging it would weaken exactly that.
 * tests/system/test-hardening-memory.sh measures the plain build. */
#include <malloc.h>

#include "log.h"
#include "netd.h"

/* Long enough that a burst of detaches trims a few times a second at
 * most; short enough that memory follows a mass detach within a second. */
#define HEAP_TRIM_DELAY_MS 200

static void heap_trim(struct event_loop *loop, void *userdata)
{
	struct netd *netd = userdata;
	uint64_t start = now_us();

	(void)loop;
	netd->trim_armed = false;
	(void)malloc_trim(0);
	log_debug("heap trimmed took_us=%llu", (unsigned long long)(now_us() - start));
}

void netd_heap_trim_soon(struct netd *netd)
{
	int r;

	if (netd->trim_armed || !netd->loop)
		return;
	if (netd->trim_timer)
		r = event_loop_timer_set(netd->loop, netd->trim_timer, HEAP_TRIM_DELAY_MS, 0);
	else
		r = event_loop_add_timer(netd->loop, HEAP_TRIM_DELAY_MS, 0, heap_trim, netd,
					 &netd->trim_timer);
	if (r < 0) {
		log_debug("cannot arm the heap trim timer: %s", strerror(-r));
		return;
	}
	netd->trim_armed = true;
}

void netd_heap_trim_done(struct netd *netd)
{
	if (netd->trim_timer)
		event_loop_remove(netd->loop, netd->trim_timer);
	netd->trim_timer = NULL;
	netd->trim_armed = false;
}
