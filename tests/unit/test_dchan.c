/* test_dchan.c - the DTLS data channel of one session, both ends in one
 * process. A real TLS 1.3 session over a socketpair gives both dchans their
 * PSK; their datagrams then travel through an in-memory network: each
 * dchan's send callback queues the datagram, net_pump_one() hands the oldest
 * to the other end's dchan_input (header checked as peer.c and cli.c do)
 * from an address the test chooses, or loses it on request. Time is a fake
 * clock passed as `now`, except for OpenSSL's DTLS retransmit timer, which
 * reads the real clock: the loss tests sleep for it (about 2 s in all).
 * Callbacks only count and copy; assertions run outside OpenSSL.
 *
 * The whole group runs twice: with vpnd records (crypto/drec.c, what two
 * current ends use once their probes said so) and with VPND_DTLS_RECORDS=0
 * (DTLS records only, what an older peer gets). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "crypto/drec.h"
#include "crypto/dtls.h"
#include "crypto/fp.h"
#include "crypto/tls.h"
#include "tunnel/dchan.h"
#include "tunnel/udp.h"
#include "fixture.h"

#define NET_CAP    128			/* datagrams in flight */
#define DGRAM_CAP  (DTLS_HDR + UDP_DGRAM_MAX)
#define LINK_MTU   1500
#define DEAD_S     30			/* dead_peer_timeout, the default */
#define DEAD_MS    (DEAD_S * 1000ull)
#define WINDOW_MS  dchan_window_ms(DEAD_S)	/* as peer.c and cli.c */
#define PROBE_MS   dchan_probe_ms(DEAD_S)	/* as cli.c */
#define TICK_MS    250ull		/* SRV_TICK_MS, CLI_TICK_MS */
#define T0         1000000ull		/* fake clock start, ms */
#define RUN_MAX    1000			/* datagrams per net_run, a livelock guard */
#define REAL_MAX_MS 2500		/* a loss test gives up after this */

/* DTLS 1.2 record and handshake bytes, RFC 6347 4.1 and 4.2.2 */
#define REC_HDR      13
#define CT_CCS       20
#define CT_HANDSHAKE 22
#define CT_APPDATA   23
#define HS_HELLO_VERIFY 3

enum { SRV = 0, CLI = 1 };

static const uint8_t chan_id[DTLS_ID_LEN] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88 };

static struct fx_ends ends;
static bool recs;			/* this run: vpnd records */

struct net;

/* One end: its dchan and what its callbacks saw. */
struct side {
	struct net  *net;
	int          who;			/* SRV or CLI */
	struct dchan dc;
	bool         dc_on;			/* dchan_init done: free it */
	int          ups, downs, roams, msgs;
	int          types[4];			/* messages by DC_ type */
	uint8_t      last[UDP_MSG_MAX];	/* payload of the last message */
	size_t       last_len;
	struct sockaddr_storage roamed_to;
	int          sent;			/* datagrams it sent */
	int          bad_hdr;			/* datagrams not for its id */
};

struct dgram {
	int     to;				/* SRV or CLI */
	struct sockaddr_storage dst;		/* where the sender sent it */
	size_t  len;
	uint8_t buf[DGRAM_CAP];
};

struct net {
	struct fx_tls_pair tls, tls_other;
	struct side     side[2];
	struct dgram    q[NET_CAP];
	int             head, tail;
	bool            overflow;		/* a send did not fit: test fails */
	uint64_t        now;			/* the fake clock, ms */
	struct sockaddr_storage srv_addr;	/* the server's address */
	struct sockaddr_storage cli_from;	/* the client as the server sees it */
	bool            drop_all;		/* the path is down */
	/* lose this datagram? sees each before delivery; may keep state in n */
	bool          (*drop)(struct net *n, const struct dgram *d);
	int             hellos;			/* ClientHellos on the wire */
	bool            fin_lost;		/* the server's Finished was lost */
	int             lost;			/* datagrams the network lost */
	struct dgram    cap[2];			/* captured for replay and forgery */
	uint8_t         scratch[UDP_DGRAM_MAX];
};

/* ---- fixture: keys, contexts, a TLS session ---- */

static int group_teardown(void **state)
{
	(void)state;
	return fx_ends_close(&ends);
}

static int group_setup(void **state)
{
	(void)state;
	return fx_ends_open(&ends, "dchan");
}

/* A finished TLS 1.3 session between the two contexts. */
static void tls_pair_open(struct fx_tls_pair *p)
{
	fx_tls_pair_open(p);
	assert_non_null(p->srv = tls_ssl_new(ends.tls_srv, p->fds[0]));
	assert_non_null(p->cli = tls_ssl_new(ends.tls_cli, p->fds[1]));
	fx_tls_handshake(p);
	assert_int_equal(p->cli_rc, 1);
	assert_int_equal(p->srv_rc, 1);
	assert_int_equal(SSL_version(p->srv), TLS1_3_VERSION);
}

/* ---- the in-memory network ---- */

static struct sockaddr_storage addr4(const char *ip, uint16_t port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof(ss));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	inet_pton(AF_INET, ip, &sin->sin_addr);
	return ss;
}

