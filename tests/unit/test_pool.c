/* test_pool.c - the tunnel address pool: first host for the server, lowest
 * free address for a new peer, the same address back for a returning one,
 * reuse of the longest-released address only when the pool is full, and
 * static reservations from the allow-list; then remembering owners (read
 * back from a lease file), the changed flag and the owner walk that saving
 * them rests on. Small networks (/30, /29) make exhaustion cheap to reach. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include <cmocka.h>

#include "server/pool.h"

/* Fingerprints of full length, so none is cut short on the way in. */
#define FP(hex2) "sha256:" hex2 \
	"00000000000000000000000000000000000000000000000000000000000000"
#define FP_ALICE FP("a1")
#define FP_BOB   FP("b0")
#define FP_CAROL FP("ca")
#define FP_DAVE  FP("da")
#define FP_ERIN  FP("e1")
#define FP_FRANK FP("f4")

static struct in_addr ip(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a;
}

static struct pool *pool_of(const char *net, int plen)
{
	struct cidr c = { .addr = ip(net), .plen = plen };
	struct pool *p = NULL;

	assert_int_equal(pool_new(&p, &c), 0);
	assert_non_null(p);
	return p;
}

static void assert_lease(struct pool *p, const char *fp, const char *want)
{
	struct in_addr a;
	char got[INET_ADDRSTRLEN];

	assert_int_equal(pool_lease(p, fp, &a), 0);
	assert_non_null(inet_ntop(AF_INET, &a, got, sizeof(got)));
	assert_string_equal(got, want);
}

/* Fixture: 10.8.0.0/24, the common case. */
static int setup_24(void **state)
{
	struct cidr c = { .addr = { htonl(0x0a080000) }, .plen = 24 };
	struct pool *p = NULL;

	if (pool_new(&p, &c) < 0)
		return -1;
	*state = p;
	return 0;
}

static int teardown(void **state)
{
	pool_free(*state);
	return 0;
}

static void test_pool_server_takes_first_host(void **state)
{
	struct pool *p = *state;

	assert_int_equal(pool_server_addr(p).s_addr, ip("10.8.0.1").s_addr);
	assert_int_equal(pool_size(p), 253);	/* .2 .. .254 */
}

static void test_pool_leases_lowest_first(void **state)
{
	struct pool *p = *state;

	assert_lease(p, FP_ALICE, "10.8.0.2");
	assert_lease(p, FP_BOB, "10.8.0.3");
	assert_lease(p, FP_CAROL, "10.8.0.4");
}

/* A returning fingerprint gets its address back, even after others came
 * and went, and nobody else takes it while the pool has never-used ones. */
static void test_pool_reuses_address_for_same_fingerprint(void **state)
{
	struct pool *p = *state;
	struct in_addr a, b;

	assert_int_equal(pool_lease(p, FP_ALICE, &a), 0);
	pool_release(p, FP_ALICE);
	assert_lease(p, FP_BOB, "10.8.0.3");
	pool_release(p, FP_BOB);
	assert_lease(p, FP_CAROL, "10.8.0.4");
	assert_int_equal(pool_lease(p, FP_ALICE, &b), 0);
	assert_int_equal(a.s_addr, b.s_addr);
	assert_lease(p, FP_BOB, "10.8.0.3");
}

static void test_pool_different_fingerprints_get_different_addresses(void **state)
{
	static const char *fps[] = { FP_ALICE, FP_BOB, FP_CAROL, FP_DAVE,
		FP_ERIN, FP_FRANK };
	struct in_addr a[6];
	struct pool *p = *state;
	size_t i, j;

	for (i = 0; i < 6; i++) {
		assert_int_equal(pool_lease(p, fps[i], &a[i]), 0);
		assert_int_not_equal(a[i].s_addr, pool_server_addr(p).s_addr);
		for (j = 0; j < i; j++)
			assert_int_not_equal(a[i].s_addr, a[j].s_addr);
	}
}

