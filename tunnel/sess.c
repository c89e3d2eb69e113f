/* sess.c - one transport session: a TLS stream and the DTLS channel beside
 * it, and the choice between them. Data goes on DTLS while an authenticated
 * record came within the usability window (dead_peer_timeout / 3, SPEC
 * "Transport"), else on TLS; the tick notices a change and reports it once.
 * The client end drives the channel: it probes an idle channel, retries a
 * failed handshake, and starts over when probes go unanswered; the server
 * end answers. Nothing is allocated or logged per packet. */
#include <errno.h>
#include <string.h>

#include "tunnel/sess.h"
#include "tunnel/udp.h"

#define SESS_DTLS_RETRY_MS 2000		/* client: after a failed handshake */

/* ---- the batch of sessions with frames to write ---- */

static void sess_mark_dirty(struct sess *se)
{
	if (se->se_dirty)
		return;
	se->se_dirty = true;
	se->se_dirty_next = se->se_batch->sb_head;
	se->se_batch->sb_head = se;
}

static void sess_unlink_dirty(struct sess *se)
{
	struct sess **pp;

	if (!se->se_dirty)
		return;
	for (pp = &se->se_batch->sb_head; *pp != NULL; pp = &(*pp)->se_dirty_next)
		if (*pp == se) {
			*pp = se->se_dirty_next;
			break;
		}
	se->se_dirty = false;
}

void sess_batch_flush(struct sess_batch *b)
{
	struct sess *se;

	while ((se = b->sb_head) != NULL) {
		b->sb_head = se->se_dirty_next;
		se->se_dirty = false;
		se->se_last_tx = uv_now(se->se_loop);
		stream_flush(&se->se_st);
	}
}

static void sess_on_check(uv_check_t *h)
{
	struct sess_batch *b = h->data;

	b->sb_flush(b->sb_flush_arg);
}

static void sess_on_prepare(uv_prepare_t *h)
{
	struct sess_batch *b = h->data;

	b->sb_flush(b->sb_flush_arg);
}

void sess_batch_start(struct sess_batch *b, uv_loop_t *loop, sess_flush_fn *fn, void *arg)
{
	b->sb_flush = fn;
	b->sb_flush_arg = arg;
	/* Neither fails on an initialised loop. */
	uv_check_init(loop, &b->sb_check);
	uv_prepare_init(loop, &b->sb_prepare);
	b->sb_check.data = b->sb_prepare.data = b;
	uv_check_start(&b->sb_check, sess_on_check);
	uv_prepare_start(&b->sb_prepare, sess_on_prepare);
	b->sb_started = true;
}

void sess_batch_stop(struct sess_batch *b)
{
	if (!b->sb_started)
		return;
	b->sb_started = false;
	uv_close((uv_handle_t *)&b->sb_check, NULL);
	uv_close((uv_handle_t *)&b->sb_prepare, NULL);
}

/* ---- the data path ---- */

bool sess_on_dtls(const struct sess *se)
{
	return se->se_dc_on && dchan_usable(&se->se_dc, uv_now(se->se_loop),
	    se->se_window_ms);
}

int sess_send(struct sess *se, const uint8_t *pkt, size_t len)
{
	int err;

	if (sess_on_dtls(se))
		err = dchan_send(&se->se_dc, DC_DATA, pkt, len);
	else if (!se->se_tls_data)
		err = -ENOTCONN;
	else if ((err = stream_queue(&se->se_st, FRAME_DATA, pkt, len)) == 0)
		sess_mark_dirty(se);
	if (err < 0) {
		se->se_n.sc_tx_dropped++;
		return err;
	}
	se->se_n.sc_tx_pkts++;
	se->se_n.sc_tx_bytes += len;
	return 0;
}

static void sess_send_seg(void *arg, const uint8_t *seg, size_t len)
{
	sess_send(arg, seg, len);	/* drops counted there */
}

int sess_send_super(struct sess *se, const struct vnet_super *sp)
{
	uint8_t gh[FRAME_GSO_HDR];
	int err;

	if (!se->se_gso_peer || !se->se_tls_data || sess_on_dtls(se) || sp->vs_vi.vi_gso == 0)
		return vnet_segment(&sp->vs_h, &sp->vs_vi, sp->vs_pkt, sp->vs_len,
		    se->se_batch->sb_scratch, sizeof(se->se_batch->sb_scratch),
		    sess_send_seg, se) < 0 ? -EMSGSIZE : 0;
	frame_gso_put(gh, &sp->vs_h);
	if ((err = stream_queue2(&se->se_st, FRAME_GSO, gh, sizeof(gh), sp->vs_pkt,
	    sp->vs_len)) < 0) {
		se->se_n.sc_tx_dropped += sp->vs_vi.vi_nseg;
		return err;
	}
	sess_mark_dirty(se);
	se->se_n.sc_gso_tx++;
	se->se_n.sc_tx_pkts += sp->vs_vi.vi_nseg;
	se->se_n.sc_tx_bytes += sp->vs_len;
	return 0;
}