static bool addr_eq(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

/* The next datagram's place at the tail of the queue. */
static uint8_t *net_slot(void *arg, size_t *cap)
{
	struct side *s = arg;
	struct net *n = s->net;

	if (n->tail == NET_CAP) {
		n->overflow = true;	/* no assert here: we are inside OpenSSL */
		return NULL;
	}
	*cap = DGRAM_CAP;
	return n->q[n->tail].buf;
}

static void net_push(void *arg, const struct sockaddr_storage *dst, size_t len)
{
	struct side *s = arg;
	struct dgram *d = &s->net->q[s->net->tail++];

	d->to = s->who == SRV ? CLI : SRV;
	d->dst = *dst;
	d->len = len;
	s->sent++;
}

static const struct dtls_out net_out = { .slot = net_slot, .push = net_push };

static void cb_msg(void *arg, uint8_t type, const uint8_t *p, size_t len)
{
	struct side *s = arg;

	s->msgs++;
	if (type < 4)
		s->types[type]++;
	s->last_len = len <= sizeof(s->last) ? len : 0;
	if (s->last_len > 0)
		memcpy(s->last, p, s->last_len);
}

static void cb_state(void *arg, bool up, const char *why)
{
	struct side *s = arg;

	(void)why;
	if (up)
		s->ups++;
	else
		s->downs++;
}

static void cb_roamed(void *arg, const struct sockaddr_storage *from)
{
	struct side *s = arg;

	s->roams++;
	s->roamed_to = *from;
}

static const struct dchan_cb side_cb = {
	.msg = cb_msg,
	.state = cb_state,
	.roamed = cb_roamed,
};

static struct dchan *srv_dc(struct net *n)
{
	return &n->side[SRV].dc;
}

static struct dchan *cli_dc(struct net *n)
{
	return &n->side[CLI].dc;
}

static const uint8_t *rec_of(const struct dgram *d)
{
	return d->buf + DTLS_HDR;
}

/* Hand d to its receiver as peer.c and cli.c do: our header and the
 * receiver's id, else it never reaches the dchan. */
static void net_deliver(struct net *n, const struct dgram *d,
    const struct sockaddr_storage *from)
{
	struct side *s = &n->side[d->to];
	const uint8_t *id = dtls_hdr_id(d->buf, d->len);

	if (id == NULL || memcmp(id, s->dc.dc_io.id, DTLS_ID_LEN) != 0) {
		s->bad_hdr++;
		return;
	}
	dchan_input(&s->dc, d->buf, d->len, from, n->now, n->scratch,
	    sizeof(n->scratch));
}

/* The address a datagram to `to` comes from: the client's socket is
 * connected, so it always names the server. */
static const struct sockaddr_storage *net_from(const struct net *n, int to)
{
	return to == SRV ? &n->cli_from : &n->srv_addr;
}

static int net_queued(const struct net *n)
{
	return n->tail - n->head;
}

static const struct dgram *net_head(const struct net *n)
{
	assert_true(net_queued(n) > 0);
	return &n->q[n->head];
}

/* Deliver or lose the oldest datagram; false when none is queued. */
static bool net_pump_one(struct net *n)
{
	const struct dgram *d;
	const uint8_t *random;

	if (n->head == n->tail)
		return false;
	d = &n->q[n->head++];
	if (d->to == SRV && dtls_is_client_hello(rec_of(d), d->len - DTLS_HDR, &random))
		n->hellos++;
	if (n->drop_all || (n->drop != NULL && n->drop(n, d)))
		n->lost++;
	else
		net_deliver(n, d, net_from(n, d->to));
	if (n->head == n->tail)
		n->head = n->tail = 0;	/* sends during delivery append at tail */
	return true;
}

static void net_run(struct net *n)
{
	int i;

	for (i = 0; i < RUN_MAX && net_pump_one(n); i++)
		;
	assert_int_equal(net_queued(n), 0);
	assert_false(n->overflow);
}

/* Take the oldest datagram off the wire into cap[slot], undelivered. */
static void net_capture(struct net *n, int slot)
{
	n->cap[slot] = *net_head(n);
	n->head++;
	if (n->head == n->tail)
		n->head = n->tail = 0;
}

static void net_tick(struct net *n)
{
	dchan_tick(cli_dc(n), n->now, PROBE_MS);
	dchan_tick(srv_dc(n), n->now, 0);	/* peer.c: the server never probes */
}

/* One loop turn of fake time: tick both ends, deliver what they sent. */
static void net_step(struct net *n, uint64_t ms)
{
	n->now += ms;
	net_tick(n);
	net_run(n);
}

static bool usable(const struct dchan *dc, const struct net *n)
{
	return dchan_usable(dc, n->now, WINDOW_MS);
}

static void side_init(struct net *n, int who, SSL *tls)
{
	struct side *s = &n->side[who];

	s->net = n;
	s->who = who;
	assert_int_equal(dchan_init(&s->dc, who == SRV ? ends.dtls_srv : ends.dtls_cli,
	    who == SRV, tls, chan_id, LINK_MTU, &net_out, &side_cb, s), 0);
	s->dc_on = true;
	if (who == SRV)
		s->dc.dc_window = WINDOW_MS;	/* as peer_offer_dtls() */
}

static int net_setup(void **state)
{
	struct net *n;

	if ((n = calloc(1, sizeof(*n))) == NULL)
		return -1;
	*state = n;
	n->now = T0;
	n->srv_addr = addr4("192.0.2.1", 4433);
	n->cli_from = addr4("198.51.100.7", 40000);
	tls_pair_open(&n->tls);
	side_init(n, SRV, n->tls.srv);
	side_init(n, CLI, n->tls.cli);
	return 0;
}

static int net_teardown(void **state)
{
	struct net *n = *state;
	int i;

	for (i = 0; i < 2; i++)
		if (n->side[i].dc_on)
			dchan_free(&n->side[i].dc);
	fx_tls_pair_close(&n->tls);
	fx_tls_pair_close(&n->tls_other);
	free(n);
	ERR_clear_error();
	return 0;
}

/* Connect and deliver everything: both ends up and usable. */
static void net_up(struct net *n)
{
	assert_int_equal(dchan_connect(cli_dc(n), &n->srv_addr, n->now), 0);
	net_run(n);
	assert_int_equal(srv_dc(n)->dc_state, DC_UP);
	assert_int_equal(cli_dc(n)->dc_state, DC_UP);
	assert_true(usable(srv_dc(n), n));
	assert_true(usable(cli_dc(n), n));
}

/* The datagram of one message of len bytes: a vpnd record (header with
 * sequence and type, the packet, the tag), or our header and one DTLS
 * record (record header, GCM's explicit nonce, the type byte, the packet,
 * the tag; docs/protocol.md, MTU). */
static size_t dgram_len(size_t len)
{
	return recs ? DREC_OVERHEAD + len : DTLS_HDR + REC_HDR + 8 + 1 + len + 16;
}

/* Where a message's ciphertext starts in its datagram. */
static size_t ct_off(void)
{
	return recs ? DREC_HDR : DTLS_HDR + REC_HDR + 8;
}

/* Send one DATA message from `from` and check the other end got it whole,
 * in one datagram of the kind this run uses. */
static void data_roundtrip(struct net *n, int from, const uint8_t *p, size_t len)
{
	struct side *to = &n->side[from == SRV ? CLI : SRV];
	int msgs = to->msgs, rx = (int)to->dc.dc_rx_pkts;

	assert_int_equal(dchan_send(&n->side[from].dc, DC_DATA, p, len), 0);
	assert_int_equal(net_queued(n), 1);
	assert_int_equal(net_head(n)->len, dgram_len(len));
	assert_int_equal(net_head(n)->buf[0], recs ? DTLS_MAGIC_REC : DTLS_MAGIC);
	net_run(n);
	assert_int_equal(to->msgs, msgs + 1);
	assert_int_equal((int)to->dc.dc_rx_pkts, rx + 1);
	assert_int_equal(to->last_len, len);
	assert_memory_equal(to->last, p, len);
}

/* data_roundtrip, but in datagrams of the kind magic says. */
static void data_roundtrip_kind(struct net *n, int from, uint8_t magic)
{
	struct side *to = &n->side[from == SRV ? CLI : SRV];
	int msgs = to->msgs;

	assert_int_equal(dchan_send(&n->side[from].dc, DC_DATA, "kind", 4), 0);
	assert_int_equal(net_queued(n), 1);
	assert_int_equal(net_head(n)->buf[0], magic);
	net_run(n);
	assert_int_equal(to->msgs, msgs + 1);
	assert_memory_equal(to->last, "kind", 4);
}

static void fill(uint8_t *p, size_t len, uint32_t seed)
{
	size_t i;

	for (i = 0; i < len; i++) {
		seed ^= seed << 13;	/* xorshift32: reproducible noise */
		seed ^= seed >> 17;
		seed ^= seed << 5;
		p[i] = (uint8_t)seed;
	}
}

static uint64_t real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- tests ---- */

/* (a) ClientHello, HelloVerifyRequest, ClientHello with the cookie, then
 * the PSK handshake; usable only once the probe and its ack got through. */
static void test_dchan_handshake_cookie_then_probe(void **state)
{
	struct net *n = *state;
	const struct dgram *d;
	const uint8_t *r1, *r2;
	uint8_t random1[32];
	size_t hello1_len;
	int i;

	assert_int_equal(dchan_connect(cli_dc(n), &n->srv_addr, n->now), 0);
	assert_int_equal(cli_dc(n)->dc_state, DC_HANDSHAKE);
	assert_int_equal(net_queued(n), 1);
	d = net_head(n);
	assert_int_equal(d->to, SRV);
	assert_true(addr_eq(&d->dst, &n->srv_addr));
	assert_int_equal(d->buf[0], DTLS_MAGIC);
	assert_memory_equal(d->buf + 1, chan_id, DTLS_ID_LEN);
	assert_true(dtls_is_client_hello(rec_of(d), d->len - DTLS_HDR, &r1));
	memcpy(random1, r1, sizeof(random1));
	hello1_len = d->len;

	/* The server answers with a HelloVerifyRequest, to the client. */
	assert_true(net_pump_one(n));
	assert_int_equal(srv_dc(n)->dc_state, DC_HANDSHAKE);
	assert_int_equal(net_queued(n), 1);
	d = net_head(n);
	assert_int_equal(d->to, CLI);
	assert_true(addr_eq(&d->dst, &n->cli_from));
	assert_int_equal(rec_of(d)[0], CT_HANDSHAKE);
	assert_int_equal(rec_of(d)[REC_HDR], HS_HELLO_VERIFY);
	assert_true(d->len < hello1_len);

	/* The client repeats its ClientHello (same random) with the cookie. */
	assert_true(net_pump_one(n));
	assert_int_equal(net_queued(n), 1);
	d = net_head(n);
	assert_true(dtls_is_client_hello(rec_of(d), d->len - DTLS_HDR, &r2));
	assert_memory_equal(r2, random1, sizeof(random1));
	assert_true(d->len > hello1_len);

	for (i = 0; i < RUN_MAX && cli_dc(n)->dc_state != DC_UP; i++)
		assert_true(net_pump_one(n));
	assert_int_equal(n->hellos, 2);
	assert_int_equal(srv_dc(n)->dc_state, DC_UP);
	assert_int_equal(cli_dc(n)->dc_state, DC_UP);
	assert_int_equal(n->side[SRV].ups, 1);
	assert_int_equal(n->side[CLI].ups, 1);
	assert_int_equal(SSL_version(srv_dc(n)->dc_ssl), DTLS1_2_VERSION);
	assert_string_equal(SSL_get_cipher_name(cli_dc(n)->dc_ssl),
	    "PSK-AES256-GCM-SHA384");
	/* Handshake done on both, but neither has heard a record yet. */
	assert_false(usable(srv_dc(n), n));
	assert_false(usable(cli_dc(n), n));
	assert_int_equal(dchan_send(cli_dc(n), DC_DATA, "x", 1), 0);
	assert_int_equal(net_queued(n), 2);	/* the probe, then "x" */
	n->tail--;				/* lose "x": only the probe */

	/* The probe goes in a DTLS record: the client does not know yet what
	 * the server takes. It says the client takes vpnd records (this run). */
	assert_int_equal(net_head(n)->buf[0], DTLS_MAGIC);
	assert_int_equal(cli_dc(n)->dc_rec.dr_on, recs);
	assert_true(net_pump_one(n));		/* probe -> server */
	assert_int_equal(n->side[SRV].types[DC_PROBE], 1);
	assert_int_equal(n->side[SRV].last_len, 1);
	assert_int_equal(n->side[SRV].last[0], recs ? DC_F_RECORDS : 0);
	assert_int_equal(srv_dc(n)->dc_rec_peer, recs);
	assert_true(usable(srv_dc(n), n));
	assert_false(usable(cli_dc(n), n));
	assert_int_equal(net_head(n)->buf[0], recs ? DTLS_MAGIC_REC : DTLS_MAGIC);
	assert_true(net_pump_one(n));		/* ack -> client */
	assert_int_equal(n->side[CLI].types[DC_PROBE_ACK], 1);
	assert_int_equal(cli_dc(n)->dc_rec_peer, recs);
	assert_true(usable(cli_dc(n), n));
	assert_int_equal(net_queued(n), 0);
	/* One datagram per flight at this MTU, and probes are not data. */
	assert_int_equal(n->side[CLI].sent, 5);	/* CH, CH+cookie, CKE..Fin, probe, "x" */
	assert_int_equal(n->side[SRV].sent, 4);	/* HVR, SH..SHD, CCS+Fin, ack */
	assert_int_equal(srv_dc(n)->dc_rx_pkts, 0);
	assert_int_equal(cli_dc(n)->dc_rx_pkts, 0);
	assert_int_equal(n->side[SRV].downs + n->side[CLI].downs, 0);
	assert_int_equal(n->side[SRV].roams + n->side[CLI].roams, 0);
}

/* dc_dropped (vpnctl's dtls_bad) counts records that fail to authenticate:
 * a clean handshake and clean traffic add nothing. */
static void test_dchan_clean_session_counts_no_drops(void **state)
{
	struct net *n = *state;

	/* The datagram that completes the handshake is the handshake's: an
	 * empty read after it must not count as a dropped record. */
	net_up(n);
	data_roundtrip(n, CLI, (const uint8_t *)"one", 3);
	data_roundtrip(n, SRV, (const uint8_t *)"two", 3);
	assert_int_equal(srv_dc(n)->dc_dropped, 0);
	assert_int_equal(cli_dc(n)->dc_dropped, 0);
}

/* (b) DATA both ways, small to the largest tunnel MTU, arrives intact;
 * sending is refused until up and above the largest message. */
static void test_dchan_data_both_ways(void **state)
{
	static const size_t sizes[] = { 1, 20, 576, 1400, 1500, FRAME_DATA_MAX };
	struct net *n = *state;
	static uint8_t pkt[UDP_MSG_MAX + 1];
	uint64_t dropped;
	size_t i;

	assert_int_equal(dchan_send(cli_dc(n), DC_DATA, "x", 1), -ENOTCONN);
	assert_int_equal(dchan_send(srv_dc(n), DC_DATA, "x", 1), -ENOTCONN);
	net_up(n);
	dropped = srv_dc(n)->dc_dropped + cli_dc(n)->dc_dropped;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		fill(pkt, sizes[i], (uint32_t)(i + 1));
		data_roundtrip(n, CLI, pkt, sizes[i]);
		fill(pkt, sizes[i], (uint32_t)(i + 101));
		data_roundtrip(n, SRV, pkt, sizes[i]);
	}
	assert_int_equal(cli_dc(n)->dc_tx_pkts, 6);
	assert_int_equal(srv_dc(n)->dc_tx_pkts, 6);
	assert_int_equal(n->side[SRV].types[DC_DATA], 6);
	assert_int_equal(n->side[CLI].types[DC_DATA], 6);
	assert_int_equal(dchan_send(cli_dc(n), DC_DATA, pkt, UDP_MSG_MAX), -EMSGSIZE);
	assert_int_equal(net_queued(n), 0);
	assert_int_equal(srv_dc(n)->dc_dropped + cli_dc(n)->dc_dropped, dropped);
}

