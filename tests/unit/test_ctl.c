/* test_ctl.c - the control socket: request parsing, the output buffer and
 * the renderers both daemons share (JSON strings, the peers table in text
 * and JSON, timestamps), then the socket itself on a real libuv loop with a
 * plain AF_UNIX client: one request and its answer per connection, limits,
 * the socket file's mode, a live or stale socket at the path, and a clean
 * close (uv_loop_close returns 0). JSON output is parsed back with
 * jansson; text tables are checked column by column. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <grp.h>

#include <cmocka.h>

#include "daemon/ctl.h"
#include "fixture.h"

/* ---- JSON checks: jansson parses what the renderers made ---- */

/* DOC must be exactly one JSON value and a newline; returns it parsed. */
static json_t *parse_json(const char *doc)
{
	json_error_t e;
	json_t *j;
	size_t n = strlen(doc);

	assert_true(n > 0 && doc[n - 1] == '\n');
	assert_null(memchr(doc, '\n', n - 1));		/* one line */
	if ((j = json_loads(doc, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &e)) == NULL)
		fail_msg("not JSON: %s: %s", e.text, doc);
	return j;
}

static void assert_str_field(json_t *o, const char *key, const char *want)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_string(v))
		fail_msg("%s: not a string", key);
	assert_string_equal(json_string_value(v), want);
}

static void assert_int_field(json_t *o, const char *key, json_int_t want)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v))
		fail_msg("%s: not an integer", key);
	assert_int_equal(json_integer_value(v), want);
}

/* ---- ctl_parse_request ---- */

/* Parse a copy of TEXT into *rq, which starts out filled with junk. */
static int parse(const char *text, char *line, size_t len, struct ctl_req *rq)
{
	assert_true(strlen(text) < len);
	snprintf(line, len, "%s", text);
	memset(rq, 0x5a, sizeof(*rq));
	return ctl_parse_request(line, rq);
}

static void test_parse_words(void **state)
{
	struct ctl_req rq;
	char line[256];
	struct ctl_conn *conn;
	int i;

	(void)state;
	assert_int_equal(parse("allow\tadd\talice\tsha256:ab", line, sizeof(line), &rq), 0);
	assert_int_equal(rq.rq_argc, 4);
	assert_string_equal(rq.rq_argv[0], "allow");
	assert_string_equal(rq.rq_argv[1], "add");
	assert_string_equal(rq.rq_argv[2], "alice");
	assert_string_equal(rq.rq_argv[3], "sha256:ab");
	for (i = 4; i < CTL_MAX_ARGS; i++)
		assert_null(rq.rq_argv[i]);
	assert_false(rq.rq_json);
	/* words point into the line, which was cut at the tabs */
	assert_ptr_equal(rq.rq_argv[0], line);
	assert_ptr_equal(rq.rq_argv[1], line + 6);
	/* rq_conn is never touched */
	memset(&conn, 0x5a, sizeof(conn));
	assert_ptr_equal(rq.rq_conn, conn);

	/* spaces are part of a word */
	assert_int_equal(parse("kick\tmy peer", line, sizeof(line), &rq), 0);
	assert_int_equal(rq.rq_argc, 2);
	assert_string_equal(rq.rq_argv[1], "my peer");
}

static void test_parse_json_anywhere(void **state)
{
	static const char *const lines[] = {
		"--json\tpeers\tlist", "peers\t--json\tlist", "peers\tlist\t--json",
		"--json\tpeers\t--json\tlist",
	};
	struct ctl_req rq;
	char line[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		assert_int_equal(parse(lines[i], line, sizeof(line), &rq), 0);
		assert_int_equal(rq.rq_argc, 2);
		assert_string_equal(rq.rq_argv[0], "peers");
		assert_string_equal(rq.rq_argv[1], "list");
		assert_null(rq.rq_argv[2]);
		assert_true(rq.rq_json);
		assert_false(rq.rq_long);
	}
	/* only the exact word counts */
	assert_int_equal(parse("status\t--json=1\t--JSON\t-json", line, sizeof(line), &rq), 0);
	assert_int_equal(rq.rq_argc, 4);
	assert_false(rq.rq_json);
	assert_false(rq.rq_long);
	/* --long (vpnctl -l) is a flag the same way */
	assert_int_equal(parse("peers\t--long\t--json", line, sizeof(line), &rq), 0);
	assert_int_equal(rq.rq_argc, 1);
	assert_true(rq.rq_long && rq.rq_json);
	assert_int_equal(parse("--long\tpeers", line, sizeof(line), &rq), 0);
	assert_true(rq.rq_long && !rq.rq_json);
}

static void test_parse_too_many_words(void **state)
{
	char text[256] = "", line[256];
	struct ctl_req rq, junk;
	int i;

	(void)state;
	for (i = 0; i < CTL_MAX_ARGS; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "%sw%d",
		    i ? "\t" : "", i);
	assert_int_equal(parse(text, line, sizeof(line), &rq), 0);
	assert_int_equal(rq.rq_argc, CTL_MAX_ARGS);
	assert_string_equal(rq.rq_argv[CTL_MAX_ARGS - 1], "w15");

	/* "--json" is not a word: the limit still holds with it */
	strcat(text, "\t--json");
	assert_int_equal(parse(text, line, sizeof(line), &rq), 0);
	assert_int_equal(rq.rq_argc, CTL_MAX_ARGS);
	assert_true(rq.rq_json);

	/* one more: -E2BIG, rq untouched */
	strcat(text, "\tw16");
	assert_int_equal(parse(text, line, sizeof(line), &rq), -E2BIG);
	memset(&junk, 0x5a, sizeof(junk));
	assert_memory_equal(&rq, &junk, sizeof(rq));
}

static void test_parse_empty(void **state)
{
	static const char *const lines[] = { "", "\t", "\t\t\t", "--json", "--json\t--json" };
	struct ctl_req rq, junk;
	char line[64];
	size_t i;

	(void)state;
	memset(&junk, 0x5a, sizeof(junk));
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		assert_int_equal(parse(lines[i], line, sizeof(line), &rq), -ENODATA);
		assert_memory_equal(&rq, &junk, sizeof(rq));
	}
}

/* ---- ctl_buf, ctl_printf, ctl_json_string ---- */

static void assert_buf(struct ctl_buf *b, const char *want)
{
	assert_false(b->cb_oom);
	assert_non_null(b->cb_p);
	assert_int_equal(b->cb_len, strlen(want));
	assert_string_equal(b->cb_p, want);
	ctl_buf_free(b);
	assert_null(b->cb_p);
	assert_int_equal(b->cb_len, 0);
	assert_int_equal(b->cb_cap, 0);
}

/* s through ctl_json_string, dumped as vpnd dumps, parsed back: want. */
static void json_of(const char *s, const char *want)
{
	struct ctl_buf b = { 0 };
	json_t *j;

	assert_int_equal(ctl_buf_json(&b, json_pack("[o]", ctl_json_string(s))), 0);
	j = parse_json(b.cb_p);
	assert_true(json_is_string(json_array_get(j, 0)));
	assert_string_equal(json_string_value(json_array_get(j, 0)), want);
	json_decref(j);
	ctl_buf_free(&b);
}

