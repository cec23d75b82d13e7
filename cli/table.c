/* Aligned text tables for the CLI's human output (see cli.h). Cells are
 * copied; widths are computed at print time. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "xalloc.h"

struct table {
	size_t column_count;
	size_t row_count; /* including the header row */
	char **cells; /* row-major */
};

static void table_add_cells(struct table *t, va_list ap)
{
	t->cells = xrealloc(t->cells, sizeof(char *) * t->column_count * (t->row_count + 1));
	for (size_t i = 0; i < t->column_count; i++) {
		const char *cell = va_arg(ap, const char *);
		t->cells[t->row_count * t->column_count + i] = xstrdup(strempty(cell) ? "-" : cell);
	}
	t->row_count++;
}

struct table *table_new(size_t column_count, ...)
{
	struct table *t = xcalloc(1, sizeof(*t));
	va_list ap;

	t->column_count = column_count;
	va_start(ap, column_count);
	table_add_cells(t, ap);
	va_end(ap);
	return t;
}

void table_add_row(struct table *t, ...)
{
	va_list ap;

	va_start(ap, t);
	table_add_cells(t, ap);
	va_end(ap);
}

void table_print(struct table *t, FILE *out)
{
	size_t widths[t->column_count];

	memset(widths, 0, sizeof(widths));
	for (size_t r = 0; r < t->row_count; r++)
		for (size_t c = 0; c < t->column_count; c++)
			widths[c] = MAX(widths[c], strlen(t->cells[r * t->column_count + c]));
	for (size_t r = 0; r < t->row_count; r++) {
		for (size_t c = 0; c < t->column_count; c++) {
			const char *cell = t->cells[r * t->column_count + c];
			bool last = c + 1 == t->column_count;
			if (r == 0) {
				for (const char *p = cell; *p; p++)
					fputc(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p, out);
			} else {
				fputs(cell, out);
			}
			if (!last)
				fprintf(out, "%*s", (int)(widths[c] - strlen(cell) + 2), "");
		}
		fputc('\n', out);
	}
}

void table_free(struct table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->row_count * t->column_count; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}
