/* test_sess.c - a client session against a server session in one libuv
 * loop: TLS over an AF_UNIX socketpair, DTLS over two UDP sockets on
 * loopback. The test plays both owners: it offers and accepts the DTLS
 * channel, ticks both sessions every 50 ms, flushes each end's batch as
 * its owner would (sess_batch_start), and can block UDP to watch data fall back to TLS and return.
 * dead_peer_timeout is 3 s here (a 0.9 s DTLS window), so the whole file
 * runs in about ten seconds of real time. */
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
#include <sys/socket.h>

#include <cmocka.h>
#include <openssl/ssl.h>
#include <uv.h>

#include "crypto/dtls.h"
#include "crypto/fp.h"
#include "crypto/tls.h"
#include "tunnel/sess.h"
#include "tunnel/udp.h"
#include "fixture.h"

#define KEEPALIVE_S 1
#define DEAD_S      3
#define TICK_MS     50
#define WAIT_MS     8000	/* a condition that takes longer fails the test */

enum { SRV = 0, CLI = 1 };

static const uint8_t chan_id[DTLS_ID_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8 };

static struct fx_ends ends;

struct t;

/* One end: the session and what its callbacks saw. */
struct end {
	struct t         *t;
	int               who;
	struct sess       se;
	struct sess_batch batch;
	bool              open, established, failed;
	int               closed;
	int               err;			/* failed's err */
	int               to_dtls, to_tls;	/* transport callbacks */
	int               dtls_up, dtls_down;
	int               controls;		/* control frames seen */
	uint8_t           last_type;
	int               pkts;			/* packets the sink took */
	int               supers;		/* of them super-packets */
	uint8_t           last[64];
	size_t            last_len;
	size_t            bytes;		/* what the sink took */
	int               udp_fd;
	struct udp_tx    *udp_tx;
	uv_poll_t         udp_poll;
};

struct t {
	uv_loop_t        loop;
	uv_timer_t       tick;
	struct end       end[2];
	struct udp_rx   *rx;
	struct sockaddr_storage srv_udp;	/* the server's UDP address */
	bool             udp_blocked;		/* datagrams are read and lost */
	bool             tick_srv;		/* the server end ticks */
	uint8_t          scratch[UDP_DGRAM_MAX];
};

/* ---- keys and contexts ---- */

static int group_teardown(void **state)
{
	(void)state;
	return fx_ends_close(&ends);
}

static int group_setup(void **state)
{
	(void)state;
	return fx_ends_open(&ends, "sess");
}

/* ---- the owners' callbacks ---- */

static void sink(void *arg, const uint8_t *pkt, size_t len, const struct vnet_super *sp)
{
	struct end *e = arg;

	e->pkts++;
	e->supers += sp != NULL;
	e->bytes += len;
	e->last_len = len < sizeof(e->last) ? len : sizeof(e->last);
	memcpy(e->last, pkt, e->last_len);
}

static int cb_established(void *arg)
{
	struct end *e = arg;

	e->established = true;
	sess_set_timers(&e->se, KEEPALIVE_S, DEAD_S);
	sess_set_sink(&e->se, sink, e);
	return 0;
}

static int cb_control(void *arg, const struct frame *f)
{
	struct end *e = arg;

	e->controls++;
	e->last_type = f->f_type;
	if (e->who == CLI && f->f_type == FRAME_DTLS && f->f_len == DTLS_ID_LEN)
		assert_int_equal(sess_dtls_start(&e->se, ends.dtls_cli, f->f_payload, 1400,
		    e->udp_tx, &e->t->srv_udp), 0);
	return 0;
}

static void cb_event(void *arg, enum sess_event ev, const char *why)
{
	struct end *e = arg;

	switch (ev) {
	case SESS_ON_DTLS:  assert_non_null(why); e->to_dtls++; break;
	case SESS_ON_TLS:   assert_non_null(why); e->to_tls++; break;
	case SESS_DTLS_UP:  e->dtls_up++; break;
	case SESS_DTLS_DOWN: e->dtls_down++; break;
	case SESS_ROAMED:   break;
	}
}