/* (c) A replayed DATA record is not delivered twice, either way; a replayed
 * ClientHello of the running session changes nothing. */
static void test_dchan_replay_dropped(void **state)
{
	struct net *n = *state;
	struct dgram hello;
	uint64_t dropped;
	int msgs;

	assert_int_equal(dchan_connect(cli_dc(n), &n->srv_addr, n->now), 0);
	hello = *net_head(n);
	net_run(n);
	assert_true(usable(srv_dc(n), n));

	assert_int_equal(dchan_send(cli_dc(n), DC_DATA, "replay me", 9), 0);
	n->cap[0] = *net_head(n);
	net_run(n);
	msgs = n->side[SRV].msgs;
	dropped = srv_dc(n)->dc_dropped;
	net_deliver(n, &n->cap[0], &n->cli_from);
	assert_int_equal(n->side[SRV].msgs, msgs);
	assert_int_equal(srv_dc(n)->dc_dropped, dropped + 1);
	assert_int_equal(net_queued(n), 0);

	assert_int_equal(dchan_send(srv_dc(n), DC_DATA, "and me", 6), 0);
	n->cap[1] = *net_head(n);
	net_run(n);
	msgs = n->side[CLI].msgs;
	dropped = cli_dc(n)->dc_dropped;
	net_deliver(n, &n->cap[1], &n->srv_addr);
	assert_int_equal(n->side[CLI].msgs, msgs);
	assert_int_equal(cli_dc(n)->dc_dropped, dropped + 1);

	net_deliver(n, &hello, &n->cli_from);
	net_run(n);
	assert_int_equal(srv_dc(n)->dc_state, DC_UP);
	assert_int_equal(n->side[SRV].ups, 1);
	data_roundtrip(n, CLI, (const uint8_t *)"still", 5);
	data_roundtrip(n, SRV, (const uint8_t *)"here", 4);
}

