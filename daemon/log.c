/* log.c - stderr logging for vpnd. Lines go out whole (one write each) so
 * they do not interleave with other processes' output under systemd; when
 * stderr is the journal (JOURNAL_STREAM set) each starts with its syslog
 * priority "<N>", which journald strips and keeps as the entry's PRIORITY.
 * Also here: log_safe, which escapes text from the network for a line,
 * and the budgets that bound the lines a remote party can cause. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/log.h"

int log_verbosity = LOG_LVL_INFO;

/* syslog priorities (sd-daemon.h's SD_WARNING ...), for the journal */
#define PRI_CRIT	2
#define PRI_WARNING	4
#define PRI_INFO	6
#define PRI_DEBUG	7

/* Read each time, not cached: cheap next to a write, and a test (or a
 * daemon that re-executes) may change it. */
static bool log_to_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");

	return js != NULL && js[0] != '\0';
}

static void vlog(int pri, const char *level, const char *fmt, va_list ap, int err)
{
	char line[1024];
	int n;

	n = log_to_journal() ?
	    snprintf(line, sizeof(line), "<%d>%s ", pri, level) :
	    snprintf(line, sizeof(line), "%s ", level);
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

#define LOGFN(name, lvl, pri, word, witherr)			\
void name(const char *fmt, ...)					\
{								\
	int err = errno;					\
	va_list ap;						\
								\
	if (log_verbosity < (lvl))				\
		return;						\
	va_start(ap, fmt);					\
	vlog(pri, word, fmt, ap, (witherr) ? err : 0);		\
	va_end(ap);						\
	errno = err;						\
}

static void log_line(int pri, const char *level, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void log_line(int pri, const char *level, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(pri, level, fmt, ap, err);
	va_end(ap);
}

LOGFN(log_warn, LOG_LVL_WARN, PRI_WARNING, "warn", 1)
LOGFN(log_warnx, LOG_LVL_WARN, PRI_WARNING, "warn", 0)
LOGFN(log_info, LOG_LVL_INFO, PRI_INFO, "info", 0)
LOGFN(log_debug, LOG_LVL_DEBUG, PRI_DEBUG, "debug", 0)

void fatal(const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog(PRI_CRIT, "fatal", fmt, ap, err);
	va_end(ap);
	exit(1);
}

void fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(PRI_CRIT, "fatal", fmt, ap, 0);
	va_end(ap);
	exit(1);
}

/* --- text from the network --- */

/* The length of the well-formed UTF-8 sequence at s (RFC 3629: no
 * overlongs, no surrogates, nothing above U+10FFFF), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t len)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0;		/* overlong */
	else if (s[0] == 0xed)
		hi = 0x9f;		/* UTF-16 surrogates */
	else if (s[0] == 0xf0)
		lo = 0x90;		/* overlong */
	else if (s[0] == 0xf4)
		hi = 0x8f;		/* above U+10FFFF */
	if (len < n || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

/* Well-formed, yet they move or hide text on a terminal or in a viewer:
 * C1 controls, line and paragraph separators, bidirectional overrides
 * and isolates ("Trojan Source"). */
static bool utf8_unsafe(const unsigned char *s, size_t n)
{
	uint32_t cp;

	if (n == 2)
		return s[0] == 0xc2 && s[1] < 0xa0;
	if (n != 3)
		return false;
	cp = (uint32_t)(s[0] & 0x0f) << 12 | (uint32_t)(s[1] & 0x3f) << 6 |
	    (s[2] & 0x3f);
	return (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/* The escaped form of the character at s into out (up to 4 bytes or one
 * \xNN, NUL-terminated); returns its length and sets *used to the input
 * bytes it stands for. */
static size_t safe_piece(const unsigned char *s, size_t len, char out[8],
    size_t *used)
{
	size_t n;

	*used = 1;
	if (s[0] == '\\' || s[0] == '"') {
		out[0] = '\\';
		out[1] = (char)s[0];
		out[2] = '\0';
		return 2;
	}
	if (s[0] >= 0x20 && s[0] < 0x7f) {
		out[0] = (char)s[0];
		out[1] = '\0';
		return 1;
	}
	if ((n = utf8_seq(s, len)) > 0 && !utf8_unsafe(s, n)) {
		memcpy(out, s, n);
		out[n] = '\0';
		*used = n;
		return n;
	}
	snprintf(out, 8, "\\x%02x", s[0]);
	return 4;
}

char *log_safe(char *dst, size_t size, const void *src, size_t len)
{
	const unsigned char *s = src;
	size_t i, o = 0, total = 0, used, n, limit;
	char piece[8];

	if (size == 0)
		return dst;
	for (i = 0; i < len && total < size; i += used)
		total += safe_piece(s + i, len - i, piece, &used);
	/* All of it fits, or room is kept for the "..." that says it did not. */
	limit = total < size ? size - 1 : size - 1 - (size > 3 ? 3 : size - 1);
	for (i = 0; i < len; i += used) {
		n = safe_piece(s + i, len - i, piece, &used);
		if (o + n > limit)
			break;
		memcpy(dst + o, piece, n);
		o += n;
	}
	for (n = 0; i < len && n < 3 && o < size - 1; n++)
		dst[o++] = '.';
	dst[o] = '\0';
	return dst;
}

/* --- budgets for lines a remote party can cause --- */

void log_budget_init(struct log_budget *b, const char *what,
    enum log_level level, unsigned lines, uint64_t period_ms)
{
	*b = (struct log_budget)LOG_BUDGET_INIT(what, level, lines, period_ms);
}

static void budget_summary(struct log_budget *b)
{
	static const char *const words[] = { "warn", "info", "debug" };
	static const int pris[] = { PRI_WARNING, PRI_INFO, PRI_DEBUG };

	if (b->lb_suppressed > 0 && log_verbosity >= (int)b->lb_level)
		log_line(pris[b->lb_level], words[b->lb_level], 0, "%s: suppressed %llu lines "
		    "(more than %u in %llu %s)", b->lb_what, b->lb_suppressed,
		    b->lb_lines, b->lb_period_ms % 1000 == 0 ?
		    (unsigned long long)(b->lb_period_ms / 1000) :
		    (unsigned long long)b->lb_period_ms,
		    b->lb_period_ms % 1000 == 0 ? "s" : "ms");
	b->lb_suppressed = 0;
}

/* A new period begins once the current one is over; a clock that went
 * backwards (it should not: uv_now is monotonic) starts one too. */
static void budget_roll(struct log_budget *b, uint64_t now)
{
	if (b->lb_begun && now >= b->lb_start && now - b->lb_start < b->lb_period_ms)
		return;
	budget_summary(b);
	b->lb_begun = true;
	b->lb_start = now;
	b->lb_used = 0;
}

bool log_budget_take(struct log_budget *b, uint64_t now_ms)
{
	int err = errno;
	bool ok;

	budget_roll(b, now_ms);
	if ((ok = b->lb_used < b->lb_lines))
		b->lb_used++;
	else
		b->lb_suppressed++;
	errno = err;
	return ok;
}

void log_budget_flush(struct log_budget *b, uint64_t now_ms)
{
	int err = errno;

	if (b->lb_suppressed == 0)
		return;
	if (now_ms == UINT64_MAX)
		budget_summary(b);
	else
		budget_roll(b, now_ms);
	errno = err;
}