int sess_gso_accept(struct sess *se)
{
	return stream_rx_gso(&se->se_st);
}

void sess_gso_peer(struct sess *se, bool on)
{
	se->se_gso_peer = on;
}

int sess_send_control(struct sess *se, uint8_t type, const void *p, size_t len)
{
	int err;

	if ((err = stream_queue(&se->se_st, type, p, len)) == 0)
		sess_mark_dirty(se);
	return err;
}

static void sess_deliver(struct sess *se, const uint8_t *pkt, size_t len)
{
	if (se->se_sink == NULL)
		return;		/* not admitted yet, or closing */
	se->se_n.sc_rx_pkts++;
	se->se_n.sc_rx_bytes += len;
	se->se_sink(se->se_sink_arg, pkt, len, NULL);
}

/* A GSO frame: its header is the peer's word, checked before anything
 * acts on it; segments larger than any tunnel MTU are refused. */
static void sess_deliver_super(struct sess *se, const uint8_t *p, size_t len)
{
	struct vnet_super sp;

	if (se->se_sink == NULL)
		return;
	frame_gso_get(p, &sp.vs_h);
	sp.vs_pkt = p + FRAME_GSO_HDR;
	sp.vs_len = len - FRAME_GSO_HDR;
	if (vnet_check(&sp.vs_h, sp.vs_pkt, sp.vs_len, FRAME_DATA_MAX, &sp.vs_vi) < 0) {
		se->se_n.sc_gso_bad++;
		return;
	}
	se->se_n.sc_gso_rx++;
	se->se_n.sc_rx_pkts += sp.vs_vi.vi_nseg;
	se->se_n.sc_rx_bytes += sp.vs_len;
	se->se_sink(se->se_sink_arg, sp.vs_pkt, sp.vs_len, &sp);
}

static int sess_on_frame(void *arg, const struct frame *f)
{
	struct sess *se = arg;

	se->se_last_rx = uv_now(se->se_loop);
	switch (f->f_type) {
	case FRAME_DATA:
		sess_deliver(se, f->f_payload, f->f_len);
		return 0;
	case FRAME_GSO:
		sess_deliver_super(se, f->f_payload, f->f_len);
		return 0;
	case FRAME_KEEPALIVE:
		return 0;
	default:
		return se->se_cb->control(se->se_arg, f);
	}
}

void sess_datagram_in(struct sess *se, struct udp_tx *via, const uint8_t *dg,
    size_t len, const struct sockaddr_storage *from, uint8_t *scratch,
    size_t scratch_len)
{
	const uint8_t *id = dtls_hdr_id(dg, len);

	if (!se->se_dc_on || id == NULL ||
	    memcmp(id, se->se_dc.dc_io.id, DTLS_ID_LEN) != 0) {
		se->se_n.sc_dtls_bad++;
		return;
	}
	se->se_udp_in = via;
	if (se->se_dc.dc_state != DC_UP && via != NULL)
		se->se_udp = via;	/* answer the handshake where it came */
	dchan_input(&se->se_dc, dg, len, from, uv_now(se->se_loop), scratch,
	    scratch_len);
	se->se_udp_in = NULL;
}

/* ---- the DTLS channel's callbacks ---- */

/* The channel writes its datagrams straight into the UDP batch. */
static uint8_t *sess_dc_slot(void *arg, size_t *cap)
{
	struct sess *se = arg;

	*cap = UDP_DGRAM_MAX;
	return udp_tx_slot(se->se_udp);
}

static void sess_dc_push(void *arg, const struct sockaddr_storage *dst, size_t len)
{
	struct sess *se = arg;

	udp_tx_push(se->se_udp, dst, len);
}

static const struct dtls_out sess_dc_out = {
	.slot = sess_dc_slot,
	.push = sess_dc_push,
};

static void sess_dc_msg(void *arg, uint8_t type, const uint8_t *p, size_t len)
{
	struct sess *se = arg;

	se->se_last_rx = uv_now(se->se_loop);
	if (se->se_udp_in != NULL)
		se->se_udp = se->se_udp_in;	/* authenticated: answer on it */
	if (type == DC_DATA && len > 0)
		sess_deliver(se, p, len);
}