static void test_pool_second_lease_while_in_use_is_ebusy(void **state)
{
	struct pool *p = *state;
	struct in_addr a;

	assert_lease(p, FP_ALICE, "10.8.0.2");
	assert_int_equal(pool_lease(p, FP_ALICE, &a), -EBUSY);
	pool_release(p, FP_ALICE);
	assert_lease(p, FP_ALICE, "10.8.0.2");
}

/* A /30 has two hosts: the server's and one peer's. */
static void test_pool_exhaustion_on_slash30(void **state)
{
	struct pool *p = pool_of("10.9.0.0", 30);
	struct in_addr a;

	(void)state;
	assert_int_equal(pool_size(p), 1);
	assert_int_equal(pool_server_addr(p).s_addr, ip("10.9.0.1").s_addr);
	assert_lease(p, FP_ALICE, "10.9.0.2");
	assert_int_equal(pool_lease(p, FP_BOB, &a), -ENOSPC);
	pool_release(p, FP_ALICE);
	assert_lease(p, FP_BOB, "10.9.0.2");	/* full: alice's goes */
	assert_int_equal(pool_lease(p, FP_ALICE, &a), -ENOSPC);
	pool_free(p);
}

/* When every address has been used, the one released longest ago goes
 * first, not the lowest. */
static void test_pool_full_reuses_longest_released(void **state)
{
	static const char *fps[] = { FP_ALICE, FP_BOB, FP_CAROL, FP_DAVE,
		FP_ERIN };
	struct pool *p = pool_of("10.9.0.0", 29);	/* .2 .. .6 */
	struct in_addr a;
	size_t i;

	(void)state;
	assert_int_equal(pool_size(p), 5);
	for (i = 0; i < 5; i++)
		assert_int_equal(pool_lease(p, fps[i], &a), 0);
	assert_int_equal(pool_lease(p, FP_FRANK, &a), -ENOSPC);
	pool_release(p, FP_DAVE);	/* .5 first */
	pool_release(p, FP_BOB);	/* .3 later */
	assert_lease(p, FP_FRANK, "10.9.0.5");
	assert_lease(p, FP("0e"), "10.9.0.3");
	assert_int_equal(pool_lease(p, FP_DAVE, &a), -ENOSPC);
	pool_free(p);
}

/* A static address is the reserved fingerprint's only, even when the rest
 * of the pool is gone. */
static void test_pool_reserved_address_only_for_its_fingerprint(void **state)
{
	static const char *fps[] = { FP_ALICE, FP_BOB, FP_CAROL, FP_DAVE };
	struct pool *p = pool_of("10.9.0.0", 29);
	struct in_addr a;
	size_t i;

	(void)state;
	assert_int_equal(pool_reserve(p, ip("10.9.0.4"), FP_ERIN), 0);
	for (i = 0; i < 4; i++) {
		assert_int_equal(pool_lease(p, fps[i], &a), 0);
		assert_int_not_equal(a.s_addr, ip("10.9.0.4").s_addr);
	}
	assert_int_equal(pool_lease(p, FP_FRANK, &a), -ENOSPC);
	assert_lease(p, FP_ERIN, "10.9.0.4");
	pool_release(p, FP_ERIN);
	assert_int_equal(pool_lease(p, FP_FRANK, &a), -ENOSPC);
	assert_lease(p, FP_ERIN, "10.9.0.4");
	pool_free(p);
}

/* The reservation wins over the address the fingerprint had before. */
static void test_pool_reservation_beats_sticky_address(void **state)
{
	struct pool *p = *state;

	assert_lease(p, FP_ALICE, "10.8.0.2");
	pool_release(p, FP_ALICE);
	assert_int_equal(pool_reserve(p, ip("10.8.0.100"), FP_ALICE), 0);
	assert_lease(p, FP_ALICE, "10.8.0.100");
}

