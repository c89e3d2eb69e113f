/* test_event.c - the event bus: every watcher gets every event, a watcher
 * that does not read loses what does not fit and is told how many, and a
 * line is valid JSON (or one text line) whatever its strings hold. Runs the
 * real loop over socketpairs and closes every handle at the end. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>

#include "daemon/event.h"

static uv_loop_t loop;

static int setup(void **state)
{
	(void)state;
	if (uv_loop_init(&loop) != 0)
		return -1;
	evt_open(&loop);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	evt_close();
	uv_run(&loop, UV_RUN_DEFAULT);
	return uv_loop_close(&loop) == 0 ? 0 : -1;
}

/* A watcher on one end of a socketpair; the other end is returned,
 * non-blocking, for the test to read. */
static int watcher(bool json)
{
	int sp[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	assert_int_equal(evt_watch_fd(sp[0], json), 0);
	assert_int_equal(fcntl(sp[1], F_SETFL, O_NONBLOCK), 0);
	return sp[1];
}

/* What fd has now, after the loop has run what it can. */
static size_t drain(int fd, char *buf, size_t len)
{
	size_t n = 0;
	ssize_t r;

	uv_run(&loop, UV_RUN_NOWAIT);
	while (n < len - 1 && (r = read(fd, buf + n, len - 1 - n)) > 0) {
		n += (size_t)r;
		uv_run(&loop, UV_RUN_NOWAIT);
	}
	buf[n] = '\0';
	return n;
}

static int count_lines(const char *s, const char *needle)
{
	int n = 0;

	for (; (s = strstr(s, needle)) != NULL; s++)
		n++;
	return n;
}

static const struct evt ev_alice = {
	.ev_type = EVT_CONNECTED, .ev_name = "alice", .ev_fp = "sha256:00",
	.ev_endpoint = "198.18.0.2:5000", .ev_address = "10.8.0.10",
	.ev_transport = "tls", .ev_uid = EVT_NO_UID,
};

static void test_fan_out_to_every_watcher(void **state)
{
	static char buf[4096];
	int a, b, c, i;

	(void)state;
	a = watcher(false);
	b = watcher(true);
	c = watcher(true);
	assert_int_equal(evt_watchers(), 3);
	for (i = 0; i < 3; i++)
		evt_emit(&ev_alice);
	drain(a, buf, sizeof(buf));
	assert_true(strncmp(buf, "ok\n", 3) == 0);
	assert_int_equal(count_lines(buf, " connected name=alice"), 3);
	drain(b, buf, sizeof(buf));
	assert_int_equal(count_lines(buf, "\"event\":\"connected\""), 3);
	drain(c, buf, sizeof(buf));
	assert_int_equal(count_lines(buf, "\"name\":\"alice\""), 3);
	close(a);			/* a watcher that hangs up goes */
	drain(b, buf, sizeof(buf));
	assert_int_equal(evt_watchers(), 2);
	close(b);
	close(c);
}

/* A watcher that never reads: the kernel's buffer fills, then its queue;
 * the rest is dropped and counted, and once it reads it is told how many.
 * The other watcher gets everything meanwhile. */
#define ALL_MAX (8u << 20)

static void test_full_watcher_drops_and_counts(void **state)
{
	static char buf[1 << 16];
	struct evt ev = ev_alice;
	char reason[1024];
	int slow, fast, i, got = 0, n_events = 2000;
	uint64_t dropped0 = evt_dropped();
	size_t n;
	json_t *j;
	char *line, *save = NULL, *all;
	int idle;
	long long told = 0;

	(void)state;
	memset(reason, 'x', sizeof(reason) - 1);
	reason[sizeof(reason) - 1] = '\0';
	ev.ev_reason = reason;
	slow = watcher(true);
	fast = watcher(true);
	for (i = 0; i < n_events; i++) {
		evt_emit(&ev);
		if (i % 50 == 0)
			got += count_lines((drain(fast, buf, sizeof(buf)), buf), "\"connected\"");
	}
	got += count_lines((drain(fast, buf, sizeof(buf)), buf), "\"connected\"");
	assert_int_equal(got, n_events);
	assert_true(evt_dropped() > dropped0);
	/* the slow one catches up: what it got plus what it was told it
	 * missed is everything */
	got = 0;
	all = malloc(ALL_MAX);
	assert_non_null(all);
	for (n = 0, idle = 0; idle < 3 && n < ALL_MAX - 1; ) {
		size_t r = drain(slow, all + n, ALL_MAX - n);

		n += r;
		idle = r == 0 ? idle + 1 : 0;
	}
	all[n] = '\0';
	for (line = strtok_r(all, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strcmp(line, "ok") == 0)
			continue;
		assert_non_null(j = json_loads(line, 0, NULL));
		if (strcmp(json_string_value(json_object_get(j, "event")),
		    "events_dropped") == 0)
			told += json_integer_value(json_object_get(j, "count"));
		else
			got++;
		json_decref(j);
	}
	free(all);
	assert_true(told > 0);
	assert_int_equal(got + told, n_events);
	assert_int_equal((long long)(evt_dropped() - dropped0), told);
	close(slow);
	close(fast);
}

/* JSON from jansson: quotes, backslashes, control characters and bytes
 * that are not UTF-8 in a string still make one valid object; text is
 * one line with the value quoted. */
static void test_json_and_text_escaping(void **state)
{
	struct evt ev = {
		.ev_type = EVT_DISCONNECTED, .ev_name = "a\"b\\c",
		.ev_reason = "closed by peer: \"bye\"\n\x01 \xff\xfe caf\xc3\xa9",
		.ev_uid = 0, .ev_has_bytes = true, .ev_rx_bytes = 12, .ev_tx_bytes = 34,
	};
	json_t *j;
	char *s;

	(void)state;
	assert_non_null(s = evt_format(&ev, true, 0));
	assert_int_equal(count_lines(s, "\n"), 1);
	assert_non_null(j = json_loads(s, 0, NULL));
	assert_string_equal(json_string_value(json_object_get(j, "name")), "a\"b\\c");
	assert_string_equal(json_string_value(json_object_get(j, "event")), "disconnected");
	assert_string_equal(json_string_value(json_object_get(j, "time")),
	    "1970-01-01T00:00:00Z");
	assert_non_null(strstr(json_string_value(json_object_get(j, "reason")),
	    "\xef\xbf\xbd\xef\xbf\xbd caf\xc3\xa9"));
	assert_int_equal(json_integer_value(json_object_get(j, "rx_bytes")), 12);
	assert_int_equal(json_integer_value(json_object_get(j, "uid")), 0);
	assert_null(json_object_get(j, "endpoint"));	/* absent, not null */
	json_decref(j);
	free(s);
	assert_non_null(s = evt_format(&ev, false, 0));
	assert_int_equal(count_lines(s, "\n"), 1);
	assert_non_null(strstr(s, "name=\"a\\\"b\\\\c\""));
	assert_non_null(strstr(s, "\\x0a\\x01"));
	free(s);
}

/* address6 is in both forms when the event has one, absent otherwise. */
static void test_address6(void **state)
{
	struct evt ev = ev_alice;
	char *t;

	(void)state;
	ev.ev_address6 = "fd00:8::a";
	assert_non_null(t = evt_format(&ev, false, 0));
	assert_non_null(strstr(t, " address=10.8.0.10 address6=fd00:8::a "));
	free(t);
	assert_non_null(t = evt_format(&ev, true, 0));
	assert_non_null(strstr(t, "\"address6\":\"fd00:8::a\""));
	free(t);
	assert_non_null(t = evt_format(&ev_alice, true, 0));
	assert_null(strstr(t, "address6"));
	free(t);
}

static void test_closed_bus_refuses_and_ignores(void **state)
{
	int sp[2];

	(void)state;
	evt_close();
	evt_emit(&ev_alice);		/* nothing to do, no crash */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	assert_int_equal(evt_watch_fd(sp[0], false), -ESHUTDOWN);	/* sp[0] taken */
	close(sp[1]);
	evt_open(&loop);
}

static void test_watcher_cap(void **state)
{
	int fds[EVT_MAX_WATCHERS], sp[2], i;

	(void)state;
	for (i = 0; i < EVT_MAX_WATCHERS; i++)
		fds[i] = watcher(false);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	assert_int_equal(evt_watch_fd(sp[0], false), -EMFILE);
	close(sp[1]);
	for (i = 0; i < EVT_MAX_WATCHERS; i++)
		close(fds[i]);
	uv_run(&loop, UV_RUN_NOWAIT);	/* each sees EOF and goes */
	assert_int_equal(evt_watchers(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fan_out_to_every_watcher, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_watcher_drops_and_counts, setup, teardown),
		cmocka_unit_test(test_json_and_text_escaping),
		cmocka_unit_test(test_address6),
		cmocka_unit_test_setup_teardown(test_closed_bus_refuses_and_ignores, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watcher_cap, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