static void cb_failed(void *arg, const char *reason, int err)
{
	struct end *e = arg;

	(void)reason;
	e->failed = true;
	e->err = err;
	sess_close(&e->se);
}

static void cb_closed(void *arg)
{
	struct end *e = arg;

	e->closed++;
	e->open = false;
}

static const struct sess_cb cb = {
	.established = cb_established, .control = cb_control,
	.event = cb_event,
	.failed = cb_failed, .closed = cb_closed,
};

/* ---- the loop: ticks, flushes, datagrams ---- */

static void on_tick(uv_timer_t *h)
{
	struct t *t = h->data;
	uint64_t now = uv_now(&t->loop);
	int i;

	for (i = 0; i < 2; i++)
		if (t->end[i].open && t->end[i].established && (i == CLI || t->tick_srv))
			sess_tick(&t->end[i].se, now);
}

static void on_flush(void *arg)
{
	struct end *e = arg;

	udp_tx_flush(e->udp_tx);
	sess_batch_flush(&e->batch);
}

static void on_udp(uv_poll_t *h, int status, int events)
{
	struct end *e = h->data;
	struct t *t = e->t;
	const struct sockaddr_storage *from;
	const uint8_t *dg;
	size_t len;
	int i, n;

	(void)events;
	if (status < 0)
		return;
	while ((n = udp_rx_recv(t->rx, e->udp_fd)) > 0)
		for (i = 0; i < n; i++) {
			dg = udp_rx_dgram(t->rx, i, &len, &from);
			if (!t->udp_blocked && e->open)
				sess_datagram_in(&e->se, e->udp_tx, dg, len, from,
				    t->scratch, sizeof(t->scratch));
		}
}

static void udp_open(struct t *t)
{
	struct sockaddr_storage any;
	struct sockaddr_in *sin = (struct sockaddr_in *)&any;
	socklen_t sl = sizeof(t->srv_udp);
	int i;

	memset(&any, 0, sizeof(any));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true((t->end[SRV].udp_fd = udp_bind(&any)) >= 0);
	assert_int_equal(getsockname(t->end[SRV].udp_fd, (struct sockaddr *)&t->srv_udp, &sl), 0);
	assert_true((t->end[CLI].udp_fd = udp_connect(&t->srv_udp)) >= 0);
	for (i = 0; i < 2; i++) {
		assert_int_equal(udp_tx_new(&t->end[i].udp_tx, t->end[i].udp_fd), 0);
		uv_poll_init(&t->loop, &t->end[i].udp_poll, t->end[i].udp_fd);
		t->end[i].udp_poll.data = &t->end[i];
		uv_poll_start(&t->end[i].udp_poll, UV_READABLE, on_udp);
	}
	assert_int_equal(udp_rx_new(&t->rx), 0);
}

static int setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));
	int fds[2], i;
	SSL *ssl[2];

	assert_non_null(t);
	assert_int_equal(uv_loop_init(&t->loop), 0);
	t->tick_srv = true;
	udp_open(t);
	fx_socketpair(fds);
	assert_non_null(ssl[SRV] = tls_ssl_new(ends.tls_srv, fds[0]));
	assert_non_null(ssl[CLI] = tls_ssl_new(ends.tls_cli, fds[1]));
	for (i = 0; i < 2; i++) {
		t->end[i].t = t;
		t->end[i].who = i;
		assert_int_equal(sess_init(&t->end[i].se, &t->loop, &t->end[i].batch,
		    fds[i], ssl[i], i == CLI, true, &cb, &t->end[i]), 0);
		t->end[i].open = true;
	}
	uv_timer_init(&t->loop, &t->tick);
	t->tick.data = t;
	uv_timer_start(&t->tick, on_tick, TICK_MS, TICK_MS);
	for (i = 0; i < 2; i++)
		sess_batch_start(&t->end[i].batch, &t->loop, on_flush, &t->end[i]);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct t *t = *state;
	int i;

	for (i = 0; i < 2; i++)
		if (t->end[i].open)
			sess_close(&t->end[i].se);
	for (i = 0; i < 2; i++)
		uv_close((uv_handle_t *)&t->end[i].udp_poll, NULL);
	uv_close((uv_handle_t *)&t->tick, NULL);
	for (i = 0; i < 2; i++)
		sess_batch_stop(&t->end[i].batch);
	uv_run(&t->loop, UV_RUN_DEFAULT);
	assert_int_equal(t->end[SRV].closed, 1);
	assert_int_equal(t->end[CLI].closed, 1);
	assert_int_equal(uv_loop_close(&t->loop), 0);	/* no handle leaked */
	for (i = 0; i < 2; i++) {
		udp_tx_free(t->end[i].udp_tx);
		close(t->end[i].udp_fd);
	}
	udp_rx_free(t->rx);
	free(t);
	return 0;
}

