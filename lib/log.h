/* Logging to stderr, one line per event:
 *   2026-11-28T07:40:01.123Z podwire-netd info: group attached group=web vnet=prod ip=10.1.0.2
 * The message is free text followed by key=value pairs, so lines can be read
 * by people and grepped by scripts. Library code logs at debug only.
 * When stderr is the journal (a systemd unit: JOURNAL_STREAM names it), a
 * line is "<6>group attached ...": the journal adds the time and the
 * identifier and takes the priority from the sd-daemon(3) prefix. */
#pragma once

#include "macro.h"

enum log_level {
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_INFO,
	LOG_LEVEL_WARN,
	LOG_LEVEL_ERROR,
};

void log_set_ident(const char *ident);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Accepts debug|info|warn|error; returns -EINVAL otherwise. */
int log_level_parse(const char *name, enum log_level *ret_level);

void log_msg(enum log_level level, const char *fmt, ...) _printf_(2, 3);

/* Logs "<message>: <strerror(-r)>" and returns r (a negative errno), for
 * one-line log-and-return in daemon code. */
int log_errno(enum log_level level, int r, const char *fmt, ...) _printf_(3, 4);

#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn_errno(r, ...) log_errno(LOG_LEVEL_WARN, (r), __VA_ARGS__)
#define log_error_errno(r, ...) log_errno(LOG_LEVEL_ERROR, (r), __VA_ARGS__)
