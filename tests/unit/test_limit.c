/* test_limit.c - handshake admission: per-address and per-network caps on
 * pending handshakes, failure budgets paid at admission, the server-wide
 * pending cap and handshake rate, the keyed source table, and the pause in
 * accepting with its log budget. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include <cmocka.h>

#include "server/limit.h"

#define PROBES 8	/* limit.c's: slots a key may use */

static struct sockaddr_storage v4(const char *ip)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof(ss));
	sin->sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, ip, &sin->sin_addr), 1);
	return ss;
}

static struct sockaddr_storage v6(const char *ip)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	sin6->sin6_family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, ip, &sin6->sin6_addr), 1);
	return ss;
}

/* 10.N/24 host 1 for N < 65536: a source with a network of its own. */
static struct sockaddr_storage nth_net(unsigned n)
{
	char ip[32];

	snprintf(ip, sizeof(ip), "10.%u.%u.1", (n >> 8) & 255, n & 255);
	return v4(ip);
}

static int setup(void **state)
{
	struct limit *l;

	assert_int_equal(limit_new(&l, 1 << 20), 0);
	*state = l;
	return 0;
}

static int teardown(void **state)
{
	limit_free(*state);
	return 0;
}

static void test_limit_pending_cap_per_address(void **state)
{
	struct limit *l = *state;
	struct sockaddr_storage a = v4("198.18.9.1"), b = v4("198.18.9.2");
	int i;

	for (i = 0; i < LIMIT_PENDING_ADDR; i++)
		assert_int_equal(limit_admit(l, &a, 0), LIMIT_OK);
	assert_int_equal(limit_admit(l, &a, 0), LIMIT_THROTTLED);
	assert_int_equal(limit_admit(l, &b, 0), LIMIT_OK);	/* its neighbour */
	limit_done(l, &a, false, 0);
	assert_int_equal(limit_admit(l, &a, 0), LIMIT_OK);	/* a place came free */
}

/* Addresses of one /24 share its cap; the next /24 has its own. */
static void test_limit_pending_cap_per_net4(void **state)
{
	struct limit *l = *state;
	struct sockaddr_storage a, other = v4("198.18.10.1");
	char ip[32];
	int i;

	for (i = 0; i < LIMIT_PENDING_NET; i++) {
		snprintf(ip, sizeof(ip), "198.18.9.%d", 1 + i / LIMIT_PENDING_ADDR);
		a = v4(ip);
		assert_int_equal(limit_admit(l, &a, 0), LIMIT_OK);
	}
	a = v4("198.18.9.250");		/* fresh address, full network */
	assert_int_equal(limit_admit(l, &a, 0), LIMIT_THROTTLED);
	assert_int_equal(limit_admit(l, &other, 0), LIMIT_OK);
	a = v4("198.18.9.1");
	limit_done(l, &a, false, 0);
	a = v4("198.18.9.250");
	assert_int_equal(limit_admit(l, &a, 0), LIMIT_OK);
}

/* An IPv6 host holds a /64: all of its addresses share one cap. */
static void test_limit_pending_cap_per_net6(void **state)
{
	struct limit *l = *state;
	struct sockaddr_storage a, other = v6("2001:db8:1:3::1");
	char ip[64];
	int i;

	for (i = 0; i < LIMIT_PENDING_NET; i++) {
		snprintf(ip, sizeof(ip), "2001:db8:1:2:%x:%x::1", (i * 7919) & 0xffff, i);
		a = v6(ip);
		assert_int_equal(limit_admit(l, &a, 0), LIMIT_OK);
	}
	a = v6("2001:db8:1:2:ffff:ffff:ffff:ffff");
	assert_int_equal(limit_admit(l, &a, 0), LIMIT_THROTTLED);
	assert_int_equal(limit_admit(l, &other, 0), LIMIT_OK);	/* next /64 */
	for (i = 0; i < LIMIT_PENDING_ADDR - 1; i++)		/* per address too */
		assert_int_equal(limit_admit(l, &other, 0), LIMIT_OK);
	assert_int_equal(limit_admit(l, &other, 0), LIMIT_THROTTLED);
}

/* From a dual-stack socket ::ffff:a.b.c.d is host a.b.c.d in its /24,
 * not one more source in the /64 ::ffff:0:0. */