/* Run the loop until cond holds; fail after WAIT_MS. */
static void run_until(struct t *t, bool (*cond)(struct t *), const char *what)
{
	uint64_t end = uv_now(&t->loop) + WAIT_MS;

	while (!cond(t)) {
		if (uv_now(&t->loop) > end)
			fail_msg("timed out waiting until %s", what);
		uv_run(&t->loop, UV_RUN_ONCE);
	}
}

static bool both_established(struct t *t)
{
	return t->end[SRV].established && t->end[CLI].established;
}

static bool both_on_dtls(struct t *t)
{
	return sess_on_dtls(&t->end[SRV].se) && sess_on_dtls(&t->end[CLI].se);
}

static bool both_on_tls(struct t *t)
{
	return !sess_on_dtls(&t->end[SRV].se) && !sess_on_dtls(&t->end[CLI].se);
}

static bool cli_dead(struct t *t)
{
	return sess_tick(&t->end[CLI].se, uv_now(&t->loop)) == SESS_DEAD;
}

static bool srv_failed(struct t *t)
{
	return t->end[SRV].failed;
}

static int want_pkts[2];

static bool pkts_arrived(struct t *t)
{
	return t->end[SRV].pkts >= want_pkts[SRV] && t->end[CLI].pkts >= want_pkts[CLI];
}

/* Send one numbered packet each way and wait for both. */
static void ping_both(struct t *t, uint8_t tag)
{
	uint8_t pkt[40] = { 0x45, tag };

	want_pkts[SRV] = t->end[SRV].pkts + 1;
	want_pkts[CLI] = t->end[CLI].pkts + 1;
	assert_int_equal(sess_send(&t->end[CLI].se, pkt, sizeof(pkt)), 0);
	assert_int_equal(sess_send(&t->end[SRV].se, pkt, sizeof(pkt)), 0);
	run_until(t, pkts_arrived, "a packet arrives each way");
	assert_int_equal(t->end[SRV].last[1], tag);
	assert_int_equal(t->end[CLI].last[1], tag);
}

static void up_on_dtls(struct t *t)
{
	run_until(t, both_established, "the TLS handshake is done");
	assert_int_equal(sess_dtls_offer(&t->end[SRV].se, ends.dtls_srv, chan_id, 1400), 0);
	run_until(t, both_on_dtls, "both ends use DTLS");
	assert_memory_equal(sess_dtls_id(&t->end[CLI].se), chan_id, DTLS_ID_LEN);
}

/* ---- tests ---- */

static void test_data_over_tls(void **state)
{
	struct t *t = *state;
	struct sess_counts n;

	run_until(t, both_established, "the TLS handshake is done");
	assert_false(sess_on_dtls(&t->end[CLI].se));
	ping_both(t, 7);
	sess_counts(&t->end[CLI].se, &n);
	assert_int_equal(n.sc_tx_pkts, 1);
	assert_int_equal(n.sc_rx_pkts, 1);
	assert_int_equal(n.sc_tx_bytes, 40);
	assert_int_equal(t->end[CLI].dtls_up, 0);
}

/* A super-packet over TLS: one GSO frame once the peer takes them, its
 * segments (one DATA frame each) before; over DTLS always cut. */
static struct vnet_super super(uint8_t *buf, size_t payload)
{
	struct vnet_super sp;
	size_t n = fx_tcpudp_pkt(buf, 4, IPPROTO_TCP, payload, 0, 0x10, &sp.vs_h, 1360);

	assert_int_equal(vnet_check(&sp.vs_h, buf, n, 1400, &sp.vs_vi), 0);
	sp.vs_pkt = buf;
	sp.vs_len = n;
	return sp;
}

