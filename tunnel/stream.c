/* stream.c - frames over TLS on a non-blocking socket, driven by uv_poll.
 * OpenSSL does the socket I/O itself (tls_ssl_new's socket BIOs), so no
 * bytes are copied between libuv and BIOs; reads take a per-wakeup budget
 * of records and writes go out from one growing buffer, batching many
 * frames per record, and the records of one flush leave in few write()s
 * (tls_flush). */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>

#include "crypto/tls.h"
#include "tunnel/stream.h"

#define TX_INITIAL (32 * 1024)

static void on_stream_poll(uv_poll_t *h, int status, int events);

static void stream_fail(struct stream *st, const char *what, int err)
{
	if (!st->st_closing)
		st->st_cb->failed(st->st_arg, what, err);
}

/* Translate a failed SSL_ call into WANT_* flags or a failure. Returns 1
 * for "try again later", 0 after reporting a failure. */
static int ssl_status(struct stream *st, int ret, const char *op, bool *wants_other)
{
	char buf[200], msg[256];
	int e = SSL_get_error(st->st_ssl, ret);

	switch (e) {
	case SSL_ERROR_WANT_READ:
		if (wants_other != NULL && op[0] == 'w')
			*wants_other = true;
		return 1;
	case SSL_ERROR_WANT_WRITE:
		if (wants_other != NULL && op[0] == 'r')
			*wants_other = true;
		return 1;
	case SSL_ERROR_ZERO_RETURN:
		stream_fail(st, "closed by peer", 0);
		return 0;
	case SSL_ERROR_SYSCALL:
		if (errno == 0 || ERR_peek_error() == 0) {
			snprintf(msg, sizeof(msg), "%s: connection %s", op,
			    errno ? strerror(errno) : "closed");
			stream_fail(st, msg, errno ? -errno : -ECONNRESET);
			return 0;
		}
		/* FALLTHROUGH */
	default:
		snprintf(msg, sizeof(msg), "%s: %s", op, tls_errstr(buf, sizeof(buf)));
		stream_fail(st, msg, -EPROTO);
		return 0;
	}
}

static void stream_update_events(struct stream *st)
{
	int ev = UV_READABLE;

	if (st->st_closing)
		return;
	if (st->st_tx_len > st->st_tx_off || st->st_read_wants_write ||
	    tls_wpending(st->st_ssl))
		ev |= UV_WRITABLE;
	if (!st->st_up)
		ev = st->st_events ? st->st_events : UV_READABLE;
	if (ev != st->st_events || !uv_is_active((uv_handle_t *)&st->st_poll)) {
		st->st_events = ev;
		uv_poll_start(&st->st_poll, ev, on_stream_poll);
	}
}

/* Deliver every complete frame in the rx buffer, then keep the remainder.
 * Returns 0, or -1 when the stream is being closed. */
static int stream_deliver(struct stream *st)
{
	struct frame f;
	size_t off = 0;
	bool stop = false;
	int n = 0;

	while (!stop && (n = frame_parse(st->st_rx + off, st->st_rx_len - off, &f)) > 0) {
		off += (size_t)n;
		if (f.f_type < FRAME_DATA || f.f_type > FRAME_LAST) {
			st->st_bad_frames++;
			continue;
		}
		stop = st->st_cb->frame(st->st_arg, &f) < 0 || st->st_closing;
	}
	if (!stop && n == 0 && off == 0 && st->st_rx_len == st->st_rx_cap)
		n = -EMSGSIZE;	/* a frame longer than this end takes */
	if (!stop && n < 0) {
		stream_fail(st, n == -EMSGSIZE ? "oversized frame" : "malformed frame", n);
		return -1;
	}
	if (off > 0) {		/* also when stopping: never deliver twice */
		memmove(st->st_rx, st->st_rx + off, st->st_rx_len - off);
		st->st_rx_len -= off;
	}
	return stop ? -1 : 0;
}