static void test_limit_v4mapped_is_ipv4(void **state)
{
	struct limit *l = *state;
	struct sockaddr_storage a = v4("198.18.9.1"), m = v6("::ffff:198.18.9.1");
	struct sockaddr_storage m2 = v6("::ffff:198.18.77.1");
	int i;

	for (i = 0; i < LIMIT_PENDING_ADDR; i++)
		assert_int_equal(limit_admit(l, &a, 0), LIMIT_OK);
	assert_int_equal(limit_admit(l, &m, 0), LIMIT_THROTTLED);
	assert_int_equal(limit_admit(l, &m2, 0), LIMIT_OK);	/* another /24 */
	limit_done(l, &m, false, 0);
	assert_int_equal(limit_admit(l, &a, 0), LIMIT_OK);
}

/* A pending handshake has paid its failure already: a source cannot keep
 * starting handshakes on credit while earlier ones wait to fail. */
static void test_limit_failures_spent_at_admission(void **state)
{
	struct limit *l = *state;
	struct sockaddr_storage a = v4("198.18.9.1");
	int i, admitted = 0;

	/* fail in waves of LIMIT_PENDING_ADDR until less than a wave is left */
	while (LIMIT_FAIL_ADDR - admitted > LIMIT_PENDING_ADDR) {
		for (i = 0; i < LIMIT_PENDING_ADDR; i++, admitted++)
			assert_int_equal(limit_admit(l, &a, 0), LIMIT_OK);
		for (i = 0; i < LIMIT_PENDING_ADDR; i++)
			limit_done(l, &a, true, 0);
	}
	/* the rest of the budget, still pending: not yet failed, and the
	 * address is below its pending cap, but owes its whole budget */
	for (; admitted < LIMIT_FAIL_ADDR; admitted++)
		assert_int_equal(limit_admit(l, &a, 0), LIMIT_OK);
	assert_int_equal(limit_admit(l, &a, 0), LIMIT_THROTTLED);
	limit_done(l, &a, false, 0);			/* a success pays back */
	assert_int_equal(limit_admit(l, &a, 0), LIMIT_OK);
	assert_int_equal(limit_admit(l, &a, 0), LIMIT_THROTTLED);
}

static void test_limit_failures_refill(void **state)
{
	struct limit *l = *state;
	struct sockaddr_storage a = v4("198.18.9.1");
	int i;

	for (i = 0; i < LIMIT_FAIL_ADDR; i++) {
		assert_int_equal(limit_admit(l, &a, 0), LIMIT_OK);
		limit_done(l, &a, true, 0);
	}
	assert_int_equal(limit_admit(l, &a, 0), LIMIT_THROTTLED);
	assert_int_equal(limit_admit(l, &a, LIMIT_REFILL_ADDR_MS - 1), LIMIT_THROTTLED);
	assert_int_equal(limit_admit(l, &a, LIMIT_REFILL_ADDR_MS), LIMIT_OK);
	limit_done(l, &a, true, LIMIT_REFILL_ADDR_MS);
	assert_int_equal(limit_admit(l, &a, LIMIT_REFILL_ADDR_MS), LIMIT_THROTTLED);
}

/* Many addresses of one /24, each within its own budget, exhaust the
 * network's; a new address there is throttled, another /24 is not. */
static void test_limit_failures_per_net(void **state)
{
	struct limit *l = *state;
	struct sockaddr_storage a, other = v4("198.18.10.1");
	char ip[32];
	int i;

	for (i = 0; i < LIMIT_FAIL_NET; i++) {
		snprintf(ip, sizeof(ip), "198.18.9.%d", 1 + i / LIMIT_PENDING_ADDR);
		a = v4(ip);
		assert_int_equal(limit_admit(l, &a, 0), LIMIT_OK);
		limit_done(l, &a, true, 0);
	}
	a = v4("198.18.9.250");
	assert_int_equal(limit_admit(l, &a, 0), LIMIT_THROTTLED);
	assert_int_equal(limit_admit(l, &other, 0), LIMIT_OK);
	assert_int_equal(limit_admit(l, &a, LIMIT_REFILL_NET_MS), LIMIT_OK);
}

static void test_limit_successes_cost_nothing(void **state)
{
	struct limit *l = *state;
	struct sockaddr_storage a = v4("198.18.9.1");
	uint64_t now = 0;
	int i;

	for (i = 0; i < 10 * LIMIT_FAIL_NET; i++, now += LIMIT_HS_EVERY_MS) {
		assert_int_equal(limit_admit(l, &a, now), LIMIT_OK);
		limit_done(l, &a, false, now);
	}
	assert_int_equal(limit_admit(l, &a, now), LIMIT_OK);
}