/* (d) Records that do not authenticate, from another address: dropped and
 * counted, the endpoint stays, the real record still gets through after. */
static void test_dchan_forgery_dropped_endpoint_kept(void **state)
{
	struct net *n = *state;
	struct sockaddr_storage evil = addr4("203.0.113.66", 666);
	struct dgram *f = &n->cap[1];
	uint8_t *rec = f->buf + DTLS_HDR;
	uint64_t dropped;
	int msgs, forged = 0;

	net_up(n);
	assert_int_equal(dchan_send(cli_dc(n), DC_DATA, "genuine", 7), 0);
	net_capture(n, 0);
	msgs = n->side[SRV].msgs;
	dropped = srv_dc(n)->dc_dropped;

	*f = n->cap[0];
	f->buf[f->len - 1] ^= 0x01;		/* the tag */
	net_deliver(n, f, &evil);
	*f = n->cap[0];
	f->buf[ct_off() + 2] ^= 0x80;		/* the ciphertext */
	net_deliver(n, f, &evil);
	*f = n->cap[0];				/* the sequence number (AAD) */
	f->buf[recs ? DTLS_HDR + DREC_SEQ_LEN - 1 : DTLS_HDR + 10] ^= 0x01;
	net_deliver(n, f, &evil);
	forged = 3;
	if (recs) {
		*f = n->cap[0];
		f->buf[DREC_HDR - 1] = DC_PROBE;	/* the type (AAD) */
		net_deliver(n, f, &evil);
		*f = n->cap[0];
		f->len = DREC_OVERHEAD - 1;	/* too short for a tag */
		net_deliver(n, f, &evil);
		*f = n->cap[0];
		f->buf[0] = DTLS_MAGIC;		/* read as DTLS records */
		net_deliver(n, f, &evil);
		*f = n->cap[0];			/* noise in a record's shape */
		fill(f->buf + DTLS_HDR, f->len - DTLS_HDR, 7);
		net_deliver(n, f, &evil);
		forged += 4;
	} else {
		*f = n->cap[0];			/* noise in a record's shape */
		fill(rec + 3, f->len - DTLS_HDR - 3, 7);
		rec[0] = CT_APPDATA;
		rec[1] = 0xfe;
		rec[2] = 0xfd;
		rec[3] = 0;
		rec[4] = 1;
		rec[11] = (uint8_t)((f->len - DTLS_HDR - REC_HDR) >> 8);
		rec[12] = (uint8_t)(f->len - DTLS_HDR - REC_HDR);
		net_deliver(n, f, &evil);
		forged++;
	}
	fill(rec, f->len - DTLS_HDR, 8);	/* noise after our header */
	rec[0] = CT_APPDATA;
	net_deliver(n, f, &evil);
	forged++;

	assert_int_equal(n->side[SRV].msgs, msgs);
	assert_int_equal(srv_dc(n)->dc_dropped, dropped + (uint64_t)forged);
	assert_int_equal(n->side[SRV].roams, 0);
	assert_true(addr_eq(&srv_dc(n)->dc_io.dst, &n->cli_from));
	assert_int_equal(srv_dc(n)->dc_state, DC_UP);
	assert_int_equal(net_queued(n), 0);	/* no answer to a forger */

	f->buf[1] ^= 0xff;			/* another channel's id */
	net_deliver(n, f, &evil);
	assert_int_equal(n->side[SRV].bad_hdr, 1);

	net_deliver(n, &n->cap[0], &n->cli_from);	/* its number not burnt */
	assert_int_equal(n->side[SRV].msgs, msgs + 1);
	assert_memory_equal(n->side[SRV].last, "genuine", 7);
	assert_int_equal(dchan_send(srv_dc(n), DC_DATA, "reply", 5), 0);
	assert_true(addr_eq(&net_head(n)->dst, &n->cli_from));
	net_run(n);

	/* The same at the client. */
	assert_int_equal(dchan_send(srv_dc(n), DC_DATA, "to client", 9), 0);
	net_capture(n, 0);
	*f = n->cap[0];
	f->buf[f->len - 1] ^= 0x01;
	msgs = n->side[CLI].msgs;
	dropped = cli_dc(n)->dc_dropped;
	net_deliver(n, f, &n->srv_addr);
	assert_int_equal(n->side[CLI].msgs, msgs);
	assert_int_equal(cli_dc(n)->dc_dropped, dropped + 1);
	net_deliver(n, &n->cap[0], &n->srv_addr);
	assert_int_equal(n->side[CLI].msgs, msgs + 1);
}

