/* dchan.h - the DTLS data channel of one session, the second transport
 * beside the TLS stream. It carries small messages (a type byte and a
 * payload): DATA packets, and PROBE/PROBE_ACK that tell each end the path
 * still works. An end uses the channel for data only while it has heard an
 * authenticated record on it within the usability window (dead_peer_timeout
 * / 3); otherwise data goes on the TLS stream. The client probes when
 * either direction has been idle for a third of that window, the server
 * answers; a record that authenticates from a new
 * address moves the channel there (roaming).
 *
 * Messages travel in DTLS records until the peer's PROBE or PROBE_ACK says
 * it takes vpnd records (DC_F_RECORDS; crypto/drec.h) and this end has
 * their keys, then in those: one AEAD call each, sealed straight into the
 * send batch. Both kinds are accepted whenever the channel is up (vpnd
 * records only once this end has the keys). */
#ifndef VPND_DCHAN_H
#define VPND_DCHAN_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdint.h>

#include "crypto/drec.h"
#include "crypto/dtls.h"
#include "tunnel/frame.h"

#define UDP_MSG_MAX (FRAME_DATA_MAX + 1)	/* type byte + packet */

enum dc_msg { DC_DATA = 1, DC_PROBE = 2, DC_PROBE_ACK = 3 };
/* A PROBE's or PROBE_ACK's payload: one byte of flags. */
#define DC_F_RECORDS 0x1	/* the sender takes vpnd records */
enum dc_state { DC_IDLE, DC_HANDSHAKE, DC_UP };

struct dchan_cb {
	/* An authenticated message; payload valid until return. */
	void (*msg)(void *arg, uint8_t type, const uint8_t *p, size_t len);
	/* The handshake finished, or the channel failed (up = false). */
	void (*state)(void *arg, bool up, const char *why);
	/* An authenticated record came from a new address; it is now dst. */
	void (*roamed)(void *arg, const struct sockaddr_storage *from);
};

struct dchan {
	struct dtls_io   dc_io;
	struct dtls_ctx *dc_ctx;
	SSL             *dc_ssl;
	struct drec      dc_rec;		/* keys for vpnd records, once up */
	enum dc_state    dc_state;
	bool             dc_server;
	bool             dc_rec_peer;		/* the peer takes vpnd records */
	uint8_t          dc_hello[32];		/* server: random that began it */
	uint64_t         dc_last_rx;		/* ms of the last authenticated record */
	uint64_t         dc_last_tx;		/* ms of the last record sent */
	uint64_t         dc_now;		/* the latest time we were given */
	uint64_t         dc_last_probe;
	uint64_t         dc_window;		/* ms; a server keeps a live channel
						 * against a new ClientHello (0: off) */
	uint64_t         dc_started;		/* handshake start, ms */
	uint64_t         dc_dropped;		/* records that failed to authenticate */
	uint64_t         dc_rx_pkts, dc_tx_pkts;
	const struct dchan_cb *dc_cb;
	void            *dc_arg;
};

/* Set up (no SSL yet). id and the TLS session give the PSK; datagrams
 * go out through out (arg is passed to it and to cb). */
int  dchan_init(struct dchan *dc, struct dtls_ctx *ctx, bool server, SSL *tls,
                const uint8_t id[DTLS_ID_LEN], int link_mtu,
                const struct dtls_out *out, const struct dchan_cb *cb, void *arg);
/* Client: begin the handshake towards dst. 0 or -errno. */
int  dchan_connect(struct dchan *dc, const struct sockaddr_storage *dst, uint64_t now);
/* One received datagram, its header included (the caller has matched the
 * id), from `from`. scratch holds a decrypted message (at least
 * UDP_DGRAM_MAX bytes). */
void dchan_input(struct dchan *dc, const uint8_t *dg, size_t len,
                 const struct sockaddr_storage *from, uint64_t now,
                 uint8_t *scratch, size_t scratch_len);
/* Send one message; -ENOTCONN unless up, -EMSGSIZE if too large. */
int  dchan_send(struct dchan *dc, uint8_t type, const void *p, size_t len);
/* Timers: handshake retransmits; a client also probes an idle channel
 * every probe_ms. */
void dchan_tick(struct dchan *dc, uint64_t now, uint64_t probe_ms);
static inline bool dchan_usable(const struct dchan *dc, uint64_t now, uint64_t window_ms)
{
	return dc->dc_state == DC_UP && dc->dc_last_rx != 0 &&
	    now - dc->dc_last_rx < window_ms;
}
/* The usability window: SPEC says data leaves a silent DTLS channel within
 * dead_peer_timeout/3. Data moves at once (the choice is made per packet);
 * the window is a fifth shorter than the bound so that the tick that
 * reports the move (250 ms), late on a busy machine, still falls inside
 * it. The client probes three times per window. */
static inline uint64_t dchan_window_ms(unsigned dead_peer_timeout)
{
	return (uint64_t)dead_peer_timeout * 1000 / 3 * 8 / 10;
}

static inline uint64_t dchan_probe_ms(unsigned dead_peer_timeout)
{
	uint64_t ms = dchan_window_ms(dead_peer_timeout) / 3;

	return ms < 500 ? 500 : ms;
}

/* Drop the SSL (back to idle); dchan_init is not needed again. */
void dchan_reset(struct dchan *dc);
void dchan_free(struct dchan *dc);		/* wipes the PSK */

#endif
