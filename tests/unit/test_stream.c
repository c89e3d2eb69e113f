/* test_stream.c - frames over TLS, end to end in one real libuv loop: a
 * server and a client stream on the two ends of a socketpair, identities
 * from key_generate in a temporary directory. Callbacks only count and
 * record; assertions run after the loop has finished, so a failure never
 * leaves a handle open. A watchdog timer closes everything if a test stalls,
 * and every test ends with uv_loop_close() == 0. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <openssl/err.h>

#include "crypto/fp.h"
#include "crypto/tls.h"
#include "tunnel/stream.h"
#include "fixture.h"

#define WATCHDOG_MS 5000
#define NDATA       100

static char dir[FX_DIR_MAX];
static char fp_srv[FP_STRLEN], fp_cli[FP_STRLEN];
static struct tls_ctx *ctx_srv, *ctx_cli, *ctx_cli_wrong_pin;

struct lt;

/* One end of the pair: its stream and what its callbacks saw. */
struct end {
	struct stream st;
	struct lt    *t;
	int           established, frames, failed, closed;
	char          reason[256];	/* from failed */
	int           err;
	bool          pin_mismatch;
	char          peer_fp[FP_STRLEN];
	/* Test hooks, run after the counting; may be NULL. */
	int         (*on_established)(struct end *e);
	int         (*on_frame)(struct end *e, const struct frame *f);
};

/* A loop test: the loop, the watchdog, both ends, and per-test findings. */
struct lt {
	uv_loop_t  loop;
	uv_timer_t watchdog;
	bool       timed_out;
	struct end srv, cli;
	int        bad;			/* frames not as sent */
	int        rc[8];		/* return values seen inside callbacks */
	size_t     pending;
	uint8_t    bye[FRAME_CTRL_MAX];
	size_t     bye_len;
	int        bye_at;		/* frame count when BYE came */
};

/* ---- fixture: keys and contexts ---- */

static int group_teardown(void **state)
{
	(void)state;
	tls_ctx_free(ctx_srv);
	tls_ctx_free(ctx_cli);
	tls_ctx_free(ctx_cli_wrong_pin);
	return fx_rmtree(dir);
}

static int group_setup(void **state)
{
	char pin[FP_STRLEN], other[FP_STRLEN];

	if (fx_tmpdir(dir, sizeof(dir), "stream") < 0)
		return -1;
	if (key_generate(dir, "server", fp_srv) < 0 ||
	    key_generate(dir, "client", fp_cli) < 0 ||
	    key_generate(dir, "other", other) < 0 ||
	    fp_of_file(fx_path(dir, "server.crt"), pin) < 0 ||
	    strcmp(pin, fp_srv) != 0 ||
	    fx_tls_server(&ctx_srv, dir, "server") < 0 ||
	    fx_tls_client(&ctx_cli, dir, "client", pin) < 0 ||
	    fx_tls_client(&ctx_cli_wrong_pin, dir, "client", other) < 0) {
		group_teardown(state);
		return -1;
	}
	return 0;
}

/* ---- the loop test harness ---- */

static void on_watchdog(uv_timer_t *h)
{
	struct lt *t = h->data;

	t->timed_out = true;
	stream_close(&t->srv.st);
	stream_close(&t->cli.st);
}

static int cb_established(void *arg)
{
	struct end *e = arg;

	e->established++;
	if (tls_peer_fp(e->st.st_ssl, e->peer_fp) < 0)
		e->peer_fp[0] = '\0';
	return e->on_established ? e->on_established(e) : 0;
}

static int cb_frame(void *arg, const struct frame *f)
{
	struct end *e = arg;

	e->frames++;
	return e->on_frame ? e->on_frame(e, f) : 0;
}

/* As an owner must: record, then close. */
static void cb_failed(void *arg, const char *reason, int err)
{
	struct end *e = arg;

	e->failed++;
	snprintf(e->reason, sizeof(e->reason), "%s", reason);
	e->err = err;
	e->pin_mismatch = tls_pin_mismatch(e->st.st_ssl);
	stream_close(&e->st);
}

