/* test_fwd.c - the server's data plane on a fake TUN device (a SEQPACKET
 * socketpair behind tun_fd_ops, so each write is one packet) and two
 * attached peers whose sessions sit on socketpairs that never finish a
 * handshake: a packet routed to a peer shows up as one more packet queued
 * on its session. Packets are IPv4 headers built by hand. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <uv.h>

#include "crypto/fp.h"
#include "crypto/tls.h"
#include "server/fwd.h"
#include "tunnel/sess.h"
#include "tunnel/tun.h"
#include "tunnel/udp.h"
#include "tunnel/vnet.h"
#include "fixture.h"

#include <linux/if_tun.h>

#define A_ADDR "10.8.0.10"
#define B_ADDR "10.8.0.11"

static struct fx_ends ends;

static const struct sess_cb quiet_cb;	/* never called: nothing handshakes */

struct peerx {
	struct sess     se;
	struct fwd_link link;
};

struct t {
	uv_loop_t    loop;
	int          tun[2];		/* [0] the device's fd, [1] the kernel's side */
	struct fwd  *fwd;
	int          udp_fd;		/* -1, or a socket fwd reads */
	struct peerx a, b;
};

static struct in_addr ip(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a;
}

/* A 28-byte IPv4/UDP-ish packet from src to dst. */
static size_t pkt4(uint8_t *p, const char *src, const char *dst)
{
	struct in_addr s = ip(src), d = ip(dst);

	memset(p, 0, 28);
	p[0] = 0x45;
	p[3] = 28;
	p[9] = 17;
	memcpy(p + 12, &s, 4);
	memcpy(p + 16, &d, 4);
	return 28;
}

static int group_setup(void **state)
{
	(void)state;
	return fx_ends_open(&ends, "fwd");
}

static int group_teardown(void **state)
{
	(void)state;
	return fx_ends_close(&ends);
}

static bool with6;		/* the next setup: network6 fd00:8::/64 too */

static void peer_open(struct t *t, struct peerx *p, const char *addr)
{
	int fds[2];
	SSL *ssl;

	fx_socketpair(fds);
	close(fds[1]);
	assert_non_null(ssl = tls_ssl_new(ends.tls_srv, fds[0]));
	assert_int_equal(sess_init(&p->se, &t->loop, fwd_batch(t->fwd), fds[0], ssl,
	    false, true, &quiet_cb, p), 0);
	p->link.fl_sess = &p->se;
	p->link.fl_addr = ip(addr);
	if ((p->link.fl_has6 = with6))	/* 10.8.0.10 -> fd00:8::10 */
		assert_int_equal(inet_pton(AF_INET6, p == &t->a ? "fd00:8::10" : "fd00:8::11",
		    &p->link.fl_addr6), 1);
	fwd_attach(t->fwd, &p->link);
}

static int setup_as(void **state, bool vnet)
{
	struct t *t = calloc(1, sizeof(*t));
	struct filt_rules r = { .fr_net = { .addr = ip("10.8.0.0"), .plen = 24 },
	    .fr_server = ip("10.8.0.1") };

	assert_non_null(t);
	if ((r.fr_has6 = with6)) {
		assert_int_equal(inet_pton(AF_INET6, "fd00:8::", &r.fr_net6), 1);
		r.fr_net6_plen = 64;
		assert_int_equal(inet_pton(AF_INET6, "fd00:8::1", &r.fr_server6), 1);
	}
	assert_int_equal(uv_loop_init(&t->loop), 0);
	t->udp_fd = -1;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, t->tun), 0);
	assert_int_equal(fwd_new(&t->fwd, &tun_fd_ops, (void *)(intptr_t)t->tun[0], vnet,
	    vnet ? TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 : 0, &r), 0);
	peer_open(t, &t->a, A_ADDR);
	peer_open(t, &t->b, B_ADDR);
	*state = t;
	return 0;
}

