/* drec.c - the DTLS channel's own records: keys exported from the DTLS
 * session, one AEAD call per record, a sliding replay window (RFC 6479's
 * ring of 64-bit words). See drec.h for the format. */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>

#include "crypto/drec.h"

#define EXPORTER_LABEL "EXPORTER-vpnd-data-records"
#define WIN_WORDS      (DREC_WINDOW / 64)

_Static_assert(DREC_WINDOW % 64 == 0 && WIN_WORDS >= 2, "the window is whole words");

static void put_be64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t get_be64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* The direction's IV with seq XORed into its last 8 bytes. */
static void nonce_of(uint8_t out[DREC_IV_LEN], const struct drec_dir *d, uint64_t seq)
{
	uint8_t s[DREC_SEQ_LEN];
	int i;

	put_be64(s, seq);
	memcpy(out, d->dd_iv, DREC_IV_LEN);
	for (i = 0; i < DREC_SEQ_LEN; i++)
		out[DREC_IV_LEN - DREC_SEQ_LEN + i] ^= s[i];
}

/* The AEAD named, if it is one drec drives: AES-GCM or ChaCha20-Poly1305,
 * whose nonce is 12 bytes and whose tag is 16 and taken after the data
 * (CCM, also an AEAD, wants the length before the additional data). */
static EVP_CIPHER *aead_fetch(const char *name)
{
	EVP_CIPHER *e;

	if (name == NULL || (e = EVP_CIPHER_fetch(NULL, name, NULL)) == NULL)
		return NULL;
	if ((EVP_CIPHER_get_mode(e) != EVP_CIPH_GCM_MODE &&
	    EVP_CIPHER_get_nid(e) != NID_chacha20_poly1305) ||
	    EVP_CIPHER_get_iv_length(e) != DREC_IV_LEN ||
	    EVP_CIPHER_get_key_length(e) > DREC_KEY_MAX) {
		EVP_CIPHER_free(e);
		return NULL;
	}
	return e;
}

static int dir_init(struct drec_dir *d, const EVP_CIPHER *e, bool enc,
    const uint8_t *key, const uint8_t *iv)
{
	if ((d->dd_ctx = EVP_CIPHER_CTX_new()) == NULL)
		return -ENOMEM;
	if (EVP_CipherInit_ex2(d->dd_ctx, e, key, NULL, enc, NULL) != 1)
		return -EPROTO;
	memcpy(d->dd_iv, iv, DREC_IV_LEN);
	return 0;
}

int drec_keys(struct drec *r, const char *cipher, const uint8_t *km, size_t len,
    bool server)
{
	const uint8_t *ck, *sk, *civ, *siv;
	EVP_CIPHER *e;
	size_t kl;
	int err;

	drec_free(r);
	if ((e = aead_fetch(cipher)) == NULL)
		return -EPROTO;
	kl = (size_t)EVP_CIPHER_get_key_length(e);
	if (len != 2 * kl + 2 * DREC_IV_LEN) {
		EVP_CIPHER_free(e);
		return -EINVAL;
	}
	ck = km;
	sk = km + kl;
	civ = km + 2 * kl;
	siv = civ + DREC_IV_LEN;
	if ((err = dir_init(&r->dr_tx, e, true, server ? sk : ck, server ? siv : civ)) == 0 &&
	    (err = dir_init(&r->dr_rx, e, false, server ? ck : sk, server ? civ : siv)) == 0)
		r->dr_on = true;
	EVP_CIPHER_free(e);
	ERR_clear_error();
	if (!r->dr_on)
		drec_free(r);
	return err;
}

int drec_init(struct drec *r, SSL *ssl, bool server)
{
	uint8_t km[2 * DREC_KEY_MAX + 2 * DREC_IV_LEN];
	const SSL_CIPHER *c = SSL_get_current_cipher(ssl);
	const char *name = c ? OBJ_nid2sn(SSL_CIPHER_get_cipher_nid(c)) : NULL;
	EVP_CIPHER *e;
	size_t len;
	int err;

	drec_free(r);
	if ((e = aead_fetch(name)) == NULL)
		return -EPROTO;
	len = 2 * (size_t)EVP_CIPHER_get_key_length(e) + 2 * DREC_IV_LEN;
	EVP_CIPHER_free(e);
	err = SSL_export_keying_material(ssl, km, len, EXPORTER_LABEL,
	    strlen(EXPORTER_LABEL), NULL, 0, 0) == 1 ?
	    drec_keys(r, name, km, len, server) : -EPROTO;
	OPENSSL_cleanse(km, sizeof(km));	/* a failed export may have written some */
	ERR_clear_error();
	return err;
}