static void cb_closed(void *arg)
{
	struct end *e = arg;
	struct lt *t = e->t;

	e->closed++;
	if (t->srv.closed && t->cli.closed &&
	    !uv_is_closing((uv_handle_t *)&t->watchdog))
		uv_close((uv_handle_t *)&t->watchdog, NULL);
}

static const struct stream_cb test_cb = {
	.established = cb_established,
	.frame = cb_frame,
	.failed = cb_failed,
	.closed = cb_closed,
};

static void lt_init(struct lt *t)
{
	memset(t, 0, sizeof(*t));
	t->srv.t = t->cli.t = t;
	assert_int_equal(uv_loop_init(&t->loop), 0);
	assert_int_equal(uv_timer_init(&t->loop, &t->watchdog), 0);
	t->watchdog.data = t;
}

/* Both streams on a fresh socketpair; CLI_CTX picks the client's pin. */
static void lt_start(struct lt *t, struct tls_ctx *cli_ctx)
{
	int fds[2];
	SSL *s, *c;

	fx_socketpair(fds);
	assert_non_null(s = tls_ssl_new(ctx_srv, fds[0]));
	assert_non_null(c = tls_ssl_new(cli_ctx, fds[1]));
	assert_int_equal(uv_timer_start(&t->watchdog, on_watchdog, WATCHDOG_MS,
	    0), 0);
	assert_int_equal(stream_init(&t->srv.st, &t->loop, fds[0], s, &test_cb,
	    &t->srv), 0);
	assert_int_equal(stream_init(&t->cli.st, &t->loop, fds[1], c, &test_cb,
	    &t->cli), 0);
}

/* Run to the end; every handle must be closed, each stream exactly once. */
static void lt_run(struct lt *t)
{
	int rc;

	uv_run(&t->loop, UV_RUN_DEFAULT);
	rc = uv_loop_close(&t->loop);
	ERR_clear_error();
	assert_false(t->timed_out);
	assert_int_equal(rc, 0);
	assert_int_equal(t->srv.closed, 1);
	assert_int_equal(t->cli.closed, 1);
}

/* End the test from inside a callback: close both ends. */
static void lt_finish(struct lt *t)
{
	stream_close(&t->srv.st);
	stream_close(&t->cli.st);
}

/* Frame i of a run: its size and its bytes, reproducible on the far end. */
static size_t data_len(int i)
{
	if (i == 0)
		return 1;
	if (i == 1)
		return FRAME_DATA_MAX;
	return 1 + (size_t)(i * 7919) % 6000;
}

static void data_fill(uint8_t *p, size_t len, int i)
{
	size_t k;

	for (k = 0; k < len; k++)
		p[k] = (uint8_t)(i * 131 + k * 7 + (k >> 8));
}

static bool data_ok(const struct frame *f, int i)
{
	static uint8_t want[FRAME_DATA_MAX];

	if (f->f_type != FRAME_DATA || f->f_len != data_len(i))
		return false;
	data_fill(want, f->f_len, i);
	return memcmp(want, f->f_payload, f->f_len) == 0;
}

/* ---- tests ---- */

static int both_up_finish(struct end *e)
{
	if (e->t->srv.established && e->t->cli.established)
		lt_finish(e->t);
	return 0;
}

static void test_stream_handshake_establishes_both_ends(void **state)
{
	struct lt t;

	(void)state;
	lt_init(&t);
	t.srv.on_established = t.cli.on_established = both_up_finish;
	lt_start(&t, ctx_cli);
	lt_run(&t);
	assert_int_equal(t.srv.established, 1);
	assert_int_equal(t.cli.established, 1);
	assert_int_equal(t.srv.failed, 0);
	assert_int_equal(t.cli.failed, 0);
	assert_string_equal(t.srv.peer_fp, fp_cli);
	assert_string_equal(t.cli.peer_fp, fp_srv);
}