static void stream_read(struct stream *st)
{
	int i, n;

	st->st_read_wants_write = false;
	for (i = 0; i < STREAM_READ_BUDGET || SSL_has_pending(st->st_ssl); i++) {
		n = SSL_read(st->st_ssl, st->st_rx + st->st_rx_len,
		    (int)(st->st_rx_cap - st->st_rx_len));
		if (n <= 0) {
			ssl_status(st, n, "read", &st->st_read_wants_write);
			return;
		}
		st->st_rx_len += (size_t)n;
		st->st_rx_at = uv_now(st->st_poll.loop);	/* bytes are life */
		if (stream_deliver(st) < 0)
			return;
	}
}

void stream_flush(struct stream *st)
{
	int n;

	if (st->st_closing || !st->st_up)
		return;
	st->st_write_wants_read = false;
	while (st->st_tx_off < st->st_tx_len) {
		n = SSL_write(st->st_ssl, st->st_tx + st->st_tx_off,
		    (int)(st->st_tx_len - st->st_tx_off));
		if (n <= 0) {
			if (ssl_status(st, n, "write", &st->st_write_wants_read))
				break;
			return;
		}
		st->st_tx_off += (size_t)n;
	}
	/* The records SSL_write made wait in its write buffer: out now, in
	 * one write(), or when the socket is writable again. */
	if ((n = tls_flush(st->st_ssl)) < 0 && n != -EAGAIN) {
		stream_fail(st, "write: connection failed", n);
		return;
	}
	if (st->st_tx_off == st->st_tx_len) {
		st->st_tx_off = st->st_tx_len = 0;
		if (st->st_linger && n == 0) {
			stream_close(st);
			return;
		}
	}
	stream_update_events(st);
}

static void stream_handshake(struct stream *st)
{
	int r = SSL_do_handshake(st->st_ssl);

	if (r != 1) {
		if (ssl_status(st, r, "handshake", NULL)) {
			st->st_events = UV_READABLE |
			    (SSL_want_write(st->st_ssl) ? UV_WRITABLE : 0);
			uv_poll_start(&st->st_poll, st->st_events, on_stream_poll);
		}
		return;
	}
	st->st_up = true;
	st->st_events = 0;
	if (st->st_cb->established(st->st_arg) < 0) {
		stream_close(st);	/* as stream.h promises; idempotent */
		return;
	}
	if (st->st_closing)
		return;
	stream_read(st);	/* data may have come with the handshake */
	if (!st->st_closing)
		stream_flush(st);
}

static void on_stream_poll(uv_poll_t *h, int status, int events)
{
	struct stream *st = h->data;

	if (st->st_closing)
		return;
	if (status < 0) {	/* libuv says EBADF for POLLERR: ask the socket */
		int soerr = 0;
		socklen_t len = sizeof(soerr);

		if (getsockopt(st->st_fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 && soerr)
			status = -soerr;
		stream_fail(st, strerror(-status), status);
		return;
	}
	if (!st->st_up) {
		stream_handshake(st);
		return;
	}
	if ((events & UV_WRITABLE) || st->st_write_wants_read)
		stream_flush(st);
	if (!st->st_closing && ((events & UV_READABLE) || st->st_read_wants_write))
		stream_read(st);
	if (!st->st_closing && tls_wpending(st->st_ssl))
		stream_flush(st);	/* what reading made OpenSSL write (KeyUpdate) */
	if (!st->st_closing)
		stream_update_events(st);
}

int stream_init(struct stream *st, uv_loop_t *loop, int fd, SSL *ssl,
    const struct stream_cb *cb, void *arg)
{
	int err, one = 1;

	memset(st, 0, sizeof(*st));
	/* Frames are batched per loop turn already (one SSL_write per turn):
	 * Nagle would only hold the turn's last short record, a ping or a
	 * keepalive, until the peer's delayed ACK. Not TCP (a test's
	 * socketpair): nothing to turn off. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	st->st_fd = fd;
	st->st_ssl = ssl;
	st->st_cb = cb;
	st->st_arg = arg;
	st->st_rx_cap = STREAM_RX_CAP;
	if ((st->st_rx = malloc(STREAM_RX_CAP)) == NULL)
		err = -ENOMEM;
	else if ((err = uv_poll_init(loop, &st->st_poll, fd)) == 0) {
		st->st_poll.data = st;
		st->st_events = UV_READABLE | UV_WRITABLE;
		SSL_set_read_ahead(ssl, 1);
		/* Fails only on bad arguments, which a valid fd is not. */
		err = uv_poll_start(&st->st_poll, st->st_events, on_stream_poll);
		assert(err == 0);
		return 0;
	}
	free(st->st_rx);
	SSL_free(ssl);
	close(fd);
	return err;
}

