/* test_notify.c - the sd_notify messages: the test binds a Unix datagram
 * socket, points NOTIFY_SOCKET at it as systemd would, and reads what each
 * call sends. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/notify.h"

struct listener {
	int  fd;
	char path[108];
};

static int setup(void **state)
{
	static struct listener l;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 10 };

	snprintf(l.path, sizeof(l.path), "/tmp/test_notify.%d", (int)getpid());
	unlink(l.path);
	memcpy(sa.sun_path, l.path, strlen(l.path) + 1);
	l.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (l.fd < 0 || bind(l.fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -1;
	/* a missing message fails the test instead of hanging it */
	setsockopt(l.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (setenv("NOTIFY_SOCKET", l.path, 1) < 0)
		return -1;
	*state = &l;
	return 0;
}

static int teardown(void **state)
{
	struct listener *l = *state;

	close(l->fd);
	unlink(l->path);
	unsetenv("NOTIFY_SOCKET");
	return 0;
}

static const char *next_msg(struct listener *l)
{
	static char buf[512];
	ssize_t n;

	n = recv(l->fd, buf, sizeof(buf) - 1, 0);
	assert_true(n > 0);
	buf[n] = '\0';
	return buf;
}

static void test_ready_status_reloading(void **state)
{
	struct listener *l = *state;

	assert_int_equal(notify_ready(), 1);
	assert_string_equal(next_msg(l), "READY=1");
	assert_int_equal(notify_status("%u peers connected", 3u), 1);
	assert_string_equal(next_msg(l), "STATUS=3 peers connected");
	assert_int_equal(notify_reloading(), 1);
	assert_string_equal(next_msg(l), "RELOADING=1");
	assert_int_equal(notify_ready(), 1);
	assert_string_equal(next_msg(l), "READY=1");
}

/* A newline would end the STATUS field and start another assignment. */
static void test_status_one_line(void **state)
{
	struct listener *l = *state;

	assert_int_equal(notify_status("a\nREADY=1"), 1);
	assert_string_equal(next_msg(l), "STATUS=a READY=1");
}

/* Not under systemd: nothing is sent and nothing fails. */
static void test_no_socket_is_a_no_op(void **state)
{
	struct listener *l = *state;
	char buf[16];

	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(notify_ready(), 0);
	assert_int_equal(notify_status("x"), 0);
	assert_int_equal(notify_reloading(), 0);
	assert_int_equal(recv(l->fd, buf, sizeof(buf), MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
	setenv("NOTIFY_SOCKET", l->path, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ready_status_reloading),
		cmocka_unit_test(test_status_one_line),
		cmocka_unit_test(test_no_socket_is_a_no_op),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
