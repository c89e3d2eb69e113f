/* stream.h - a TLS stream carrying frames, driven by a libuv poll handle on
 * the socket. Shared by server sessions and the client. Outgoing frames are
 * appended to a bounded buffer and written in as few TLS records as fit, so
 * a batch of packets costs one SSL_write per peer, not one per packet.
 *
 * Life cycle: stream_init (takes ownership of fd and ssl) -> handshake ->
 * frames -> stream_close; the close callback runs once the poll handle is
 * closed, after which the owner may free the memory holding the stream. */
#ifndef VPND_STREAM_H
#define VPND_STREAM_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "tunnel/frame.h"

#define STREAM_RX_CAP (FRAME_MAX + 16384)	/* until stream_rx_gso */
#define STREAM_RX_GSO (FRAME_HDR + FRAME_GSO_MAX + 16384)
#define STREAM_TX_CAP (512 * 1024)	/* queued DATA, then packets drop */
#define STREAM_CTL_RESERVE (16 * (FRAME_HDR + FRAME_CTRL_MAX))	/* and control frames */
#define STREAM_READ_BUDGET 32	/* TLS records read per wakeup */

struct stream;

struct stream_cb {
	/* Handshake finished. Return < 0 to have the stream closed. */
	int  (*established)(void *arg);
	/* One frame; its payload is valid until the callback returns. Return
	 * < 0 to stop reading (the callee has closed or will close). */
	int  (*frame)(void *arg, const struct frame *f);
	/* The stream failed or the peer closed: reason is a short text, err
	 * -errno or 0 for an orderly close. The owner must call stream_close. */
	void (*failed)(void *arg, const char *reason, int err);
	/* The stream's handles are closed; its memory may now be freed. */
	void (*closed)(void *arg);
};

struct stream {
	int        st_fd;
	SSL       *st_ssl;
	uv_poll_t  st_poll;
	int        st_events;
	bool       st_up;		/* handshake done */
	bool       st_closing;
	bool       st_linger;		/* close once tx has drained */
	bool       st_read_wants_write;
	bool       st_write_wants_read;
	uint8_t   *st_rx;
	size_t     st_rx_len, st_rx_cap;
	uint8_t   *st_tx;
	size_t     st_tx_off, st_tx_len, st_tx_cap;
	const struct stream_cb *st_cb;
	void      *st_arg;
	uint64_t   st_rx_at;		/* uv_now() ms: bytes last came in */
	uint64_t   st_drops_full;	/* frames dropped: tx buffer full */
	uint64_t   st_bad_frames;	/* unknown types skipped */
};

/* Start the handshake on fd (connected, non-blocking) with ssl. Takes
 * ownership of both, also on failure (then returns -errno and closes fd and
 * frees ssl; the closed callback does not run). */
int  stream_init(struct stream *st, uv_loop_t *loop, int fd, SSL *ssl,
                 const struct stream_cb *cb, void *arg);
/* Take frames as long as a GSO frame from now on (the receive buffer grows
 * to STREAM_RX_GSO); a frame longer than the buffer fails the stream as
 * oversized. 0 or -ENOMEM. */
int  stream_rx_gso(struct stream *st);
/* Append a frame; -ENOBUFS (counted) if the tx buffer cannot take it, or
 * -ENOTCONN when closing. Call stream_flush after a batch. */
int  stream_queue(struct stream *st, uint8_t type, const void *payload, size_t len);
/* The same with the payload in two parts (a header and a packet). */
int  stream_queue2(struct stream *st, uint8_t type, const void *a, size_t alen,
                   const void *b, size_t blen);
/* Write what is queued, as far as the socket takes it. */
void stream_flush(struct stream *st);
/* Queue BYE-like final frames first, then call with linger = true to close
 * once they are written (or at stream_close). */
void stream_linger(struct stream *st);
/* Close now: best-effort close_notify, then the closed callback. Safe to
 * call twice. */
void stream_close(struct stream *st);
size_t stream_tx_pending(const struct stream *st);

#endif
