/* Telling the service manager how a daemon is doing (sd_notify(3)), for
 * systemd units of Type=notify: ready once its state is reconciled and its
 * socket listens, reloading around SIGHUP, stopping on the way out. Each
 * call does nothing when no manager listens (NOTIFY_SOCKET unset), so the
 * daemons run the same by hand and in tests. Linked by the daemons only:
 * the hook and the CNI plugin are static and never services. */
#pragma once

#include "macro.h"

/* "READY=1" with a STATUS= line systemctl status shows. */
void service_notify_ready(const char *status_fmt, ...) _printf_(1, 2);
/* "RELOADING=1": call before re-reading; then service_notify_ready(). */
void service_notify_reloading(void);
/* "STOPPING=1": call once the event loop has ended. */
void service_notify_stopping(void);