static void test_pool_reserve_outside_pool_is_einval(void **state)
{
	static const char *bad[] = { "10.8.0.0", "10.8.0.1", "10.8.0.255",
		"10.8.1.2", "10.7.255.254", "0.0.0.0", "255.255.255.255" };
	struct pool *p = *state;
	struct in_addr a;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(pool_reserve(p, ip(bad[i]), FP_ALICE), -EINVAL);
	assert_int_equal(pool_reserve(p, ip("10.8.0.254"), FP_ALICE), 0);
	assert_int_equal(pool_reserve(p, ip("10.8.0.2"), FP_BOB), 0);
	assert_lease(p, FP_ALICE, "10.8.0.254");
	assert_int_equal(pool_lease(p, FP_CAROL, &a), 0);
	assert_int_equal(a.s_addr, ip("10.8.0.3").s_addr);
}

static void test_pool_reserve_held_by_other_in_use_is_ebusy(void **state)
{
	struct pool *p = *state;

	assert_lease(p, FP_ALICE, "10.8.0.2");
	assert_int_equal(pool_reserve(p, ip("10.8.0.2"), FP_BOB), -EBUSY);
	/* The holder itself may have it reserved. */
	assert_int_equal(pool_reserve(p, ip("10.8.0.2"), FP_ALICE), 0);
	/* Once released, the reservation moves to the new owner. */
	pool_release(p, FP_ALICE);
	assert_int_equal(pool_reserve(p, ip("10.8.0.2"), FP_BOB), 0);
	assert_lease(p, FP_BOB, "10.8.0.2");
	assert_lease(p, FP_ALICE, "10.8.0.3");
}

/* After the allow-list drops a static address, others may use it. */
static void test_pool_clear_reserved_frees_address(void **state)
{
	struct pool *p = pool_of("10.9.0.0", 30);
	struct in_addr a;

	(void)state;
	assert_int_equal(pool_reserve(p, ip("10.9.0.2"), FP_ALICE), 0);
	assert_int_equal(pool_lease(p, FP_BOB, &a), -ENOSPC);
	pool_clear_reserved(p);
	assert_lease(p, FP_BOB, "10.9.0.2");
	assert_int_equal(pool_lease(p, FP_ALICE, &a), -ENOSPC);
	pool_free(p);
}

/* A dropped reservation is remembered like a lease: its fingerprint gets
 * it back, and others take never-used addresses first. */
static void test_pool_cleared_reservation_stays_sticky(void **state)
{
	struct pool *p = *state;

	assert_int_equal(pool_reserve(p, ip("10.8.0.2"), FP_ALICE), 0);
	pool_clear_reserved(p);
	assert_lease(p, FP_BOB, "10.8.0.3");
	assert_lease(p, FP_ALICE, "10.8.0.2");
}

/* Clearing reservations leaves leases in use alone. */
static void test_pool_clear_reserved_keeps_leases(void **state)
{
	struct pool *p = *state;
	struct in_addr a;

	assert_int_equal(pool_reserve(p, ip("10.8.0.50"), FP_ALICE), 0);
	assert_lease(p, FP_ALICE, "10.8.0.50");
	pool_clear_reserved(p);
	assert_int_equal(pool_lease(p, FP_ALICE, &a), -EBUSY);
	assert_int_equal(pool_reserve(p, ip("10.8.0.50"), FP_BOB), -EBUSY);
	assert_lease(p, FP_BOB, "10.8.0.2");
}

static void test_pool_new_rejects_bad_prefix(void **state)
{
	static const int bad[] = { 0, 1, 7, 31, 32, 33, -1 };
	struct cidr c = { .addr = { htonl(0x0a000000) } };
	struct pool *p = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c.plen = bad[i];
		assert_int_equal(pool_new(&p, &c), -EINVAL);
		assert_null(p);
	}
	c.plen = 16;
	assert_int_equal(pool_new(&p, &c), 0);
	assert_int_equal(pool_size(p), 65533);
	assert_int_equal(pool_server_addr(p).s_addr, ip("10.0.0.1").s_addr);
	assert_lease(p, FP_ALICE, "10.0.0.2");
	pool_free(p);
	pool_free(NULL);
}