static int setup(void **state) { with6 = false; return setup_as(state, false); }
static int setup6(void **state) { with6 = true; return setup_as(state, false); }
static int setup_vnet(void **state) { with6 = false; return setup_as(state, true); }
static int setup_vnet6(void **state) { with6 = true; return setup_as(state, true); }

static void closed_cb(void *arg)
{
	(void)arg;
}

static int teardown(void **state)
{
	struct t *t = *state;
	static const struct sess_cb close_cb = { .closed = closed_cb };

	fwd_detach(&t->a.link);
	fwd_detach(&t->b.link);
	t->a.se.se_cb = t->b.se.se_cb = &close_cb;
	sess_close(&t->a.se);
	sess_close(&t->b.se);
	uv_run(&t->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&t->loop), 0);
	fwd_free(t->fwd);
	if (t->udp_fd >= 0)
		close(t->udp_fd);
	close(t->tun[0]);
	close(t->tun[1]);
	free(t);
	return 0;
}

static uint64_t queued(const struct peerx *p)
{
	return p->se.se_n.sc_tx_pkts;
}

/* What the peer's session received goes through its sink: fwd's. */
static void from_peer(struct peerx *p, const uint8_t *pkt, size_t len)
{
	assert_non_null(p->se.se_sink);
	p->se.se_sink(p->se.se_sink_arg, pkt, len, NULL);
}

static ssize_t tun_read(struct t *t, uint8_t *buf, size_t len)
{
	return read(t->tun[1], buf, len);
}

/* ---- TUN -> peer ---- */

static void test_tun_to_peer_by_destination(void **state)
{
	struct t *t = *state;
	struct fwd_stats s;
	uint8_t p[64];
	size_t n;

	n = pkt4(p, "198.19.0.2", A_ADDR);
	assert_int_equal(write(t->tun[1], p, n), (ssize_t)n);
	n = pkt4(p, "198.19.0.2", B_ADDR);
	assert_int_equal(write(t->tun[1], p, n), (ssize_t)n);
	assert_int_equal(write(t->tun[1], p, n), (ssize_t)n);
	fwd_tun_readable(t->fwd);
	assert_int_equal(queued(&t->a), 1);
	assert_int_equal(queued(&t->b), 2);
	fwd_stats(t->fwd, &s);
	assert_int_equal(s.fs_drop_noroute + s.fs_drop_malformed, 0);
}

static void test_tun_unknown_and_malformed_counted(void **state)
{
	struct t *t = *state;
	struct fwd_stats s;
	uint8_t p[64];
	size_t n;

	n = pkt4(p, "198.19.0.2", "10.8.0.99");		/* nobody holds it */
	assert_int_equal(write(t->tun[1], p, n), (ssize_t)n);
	n = pkt4(p, "198.19.0.2", "10.9.0.10");		/* outside the network */
	assert_int_equal(write(t->tun[1], p, n), (ssize_t)n);
	p[0] = 0x65;					/* not IPv4 */
	assert_int_equal(write(t->tun[1], p, n), (ssize_t)n);
	assert_int_equal(write(t->tun[1], p, 10), 10);	/* truncated */
	fwd_tun_readable(t->fwd);
	fwd_stats(t->fwd, &s);
	assert_int_equal(s.fs_drop_noroute, 2);
	assert_int_equal(s.fs_drop_malformed, 2);
	assert_int_equal(queued(&t->a) + queued(&t->b), 0);
}

static void test_detached_peer_gets_nothing(void **state)
{
	struct t *t = *state;
	struct fwd_stats s;
	uint8_t p[64];
	size_t n = pkt4(p, "198.19.0.2", A_ADDR);

	fwd_detach(&t->a.link);
	assert_null(t->a.se.se_sink);
	assert_int_equal(write(t->tun[1], p, n), (ssize_t)n);
	fwd_tun_readable(t->fwd);
	fwd_stats(t->fwd, &s);
	assert_int_equal(s.fs_drop_noroute, 1);
	assert_int_equal(queued(&t->a), 0);
}

