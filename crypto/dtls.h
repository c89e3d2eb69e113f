/* dtls.h - DTLS 1.2 for the data channel, bound to the authenticated TLS
 * session: both ends derive a 32-byte PSK from the TLS 1.3 exporter with the
 * channel's 8-byte id as context, so only the two ends of that TLS session
 * can complete the DTLS handshake, and no certificate is sent again. AEAD
 * PSK suites only, replay protection on (OpenSSL's window), no
 * renegotiation, stateless HMAC cookies (HelloVerifyRequest) on the server.
 *
 * I/O goes through a BIO of our own (struct dtls_io): reads take the one
 * datagram the caller feeds in; writes prefix the channel header and go to
 * the io's send function, which may batch them for sendmmsg. */
#ifndef VPND_DTLS_H
#define VPND_DTLS_H

#include <openssl/ssl.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define DTLS_ID_LEN   8
#define DTLS_PSK_LEN  32
#define DTLS_HDR      (1 + DTLS_ID_LEN)	/* magic + id before each datagram */
#define DTLS_MAGIC    0xd1		/* then DTLS records */
#define DTLS_MAGIC_REC 0xd2		/* then one vpnd record (crypto/drec.h) */

struct dtls_ctx;

/* Where an end's datagrams go, written in place: slot() lends the next
 * one's buffer (*cap bytes; NULL: none free, the datagram is lost), push()
 * sends the len bytes written there (header included) to dst. */
struct dtls_out {
	uint8_t *(*slot)(void *arg, size_t *cap);
	void     (*push)(void *arg, const struct sockaddr_storage *dst, size_t len);
};

/* Where a DTLS SSL's datagrams go. Owned by the caller; must outlive the
 * SSL. Writes go to io->dst through out. */
struct dtls_io {
	const struct dtls_out *out;
	void  *arg;
	struct sockaddr_storage dst;		/* writes go here */
	struct sockaddr_storage src;		/* source of the fed datagram */
	const uint8_t *in;			/* the datagram being read */
	size_t         in_len;
	uint8_t        id[DTLS_ID_LEN];
	uint8_t        psk[DTLS_PSK_LEN];
	int            link_mtu;		/* underlay MTU for DTLS */
};

int  dtls_ctx_new(struct dtls_ctx **out, int server);	/* 0 or -errno */
void dtls_ctx_free(struct dtls_ctx *d);			/* NULL is fine */

/* A new DTLS SSL on io, in accept or connect state. NULL on failure. */
SSL *dtls_ssl_new(struct dtls_ctx *d, struct dtls_io *io);

/* Derive io->psk from the TLS 1.3 session tls for io->id. 0 or -EPROTO. */
int  dtls_derive_psk(SSL *tls, struct dtls_io *io);

/* Write the datagram header (magic: DTLS_MAGIC or DTLS_MAGIC_REC) for id
 * into out[DTLS_HDR]. */
void dtls_put_hdr(uint8_t *out, uint8_t magic, const uint8_t id[DTLS_ID_LEN]);
/* The id of a datagram of either kind (DTLS records or a vpnd record),
 * or NULL if it is too short or not ours. */
const uint8_t *dtls_hdr_id(const uint8_t *dgram, size_t len);
/* True if the records in buf (after our header) start with a ClientHello
 * (epoch 0 handshake); *random points at its 32-byte client random. */
int  dtls_is_client_hello(const uint8_t *rec, size_t len, const uint8_t **random);

#endif
