/* test_log.c - log lines: log_safe's escaping of text from the network,
 * and the budgets that bound lines a remote party can cause. The log goes
 * to stderr, so each test that looks at it points fd 2 at a pipe. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "daemon/log.h"

/* ---- stderr into a pipe ---- */

struct capture {
	int saved;		/* the real stderr */
	int rd;			/* the pipe's read end */
};

static void capture_begin(struct capture *c)
{
	int p[2];

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_true((c->saved = dup(STDERR_FILENO)) >= 0);
	assert_int_equal(dup2(p[1], STDERR_FILENO), STDERR_FILENO);
	close(p[1]);
	c->rd = p[0];
}

/* Restore stderr and return what was written meanwhile, NUL-terminated. */
static const char *capture_end(struct capture *c, char *out, size_t len)
{
	ssize_t n, got = 0;

	assert_int_equal(dup2(c->saved, STDERR_FILENO), STDERR_FILENO);
	close(c->saved);
	while ((n = read(c->rd, out + got, len - 1 - (size_t)got)) > 0)
		got += n;
	close(c->rd);
	out[got] = '\0';
	return out;
}

/* ---- log_safe ---- */

static const char *safe(const char *s, size_t len)
{
	static char buf[LOG_SAFE_BUF];

	return log_safe(buf, sizeof(buf), s, len);
}

#define SAFE(lit) safe((lit), sizeof(lit) - 1)

static void test_safe_plain_text_unchanged(void **state)
{
	(void)state;
	assert_string_equal(SAFE("client stopping"), "client stopping");
	assert_string_equal(SAFE(""), "");
	assert_string_equal(SAFE("~!@#$%^&*()_+{}|:<>?`-=[];',./"),
	    "~!@#$%^&*()_+{}|:<>?`-=[];',./");
}

/* The attack: a BYE reason that ends the line and starts a forged one. */
static void test_safe_escapes_control_characters(void **state)
{
	(void)state;
	assert_string_equal(SAFE("bye\nwarn peer admin allowed"),
	    "bye\\x0awarn peer admin allowed");
	assert_string_equal(SAFE("a\rb\tc\x1b[2Jd\x7f"), "a\\x0db\\x09c\\x1b[2Jd\\x7f");
	assert_string_equal(SAFE("nul\0after"), "nul\\x00after");
	/* quoting stays unambiguous */
	assert_string_equal(SAFE("say \"hi\" \\x0a"), "say \\\"hi\\\" \\\\x0a");
}

static void test_safe_keeps_wellformed_utf8(void **state)
{
	(void)state;
	assert_string_equal(SAFE("caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x94\x91"),
	    "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x94\x91");
	assert_string_equal(SAFE("\xc2\xa0\xef\xbf\xbd\xf4\x8f\xbf\xbf"),
	    "\xc2\xa0\xef\xbf\xbd\xf4\x8f\xbf\xbf");	/* NBSP, U+FFFD, U+10FFFF */
}

