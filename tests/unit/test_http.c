/* test_http.c - the metrics endpoint on a real libuv loop: bound to
 * 127.0.0.1 port 0, asked with a plain socket while the loop runs in this
 * thread. GET and HEAD /metrics answer 200 with the exposition content
 * type and the render function's text; other paths 404, other methods 405;
 * more than HTTP_PER_IP connections from one address are refused; a
 * scrape runs the render function on the loop; and closing leaves no
 * handle (uv_loop_close returns 0) and no descriptor open. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "daemon/ctl.h"
#include "daemon/http.h"
#include "daemon/metrics.h"

struct fx {
	uv_loop_t    loop;
	struct http *h;
	int          renders;
	int          fds_before;
};

static int render(void *arg, struct ctl_buf *b)
{
	struct fx *fx = arg;

	fx->renders++;
	metrics_head(b, "vpnd_test_total", "counter", "A test.");
	metrics_u64(b, "vpnd_test_total", "peer", "a\"b", (uint64_t)fx->renders);
	return 0;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_storage ss = { 0 };

	assert_non_null(fx);
	fx->fds_before = count_fds();
	assert_int_equal(uv_loop_init(&fx->loop), 0);
	memcpy(&ss, &sin, sizeof(sin));
	assert_int_equal(http_open(&fx->h, &fx->loop, &ss, render, fx), 0);
	assert_true(http_port(fx->h) != 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	http_close(fx->h);
	uv_run(&fx->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&fx->loop), 0);
	assert_int_equal(count_fds(), fx->fds_before);
	free(fx);
	return 0;
}

static int dial(struct fx *fx)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(http_port(fx->h)),
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	/* a loopback connect completes in the kernel, before anyone accepts */
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

/* Run the loop until fd reaches EOF (or 5 s); what came, NUL-terminated.
 * Returns the byte count, or -1 if the peer reset the connection. */
static ssize_t read_all(struct fx *fx, int fd, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;
	int i;

	for (i = 0; i < 5000; i++) {
		uv_run(&fx->loop, UV_RUN_NOWAIT);
		n = recv(fd, buf + got, len - 1 - got, 0);
		if (n == 0)
			break;
		if (n < 0 && errno == ECONNRESET)
			return -1;
		if (n < 0) {
			assert_true(errno == EAGAIN);
			poll(NULL, 0, 1);
			continue;
		}
		got += (size_t)n;
		assert_true(got < len - 1);
	}
	assert_true(i < 5000);
	buf[got] = '\0';
	return (ssize_t)got;
}

/* The status code of an answer ("HTTP/1.1 200 OK"). */
static int status(const char *buf)
{
	assert_memory_equal(buf, "HTTP/1.", 7);
	return (int)strtol(buf + 9, NULL, 10);
}

/* One request, the whole answer. */
static void ask(struct fx *fx, const char *req, char *buf, size_t len)
{
	int fd = dial(fx);

	assert_int_equal(send(fd, req, strlen(req), 0), (ssize_t)strlen(req));
	assert_true(read_all(fx, fd, buf, len) > 0);
	close(fd);
}

static void test_get_metrics(void **state)
{
	struct fx *fx = *state;
	char buf[4096];

	ask(fx, "GET /metrics HTTP/1.0\r\n\r\n", buf, sizeof(buf));
	assert_int_equal(status(buf), 200);
	assert_non_null(strstr(buf, "\r\nContent-Type: " METRICS_CONTENT_TYPE "\r\n"));
	assert_non_null(strstr(buf, "\r\n\r\n# HELP vpnd_test_total A test.\n"
	    "# TYPE vpnd_test_total counter\nvpnd_test_total{peer=\"a\\\"b\"} 1\n"));
	ask(fx, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
	    buf, sizeof(buf));
	assert_int_equal(status(buf), 200);
	assert_non_null(strstr(buf, "vpnd_test_total{peer=\"a\\\"b\"} 2\n"));
	assert_int_equal(fx->renders, 2);
}

static void test_head_metrics_has_no_body(void **state)
{
	struct fx *fx = *state;
	char buf[4096];

	ask(fx, "HEAD /metrics HTTP/1.0\r\n\r\n", buf, sizeof(buf));
	assert_int_equal(status(buf), 200);
	assert_null(strstr(buf, "vpnd_test_total"));
}

