/* sess.h - one transport session, the same at both ends: the TLS stream it
 * starts on and, once the server offers it, the DTLS channel beside it. The
 * session decides per packet which of the two carries data (DTLS while it
 * answers, else TLS), counts the switches and says why, queues packets and
 * flushes them once per loop turn in a batch with the other sessions of
 * its loop, keeps the stream alive with keepalives, says when the peer has
 * gone silent, and counts what it moved and dropped. The server and the
 * client keep only their policy (admission, addresses, routes, reconnects)
 * and hand packets in and take them out:
 *
 *   sess_send(pkt)  -> DTLS record via the session's udp_tx, or a DATA frame
 *   stream / sess_datagram_in -> the sink the owner set (sess_set_sink)
 *
 * Life cycle: sess_init (takes the socket and SSL) -> established ->
 * sess_close or sess_say_and_close -> the closed callback, after which the
 * owner may free the memory holding the session. */
#ifndef VPND_SESS_H
#define VPND_SESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "tunnel/dchan.h"
#include "tunnel/stream.h"

struct udp_tx;
struct sess;

/* Where received inner packets go: the owner's data plane. sp is NULL for
 * a plain packet, else the super-packet pkt is, its header checked
 * (vnet_check, segments within FRAME_DATA_MAX). */
typedef void sess_sink_fn(void *arg, const uint8_t *pkt, size_t len,
    const struct vnet_super *sp);

/* What the session reports as it happens (the owner logs it). */
enum sess_event {
	SESS_ON_DTLS,		/* data moved to DTLS (why: the reason) */
	SESS_ON_TLS,		/* data moved to TLS */
	SESS_DTLS_UP,		/* the DTLS handshake finished */
	SESS_DTLS_DOWN,		/* the DTLS channel failed or starts over */
	SESS_ROAMED,		/* an authenticated record came from a new
				 * address: sess_dtls_peer() says it */
};

struct sess_cb {
	/* TLS handshake done. Return < 0 to have the session closed. */
	int  (*established)(void *arg);
	/* A control frame (CONFIG, DENY, BYE, DTLS, or an unknown one the
	 * stream kept); payload valid until return. Return < 0 to stop
	 * reading (the callee has closed or will close). */
	int  (*control)(void *arg, const struct frame *f);
	void (*event)(void *arg, enum sess_event ev, const char *why);
	/* The stream failed or the peer closed; the owner must close. */
	void (*failed)(void *arg, const char *reason, int err);
	/* All handles closed: the session's memory may be freed. */
	void (*closed)(void *arg);
};

/* The owner's end of a loop turn: write its TUN and UDP batches and call
 * sess_batch_flush. */
typedef void sess_flush_fn(void *arg);

/* Flushed together (one per loop): sess_batch_start runs the owner's flush
 * twice per loop turn, after the I/O callbacks and again after the timers,
 * just before the loop blocks; the scratch is where the loop's sessions cut
 * super-packets into segments. */
struct sess_batch {
	struct sess   *sb_head;
	uv_check_t     sb_check;		/* after the I/O callbacks */
	uv_prepare_t   sb_prepare;		/* after the timers, before polling */
	sess_flush_fn *sb_flush;
	void          *sb_flush_arg;
	bool           sb_started;
	uint8_t        sb_scratch[VNET_PKT_MAX];
};

/* What a session moved and dropped. */
struct sess_counts {
	uint64_t sc_rx_bytes, sc_tx_bytes, sc_rx_pkts, sc_tx_pkts;
	uint64_t sc_tx_dropped;		/* queue full, or no transport */
	uint64_t sc_switches;		/* data changed transport */
	uint64_t sc_bad_frames;		/* TLS: unknown frame types skipped */
	uint64_t sc_dtls_bad;		/* DTLS: records that did not authenticate */
	uint64_t sc_gso_tx, sc_gso_rx;	/* super-packets sent, received whole */
	uint64_t sc_gso_bad;		/* received with a header that failed */
};

struct sess {
	struct stream      se_st;
	struct dchan       se_dc;
	bool               se_dc_on;		/* channel set up (offered/accepted) */
	bool               se_on_dtls;		/* transport last reported */
	bool               se_client;
	bool               se_tls_data;		/* data may use TLS ("dtls": no) */
	bool               se_dirty;		/* in the batch */
	bool               se_gso_peer;		/* the peer takes GSO frames */
	struct sess       *se_dirty_next;
	struct sess_batch *se_batch;
	uv_loop_t         *se_loop;
	struct udp_tx     *se_udp;		/* where DTLS datagrams go */
	struct udp_tx     *se_udp_in;		/* the socket being read */
	sess_sink_fn      *se_sink;		/* NULL: received data dropped */
	void              *se_sink_arg;
	const struct sess_cb *se_cb;
	void              *se_arg;
	uint64_t           se_keepalive_ms, se_dead_ms, se_window_ms;
	uint64_t           se_last_rx, se_last_tx;	/* uv_now() ms */
	uint64_t           se_dc_retry;		/* client: next DTLS attempt */
	struct sess_counts se_n;
};

