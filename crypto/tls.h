/* tls.h - TLS contexts for the control-and-data stream. TLS 1.3 only, mutual
 * authentication by key: the server accepts any client certificate during the
 * handshake (TLS 1.3 CertificateVerify proves possession of the key) and
 * decides by fingerprint against its allow-list afterwards; the client accepts
 * the server only if its key's fingerprint equals the pinned one, so the
 * handshake itself fails on a mismatch. There is no "accept anything" mode. */
#ifndef VPND_TLS_H
#define VPND_TLS_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>

#include "crypto/fp.h"

struct tls_ctx;

/* Server context with KEY/CRT; requires a client certificate. On error
 * -errno and a one-line reason in err (e.g. "key and certificate do not
 * match"). */
int  tls_ctx_server(struct tls_ctx **out, const char *key, const char *crt,
                    char *err, size_t errlen);
/* Client context with KEY/CRT, trusting only a server whose fingerprint is
 * PIN (normalised lowercase). */
int  tls_ctx_client(struct tls_ctx **out, const char *key, const char *crt,
                    const char *pin, char *err, size_t errlen);
void tls_ctx_free(struct tls_ctx *t);			/* NULL is fine */

/* A new SSL on the connected, non-blocking socket fd, in accept or connect
 * state per the context. NULL on allocation failure. */
SSL *tls_ssl_new(struct tls_ctx *t, int fd);
/* Write out the records SSL_write left in the SSL's write buffer: 0 once
 * it is empty, -EAGAIN when the socket is full (wait until writable and
 * call again), else -errno. tls_wpending: anything left in it. */
int  tls_flush(SSL *ssl);
bool tls_wpending(SSL *ssl);
/* Fingerprint of the peer's key after the handshake; -ENOKEY if none. */
int  tls_peer_fp(SSL *ssl, char out[FP_STRLEN]);
/* True if the last handshake failure on a client SSL was a pin mismatch. */
int  tls_pin_mismatch(SSL *ssl);
/* The fingerprint the server presented (valid after a pin mismatch too). */
const char *tls_seen_fp(SSL *ssl);

/* The most recent OpenSSL error as text, clearing the queue. */
const char *tls_errstr(char *buf, size_t len);

#endif
