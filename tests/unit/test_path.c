/* test_path.c - the client's address order (RFC 8305 section 4: families
 * interleaved, IPv6 first, getaddrinfo's order kept within a family,
 * duplicates dropped) and the racing connect on loopback: an address that
 * refuses passes to the next at once, the one that answers wins. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "client/path.h"

#define NADDR 8

struct ai_set {
	struct addrinfo         ai[NADDR];
	struct sockaddr_storage ss[NADDR];
	int                     n;
};

/* Append a numeric address, as getaddrinfo would list it. */
static void ai_add(struct ai_set *s, const char *addr)
{
	struct addrinfo *ai = &s->ai[s->n];
	struct sockaddr_storage *ss = &s->ss[s->n];

	memset(ai, 0, sizeof(*ai));
	memset(ss, 0, sizeof(*ss));
	if (strchr(addr, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(4433);
		assert_int_equal(inet_pton(AF_INET6, addr, &s6->sin6_addr), 1);
		ai->ai_addrlen = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(4433);
		assert_int_equal(inet_pton(AF_INET, addr, &s4->sin_addr), 1);
		ai->ai_addrlen = sizeof(*s4);
	}
	ai->ai_family = ss->ss_family;
	ai->ai_socktype = SOCK_STREAM;
	ai->ai_addr = (struct sockaddr *)ss;
	if (s->n > 0)
		s->ai[s->n - 1].ai_next = ai;
	s->n++;
}

static const char *str(const struct sockaddr_storage *ss, char *buf)
{
	const void *a = ss->ss_family == AF_INET6 ?
	    (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr :
	    (const void *)&((const struct sockaddr_in *)ss)->sin_addr;

	return inet_ntop(ss->ss_family, a, buf, INET6_ADDRSTRLEN);
}

static void expect_order(struct ai_set *s, const char *const *want, int nwant)
{
	struct sockaddr_storage out[PATH_MAX_ADDRS];
	char b[INET6_ADDRSTRLEN];
	int i, n = path_order(s->ai, out, PATH_MAX_ADDRS);

	assert_int_equal(n, nwant);
	for (i = 0; i < n; i++)
		assert_string_equal(str(&out[i], b), want[i]);
}

static void test_path_order_interleaves_ipv6_first(void **state)
{
	static const char *const want[] = { "2001:db8::1", "198.18.0.1", "2001:db8::2",
		"198.18.0.2", "198.18.0.3" };
	struct ai_set s = { .n = 0 };

	(void)state;
	/* as a resolver with no IPv6 route sorts them: IPv4 first */
	ai_add(&s, "198.18.0.1");
	ai_add(&s, "198.18.0.2");
	ai_add(&s, "198.18.0.3");
	ai_add(&s, "2001:db8::1");
	ai_add(&s, "2001:db8::2");
	expect_order(&s, want, 5);
}

static void test_path_order_one_family_and_duplicates(void **state)
{
	static const char *const v4[] = { "198.18.0.1", "198.18.0.2" };
	static const char *const v6[] = { "2001:db8::1" };
	struct ai_set s = { .n = 0 }, t = { .n = 0 };
	struct sockaddr_storage out[1];

	(void)state;
	ai_add(&s, "198.18.0.1");
	ai_add(&s, "198.18.0.1");	/* the same address for another socktype */
	ai_add(&s, "198.18.0.2");
	expect_order(&s, v4, 2);
	ai_add(&t, "2001:db8::1");
	expect_order(&t, v6, 1);
	assert_int_equal(path_order(s.ai, out, 1), 1);	/* bounded by max */
	assert_int_equal(path_order(NULL, out, 1), 0);
}

struct race_seen {
	int                     calls, fd, err;
	struct sockaddr_storage addr;
};

static void on_done(void *arg, int fd, const struct sockaddr_storage *addr, int err)
{
	struct race_seen *r = arg;

	r->calls++;
	r->fd = fd;
	r->err = err;
	if (addr != NULL)
		r->addr = *addr;
}

/* A loopback listener; its port. */
static int listener(uint16_t *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	*port = sin.sin_port;
	return fd;
}

static void test_path_race_refused_then_answered(void **state)
{
	struct sockaddr_storage addrs[2] = { { 0 } };
	struct sockaddr_in *a = (struct sockaddr_in *)&addrs[0];
	struct sockaddr_in *b = (struct sockaddr_in *)&addrs[1];
	struct race_seen seen = { 0 };
	struct path_race *r;
	uv_loop_t loop;
	uint16_t port, dead;
	int lfd = listener(&port), dfd = listener(&dead);

	(void)state;
	close(dfd);			/* a port nobody listens on: refused */
	a->sin_family = b->sin_family = AF_INET;
	a->sin_addr.s_addr = b->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a->sin_port = dead;
	b->sin_port = port;
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(path_race_start(&r, &loop, addrs, 2, 5000, on_done, &seen), 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(seen.calls, 1);
	assert_true(seen.fd >= 0);
	assert_int_equal(((struct sockaddr_in *)&seen.addr)->sin_port, port);
	close(seen.fd);
	close(lfd);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_path_race_all_fail_and_cancel(void **state)
{
	struct sockaddr_storage addrs[1] = { { 0 } };
	struct sockaddr_in *a = (struct sockaddr_in *)&addrs[0];
	struct race_seen seen = { 0 };
	struct path_race *r;
	uv_loop_t loop;
	uint16_t dead;
	int dfd = listener(&dead);

	(void)state;
	close(dfd);
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a->sin_port = dead;
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(path_race_start(&r, &loop, addrs, 1, 5000, on_done, &seen), 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(seen.calls, 1);
	assert_int_equal(seen.fd, -1);
	assert_int_equal(seen.err, -ECONNREFUSED);
	/* cancelled before it ran: done never runs, nothing is left */
	assert_int_equal(path_race_start(&r, &loop, addrs, 1, 5000, on_done, &seen), 0);
	path_race_cancel(r);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(seen.calls, 1);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_path_check_sees_a_gone_address(void **state)
{
	struct sockaddr_storage local = { 0 }, peer = { 0 };
	struct sockaddr_in *l = (struct sockaddr_in *)&local, *p = (struct sockaddr_in *)&peer;

	(void)state;
	l->sin_family = p->sin_family = AF_INET;
	l->sin_addr.s_addr = p->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	p->sin_port = htons(4433);
	assert_int_equal(path_check(&local, &peer), 0);
	inet_pton(AF_INET, "198.51.100.77", &l->sin_addr);	/* not this host's */
	assert_int_equal(path_check(&local, &peer), -EADDRNOTAVAIL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_order_interleaves_ipv6_first),
		cmocka_unit_test(test_path_order_one_family_and_duplicates),
		cmocka_unit_test(test_path_race_refused_then_answered),
		cmocka_unit_test(test_path_race_all_fail_and_cancel),
		cmocka_unit_test(test_path_check_sees_a_gone_address),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