/* A remembered address comes back to its fingerprint, and is not handed to
 * a newcomer while never-used addresses remain. */
static void test_pool_remember_gives_address_back(void **state)
{
	struct pool *p = *state;

	assert_int_equal(pool_remember(p, ip("10.8.0.2"), FP_ALICE), 0);
	assert_int_equal(pool_remember(p, ip("10.8.0.50"), FP_BOB), 0);
	assert_lease(p, FP_CAROL, "10.8.0.3");
	assert_lease(p, FP_BOB, "10.8.0.50");
	assert_lease(p, FP_ALICE, "10.8.0.2");
}

static void test_pool_remember_outside_pool_is_einval(void **state)
{
	static const char *bad[] = { "10.8.0.0", "10.8.0.1", "10.8.0.255",
		"10.8.1.2", "10.7.255.254", "0.0.0.0", "255.255.255.255" };
	struct pool *p = *state;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(pool_remember(p, ip(bad[i]), FP_ALICE), -EINVAL);
	assert_int_equal(pool_remember(p, ip("10.8.0.9"), ""), -EINVAL);
	assert_int_equal(pool_remember(p, ip("10.8.0.9"), NULL), -EINVAL);
	assert_lease(p, FP_ALICE, "10.8.0.2");
}

/* In use (even by the same fingerprint) or reserved for another: refused,
 * and the holder keeps it. */
static void test_pool_remember_in_use_or_reserved_is_ebusy(void **state)
{
	struct pool *p = *state;

	assert_lease(p, FP_ALICE, "10.8.0.2");
	assert_int_equal(pool_remember(p, ip("10.8.0.2"), FP_BOB), -EBUSY);
	assert_int_equal(pool_remember(p, ip("10.8.0.2"), FP_ALICE), -EBUSY);
	assert_int_equal(pool_reserve(p, ip("10.8.0.9"), FP_CAROL), 0);
	assert_int_equal(pool_remember(p, ip("10.8.0.9"), FP_BOB), -EBUSY);
	assert_int_equal(pool_remember(p, ip("10.8.0.9"), FP_CAROL), 0);
	assert_lease(p, FP_BOB, "10.8.0.3");
	assert_lease(p, FP_CAROL, "10.8.0.9");
	pool_release(p, FP_ALICE);
	assert_lease(p, FP_ALICE, "10.8.0.2");
}

/* A remembered address counts as released before any release since: when
 * the pool is full it is the first to be reused. */
static void test_pool_remembered_is_oldest_when_full(void **state)
{
	static const char *fps[] = { FP_BOB, FP_CAROL, FP_DAVE, FP_ERIN };
	struct pool *p = pool_of("10.9.0.0", 29);	/* .2 .. .6 */
	struct in_addr a;
	size_t i;

	(void)state;
	for (i = 0; i < 4; i++)
		assert_int_equal(pool_lease(p, fps[i], &a), 0);
	pool_release(p, FP_CAROL);		/* .3 */
	assert_int_equal(pool_remember(p, ip("10.9.0.6"), FP_ALICE), 0);
	assert_lease(p, FP_FRANK, "10.9.0.6");	/* alice's counts as older */
	assert_lease(p, FP_CAROL, "10.9.0.3");
	assert_int_equal(pool_lease(p, FP_ALICE, &a), -ENOSPC);
	pool_free(p);
}

/* Changed: an address got a new owner. Not when a fingerprint gets its own
 * address back, nor when owners are remembered. */
