/* test_limit.c - per-source handshake limits. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "server/limit.h"

static struct sockaddr_storage v4(const char *ip)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof(ss));
	sin->sin_family = AF_INET;
	inet_pton(AF_INET, ip, &sin->sin_addr);
	return ss;
}

static int setup(void **state)
{
	struct limit *l;

	assert_int_equal(limit_new(&l), 0);
	*state = l;
	return 0;
}

static int teardown(void **state)
{
	limit_free(*state);
	return 0;
}

static void test_limit_pending_cap_per_source(void **state)
{
	struct limit *l = *state;
	struct sockaddr_storage a = v4("198.18.9.1"), b = v4("198.18.9.2");
	int i;

	for (i = 0; i < LIMIT_PENDING_PER_SRC; i++)
		assert_true(limit_admit(l, &a, 0));
	assert_false(limit_admit(l, &a, 0));
	assert_true(limit_admit(l, &b, 0));		/* others unaffected */
	limit_done(l, &a, false, 0);
	assert_true(limit_admit(l, &a, 0));		/* a slot came free */
}

static void test_limit_failures_throttle_then_refill(void **state)
{
	struct limit *l = *state;
	struct sockaddr_storage a = v4("198.18.9.1");
	int i;

	for (i = 0; i < LIMIT_FAIL_BURST; i++) {
		assert_true(limit_admit(l, &a, 0));
		limit_done(l, &a, true, 0);
	}
	assert_false(limit_admit(l, &a, 0));
	assert_false(limit_admit(l, &a, LIMIT_FAIL_REFILL_MS - 1));
	assert_true(limit_admit(l, &a, LIMIT_FAIL_REFILL_MS));	/* one token back */
	limit_done(l, &a, true, LIMIT_FAIL_REFILL_MS);
	assert_false(limit_admit(l, &a, LIMIT_FAIL_REFILL_MS));
}

static void test_limit_successes_cost_nothing(void **state)
{
	struct limit *l = *state;
	struct sockaddr_storage a = v4("198.18.9.1");
	int i;

	for (i = 0; i < 10 * LIMIT_FAIL_BURST; i++) {
		assert_true(limit_admit(l, &a, 0));
		limit_done(l, &a, false, 0);
	}
	assert_true(limit_admit(l, &a, 0));
}

static void test_limit_port_is_ignored(void **state)
{
	struct limit *l = *state;
	struct sockaddr_storage a = v4("198.18.9.1"), a2 = a;
	int i;

	((struct sockaddr_in *)&a2)->sin_port = htons(4000);
	for (i = 0; i < LIMIT_FAIL_BURST; i++) {
		assert_true(limit_admit(l, i % 2 ? &a : &a2, 0));
		limit_done(l, i % 2 ? &a : &a2, true, 0);
	}
	assert_false(limit_admit(l, &a2, 0));
}

static void test_limit_many_sources_bounded_table(void **state)
{
	struct limit *l = *state;
	struct sockaddr_storage a;
	char ip[32];
	int i, admitted = 0;

	/* far more sources than slots, each with one finished handshake:
	 * stale entries are reused, so new sources keep being admitted */
	for (i = 0; i < 4 * LIMIT_SLOTS; i++) {
		snprintf(ip, sizeof(ip), "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
		a = v4(ip);
		if (limit_admit(l, &a, (uint64_t)i)) {
			admitted++;
			limit_done(l, &a, false, (uint64_t)i);
		}
	}
	assert_int_equal(admitted, 4 * LIMIT_SLOTS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_limit_pending_cap_per_source, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limit_failures_throttle_then_refill, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limit_successes_cost_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limit_port_is_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limit_many_sources_bounded_table, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