/* (e) An authenticated record from a new address (NAT rebinding) moves the
 * server's endpoint once; replies and acks go there. */
static void test_dchan_roams_on_authenticated_record(void **state)
{
	struct net *n = *state;
	struct sockaddr_storage moved = addr4("198.51.100.99", 51000);

	net_up(n);
	n->cli_from = moved;
	data_roundtrip(n, CLI, (const uint8_t *)"from here now", 13);
	assert_int_equal(n->side[SRV].roams, 1);
	assert_true(addr_eq(&n->side[SRV].roamed_to, &moved));
	assert_true(addr_eq(&srv_dc(n)->dc_io.dst, &moved));

	assert_int_equal(dchan_send(srv_dc(n), DC_DATA, "there", 5), 0);
	assert_true(addr_eq(&net_head(n)->dst, &moved));
	net_run(n);
	assert_memory_equal(n->side[CLI].last, "there", 5);

	n->now += PROBE_MS;			/* idle: the client probes */
	net_tick(n);
	assert_int_equal(net_queued(n), 1);
	assert_true(net_pump_one(n));
	assert_true(addr_eq(&net_head(n)->dst, &moved));	/* the ack */
	net_run(n);
	assert_int_equal(n->side[SRV].roams, 1);	/* once, not per record */
	assert_int_equal(n->side[CLI].roams, 0);
	assert_true(usable(cli_dc(n), n));
}

/* (f) The path goes silent: after the window neither end uses the channel;
 * when it returns, the next probe and its ack bring both back within one
 * probe interval (and the tick that sends it). */
static void test_dchan_usable_follows_the_path(void **state)
{
	struct net *n = *state;
	uint64_t lost_at, back_at;
	int probes;

	net_up(n);
	lost_at = n->now;
	n->drop_all = true;
	while (n->now + TICK_MS < lost_at + WINDOW_MS)
		net_step(n, TICK_MS);
	assert_true(usable(srv_dc(n), n));
	assert_true(usable(cli_dc(n), n));
	net_step(n, TICK_MS);
	assert_int_equal(n->now, lost_at + WINDOW_MS);
	assert_false(usable(srv_dc(n), n));
	assert_false(usable(cli_dc(n), n));
	net_step(n, 1000);
	/* probes, all lost: after one goes unanswered they come three times as
	 * often, so a lost probe or ack does not cost the channel */
	assert_true((uint64_t)n->lost > (n->now - lost_at) / PROBE_MS);
	assert_true((uint64_t)n->lost <= (n->now - lost_at) / (PROBE_MS / 3) + 1);
	assert_int_equal(cli_dc(n)->dc_state, DC_UP);	/* silent, not failed */
	assert_int_equal(srv_dc(n)->dc_state, DC_UP);

	n->drop_all = false;
	back_at = n->now;
	probes = n->side[SRV].types[DC_PROBE];
	while (!(usable(srv_dc(n), n) && usable(cli_dc(n), n)) &&
	    n->now - back_at <= PROBE_MS + TICK_MS)
		net_step(n, TICK_MS);
	assert_true(usable(srv_dc(n), n));
	assert_true(usable(cli_dc(n), n));
	assert_true(n->now - back_at <= PROBE_MS + TICK_MS);	/* the tick after */
	assert_int_equal(n->side[SRV].types[DC_PROBE], probes + 1);
	data_roundtrip(n, CLI, (const uint8_t *)"back", 4);
	data_roundtrip(n, SRV, (const uint8_t *)"again", 5);
	assert_int_equal(n->side[SRV].downs + n->side[CLI].downs, 0);
}