static void test_json_str_escapes(void **state)
{
	static const char *const odd[] = { "", "alice", "a\"b", "back\\slash",
		"\"\\\"", "\x01\t\n\r\x1f", "x\x1b[31my", " ~/", "vpn\"0", "tun\\",
		"{\"a\":1}", "</script>", "\x7f" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(odd) / sizeof(odd[0]); i++)
		json_of(odd[i], odd[i]);
}

static void test_json_str_utf8_passes_through(void **state)
{
	struct ctl_buf b = { 0 };

	(void)state;
	json_of("h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x94\x91", "h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x94\x91");
	/* as UTF-8, not \u escapes: a person reads it */
	assert_int_equal(ctl_buf_json(&b, ctl_json_string("h\xc3\xa9")), 0);
	assert_string_equal(b.cb_p, "\"h\xc3\xa9\"\n");
	ctl_buf_free(&b);
}

static void test_json_str_invalid_utf8_replaced(void **state)
{
	(void)state;
	/* a lone byte, a cut sequence, an overlong '/', a surrogate, > U+10FFFF */
	json_of("a\xff" "b", "a\xef\xbf\xbd" "b");
	json_of("\xc3", "\xef\xbf\xbd");
	json_of("\xe2\x9c", "\xef\xbf\xbd\xef\xbf\xbd");
	json_of("\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd");
	json_of("\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	json_of("\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	json_of("\xe2\x9c\x93\xfe\"", "\xe2\x9c\x93\xef\xbf\xbd\"");
}

static void test_json_null_and_uint(void **state)
{
	struct ctl_buf b = { 0 };

	(void)state;
	assert_int_equal(ctl_buf_json(&b, json_pack("[o,o,o,o,o]", ctl_json_string_or_null(""),
	    ctl_json_string_or_null(NULL), ctl_json_string_or_null("x"),
	    ctl_json_uint(UINT64_MAX), ctl_json_uint(12345678901234ull))), 0);
	assert_string_equal(b.cb_p, "[null,null,\"x\",9223372036854775807,12345678901234]\n");
	ctl_buf_free(&b);
	assert_int_equal(ctl_buf_json(&b, NULL), -ENOMEM);
	assert_null(b.cb_p);
}

static void test_printf_grows(void **state)
{
	struct ctl_buf b = { 0 };
	char want[16];
	int i;

	(void)state;
	for (i = 0; i < 20000; i++)
		ctl_printf(&b, "%05d,", i);
	assert_false(b.cb_oom);
	assert_int_equal(b.cb_len, 20000 * 6);
	assert_true(b.cb_cap > b.cb_len);
	assert_int_equal(b.cb_p[b.cb_len], '\0');
	for (i = 0; i < 20000; i += 997) {
		snprintf(want, sizeof(want), "%05d,", i);
		assert_memory_equal(b.cb_p + i * 6, want, 6);
	}
	assert_memory_equal(b.cb_p + b.cb_len - 6, "19999,", 6);
	ctl_buf_free(&b);
}

static void test_printf_one_big_append(void **state)
{
	struct ctl_buf b = { 0 };
	char *big = malloc(10000);

	(void)state;
	assert_non_null(big);
	memset(big, 'q', 9999);
	big[9999] = '\0';
	ctl_printf(&b, "<");
	ctl_printf(&b, "%s", big);		/* several doublings at once */
	ctl_printf(&b, ">%d", 7);
	assert_int_equal(b.cb_len, 10002);
	assert_true(b.cb_cap >= 10003);
	assert_int_equal(b.cb_p[0], '<');
	assert_memory_equal(b.cb_p + 1, big, 9999);
	assert_string_equal(b.cb_p + 10000, ">7");
	free(big);
	ctl_printf(&b, "%s", "");		/* nothing added */
	assert_int_equal(b.cb_len, 10002);
	ctl_buf_free(&b);
}

static void test_printf_stops_after_oom(void **state)
{
	struct ctl_buf b = { 0 };

	(void)state;
	ctl_printf(&b, "kept");
	b.cb_oom = true;
	ctl_printf(&b, "dropped");
	assert_int_equal(b.cb_len, 4);
	assert_string_equal(b.cb_p, "kept");
	ctl_buf_free(&b);
	assert_false(b.cb_oom);
}

/* ---- ctl_time_str and the peers table ---- */

static void test_time_str(void **state)
{
	char buf[32], *tz = getenv("TZ"), *saved = tz ? strdup(tz) : NULL;

	(void)state;
	ctl_time_str(0, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01T00:00:00Z");
	/* UTC whatever the local zone */
	setenv("TZ", "America/New_York", 1);
	tzset();
	ctl_time_str(1795593600, buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-25T08:00:00Z");
	ctl_time_str(951868799, buf, sizeof(buf));
	assert_string_equal(buf, "2000-02-29T23:59:59Z");
	if (saved != NULL)
		setenv("TZ", saved, 1);
	else
		unsetenv("TZ");
	tzset();
	free(saved);
}

#define FP_A "sha256:2bd806c97f0e00af1a1fc3328fa763a9269723c8db8fac4f93af71db186d6e90"
#define FP_B "sha256:81b637d8fcd2c6da6359e6963113a1170de795e4b725b84d1e0b4cfd9ec58ce9"

static const uint8_t dtls_id[8] = { 0x00, 0x01, 0xab, 0xcd, 0xef, 0x10, 0x99, 0xff };

static struct ctl_peer peer_alice(void)
{
	struct ctl_peer p = {
		.cp_name = "alice", .cp_fp = FP_A, .cp_endpoint = "198.18.0.2:51820",
		.cp_transport = "dtls", .cp_rx_bytes = 1234, .cp_tx_bytes = UINT64_MAX,
		.cp_rx_pkts = 5, .cp_tx_pkts = 0, .cp_since = 1795593600,
		.cp_last_seen = 1795593661, .cp_dtls_id = dtls_id,
	};

	assert_int_equal(inet_pton(AF_INET, "10.8.0.10", &p.cp_addr), 1);
	return p;
}

static struct ctl_peer peer_bob(void)
{
	struct ctl_peer p = {
		.cp_name = "b\"o\\b\n", .cp_fp = FP_B, .cp_endpoint = "203.0.113.9:40000",
		.cp_transport = "tls", .cp_since = 0, .cp_last_seen = 0,
	};

	assert_int_equal(inet_pton(AF_INET, "10.8.0.11", &p.cp_addr), 1);
	return p;
}

static void test_units(void **state)
{
	static const struct { uint64_t n; const char *s; } by[] = {
		{ 0, "0 B" }, { 1023, "1023 B" }, { 1024, "1.0 KiB" }, { 1536, "1.5 KiB" },
		{ 2097152, "2.0 MiB" }, { 1048575, "1.0 MiB" }, { 3221225472ull, "3.0 GiB" },
		{ 1099511627776ull, "1.0 TiB" }, { UINT64_MAX, "16.0 EiB" },
	};
	static const struct { long long s; const char *str; } dur[] = {
		{ -5, "0s" }, { 0, "0s" }, { 59, "59s" }, { 60, "1m0s" }, { 200, "3m20s" },
		{ 3599, "59m59s" }, { 3600, "1h0m" }, { 7980, "2h13m" }, { 86399, "23h59m" },
		{ 86400, "1d0h" }, { 363600, "4d5h" },
	};
	char buf[32];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(by) / sizeof(by[0]); i++) {
		ctl_bytes_str(by[i].n, buf, sizeof(buf));
		assert_string_equal(buf, by[i].s);
	}
	for (i = 0; i < sizeof(dur) / sizeof(dur[0]); i++) {
		ctl_dur_str(dur[i].s, buf, sizeof(buf));
		assert_string_equal(buf, dur[i].str);
	}
}

/* Offsets where the header's columns start (a cell after two spaces). */
static int col_starts(const char *line, size_t *at, int max)
{
	size_t i;
	int n = 0;

	for (i = 0; line[i] && line[i] != '\n'; i++)
		if (line[i] != ' ' && (i == 0 || (i >= 2 && line[i - 1] == ' ' &&
		    line[i - 2] == ' ')) && n < max)
			at[n++] = i;
	return n;
}

/* Every line's column K starts where the header's does: a non-space
 * there, two spaces before it. Returns the number of lines. */
static int assert_aligned(const char *text, int ncols)
{
	size_t at[32], len;
	const char *l = text;
	int lines = 0, k;

	assert_int_equal(col_starts(text, at, 32), ncols);
	for (; *l; l = strchr(l, '\n') + 1, lines++) {
		len = (size_t)(strchr(l, '\n') - l);
		assert_true(l[len - 1] != ' ');		/* no trailing blanks */
		for (k = 0; k < ncols; k++) {
			if (at[k] >= len || l[at[k]] == ' ' ||
			    (k > 0 && (l[at[k] - 1] != ' ' || l[at[k] - 2] != ' ')))
				fail_msg("column %d not at %zu in: %.*s", k, at[k], (int)len, l);
		}
	}
	return lines;
}

static void test_peers_text(void **state)
{
	struct ctl_peer a = peer_alice(), bo = peer_bob();
	struct ctl_peers t;
	struct ctl_buf b = { 0 };
	time_t now = 1795593600 + 7980;

	(void)state;
	a.cp_last_seen = now - 200;
	a.cp_rx_bytes = 2u << 20;
	a.cp_switches = 2;
	bo.cp_name = "bob";
	bo.cp_since = now - 5;
	bo.cp_last_seen = now;
	bo.cp_switches = 1;
	ctl_peers_begin(&t, false, false, now);
	ctl_peers_row(&t, &a);
	ctl_peers_row(&t, &bo);
	assert_int_equal(ctl_peers_end(&t, &b), 0);
	assert_int_equal(assert_aligned(b.cb_p, 9), 3);
	assert_int_equal(strncmp(b.cb_p, "NAME ", 5), 0);
	assert_non_null(strstr(b.cb_p, "  FINGERPRINT  "));
	assert_non_null(strstr(b.cb_p, "  LAST-SEEN\n"));
	/* short fingerprint, units, durations, switches */
	assert_non_null(strstr(b.cb_p, "\nalice  2bd806c97f0e  10.8.0.10  198.18.0.2:51820   dtls (2 switches)  2.0 MiB  16.0 EiB  2h13m  3m20s ago\n"));
	assert_null(strstr(b.cb_p, FP_A + 7 + CTL_FP_SHORT - 1));
	assert_non_null(strstr(b.cb_p, "\nbob    81b637d8fcd2  10.8.0.11  203.0.113.9:40000  tls (1 switch)     0 B      0 B       5s     0s ago\n"));
	/* and narrow: about a terminal's width, not 211 columns */
	assert_true(strchr(b.cb_p, '\n') - b.cb_p < 120);
	ctl_buf_free(&b);
}

/* With an IPv6 address: both in the ADDRESS cell (IPv4 first, a comma),
 * still aligned; in JSON address6 and the two addresses. */
static void test_peers_address6(void **state)
{
	struct ctl_peer a = peer_alice(), bo = peer_bob();
	struct ctl_peers t;
	struct ctl_buf b = { 0 };
	json_t *j, *o;

	(void)state;
	a.cp_has_addr6 = true;
	assert_int_equal(inet_pton(AF_INET6, "fd00:8::a", &a.cp_addr6), 1);
	bo.cp_name = "bob";
	ctl_peers_begin(&t, false, false, a.cp_since);
	ctl_peers_row(&t, &a);
	ctl_peers_row(&t, &bo);
	assert_int_equal(ctl_peers_end(&t, &b), 0);
	assert_int_equal(assert_aligned(b.cb_p, 9), 3);
	assert_non_null(strstr(b.cb_p, "  10.8.0.10,fd00:8::a  "));
	assert_non_null(strstr(b.cb_p, "  10.8.0.11            "));
	ctl_buf_free(&b);
	memset(&b, 0, sizeof(b));
	ctl_peers_begin(&t, true, false, 0);
	ctl_peers_row(&t, &a);
	ctl_peers_row(&t, &bo);
	assert_int_equal(ctl_peers_end(&t, &b), 0);
	j = parse_json(b.cb_p);
	o = json_array_get(j, 0);
	assert_str_field(o, "address6", "fd00:8::a");
	assert_int_equal(json_array_size(json_object_get(o, "addresses")), 2);
	assert_string_equal(json_string_value(json_array_get(json_object_get(o, "addresses"), 1)),
	    "fd00:8::a");
	o = json_array_get(j, 1);
	assert_true(json_is_null(json_object_get(o, "address6")));
	assert_int_equal(json_array_size(json_object_get(o, "addresses")), 1);
	json_decref(j);
	ctl_buf_free(&b);
}

static void test_peers_text_long(void **state)
{
	struct ctl_peer a = peer_alice();
	struct ctl_peers t;
	struct ctl_buf b = { 0 };
	char *tz = getenv("TZ"), *saved = tz ? strdup(tz) : NULL;

	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	ctl_peers_begin(&t, false, true, a.cp_last_seen);
	ctl_peers_row(&t, &a);
	assert_int_equal(ctl_peers_end(&t, &b), 0);
	assert_int_equal(assert_aligned(b.cb_p, 12), 2);
	assert_non_null(strstr(b.cb_p, "  RX-PKTS  TX-PKTS  "));
	assert_non_null(strstr(b.cb_p, "  " FP_A "  "));
	assert_non_null(strstr(b.cb_p, "  2026-11-25 08:00:00  0s ago     0001abcdef1099ff\n"));
	ctl_buf_free(&b);
	if (saved != NULL)
		setenv("TZ", saved, 1);
	else
		unsetenv("TZ");
	tzset();
	free(saved);
}

static void test_peers_text_odd_cells(void **state)
{
	struct ctl_peer a = peer_alice();
	struct ctl_peers t;
	struct ctl_buf b = { 0 };

	(void)state;
	ctl_peers_begin(&t, false, false, a.cp_last_seen);
	a.cp_name = "abcd";
	ctl_peers_row(&t, &a);
	a.cp_name = "\xc3\xa9t\xc3\xa9";		/* 3 characters, 5 bytes */
	a.cp_endpoint = "x\ny\x1b";		/* one line, no escape reaches the tty */
	ctl_peers_row(&t, &a);
	assert_int_equal(ctl_peers_end(&t, &b), 0);
	/* padded by characters, not bytes */
	assert_non_null(strstr(b.cb_p, "\nabcd  2bd806c97f0e  "));
	assert_non_null(strstr(b.cb_p, "\n\xc3\xa9t\xc3\xa9   2bd806c97f0e  "));
	assert_non_null(strstr(b.cb_p, "  x\\x0ay\\x1b  "));
	assert_null(strchr(b.cb_p, '\x1b'));
	ctl_buf_free(&b);
}

static void test_peers_text_no_rows(void **state)
{
	struct ctl_peers t;
	struct ctl_buf b = { 0 };

	(void)state;
	ctl_peers_begin(&t, false, false, 0);
	assert_int_equal(ctl_peers_end(&t, &b), 0);
	assert_string_equal(b.cb_p, "NAME  FINGERPRINT  ADDRESS  ENDPOINT  TRANSPORT  RX  TX  SINCE  LAST-SEEN\n");
	ctl_buf_free(&b);
}

static void test_peers_json_no_rows(void **state)
{
	struct ctl_peers t;
	struct ctl_buf b = { 0 };

	(void)state;
	ctl_peers_begin(&t, true, false, 0);
	assert_int_equal(ctl_peers_end(&t, &b), 0);
	assert_buf(&b, "[]\n");
}

static void test_peers_json_one_row(void **state)
{
	struct ctl_peer a = peer_alice();
	struct ctl_peers t;
	struct ctl_buf b = { 0 };
	json_t *j, *o;

	(void)state;
	a.cp_switches = 3;
	ctl_peers_begin(&t, true, false, 0);
	ctl_peers_row(&t, &a);
	assert_int_equal(ctl_peers_end(&t, &b), 0);
	j = parse_json(b.cb_p);
	assert_true(json_is_array(j));
	assert_int_equal(json_array_size(j), 1);
	o = json_array_get(j, 0);
	assert_int_equal(json_object_size(o), 15);
	assert_true(json_is_null(json_object_get(o, "address6")));
	assert_str_field(o, "name", "alice");
	assert_str_field(o, "fingerprint", FP_A);		/* full, -l or not */
	assert_str_field(o, "address", "10.8.0.10");
	assert_int_equal(json_array_size(json_object_get(o, "addresses")), 1);
	assert_string_equal(json_string_value(json_array_get(json_object_get(o, "addresses"), 0)),
	    "10.8.0.10");
	assert_str_field(o, "endpoint", "198.18.0.2:51820");
	assert_str_field(o, "transport", "dtls");
	assert_int_field(o, "transport_switches", 3);
	assert_int_field(o, "rx_bytes", 1234);
	assert_int_field(o, "tx_bytes", INT64_MAX);		/* saturated */
	assert_int_field(o, "rx_packets", 5);
	assert_int_field(o, "tx_packets", 0);
	assert_str_field(o, "connected_since", "2026-11-25T08:00:00Z");
	assert_str_field(o, "last_seen", "2026-11-25T08:01:01Z");
	assert_str_field(o, "dtls_id", "0001abcdef1099ff");
	json_decref(j);
	ctl_buf_free(&b);
}

static void test_peers_json_odd_strings(void **state)
{
	struct ctl_peer a = peer_alice(), bo = peer_bob();
	struct ctl_peers t;
	struct ctl_buf b = { 0 };
	json_t *j, *o;

	(void)state;
	bo.cp_endpoint = "h\xc3\xa9\"st\\:1\xff";
	ctl_peers_begin(&t, true, true, 0);
	ctl_peers_row(&t, &bo);
	ctl_peers_row(&t, &a);
	assert_int_equal(ctl_peers_end(&t, &b), 0);
	j = parse_json(b.cb_p);
	assert_int_equal(json_array_size(j), 2);
	o = json_array_get(j, 0);
	assert_str_field(o, "name", "b\"o\\b\n");
	assert_str_field(o, "endpoint", "h\xc3\xa9\"st\\:1\xef\xbf\xbd");
	assert_str_field(o, "transport", "tls");
	assert_true(json_is_null(json_object_get(o, "dtls_id")));
	assert_str_field(o, "connected_since", "1970-01-01T00:00:00Z");
	assert_int_field(o, "rx_bytes", 0);
	assert_int_field(o, "transport_switches", 0);
	o = json_array_get(j, 1);
	assert_str_field(o, "name", "alice");
	assert_str_field(o, "dtls_id", "0001abcdef1099ff");
	json_decref(j);
	ctl_buf_free(&b);
}

static void test_table_sized_to_content(void **state)
{
	static const char *const head[] = { "A", "LONGER", "C" };
	static const char *const r1[] = { "wide-cell", "x", "last" };
	static const char *const r2[] = { "", NULL, "" };
	struct ctl_table t;
	struct ctl_buf b = { 0 };

	(void)state;
	ctl_table_init(&t, 3, head);
	ctl_table_row(&t, r1);
	ctl_table_row(&t, r2);
	assert_int_equal(ctl_table_render(&t, &b), 0);
	assert_string_equal(b.cb_p, "A          LONGER  C\n"
	    "wide-cell  x       last\n"
	    "                   \n");
	assert_null(t.ct_cells);
	ctl_buf_free(&b);
}

/* ---- the socket on a real loop ---- */

struct loopfx {
	char             dir[FX_DIR_MAX];
	char             path[PATH_MAX];	/* dir/ctl.sock */
	uv_loop_t        loop;
	bool             loop_open;
	struct ctl      *ctl;
	int              calls;			/* handler invocations */
	char             seen[CTL_MAX_REQ + 1];	/* the last request, argv joined by ' ' */
	bool             seen_json;
	bool             defer;			/* keep the request in held */
	struct ctl_req  *held;
};

/* Answers "ARGV... json=0|1" (status 0); "fail ... WORD" with error 2
 * naming the last word. */
static void on_request(void *arg, struct ctl_req *rq)
{
	struct loopfx *f = arg;
	struct ctl_buf b = { 0 };
	int i;

	f->calls++;
	f->seen[0] = '\0';
	for (i = 0; i < rq->rq_argc; i++)
		snprintf(f->seen + strlen(f->seen), sizeof(f->seen) - strlen(f->seen),
		    "%s%s", i ? " " : "", rq->rq_argv[i]);
	f->seen_json = rq->rq_json;
	if (f->defer) {
		f->held = rq;
		return;
	}
	if (strcmp(rq->rq_argv[0], "fail") == 0) {
		ctl_replyf(rq, 2, "unknown command: %s", rq->rq_argv[rq->rq_argc - 1]);
		return;
	}
	for (i = 0; i < rq->rq_argc; i++)
		ctl_printf(&b, "%s ", rq->rq_argv[i]);
	ctl_printf(&b, "json=%d\n", rq->rq_json);
	ctl_reply_buf(rq, 0, &b);
	assert_null(b.cb_p);
}

static int loop_setup(void **state)
{
	struct loopfx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	*state = f;
	if (fx_tmpdir(f->dir, sizeof(f->dir), "ctl") < 0 ||
	    uv_loop_init(&f->loop) < 0)
		return -1;
	f->loop_open = true;
	snprintf(f->path, sizeof(f->path), "%s/ctl.sock", f->dir);
	return ctl_open(&f->ctl, &f->loop, f->path, CTL_NO_GROUP, on_request, f) < 0 ? -1 : 0;
}

/* Run the loop without blocking until nothing is left alive (bounded). */
static void drain(struct loopfx *f)
{
	int i;

	for (i = 0; i < 1000 && uv_loop_alive(&f->loop); i++)
		uv_run(&f->loop, UV_RUN_NOWAIT);
}

/* ctl_close, then every handle must be gone: uv_loop_close returns 0. */
static void close_and_check(struct loopfx *f)
{
	ctl_close(f->ctl);
	f->ctl = NULL;
	drain(f);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	f->loop_open = false;
}

static int loop_teardown(void **state)
{
	struct loopfx *f = *state;

	if (f == NULL)
		return 0;
	if (getuid() == 0 && geteuid() != 0 && seteuid(0) < 0)
		return -1;		/* a test failed while seteuid */
	if (f->loop_open) {		/* a test failed half-way */
		ctl_close(f->ctl);
		drain(f);
		uv_loop_close(&f->loop);
	}
	fx_rmtree(f->dir);
	free(f);
	return 0;
}

static struct sockaddr_un sun_of(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	assert_true(strlen(path) < sizeof(sun.sun_path));
	memcpy(sun.sun_path, path, strlen(path) + 1);
	return sun;
}

/* A non-blocking client connected to PATH, or -errno. */
static int client_connect(const char *path)
{
	struct sockaddr_un sun = sun_of(path);
	int fd;

	assert_true((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	assert_int_equal(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	return fd;
}

static void client_send(int fd, const void *buf, size_t len)
{
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
}

/* Turn the loop and read FD until EOF; what came is in out (NUL-ended).
 * Returns the length, or -1 if the connection was reset. Fails if it takes
 * longer than a few seconds. */
static ssize_t client_read_all(struct loopfx *f, int fd, char *out, size_t len)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t got = 0;
	ssize_t n;
	int i;

	for (i = 0; i < 5000; i++) {
		uv_run(&f->loop, UV_RUN_NOWAIT);
		n = read(fd, out + got, len - 1 - got);
		if (n > 0) {
			got += (size_t)n;
			assert_true(got < len - 1);
			continue;
		}
		if (n == 0 || errno == ECONNRESET) {
			out[got] = '\0';
			return n == 0 ? (ssize_t)got : -1;
		}
		assert_int_equal(errno, EAGAIN);
		poll(&pfd, 1, 1);
	}
	fail_msg("no EOF from the control socket");
	return -1;
}

/* One request, its whole answer. */
static void talk(struct loopfx *f, const char *req, char *out, size_t len)
{
	int fd;

	assert_true((fd = client_connect(f->path)) >= 0);
	client_send(fd, req, strlen(req));
	assert_true(client_read_all(f, fd, out, len) >= 0);
	close(fd);
}

static void test_loop_request_and_answer(void **state)
{
	struct loopfx *f = *state;
	char out[256];

	talk(f, "status\t--json\n", out, sizeof(out));
	assert_string_equal(out, "ok\nstatus json=1\n");
	assert_int_equal(f->calls, 1);
	assert_string_equal(f->seen, "status");
	assert_true(f->seen_json);

	/* one request per connection: what follows the newline is ignored */
	talk(f, "peers\nstatus\n", out, sizeof(out));
	assert_string_equal(out, "ok\npeers json=0\n");
	assert_int_equal(f->calls, 2);

	talk(f, "fail\tnow\n", out, sizeof(out));
	assert_string_equal(out, "error 2\nunknown command: now\n");
	assert_int_equal(f->calls, 3);
	close_and_check(f);
}

/* An error message too long for ctl_replyf is cut, still ending in a
 * newline. */
static void test_loop_long_error_cut(void **state)
{
	struct loopfx *f = *state;
	char req[1024] = "fail\t", out[2048];

	memset(req + 5, 'x', 600);
	strcpy(req + 605, "\n");
	talk(f, req, out, sizeof(out));
	assert_int_equal(strlen(out), strlen("error 2\n") + 511);
	assert_int_equal(strncmp(out, "error 2\nunknown command: xxx", 28), 0);
	assert_ptr_equal(strchr(out + 8, '\n'), out + strlen(out) - 1);
	close_and_check(f);
}

/* Bad requests are answered by the module; the handler never sees them. */
static void test_loop_bad_requests(void **state)
{
	struct loopfx *f = *state;
	char req[256] = "", out[256];
	int i;

	talk(f, "\n", out, sizeof(out));
	assert_string_equal(out, "error 2\nempty request\n");
	talk(f, "--json\t\t\n", out, sizeof(out));
	assert_string_equal(out, "error 2\nempty request\n");
	for (i = 0; i <= CTL_MAX_ARGS; i++)
		strcat(req, "w\t");
	strcat(req, "\n");
	talk(f, req, out, sizeof(out));
	assert_string_equal(out, "error 2\ntoo many arguments\n");
	assert_int_equal(f->calls, 0);
	close_and_check(f);
}

/* A request may come in pieces; it is dispatched once, at the newline. */
static void test_loop_request_in_pieces(void **state)
{
	struct loopfx *f = *state;
	char out[256];
	int fd, i;

	assert_true((fd = client_connect(f->path)) >= 0);
	client_send(fd, "al", 2);
	for (i = 0; i < 20; i++)
		uv_run(&f->loop, UV_RUN_NOWAIT);
	client_send(fd, "low\tli", 6);
	for (i = 0; i < 20; i++)
		uv_run(&f->loop, UV_RUN_NOWAIT);
	assert_int_equal(f->calls, 0);
	client_send(fd, "st\n", 3);
	assert_true(client_read_all(f, fd, out, sizeof(out)) >= 0);
	close(fd);
	assert_string_equal(out, "ok\nallow list json=0\n");
	assert_int_equal(f->calls, 1);
	close_and_check(f);
}

/* CTL_MAX_REQ bytes with no newline: closed unanswered. One byte less and
 * a newline is still a request. */
static void test_loop_request_limit(void **state)
{
	struct loopfx *f = *state;
	static char req[CTL_MAX_REQ];
	char out[CTL_MAX_REQ + 64];
	int fd;

	memset(req, 'a', CTL_MAX_REQ);
	assert_true((fd = client_connect(f->path)) >= 0);
	client_send(fd, req, CTL_MAX_REQ);
	assert_int_equal(client_read_all(f, fd, out, sizeof(out)), 0);
	close(fd);
	assert_int_equal(f->calls, 0);

	/* more than the limit: closed too (a reset, as data is left unread) */
	assert_true((fd = client_connect(f->path)) >= 0);
	client_send(fd, req, CTL_MAX_REQ);
	client_send(fd, "bbbb\n", 5);
	assert_true(client_read_all(f, fd, out, sizeof(out)) <= 0);
	close(fd);
	assert_int_equal(f->calls, 0);

	req[CTL_MAX_REQ - 1] = '\n';
	assert_true((fd = client_connect(f->path)) >= 0);
	client_send(fd, req, CTL_MAX_REQ);
	assert_int_equal(client_read_all(f, fd, out, sizeof(out)),
	    3 + CTL_MAX_REQ - 1 + 8);
	close(fd);
	assert_int_equal(f->calls, 1);
	assert_int_equal(strlen(f->seen), CTL_MAX_REQ - 1);
	close_and_check(f);
}

/* A client that goes away before the newline costs nothing. */
static void test_loop_client_hangs_up(void **state)
{
	struct loopfx *f = *state;
	char out[256];
	int fd, i;

	assert_true((fd = client_connect(f->path)) >= 0);
	client_send(fd, "stat", 4);
	for (i = 0; i < 20; i++)
		uv_run(&f->loop, UV_RUN_NOWAIT);
	close(fd);
	for (i = 0; i < 20; i++)
		uv_run(&f->loop, UV_RUN_NOWAIT);
	assert_int_equal(f->calls, 0);
	talk(f, "status\n", out, sizeof(out));
	assert_string_equal(out, "ok\nstatus json=0\n");
	close_and_check(f);
}

/* An answer may come later, even after ctl_close: the connection lives
 * until its reply is written. */
static void test_loop_deferred_reply(void **state)
{
	struct loopfx *f = *state;
	char out[256];
	int fd, i;

	f->defer = true;
	assert_true((fd = client_connect(f->path)) >= 0);
	client_send(fd, "allow\tadd\tbob\n", 14);
	for (i = 0; i < 100 && f->calls == 0; i++)
		uv_run(&f->loop, UV_RUN_NOWAIT);
	assert_int_equal(f->calls, 1);
	assert_non_null(f->held);
	assert_string_equal(f->seen, "allow add bob");
	/* argv stays valid until the reply */
	assert_string_equal(f->held->rq_argv[2], "bob");
	for (i = 0; i < 20; i++)
		uv_run(&f->loop, UV_RUN_NOWAIT);
	assert_int_equal(read(fd, out, sizeof(out)), -1);
	assert_int_equal(errno, EAGAIN);

	ctl_close(f->ctl);
	f->ctl = NULL;
	assert_int_equal(access(f->path, F_OK), -1);
	assert_int_equal(client_connect(f->path), -ENOENT);
	ctl_replyf(f->held, 1, "later: %s", f->held->rq_argv[2]);
	assert_true(client_read_all(f, fd, out, sizeof(out)) >= 0);
	close(fd);
	assert_string_equal(out, "error 1\nlater: bob\n");
	close_and_check(f);
}

static void test_loop_socket_mode(void **state)
{
	struct loopfx *f = *state;
	struct stat st;
	mode_t old;

	assert_int_equal(lstat(f->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	close_and_check(f);

	/* whatever the umask, which is left as it was */
	assert_int_equal(uv_loop_init(&f->loop), 0);
	f->loop_open = true;
	old = umask(0);
	assert_int_equal(ctl_open(&f->ctl, &f->loop, f->path, CTL_NO_GROUP, on_request, f), 0);
	assert_int_equal(umask(old), 0);
	assert_int_equal(lstat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	close_and_check(f);
}

/* ---- who may ask ---- */

#define UID_OTHER  65534	/* nobody */
#define GID_OTHER  65534
#define GID_ADMIN  4242		/* control_group in these tests */
#define GID_SPARE  4243

struct who {
	uid_t uid;
	gid_t gid;
	gid_t groups[2];
	int   ngroups;
};

/* Ask REQ as WHO from a forked child (the parent runs the loop) and put
 * the whole answer in out; "" if the child could not connect. */
static void ask_as(struct loopfx *f, const struct who *w, const char *req,
    char *out, size_t len)
{
	ssize_t n, got = 0;
	pid_t pid;
	int p[2], st, i, fd;

	assert_int_equal(pipe(p), 0);
	assert_true((pid = fork()) >= 0);
	if (pid == 0) {
		char buf[256];

		close(p[0]);
		if ((geteuid() != 0 && seteuid(0) < 0) ||	/* the parent may be seteuid */
		    setgroups((size_t)w->ngroups, w->groups) < 0 ||
		    setresgid(w->gid, w->gid, w->gid) < 0 ||
		    setresuid(w->uid, w->uid, w->uid) < 0)
			_exit(2);
		if ((fd = client_connect(f->path)) < 0)
			_exit(0);		/* refused by the file's mode */
		fcntl(fd, F_SETFL, 0);		/* blocking: the parent runs the loop */
		/* a refusal may come, and the socket close, before the request
		 * is written: EPIPE, then read the refusal */
		if (send(fd, req, strlen(req), MSG_NOSIGNAL) != (ssize_t)strlen(req) &&
		    errno != EPIPE)
			_exit(4);
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			if (write(p[1], buf, (size_t)n) != n)
				_exit(5);
		_exit(0);
	}
	close(p[1]);
	for (i = 0; i < 5000; i++) {
		uv_run(&f->loop, UV_RUN_NOWAIT);
		if (waitpid(pid, &st, WNOHANG) == pid)
			break;
		usleep(1000);
	}
	assert_int_not_equal(i, 5000);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	while ((n = read(p[0], out + got, len - 1 - (size_t)got)) > 0)
		got += n;
	close(p[0]);
	out[got] = '\0';
}

/* Reopen the fixture's socket with control group GROUP. */
static void reopen_with_group(struct loopfx *f, gid_t group)
{
	ctl_close(f->ctl);
	drain(f);
	assert_int_equal(ctl_open(&f->ctl, &f->loop, f->path, group, on_request, f), 0);
	assert_int_equal(chmod(f->dir, 0755), 0);
}

/* Without a control group only root gets an answer, whatever the file
 * mode lets through: a child as nobody is refused. */
static void test_loop_untrusted_peer(void **state)
{
	struct loopfx *f = *state;
	struct who nobody = { UID_OTHER, GID_OTHER, { GID_ADMIN }, 1 };
	char out[256];

	if (geteuid() != 0) {
		close_and_check(f);
		skip();
	}
	assert_int_equal(chmod(f->path, 0666), 0);
	assert_int_equal(chmod(f->dir, 0755), 0);
	ask_as(f, &nobody, "status\n", out, sizeof(out));
	assert_string_equal(out, "error 1\npermission denied\n");
	assert_int_equal(f->calls, 0);
	close_and_check(f);
}

/* With a control group: the socket is root's, group-owned, 0660; a member
 * (by primary or supplementary group) is served, anyone else is kept out
 * by the file mode and, if the mode is opened up, by SO_PEERCRED. */
static void test_loop_control_group(void **state)
{
	struct loopfx *f = *state;
	struct who primary = { UID_OTHER, GID_ADMIN, { 0 }, 0 };
	struct who supp = { UID_OTHER, GID_OTHER, { GID_SPARE, GID_ADMIN }, 2 };
	struct who outsider = { UID_OTHER, GID_OTHER, { GID_SPARE }, 1 };
	struct stat st;
	char out[256];

	if (geteuid() != 0) {
		close_and_check(f);
		skip();
	}
	reopen_with_group(f, GID_ADMIN);
	assert_int_equal(lstat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0660);
	assert_int_equal(st.st_uid, 0);
	assert_int_equal(st.st_gid, GID_ADMIN);

	ask_as(f, &primary, "status\n", out, sizeof(out));
	assert_string_equal(out, "ok\nstatus json=0\n");
	ask_as(f, &supp, "peers\n", out, sizeof(out));
	assert_string_equal(out, "ok\npeers json=0\n");
	assert_int_equal(f->calls, 2);
	talk(f, "status\n", out, sizeof(out));		/* root, as always */
	assert_string_equal(out, "ok\nstatus json=0\n");

	ask_as(f, &outsider, "status\n", out, sizeof(out));
	assert_string_equal(out, "");			/* EACCES at connect */
	assert_int_equal(chmod(f->path, 0666), 0);
	ask_as(f, &outsider, "status\n", out, sizeof(out));
	assert_string_equal(out, "error 1\npermission denied\n");
	assert_int_equal(f->calls, 3);
	close_and_check(f);
}

/* The daemon's own runtime user is refused even as a member of the
 * control group: whoever breaks into the daemon holds that account. */
static void test_loop_own_user_refused(void **state)
{
	struct loopfx *f = *state;
	struct who self = { UID_OTHER, GID_ADMIN, { GID_ADMIN }, 1 };
	char out[256];

	if (geteuid() != 0) {
		close_and_check(f);
		skip();
	}
	reopen_with_group(f, GID_ADMIN);
	assert_int_equal(seteuid(UID_OTHER), 0);	/* as after a privilege drop */
	ask_as(f, &self, "allow\tadd\tmallory\n", out, sizeof(out));
	assert_int_equal(seteuid(0), 0);
	assert_string_equal(out, "error 1\npermission denied\n");
	assert_int_equal(f->calls, 0);
	ask_as(f, &self, "status\n", out, sizeof(out));	/* a member, not the daemon */
	assert_string_equal(out, "ok\nstatus json=0\n");
	close_and_check(f);
}

/* ---- connections at shutdown and deadlines ---- */

/* Shutdown with a client half-way through its request: ctl_close closes
 * the connection (the client sees EOF, no answer), the rest of the line
 * arriving later reaches nothing (under ASan: no use after free), and
 * the loop ends with no handle left. */
static void test_loop_close_with_half_request(void **state)
{
	struct loopfx *f = *state;
	char out[256];
	int fd, i;

	assert_true((fd = client_connect(f->path)) >= 0);
	client_send(fd, "allow\tadd\tmal", 13);
	for (i = 0; i < 50; i++)
		uv_run(&f->loop, UV_RUN_NOWAIT);
	ctl_close(f->ctl);
	f->ctl = NULL;
	/* the rest of the line: EPIPE now; before, it reached freed memory */
	assert_true(send(fd, "lory\tsha256:00\n", 15, MSG_NOSIGNAL) == 15 || errno == EPIPE);
	assert_true(client_read_all(f, fd, out, sizeof(out)) <= 0);
	assert_string_equal(out, "");
	close(fd);
	assert_int_equal(f->calls, 0);
	close_and_check(f);
}

/* A request line must be complete within CTL_IDLE_MS; others are served
 * meanwhile. */
static void test_loop_idle_deadline(void **state)
{
	struct loopfx *f = *state;
	struct pollfd pfd = { .events = POLLIN };
	char out[256];
	uint64_t t0, ms;
	ssize_t n = -1;
	int fd;

	assert_true((fd = client_connect(f->path)) >= 0);
	client_send(fd, "stat", 4);
	pfd.fd = fd;
	t0 = uv_hrtime();
	talk(f, "peers\n", out, sizeof(out));
	assert_string_equal(out, "ok\npeers json=0\n");
	while ((ms = (uv_hrtime() - t0) / 1000000) < 3 * CTL_IDLE_MS) {
		uv_run(&f->loop, UV_RUN_NOWAIT);
		if ((n = read(fd, out, sizeof(out))) >= 0 || errno != EAGAIN)
			break;
		poll(&pfd, 1, 10);
	}
	close(fd);
	assert_int_equal(n, 0);				/* EOF, no answer */
	assert_true(ms >= CTL_IDLE_MS - 50);
	assert_true(ms < 3 * CTL_IDLE_MS);
	assert_int_equal(f->calls, 1);
	close_and_check(f);
}

/* A reply still held by the handler at ctl_close is answered, but one the
 * client will not take (it never reads) is dropped after CTL_GRACE_MS,
 * so shutdown does not wait for it. */
static void test_loop_close_unread_reply_bounded(void **state)
{
	struct loopfx *f = *state;
	size_t big = 16u << 20;
	char *body;
	uint64_t t0, ms;
	int fd, i;

	f->defer = true;
	assert_true((fd = client_connect(f->path)) >= 0);
	client_send(fd, "peers\n", 6);
	for (i = 0; i < 100 && f->calls == 0; i++)
		uv_run(&f->loop, UV_RUN_NOWAIT);
	assert_non_null(f->held);
	ctl_close(f->ctl);
	f->ctl = NULL;
	assert_non_null(body = calloc(1, big));
	ctl_reply(f->held, 0, body, big);		/* far above the socket buffer */
	free(body);
	t0 = uv_hrtime();
	for (i = 0; i < 100000 && uv_loop_alive(&f->loop); i++)
		uv_run(&f->loop, UV_RUN_ONCE);
	ms = (uv_hrtime() - t0) / 1000000;
	close(fd);
	assert_false(uv_loop_alive(&f->loop));
	assert_true(ms < 3 * CTL_GRACE_MS);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	f->loop_open = false;
}

/* At most CTL_MAX_CONNS connections at once; one more is closed at
 * accept, and a slot that frees is usable again. */
static void test_loop_connection_cap(void **state)
{
	struct loopfx *f = *state;
	int fds[CTL_MAX_CONNS], fd, i;
	char out[256];

	for (i = 0; i < CTL_MAX_CONNS; i++) {
		assert_true((fds[i] = client_connect(f->path)) >= 0);
		client_send(fds[i], "s", 1);
		uv_run(&f->loop, UV_RUN_NOWAIT);
	}
	assert_true((fd = client_connect(f->path)) >= 0);
	client_send(fd, "status\n", 7);
	assert_true(client_read_all(f, fd, out, sizeof(out)) <= 0);
	assert_string_equal(out, "");
	close(fd);
	close(fds[0]);
	for (i = 0; i < 50; i++)
		uv_run(&f->loop, UV_RUN_NOWAIT);
	talk(f, "status\n", out, sizeof(out));
	assert_string_equal(out, "ok\nstatus json=0\n");
	for (i = 1; i < CTL_MAX_CONNS; i++)
		close(fds[i]);
	close_and_check(f);
}

static void test_open_live_path_is_in_use(void **state)
{
	struct loopfx *f = *state;
	struct ctl *c2 = (struct ctl *)&c2;
	uv_loop_t loop2;
	char out[256];

	assert_int_equal(uv_loop_init(&loop2), 0);
	assert_int_equal(ctl_open(&c2, &loop2, f->path, CTL_NO_GROUP, on_request, f), -EADDRINUSE);
	assert_ptr_equal(c2, (struct ctl *)&c2);	/* *out untouched */
	assert_int_equal(uv_loop_close(&loop2), 0);
	/* the first one still answers */
	talk(f, "status\n", out, sizeof(out));
	assert_string_equal(out, "ok\nstatus json=0\n");
	close_and_check(f);
}

/* A socket file nobody listens on (a daemon that crashed) is replaced. */
static void test_open_replaces_stale_socket(void **state)
{
	struct loopfx *f = *state;
	struct sockaddr_un sun = sun_of(f->path);
	struct stat st;
	char out[256];
	int fd;

	close_and_check(f);
	assert_int_equal(access(f->path, F_OK), -1);
	assert_true((fd = socket(AF_UNIX, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	assert_int_equal(lstat(f->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(client_connect(f->path), -ECONNREFUSED);

	assert_int_equal(uv_loop_init(&f->loop), 0);
	f->loop_open = true;
	assert_int_equal(ctl_open(&f->ctl, &f->loop, f->path, CTL_NO_GROUP, on_request, f), 0);
	talk(f, "status\n", out, sizeof(out));
	assert_string_equal(out, "ok\nstatus json=0\n");
	close_and_check(f);
	assert_int_equal(access(f->path, F_OK), -1);
}

/* Something else at the path is not ours to remove. */
static void test_open_refuses_other_files(void **state)
{
	struct loopfx *f = *state;
	const char *file = fx_path(f->dir, "file");
	struct ctl *c2 = NULL;
	char got[16] = "";
	FILE *fp;

	fx_write(file, "data\n");
	assert_int_equal(ctl_open(&c2, &f->loop, file, CTL_NO_GROUP, on_request, f), -EEXIST);
	assert_non_null(fp = fopen(file, "r"));
	assert_non_null(fgets(got, sizeof(got), fp));
	fclose(fp);
	assert_string_equal(got, "data\n");
	assert_int_equal(mkdir(fx_path(f->dir, "d"), 0700), 0);
	assert_int_equal(ctl_open(&c2, &f->loop, fx_path(f->dir, "d"), CTL_NO_GROUP, on_request, f),
	    -EEXIST);
	assert_int_equal(access(fx_path(f->dir, "d"), F_OK), 0);
	assert_null(c2);
	close_and_check(f);
}

static void test_open_makes_parent_and_close_unlinks(void **state)
{
	struct loopfx *f = *state;
	const char *sub = fx_path(f->dir, "run");
	char path[PATH_MAX], out[256];
	struct ctl *c2;
	struct stat st;
	mode_t um = umask(022);

	umask(um);
	snprintf(path, sizeof(path), "%s/x.sock", sub);
	assert_int_equal(ctl_open(&c2, &f->loop, path, CTL_NO_GROUP, on_request, f), 0);
	assert_int_equal(stat(sub, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0755 & ~um);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));

	/* two sockets on one loop, each answering */
	snprintf(f->path, sizeof(f->path), "%s", path);
	talk(f, "status\n", out, sizeof(out));
	assert_string_equal(out, "ok\nstatus json=0\n");
	ctl_close(c2);
	assert_int_equal(lstat(path, &st), -1);
	assert_int_equal(errno, ENOENT);
	snprintf(f->path, sizeof(f->path), "%s/ctl.sock", f->dir);
	assert_int_equal(lstat(f->path, &st), 0);
	close_and_check(f);
	assert_int_equal(lstat(f->path, &st), -1);
	ctl_close(NULL);
}

static void test_open_path_too_long(void **state)
{
	struct loopfx *f = *state;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 8];
	struct ctl *c2 = NULL;

	snprintf(path, sizeof(path), "%s/", f->dir);
	memset(path + strlen(path), 's', sizeof(path) - 1 - strlen(path));
	path[sizeof(path) - 1] = '\0';
	assert_int_equal(ctl_open(&c2, &f->loop, path, CTL_NO_GROUP, on_request, f), -ENAMETOOLONG);
	assert_null(c2);
	close_and_check(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_words),
		cmocka_unit_test(test_parse_json_anywhere),
		cmocka_unit_test(test_parse_too_many_words),
		cmocka_unit_test(test_parse_empty),
		cmocka_unit_test(test_json_str_escapes),
		cmocka_unit_test(test_json_str_utf8_passes_through),
		cmocka_unit_test(test_json_str_invalid_utf8_replaced),
		cmocka_unit_test(test_json_null_and_uint),
		cmocka_unit_test(test_printf_grows),
		cmocka_unit_test(test_printf_one_big_append),
		cmocka_unit_test(test_printf_stops_after_oom),
		cmocka_unit_test(test_time_str),
		cmocka_unit_test(test_units),
		cmocka_unit_test(test_table_sized_to_content),
		cmocka_unit_test(test_peers_text),
		cmocka_unit_test(test_peers_text_long),
		cmocka_unit_test(test_peers_text_odd_cells),
		cmocka_unit_test(test_peers_text_no_rows),
		cmocka_unit_test(test_peers_json_no_rows),
		cmocka_unit_test(test_peers_json_one_row),
		cmocka_unit_test(test_peers_address6),
		cmocka_unit_test(test_peers_json_odd_strings),
		cmocka_unit_test_setup_teardown(test_loop_request_and_answer, loop_setup, loop_teardown),
		cmocka_unit_test_setup_teardown(test_loop_long_error_cut, loop_setup, loop_teardown),
		cmocka_unit_test_setup_teardown(test_loop_bad_requests, loop_setup, loop_teardown),
		cmocka_unit_test_setup_teardown(test_loop_request_in_pieces, loop_setup, loop_teardown),
		cmocka_unit_test_setup_teardown(test_loop_request_limit, loop_setup, loop_teardown),
		cmocka_unit_test_setup_teardown(test_loop_client_hangs_up, loop_setup, loop_teardown),
		cmocka_unit_test_setup_teardown(test_loop_deferred_reply, loop_setup, loop_teardown),
		cmocka_unit_test_setup_teardown(test_loop_socket_mode, loop_setup, loop_teardown),
		cmocka_unit_test_setup_teardown(test_loop_untrusted_peer, loop_setup, loop_teardown),
		cmocka_unit_test_setup_teardown(test_loop_control_group, loop_setup, loop_teardown),
		cmocka_unit_test_setup_teardown(test_loop_own_user_refused, loop_setup, loop_teardown),
		cmocka_unit_test_setup_teardown(test_loop_close_with_half_request, loop_setup, loop_teardown),
		cmocka_unit_test_setup_teardown(test_loop_idle_deadline, loop_setup, loop_teardown),
		cmocka_unit_test_setup_teardown(test_loop_close_unread_reply_bounded, loop_setup, loop_teardown),
		cmocka_unit_test_setup_teardown(test_loop_connection_cap, loop_setup, loop_teardown),
		cmocka_unit_test_setup_teardown(test_open_live_path_is_in_use, loop_setup, loop_teardown),
		cmocka_unit_test_setup_teardown(test_open_replaces_stale_socket, loop_setup, loop_teardown),
		cmocka_unit_test_setup_teardown(test_open_refuses_other_files, loop_setup, loop_teardown),
		cmocka_unit_test_setup_teardown(test_open_makes_parent_and_close_unlinks, loop_setup, loop_teardown),
		cmocka_unit_test_setup_teardown(test_open_path_too_long, loop_setup, loop_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
