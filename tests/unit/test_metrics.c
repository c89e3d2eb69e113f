/* test_metrics.c - the Prometheus text writer: HELP and TYPE lines, label
 * values escaped (backslash, quote, newline), histograms with cumulative
 * buckets whose +Inf equals _count, and the families both modes begin
 * with. The server's scrape as a whole is parsed by a real parser in the
 * e2e test (tests/e2e/metrics.sh). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/ctl.h"
#include "daemon/metrics.h"

/* The text in b, NUL-terminated (ctl_printf keeps it so). */
static const char *text(const struct ctl_buf *b)
{
	assert_false(b->cb_oom);
	assert_non_null(b->cb_p);
	return b->cb_p;
}

static void test_head_lines(void **state)
{
	struct ctl_buf b = { 0 };

	(void)state;
	metrics_head(&b, "vpnd_x_total", "counter", "Things.\nMore \\ \"quoted\"");
	assert_string_equal(text(&b), "# HELP vpnd_x_total Things.\\nMore \\\\ \"quoted\"\n"
	    "# TYPE vpnd_x_total counter\n");
	ctl_buf_free(&b);
}

static void test_sample_without_and_with_label(void **state)
{
	struct ctl_buf b = { 0 };

	(void)state;
	metrics_u64(&b, "vpnd_peers_connected", NULL, NULL, 3);
	metrics_u64(&b, "vpnd_peer_receive_bytes_total", "peer", "alice",
	    18446744073709551615ULL);
	assert_string_equal(text(&b), "vpnd_peers_connected 3\n"
	    "vpnd_peer_receive_bytes_total{peer=\"alice\"} 18446744073709551615\n");
	ctl_buf_free(&b);
}

static void test_label_value_escaped(void **state)
{
	struct ctl_buf b = { 0 };

	(void)state;
	metrics_u64(&b, "m", "peer", "a\\b\"c\nd", 1);
	assert_string_equal(text(&b), "m{peer=\"a\\\\b\\\"c\\nd\"} 1\n");
	ctl_buf_free(&b);
}

static void test_escape_truncates_whole(void **state)
{
	char out[6];

	(void)state;
	/* never half an escape, always NUL-terminated */
	assert_string_equal(metrics_escape("ab\"\"", out, sizeof(out)), "ab\\\"");
	assert_string_equal(metrics_escape("abcdefgh", out, sizeof(out)), "abcde");
	assert_string_equal(metrics_escape("", out, sizeof(out)), "");
}

static void test_float_sample(void **state)
{
	struct ctl_buf b = { 0 };

	(void)state;
	metrics_f64(&b, "m", NULL, NULL, 0.25);
	assert_string_equal(text(&b), "m 0.25\n");
	ctl_buf_free(&b);
}

static void test_histogram_buckets_cumulative(void **state)
{
	struct metrics_hist h = { 0 };
	struct ctl_buf b = { 0 };
	const char *t;

	(void)state;
	metrics_hist_observe(&h, 0.001);	/* <= 0.005 */
	metrics_hist_observe(&h, 0.005);	/* le is inclusive */
	metrics_hist_observe(&h, 0.2);		/* <= 0.25 */
	metrics_hist_observe(&h, 60);		/* +Inf only */
	assert_int_equal(h.mh_count, 4);
	metrics_hist(&b, "vpnd_hs_seconds", "Latency.", &h);
	t = text(&b);
	assert_non_null(strstr(t, "# HELP vpnd_hs_seconds Latency.\n"
	    "# TYPE vpnd_hs_seconds histogram\n"
	    "vpnd_hs_seconds_bucket{le=\"0.005\"} 2\n"
	    "vpnd_hs_seconds_bucket{le=\"0.01\"} 2\n"
	    "vpnd_hs_seconds_bucket{le=\"0.025\"} 2\n"
	    "vpnd_hs_seconds_bucket{le=\"0.05\"} 2\n"
	    "vpnd_hs_seconds_bucket{le=\"0.1\"} 2\n"
	    "vpnd_hs_seconds_bucket{le=\"0.25\"} 3\n"));
	assert_non_null(strstr(t, "vpnd_hs_seconds_bucket{le=\"10\"} 3\n"
	    "vpnd_hs_seconds_bucket{le=\"+Inf\"} 4\n"
	    "vpnd_hs_seconds_sum 60.206000000000003\n"
	    "vpnd_hs_seconds_count 4\n"));
	ctl_buf_free(&b);
}

static void test_empty_histogram(void **state)
{
	struct metrics_hist h = { 0 };
	struct ctl_buf b = { 0 };

	(void)state;
	metrics_hist(&b, "h", "x", &h);
	assert_non_null(strstr(text(&b), "h_bucket{le=\"+Inf\"} 0\nh_sum 0\nh_count 0\n"));
	ctl_buf_free(&b);
}

static void test_common_and_handshakes(void **state)
{
	struct metrics_hist h = { 0 };
	struct ctl_buf b = { 0 };
	const char *t;

	(void)state;
	metrics_hist_observe(&h, 0.02);
	metrics_common(&b, "server", 1000, 1042);
	metrics_handshakes(&b, 1, 2, 3, &h);
	t = text(&b);
	assert_non_null(strstr(t, "# TYPE vpnd_build_info gauge\nvpnd_build_info{version=\""
	    VPND_VERSION "\",mode=\"server\"} 1\n"));
	assert_non_null(strstr(t, "vpnd_start_time_seconds 1000\n"));
	assert_non_null(strstr(t, "vpnd_uptime_seconds 42\n"));
	assert_non_null(strstr(t, "# TYPE vpnd_handshakes_total counter\n"));
	assert_non_null(strstr(t, "vpnd_handshakes_total{result=\"ok\"} 1\n"
	    "vpnd_handshakes_total{result=\"denied\"} 2\n"
	    "vpnd_handshakes_total{result=\"failed\"} 3\n"));
	assert_non_null(strstr(t, "# TYPE vpnd_handshake_duration_seconds histogram\n"));
	assert_non_null(strstr(t, "vpnd_handshake_duration_seconds_bucket{le=\"0.025\"} 1\n"));
	ctl_buf_free(&b);
}

static void test_totals(void **state)
{
	struct metrics_traffic m = { 1, 2, 3, 4, 5 };
	struct ctl_buf b = { 0 };
	const char *t;

	(void)state;
	metrics_totals(&b, &m);
	t = text(&b);
	assert_non_null(strstr(t, "# TYPE vpnd_receive_bytes_total counter\n"
	    "vpnd_receive_bytes_total 1\n"));
	assert_non_null(strstr(t, "vpnd_transmit_packets_total 4\n"));
	assert_non_null(strstr(t, "# TYPE vpnd_transport_switches_total counter\n"
	    "vpnd_transport_switches_total 5\n"));
	ctl_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_head_lines),
		cmocka_unit_test(test_sample_without_and_with_label),
		cmocka_unit_test(test_label_value_escaped),
		cmocka_unit_test(test_escape_truncates_whole),
		cmocka_unit_test(test_float_sample),
		cmocka_unit_test(test_histogram_buckets_cumulative),
		cmocka_unit_test(test_empty_histogram),
		cmocka_unit_test(test_common_and_handshakes),
		cmocka_unit_test(test_totals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
