/* drec.h - vpnd's own records for the DTLS channel's messages. Once the
 * DTLS 1.2 handshake is done, both ends export one key and one IV per
 * direction from it (RFC 5705, the suite's AEAD: AES-GCM or
 * ChaCha20-Poly1305) and may seal each message themselves: one AEAD call
 * straight from the packet into the send batch and, on receipt, from the
 * receive buffer into the caller's, with none of the SSL record layer's
 * per-record lookups and copies. The keys are independent of the ones
 * OpenSSL's DTLS records use, so the two never share a nonce.
 *
 * A record is one datagram (docs/protocol.md section 8, "vpnd records"):
 *
 *   magic 0xd2 | channel id (8) | sequence (8, big-endian) | type (1) |
 *   payload sealed | tag (16)
 *
 * The first 18 bytes are the additional data; the nonce is the direction's
 * IV with the sequence XORed into its last 8 bytes (as TLS 1.3 does). The
 * type is authenticated, not encrypted. The receiver drops a record whose
 * sequence it has seen, or which is DREC_WINDOW - 64 (960) or more behind
 * the highest it has accepted (a ring of DREC_WINDOW bits, RFC 6479),
 * before decrypting it, and marks it seen only once it authenticates. */
#ifndef VPND_DREC_H
#define VPND_DREC_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/dtls.h"

#define DREC_SEQ_LEN  8
#define DREC_HDR      (DTLS_HDR + DREC_SEQ_LEN + 1)	/* 18: magic, id, seq, type */
#define DREC_TAG_LEN  16
#define DREC_OVERHEAD (DREC_HDR + DREC_TAG_LEN)
#define DREC_IV_LEN   12
#define DREC_WINDOW   1024		/* bits in the receiver's ring; it takes
					 * the highest and the 959 before it */

struct drec_dir {
	EVP_CIPHER_CTX *dd_ctx;
	uint8_t         dd_iv[DREC_IV_LEN];
};

struct drec {
	struct drec_dir dr_tx, dr_rx;
	uint64_t        dr_tx_seq;		/* the next record's */
	uint64_t        dr_rx_last;		/* highest sequence accepted */
	uint64_t        dr_rx_bits[DREC_WINDOW / 64];
	bool            dr_on;			/* keys set */
};

#define DREC_KEY_MAX  32

/* Export both directions' keys from the finished DTLS session ssl (the
 * server's tx is the client's rx). 0, or -EPROTO (no exporter, a suite
 * that is not a 12-byte-nonce AEAD) / -ENOMEM; then dr_on stays false. */
int  drec_init(struct drec *r, SSL *ssl, bool server);
/* What drec_init does with the exporter's len bytes km: the client's key,
 * the server's key (each the AEAD's key length), the client's IV, the
 * server's IV, for the AEAD named cipher ("AES-256-GCM", ...). 0, -EPROTO,
 * -EINVAL (len does not fit the cipher) or -ENOMEM. */
int  drec_keys(struct drec *r, const char *cipher, const uint8_t *km, size_t len,
               bool server);
void drec_free(struct drec *r);		/* wipes the keys; zeroed after */

/* Seal type and p[0..len) for channel id into out (cap bytes, at least
 * DREC_OVERHEAD + len). Returns the datagram's length, or -EMSGSIZE /
 * -EIO. */
int  drec_seal(struct drec *r, const uint8_t id[DTLS_ID_LEN], uint8_t type,
               const uint8_t *p, size_t len, uint8_t *out, size_t cap);
/* Open the datagram dg (header included; the caller has matched the id).
 * The payload goes to out (cap bytes); returns its length, the type in
 * *type and in *newest whether no later record has been accepted (a
 * record held back and replayed late is not), or -EBADMSG: too short, too
 * large, replayed, too old, or it did not authenticate. */
int  drec_open(struct drec *r, const uint8_t *dg, size_t len, uint8_t *type,
               bool *newest, uint8_t *out, size_t cap);

#endif