/* Client: NDATA DATA frames and a KEEPALIVE, queued as one batch. */
static int send_data_batch(struct end *e)
{
	static uint8_t buf[FRAME_DATA_MAX];
	int i;

	for (i = 0; i < NDATA; i++) {
		data_fill(buf, data_len(i), i);
		if (stream_queue(&e->st, FRAME_DATA, buf, data_len(i)) < 0)
			e->t->rc[0]++;
	}
	if (stream_queue(&e->st, FRAME_KEEPALIVE, NULL, 0) < 0)
		e->t->rc[0]++;
	e->t->pending = stream_tx_pending(&e->st);
	stream_flush(&e->st);
	return 0;
}

/* Server: check each frame against what was sent; stop at the KEEPALIVE. */
static int check_data_batch(struct end *e, const struct frame *f)
{
	struct lt *t = e->t;
	int i = e->frames - 1;

	if (i < NDATA) {
		t->bad += !data_ok(f, i);
		return 0;
	}
	t->bad += f->f_type != FRAME_KEEPALIVE || f->f_len != 0;
	t->rc[1] = (int)stream_tx_pending(&t->cli.st);
	lt_finish(t);
	return 0;
}

static void test_stream_frames_arrive_in_order(void **state)
{
	size_t want = FRAME_HDR * (NDATA + 1);
	struct lt t;
	int i;

	(void)state;
	for (i = 0; i < NDATA; i++)
		want += data_len(i);
	lt_init(&t);
	t.cli.on_established = send_data_batch;
	t.srv.on_frame = check_data_batch;
	lt_start(&t, ctx_cli);
	lt_run(&t);
	assert_int_equal(t.rc[0], 0);
	assert_int_equal(t.pending, want);
	assert_true(want > 200 * 1024);		/* more than a socket buffer */
	assert_int_equal(t.srv.frames, NDATA + 1);
	assert_int_equal(t.bad, 0);
	assert_int_equal(t.rc[1], 0);		/* all of it was written */
	assert_int_equal(t.srv.failed, 0);
	assert_int_equal(t.cli.failed, 0);
	assert_int_equal(t.cli.frames, 0);
}

/* Server: more than a socket buffer of DATA, then BYE, then linger: the
 * stream stays open until all of it is written, and takes nothing more. */
static int send_data_then_bye(struct end *e)
{
	static uint8_t buf[FRAME_DATA_MAX];
	struct lt *t = e->t;
	int i;

	for (i = 0; i < NDATA; i++) {
		data_fill(buf, data_len(i), i);
		t->rc[0] += stream_queue(&e->st, FRAME_DATA, buf, data_len(i));
	}
	t->rc[1] = stream_queue(&e->st, FRAME_BYE, "server stopping", 15);
	stream_linger(&e->st);
	t->rc[2] = stream_queue(&e->st, FRAME_DATA, buf, 20);
	t->rc[3] = e->st.st_closing;
	t->pending = stream_tx_pending(&e->st);
	return 0;
}

static int check_data_then_bye(struct end *e, const struct frame *f)
{
	struct lt *t = e->t;
	int i = e->frames - 1;

	if (i < NDATA) {
		t->bad += !data_ok(f, i);
	} else if (f->f_type == FRAME_BYE) {
		memcpy(t->bye, f->f_payload, f->f_len);
		t->bye_len = f->f_len;
		t->bye_at = e->frames;
	} else {
		t->bad++;
	}
	return 0;
}

/* The lingering end writes its last frames, closes with close_notify, and
 * the other end sees all of them, BYE last, and then an orderly close. */
static void test_stream_bye_then_linger(void **state)
{
	struct lt t;

	(void)state;
	lt_init(&t);
	t.srv.on_established = send_data_then_bye;
	t.cli.on_frame = check_data_then_bye;
	lt_start(&t, ctx_cli);
	lt_run(&t);
	assert_int_equal(t.rc[0], 0);
	assert_int_equal(t.rc[1], 0);
	assert_int_equal(t.rc[2], -ENOTCONN);
	assert_false(t.rc[3]);			/* still draining */
	assert_true(t.pending > 0);
	assert_int_equal(t.bad, 0);
	assert_int_equal(t.cli.frames, NDATA + 1);
	assert_int_equal(t.bye_at, NDATA + 1);
	assert_int_equal(t.bye_len, 15);
	assert_memory_equal(t.bye, "server stopping", 15);
	assert_int_equal(t.cli.failed, 1);
	assert_string_equal(t.cli.reason, "closed by peer");
	assert_int_equal(t.cli.err, 0);
	assert_int_equal(t.srv.failed, 0);	/* it closed itself */
}

