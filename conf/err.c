/* err.c - filling and printing struct conf_err. */
#include <errno.h>
#include <stdio.h>

#include "conf/err.h"

int conf_err_vset(struct conf_err *err, const char *file, int line, int errnum,
    const char *fmt, va_list ap)
{
	if (err != NULL) {
		snprintf(err->file, sizeof(err->file), "%s", file);
		err->line = line;
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	}
	return errnum > 0 ? -errnum : -EINVAL;
}

int conf_err_set(struct conf_err *err, const char *file, int line, int errnum,
    const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = conf_err_vset(err, file, line, errnum, fmt, ap);
	va_end(ap);
	return rc;
}

const char *conf_err_str(const struct conf_err *err, char *buf, size_t len)
{
	if (err->file[0] == '\0')
		snprintf(buf, len, "%s", err->msg);
	else if (err->line > 0)
		snprintf(buf, len, "%s:%d: %s", err->file, err->line, err->msg);
	else
		snprintf(buf, len, "%s: %s", err->file, err->msg);
	return buf;
}