static void test_safe_escapes_malformed_utf8(void **state)
{
	(void)state;
	assert_string_equal(SAFE("\x80"), "\\x80");			/* lone continuation */
	assert_string_equal(SAFE("\xc0\xaf"), "\\xc0\\xaf");		/* overlong '/' */
	assert_string_equal(SAFE("\xe0\x80\xaf"), "\\xe0\\x80\\xaf");	/* overlong */
	assert_string_equal(SAFE("\xed\xa0\x80"), "\\xed\\xa0\\x80");	/* surrogate */
	assert_string_equal(SAFE("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80"); /* > U+10FFFF */
	assert_string_equal(SAFE("\xf5\xff"), "\\xf5\\xff");
	assert_string_equal(SAFE("ok\xe6\x97"), "ok\\xe6\\x97");	/* cut short */
	assert_string_equal(SAFE("\xe6" "a\xa5"), "\\xe6a\\xa5");
}

/* Well-formed, yet they hide or move text. */
static void test_safe_escapes_c1_separators_bidi(void **state)
{
	(void)state;
	assert_string_equal(SAFE("a\xc2\x85" "b"), "a\\xc2\\x85b");	/* NEL */
	assert_string_equal(SAFE("a\xc2\x9b" "b"), "a\\xc2\\x9bb");	/* CSI */
	assert_string_equal(SAFE("\xe2\x80\xa8"), "\\xe2\\x80\\xa8");	/* LINE SEP */
	assert_string_equal(SAFE("\xe2\x80\xae" "evil"), "\\xe2\\x80\\xaeevil"); /* RLO */
	assert_string_equal(SAFE("\xe2\x81\xa6"), "\\xe2\\x81\\xa6");	/* LRI */
	assert_string_equal(SAFE("\xe2\x80\x94"), "\xe2\x80\x94");	/* em dash is fine */
}

static void test_safe_bounded_never_cuts_an_escape(void **state)
{
	char out[16], big[100000];
	size_t i;

	(void)state;
	memset(big, 'a', sizeof(big));
	assert_string_equal(log_safe(out, sizeof(out), big, 15), "aaaaaaaaaaaaaaa");
	assert_string_equal(log_safe(out, sizeof(out), big, 16), "aaaaaaaaaaaa...");
	assert_string_equal(log_safe(out, sizeof(out), big, sizeof(big)), "aaaaaaaaaaaa...");
	memset(big, '\n', sizeof(big));
	assert_string_equal(log_safe(out, sizeof(out), big, 3), "\\x0a\\x0a\\x0a");
	assert_string_equal(log_safe(out, sizeof(out), big, 4), "\\x0a\\x0a\\x0a...");
	for (i = 0; i < 20; i++) {	/* every cut point of mixed text */
		log_safe(out, sizeof(out), "ab\n\xe6\x97\xa5\"\x01z" + 0, i < 9 ? i : 9);
		assert_true(strlen(out) < sizeof(out));
		assert_null(strstr(out, "\\x0..."));
	}
	assert_string_equal(log_safe(out, sizeof(out), "ab\xe6\x97\xa5\xe6\x97\xa5"
	    "\xe6\x97\xa5\xe6\x97\xa5\xe6\x97\xa5", 17),
	    "ab\xe6\x97\xa5\xe6\x97\xa5\xe6\x97\xa5...");
	assert_string_equal(log_safe(out, 1, "abc", 3), "");
	assert_string_equal(log_safe(out, 3, "abc", 3), "..");
	out[0] = 'x';
	log_safe(out, 0, "abc", 3);
	assert_int_equal(out[0], 'x');
}

/* The whole way: a hostile reason gives one log line, not two. */
static void test_safe_in_a_log_line(void **state)
{
	static const char reason[] = "x\ninfo peer mallory connected, 10.8.0.9, dtls";
	struct capture c;
	char buf[LOG_SAFE_BUF], out[1024];

	(void)state;
	capture_begin(&c);
	log_warnx("peer alice: BYE \"%s\"", log_safe(buf, sizeof(buf), reason,
	    sizeof(reason) - 1));
	capture_end(&c, out, sizeof(out));
	assert_string_equal(out, "warn peer alice: BYE \"x\\x0ainfo peer mallory "
	    "connected, 10.8.0.9, dtls\"\n");
}

/* ---- budgets ---- */

static void test_budget_allows_burst_then_counts(void **state)
{
	struct log_budget b = LOG_BUDGET_INIT("denied peers", LOG_LVL_INFO, 3, 1000);
	struct capture c;
	char out[1024];
	int i;

	(void)state;
	capture_begin(&c);
	for (i = 0; i < 3; i++)
		assert_true(log_budget_take(&b, 5000 + (uint64_t)i));
	for (i = 0; i < 5; i++)
		assert_false(log_budget_take(&b, 5500));
	assert_false(log_budget_take(&b, 5999));
	assert_string_equal(capture_end(&c, out, sizeof(out)), "");	/* nothing yet */
	assert_int_equal(b.lb_suppressed, 6);

	/* the budget returns: first the summary, then the line may go */
	capture_begin(&c);
	assert_true(log_budget_take(&b, 6000));
	capture_end(&c, out, sizeof(out));
	assert_string_equal(out, "info denied peers: suppressed 6 lines (more than 3 in 1 s)\n");
	assert_true(log_budget_take(&b, 6001));
	assert_true(log_budget_take(&b, 6002));
	assert_false(log_budget_take(&b, 6003));
}

/* A flood of a million lines costs one summary line per period. */
static void test_budget_flood_gives_one_summary_per_period(void **state)
{
	struct log_budget b;
	struct capture c;
	static char out[8192];
	const char *last;
	unsigned i, ok = 0, lines = 0;

	(void)state;
	log_budget_init(&b, "accept", LOG_LVL_WARN, 10, 60000);
	capture_begin(&c);
	for (i = 0; i < 1000000; i++)
		ok += log_budget_take(&b, i);		/* 1,000 s at one per ms */
	log_budget_flush(&b, UINT64_MAX);
	log_budget_flush(&b, UINT64_MAX);		/* nothing left to say */
	capture_end(&c, out, sizeof(out));
	assert_int_equal(ok, 10 * 17);			/* periods at 0, 60, ... 960 s */
	for (i = 0; out[i]; i++)
		lines += out[i] == '\n';
	assert_int_equal(lines, 17);
	assert_true(strncmp(out, "warn accept: suppressed 59990 lines (more than 10 in 60 s)\n",
	    59) == 0);
	out[strlen(out) - 1] = '\0';
	last = strrchr(out, '\n') + 1;
	assert_string_equal(last, "warn accept: suppressed 39990 lines (more than 10 in 60 s)");
}

/* Without a next line the summary still comes, from a periodic flush. */
static void test_budget_flush_after_period(void **state)
{
	struct log_budget b = LOG_BUDGET_INIT("bye reasons", LOG_LVL_INFO, 1, 250);
	struct capture c;
	char out[1024];

	(void)state;
	assert_true(log_budget_take(&b, 100));
	assert_false(log_budget_take(&b, 101));
	assert_false(log_budget_take(&b, 102));
	capture_begin(&c);
	log_budget_flush(&b, 349);			/* period not over */
	assert_string_equal(capture_end(&c, out, sizeof(out)), "");
	capture_begin(&c);
	log_budget_flush(&b, 350);
	log_budget_flush(&b, 2000);
	capture_end(&c, out, sizeof(out));
	assert_string_equal(out, "info bye reasons: suppressed 2 lines (more than 1 in 250 ms)\n");
	assert_true(log_budget_take(&b, 2001));
}

static void test_budget_keeps_errno_and_verbosity(void **state)
{
	struct log_budget b = LOG_BUDGET_INIT("quiet", LOG_LVL_INFO, 1, 1000);
	struct capture c;
	char out[1024];
	int saved = log_verbosity;

	(void)state;
	assert_true(log_budget_take(&b, 0));
	assert_false(log_budget_take(&b, 1));
	log_verbosity = LOG_LVL_WARN;			/* -q: info lines are off */
	capture_begin(&c);
	errno = EMFILE;
	assert_true(log_budget_take(&b, 1000));
	assert_int_equal(errno, EMFILE);
	capture_end(&c, out, sizeof(out));
	log_verbosity = saved;
	assert_string_equal(out, "");
	assert_int_equal(b.lb_suppressed, 0);		/* counted as reported */

	/* the idiom from log.h: log_warn still sees the caller's errno */
	capture_begin(&c);
	errno = EMFILE;
	if (log_budget_take(&b, 5000))
		log_warn("accept");
	capture_end(&c, out, sizeof(out));
	assert_string_equal(out, "warn accept: Too many open files\n");
}

/* Under systemd with stderr on the journal (JOURNAL_STREAM set), every
 * line starts with its syslog priority, so journalctl -p works; without
 * it the lines stay as they were. */
static void test_journal_priorities(void **state)
{
	struct log_budget b = LOG_BUDGET_INIT("floods", LOG_LVL_WARN, 1, 1000);
	struct capture c;
	char out[1024];
	int saved = log_verbosity;

	(void)state;
	log_verbosity = LOG_LVL_DEBUG;
	assert_int_equal(setenv("JOURNAL_STREAM", "8:12345", 1), 0);
	capture_begin(&c);
	log_warnx("w %d", 1);
	errno = ENOENT;
	log_warn("w2");
	log_info("i");
	log_debug("d");
	assert_true(log_budget_take(&b, 0));
	assert_false(log_budget_take(&b, 1));
	log_budget_flush(&b, UINT64_MAX);
	capture_end(&c, out, sizeof(out));
	assert_string_equal(out, "<4>warn w 1\n"
	    "<4>warn w2: No such file or directory\n"
	    "<6>info i\n"
	    "<7>debug d\n"
	    "<4>warn floods: suppressed 1 lines (more than 1 in 1 s)\n");

	/* set but empty, or unset: no prefix */
	assert_int_equal(setenv("JOURNAL_STREAM", "", 1), 0);
	capture_begin(&c);
	log_info("i");
	capture_end(&c, out, sizeof(out));
	assert_string_equal(out, "info i\n");
	assert_int_equal(unsetenv("JOURNAL_STREAM"), 0);
	capture_begin(&c);
	log_warnx("w");
	capture_end(&c, out, sizeof(out));
	assert_string_equal(out, "warn w\n");
	log_verbosity = saved;
}

/* fatal() exits; its line goes out at priority 2 (crit) first. */
static void test_journal_fatal_priority(void **state)
{
	char out[256];
	int p[2], status;
	ssize_t n, got = 0;
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(p), 0);
	if ((pid = fork()) == 0) {
		dup2(p[1], STDERR_FILENO);
		setenv("JOURNAL_STREAM", "8:1", 1);
		fatalx("gone %s", "now");
	}
	assert_true(pid > 0);
	close(p[1]);
	while ((n = read(p[0], out + got, sizeof(out) - 1 - (size_t)got)) > 0)
		got += n;
	out[got] = '\0';
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 1);
	assert_string_equal(out, "<2>fatal gone now\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_safe_plain_text_unchanged),
		cmocka_unit_test(test_safe_escapes_control_characters),
		cmocka_unit_test(test_safe_keeps_wellformed_utf8),
		cmocka_unit_test(test_safe_escapes_malformed_utf8),
		cmocka_unit_test(test_safe_escapes_c1_separators_bidi),
		cmocka_unit_test(test_safe_bounded_never_cuts_an_escape),
		cmocka_unit_test(test_safe_in_a_log_line),
		cmocka_unit_test(test_budget_allows_burst_then_counts),
		cmocka_unit_test(test_budget_flood_gives_one_summary_per_period),
		cmocka_unit_test(test_budget_flush_after_period),
		cmocka_unit_test(test_budget_keeps_errno_and_verbosity),
		cmocka_unit_test(test_journal_priorities),
		cmocka_unit_test(test_journal_fatal_priority),
	};

	unsetenv("JOURNAL_STREAM");	/* the other tests expect plain lines */

	return cmocka_run_group_tests(tests, NULL, NULL);
}