static void test_pool_changed_on_new_owner_only(void **state)
{
	struct pool *p = *state;

	assert_false(pool_changed(p));
	assert_lease(p, FP_ALICE, "10.8.0.2");
	assert_true(pool_changed(p));
	assert_true(pool_changed(p));		/* stays until cleared */
	pool_clear_changed(p);
	assert_false(pool_changed(p));
	pool_release(p, FP_ALICE);
	assert_lease(p, FP_ALICE, "10.8.0.2");
	assert_false(pool_changed(p));
	assert_int_equal(pool_remember(p, ip("10.8.0.50"), FP_BOB), 0);
	assert_false(pool_changed(p));
	assert_lease(p, FP_BOB, "10.8.0.50");
	assert_false(pool_changed(p));
	assert_lease(p, FP_CAROL, "10.8.0.3");
	assert_true(pool_changed(p));
}

/* A reservation moving an address to another fingerprint is a change too;
 * re-reserving the same one after a reload is not. */
static void test_pool_changed_on_reserve_to_new_owner(void **state)
{
	struct pool *p = *state;

	assert_int_equal(pool_reserve(p, ip("10.8.0.9"), FP_ALICE), 0);
	assert_true(pool_changed(p));
	pool_clear_changed(p);
	pool_clear_reserved(p);
	assert_int_equal(pool_reserve(p, ip("10.8.0.9"), FP_ALICE), 0);
	assert_false(pool_changed(p));
	assert_lease(p, FP_ALICE, "10.8.0.9");
	assert_false(pool_changed(p));
}

struct owners {
	int  o_n;
	int  o_stop_at;		/* return 7 on this call (1-based), 0: never */
	char o_line[8][96];
};

static int collect_owner(void *arg, struct in_addr a, const char *fp)
{
	struct owners *o = arg;
	char s[INET_ADDRSTRLEN];

	assert_true(o->o_n < 8);
	assert_non_null(inet_ntop(AF_INET, &a, s, sizeof(s)));
	snprintf(o->o_line[o->o_n], sizeof(o->o_line[0]), "%s %s", s, fp);
	return ++o->o_n == o->o_stop_at ? 7 : 0;
}

/* Every owner in address order: in use, released, remembered, reserved. */
static void test_pool_foreach_owner_in_address_order(void **state)
{
	struct pool *p = *state;
	struct owners o = { 0 };

	assert_int_equal(pool_foreach_owner(p, collect_owner, &o), 0);
	assert_int_equal(o.o_n, 0);
	assert_int_equal(pool_reserve(p, ip("10.8.0.200"), FP_ERIN), 0);
	assert_int_equal(pool_remember(p, ip("10.8.0.100"), FP_CAROL), 0);
	assert_lease(p, FP_ALICE, "10.8.0.2");
	assert_lease(p, FP_BOB, "10.8.0.3");
	pool_release(p, FP_BOB);
	assert_int_equal(pool_foreach_owner(p, collect_owner, &o), 0);
	assert_int_equal(o.o_n, 4);
	assert_string_equal(o.o_line[0], "10.8.0.2 " FP_ALICE);
	assert_string_equal(o.o_line[1], "10.8.0.3 " FP_BOB);
	assert_string_equal(o.o_line[2], "10.8.0.100 " FP_CAROL);
	assert_string_equal(o.o_line[3], "10.8.0.200 " FP_ERIN);
}

static void test_pool_foreach_owner_stops_on_nonzero(void **state)
{
	struct pool *p = *state;
	struct owners o = { .o_stop_at = 2 };

	assert_lease(p, FP_ALICE, "10.8.0.2");
	assert_lease(p, FP_BOB, "10.8.0.3");
	assert_lease(p, FP_CAROL, "10.8.0.4");
	assert_int_equal(pool_foreach_owner(p, collect_owner, &o), 7);
	assert_int_equal(o.o_n, 2);
}

/* ---- IPv6: network6 ---- */

static struct pool6 *pool6_of(const char *net, int plen)
{
	struct cidr6 c = { .plen = plen };
	struct pool6 *p = NULL;