static int want_bytes;
static bool srv_got_bytes(struct t *t)
{
	return t->end[SRV].bytes >= (size_t)want_bytes;
}

static void test_super_packets_over_tls(void **state)
{
	struct t *t = *state;
	static uint8_t buf[VNET_PKT_MAX];
	struct vnet_super sp = super(buf, 10 * 1360);
	struct sess_counts n;

	run_until(t, both_established, "the TLS handshake is done");
	/* the server has not said it takes them: ten DATA frames */
	assert_int_equal(sess_send_super(&t->end[CLI].se, &sp), 0);
	want_bytes = 10 * (40 + 1360);
	run_until(t, srv_got_bytes, "ten segments arrive");
	assert_int_equal(t->end[SRV].pkts, 10);
	assert_int_equal(t->end[SRV].supers, 0);
	/* now it does: one GSO frame, the whole super-packet at once */
	assert_int_equal(sess_gso_accept(&t->end[SRV].se), 0);
	sess_gso_peer(&t->end[CLI].se, true);
	assert_int_equal(sess_send_super(&t->end[CLI].se, &sp), 0);
	want_bytes += (int)sp.vs_len;
	run_until(t, srv_got_bytes, "the super-packet arrives");
	assert_int_equal(t->end[SRV].pkts, 11);
	assert_int_equal(t->end[SRV].supers, 1);
	assert_memory_equal(t->end[SRV].last, buf, sizeof(t->end[SRV].last));
	sess_counts(&t->end[CLI].se, &n);
	assert_int_equal(n.sc_gso_tx, 1);
	assert_int_equal(n.sc_tx_pkts, 20);		/* segments, either way */
	sess_counts(&t->end[SRV].se, &n);
	assert_int_equal(n.sc_gso_rx, 1);
	assert_int_equal(n.sc_rx_pkts, 20);
}

/* A GSO frame whose header does not match its packet is dropped and
 * counted; the session goes on. */
static void test_super_bad_header_dropped(void **state)
{
	struct t *t = *state;
	static uint8_t buf[VNET_PKT_MAX];
	struct vnet_super sp = super(buf, 3 * 1360);
	uint8_t gh[FRAME_GSO_HDR];
	struct sess_counts n;

	run_until(t, both_established, "the TLS handshake is done");
	assert_int_equal(sess_gso_accept(&t->end[SRV].se), 0);
	sp.vs_h.csum_offset = 6;			/* TCP's is 16 */
	frame_gso_put(gh, &sp.vs_h);
	assert_int_equal(stream_queue2(&t->end[CLI].se.se_st, FRAME_GSO, gh, sizeof(gh),
	    sp.vs_pkt, sp.vs_len), 0);
	sp.vs_h.csum_offset = 16;
	sp.vs_h.gso_size = 9000;			/* segments past any MTU */
	frame_gso_put(gh, &sp.vs_h);
	assert_int_equal(stream_queue2(&t->end[CLI].se.se_st, FRAME_GSO, gh, sizeof(gh),
	    sp.vs_pkt, sp.vs_len), 0);
	stream_flush(&t->end[CLI].se.se_st);
	ping_both(t, 9);				/* after them, in order */
	sess_counts(&t->end[SRV].se, &n);
	assert_int_equal(n.sc_gso_bad, 2);
	assert_int_equal(n.sc_gso_rx, 0);
	assert_int_equal(t->end[SRV].supers, 0);
	assert_false(t->end[SRV].failed);
}

/* A GSO frame to an end that never said it takes them is longer than its
 * receive buffer: the stream fails as oversized instead of waiting. */
static void test_super_unasked_fails_stream(void **state)
{
	struct t *t = *state;
	static uint8_t buf[VNET_PKT_MAX];
	struct vnet_super sp = super(buf, 30 * 1360);

	run_until(t, both_established, "the TLS handshake is done");
	sess_gso_peer(&t->end[CLI].se, true);		/* a lie */
	assert_int_equal(sess_send_super(&t->end[CLI].se, &sp), 0);
	sess_batch_flush(&t->end[CLI].batch);
	run_until(t, srv_failed, "the server's stream fails");
	assert_int_equal(t->end[SRV].err, -EMSGSIZE);
	assert_int_equal(t->end[SRV].supers, 0);
}

