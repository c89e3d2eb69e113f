/* test_drec.c - vpnd records (crypto/drec.c): keys exported from a real
 * DTLS 1.2 PSK session, sealing and opening both ways, the replay window
 * at its edges, and every field of a record tampered with. The two DTLS
 * ends talk through dtls_io queues in memory (no sockets, no TLS session:
 * both take the same PSK). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "crypto/drec.h"
#include "crypto/dtls.h"

#define Q_CAP   16
#define DG_CAP  2048
#define NREC    2100		/* records sealed for the window tests */
#define PAYLOAD 8
#define REC_LEN (DREC_OVERHEAD + PAYLOAD)

static const uint8_t chan_id[DTLS_ID_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8 };
static bool nw;				/* drec_open's *newest, the last call's */

/* One end: its DTLS SSL, what it sent (waiting for the other end). */
struct end {
	struct dtls_io io;
	SSL           *ssl;
	uint8_t        q[Q_CAP][DG_CAP];
	size_t         qlen[Q_CAP];
	int            n;
};

struct pair {
	struct dtls_ctx *ctx[2];
	struct end       e[2];		/* [0] server, [1] client */
	struct drec      r[2];
	uint8_t          recs[NREC][REC_LEN];	/* client -> server, seq = index */
};

static uint8_t *q_slot(void *arg, size_t *cap)
{
	struct end *e = arg;

	if (e->n == Q_CAP)
		return NULL;
	*cap = DG_CAP;
	return e->q[e->n];
}

static void q_push(void *arg, const struct sockaddr_storage *dst, size_t len)
{
	struct end *e = arg;

	(void)dst;
	e->qlen[e->n++] = len;
}

static const struct dtls_out q_out = { .slot = q_slot, .push = q_push };

static void end_init(struct pair *p, int i)
{
	struct end *e = &p->e[i];
	struct sockaddr_in *sin = (struct sockaddr_in *)&e->io.src;

	e->io.out = &q_out;
	e->io.arg = e;
	e->io.link_mtu = 1500;
	memcpy(e->io.id, chan_id, DTLS_ID_LEN);
	memset(e->io.psk, 0x5a, DTLS_PSK_LEN);
	sin->sin_family = AF_INET;
	sin->sin_port = htons(4433);
	sin->sin_addr.s_addr = htonl(0xc6120002);	/* 198.18.0.2 */
	assert_non_null(e->ssl = dtls_ssl_new(p->ctx[i], &e->io));
}

/* Hand each datagram `from` sent to the other end, one at a time. */
static void deliver(struct pair *p, int from)
{
	struct end *s = &p->e[from], *d = &p->e[!from];
	int i;

	for (i = 0; i < s->n; i++) {
		d->io.in = s->q[i] + DTLS_HDR;
		d->io.in_len = s->qlen[i] - DTLS_HDR;
		SSL_do_handshake(d->ssl);
		d->io.in = NULL;
	}
	s->n = 0;
}

/* A finished DTLS session, suite chosen by the client's list. */
static void handshake(struct pair *p, const char *suite)
{
	int i;

	assert_int_equal(SSL_set_cipher_list(p->e[1].ssl, suite), 1);
	SSL_do_handshake(p->e[1].ssl);
	for (i = 0; i < 16 && !(SSL_is_init_finished(p->e[0].ssl) &&
	    SSL_is_init_finished(p->e[1].ssl)); i++) {
		deliver(p, 1);
		deliver(p, 0);
	}
	assert_true(SSL_is_init_finished(p->e[0].ssl));
	assert_true(SSL_is_init_finished(p->e[1].ssl));
	ERR_clear_error();
}

static struct pair *pair_new(const char *suite)
{
	struct pair *p = calloc(1, sizeof(*p));

	assert_non_null(p);
	assert_int_equal(dtls_ctx_new(&p->ctx[0], 1), 0);
	assert_int_equal(dtls_ctx_new(&p->ctx[1], 0), 0);
	end_init(p, 0);
	end_init(p, 1);
	handshake(p, suite);
	assert_int_equal(drec_init(&p->r[0], p->e[0].ssl, true), 0);
	assert_int_equal(drec_init(&p->r[1], p->e[1].ssl, false), 0);
	return p;
}

static int setup(void **state)
{
	*state = pair_new("PSK-AES256-GCM-SHA384");
	return 0;
}

static void pair_free(struct pair *p)
{
	int i;

	for (i = 0; i < 2; i++) {
		drec_free(&p->r[i]);
		SSL_free(p->e[i].ssl);
		dtls_ctx_free(p->ctx[i]);
	}
	free(p);
}

static int teardown(void **state)
{
	pair_free(*state);
	return 0;
}