static void test_limit_port_is_ignored(void **state)
{
	struct limit *l = *state;
	struct sockaddr_storage a = v4("198.18.9.1"), a2 = a;
	int i;

	((struct sockaddr_in *)&a2)->sin_port = htons(4000);
	for (i = 0; i < LIMIT_FAIL_ADDR; i++) {
		assert_int_equal(limit_admit(l, i % 2 ? &a : &a2, 0), LIMIT_OK);
		limit_done(l, i % 2 ? &a : &a2, true, 0);
	}
	assert_int_equal(limit_admit(l, &a2, 0), LIMIT_THROTTLED);
}

/* The CPU budget: however many sources, at most LIMIT_HS_BURST handshakes
 * start at once and one per LIMIT_HS_EVERY_MS after; successes do not
 * give back the work already done. */
static void test_limit_handshake_rate(void **state)
{
	struct limit *l = *state;
	struct sockaddr_storage a;
	unsigned n = 0, admitted = 0;
	uint64_t now;

	for (n = 0; n < LIMIT_HS_BURST; n++) {
		a = nth_net(n);
		assert_int_equal(limit_admit(l, &a, 0), LIMIT_OK);
		limit_done(l, &a, false, 0);
	}
	a = nth_net(n++);
	assert_int_equal(limit_admit(l, &a, 0), LIMIT_BUSY);
	assert_int_equal(limit_admit(l, &a, LIMIT_HS_EVERY_MS - 1), LIMIT_BUSY);
	assert_int_equal(limit_admit(l, &a, LIMIT_HS_EVERY_MS), LIMIT_OK);
	limit_done(l, &a, false, LIMIT_HS_EVERY_MS);
	/* ten seconds of fresh sources as fast as they come: 100 per second */
	for (now = LIMIT_HS_EVERY_MS; now <= 10000; now++) {
		a = nth_net(n++ % 60000);
		if (limit_admit(l, &a, now) == LIMIT_OK) {
			admitted++;
			limit_done(l, &a, false, now);
		}
	}
	assert_int_equal(admitted, (10000 - LIMIT_HS_EVERY_MS) / LIMIT_HS_EVERY_MS);
}

/* The cap on pending handshakes comes from the descriptor limit. */
static void test_limit_pending_cap_from_nofile(void **state)
{
	struct limit *l;
	struct sockaddr_storage a;
	unsigned i, want = (1024 - LIMIT_FD_RESERVE) / 2;
	uint64_t now = 0;

	(void)state;
	assert_int_equal(limit_new(&l, 1024), 0);
	assert_int_equal(limit_max_pending(l), want);
	for (i = 0; i < want; i++, now += LIMIT_HS_EVERY_MS) {
		a = nth_net(i);
		assert_int_equal(limit_admit(l, &a, now), LIMIT_OK);
	}
	a = nth_net(i);
	assert_int_equal(limit_admit(l, &a, now), LIMIT_BUSY);
	a = nth_net(0);
	limit_done(l, &a, true, now);		/* frees a place */
	a = nth_net(i);
	assert_int_equal(limit_admit(l, &a, now), LIMIT_OK);
	limit_free(l);

	assert_int_equal(limit_new(&l, 1u << 20), 0);
	assert_int_equal(limit_max_pending(l), LIMIT_PENDING_MAX);
	limit_free(l);
	assert_int_equal(limit_new(&l, 20), 0);
	assert_int_equal(limit_max_pending(l), LIMIT_PENDING_MIN);
	limit_free(l);
}

/* The table before it was keyed: FNV-1a over the address as 16 bytes,
 * IPv4 v4-mapped, starting PROBES slots at hash % LIMIT_SLOTS. */
