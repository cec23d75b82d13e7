/* sd_notify(3) messages (see service.h). Failures are ignored: a daemon
 * whose manager went away has no one to tell, and serving matters more. */
#include <stdarg.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>

#include "service.h"

void service_notify_ready(const char *status_fmt, ...)
{
	char status[256];
	va_list ap;

	va_start(ap, status_fmt);
	vsnprintf(status, sizeof(status), status_fmt, ap);
	va_end(ap);
	(void)sd_notifyf(0, "READY=1\nSTATUS=%s", status);
}

void service_notify_reloading(void)
{
	(void)sd_notify(0, "RELOADING=1");
}

void service_notify_stopping(void)
{
	(void)sd_notify(0, "STOPPING=1");
}