void drec_free(struct drec *r)
{
	EVP_CIPHER_CTX_free(r->dr_tx.dd_ctx);
	EVP_CIPHER_CTX_free(r->dr_rx.dd_ctx);
	OPENSSL_cleanse(r, sizeof(*r));
}

int drec_seal(struct drec *r, const uint8_t id[DTLS_ID_LEN], uint8_t type,
    const uint8_t *p, size_t len, uint8_t *out, size_t cap)
{
	EVP_CIPHER_CTX *x = r->dr_tx.dd_ctx;
	uint8_t nonce[DREC_IV_LEN];
	uint64_t seq = r->dr_tx_seq++;	/* never twice, even if this fails */
	int n = 0;

	if (!r->dr_on)
		return -EIO;
	if (len > INT_MAX - DREC_OVERHEAD || cap < DREC_OVERHEAD + len)
		return -EMSGSIZE;
	dtls_put_hdr(out, DTLS_MAGIC_REC, id);
	put_be64(out + DTLS_HDR, seq);
	out[DREC_HDR - 1] = type;
	nonce_of(nonce, &r->dr_tx, seq);
	if (EVP_EncryptInit_ex2(x, NULL, NULL, nonce, NULL) != 1 ||
	    EVP_EncryptUpdate(x, NULL, &n, out, DREC_HDR) != 1 ||
	    (len > 0 && EVP_EncryptUpdate(x, out + DREC_HDR, &n, p, (int)len) != 1) ||
	    EVP_EncryptFinal_ex(x, out + DREC_HDR + len, &n) != 1 ||
	    EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_GET_TAG, DREC_TAG_LEN,
	    out + DREC_HDR + len) != 1) {
		ERR_clear_error();
		return -EIO;
	}
	return (int)(DREC_OVERHEAD + len);
}

/* Not older than the window, and not seen. */
static bool win_fresh(const struct drec *r, uint64_t seq)
{
	if (seq > r->dr_rx_last)
		return true;
	if (r->dr_rx_last - seq >= DREC_WINDOW - 64)
		return false;
	return (r->dr_rx_bits[seq / 64 % WIN_WORDS] >> (seq % 64) & 1) == 0;
}

/* Seen: a newer highest sequence clears the words it moves past. */
static void win_mark(struct drec *r, uint64_t seq)
{
	uint64_t cur = r->dr_rx_last / 64, w = seq / 64, i, n;

	if (seq > r->dr_rx_last) {
		n = w - cur > WIN_WORDS ? WIN_WORDS : w - cur;
		for (i = 1; i <= n; i++)
			r->dr_rx_bits[(cur + i) % WIN_WORDS] = 0;
		r->dr_rx_last = seq;
	}
	r->dr_rx_bits[w % WIN_WORDS] |= 1ull << (seq % 64);
}

int drec_open(struct drec *r, const uint8_t *dg, size_t len, uint8_t *type,
    bool *newest, uint8_t *out, size_t cap)
{
	EVP_CIPHER_CTX *x = r->dr_rx.dd_ctx;
	uint8_t nonce[DREC_IV_LEN], tag[DREC_TAG_LEN];
	size_t plen;
	uint64_t seq;
	int n = 0;

	if (!r->dr_on || len < DREC_OVERHEAD || dg[0] != DTLS_MAGIC_REC ||
	    (plen = len - DREC_OVERHEAD) > cap || plen > INT_MAX)
		return -EBADMSG;
	seq = get_be64(dg + DTLS_HDR);
	if (!win_fresh(r, seq))
		return -EBADMSG;
	nonce_of(nonce, &r->dr_rx, seq);
	memcpy(tag, dg + DREC_HDR + plen, DREC_TAG_LEN);
	if (EVP_DecryptInit_ex2(x, NULL, NULL, nonce, NULL) != 1 ||
	    EVP_DecryptUpdate(x, NULL, &n, dg, DREC_HDR) != 1 ||
	    (plen > 0 && EVP_DecryptUpdate(x, out, &n, dg + DREC_HDR, (int)plen) != 1) ||
	    EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_TAG, DREC_TAG_LEN, tag) != 1 ||
	    EVP_DecryptFinal_ex(x, out + plen, &n) != 1) {
		ERR_clear_error();
		return -EBADMSG;
	}
	*newest = seq >= r->dr_rx_last;
	win_mark(r, seq);
	*type = dg[DREC_HDR - 1];
	return (int)plen;
}
