/* notify.c - sd_notify messages to the service manager. libsystemd does the
 * work (the address in NOTIFY_SOCKET, abstract sockets, credentials); this
 * keeps the messages in one place and their format out of the callers.
 * Without NOTIFY_SOCKET there is no manager to tell, and libsystemd is not
 * loaded for it (daemon/sysd.c). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "daemon/notify.h"
#include "daemon/sysd.h"

/* sd_notify's answer: 0 when no manager listens, as sd_notify says too. */
static int notify_send(const char *state)
{
	const struct sysd *sd;

	if (getenv("NOTIFY_SOCKET") == NULL)
		return 0;
	if ((sd = sysd_get()) == NULL)
		return -ELIBACC;
	return sd->notify(0, state);
}

int notify_ready(void)
{
	return notify_send("READY=1");
}

int notify_reloading(void)
{
	return notify_send("RELOADING=1");
}

int notify_stopping(void)
{
	return notify_send("STOPPING=1");
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
	return notify_send(msg);
}