/* Seal from end `from`, open at the other; the payload and type arrive. */
static void roundtrip(struct pair *p, int from, uint8_t type, const uint8_t *m, size_t len)
{
	uint8_t dg[DG_CAP], out[DG_CAP], t = 0;
	int n;

	n = drec_seal(&p->r[from], chan_id, type, m, len, dg, sizeof(dg));
	assert_int_equal(n, DREC_OVERHEAD + len);
	assert_int_equal(dg[0], DTLS_MAGIC_REC);
	assert_memory_equal(dg + 1, chan_id, DTLS_ID_LEN);
	assert_int_equal(drec_open(&p->r[!from], dg, (size_t)n, &t, &nw, out, sizeof(out)), len);
	assert_int_equal(t, type);
	if (len > 0)
		assert_memory_equal(out, m, len);
}

/* Fill p->recs with records 0..NREC-1 from the client. */
static void seal_many(struct pair *p)
{
	uint8_t m[PAYLOAD];
	int i;

	for (i = 0; i < NREC; i++) {
		memcpy(m, &i, sizeof(i));
		memset(m + sizeof(i), 0xee, PAYLOAD - sizeof(i));
		assert_int_equal(drec_seal(&p->r[1], chan_id, 1, m, PAYLOAD, p->recs[i],
		    REC_LEN), REC_LEN);
	}
}

static int open_rec(struct pair *p, int i)
{
	uint8_t out[PAYLOAD], t;

	return drec_open(&p->r[0], p->recs[i], REC_LEN, &t, &nw, out, sizeof(out));
}

/* ---- tests ---- */

/* Both directions, each suite DTLS may negotiate; empty and large payloads. */
static void test_drec_roundtrip_every_suite(void **state)
{
	static const char *suites[] = { "PSK-AES256-GCM-SHA384",
	    "PSK-AES128-GCM-SHA256", "PSK-CHACHA20-POLY1305" };
	static uint8_t big[1500];
	struct pair *p;
	size_t i;

	(void)state;
	memset(big, 0xab, sizeof(big));
	for (i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
		p = pair_new(suites[i]);
		assert_string_equal(SSL_get_cipher_name(p->e[1].ssl), suites[i]);
		roundtrip(p, 1, 1, (const uint8_t *)"hello", 5);
		roundtrip(p, 0, 1, (const uint8_t *)"world", 5);
		roundtrip(p, 1, 2, NULL, 0);
		roundtrip(p, 0, 3, big, sizeof(big));
		roundtrip(p, 1, 1, big, sizeof(big));
		pair_free(p);
	}
}

/* Each direction has its own key and IV: a record does not open with its
 * sender's receive key, nor after the session is replaced. The sequence
 * goes up by one per record, so equal messages differ on the wire. */
static void test_drec_directions_and_sequence(void **state)
{
	struct pair *p = *state, *q;
	uint8_t a[64], b[64], out[64], t;

	assert_int_equal(drec_seal(&p->r[1], chan_id, 1, (const uint8_t *)"same", 4, a,
	    sizeof(a)), DREC_OVERHEAD + 4);
	assert_int_equal(drec_seal(&p->r[1], chan_id, 1, (const uint8_t *)"same", 4, b,
	    sizeof(b)), DREC_OVERHEAD + 4);
	assert_int_equal(a[DTLS_HDR + DREC_SEQ_LEN - 1], 0);
	assert_int_equal(b[DTLS_HDR + DREC_SEQ_LEN - 1], 1);
	assert_memory_not_equal(a + DREC_HDR, b + DREC_HDR, 4 + DREC_TAG_LEN);
	assert_int_equal(drec_open(&p->r[1], a, DREC_OVERHEAD + 4, &t, &nw, out, sizeof(out)),
	    -EBADMSG);
	q = pair_new("PSK-AES256-GCM-SHA384");	/* same PSK, a new session */
	assert_int_equal(drec_open(&q->r[0], a, DREC_OVERHEAD + 4, &t, &nw, out, sizeof(out)),
	    -EBADMSG);
	pair_free(q);
	assert_int_equal(drec_open(&p->r[0], b, DREC_OVERHEAD + 4, &t, &nw, out, sizeof(out)), 4);
	assert_int_equal(drec_open(&p->r[0], a, DREC_OVERHEAD + 4, &t, &nw, out, sizeof(out)), 4);
}

/* Each field changed, or the record cut, fails; the genuine one opens
 * after, its sequence not burnt by the forgeries. */
static void test_drec_tampered_fields_fail(void **state)
{
	static const size_t at[] = {
		0,				/* magic */
		3,				/* channel id (AAD) */
		DTLS_HDR,			/* sequence, high byte */
		DTLS_HDR + DREC_SEQ_LEN - 1,	/* sequence, low byte */
		DREC_HDR - 1,			/* type (AAD) */
		DREC_HDR,			/* ciphertext */
		DREC_HDR + PAYLOAD - 1,
		DREC_HDR + PAYLOAD,		/* tag */
		REC_LEN - 1,
	};
	struct pair *p = *state;
	uint8_t f[REC_LEN], out[PAYLOAD], t;
	size_t i;

	seal_many(p);
	for (i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		memcpy(f, p->recs[0], REC_LEN);
		f[at[i]] ^= 0x01;
		assert_int_equal(drec_open(&p->r[0], f, REC_LEN, &t, &nw, out, sizeof(out)), -EBADMSG);
	}
	assert_int_equal(drec_open(&p->r[0], p->recs[0], DREC_OVERHEAD - 1, &t, &nw, out,
	    sizeof(out)), -EBADMSG);			/* no room for a tag */
	assert_int_equal(drec_open(&p->r[0], p->recs[0], REC_LEN - 1, &t, &nw, out,
	    sizeof(out)), -EBADMSG);			/* one byte short */
	assert_int_equal(drec_open(&p->r[0], p->recs[0], REC_LEN, &t, &nw, out,
	    PAYLOAD - 1), -EBADMSG);			/* larger than the buffer */
	assert_int_equal(open_rec(p, 0), PAYLOAD);
	assert_int_equal(open_rec(p, 0), -EBADMSG);	/* and only once */
}