/* Over DTLS a super-packet is always cut, even to a peer that takes them. */
static void test_super_cut_for_dtls(void **state)
{
	struct t *t = *state;
	static uint8_t buf[VNET_PKT_MAX];
	struct vnet_super sp = super(buf, 4 * 1360);
	uint64_t dc_tx;

	up_on_dtls(t);
	assert_int_equal(sess_gso_accept(&t->end[SRV].se), 0);
	sess_gso_peer(&t->end[CLI].se, true);
	dc_tx = t->end[CLI].se.se_dc.dc_tx_pkts;
	want_bytes = (int)t->end[SRV].bytes + 4 * (40 + 1360);
	assert_int_equal(sess_send_super(&t->end[CLI].se, &sp), 0);
	udp_tx_flush(t->end[CLI].udp_tx);
	run_until(t, srv_got_bytes, "four segments arrive over DTLS");
	assert_int_equal(t->end[CLI].se.se_dc.dc_tx_pkts, dc_tx + 4);
	assert_int_equal(t->end[SRV].supers, 0);
	assert_int_equal(t->end[CLI].se.se_n.sc_gso_tx, 0);
}

static void test_dtls_then_tls_then_dtls(void **state)
{
	struct t *t = *state;
	uint64_t dc_tx;

	up_on_dtls(t);
	dc_tx = t->end[CLI].se.se_dc.dc_tx_pkts;
	ping_both(t, 1);
	assert_int_equal(t->end[CLI].se.se_dc.dc_tx_pkts, dc_tx + 1);	/* on DTLS */

	t->udp_blocked = true;
	run_until(t, both_on_tls, "data falls back to TLS");
	dc_tx = t->end[CLI].se.se_dc.dc_tx_pkts;
	ping_both(t, 2);			/* arrives, over TLS */
	assert_int_equal(t->end[CLI].se.se_dc.dc_tx_pkts, dc_tx);

	t->udp_blocked = false;
	run_until(t, both_on_dtls, "data moves back to DTLS");
	ping_both(t, 3);
	on_tick(&t->tick);			/* report the last change now */
	assert_true(t->end[CLI].to_tls >= 1);
	assert_true(t->end[CLI].to_dtls >= 2);
	assert_true(t->end[CLI].se.se_n.sc_switches >= 3);
}

static void test_tls_only_with_dtls_data_forbidden(void **state)
{
	struct t *t = *state;
	uint8_t pkt[20] = { 0x45 };

	t->end[CLI].se.se_tls_data = false;	/* transport = "dtls" */
	run_until(t, both_established, "the TLS handshake is done");
	assert_int_equal(sess_send(&t->end[CLI].se, pkt, sizeof(pkt)), -ENOTCONN);
	assert_int_equal(t->end[CLI].se.se_n.sc_tx_dropped, 1);
}

static void test_dead_peer(void **state)
{
	struct t *t = *state;
	uint64_t start;

	run_until(t, both_established, "the TLS handshake is done");
	t->tick_srv = false;			/* the server falls silent */
	start = uv_now(&t->loop);
	run_until(t, cli_dead, "the client calls the server dead");
	assert_true(uv_now(&t->loop) - start >= (DEAD_S - 1) * 1000);
}

static void test_keepalives_keep_it_alive(void **state)
{
	struct t *t = *state;
	uint64_t end;

	run_until(t, both_established, "the TLS handshake is done");
	end = uv_now(&t->loop) + (DEAD_S + 1) * 1000;
	while (uv_now(&t->loop) < end) {
		uv_run(&t->loop, UV_RUN_ONCE);
		assert_int_equal(sess_tick(&t->end[CLI].se, uv_now(&t->loop)), SESS_ALIVE);
		assert_int_equal(sess_tick(&t->end[SRV].se, uv_now(&t->loop)), SESS_ALIVE);
	}
}

/* A packet or control frame a timer queues (a keepalive from the tick, a
 * DTLS retransmit) is written before the loop next blocks, not when some
 * later event or timer wakes it. Here nothing else would wake the loop
 * until the guard timer; the packet must arrive first. */
