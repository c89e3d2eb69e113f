/* dchan.c - one session's DTLS channel: handshake, records in and out,
 * probes, roaming. The server creates the DTLS SSL when a ClientHello for
 * the channel arrives (a new client random starts over; a retransmitted one
 * goes to the handshake in progress); the client creates it on connect. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "tunnel/dchan.h"

int dchan_init(struct dchan *dc, struct dtls_ctx *ctx, bool server, SSL *tls,
    const uint8_t id[DTLS_ID_LEN], int link_mtu, const struct dtls_out *out,
    const struct dchan_cb *cb, void *arg)
{
	memset(dc, 0, sizeof(*dc));
	dc->dc_ctx = ctx;
	dc->dc_server = server;
	dc->dc_cb = cb;
	dc->dc_arg = arg;
	dc->dc_io.out = out;
	dc->dc_io.arg = arg;
	dc->dc_io.link_mtu = link_mtu;
	memcpy(dc->dc_io.id, id, DTLS_ID_LEN);
	return dtls_derive_psk(tls, &dc->dc_io);
}

void dchan_reset(struct dchan *dc)
{
	SSL_free(dc->dc_ssl);
	dc->dc_ssl = NULL;
	drec_free(&dc->dc_rec);
	dc->dc_rec_peer = false;
	dc->dc_state = DC_IDLE;
	dc->dc_last_rx = 0;
}

void dchan_free(struct dchan *dc)
{
	dchan_reset(dc);
	OPENSSL_cleanse(dc->dc_io.psk, sizeof(dc->dc_io.psk));
}

static void dchan_fail(struct dchan *dc, const char *why)
{
	bool was_up = dc->dc_state == DC_UP;

	ERR_clear_error();
	dchan_reset(dc);
	if (was_up || dc->dc_server == false)
		dc->dc_cb->state(dc->dc_arg, false, why);
}

static int dchan_new_ssl(struct dchan *dc, uint64_t now)
{
	dchan_reset(dc);		/* the old SSL and its record keys */
	if ((dc->dc_ssl = dtls_ssl_new(dc->dc_ctx, &dc->dc_io)) == NULL)
		return -ENOMEM;
	dc->dc_state = DC_HANDSHAKE;
	dc->dc_started = now;
	dc->dc_last_rx = 0;
	return 0;
}

/* vpnd records unless VPND_DTLS_RECORDS=0 (DTLS records only, as an
 * older vpnd sends them). */
static bool records_wanted(void)
{
	const char *e = getenv("VPND_DTLS_RECORDS");

	return e == NULL || strcmp(e, "0") != 0;
}

/* A PROBE or PROBE_ACK: says whether this end takes vpnd records. */
static void dchan_probe(struct dchan *dc, uint8_t type)
{
	uint8_t flags = dc->dc_rec.dr_on ? DC_F_RECORDS : 0;

	dchan_send(dc, type, &flags, 1);
}

/* Drive the handshake; on completion both ends export the keys for vpnd
 * records and the client probes at once, so both ends have heard an
 * authenticated record, and know whether the other takes vpnd records,
 * before either sends data. */
static void dchan_handshake(struct dchan *dc, uint64_t now)
{
	int r = SSL_do_handshake(dc->dc_ssl), e;

	if (r == 1) {
		dc->dc_state = DC_UP;
		if (records_wanted())
			drec_init(&dc->dc_rec, dc->dc_ssl, dc->dc_server);	/* else DTLS records */
		dc->dc_cb->state(dc->dc_arg, true, NULL);
		if (!dc->dc_server) {
			dc->dc_last_probe = now;
			dchan_probe(dc, DC_PROBE);
		}
		return;
	}
	e = SSL_get_error(dc->dc_ssl, r);
	if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
		dchan_fail(dc, "DTLS handshake failed");
}

int dchan_connect(struct dchan *dc, const struct sockaddr_storage *dst, uint64_t now)
{
	int err;

	dc->dc_io.dst = *dst;
	if ((err = dchan_new_ssl(dc, now)) < 0)
		return err;
	dchan_handshake(dc, now);
	return 0;
}