/* ---- peer -> TUN or another peer ---- */

static void test_peer_to_tun(void **state)
{
	struct t *t = *state;
	uint8_t p[64], got[64];
	size_t n = pkt4(p, A_ADDR, "198.19.0.2");

	from_peer(&t->a, p, n);
	assert_int_equal(tun_read(t, got, sizeof(got)), (ssize_t)n);
	assert_memory_equal(got, p, n);
	n = pkt4(p, A_ADDR, "10.8.0.1");			/* the server itself */
	from_peer(&t->a, p, n);
	assert_int_equal(tun_read(t, got, sizeof(got)), (ssize_t)n);
}

static void test_peer_spoof_and_isolation(void **state)
{
	struct t *t = *state;
	struct fwd_stats s;
	uint8_t p[64], got[64];
	size_t n;

	n = pkt4(p, B_ADDR, "198.19.0.2");		/* A sends as B */
	from_peer(&t->a, p, n);
	n = pkt4(p, A_ADDR, B_ADDR);			/* A to B, isolated */
	from_peer(&t->a, p, n);
	p[0] = 0x46;					/* IHL says 24, fine; */
	p[3] = 200;					/* but longer than it is */
	from_peer(&t->a, p, n);
	fwd_stats(t->fwd, &s);
	assert_int_equal(s.fs_drop_spoof, 1);
	assert_int_equal(s.fs_drop_isolated, 1);
	assert_int_equal(s.fs_drop_malformed, 1);
	assert_int_equal(queued(&t->b), 0);
	assert_int_equal(tun_read(t, got, sizeof(got)), -1);	/* nothing reached TUN */
	assert_int_equal(errno, EAGAIN);
}

static void test_peer_to_peer_with_c2c(void **state)
{
	struct t *t = *state;
	uint8_t p[64];
	size_t n = pkt4(p, A_ADDR, B_ADDR);

	fwd_set_c2c(t->fwd, true);
	from_peer(&t->a, p, n);
	assert_int_equal(queued(&t->b), 1);
	n = pkt4(p, A_ADDR, "10.8.0.77");		/* c2c, but nobody there */
	from_peer(&t->a, p, n);
	assert_int_equal(queued(&t->b), 1);
}

/* ---- datagrams ---- */

static void test_datagram_for_no_channel(void **state)
{
	struct t *t = *state;
	struct sockaddr_storage any, me;
	struct sockaddr_in *sin = (struct sockaddr_in *)&any;
	socklen_t sl = sizeof(me);
	struct fwd_stats s;
	uint8_t dg[40] = { DTLS_MAGIC, 9, 9, 9, 9, 9, 9, 9, 9 };
	int tx;

	memset(&any, 0, sizeof(any));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true((t->udp_fd = udp_bind(&any)) >= 0);
	assert_int_equal(getsockname(t->udp_fd, (struct sockaddr *)&me, &sl), 0);
	assert_int_equal(fwd_add_udp(t->fwd, t->udp_fd), 0);
	assert_true((tx = udp_connect(&me)) >= 0);
	assert_int_equal(send(tx, dg, sizeof(dg), 0), (ssize_t)sizeof(dg));
	assert_int_equal(send(tx, "x", 1, 0), 1);		/* no header at all */
	/* loopback: a datagram is in the receiver's queue when send returns */
	fwd_udp_readable(t->fwd, 0);
	fwd_stats(t->fwd, &s);
	assert_int_equal(s.fs_udp_unknown, 2);
	close(tx);
}

static void test_new_dtls_ids_differ(void **state)
{
	struct t *t = *state;
	uint8_t a[DTLS_ID_LEN], b[DTLS_ID_LEN];

	assert_int_equal(fwd_new_dtls_id(t->fwd, a), 0);
	assert_int_equal(fwd_new_dtls_id(t->fwd, b), 0);
	assert_memory_not_equal(a, b, DTLS_ID_LEN);
}