/* Room for need more bytes, the buffer holding at most limit. */
static int stream_grow(struct stream *st, size_t need, size_t limit)
{
	size_t cap = st->st_tx_cap ? st->st_tx_cap : TX_INITIAL;
	uint8_t *p;

	if (st->st_tx_off > 0 && st->st_tx_off >= st->st_tx_len / 2) {
		memmove(st->st_tx, st->st_tx + st->st_tx_off, st->st_tx_len - st->st_tx_off);
		st->st_tx_len -= st->st_tx_off;
		st->st_tx_off = 0;
		if (st->st_tx_len + need <= st->st_tx_cap)
			return 0;
	}
	while (cap < st->st_tx_len + need)
		cap *= 2;
	if (cap > limit && (cap = limit) < st->st_tx_len + need)
		return -ENOBUFS;
	if ((p = realloc(st->st_tx, cap)) == NULL)
		return -ENOBUFS;
	st->st_tx = p;
	st->st_tx_cap = cap;
	return 0;
}

int stream_rx_gso(struct stream *st)
{
	uint8_t *p;

	if (st->st_rx_cap >= STREAM_RX_GSO)
		return 0;
	if ((p = realloc(st->st_rx, STREAM_RX_GSO)) == NULL)
		return -ENOMEM;
	st->st_rx = p;
	st->st_rx_cap = STREAM_RX_GSO;
	return 0;
}

int stream_queue2(struct stream *st, uint8_t type, const void *a, size_t alen,
    const void *b, size_t blen)
{
	size_t need = FRAME_HDR + alen + blen;
	/* A control frame (keepalive, CONFIG, BYE, DENY) always finds room:
	 * a full data buffer drops packets, never the session's own words. */
	bool data = type == FRAME_DATA || type == FRAME_GSO;
	size_t limit = STREAM_TX_CAP + (data ? 0 : STREAM_CTL_RESERVE);

	if (st->st_closing || st->st_linger)
		return -ENOTCONN;
	if (st->st_tx_len + need > st->st_tx_cap && stream_grow(st, need, limit) < 0) {
		st->st_drops_full++;
		return -ENOBUFS;
	}
	frame_put_hdr(st->st_tx + st->st_tx_len, type, alen + blen);
	if (alen > 0)
		memcpy(st->st_tx + st->st_tx_len + FRAME_HDR, a, alen);
	if (blen > 0)
		memcpy(st->st_tx + st->st_tx_len + FRAME_HDR + alen, b, blen);
	st->st_tx_len += need;
	return 0;
}

int stream_queue(struct stream *st, uint8_t type, const void *payload, size_t len)
{
	return stream_queue2(st, type, payload, len, NULL, 0);
}

void stream_linger(struct stream *st)
{
	if (st->st_closing)
		return;
	st->st_linger = true;
	stream_flush(st);
}

size_t stream_tx_pending(const struct stream *st)
{
	return st->st_tx_len - st->st_tx_off;
}

static void on_stream_closed(uv_handle_t *h)
{
	struct stream *st = h->data;

	SSL_free(st->st_ssl);
	close(st->st_fd);
	free(st->st_rx);
	free(st->st_tx);
	st->st_ssl = NULL;
	st->st_rx = st->st_tx = NULL;
	st->st_cb->closed(st->st_arg);
}

void stream_close(struct stream *st)
{
	if (st->st_closing)
		return;
	st->st_closing = true;
	if (st->st_up) {
		SSL_shutdown(st->st_ssl);	/* best effort close_notify */
		tls_flush(st->st_ssl);
		ERR_clear_error();
	}
	uv_poll_stop(&st->st_poll);
	uv_close((uv_handle_t *)&st->st_poll, on_stream_closed);
}
