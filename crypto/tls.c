/* tls.c - TLS 1.3 contexts for the stream transport. Both sides replace
 * OpenSSL's chain verification with a callback: there are no CAs, a peer is
 * its key. The server takes any acceptable leaf and lets the caller judge the
 * fingerprint after the handshake; the client compares the leaf's fingerprint
 * with its pin inside the handshake, and records what it saw in per-SSL
 * ex_data so the caller can name the offending key after a failure. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/x509_vfy.h>

#include "crypto/tls.h"

#define TLS_WBUF (64 * 1024)	/* gathered per write(): about four full records */

struct tls_ctx {
	SSL_CTX *tc_ssl;
	int      tc_server;
	char     tc_pin[FP_STRLEN];	/* client: normalised lowercase */
};

/* Per-SSL handshake record, ex_data of every SSL from tls_ssl_new. */
struct tls_seen {
	char ts_fp[FP_STRLEN];		/* peer's leaf, "" until seen */
	int  ts_mismatch;
};

static CRYPTO_ONCE seen_once = CRYPTO_ONCE_STATIC_INIT;
static int seen_idx = -1;

static void seen_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
    long argl, void *argp)
{
	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	free(ptr);
}

static void seen_init(void)
{
	seen_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, seen_free);
}

static struct tls_seen *seen_of(SSL *ssl)
{
	if (ssl == NULL || seen_idx < 0)
		return NULL;
	return SSL_get_ex_data(ssl, seen_idx);
}

__attribute__((format(printf, 3, 4)))
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);	/* truncation is fine: a hint */
	va_end(ap);
}

/* Both sides: the peer's leaf, its fingerprint, and the key policy, which
 * would otherwise go unchecked: replacing X509_verify_cert also bypasses its
 * security-level checks. 0, or the X509_V_ERR_* to fail with. */
static int leaf_check(X509_STORE_CTX *xs, char fp[FP_STRLEN])
{
	X509 *leaf = X509_STORE_CTX_get0_cert(xs);

	if (leaf == NULL || fp_of_x509(leaf, fp) < 0)
		return X509_V_ERR_APPLICATION_VERIFICATION;
	if (key_check(X509_get0_pubkey(leaf)) < 0)
		return X509_V_ERR_EE_KEY_TOO_SMALL;
	return X509_V_OK;
}

static int server_verify(X509_STORE_CTX *xs, void *arg)
{
	char fp[FP_STRLEN];
	int verr = leaf_check(xs, fp);

	(void)arg;
	X509_STORE_CTX_set_error(xs, verr);
	return verr == X509_V_OK;	/* the allow-list decides later */
}

static int client_verify(X509_STORE_CTX *xs, void *arg)
{
	const struct tls_ctx *t = arg;
	struct tls_seen *seen;
	char fp[FP_STRLEN] = "";
	int verr = leaf_check(xs, fp);

	seen = seen_of(X509_STORE_CTX_get_ex_data(xs,
	    SSL_get_ex_data_X509_STORE_CTX_idx()));
	if (*fp != '\0' && strcmp(fp, t->tc_pin) != 0) {
		verr = X509_V_ERR_APPLICATION_VERIFICATION;
		if (seen != NULL)
			seen->ts_mismatch = 1;
	}
	if (seen != NULL)
		memcpy(seen->ts_fp, fp, sizeof(seen->ts_fp));
	X509_STORE_CTX_set_error(xs, verr);
	return verr == X509_V_OK;
}

