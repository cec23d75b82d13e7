/* Allocation wrappers for daemon code: out-of-memory is fatal there (a
 * daemon that cannot allocate cannot keep its state consistent). Code in
 * lib/ does not use these; it returns -ENOMEM instead. */
#pragma once

#include <stdarg.h>
#include <stddef.h>

#include "macro.h"

_Noreturn void xalloc_die(void);
void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) _printf_(1, 2);
