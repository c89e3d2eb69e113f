/* notify.c - sd_notify messages to the service manager. libsystemd does the
 * work (the address in NOTIFY_SOCKET, abstract sockets, credentials); this
 * keeps the messages in one place and their format out of the callers. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include <systemd/sd-daemon.h>

#include "daemon/notify.h"

int notify_ready(void)
{
	return sd_notify(0, "READY=1");
}

int notify_reloading(void)
{
	return sd_notify(0, "RELOADING=1");
}

int notify_stopping(void)
{
	return sd_notify(0, "STOPPING=1");
}

int notify_status(const char *fmt, ...)
{
	char msg[256] = "STATUS=";
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg + 7, sizeof(msg) - 7, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	/* a status cut short is still a status; a newline would end it */
	for (char *p = msg; *p != '\0'; p++)
		if (*p == '\n')
			*p = ' ';
	return sd_notify(0, msg);
}