static bool drop_first_probe(struct net *n, const struct dgram *d)
{
	(void)d;
	return n->lost == 0;
}

/* An idle channel whose one probe is lost stays in use: the window leaves
 * room for the next probe. */
static void test_dchan_one_lost_probe_keeps_channel(void **state)
{
	struct net *n = *state;
	uint64_t t0;
	bool flapped = false;

	net_up(n);
	t0 = n->now;
	n->drop = drop_first_probe;
	while (n->now - t0 < 3 * PROBE_MS) {
		net_step(n, TICK_MS);
		flapped |= !usable(srv_dc(n), n) || !usable(cli_dc(n), n);
	}
	assert_int_equal(n->lost, 1);
	assert_false(flapped);
}

/* Lose the first ClientHello, the first one with the cookie, and the
 * server's last flight (ChangeCipherSpec and Finished, one datagram): three
 * retransmit rounds, the last one answered by a server already up. */
static bool drop_handshake(struct net *n, const struct dgram *d)
{
	if (d->to == SRV)
		return n->hellos == 1 || n->hellos == 3;
	if (!n->fin_lost && rec_of(d)[0] == CT_CCS) {
		n->fin_lost = true;
		return true;
	}
	return false;
}

/* (g) The handshake completes through loss, by OpenSSL's retransmit timer
 * (real time: 0.5 s for each lost flight here). */
static void test_dchan_handshake_survives_loss(void **state)
{
	struct net *n = *state;
	uint64_t start = real_ms();

	n->drop = drop_handshake;
	assert_int_equal(dchan_connect(cli_dc(n), &n->srv_addr, n->now), 0);
	net_run(n);
	while (!(usable(srv_dc(n), n) && usable(cli_dc(n), n)) &&
	    real_ms() - start < REAL_MAX_MS) {
		usleep(50000);
		net_step(n, 50);
	}
	assert_int_equal(srv_dc(n)->dc_state, DC_UP);
	assert_int_equal(cli_dc(n)->dc_state, DC_UP);
	assert_true(usable(srv_dc(n), n));
	assert_true(usable(cli_dc(n), n));
	assert_int_equal(n->lost, 3);
	assert_true(n->fin_lost);
	assert_int_equal(n->hellos, 4);
	assert_int_equal(n->side[SRV].ups, 1);
	assert_int_equal(n->side[CLI].ups, 1);
	assert_int_equal(n->side[CLI].downs, 0);
	data_roundtrip(n, CLI, (const uint8_t *)"made it", 7);
	data_roundtrip(n, SRV, (const uint8_t *)"so did I", 8);
}

/* (h) A client that starts over (new random) gets a new session on the
 * server once the old one has been silent for the window (a live channel
 * is kept against a ClientHello, which anyone who sees the id can send);
 * the old session's records are dead. */
static void test_dchan_new_client_hello_restarts(void **state)
{
	struct net *n = *state;
	struct dgram *hello = &n->cap[1];
	const uint8_t *r;
	uint8_t random1[32];

	assert_int_equal(dchan_connect(cli_dc(n), &n->srv_addr, n->now), 0);
	assert_true(dtls_is_client_hello(rec_of(net_head(n)),
	    net_head(n)->len - DTLS_HDR, &r));
	memcpy(random1, r, sizeof(random1));
	net_run(n);
	assert_true(usable(srv_dc(n), n));
	assert_int_equal(dchan_send(cli_dc(n), DC_DATA, "old", 3), 0);
	net_capture(n, 0);

	n->now += 1000;
	dchan_reset(cli_dc(n));
	assert_int_equal(cli_dc(n)->dc_state, DC_IDLE);
	assert_false(usable(cli_dc(n), n));
	assert_int_equal(dchan_connect(cli_dc(n), &n->srv_addr, n->now), 0);
	*hello = *net_head(n);
	assert_true(dtls_is_client_hello(rec_of(hello), hello->len - DTLS_HDR, &r));
	assert_memory_not_equal(r, random1, sizeof(random1));
	net_run(n);				/* kept: the channel is live */
	assert_int_equal(srv_dc(n)->dc_state, DC_UP);
	assert_int_equal(n->side[SRV].ups, 1);
	assert_int_equal(cli_dc(n)->dc_state, DC_HANDSHAKE);

	n->now += WINDOW_MS;			/* silent for the window */
	net_deliver(n, hello, &n->cli_from);	/* its retransmission */
	net_run(n);
	assert_int_equal(srv_dc(n)->dc_state, DC_UP);
	assert_int_equal(cli_dc(n)->dc_state, DC_UP);
	assert_true(usable(srv_dc(n), n));
	assert_true(usable(cli_dc(n), n));
	assert_int_equal(n->side[SRV].ups, 2);
	assert_int_equal(n->side[CLI].ups, 2);

	net_deliver(n, &n->cap[0], &n->cli_from);	/* old keys */
	assert_int_equal(n->side[SRV].types[DC_DATA], 0);
	data_roundtrip(n, CLI, (const uint8_t *)"new", 3);
	data_roundtrip(n, SRV, (const uint8_t *)"new too", 7);
}

/* (i) A client whose PSK comes from another TLS session (same channel id)
 * never gets the server's channel up; nothing is delivered. */