static int ctx_configure(SSL_CTX *ssl)
{
	/* No tickets, no cache: every connection proves its key afresh. */
	SSL_CTX_set_options(ssl, SSL_OP_NO_COMPRESSION |
	    SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET);
	SSL_CTX_set_session_cache_mode(ssl, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	return SSL_CTX_set_min_proto_version(ssl, TLS1_3_VERSION) == 1 &&
	    SSL_CTX_set_max_proto_version(ssl, TLS1_3_VERSION) == 1 &&
	    SSL_CTX_set_num_tickets(ssl, 0) == 1 ? 0 : -EINVAL;
}

static int load_file_err(int err, const char *path, const char *what,
    char *errbuf, size_t errlen)
{
	if (err == -EINVAL)
		set_err(errbuf, errlen, "%s: %s", path, what);
	else
		set_err(errbuf, errlen, "%s: %s", path, strerror(-err));
	return err;
}

static int ctx_load_identity(SSL_CTX *ssl, const char *key, const char *crt,
    char *err, size_t errlen)
{
	char why[160];
	EVP_PKEY *pk = NULL;
	X509 *x = NULL;
	int rc;

	if ((rc = key_load(&pk, key)) < 0)
		return load_file_err(rc, key, "not a PEM private key of a "
		    "supported type (Ed25519, ECDSA P-256+, RSA 2048+)", err,
		    errlen);
	if ((rc = crt_load(&x, crt)) < 0)
		load_file_err(rc, crt, "not a PEM certificate", err, errlen);
	else if ((rc = key_matches_crt(pk, x)) < 0)
		set_err(err, errlen, "key and certificate do not match");
	else if (SSL_CTX_use_certificate(ssl, x) != 1 ||
	    SSL_CTX_use_PrivateKey(ssl, pk) != 1 ||
	    SSL_CTX_check_private_key(ssl) != 1) {
		rc = -EINVAL;
		set_err(err, errlen, "%s: %s", crt,
		    tls_errstr(why, sizeof(why)));
	}
	EVP_PKEY_free(pk);
	X509_free(x);
	return rc;
}

static int ctx_new(struct tls_ctx **out, int server, const char *key,
    const char *crt, char *err, size_t errlen)
{
	struct tls_ctx *t;
	int rc;

	if (!CRYPTO_THREAD_run_once(&seen_once, seen_init) || seen_idx < 0 ||
	    (t = calloc(1, sizeof(*t))) == NULL) {
		set_err(err, errlen, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	t->tc_server = server;
	t->tc_ssl = SSL_CTX_new(server ? TLS_server_method() :
	    TLS_client_method());
	if (t->tc_ssl == NULL || ctx_configure(t->tc_ssl) < 0) {
		set_err(err, errlen, "cannot set up a TLS 1.3 context");
		rc = -ENOMEM;
	} else {
		rc = ctx_load_identity(t->tc_ssl, key, crt, err, errlen);
	}
	if (rc < 0) {
		tls_ctx_free(t);
		ERR_clear_error();
		return rc;
	}
	*out = t;
	return 0;
}

int tls_ctx_server(struct tls_ctx **out, const char *key, const char *crt,
                   char *err, size_t errlen)
{
	struct tls_ctx *t;
	int rc;

	if ((rc = ctx_new(&t, 1, key, crt, err, errlen)) < 0)
		return rc;
	/* Demand a certificate; TLS 1.3 CertificateVerify proves the key. */
	SSL_CTX_set_verify(t->tc_ssl,
	    SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_cert_verify_callback(t->tc_ssl, server_verify, NULL);
	*out = t;
	return 0;
}

int tls_ctx_client(struct tls_ctx **out, const char *key, const char *crt,
                   const char *pin, char *err, size_t errlen)
{
	char norm[FP_STRLEN];
	struct tls_ctx *t;
	int rc;

	if (fp_normalise(pin, norm) < 0) {
		set_err(err, errlen, "server fingerprint must be sha256: and "
		    "64 hex digits");
		return -EINVAL;
	}
	if ((rc = ctx_new(&t, 0, key, crt, err, errlen)) < 0)
		return rc;
	memcpy(t->tc_pin, norm, sizeof(t->tc_pin));
	SSL_CTX_set_verify(t->tc_ssl, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_cert_verify_callback(t->tc_ssl, client_verify, t);
	*out = t;
	return 0;
}

void tls_ctx_free(struct tls_ctx *t)
{
	if (t == NULL)
		return;
	SSL_CTX_free(t->tc_ssl);
	free(t);
}

SSL *tls_ssl_new(struct tls_ctx *t, int fd)
{
	struct tls_seen *seen;
	BIO *rb = NULL, *sock = NULL, *wb = NULL;
	SSL *ssl;

	if ((ssl = SSL_new(t->tc_ssl)) == NULL)
		return NULL;
	if ((seen = calloc(1, sizeof(*seen))) == NULL ||
	    SSL_set_ex_data(ssl, seen_idx, seen) != 1) {
		free(seen);
		SSL_free(ssl);
		return NULL;
	}
	/* From here seen_free releases seen along with ssl. Reads go straight
	 * to the socket; writes go through a buffer BIO, so that a turn's
	 * records leave in one write() (tls_flush) as one large TCP send,
	 * not one send per 16 KiB record. */
	if ((rb = BIO_new_socket(fd, BIO_NOCLOSE)) == NULL ||
	    (sock = BIO_new_socket(fd, BIO_NOCLOSE)) == NULL ||
	    (wb = BIO_new(BIO_f_buffer())) == NULL ||
	    BIO_set_write_buffer_size(wb, TLS_WBUF) != 1) {
		BIO_free(rb);
		BIO_free(sock);
		BIO_free(wb);
		SSL_free(ssl);
		ERR_clear_error();
		return NULL;
	}
	SSL_set_bio(ssl, rb, BIO_push(wb, sock));	/* ssl owns all three */
	if (t->tc_server)
		SSL_set_accept_state(ssl);
	else
		SSL_set_connect_state(ssl);
	return ssl;
}

int tls_flush(SSL *ssl)
{
	BIO *wb = SSL_get_wbio(ssl);

	if (BIO_wpending(wb) == 0 || BIO_flush(wb) == 1)
		return 0;
	if (BIO_should_retry(wb))
		return -EAGAIN;
	return errno ? -errno : -EIO;
}

bool tls_wpending(SSL *ssl)
{
	return BIO_wpending(SSL_get_wbio(ssl)) > 0;
}

int tls_peer_fp(SSL *ssl, char out[FP_STRLEN])
{
	X509 *crt = SSL_get0_peer_certificate(ssl);

	if (crt == NULL || fp_of_x509(crt, out) < 0)
		return -ENOKEY;
	return 0;
}

int tls_pin_mismatch(SSL *ssl)
{
	struct tls_seen *seen = seen_of(ssl);

	return seen != NULL && seen->ts_mismatch;
}

const char *tls_seen_fp(SSL *ssl)
{
	struct tls_seen *seen = seen_of(ssl);

	return seen != NULL ? seen->ts_fp : "";
}

const char *tls_errstr(char *buf, size_t len)
{
	unsigned long e = ERR_get_error();

	if (len == 0)
		return "";
	if (e == 0)
		snprintf(buf, len, "unknown error");
	else
		ERR_error_string_n(e, buf, len);
	ERR_clear_error();
	return buf;
}
