/* err.h - the error every module that reads a file fills: the file, the
 * line and a message that starts with the key, printed the way operators
 * read them, "server.conf:7: network: \"10.8.0.0/33\" is not a CIDR prefix".
 * conf.c, allow.c and include.c fill it; the daemon prints it. */
#ifndef VPND_ERR_H
#define VPND_ERR_H

#include <limits.h>
#include <stdarg.h>
#include <stddef.h>

/* line is 0 when no line applies; file is "" when no file does. */
struct conf_err {
	char file[PATH_MAX];
	int  line;
	char msg[160];
};

/* Fill *err (NULL: nothing to fill) and return -errnum, or -EINVAL when
 * errnum is 0: a failure is never returned as success. */
int conf_err_set(struct conf_err *err, const char *file, int line, int errnum,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
int conf_err_vset(struct conf_err *err, const char *file, int line, int errnum,
                  const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));
/* "FILE:LINE: MSG" (or "FILE: MSG", or "MSG") into buf; returns buf. */
const char *conf_err_str(const struct conf_err *err, char *buf, size_t len);

#endif