static void test_dchan_wrong_psk_never_up(void **state)
{
	struct net *n = *state;
	struct side *c = &n->side[CLI];

	tls_pair_open(&n->tls_other);
	dchan_free(&c->dc);
	c->dc_on = false;
	side_init(n, CLI, n->tls_other.cli);
	assert_memory_not_equal(c->dc.dc_io.psk, srv_dc(n)->dc_io.psk, DTLS_PSK_LEN);

	assert_int_equal(dchan_connect(&c->dc, &n->srv_addr, n->now), 0);
	net_run(n);
	usleep(600000);			/* one retransmit of the client's flight */
	net_step(n, 600);
	assert_int_not_equal(srv_dc(n)->dc_state, DC_UP);
	assert_int_not_equal(c->dc.dc_state, DC_UP);
	assert_int_equal(n->side[SRV].ups, 0);
	assert_int_equal(c->ups, 0);
	assert_int_equal(n->side[SRV].msgs + c->msgs, 0);
	assert_false(usable(srv_dc(n), n));
	assert_int_equal(dchan_send(srv_dc(n), DC_DATA, "x", 1), -ENOTCONN);
}

/* A ClientHello is not authenticated: one with a new random from another
 * address must neither move the endpoint nor drop a live session. */
static void test_dchan_forged_client_hello_keeps_session(void **state)
{
	struct net *n = *state;
	struct sockaddr_storage evil = addr4("203.0.113.66", 666);
	struct dgram *f = &n->cap[0];
	const uint8_t *r;

	assert_int_equal(dchan_connect(cli_dc(n), &n->srv_addr, n->now), 0);
	*f = *net_head(n);
	net_run(n);
	assert_true(usable(srv_dc(n), n));
	assert_true(dtls_is_client_hello(rec_of(f), f->len - DTLS_HDR, &r));
	f->buf[DTLS_HDR + (size_t)(r - rec_of(f))] ^= 0x01;	/* new random */
	net_deliver(n, f, &evil);
	n->tail = n->head = 0;		/* whatever went to the forger */
	assert_int_equal(srv_dc(n)->dc_state, DC_UP);
	assert_true(addr_eq(&srv_dc(n)->dc_io.dst, &n->cli_from));
	assert_int_equal(n->side[SRV].roams, 0);
	data_roundtrip(n, CLI, (const uint8_t *)"still up", 8);
	data_roundtrip(n, SRV, (const uint8_t *)"yes", 3);
}

/* What cli_dtls_tick() does each tick: a failed channel is retried, and an
 * up one whose probes have gone unanswered for three windows starts over
 * with a new ClientHello. */
static void cli_dtls_tick_like(struct net *n, uint64_t *retry)
{
	struct dchan *dc = cli_dc(n);
	uint64_t heard = dc->dc_last_rx ? dc->dc_last_rx : dc->dc_started;

	if (dc->dc_state == DC_IDLE && n->now >= *retry)
		assert_int_equal(dchan_connect(dc, &n->srv_addr, n->now), 0);
	else if (dc->dc_state == DC_UP && n->now - heard >= 3 * WINDOW_MS &&
	    n->now >= *retry) {
		*retry = n->now + 3 * WINDOW_MS;
		assert_int_equal(dchan_connect(dc, &n->srv_addr, n->now), 0);
	}
}

/* The same on a channel that has gone silent (the path was down for the
 * window): the forged ClientHello may start a handshake on the server, but
 * once the path is back the client's new handshake brings DTLS back. */
static void test_dchan_forged_hello_on_silent_channel_recovers(void **state)
{
	struct net *n = *state;
	struct sockaddr_storage evil = addr4("203.0.113.66", 666);
	struct dgram *f = &n->cap[0];
	const uint8_t *r;
	uint64_t back_at, retry = 0;

	assert_int_equal(dchan_connect(cli_dc(n), &n->srv_addr, n->now), 0);
	*f = *net_head(n);
	net_run(n);
	n->drop_all = true;
	net_step(n, WINDOW_MS);
	assert_false(usable(srv_dc(n), n));
	assert_true(dtls_is_client_hello(rec_of(f), f->len - DTLS_HDR, &r));
	f->buf[DTLS_HDR + (size_t)(r - rec_of(f))] ^= 0x01;	/* new random */
	net_deliver(n, f, &evil);
	n->tail = n->head = 0;		/* whatever went to the forger */
	assert_int_equal(n->side[SRV].roams, 0);

	n->drop_all = false;
	back_at = n->now;
	while (!(usable(srv_dc(n), n) && usable(cli_dc(n), n)) &&
	    n->now - back_at < DEAD_MS) {
		cli_dtls_tick_like(n, &retry);
		net_step(n, TICK_MS);
	}
	assert_true(usable(srv_dc(n), n));
	assert_true(usable(cli_dc(n), n));
	assert_true(addr_eq(&srv_dc(n)->dc_io.dst, &n->cli_from));
	assert_int_equal(n->side[CLI].ups, 2);
	data_roundtrip(n, CLI, (const uint8_t *)"back", 4);
	data_roundtrip(n, SRV, (const uint8_t *)"and forth", 9);
}

/* A peer whose probes say nothing (an older vpnd, or VPND_DTLS_RECORDS=0
 * there) gets DTLS records, and its records are read whichever kind it
 * sends. */
static void test_dchan_older_peer_gets_dtls_records(void **state)
{
	struct net *n = *state;

	net_up(n);
	assert_int_equal(cli_dc(n)->dc_rec_peer, recs);
	cli_dc(n)->dc_rec_peer = false;		/* the client speaks as an old one */
	assert_int_equal(dchan_send(cli_dc(n), DC_PROBE, NULL, 0), 0);
	assert_int_equal(net_head(n)->buf[0], DTLS_MAGIC);
	assert_true(net_pump_one(n));
	assert_false(srv_dc(n)->dc_rec_peer);
	assert_int_equal(net_head(n)->buf[0], DTLS_MAGIC);	/* the ack */
	net_run(n);
	assert_int_equal(cli_dc(n)->dc_rec_peer, recs);	/* the ack said so again */
	cli_dc(n)->dc_rec_peer = false;
	assert_int_equal(dchan_send(srv_dc(n), DC_DATA, "old style", 9), 0);
	assert_int_equal(net_head(n)->len, DTLS_HDR + REC_HDR + 8 + 1 + 9 + 16);
	net_run(n);
	assert_memory_equal(n->side[CLI].last, "old style", 9);
	cli_dc(n)->dc_rec_peer = recs;		/* one end of each kind */
	assert_int_equal(dchan_send(cli_dc(n), DC_DATA, "either", 6), 0);
	assert_int_equal(net_head(n)->buf[0], recs ? DTLS_MAGIC_REC : DTLS_MAGIC);
	net_run(n);
	assert_memory_equal(n->side[SRV].last, "either", 6);
	assert_int_equal(srv_dc(n)->dc_dropped + cli_dc(n)->dc_dropped, 0);
}