/* Family, address and port: the rest of a sockaddr_storage is padding that
 * recvmmsg need not have cleared. */
static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	const struct sockaddr_in *a4 = (const void *)a, *b4 = (const void *)b;
	const struct sockaddr_in6 *a6 = (const void *)a, *b6 = (const void *)b;

	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return a4->sin_port == b4->sin_port && a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	return a6->sin6_port == b6->sin6_port &&
	    memcmp(&a6->sin6_addr, &b6->sin6_addr, sizeof(a6->sin6_addr)) == 0;
}

/* An authenticated message of either kind of record. roam: it may move the
 * endpoint (a vpnd record only if it is the newest: one held back and
 * replayed from elsewhere must not; OpenSSL's window for DTLS records is
 * 64 deep and says nothing). */
static void dchan_deliver(struct dchan *dc, uint8_t type, const uint8_t *p, size_t n,
    const struct sockaddr_storage *from, uint64_t now, bool roam)
{
	dc->dc_last_rx = now;
	if (roam && !same_addr(from, &dc->dc_io.dst)) {
		dc->dc_io.dst = *from;	/* authenticated: follow the peer */
		dc->dc_cb->roamed(dc->dc_arg, from);
	}
	if (type == DC_PROBE || type == DC_PROBE_ACK)	/* an older peer's is empty */
		dc->dc_rec_peer = dc->dc_rec.dr_on && n > 0 && (p[0] & DC_F_RECORDS);
	if (type == DC_PROBE && dc->dc_server)
		dchan_probe(dc, DC_PROBE_ACK);
	else if (type == DC_DATA)
		dc->dc_rx_pkts++;
	dc->dc_cb->msg(dc->dc_arg, type, p, n);
}

/* Read every record of the fed datagram. A record that does not
 * authenticate (forged, replayed, or for an old session) is dropped by
 * OpenSSL without a word; it counts here. */
static void dchan_read(struct dchan *dc, const struct sockaddr_storage *from,
    uint64_t now, uint8_t *buf, size_t cap)
{
	bool any = false;
	int n, e;

	for (;;) {
		n = SSL_read(dc->dc_ssl, buf, (int)cap);
		if (n > 0) {
			any = true;
			dchan_deliver(dc, buf[0], buf + 1, (size_t)n - 1, from, now, true);
			if (dc->dc_ssl == NULL)
				return;
			continue;
		}
		e = SSL_get_error(dc->dc_ssl, n);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			if (!any)
				dc->dc_dropped++;
			ERR_clear_error();
			return;
		}
		dchan_fail(dc, e == SSL_ERROR_ZERO_RETURN ? "DTLS closed by peer" :
		    "DTLS error");
		return;
	}
}

/* A vpnd record: whole, one message. */
static void dchan_open(struct dchan *dc, const uint8_t *dg, size_t len,
    const struct sockaddr_storage *from, uint64_t now, uint8_t *buf, size_t cap)
{
	uint8_t type;
	bool newest;
	int n;

	if (dc->dc_state != DC_UP ||
	    (n = drec_open(&dc->dc_rec, dg, len, &type, &newest, buf, cap)) < 0) {
		dc->dc_dropped++;
		return;
	}
	dchan_deliver(dc, type, buf, (size_t)n, from, now, newest);
}