static void sess_dc_state(void *arg, bool up, const char *why)
{
	struct sess *se = arg;

	if (!up && se->se_client)
		se->se_dc_retry = uv_now(se->se_loop) + SESS_DTLS_RETRY_MS;
	se->se_cb->event(se->se_arg, up ? SESS_DTLS_UP : SESS_DTLS_DOWN, why);
}

static void sess_dc_roamed(void *arg, const struct sockaddr_storage *from)
{
	struct sess *se = arg;

	(void)from;		/* the channel's dst already */
	se->se_cb->event(se->se_arg, SESS_ROAMED, NULL);
}

static const struct dchan_cb sess_dc_cb = {
	.msg = sess_dc_msg,
	.state = sess_dc_state,
	.roamed = sess_dc_roamed,
};

/* The underlay MTU a DTLS record may fill: the tunnel MTU plus the
 * channel's overhead, and never less than Ethernet's. */
static int sess_link_mtu(int tun_mtu)
{
	return tun_mtu + 100 > 1500 ? tun_mtu + 100 : 1500;
}

static int sess_dtls_bind(struct sess *se, struct dtls_ctx *ctx,
    const uint8_t id[DTLS_ID_LEN], int tun_mtu)
{
	int err;

	if (se->se_dc_on)
		return -EALREADY;
	if ((err = dchan_init(&se->se_dc, ctx, !se->se_client, se->se_st.st_ssl, id,
	    sess_link_mtu(tun_mtu), &sess_dc_out, &sess_dc_cb, se)) < 0)
		return err;
	se->se_dc_on = true;
	return 0;
}

int sess_dtls_offer(struct sess *se, struct dtls_ctx *ctx,
    const uint8_t id[DTLS_ID_LEN], int tun_mtu)
{
	int err;

	if ((err = sess_dtls_bind(se, ctx, id, tun_mtu)) < 0)
		return err;
	/* A live channel is kept against a new ClientHello anyone could send. */
	se->se_dc.dc_window = se->se_window_ms;
	return sess_send_control(se, FRAME_DTLS, id, DTLS_ID_LEN);
}

int sess_dtls_start(struct sess *se, struct dtls_ctx *ctx,
    const uint8_t id[DTLS_ID_LEN], int tun_mtu, struct udp_tx *tx,
    const struct sockaddr_storage *dst)
{
	int err;

	if ((err = sess_dtls_bind(se, ctx, id, tun_mtu)) < 0)
		return err;
	se->se_udp = tx;
	return dchan_connect(&se->se_dc, dst, uv_now(se->se_loop));
}

void sess_dtls_stop(struct sess *se)
{
	if (!se->se_dc_on)
		return;
	se->se_n.sc_dtls_bad += se->se_dc.dc_dropped;
	dchan_free(&se->se_dc);
	se->se_dc_on = false;
	se->se_on_dtls = false;
	se->se_udp = NULL;
}

const uint8_t *sess_dtls_id(const struct sess *se)
{
	return se->se_dc_on ? se->se_dc.dc_io.id : NULL;
}

const struct sockaddr_storage *sess_dtls_peer(const struct sess *se)
{
	return se->se_dc_on ? &se->se_dc.dc_io.dst : NULL;
}

/* ---- timers ---- */

/* Client: retry a failed handshake; start over when probes have gone
 * unanswered for three windows (the server may have lost the channel; its
 * old one, silent too, gives way). Then retransmits and probes. */
static void sess_dtls_tick(struct sess *se, uint64_t now)
{
	struct dchan *dc = &se->se_dc;
	uint64_t heard = dc->dc_last_rx ? dc->dc_last_rx : dc->dc_started;

	if (!se->se_dc_on)
		return;
	if (!se->se_client) {
		dchan_tick(dc, now, 0);
		return;
	}
	if (dc->dc_state == DC_IDLE && now >= se->se_dc_retry) {
		dchan_connect(dc, &dc->dc_io.dst, now);
	} else if (dc->dc_state == DC_UP && now - heard >= 3 * se->se_window_ms &&
	    now >= se->se_dc_retry) {
		se->se_dc_retry = now + 3 * se->se_window_ms;
		se->se_cb->event(se->se_arg, SESS_DTLS_DOWN, "DTLS unanswered: new handshake");
		dchan_connect(dc, &dc->dc_io.dst, now);
	}
	dchan_tick(dc, now, dchan_probe_ms((unsigned)(se->se_dead_ms / 1000)));
}

enum sess_tick sess_tick(struct sess *se, uint64_t now)
{
	bool on;

