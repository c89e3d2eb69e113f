/* dtls.c - DTLS 1.2 contexts and the datagram BIO for the data channel.
 * See dtls.h for the binding to the TLS session. The BIO never touches a
 * socket: the caller feeds one received datagram at a time and hands the
 * datagrams the BIO writes to its own send function, so the server can
 * serve every peer from one UDP socket and batch what it sends. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "crypto/dtls.h"

#define EXPORTER_LABEL "EXPORTER-vpnd-dtls-psk"
#define COOKIE_LEN     16
#define DTLS_CIPHERS   "PSK-AES256-GCM-SHA384:PSK-AES128-GCM-SHA256:PSK-CHACHA20-POLY1305"
#define TIMER_FIRST_US 500000u		/* handshake retransmit: 0.5 s ... */
#define TIMER_MAX_US   2000000u		/* ... doubling to 2 s, so a path that
					 * comes back is used within seconds */

struct dtls_ctx {
	SSL_CTX *dc_ssl;
	uint8_t  dc_cookie_key[32];
};

static BIO_METHOD *bio_method;
static CRYPTO_ONCE bio_once = CRYPTO_ONCE_STATIC_INIT;

/* ---- the datagram BIO ---- */

static int bio_read(BIO *b, char *out, int len)
{
	struct dtls_io *io = BIO_get_data(b);
	size_t n;

	BIO_clear_retry_flags(b);
	if (io->in == NULL) {
		BIO_set_retry_read(b);
		return -1;
	}
	n = io->in_len < (size_t)len ? io->in_len : (size_t)len;
	memcpy(out, io->in, n);
	io->in = NULL;			/* datagram semantics: one per read */
	io->in_len = 0;
	return (int)n;
}

static int bio_write(BIO *b, const char *buf, int len)
{
	struct dtls_io *io = BIO_get_data(b);
	uint8_t *dg;
	size_t cap = 0;

	BIO_clear_retry_flags(b);
	if (len < 0)
		return -1;
	/* a lost datagram is DTLS's business: one that does not fit too */
	if ((dg = io->out->slot(io->arg, &cap)) == NULL || DTLS_HDR + (size_t)len > cap)
		return len;
	dtls_put_hdr(dg, DTLS_MAGIC, io->id);
	memcpy(dg + DTLS_HDR, buf, (size_t)len);
	io->out->push(io->arg, &io->dst, DTLS_HDR + (size_t)len);
	return len;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct dtls_io *io = BIO_get_data(b);

	(void)num;
	(void)ptr;
	switch (cmd) {
	case BIO_CTRL_FLUSH:
	case BIO_CTRL_DGRAM_SET_NEXT_TIMEOUT:
	case BIO_CTRL_DUP:
		return 1;
	case BIO_CTRL_PENDING:
		return io->in ? (long)io->in_len : 0;
	case BIO_CTRL_DGRAM_GET_MTU_OVERHEAD:	/* IP + UDP + our header */
		return (io->dst.ss_family == AF_INET6 ? 48 : 28) + DTLS_HDR;
	case BIO_CTRL_DGRAM_QUERY_MTU:
	case BIO_CTRL_DGRAM_GET_FALLBACK_MTU:
		return io->link_mtu;
	default:
		return 0;
	}
}

static int bio_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

static void bio_method_init(void)
{
	if ((bio_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK,
	    "vpnd datagram")) == NULL)
		return;
	BIO_meth_set_write(bio_method, bio_write);
	BIO_meth_set_read(bio_method, bio_read);
	BIO_meth_set_ctrl(bio_method, bio_ctrl);
	BIO_meth_set_create(bio_method, bio_create);
}

/* ---- cookies: HMAC of the client's address, stateless ---- */

static struct dtls_ctx *ctx_of(SSL *ssl)
{
	return SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
}

static int cookie_make(SSL *ssl, uint8_t out[COOKIE_LEN])
{
	struct dtls_io *io = SSL_get_app_data(ssl);
	struct dtls_ctx *d = ctx_of(ssl);
	uint8_t mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	size_t alen = io->src.ss_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	uint8_t msg[sizeof(struct sockaddr_storage) + DTLS_ID_LEN];

	memset(msg, 0, sizeof(msg));
	memcpy(msg, &io->src, alen);
	memcpy(msg + alen, io->id, DTLS_ID_LEN);
	if (HMAC(EVP_sha256(), d->dc_cookie_key, sizeof(d->dc_cookie_key), msg,
	    alen + DTLS_ID_LEN, mac, &maclen) == NULL || maclen < COOKIE_LEN)
		return 0;
	memcpy(out, mac, COOKIE_LEN);
	return 1;
}

static int cookie_generate(SSL *ssl, unsigned char *cookie, unsigned int *len)
{
	if (!cookie_make(ssl, cookie))
		return 0;
	*len = COOKIE_LEN;
	return 1;
}

static int cookie_verify(SSL *ssl, const unsigned char *cookie, unsigned int len)
{
	uint8_t want[COOKIE_LEN];

	return len == COOKIE_LEN && cookie_make(ssl, want) &&
	    CRYPTO_memcmp(want, cookie, COOKIE_LEN) == 0;
}

/* ---- PSK: identity is the hex channel id, the key the exporter's ---- */