void dchan_input(struct dchan *dc, const uint8_t *dg, size_t len,
    const struct sockaddr_storage *from, uint64_t now, uint8_t *scratch,
    size_t scratch_len)
{
	const uint8_t *random, *rec = dg + DTLS_HDR;
	bool was_up = dc->dc_state == DC_UP;

	dc->dc_now = now;
	if (dg[0] == DTLS_MAGIC_REC) {
		dchan_open(dc, dg, len, from, now, scratch, scratch_len);
		return;
	}
	len -= DTLS_HDR;
	if (dc->dc_server && dtls_is_client_hello(rec, len, &random) &&
	    (dc->dc_ssl == NULL || memcmp(random, dc->dc_hello, 32) != 0) &&
	    !(dc->dc_window && dchan_usable(dc, now, dc->dc_window))) {
		/* A new handshake: the client starts over (for instance after
		 * it lost its state). The cookie round keeps it stateless. The
		 * id is on the wire, so while the channel is live a ClientHello
		 * (anyone could send one) does not replace it. */
		memcpy(dc->dc_hello, random, 32);
		dc->dc_io.dst = *from;
		if (dchan_new_ssl(dc, now) < 0)
			return;
	}
	if (dc->dc_ssl == NULL) {
		dc->dc_dropped++;
		return;
	}
	dc->dc_io.src = *from;
	dc->dc_io.in = rec;
	dc->dc_io.in_len = len;
	if (dc->dc_state == DC_HANDSHAKE) {
		if (dc->dc_server)
			dc->dc_io.dst = *from;	/* answer where the handshake is */
		dchan_handshake(dc, now);
	}
	/* unless the handshake just took the whole datagram */
	if (dc->dc_state == DC_UP && (was_up || SSL_has_pending(dc->dc_ssl)))
		dchan_read(dc, from, now, scratch, scratch_len);
	dc->dc_io.in = NULL;
	dc->dc_io.in_len = 0;
}

/* Seal one vpnd record into the next datagram of the batch. */
static int dchan_seal(struct dchan *dc, uint8_t type, const void *p, size_t len)
{
	struct dtls_io *io = &dc->dc_io;
	size_t cap = 0;
	uint8_t *dg;
	int n;

	if ((dg = io->out->slot(io->arg, &cap)) == NULL)
		return -ENOBUFS;
	if ((n = drec_seal(&dc->dc_rec, io->id, type, p, len, dg, cap)) < 0)
		return n;
	io->out->push(io->arg, &io->dst, (size_t)n);
	return 0;
}

/* One DTLS record, through OpenSSL and the datagram BIO. */
static int dchan_write(struct dchan *dc, uint8_t type, const void *p, size_t len)
{
	uint8_t buf[UDP_MSG_MAX];

	buf[0] = type;
	if (len > 0)
		memcpy(buf + 1, p, len);
	if (SSL_write(dc->dc_ssl, buf, (int)(len + 1)) <= 0) {
		ERR_clear_error();
		return -EIO;
	}
	return 0;
}

int dchan_send(struct dchan *dc, uint8_t type, const void *p, size_t len)
{
	int err;

	if (dc->dc_state != DC_UP)
		return -ENOTCONN;
	if (len + 1 > UDP_MSG_MAX)
		return -EMSGSIZE;
	if ((err = dc->dc_rec_peer ? dchan_seal(dc, type, p, len) :
	    dchan_write(dc, type, p, len)) < 0)
		return err;
	if (type == DC_DATA)
		dc->dc_tx_pkts++;
	dc->dc_last_tx = dc->dc_now;
	return 0;
}

void dchan_tick(struct dchan *dc, uint64_t now, uint64_t probe_ms)
{
	uint64_t every = probe_ms;

	if (dc->dc_state == DC_HANDSHAKE) {
		if (DTLSv1_handle_timeout(dc->dc_ssl) < 0)
			dchan_fail(dc, "DTLS handshake timed out");
		return;
	}
	dc->dc_now = now;
	/* Nothing heard since the last probe: it or its answer was lost, so
	 * ask again sooner. A window holds three probes; on a path that loses
	 * 2%, or drops in bursts when busy, losing them all made a working
	 * channel look silent. */
	if (dc->dc_last_probe > dc->dc_last_rx)
		every = probe_ms / 3;
	if (dc->dc_state == DC_UP && !dc->dc_server &&
	    (now - dc->dc_last_rx >= probe_ms || now - dc->dc_last_tx >= probe_ms) &&
	    now - dc->dc_last_probe >= every) {
		dc->dc_last_probe = now;
		dchan_probe(dc, DC_PROBE);
	}
}