/* Client: many tiny records, one per flush, so one read-ahead holds far
 * more of them than the per-wakeup read budget. */
static int send_small_records(struct end *e)
{
	uint8_t buf[16];
	int i;

	for (i = 0; i < 4 * STREAM_READ_BUDGET; i++) {
		data_fill(buf, sizeof(buf), i);
		e->t->rc[0] += stream_queue(&e->st, FRAME_DATA, buf, sizeof(buf));
		stream_flush(&e->st);
	}
	return 0;
}

static int check_small_records(struct end *e, const struct frame *f)
{
	struct lt *t = e->t;
	uint8_t want[16];

	data_fill(want, sizeof(want), e->frames - 1);
	t->bad += f->f_len != sizeof(want) ||
	    memcmp(f->f_payload, want, sizeof(want)) != 0;
	if (e->frames == 4 * STREAM_READ_BUDGET)
		lt_finish(t);
	return 0;
}

/* Records already decrypted-ahead in OpenSSL's buffer do not wake the poll
 * handle again; the reader must drain them past its budget. */
static void test_stream_reads_past_budget_when_buffered(void **state)
{
	struct lt t;

	(void)state;
	lt_init(&t);
	t.cli.on_established = send_small_records;
	t.srv.on_frame = check_small_records;
	lt_start(&t, ctx_cli);
	lt_run(&t);
	assert_int_equal(t.rc[0], 0);
	assert_int_equal(t.srv.frames, 4 * STREAM_READ_BUDGET);
	assert_int_equal(t.bad, 0);
}

/* Client: fill the tx buffer without flushing, to the last byte it takes. */
static int fill_tx(struct end *e)
{
	static uint8_t buf[FRAME_DATA_MAX];
	struct lt *t = e->t;
	int n = 0;

	data_fill(buf, sizeof(buf), 0);
	while (stream_queue(&e->st, FRAME_DATA, buf, FRAME_DATA_MAX) == 0 &&
	    n < 1000)
		n++;
	t->rc[0] = n;
	t->rc[1] = (int)e->st.st_drops_full;
	t->rc[2] = stream_queue(&e->st, FRAME_DATA, buf, 2000);	/* fits */
	t->rc[3] = stream_queue(&e->st, FRAME_DATA, buf, 100);	/* does not */
	t->rc[4] = (int)e->st.st_drops_full;
	t->pending = stream_tx_pending(&e->st);
	stream_flush(&e->st);
	return 0;
}

static int count_until_last(struct end *e, const struct frame *f)
{
	if (f->f_len == 2000)
		lt_finish(e->t);
	return 0;
}

static void test_stream_queue_enobufs_when_full(void **state)
{
	const int fit = STREAM_TX_CAP / FRAME_MAX;
	struct lt t;

	(void)state;
	lt_init(&t);
	t.cli.on_established = fill_tx;
	t.srv.on_frame = count_until_last;
	lt_start(&t, ctx_cli);
	lt_run(&t);
	assert_int_equal(t.rc[0], fit);
	assert_int_equal(t.rc[1], 1);
	assert_true(STREAM_TX_CAP - (size_t)fit * FRAME_MAX >= FRAME_HDR + 2000);
	assert_int_equal(t.rc[2], 0);
	assert_int_equal(t.rc[3], -ENOBUFS);
	assert_int_equal(t.rc[4], 2);
	assert_int_equal(t.pending, (size_t)fit * FRAME_MAX + FRAME_HDR + 2000);
	assert_true(t.pending <= STREAM_TX_CAP);
	/* What was queued arrives; what was dropped does not. */
	assert_int_equal(t.srv.frames, fit + 1);
	assert_int_equal(t.srv.failed, 0);
	assert_int_equal(t.cli.failed, 0);
}