	assert_int_equal(inet_pton(AF_INET6, net, &c.addr), 1);
	assert_int_equal(pool6_new(&p, &c), 0);
	return p;
}

static struct in6_addr ip6(const char *s)
{
	struct in6_addr a;

	assert_int_equal(inet_pton(AF_INET6, s, &a), 1);
	return a;
}

static void assert_lease6(struct pool6 *p, const char *fp, const char *want)
{
	struct in6_addr a;
	char got[INET6_ADDRSTRLEN];

	assert_int_equal(pool6_lease(p, fp, &a), 0);
	assert_non_null(inet_ntop(AF_INET6, &a, got, sizeof(got)));
	assert_string_equal(got, want);
}

/* ::1 for the server, ::2 up for peers, the same one back for a returning
 * fingerprint; a second session while in use is -EBUSY. */
static void test_pool6_sticky_from_2(void **state)
{
	struct pool6 *p = pool6_of("fd00:8::", 64);
	struct in6_addr a = pool6_server_addr(p), b;
	char s[INET6_ADDRSTRLEN];

	(void)state;
	assert_string_equal(inet_ntop(AF_INET6, &a, s, sizeof(s)), "fd00:8::1");
	assert_lease6(p, FP_ALICE, "fd00:8::2");
	assert_lease6(p, FP_BOB, "fd00:8::3");
	assert_int_equal(pool6_lease(p, FP_ALICE, &b), -EBUSY);
	assert_true(pool6_changed(p));
	pool6_release(p, FP_ALICE);
	assert_lease6(p, FP_CAROL, "fd00:8::4");	/* never-used first */
	pool6_clear_changed(p);
	assert_lease6(p, FP_ALICE, "fd00:8::2");	/* its own back */
	assert_false(pool6_changed(p));
	pool6_free(p);
}

/* A static address6 is its fingerprint's only; reserving one held by a
 * session of another is -EBUSY; outside the network or ::1 is -EINVAL. */
static void test_pool6_reserve(void **state)
{
	struct pool6 *p = pool6_of("fd00:8::", 64);
	struct in6_addr b = ip6("fd00:8::b"), a;

	(void)state;
	assert_int_equal(pool6_reserve(p, &b, FP_BOB), 0);
	assert_lease6(p, FP_ALICE, "fd00:8::2");
	assert_lease6(p, FP_BOB, "fd00:8::b");
	a = ip6("fd00:8::2");
	assert_int_equal(pool6_reserve(p, &a, FP_CAROL), -EBUSY);
	a = ip6("fd00:9::5");
	assert_int_equal(pool6_reserve(p, &a, FP_CAROL), -EINVAL);
	a = ip6("fd00:8::1");
	assert_int_equal(pool6_reserve(p, &a, FP_CAROL), -EINVAL);
	pool6_release(p, FP_BOB);
	pool6_clear_reserved(p);
	assert_lease6(p, FP_BOB, "fd00:8::b");		/* still sticky */
	pool6_free(p);
}

/* Remembered owners (a lease file) get their address back and are skipped
 * by new peers; a /126 runs out and then reuses the longest released. */
static void test_pool6_remember_and_full(void **state)
{
	struct pool6 *p = pool6_of("fd00:8::100", 126);	/* ::101 server, ::102-103 */
	struct in6_addr a = ip6("fd00:8::102"), b;

	(void)state;
	assert_int_equal(pool6_remember(p, &a, FP_DAVE), 0);
	assert_lease6(p, FP_ALICE, "fd00:8::103");	/* dave's is skipped */
	assert_lease6(p, FP_BOB, "fd00:8::102");	/* full: dave's goes last */
	assert_int_equal(pool6_lease(p, FP_CAROL, &b), -ENOSPC);
	pool6_free(p);
	p = pool6_of("fd00:8::100", 126);
	assert_int_equal(pool6_remember(p, &a, FP_DAVE), 0);
	assert_lease6(p, FP_DAVE, "fd00:8::102");
	a = ip6("fd00:8::103");
	assert_int_equal(pool6_remember(p, &a, FP_ERIN), 0);
	assert_lease6(p, FP_ALICE, "fd00:8::103");	/* full: the remembered, oldest */
	a = ip6("fd00:8::102");
	assert_int_equal(pool6_remember(p, &a, FP_ERIN), -EBUSY);	/* in use */
	a = ip6("fd00:8::200");
	assert_int_equal(pool6_remember(p, &a, FP_ERIN), -EINVAL);
	pool6_free(p);
}

