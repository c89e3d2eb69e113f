/* log.h - the daemon's log, OpenBSD style: one line per event on stderr,
 * "LEVEL subject text". Modules return errors; only the daemon logs. */
#ifndef VPND_LOG_H
#define VPND_LOG_H

#include <stdbool.h>

enum log_level { LOG_LVL_WARN = 0, LOG_LVL_INFO = 1, LOG_LVL_DEBUG = 2 };

extern int log_verbosity;	/* set once at start-up from -v / -q */

#define log_debug_on() (log_verbosity >= LOG_LVL_DEBUG)

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