static bool guard_fired;
static uv_timer_t q_timer, guard_timer;	/* closed in teardown's loop run */

static void on_queue_timer(uv_timer_t *h)
{
	struct t *t = h->data;
	uint8_t pkt[40] = { 0x45, 0x77 };

	assert_int_equal(sess_send(&t->end[CLI].se, pkt, sizeof(pkt)), 0);
}

static void on_guard_timer(uv_timer_t *h)
{
	(void)h;
	guard_fired = true;
}

static void test_timer_queued_written_before_sleep(void **state)
{
	struct t *t = *state;
	uv_timer_t *q = &q_timer, *guard = &guard_timer;
	int want;

	run_until(t, both_established, "the TLS handshake is done");
	uv_timer_stop(&t->tick);		/* nothing else wakes the loop */
	want = t->end[SRV].pkts + 1;
	guard_fired = false;
	uv_timer_init(&t->loop, q);
	uv_timer_init(&t->loop, guard);
	q->data = guard->data = t;
	uv_timer_start(q, on_queue_timer, 0, 0);
	uv_timer_start(guard, on_guard_timer, WAIT_MS / 2, 0);
	while (t->end[SRV].pkts < want && !guard_fired)
		uv_run(&t->loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)q, NULL);
	uv_close((uv_handle_t *)guard, NULL);
	assert_false(guard_fired);
	assert_int_equal(t->end[SRV].pkts, want);
	assert_int_equal(t->end[SRV].last[1], 0x77);
}

static void test_malformed_frame_fails_stream(void **state)
{
	struct t *t = *state;
	static const uint8_t bad[] = { FRAME_DATA, 0x80, 0, 1, 0x45 };	/* flags set */

	run_until(t, both_established, "the TLS handshake is done");
	assert_int_equal(SSL_write(sess_ssl(&t->end[CLI].se), bad, sizeof(bad)), (int)sizeof(bad));
	assert_int_equal(tls_flush(sess_ssl(&t->end[CLI].se)), 0);
	run_until(t, srv_failed, "the server rejects the frame");
	assert_int_equal(t->end[SRV].err, -EPROTO);
	assert_int_equal(t->end[SRV].pkts, 0);
}

static void test_unknown_frame_skipped(void **state)
{
	struct t *t = *state;
	static const uint8_t unk[] = { 0x77, 0, 0, 2, 'h', 'i' };
	struct sess_counts n;

	run_until(t, both_established, "the TLS handshake is done");
	assert_int_equal(SSL_write(sess_ssl(&t->end[CLI].se), unk, sizeof(unk)), (int)sizeof(unk));
	assert_int_equal(tls_flush(sess_ssl(&t->end[CLI].se)), 0);
	ping_both(t, 9);			/* still works after it */
	sess_counts(&t->end[SRV].se, &n);
	assert_int_equal(n.sc_bad_frames, 1);
	assert_false(t->end[SRV].failed);
}

static void test_bad_datagrams_counted(void **state)
{
	struct t *t = *state;
	uint8_t dg[64];
	struct sess_counts n0, n1;

	up_on_dtls(t);
	sess_counts(&t->end[SRV].se, &n0);
	memset(dg, 0x5a, sizeof(dg));
	dtls_put_hdr(dg, DTLS_MAGIC, chan_id);		/* our id, garbage records */
	sess_datagram_in(&t->end[SRV].se, NULL, dg, sizeof(dg), &t->srv_udp,
	    t->scratch, sizeof(t->scratch));
	dg[1] ^= 0xff;				/* another channel's id */
	sess_datagram_in(&t->end[SRV].se, NULL, dg, sizeof(dg), &t->srv_udp,
	    t->scratch, sizeof(t->scratch));
	sess_datagram_in(&t->end[SRV].se, NULL, dg, 3, &t->srv_udp,	/* short */
	    t->scratch, sizeof(t->scratch));
	sess_counts(&t->end[SRV].se, &n1);
	assert_int_equal(n1.sc_dtls_bad, n0.sc_dtls_bad + 3);
	assert_int_equal(n1.sc_rx_pkts, n0.sc_rx_pkts);
	ping_both(t, 4);			/* the channel survived */
	assert_true(both_on_dtls(t));
}

