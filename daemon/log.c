/* log.c - stderr logging for vpnd. Lines go out whole (one write each) so
 * they do not interleave with other processes' output under systemd. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/log.h"

int log_verbosity = LOG_LVL_INFO;

static void vlog(const char *level, const char *fmt, va_list ap, int err)
{
	char line[1024];
	int n;

	n = snprintf(line, sizeof(line), "%s ", level);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	if (n >= (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	if (err)
		n += snprintf(line + n, sizeof(line) - (size_t)n, ": %s", strerror(err));
	if (n >= (int)sizeof(line) - 1)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}

#define LOGFN(name, lvl, word, witherr)				\
void name(const char *fmt, ...)					\
{								\
	int err = errno;					\
	va_list ap;						\
								\
	if (log_verbosity < (lvl))				\
		return;						\
	va_start(ap, fmt);					\
	vlog(word, fmt, ap, (witherr) ? err : 0);		\
	va_end(ap);						\
	errno = err;						\
}

LOGFN(log_warn, LOG_LVL_WARN, "warn", 1)
LOGFN(log_warnx, LOG_LVL_WARN, "warn", 0)
LOGFN(log_info, LOG_LVL_INFO, "info", 0)
LOGFN(log_debug, LOG_LVL_DEBUG, "debug", 0)

void fatal(const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog("fatal", fmt, ap, err);
	va_end(ap);
	exit(1);
}

void fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("fatal", fmt, ap, 0);
	va_end(ap);
	exit(1);
}