/* ---- a TUN device with offloads (IFF_VNET_HDR) ---- */

static uint8_t big[VNET_HDR_LEN + VNET_PKT_MAX];

/* A TSO super-packet from the internet to A: 3 segments reach A's session,
 * each a whole packet; a plain packet behind a zero header goes as it is. */
static void test_vnet_tun_to_peer_segments(void **state)
{
	struct t *t = *state;
	struct virtio_net_hdr h;
	size_t n;
	uint8_t p[64];

	n = fx_tcpudp_pkt(big + VNET_HDR_LEN, 4, IPPROTO_TCP, 3500, 0, 0x18, &h, 1360);
	memcpy(big + VNET_HDR_LEN + 12, "\xc6\x13\x00\x02\x0a\x08\x00\x0a", 8);	/* to A */
	memcpy(big, &h, VNET_HDR_LEN);
	assert_int_equal(write(t->tun[1], big, VNET_HDR_LEN + n), (ssize_t)(VNET_HDR_LEN + n));
	memset(big, 0, VNET_HDR_LEN);
	n = pkt4(p, "198.19.0.2", B_ADDR);
	memcpy(big + VNET_HDR_LEN, p, n);
	assert_int_equal(write(t->tun[1], big, VNET_HDR_LEN + n), (ssize_t)(VNET_HDR_LEN + n));
	fwd_tun_readable(t->fwd);
	assert_int_equal(queued(&t->a), 3);
	assert_int_equal(queued(&t->b), 1);
	assert_int_equal(t->a.se.se_n.sc_tx_bytes, 3500 + 3 * 40);
}

/* Segments of one TCP flow from A reach the device as one super-packet,
 * at the flush, behind a TSO header; a packet of another kind goes alone,
 * behind a zero header. */