/* The window: any order within DREC_WINDOW - 64 of the highest, each once;
 * older ones dropped; a jump far ahead forgets everything behind it. */
static void test_drec_replay_window_edges(void **state)
{
	struct pair *p = *state;
	int top = NREC - 1, edge = top - (DREC_WINDOW - 64) + 1, i;

	seal_many(p);
	assert_int_equal(open_rec(p, 5), PAYLOAD);
	assert_true(nw);				/* the newest so far */
	assert_int_equal(open_rec(p, 3), PAYLOAD);	/* late, not seen */
	assert_false(nw);
	assert_int_equal(open_rec(p, 5), -EBADMSG);	/* seen */
	assert_int_equal(open_rec(p, 64), PAYLOAD);	/* next word */
	assert_true(nw);
	assert_int_equal(open_rec(p, 4), PAYLOAD);
	assert_false(nw);
	assert_int_equal(open_rec(p, 3), -EBADMSG);
	assert_int_equal(open_rec(p, top), PAYLOAD);	/* a jump of many words */
	assert_true(nw);
	assert_int_equal(open_rec(p, edge - 1), -EBADMSG);	/* just too old */
	assert_int_equal(open_rec(p, 64), -EBADMSG);
	assert_int_equal(open_rec(p, edge), PAYLOAD);	/* the oldest it takes */
	assert_false(nw);
	assert_int_equal(open_rec(p, edge), -EBADMSG);
	for (i = top - 1; i > edge; i--)		/* all the rest, backwards */
		assert_int_equal(open_rec(p, i), PAYLOAD);
	for (i = edge; i <= top; i++)
		assert_int_equal(open_rec(p, i), -EBADMSG);
}

/* drec_keys takes only AES-GCM and ChaCha20-Poly1305, and exactly their
 * key material; a failure leaves nothing set. */
static void test_drec_keys_refused(void **state)
{
	uint8_t km[2 * DREC_KEY_MAX + 2 * DREC_IV_LEN] = { 0 };
	struct drec r;

	(void)state;
	memset(&r, 0, sizeof(r));
	assert_int_equal(drec_keys(&r, "AES-256-CBC", km, sizeof(km), true), -EPROTO);
	assert_int_equal(drec_keys(&r, "AES-128-CCM", km, 2 * 16 + 2 * DREC_IV_LEN, true),
	    -EPROTO);				/* an AEAD, but not one drec drives */
	assert_int_equal(drec_keys(&r, "no-such-cipher", km, sizeof(km), true), -EPROTO);
	assert_int_equal(drec_keys(&r, NULL, km, sizeof(km), true), -EPROTO);
	assert_int_equal(drec_keys(&r, "AES-256-GCM", km, sizeof(km) - 1, true), -EINVAL);
	assert_false(r.dr_on);
	assert_int_equal(drec_keys(&r, "AES-128-GCM", km, 2 * 16 + 2 * DREC_IV_LEN, true), 0);
	assert_true(r.dr_on);
	drec_free(&r);
}

/* Keys wiped: nothing seals or opens. */
static void test_drec_free_wipes(void **state)
{
	struct pair *p = *state;
	uint8_t dg[64], out[64], t;

	assert_int_equal(drec_seal(&p->r[1], chan_id, 1, (const uint8_t *)"x", 1, dg,
	    sizeof(dg)), DREC_OVERHEAD + 1);
	drec_free(&p->r[0]);
	assert_false(p->r[0].dr_on);
	assert_int_equal(drec_open(&p->r[0], dg, DREC_OVERHEAD + 1, &t, &nw, out, sizeof(out)),
	    -EBADMSG);
	assert_int_equal(drec_seal(&p->r[0], chan_id, 1, (const uint8_t *)"x", 1, dg,
	    sizeof(dg)), -EIO);
	assert_int_equal(drec_seal(&p->r[1], chan_id, 1, (const uint8_t *)"x", 1, dg,
	    DREC_OVERHEAD), -EMSGSIZE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_drec_roundtrip_every_suite),
		cmocka_unit_test_setup_teardown(test_drec_directions_and_sequence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drec_tampered_fields_fail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drec_replay_window_edges, setup, teardown),
		cmocka_unit_test(test_drec_keys_refused),
		cmocka_unit_test_setup_teardown(test_drec_free_wipes, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