/* Start the TLS handshake on fd with ssl (takes ownership of both, also on
 * failure: then -errno and the closed callback never runs). client: probe
 * and retry DTLS, as the client end does; tls_data false keeps data off
 * TLS (transport = "dtls"). */
int  sess_init(struct sess *se, uv_loop_t *loop, struct sess_batch *batch,
               int fd, SSL *ssl, bool client, bool tls_data,
               const struct sess_cb *cb, void *arg);
/* keepalive and dead_peer_timeout, seconds (the client takes the server's). */
void sess_set_timers(struct sess *se, unsigned keepalive_s, unsigned dead_s);
/* Received DATA goes to fn(arg, ...) from now on; NULL drops it. */
void sess_set_sink(struct sess *se, sess_sink_fn *fn, void *arg);

/* ---- the data path ---- */

/* Send one inner packet on the current transport. 0, or -ENOBUFS (queue
 * full) / -ENOTCONN (no transport may carry it), counted as dropped. */
int  sess_send(struct sess *se, const uint8_t *pkt, size_t len);
/* Send a checked super-packet: one GSO frame while data goes on TLS and
 * the peer takes them, else cut into segments for sess_send. 0 or the
 * first segment's error, counted as for sess_send. */
int  sess_send_super(struct sess *se, const struct vnet_super *sp);
/* This end takes GSO frames from now on (grows the receive buffer); the
 * owner then tells the peer (CONFIG's flag, or a CAPS frame). 0 or -ENOMEM. */
int  sess_gso_accept(struct sess *se);
/* The peer said it takes GSO frames. */
void sess_gso_peer(struct sess *se, bool on);
/* A control frame on the TLS stream (CONFIG, ...). 0 or -errno. */
int  sess_send_control(struct sess *se, uint8_t type, const void *p, size_t len);
/* One datagram (with its channel header) that came in on the UDP socket
 * whose batch is via, from from. scratch holds one decrypted message. */
void sess_datagram_in(struct sess *se, struct udp_tx *via, const uint8_t *dg,
                      size_t len, const struct sockaddr_storage *from,
                      uint8_t *scratch, size_t scratch_len);
/* Write every session's queued frames (from the owner's flush, after the
 * UDP batches are flushed or before: they are independent). */
void sess_batch_flush(struct sess_batch *b);
/* Run fn(arg) on loop twice per turn: after the I/O callbacks, so what a
 * packet caused goes out in the turn that read it, and before the loop
 * blocks, so what a timer queued (keepalives, DTLS retransmits and probes)
 * goes out now rather than after the next wakeup, up to a tick later.
 * sess_batch_stop closes both handles (the batch's memory must outlive
 * the loop's close callbacks; idempotent). */
void sess_batch_start(struct sess_batch *b, uv_loop_t *loop, sess_flush_fn *fn, void *arg);
void sess_batch_stop(struct sess_batch *b);

/* ---- the DTLS channel ---- */

/* Server: bind a DTLS channel with id to this session and offer it to the
 * client (a DTLS frame). tun_mtu sizes the link MTU. 0 or -errno. */
int  sess_dtls_offer(struct sess *se, struct dtls_ctx *ctx,
                     const uint8_t id[DTLS_ID_LEN], int tun_mtu);
/* Client: take the offer id and start the handshake to dst, sending on tx. */
int  sess_dtls_start(struct sess *se, struct dtls_ctx *ctx,
                     const uint8_t id[DTLS_ID_LEN], int tun_mtu,
                     struct udp_tx *tx, const struct sockaddr_storage *dst);
/* Drop the channel (data stays on TLS). */
void sess_dtls_stop(struct sess *se);
bool sess_on_dtls(const struct sess *se);
const uint8_t *sess_dtls_id(const struct sess *se);		/* NULL if none */
const struct sockaddr_storage *sess_dtls_peer(const struct sess *se);

/* ---- timers and the end ---- */

enum sess_tick { SESS_ALIVE, SESS_DEAD };
/* Once per tick: DTLS retransmits, probes and retries, transport changes,
 * keepalives; SESS_DEAD when nothing came within dead_peer_timeout (the
 * owner closes the session, saying so). */
enum sess_tick sess_tick(struct sess *se, uint64_t now);

/* Queue a last frame (BYE or DENY with text), then close once it is
 * written (the owner bounds the wait). -ENOTCONN if it could not be queued:
 * call sess_close. */
int  sess_say_and_close(struct sess *se, uint8_t type, const char *text);
void sess_close(struct sess *se);		/* now; idempotent */
bool sess_closing(const struct sess *se);
bool sess_up(const struct sess *se);		/* TLS handshake done */
SSL *sess_ssl(const struct sess *se);		/* the TLS session */
/* Counters, the stream's and channel's included. */
void sess_counts(const struct sess *se, struct sess_counts *out);
void sess_counts_add(struct sess_counts *total, const struct sess_counts *n);

#endif
