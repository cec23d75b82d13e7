/* Line-oriented logging to stderr (see log.h). Each line is written with a
 * single write() so lines of concurrent threads do not interleave. Whether
 * stderr is the journal is found out once, at the first line. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static const char *log_ident = "podwire";
static enum log_level log_threshold = LOG_LEVEL_INFO;

static const char *const level_names[] = {
	[LOG_LEVEL_DEBUG] = "debug",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_WARN] = "warn",
	[LOG_LEVEL_ERROR] = "error",
};

void log_set_ident(const char *ident)
{
	log_ident = ident;
}

void log_set_level(enum log_level level)
{
	log_threshold = level;
}

enum log_level log_get_level(void)
{
	return log_threshold;
}

/* The "<N>" prefixes of sd-daemon.h (SD_DEBUG "<7>" ... SD_ERR "<3>"), which
 * the journal reads as the line's priority. Spelled out so lib/ needs no
 * libsystemd header. */
static const char *const journal_prefixes[] = {
	[LOG_LEVEL_DEBUG] = "<7>",
	[LOG_LEVEL_INFO] = "<6>",
	[LOG_LEVEL_WARN] = "<4>",
	[LOG_LEVEL_ERROR] = "<3>",
};

static pthread_once_t journal_once = PTHREAD_ONCE_INIT;
static bool stderr_is_journal;

/* systemd connects a unit's stderr to the journal and says so in
 * JOURNAL_STREAM=DEV:INO (systemd.exec(5)); the check against stderr's own
 * device and inode keeps a redirection (2>file in ExecStart, a child's
 * shell) getting the full lines. */
static void journal_detect(void)
{
	const char *value = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!value || sscanf(value, "%llu:%llu", &dev, &ino) != 2)
		return;
	if (fstat(STDERR_FILENO, &st) < 0)
		return;
	stderr_is_journal = st.st_dev == (dev_t)dev && st.st_ino == (ino_t)ino;
}

int log_level_parse(const char *name, enum log_level *ret_level)
{
	for (size_t i = 0; i < ARRAY_SIZE(level_names); i++)
		if (streq(name, level_names[i])) {
			*ret_level = (enum log_level)i;
			return 0;
		}
	return -EINVAL;
}

static void log_vwrite(enum log_level level, const char *suffix, const char *fmt, va_list ap)
{
	char line[4096];
	struct timeval tv;
	struct tm tm;
	size_t len;

	pthread_once(&journal_once, journal_detect);
	if (stderr_is_journal) {
		/* The journal stamps time, identifier and pid itself. */
		len = snprintf(line, sizeof(line), "%s", journal_prefixes[level]);
	} else {
		gettimeofday(&tv, NULL);
		gmtime_r(&tv.tv_sec, &tm);
		len = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
		len += snprintf(line + len, sizeof(line) - len,
				".%03ldZ %s %s: ", (long)(tv.tv_usec / 1000), log_ident,
				level_names[level]);
	}
	int r = vsnprintf(line + len, sizeof(line) - len, fmt, ap);
	if (r > 0)
		len = MIN(len + (size_t)r, sizeof(line) - 1);
	if (suffix)
		len += snprintf(line + len, sizeof(line) - len, ": %s", suffix);
	len = MIN(len, sizeof(line) - 2);
	line[len++] = '\n';
	/* Best effort: there is nowhere to report a failed log write. */
	ssize_t written = write(STDERR_FILENO, line, len);
	(void)written;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (level < log_threshold)
		return;
	va_start(ap, fmt);
	log_vwrite(level, NULL, fmt, ap);
	va_end(ap);
}

int log_errno(enum log_level level, int r, const char *fmt, ...)
{
	va_list ap;

	if (level < log_threshold)
		return r;
	va_start(ap, fmt);
	log_vwrite(level, strerror(r < 0 ? -r : r), fmt, ap);
	va_end(ap);
	return r;
}