static uint64_t rx_since;

static bool srv_saw_bye(struct t *t)
{
	return t->end[SRV].controls > 0 && t->end[SRV].last_type == FRAME_BYE;
}

static bool cli_read_bytes(struct t *t)
{
	return t->end[CLI].se.se_st.st_rx_at > rx_since;
}

/* A busy peer whose next record is still arriving is alive: bytes on the
 * stream count, not only whole frames. */
static void test_bytes_are_life(void **state)
{
	struct t *t = *state;
	/* the start of a 9000-byte DATA frame, never finished */
	static uint8_t part[FRAME_HDR + 100] = { FRAME_DATA, 0, 0x23, 0x28, 0x45 };
	uint64_t now;

	run_until(t, both_established, "the TLS handshake is done");
	t->tick_srv = false;			/* no keepalives from the server */
	rx_since = 0;
	t->end[CLI].se.se_st.st_rx_at = 0;	/* as if nothing had come yet */
	assert_int_equal(SSL_write(sess_ssl(&t->end[SRV].se), part, sizeof(part)),
	    (int)sizeof(part));
	assert_int_equal(tls_flush(sess_ssl(&t->end[SRV].se)), 0);
	run_until(t, cli_read_bytes, "the client reads the bytes");
	assert_int_equal(t->end[CLI].pkts, 0);	/* no frame yet */
	now = uv_now(&t->loop);
	t->end[CLI].se.se_last_rx = now - DEAD_S * 1000;	/* frames long ago */
	assert_int_equal(sess_tick(&t->end[CLI].se, now), SESS_ALIVE);
	assert_int_equal(sess_tick(&t->end[CLI].se, now + DEAD_S * 1000), SESS_DEAD);
}

/* A full data queue drops packets, never a keepalive or a BYE. */
static void test_control_frames_find_room(void **state)
{
	struct t *t = *state;
	uint8_t pkt[1400] = { 0x45 };
	int i, err = 0;

	run_until(t, both_established, "the TLS handshake is done");
	for (i = 0; i < 10000 && (err = sess_send(&t->end[CLI].se, pkt, sizeof(pkt))) == 0; i++)
		;				/* no loop turn: nothing is written */
	assert_int_equal(err, -ENOBUFS);
	for (i = 0; i < 2000 && (err = sess_send(&t->end[CLI].se, pkt, 1)) == 0; i++)
		;				/* to the last few bytes */
	assert_int_equal(err, -ENOBUFS);
	assert_true(t->end[CLI].se.se_n.sc_tx_dropped >= 1);
	assert_int_equal(sess_send_control(&t->end[CLI].se, FRAME_KEEPALIVE, NULL, 0), 0);
	assert_int_equal(sess_say_and_close(&t->end[CLI].se, FRAME_BYE, "bye with a full queue"), 0);
	run_until(t, srv_saw_bye, "the server reads the BYE after the data");
}

static bool cli_saw_bye(struct t *t)
{
	return t->end[CLI].controls > 0 && t->end[CLI].last_type == FRAME_BYE;
}

static void test_say_and_close(void **state)
{
	struct t *t = *state;

	run_until(t, both_established, "the TLS handshake is done");
	assert_int_equal(sess_say_and_close(&t->end[SRV].se, FRAME_BYE, "bye now"), 0);
	run_until(t, cli_saw_bye, "the client reads the BYE");
	assert_int_equal(t->end[CLI].last_type, FRAME_BYE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_data_over_tls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_super_packets_over_tls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_super_bad_header_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_super_cut_for_dtls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_super_unasked_fails_stream, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dtls_then_tls_then_dtls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tls_only_with_dtls_data_forbidden, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dead_peer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keepalives_keep_it_alive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timer_queued_written_before_sleep, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_frame_fails_stream, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_frame_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_datagrams_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_say_and_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bytes_are_life, setup, teardown),
		cmocka_unit_test_setup_teardown(test_control_frames_find_room, setup, teardown),
	};

	signal(SIGPIPE, SIG_IGN);	/* as both daemons: a closed peer is an error */
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