static unsigned old_slot(const struct sockaddr_storage *ss)
{
	uint8_t key[16] = { [10] = 0xff, [11] = 0xff };
	uint32_t h = 2166136261u;
	int i;

	if (ss->ss_family == AF_INET)
		memcpy(key + 12, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	else
		memcpy(key, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
	for (i = 0; i < 16; i++)
		h = (h ^ key[i]) * 16777619u;
	return h % LIMIT_SLOTS;
}

/* PROBES addresses whose slots under the old hash are the victim's, each
 * holding one handshake, used to lock the victim out: every slot it could
 * use was taken and none could be reused. Keyed, they land anywhere. */
static void lockout(const struct sockaddr_storage *victim,
    const struct sockaddr_storage *attackers)
{
	struct limit *l;
	int k, i;

	for (k = 0; k < 16; k++) {	/* sixteen keys, sixteen tables */
		assert_int_equal(limit_new(&l, 1 << 20), 0);
		for (i = 0; i < PROBES; i++)
			assert_int_equal(limit_admit(l, &attackers[i], 0), LIMIT_OK);
		assert_int_equal(limit_admit(l, victim, 0), LIMIT_OK);
		limit_free(l);
	}
}

static void test_limit_colliding_v4_no_lockout(void **state)
{
	struct sockaddr_storage victim = v4("198.51.100.7"), att[PROBES];
	unsigned want = old_slot(&victim), net, host, n = 0;
	char ip[32];

	(void)state;
	/* one address per /24, so no network cap is what stops them */
	for (net = 0; net < 65536 && n < PROBES; net++)
		for (host = 1; host < 255; host++) {
			snprintf(ip, sizeof(ip), "10.%u.%u.%u", net >> 8, net & 255, host);
			att[n] = v4(ip);
			if (old_slot(&att[n]) == want) {
				n++;
				break;
			}
		}
	assert_int_equal(n, PROBES);
	lockout(&victim, att);
}

static void test_limit_colliding_v6_no_lockout(void **state)
{
	struct sockaddr_storage victim = v6("2001:db8:1:2::7"), att[PROBES];
	unsigned want = old_slot(&victim), n = 0;
	uint32_t i;
	char ip[64];

	(void)state;
	/* all from the attacker's own /64, as anyone with one could */
	for (i = 0; i < 1u << 24 && n < PROBES; i++) {
		snprintf(ip, sizeof(ip), "2001:db8:bad:1::%x:%x", i >> 16, i & 0xffff);
		att[n] = v6(ip);
		if (old_slot(&att[n]) == want)
			n++;
	}
	assert_int_equal(n, PROBES);
	lockout(&victim, att);
}

static void test_limit_many_sources_bounded_table(void **state)
{
	struct limit *l = *state;
	struct sockaddr_storage a;
	char ip[32];
	int i, admitted = 0;
	uint64_t now = 0;

	/* far more sources than slots, each with one finished handshake:
	 * stale entries are reused, so new sources keep being admitted */
	for (i = 0; i < 4 * LIMIT_SLOTS; i++, now += LIMIT_HS_EVERY_MS) {
		snprintf(ip, sizeof(ip), "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
		a = v4(ip);
		if (limit_admit(l, &a, now) == LIMIT_OK) {
			admitted++;
			limit_done(l, &a, false, now);
		}
	}
	assert_int_equal(admitted, 4 * LIMIT_SLOTS);
}

static void test_limit_pause(void **state)
{
	struct limit *l = *state;

	assert_false(limit_resume_due(l, 1000));		/* not paused */
	limit_pause(l, 1000);
	assert_false(limit_resume_due(l, 1000 + LIMIT_PAUSE_MS - 1));
	assert_true(limit_resume_due(l, 1000 + LIMIT_PAUSE_MS));
	assert_false(limit_resume_due(l, 1000 + 2 * LIMIT_PAUSE_MS));	/* once */
}

static void test_limit_raise_nofile(void **state)
{
	struct rlimit rl, low;

	(void)state;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	low = rl;
	if (low.rlim_max > 64)
		low.rlim_cur = 64;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	assert_int_equal(limit_raise_nofile(), rl.rlim_max);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &low), 0);
	assert_int_equal(low.rlim_cur, rl.rlim_max);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_limit_pending_cap_per_address, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limit_pending_cap_per_net4, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limit_pending_cap_per_net6, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limit_v4mapped_is_ipv4, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limit_failures_spent_at_admission, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limit_failures_refill, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limit_failures_per_net, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limit_successes_cost_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limit_port_is_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limit_handshake_rate, setup, teardown),
		cmocka_unit_test(test_limit_pending_cap_from_nofile),
		cmocka_unit_test(test_limit_colliding_v4_no_lockout),
		cmocka_unit_test(test_limit_colliding_v6_no_lockout),
		cmocka_unit_test_setup_teardown(test_limit_many_sources_bounded_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limit_pause, setup, teardown),
		cmocka_unit_test(test_limit_raise_nofile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
