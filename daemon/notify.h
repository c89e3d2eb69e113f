/* notify.h - tell the service manager how the daemon is doing (systemd's
 * sd_notify protocol: Type=notify units). Each call is a no-op returning 0
 * when NOTIFY_SOCKET is not set (not started by systemd), so callers need
 * no test of their own; otherwise 1 when the message was sent, or -errno.
 * The socket is opened per message, so the calls work after the
 * privilege drop and under the worker's seccomp filter. */
#ifndef VPND_NOTIFY_H
#define VPND_NOTIFY_H

/* "READY=1": start-up is done (server: listeners, TUN and NAT up), or a
 * reload announced with notify_reloading() is over. */
int notify_ready(void);

/* "RELOADING=1": a reload begins; follow it with notify_ready(). */
int notify_reloading(void);

/* "STOPPING=1": shutdown has begun (SIGTERM/SIGINT). */
int notify_stopping(void);

/* "STATUS=...": one line for `systemctl status`, e.g. the peer count. */
int notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
