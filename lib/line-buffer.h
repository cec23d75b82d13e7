/* Accumulates bytes from a stream socket and hands out complete lines
 * ('\n'-terminated). A line longer than the limit is not stored: the
 * buffer skips to the end of it and reports it once as oversized, so a
 * peer cannot make us hold more than `limit` bytes. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct line_buffer {
	char *data;
	size_t start; /* first unconsumed byte */
	size_t len; /* end of the bytes read */
	size_t cap;
	size_t limit;
	size_t scan; /* data[start..scan) holds no '\n' */
	bool skipping; /* inside an oversized line: drop bytes up to its '\n' */
};

void line_buffer_init(struct line_buffer *lb, size_t limit);
void line_buffer_done(struct line_buffer *lb);

/* Reads once from fd (non-blocking). Returns bytes read, 0 at EOF,
 * -EAGAIN when nothing is there, or another negative errno. */
ssize_t line_buffer_read(struct line_buffer *lb, int fd);
/* Appends bytes directly (for tests and non-socket sources). */
int line_buffer_append(struct line_buffer *lb, const void *data, size_t size);

enum line_status {
	LINE_NONE, /* no complete line yet */
	LINE_OK, /* *ret_line points to a NUL-terminated line (no '\n'), valid until the next call */
	LINE_OVERSIZED, /* a line over the limit was skipped */
};
enum line_status line_buffer_next(struct line_buffer *lb, char **ret_line, size_t *ret_len);