static void id_hex(const uint8_t id[DTLS_ID_LEN], char out[2 * DTLS_ID_LEN + 1])
{
	int i;

	for (i = 0; i < DTLS_ID_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", id[i]);
}

static unsigned int psk_server(SSL *ssl, const char *identity,
    unsigned char *psk, unsigned int max)
{
	struct dtls_io *io = SSL_get_app_data(ssl);
	char want[2 * DTLS_ID_LEN + 1];

	id_hex(io->id, want);
	if (identity == NULL || strcmp(identity, want) != 0 || max < DTLS_PSK_LEN)
		return 0;
	memcpy(psk, io->psk, DTLS_PSK_LEN);
	return DTLS_PSK_LEN;
}

static unsigned int psk_client(SSL *ssl, const char *hint, char *identity,
    unsigned int max_identity, unsigned char *psk, unsigned int max)
{
	struct dtls_io *io = SSL_get_app_data(ssl);

	(void)hint;
	if (max_identity < 2 * DTLS_ID_LEN + 1 || max < DTLS_PSK_LEN)
		return 0;
	id_hex(io->id, identity);
	memcpy(psk, io->psk, DTLS_PSK_LEN);
	return DTLS_PSK_LEN;
}

static unsigned int timer_cb(SSL *ssl, unsigned int us)
{
	(void)ssl;
	if (us == 0)
		return TIMER_FIRST_US;
	return us * 2 > TIMER_MAX_US ? TIMER_MAX_US : us * 2;
}

int dtls_ctx_new(struct dtls_ctx **out, int server)
{
	struct dtls_ctx *d;
	SSL_CTX *c;

	CRYPTO_THREAD_run_once(&bio_once, bio_method_init);
	if (bio_method == NULL || (d = OPENSSL_zalloc(sizeof(*d))) == NULL)
		return -ENOMEM;
	if ((c = d->dc_ssl = SSL_CTX_new(server ? DTLS_server_method() :
	    DTLS_client_method())) == NULL ||
	    RAND_bytes(d->dc_cookie_key, sizeof(d->dc_cookie_key)) != 1 ||
	    !SSL_CTX_set_min_proto_version(c, DTLS1_2_VERSION) ||
	    !SSL_CTX_set_max_proto_version(c, DTLS1_2_VERSION) ||
	    !SSL_CTX_set_cipher_list(c, DTLS_CIPHERS)) {
		dtls_ctx_free(d);
		ERR_clear_error();
		return -EINVAL;
	}
	SSL_CTX_set_app_data(c, d);
	SSL_CTX_set_options(c, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_NO_TICKET | SSL_OP_NO_QUERY_MTU |
	    (server ? SSL_OP_COOKIE_EXCHANGE : 0));
	SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
	if (server) {
		SSL_CTX_set_cookie_generate_cb(c, cookie_generate);
		SSL_CTX_set_cookie_verify_cb(c, cookie_verify);
		SSL_CTX_set_psk_server_callback(c, psk_server);
	} else
		SSL_CTX_set_psk_client_callback(c, psk_client);
	*out = d;
	return 0;
}

void dtls_ctx_free(struct dtls_ctx *d)
{
	if (d == NULL)
		return;
	SSL_CTX_free(d->dc_ssl);
	OPENSSL_clear_free(d, sizeof(*d));
}

SSL *dtls_ssl_new(struct dtls_ctx *d, struct dtls_io *io)
{
	SSL *ssl;
	BIO *b;

	if ((ssl = SSL_new(d->dc_ssl)) == NULL)
		return NULL;
	if ((b = BIO_new(bio_method)) == NULL) {
		SSL_free(ssl);
		return NULL;
	}
	BIO_set_data(b, io);
	SSL_set_bio(ssl, b, b);
	SSL_set_app_data(ssl, io);
	DTLS_set_timer_cb(ssl, timer_cb);
	DTLS_set_link_mtu(ssl, io->link_mtu);
	if (SSL_is_server(ssl))
		SSL_set_accept_state(ssl);
	else
		SSL_set_connect_state(ssl);
	return ssl;
}

int dtls_derive_psk(SSL *tls, struct dtls_io *io)
{
	if (SSL_export_keying_material(tls, io->psk, DTLS_PSK_LEN, EXPORTER_LABEL,
	    strlen(EXPORTER_LABEL), io->id, DTLS_ID_LEN, 1) != 1) {
		ERR_clear_error();
		return -EPROTO;
	}
	return 0;
}

void dtls_put_hdr(uint8_t *out, uint8_t magic, const uint8_t id[DTLS_ID_LEN])
{
	out[0] = magic;
	memcpy(out + 1, id, DTLS_ID_LEN);
}

const uint8_t *dtls_hdr_id(const uint8_t *dgram, size_t len)
{
	if (len <= DTLS_HDR || (dgram[0] != DTLS_MAGIC && dgram[0] != DTLS_MAGIC_REC))
		return NULL;
	return dgram + 1;
}

/* DTLS record: type(1) version(2) epoch(2) seq(6) length(2); handshake:
 * msg_type(1) length(3) seq(2) frag_off(3) frag_len(3); ClientHello body:
 * client_version(2) random(32). RFC 6347 sections 4.1 and 4.2.2. */
int dtls_is_client_hello(const uint8_t *rec, size_t len, const uint8_t **random)
{
	if (len < 13 + 12 + 2 + 32 || rec[0] != 22 || rec[3] != 0 || rec[4] != 0 ||
	    rec[13] != 1)
		return 0;
	*random = rec + 13 + 12 + 2;
	return 1;
}