static int count6(void *arg, const struct in6_addr *a, const char *fp)
{
	(void)a;
	(void)fp;
	(*(int *)arg)++;
	return 0;
}

static void test_pool6_foreach_and_bad_prefix(void **state)
{
	struct cidr6 c = { .plen = 48 };
	struct pool6 *p = pool6_of("fd00:8::", 64);
	int n = 0;

	(void)state;
	assert_lease6(p, FP_ALICE, "fd00:8::2");
	assert_lease6(p, FP_BOB, "fd00:8::3");
	assert_int_equal(pool6_foreach_owner(p, count6, &n), 0);
	assert_int_equal(n, 2);
	pool6_free(p);
	pool6_free(NULL);
	p = NULL;
	assert_int_equal(pool6_new(&p, &c), -EINVAL);
	assert_null(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pool_server_takes_first_host,
		    setup_24, teardown),
		cmocka_unit_test_setup_teardown(test_pool_leases_lowest_first,
		    setup_24, teardown),
		cmocka_unit_test_setup_teardown(
		    test_pool_reuses_address_for_same_fingerprint, setup_24,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_pool_different_fingerprints_get_different_addresses,
		    setup_24, teardown),
		cmocka_unit_test_setup_teardown(
		    test_pool_second_lease_while_in_use_is_ebusy, setup_24,
		    teardown),
		cmocka_unit_test(test_pool_exhaustion_on_slash30),
		cmocka_unit_test(test_pool_full_reuses_longest_released),
		cmocka_unit_test(
		    test_pool_reserved_address_only_for_its_fingerprint),
		cmocka_unit_test_setup_teardown(
		    test_pool_reservation_beats_sticky_address, setup_24,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_pool_reserve_outside_pool_is_einval, setup_24, teardown),
		cmocka_unit_test_setup_teardown(
		    test_pool_reserve_held_by_other_in_use_is_ebusy, setup_24,
		    teardown),
		cmocka_unit_test(test_pool_clear_reserved_frees_address),
		cmocka_unit_test_setup_teardown(
		    test_pool_cleared_reservation_stays_sticky, setup_24,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_pool_clear_reserved_keeps_leases, setup_24, teardown),
		cmocka_unit_test(test_pool_new_rejects_bad_prefix),
		cmocka_unit_test_setup_teardown(
		    test_pool_remember_gives_address_back, setup_24, teardown),
		cmocka_unit_test_setup_teardown(
		    test_pool_remember_outside_pool_is_einval, setup_24,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_pool_remember_in_use_or_reserved_is_ebusy, setup_24,
		    teardown),
		cmocka_unit_test(test_pool_remembered_is_oldest_when_full),
		cmocka_unit_test_setup_teardown(
		    test_pool_changed_on_new_owner_only, setup_24, teardown),
		cmocka_unit_test_setup_teardown(
		    test_pool_changed_on_reserve_to_new_owner, setup_24,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_pool_foreach_owner_in_address_order, setup_24,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_pool_foreach_owner_stops_on_nonzero, setup_24, teardown),
		cmocka_unit_test(test_pool6_sticky_from_2),
		cmocka_unit_test(test_pool6_reserve),
		cmocka_unit_test(test_pool6_remember_and_full),
		cmocka_unit_test(test_pool6_foreach_and_bad_prefix),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
