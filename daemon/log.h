/* log.h - the daemon's log, OpenBSD style: one line per event on stderr,
 * "LEVEL subject text". Modules return errors; only the daemon logs.
 *
 * Two tools for lines a remote party can cause: log_safe() makes bytes
 * from the network fit for a log line (so a peer cannot forge lines or
 * drive a terminal), and a struct log_budget caps how many such lines a
 * flood can produce (so it cannot fill the disk or hide other lines). */
#ifndef VPND_LOG_H
#define VPND_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum log_level { LOG_LVL_WARN = 0, LOG_LVL_INFO = 1, LOG_LVL_DEBUG = 2 };

extern int log_verbosity;	/* set once at start-up from -v / -q */

#define log_debug_on() (log_verbosity >= LOG_LVL_DEBUG)

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* A size for log_safe's DST that keeps a line readable: up to 255 bytes
 * of text, so up to 255 plain characters or 63 escaped bytes. */
#define LOG_SAFE_BUF 256

/* Copy LEN bytes of untrusted SRC (NULs allowed; need not be terminated)
 * into DST of SIZE bytes as text safe inside a log line, and return DST,
 * always NUL-terminated when SIZE > 0. Printable ASCII and well-formed
 * UTF-8 pass unchanged; '\' and '"' become \\ and \" (so the text can be
 * quoted); every other byte - control characters, DEL, C1 controls,
 * U+2028/U+2029, bidirectional overrides, and bytes that are not
 * well-formed UTF-8 (overlong, surrogates, truncated) - becomes \xNN.
 * What does not fit ends in "..." and an escape is never cut in half. */
char *log_safe(char *dst, size_t size, const void *src, size_t len);

/* At most lb_lines lines per lb_period_ms; the lines over it are counted,
 * and when the next period begins one summary line at lb_level says
 * "WHAT: suppressed N lines ...". One budget per kind of line (denials,
 * accept errors, BYE reasons), in the object that logs them; the caller
 * supplies the time (uv_now), so there is no clock and no global here.
 * Initialise with LOG_BUDGET_INIT or log_budget_init; nothing to free. */
struct log_budget {
	const char        *lb_what;		/* subject of the summary, borrowed */
	enum log_level     lb_level;		/* level of the summary line */
	unsigned           lb_lines;		/* lines per period */
	uint64_t           lb_period_ms;
	uint64_t           lb_start;		/* ms: when this period began */
	unsigned           lb_used;		/* lines taken in this period */
	unsigned long long lb_suppressed;	/* refused since the last summary */
	bool               lb_begun;		/* lb_start is set */
};

#define LOG_BUDGET_INIT(what, level, lines, period_ms) \
	{ .lb_what = (what), .lb_level = (level), .lb_lines = (lines), \
	  .lb_period_ms = (period_ms) }

void log_budget_init(struct log_budget *b, const char *what,
    enum log_level level, unsigned lines, uint64_t period_ms);

/* May the caller log one more line now? true: go ahead (first, if lines
 * were suppressed in an earlier period, their summary has been logged);
 * false: the line is counted as suppressed, do not log it. errno is kept,
 * so `if (log_budget_take(b, now)) log_warn("accept");` works. */
bool log_budget_take(struct log_budget *b, uint64_t now_ms);

/* Log the summary now if lines were suppressed and their period is over
 * (UINT64_MAX: whatever the time, e.g. at shutdown). Call it from a
 * periodic timer so a burst's count is not held back until the next line. */
void log_budget_flush(struct log_budget *b, uint64_t now_ms);

#endif
