/* Line framing for stream sockets (see line-buffer.h).
 *
 * Invariants: data[start..len) holds unconsumed bytes; data[start..scan)
 * holds no '\n'; the partial line at the end never exceeds limit bytes (it
 * is dropped and reported as oversized instead), so the buffer stays below
 * limit + READ_CHUNK. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "line-buffer.h"
#include "macro.h"

#define READ_CHUNK 65536

void line_buffer_init(struct line_buffer *lb, size_t limit)
{
	*lb = (struct line_buffer){ .limit = limit };
}

void line_buffer_done(struct line_buffer *lb)
{
	free(lb->data);
	*lb = (struct line_buffer){};
}

static int make_room(struct line_buffer *lb, size_t extra)
{
	if (lb->start > 0) {
		memmove(lb->data, lb->data + lb->start, lb->len - lb->start);
		lb->len -= lb->start;
		lb->scan -= lb->start;
		lb->start = 0;
	}
	if (lb->len + extra + 1 <= lb->cap)
		return 0;
	size_t cap = MAX(lb->cap * 2, lb->len + extra + 1);
	char *p = realloc(lb->data, cap);
	if (!p)
		return -ENOMEM;
	lb->data = p;
	lb->cap = cap;
	return 0;
}

/* While skipping an oversized line, drop bytes up to and including its
 * '\n'. */
static void skip_oversized(struct line_buffer *lb)
{
	if (!lb->skipping)
		return;
	char *nl = memchr(lb->data + lb->start, '\n', lb->len - lb->start);
	if (!nl) {
		lb->len = lb->start;
	} else {
		lb->start = (size_t)(nl - lb->data) + 1;
		lb->skipping = false;
	}
	lb->scan = lb->start;
}

int line_buffer_append(struct line_buffer *lb, const void *data, size_t size)
{
	int r = make_room(lb, size);
	if (r < 0)
		return r;
	memcpy(lb->data + lb->len, data, size);
	lb->len += size;
	skip_oversized(lb);
	return 0;
}

ssize_t line_buffer_read(struct line_buffer *lb, int fd)
{
	int r = make_room(lb, READ_CHUNK);
	if (r < 0)
		return r;
	ssize_t n = read(fd, lb->data + lb->len, READ_CHUNK);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	lb->len += (size_t)n;
	skip_oversized(lb);
	return n;
}

enum line_status line_buffer_next(struct line_buffer *lb, char **ret_line, size_t *ret_len)
{
	char *nl = NULL;

	if (lb->skipping)
		return LINE_NONE;
	if (lb->len > lb->scan)
		nl = memchr(lb->data + lb->scan, '\n', lb->len - lb->scan);
	if (!nl) {
		lb->scan = lb->len;
		if (lb->len - lb->start > lb->limit) {
			/* Partial line already over the limit: drop what we
			 * have and the rest of it as it arrives. */
			lb->len = lb->start;
			lb->scan = lb->start;
			lb->skipping = true;
			return LINE_OVERSIZED;
		}
		return LINE_NONE;
	}
	char *line = lb->data + lb->start;
	size_t line_len = (size_t)(nl - line);
	lb->start = (size_t)(nl - lb->data) + 1;
	lb->scan = lb->start;
	if (line_len > lb->limit)
		return LINE_OVERSIZED;
	*nl = '\0';
	if (line_len > 0 && line[line_len - 1] == '\r')
		line[--line_len] = '\0';
	*ret_line = line;
	*ret_len = line_len;
	return LINE_OK;
}