/* The pin fails the client's handshake; the server sees the alert. */
static void test_stream_wrong_pin_fails_client(void **state)
{
	struct lt t;

	(void)state;
	lt_init(&t);
	lt_start(&t, ctx_cli_wrong_pin);
	lt_run(&t);
	assert_int_equal(t.cli.established, 0);
	assert_int_equal(t.srv.established, 0);
	assert_int_equal(t.cli.failed, 1);
	assert_true(t.cli.pin_mismatch);
	assert_int_equal(t.cli.err, -EPROTO);
	assert_non_null(strstr(t.cli.reason, "handshake"));
	assert_int_equal(t.srv.failed, 1);
	assert_false(t.srv.pin_mismatch);
}

/* Client: ten small frames in one batch, so they arrive together. */
static int send_ten(struct end *e)
{
	uint8_t buf[64];
	int i;

	for (i = 0; i < 10; i++) {
		data_fill(buf, sizeof(buf), i);
		e->t->rc[0] += stream_queue(&e->st, FRAME_DATA, buf, sizeof(buf));
	}
	stream_flush(&e->st);
	return 0;
}

/* Server: close on the first frame, twice, and try to queue after; the
 * return value says nothing, so the stream must notice on its own. */
static int close_in_frame(struct end *e, const struct frame *f)
{
	(void)f;
	stream_close(&e->st);
	stream_close(&e->st);
	e->t->rc[1] = stream_queue(&e->st, FRAME_DATA, "x", 1);
	stream_flush(&e->st);
	stream_linger(&e->st);
	return 0;
}

static void test_stream_close_from_frame_callback(void **state)
{
	struct lt t;

	(void)state;
	lt_init(&t);
	t.cli.on_established = send_ten;
	t.srv.on_frame = close_in_frame;
	lt_start(&t, ctx_cli);
	lt_run(&t);
	assert_int_equal(t.rc[0], 0);
	assert_int_equal(t.rc[1], -ENOTCONN);
	assert_int_equal(t.srv.frames, 1);	/* nothing after the close */
	assert_int_equal(t.srv.failed, 0);
	assert_int_equal(t.cli.failed, 1);	/* peer went away */
	assert_true(t.cli.err <= 0);
}

/* Server: close both ends as soon as it is up, data already waiting. */
static int close_when_up(struct end *e)
{
	lt_finish(e->t);
	return 0;
}

/* A stream closed from its established callback reads nothing more, even
 * what arrived together with the handshake. */
static void test_stream_close_from_established_callback(void **state)
{
	struct lt t;

	(void)state;
	lt_init(&t);
	t.cli.on_established = send_ten;
	t.srv.on_established = close_when_up;
	lt_start(&t, ctx_cli);
	lt_run(&t);
	assert_int_equal(t.rc[0], 0);
	assert_int_equal(t.srv.established, 1);
	assert_int_equal(t.srv.frames, 0);
	assert_int_equal(t.srv.failed, 0);
	assert_int_equal(t.cli.failed, 0);
}

/* Closing before the handshake is done: no callbacks but closed. */
static void test_stream_close_before_handshake(void **state)
{
	struct lt t;

	(void)state;
	lt_init(&t);
	lt_start(&t, ctx_cli);
	lt_finish(&t);
	lt_run(&t);
	assert_int_equal(t.srv.established, 0);
	assert_int_equal(t.cli.established, 0);
	assert_int_equal(t.srv.failed, 0);
	assert_int_equal(t.cli.failed, 0);
}

static int srv_ping(struct end *e)
{
	stream_queue(&e->st, FRAME_KEEPALIVE, NULL, 0);
	stream_flush(&e->st);
	return 0;
}

/* Client, idle and up, gets a KEEPALIVE and answers with a batch larger
 * than the socket takes at once: the rest must go out when it drains. */
static int cli_burst(struct end *e, const struct frame *f)
{
	static uint8_t buf[FRAME_DATA_MAX];
	int i;

	(void)f;
	e->t->rc[5] = e->st.st_events;
	for (i = 0; i < NDATA; i++) {
		data_fill(buf, data_len(i), i);
		stream_queue(&e->st, FRAME_DATA, buf, data_len(i));
	}
	stream_flush(&e->st);
	e->t->rc[6] = e->st.st_events;
	e->t->pending = stream_tx_pending(&e->st);
	return 0;
}