/* Records reordered on the way are each delivered once: the replay window
 * takes late ones it has not seen and drops the ones it has. */
static void test_dchan_reordered_records_once(void **state)
{
	static const int order[] = { 4, 2, 0, 5, 1, 3, 2, 4 };
	struct net *n = *state;
	struct dgram d[6];
	char msg[2] = { 'a', 0 };
	int i, msgs;

	net_up(n);
	for (i = 0; i < 6; i++) {
		msg[0] = (char)('a' + i);
		assert_int_equal(dchan_send(cli_dc(n), DC_DATA, msg, 1), 0);
		d[i] = *net_head(n);
		net_capture(n, 0);
	}
	msgs = n->side[SRV].msgs;
	for (i = 0; i < 8; i++) {
		net_deliver(n, &d[order[i]], &n->cli_from);
		if (i < 6)
			assert_int_equal(n->side[SRV].last[0], 'a' + order[i]);
	}
	assert_int_equal(n->side[SRV].msgs, msgs + 6);
	assert_int_equal(srv_dc(n)->dc_dropped, 2);
}

/* ---- vpnd records only ---- */

/* Bring the channel up with VPND_DTLS_RECORDS=0 at one end only: the
 * variable is read as each end's handshake completes, the server's first. */
static void up_one_end_off(struct net *n, int off)
{
	int i;

	if (off == SRV)
		setenv("VPND_DTLS_RECORDS", "0", 1);
	assert_int_equal(dchan_connect(cli_dc(n), &n->srv_addr, n->now), 0);
	for (i = 0; i < RUN_MAX && srv_dc(n)->dc_state != DC_UP; i++)
		assert_true(net_pump_one(n));
	if (off == SRV)
		unsetenv("VPND_DTLS_RECORDS");
	else
		setenv("VPND_DTLS_RECORDS", "0", 1);
	net_run(n);
	unsetenv("VPND_DTLS_RECORDS");
	assert_true(usable(srv_dc(n), n));
	assert_true(usable(cli_dc(n), n));
	assert_int_equal(srv_dc(n)->dc_rec.dr_on, off != SRV);
	assert_int_equal(cli_dc(n)->dc_rec.dr_on, off != CLI);
}

/* An end without the keys says so, and the other one believes it: both
 * send DTLS records, whichever end it is (an end that sealed vpnd records
 * for a peer without keys would lose all its data). */
static void test_dchan_records_off_at_one_end(void **state)
{
	struct net *n = *state;
	int off;

	for (off = SRV; off <= CLI; off++) {
		if (off == CLI) {
			net_teardown(state);
			assert_int_equal(net_setup(state), 0);
			n = *state;
		}
		up_one_end_off(n, off);
		assert_false(srv_dc(n)->dc_rec_peer);
		assert_false(cli_dc(n)->dc_rec_peer);
		data_roundtrip_kind(n, CLI, DTLS_MAGIC);
		data_roundtrip_kind(n, SRV, DTLS_MAGIC);
		assert_int_equal(srv_dc(n)->dc_dropped + cli_dc(n)->dc_dropped, 0);
	}
}

/* A record held back and replayed from another address is delivered once
 * (it was never seen) but does not move the endpoint: only the newest
 * record roams. */
static void test_dchan_late_record_does_not_roam(void **state)
{
	struct net *n = *state;
	struct sockaddr_storage evil = addr4("203.0.113.66", 666);
	int msgs;

	net_up(n);
	assert_int_equal(dchan_send(cli_dc(n), DC_DATA, "early", 5), 0);
	net_capture(n, 0);			/* held back on the way */
	data_roundtrip(n, CLI, (const uint8_t *)"later", 5);
	msgs = n->side[SRV].msgs;
	net_deliver(n, &n->cap[0], &evil);
	assert_int_equal(n->side[SRV].msgs, msgs + 1);
	assert_memory_equal(n->side[SRV].last, "early", 5);
	assert_int_equal(n->side[SRV].roams, 0);
	assert_true(addr_eq(&srv_dc(n)->dc_io.dst, &n->cli_from));
	n->cli_from = evil;			/* the client really moves */
	data_roundtrip(n, CLI, (const uint8_t *)"moved", 5);
	assert_int_equal(n->side[SRV].roams, 1);
	assert_true(addr_eq(&srv_dc(n)->dc_io.dst, &evil));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, net_setup, net_teardown)
		T(test_dchan_handshake_cookie_then_probe),
		T(test_dchan_clean_session_counts_no_drops),
		T(test_dchan_data_both_ways),
		T(test_dchan_replay_dropped),
		T(test_dchan_forgery_dropped_endpoint_kept),
		T(test_dchan_roams_on_authenticated_record),
		T(test_dchan_usable_follows_the_path),
		T(test_dchan_one_lost_probe_keeps_channel),
		T(test_dchan_handshake_survives_loss),
		T(test_dchan_new_client_hello_restarts),
		T(test_dchan_wrong_psk_never_up),
		T(test_dchan_forged_client_hello_keeps_session),
		T(test_dchan_forged_hello_on_silent_channel_recovers),
		T(test_dchan_older_peer_gets_dtls_records),
		T(test_dchan_reordered_records_once),
#undef T
	};
	const struct CMUnitTest rec_tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, net_setup, net_teardown)
		T(test_dchan_records_off_at_one_end),
		T(test_dchan_late_record_does_not_roam),
#undef T
	};
	int failed;

	recs = true;
	unsetenv("VPND_DTLS_RECORDS");
	failed = cmocka_run_group_tests_name("dchan, vpnd records", tests,
	    group_setup, group_teardown);
	failed += cmocka_run_group_tests_name("dchan, vpnd records only", rec_tests,
	    group_setup, group_teardown);
	recs = false;
	setenv("VPND_DTLS_RECORDS", "0", 1);
	return failed + cmocka_run_group_tests_name("dchan, DTLS records", tests,
	    group_setup, group_teardown);
}