	sess_dtls_tick(se, now);
	if ((on = sess_on_dtls(se)) != se->se_on_dtls) {
		se->se_on_dtls = on;
		se->se_n.sc_switches++;
		se->se_cb->event(se->se_arg, on ? SESS_ON_DTLS : SESS_ON_TLS,
		    on ? "DTLS answers" : "DTLS silent");
	}
	/* Any bytes on the stream are life, a whole frame or not: a busy peer
	 * whose next 16 KiB record is still arriving is not dead. */
	if (se->se_st.st_rx_at > se->se_last_rx)
		se->se_last_rx = se->se_st.st_rx_at;
	if (now - se->se_last_rx >= se->se_dead_ms)
		return SESS_DEAD;
	if (now - se->se_last_tx >= se->se_keepalive_ms)
		sess_send_control(se, FRAME_KEEPALIVE, NULL, 0);
	return SESS_ALIVE;
}

void sess_set_timers(struct sess *se, unsigned keepalive_s, unsigned dead_s)
{
	se->se_keepalive_ms = (uint64_t)keepalive_s * 1000;
	se->se_dead_ms = (uint64_t)dead_s * 1000;
	se->se_window_ms = dchan_window_ms(dead_s);
	if (se->se_dc_on && !se->se_client)
		se->se_dc.dc_window = se->se_window_ms;
}

void sess_set_sink(struct sess *se, sess_sink_fn *fn, void *arg)
{
	se->se_sink = fn;
	se->se_sink_arg = arg;
}

/* ---- the stream's callbacks, and the end ---- */

static int sess_on_established(void *arg)
{
	struct sess *se = arg;

	return se->se_cb->established(se->se_arg);
}

static void sess_on_failed(void *arg, const char *reason, int err)
{
	struct sess *se = arg;

	se->se_cb->failed(se->se_arg, reason, err);
}

static void sess_on_closed(void *arg)
{
	struct sess *se = arg;

	sess_unlink_dirty(se);
	sess_dtls_stop(se);
	se->se_cb->closed(se->se_arg);
}

static const struct stream_cb sess_stream_cb = {
	.established = sess_on_established,
	.frame = sess_on_frame,
	.failed = sess_on_failed,
	.closed = sess_on_closed,
};

int sess_init(struct sess *se, uv_loop_t *loop, struct sess_batch *batch,
    int fd, SSL *ssl, bool client, bool tls_data, const struct sess_cb *cb,
    void *arg)
{
	memset(se, 0, sizeof(*se));
	se->se_loop = loop;
	se->se_batch = batch;
	se->se_client = client;
	se->se_tls_data = tls_data;
	se->se_cb = cb;
	se->se_arg = arg;
	se->se_last_rx = se->se_last_tx = uv_now(loop);
	sess_set_timers(se, 10, 30);		/* SPEC's defaults until told */
	return stream_init(&se->se_st, loop, fd, ssl, &sess_stream_cb, se);
}

int sess_say_and_close(struct sess *se, uint8_t type, const char *text)
{
	int err;

	se->se_sink = NULL;
	if ((err = stream_queue(&se->se_st, type, text, strlen(text))) < 0)
		return err;
	stream_linger(&se->se_st);
	return 0;
}

void sess_close(struct sess *se)
{
	se->se_sink = NULL;
	stream_close(&se->se_st);
}

bool sess_closing(const struct sess *se)
{
	return se->se_st.st_closing;
}

bool sess_up(const struct sess *se)
{
	return se->se_st.st_up;
}

SSL *sess_ssl(const struct sess *se)
{
	return se->se_st.st_ssl;
}

void sess_counts(const struct sess *se, struct sess_counts *out)
{
	*out = se->se_n;
	out->sc_bad_frames += se->se_st.st_bad_frames;
	if (se->se_dc_on)
		out->sc_dtls_bad += se->se_dc.dc_dropped;
}

void sess_counts_add(struct sess_counts *t, const struct sess_counts *n)
{
	t->sc_rx_bytes += n->sc_rx_bytes;
	t->sc_tx_bytes += n->sc_tx_bytes;
	t->sc_rx_pkts += n->sc_rx_pkts;
	t->sc_tx_pkts += n->sc_tx_pkts;
	t->sc_tx_dropped += n->sc_tx_dropped;
	t->sc_switches += n->sc_switches;
	t->sc_bad_frames += n->sc_bad_frames;
	t->sc_dtls_bad += n->sc_dtls_bad;
	t->sc_gso_tx += n->sc_gso_tx;
	t->sc_gso_rx += n->sc_gso_rx;
	t->sc_gso_bad += n->sc_gso_bad;
}