static void test_vnet_peer_to_tun_coalesced(void **state)
{
	struct t *t = *state;
	struct virtio_net_hdr h, got;
	struct vnet_info vi;
	uint8_t *seg = malloc(VNET_PKT_MAX), p[64];
	size_t n, hl = 40, off;
	int i;

	n = fx_tcpudp_pkt(big, 4, IPPROTO_TCP, 3 * 1360, 0, 0x10, &h, 1360);
	assert_int_equal(vnet_check(&h, big, n, 0, &vi), 0);
	for (i = 0, off = hl; i < 3; i++, off += 1360) {	/* cut by hand, as DTLS brings them */
		memcpy(seg, big, hl);
		memcpy(seg + hl, big + off, 1360);
		seg[2] = (uint8_t)((hl + 1360) >> 8);
		seg[3] = (uint8_t)(hl + 1360);
		seg[5] = (uint8_t)(0xfe + i);		/* IDs 0xfffe, 0xffff, 0x0000 */
		seg[4] = i < 2 ? 0xff : 0x00;
		{
			uint32_t sq = 0xfffff000u + (uint32_t)i * 1360;

			seg[24] = (uint8_t)(sq >> 24); seg[25] = (uint8_t)(sq >> 16);
			seg[26] = (uint8_t)(sq >> 8);  seg[27] = (uint8_t)sq;
		}
		from_peer(&t->a, seg, hl + 1360);
	}
	n = pkt4(p, A_ADDR, "198.19.0.2");
	from_peer(&t->a, p, n);
	assert_int_equal(tun_read(t, big, sizeof(big)), (ssize_t)(VNET_HDR_LEN + n));	/* the UDP one at once */
	fwd_flush(t->fwd);
	assert_int_equal(tun_read(t, big, sizeof(big)), (ssize_t)(VNET_HDR_LEN + hl + 3 * 1360));
	memcpy(&got, big, VNET_HDR_LEN);
	assert_int_equal(got.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
	assert_int_equal(got.gso_size, 1360);
	assert_int_equal(tun_read(t, big, sizeof(big)), -1);
	free(seg);
}

/* ---- IPv6 (network6) ---- */

/* A 48-byte IPv6/UDP packet from src to dst. */
static size_t pkt6(uint8_t *p, const char *src, const char *dst)
{
	memset(p, 0, 48);
	p[0] = 0x60;
	p[5] = 8;
	p[6] = 17;
	p[7] = 64;
	assert_int_equal(inet_pton(AF_INET6, src, p + 8), 1);
	assert_int_equal(inet_pton(AF_INET6, dst, p + 24), 1);
	return 48;
}

/* TUN -> the peer holding the IPv6 destination (the hash), IPv4 still by
 * its own table; a destination nobody holds, or a peer detached, is no
 * route; a bad payload length is malformed. */
static void test_tun_to_peer6(void **state)
{
	struct t *t = *state;
	struct fwd_stats s;
	uint8_t p[64];
	size_t n;

	n = pkt6(p, "2001:db8::2", "fd00:8::10");
	assert_int_equal(write(t->tun[1], p, n), (ssize_t)n);
	n = pkt6(p, "2001:db8::2", "fd00:8::11");
	assert_int_equal(write(t->tun[1], p, n), (ssize_t)n);
	assert_int_equal(write(t->tun[1], p, n), (ssize_t)n);
	n = pkt4(p, "198.19.0.2", A_ADDR);
	assert_int_equal(write(t->tun[1], p, n), (ssize_t)n);
	fwd_tun_readable(t->fwd);
	assert_int_equal(queued(&t->a), 2);
	assert_int_equal(queued(&t->b), 2);
	n = pkt6(p, "2001:db8::2", "fd00:8::12");		/* nobody */
	assert_int_equal(write(t->tun[1], p, n), (ssize_t)n);
	p[5] = 200;						/* past the end */
	assert_int_equal(write(t->tun[1], p, n), (ssize_t)n);
	fwd_detach(&t->b.link);
	n = pkt6(p, "2001:db8::2", "fd00:8::11");
	assert_int_equal(write(t->tun[1], p, n), (ssize_t)n);
	fwd_tun_readable(t->fwd);
	fwd_stats(t->fwd, &s);
	assert_int_equal(s.fs_drop_noroute, 2);
	assert_int_equal(s.fs_drop_malformed, 1);
	assert_int_equal(queued(&t->b), 2);
}

/* From a peer: its own IPv6 source to TUN; another's source is spoofed,
 * to another peer isolated, link-local and multicast the link's own. */
static void test_peer6_filtered(void **state)
{
	struct t *t = *state;
	struct fwd_stats s;
	uint8_t p[64], got[64];
	size_t n;

	n = pkt6(p, "fd00:8::10", "2001:db8::2");
	from_peer(&t->a, p, n);
	assert_int_equal(tun_read(t, got, sizeof(got)), (ssize_t)n);
	n = pkt6(p, "fd00:8::10", "fd00:8::1");
	from_peer(&t->a, p, n);
	assert_int_equal(tun_read(t, got, sizeof(got)), (ssize_t)n);
	n = pkt6(p, "fd00:8::11", "2001:db8::2");		/* a as b */
	from_peer(&t->a, p, n);
	n = pkt6(p, "fd00:8::10", "fd00:8::11");		/* a to b */
	from_peer(&t->a, p, n);
	n = pkt6(p, "fe80::10", "fe80::1");
	from_peer(&t->a, p, n);
	n = pkt6(p, "fd00:8::10", "ff02::1");
	from_peer(&t->a, p, n);
	fwd_stats(t->fwd, &s);
	assert_int_equal(s.fs_drop_spoof, 1);
	assert_int_equal(s.fs_drop_isolated, 1);
	assert_int_equal(s.fs_drop_linklocal, 2);
	assert_int_equal(queued(&t->b), 0);
	assert_int_equal(tun_read(t, got, sizeof(got)), -1);
	fwd_set_c2c(t->fwd, true);
	n = pkt6(p, "fd00:8::10", "fd00:8::11");
	from_peer(&t->a, p, n);
	assert_int_equal(queued(&t->b), 1);
	/* bad input: truncated header, payload length past the end or 0, an
	 * extension header chain that runs past the packet */
	n = pkt6(p, "fd00:8::10", "2001:db8::2");
	from_peer(&t->a, p, 39);
	p[5] = 9;
	from_peer(&t->a, p, n);
	p[5] = 0;
	from_peer(&t->a, p, n);
	p[5] = 8;
	p[6] = 0;		/* hop-by-hop options of (p[41] + 1) * 8 = 16 bytes: past 48 */
	p[41] = 1;
	from_peer(&t->a, p, n);
	fwd_stats(t->fwd, &s);
	assert_int_equal(s.fs_drop_malformed, 4);
	assert_int_equal(tun_read(t, got, sizeof(got)), -1);
}

/* An IPv6 TSO super-packet from TUN goes to the peer holding its
 * destination, cut for a peer that takes no GSO frames; to an address
 * nobody holds it is one drop, not three. */
static void test_vnet6_tun_to_peer(void **state)
{
	struct t *t = *state;
	struct virtio_net_hdr h;
	struct fwd_stats s;
	struct in6_addr a, nobody;
	size_t n;

	assert_int_equal(inet_pton(AF_INET6, "fd00:8::10", &a), 1);
	assert_int_equal(inet_pton(AF_INET6, "fd00:8::77", &nobody), 1);
	n = fx_tcpudp_pkt(big + VNET_HDR_LEN, 6, IPPROTO_TCP, 3500, 0, 0x18, &h, 1360);
	memcpy(big + VNET_HDR_LEN + 8, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x02", 16);
	memcpy(big + VNET_HDR_LEN + 24, &a, 16);
	memcpy(big, &h, VNET_HDR_LEN);
	assert_int_equal(write(t->tun[1], big, VNET_HDR_LEN + n), (ssize_t)(VNET_HDR_LEN + n));
	memcpy(big + VNET_HDR_LEN + 24, &nobody, 16);
	assert_int_equal(write(t->tun[1], big, VNET_HDR_LEN + n), (ssize_t)(VNET_HDR_LEN + n));
	fwd_tun_readable(t->fwd);
	assert_int_equal(queued(&t->a), 3);
	assert_int_equal(t->a.se.se_n.sc_tx_bytes, 3500 + 3 * 60);
	assert_int_equal(queued(&t->b), 0);
	fwd_stats(t->fwd, &s);
	assert_int_equal(s.fs_drop_noroute, 1);
}

/* Without network6 no IPv6 source is a peer's own. */
static void test_peer6_without_network6(void **state)
{
	struct t *t = *state;
	struct fwd_stats s;
	uint8_t p[64];
	size_t n = pkt6(p, "fd00:8::10", "2001:db8::2");

	from_peer(&t->a, p, n);
	fwd_stats(t->fwd, &s);
	assert_int_equal(s.fs_drop_spoof, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tun_to_peer_by_destination, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vnet_tun_to_peer_segments, setup_vnet, teardown),
		cmocka_unit_test_setup_teardown(test_vnet_peer_to_tun_coalesced, setup_vnet, teardown),
		cmocka_unit_test_setup_teardown(test_tun_unknown_and_malformed_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_detached_peer_gets_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peer_to_tun, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peer_spoof_and_isolation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peer_to_peer_with_c2c, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tun_to_peer6, setup6, teardown),
		cmocka_unit_test_setup_teardown(test_peer6_filtered, setup6, teardown),
		cmocka_unit_test_setup_teardown(test_peer6_without_network6, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vnet6_tun_to_peer, setup_vnet6, teardown),
		cmocka_unit_test_setup_teardown(test_datagram_for_no_channel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_dtls_ids_differ, setup, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