static void test_other_path_404(void **state)
{
	struct fx *fx = *state;
	char buf[4096];

	ask(fx, "GET / HTTP/1.0\r\n\r\n", buf, sizeof(buf));
	assert_int_equal(status(buf), 404);
	ask(fx, "GET /metrics/x HTTP/1.0\r\n\r\n", buf, sizeof(buf));
	assert_int_equal(status(buf), 404);
	assert_int_equal(fx->renders, 0);
}

static void test_other_method_405(void **state)
{
	struct fx *fx = *state;
	char buf[4096];

	ask(fx, "DELETE /metrics HTTP/1.0\r\n\r\n", buf, sizeof(buf));
	assert_int_equal(status(buf), 405);
	assert_int_equal(fx->renders, 0);
}

/* A flood of idle connections from one address: past HTTP_PER_IP they are
 * closed at once, and a scrape still gets through once some go. */
static void test_connection_limit(void **state)
{
	struct fx *fx = *state;
	int fds[HTTP_PER_IP + 1], i, extra;
	char buf[4096];

	for (i = 0; i < HTTP_PER_IP; i++) {
		fds[i] = dial(fx);
		uv_run(&fx->loop, UV_RUN_NOWAIT);
	}
	extra = dial(fx);
	assert_true(read_all(fx, extra, buf, sizeof(buf)) <= 0);	/* closed unanswered */
	close(extra);
	for (i = 0; i < HTTP_PER_IP; i++)
		close(fds[i]);
	for (i = 0; i < 50; i++) {
		uv_run(&fx->loop, UV_RUN_NOWAIT);
		poll(NULL, 0, 2);
	}
	ask(fx, "GET /metrics HTTP/1.0\r\n\r\n", buf, sizeof(buf));
	assert_int_equal(status(buf), 200);
}

/* Closing with a connection still open closes it too. */
static void test_close_with_open_connection(void **state)
{
	struct fx *fx = *state;
	int fd = dial(fx);

	uv_run(&fx->loop, UV_RUN_NOWAIT);
	http_close(fx->h);
	fx->h = NULL;
	uv_run(&fx->loop, UV_RUN_DEFAULT);
	close(fd);
}

static void test_bind_in_use(void **state)
{
	struct fx *fx = *state;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(http_port(fx->h)),
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_storage ss = { 0 };
	struct http *h2 = NULL;

	memcpy(&ss, &sin, sizeof(sin));
	assert_int_equal(http_open(&h2, &fx->loop, &ss, render, fx), -EADDRINUSE);
	assert_null(h2);
}

/* metrics_listen = "[::1]:PORT": an IPv6-only socket, served the same. */
static void test_ipv6(void **state)
{
	struct fx *fx = *state;
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct sockaddr_storage ss = { 0 };
	struct http *h6 = NULL;
	const char req[] = "GET /metrics HTTP/1.0\r\n\r\n";
	char buf[4096];
	int fd;

	memcpy(&ss, &sin6, sizeof(sin6));
	if (http_open(&h6, &fx->loop, &ss, render, fx) == -EADDRNOTAVAIL)
		skip();			/* no IPv6 loopback here */
	assert_non_null(h6);
	sin6.sin6_port = htons(http_port(h6));
	assert_true((fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin6, sizeof(sin6)), 0);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	assert_int_equal(send(fd, req, strlen(req), 0), (ssize_t)strlen(req));
	assert_true(read_all(fx, fd, buf, sizeof(buf)) > 0);
	close(fd);
	assert_int_equal(status(buf), 200);
	http_close(h6);
}

int main(void)
{
	uv_loop_t once;

	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_get_metrics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_head_metrics_has_no_body, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_path_404, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_method_405, setup, teardown),
		cmocka_unit_test_setup_teardown(test_connection_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_with_open_connection, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bind_in_use, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv6, setup, teardown),
	};

	/* libuv opens a pipe at its first loop and keeps it: before counting */
	uv_loop_init(&once);
	uv_loop_close(&once);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