static int srv_count(struct end *e, const struct frame *f)
{
	e->t->bad += !data_ok(f, e->frames - 1);
	if (e->frames == NDATA)
		lt_finish(e->t);
	return 0;
}

static void test_stream_burst_on_idle_stream_is_written(void **state)
{
	struct lt t;

	(void)state;
	lt_init(&t);
	t.srv.on_established = srv_ping;
	t.cli.on_frame = cli_burst;
	t.srv.on_frame = srv_count;
	lt_start(&t, ctx_cli);
	lt_run(&t);
	assert_int_equal(t.srv.frames, NDATA);
}

static int refuse(struct end *e)
{
	(void)e;
	return -1;
}

static void test_stream_established_refusal_closes(void **state)
{
	struct lt t;

	(void)state;
	lt_init(&t);
	t.srv.on_established = refuse;
	lt_start(&t, ctx_cli);
	lt_run(&t);		/* the watchdog fails the test if it hangs */
	assert_int_equal(t.srv.established, 1);
}

/* A connected TCP pair on loopback: fds[0] accepted, fds[1] connected. */
static void tcp_pair(int fds[2])
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sin);
	int l;

	assert_true((l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0);
	assert_int_equal(bind(l, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(l, 1), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&sin, &sl), 0);
	assert_true((fds[1] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0);
	assert_int_equal(connect(fds[1], (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_true((fds[0] = accept4(l, NULL, NULL, SOCK_CLOEXEC)) >= 0);
	close(l);
}

static int nodelay(int fd)
{
	int on = 0;
	socklen_t len = sizeof(on);

	assert_int_equal(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, &len), 0);
	return on;
}

/* Over TCP the stream turns Nagle off itself, whoever made the socket:
 * it already batches a loop turn's frames into few records, and Nagle
 * would hold the last short one (a ping, a keepalive) for the peer's
 * delayed ACK. Both ends still hand-shake and close cleanly. */
static void test_stream_tcp_nodelay(void **state)
{
	struct lt t;
	int fds[2];
	SSL *s, *c;

	(void)state;
	lt_init(&t);
	tcp_pair(fds);
	assert_int_equal(nodelay(fds[0]), 0);
	assert_int_equal(nodelay(fds[1]), 0);
	assert_non_null(s = tls_ssl_new(ctx_srv, fds[0]));
	assert_non_null(c = tls_ssl_new(ctx_cli, fds[1]));
	assert_int_equal(uv_timer_start(&t.watchdog, on_watchdog, WATCHDOG_MS, 0), 0);
	assert_int_equal(stream_init(&t.srv.st, &t.loop, fds[0], s, &test_cb, &t.srv), 0);
	assert_int_equal(stream_init(&t.cli.st, &t.loop, fds[1], c, &test_cb, &t.cli), 0);
	t.rc[0] = nodelay(fds[0]);
	t.rc[1] = nodelay(fds[1]);
	t.srv.on_established = t.cli.on_established = both_up_finish;
	lt_run(&t);
	assert_int_equal(t.rc[0], 1);
	assert_int_equal(t.rc[1], 1);
	assert_int_equal(t.srv.established, 1);
	assert_int_equal(t.cli.established, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stream_handshake_establishes_both_ends),
		cmocka_unit_test(test_stream_frames_arrive_in_order),
		cmocka_unit_test(test_stream_bye_then_linger),
		cmocka_unit_test(test_stream_reads_past_budget_when_buffered),
		cmocka_unit_test(test_stream_queue_enobufs_when_full),
		cmocka_unit_test(test_stream_wrong_pin_fails_client),
		cmocka_unit_test(test_stream_close_from_frame_callback),
		cmocka_unit_test(test_stream_close_from_established_callback),
		cmocka_unit_test(test_stream_close_before_handshake),
		cmocka_unit_test(test_stream_burst_on_idle_stream_is_written),
		cmocka_unit_test(test_stream_established_refusal_closes),
		cmocka_unit_test(test_stream_tcp_nodelay),
	};

	/* As vpnd does: a write to a closed peer is an error, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
