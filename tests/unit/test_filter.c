/* test_filter.c - the server's verdict on a packet from a peer: anti-spoof
 * (inner source must be the peer's tunnel address), client isolation, and
 * the IPv4 header checks done before either. Headers are built by hand;
 * the tunnel network is 10.8.0.0/24 with the server on .1. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <cmocka.h>

#include "server/filter.h"

#define PEER   "10.8.0.10"
#define OTHER  "10.8.0.11"
#define SERVER "10.8.0.1"

static struct in_addr ip(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a;
}

/* The calls on a heap copy of exactly len bytes, so that ASan catches a
 * read past the length they were given. */
static uint8_t *exact(const uint8_t *p, size_t len)
{
	uint8_t *c = NULL;

	if (len > 0) {
		assert_non_null(c = malloc(len));
		memcpy(c, p, len);
	}
	return c;
}

static enum filt_verdict from_peer_exact(const struct filt_rules *r,
    const uint8_t *p, size_t len, struct in_addr *d)
{
	uint8_t *c = exact(p, len);
	enum filt_verdict v = filt_from_peer(r, ip("10.8.0.10"), c, len, d);

	free(c);
	return v;
}

static int tun_dst_exact(const uint8_t *p, size_t len, struct in_addr *d)
{
	uint8_t *c = exact(p, len);
	int r = filt_tun_dst(c, len, d);

	free(c);
	return r;
}

static struct filt_rules rules(bool c2c)
{
	struct filt_rules r = {
		.fr_net = { .addr = ip("10.8.0.0"), .plen = 24 },
		.fr_server = ip(SERVER),
		.fr_c2c = c2c,
	};

	return r;
}

/* An IPv4/UDP-ish packet of len bytes (len >= 20): version 4, IHL 5, total
 * length len, the given addresses; the rest is filler. */
static void pkt(uint8_t *p, size_t len, const char *src, const char *dst)
{
	struct in_addr s = ip(src), d = ip(dst);

	memset(p, 0xee, len);
	p[0] = 0x45;
	p[1] = 0;
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)(len & 0xff);
	p[8] = 64;		/* TTL */
	p[9] = 17;		/* UDP */
	memcpy(p + 12, &s.s_addr, 4);
	memcpy(p + 16, &d.s_addr, 4);
}

/* Verdict for a well-formed 60-byte packet from PEER's session. */
static enum filt_verdict verdict(bool c2c, const char *src, const char *dst,
    struct in_addr *out)
{
	struct filt_rules r = rules(c2c);
	uint8_t p[60];

	pkt(p, sizeof(p), src, dst);
	return filt_from_peer(&r, ip(PEER), p, sizeof(p), out);
}

static void test_filter_own_source_to_internet_goes_to_tun(void **state)
{
	static const char *dsts[] = { "1.1.1.1", "192.168.1.1", "10.8.1.1",
		"255.255.255.255", "224.0.0.1" };
	struct in_addr d;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(dsts) / sizeof(dsts[0]); i++) {
		d.s_addr = 0;
		assert_int_equal(verdict(false, PEER, dsts[i], &d), FILT_TO_TUN);
		assert_int_equal(d.s_addr, ip(dsts[i]).s_addr);
		assert_int_equal(verdict(true, PEER, dsts[i], &d), FILT_TO_TUN);
	}
}

static void test_filter_to_server_address_goes_to_tun(void **state)
{
	struct in_addr d;

	(void)state;
	assert_int_equal(verdict(false, PEER, SERVER, &d), FILT_TO_TUN);
	assert_int_equal(d.s_addr, ip(SERVER).s_addr);
	assert_int_equal(verdict(true, PEER, SERVER, &d), FILT_TO_TUN);
}

/* Any source but the peer's own is dropped, wherever it is going: another
 * peer's address, the server's, or an outside one the NAT would masquerade. */
static void test_filter_spoofed_source_dropped(void **state)
{
	static const char *srcs[] = { OTHER, SERVER, "10.8.0.0", "0.0.0.0",
		"192.168.1.5", "10.8.0.255", "10.8.1.10" };
	struct in_addr d;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(srcs) / sizeof(srcs[0]); i++) {
		assert_int_equal(verdict(false, srcs[i], "1.1.1.1", &d),
		    FILT_DROP_SPOOF);
		assert_int_equal(verdict(true, srcs[i], OTHER, &d),
		    FILT_DROP_SPOOF);
		assert_int_equal(verdict(true, srcs[i], SERVER, &d),
		    FILT_DROP_SPOOF);
	}
}

static void test_filter_peer_to_peer_isolated_without_c2c(void **state)
{
	struct in_addr d;

	(void)state;
	assert_int_equal(verdict(false, PEER, OTHER, &d), FILT_DROP_ISOLATED);
	assert_int_equal(verdict(false, PEER, "10.8.0.254", &d),
	    FILT_DROP_ISOLATED);
	/* Its own address is in the network too: not the server's business. */
	assert_int_equal(verdict(false, PEER, PEER, &d), FILT_DROP_ISOLATED);
}

static void test_filter_peer_to_peer_with_c2c(void **state)
{
	struct in_addr d;

	(void)state;
	d.s_addr = 0;
	assert_int_equal(verdict(true, PEER, OTHER, &d), FILT_TO_PEER);
	assert_int_equal(d.s_addr, ip(OTHER).s_addr);
}

/* The tunnel network's broadcast and network addresses reach every peer:
 * isolation must cover them. */
static void test_filter_tunnel_broadcast_isolated_without_c2c(void **state)
{
	struct in_addr d;

	(void)state;
	assert_int_equal(verdict(false, PEER, "10.8.0.255", &d),
	    FILT_DROP_ISOLATED);
	assert_int_equal(verdict(false, PEER, "10.8.0.0", &d),
	    FILT_DROP_ISOLATED);
}

/* Each way a header can lie about itself. */
static void test_filter_malformed_dropped(void **state)
{
	struct filt_rules r = rules(true);
	uint8_t p[64];
	struct in_addr d;
	size_t n;

	(void)state;
	/* Shorter than a header, at every length. */
	pkt(p, 20, PEER, "1.1.1.1");
	for (n = 0; n < 20; n++) {
		p[2] = 0;
		p[3] = (uint8_t)n;		/* a total length that fits */
		assert_int_equal(from_peer_exact(&r, p, n, &d),
		    FILT_DROP_MALFORMED);
	}
	p[3] = 20;
	assert_int_equal(from_peer_exact(&r, p, 20, &d), FILT_TO_TUN);

	pkt(p, 40, PEER, "1.1.1.1");
	p[0] = 0x65;					/* version 6 */
	assert_int_equal(filt_from_peer(&r, ip(PEER), p, 40, &d),
	    FILT_DROP_MALFORMED);
	p[0] = 0x05;					/* version 0 */
	assert_int_equal(filt_from_peer(&r, ip(PEER), p, 40, &d),
	    FILT_DROP_MALFORMED);

	for (n = 0; n < 5; n++) {			/* IHL 0..4 */
		pkt(p, 40, PEER, "1.1.1.1");
		p[0] = (uint8_t)(0x40 | n);
		assert_int_equal(filt_from_peer(&r, ip(PEER), p, 40, &d),
		    FILT_DROP_MALFORMED);
	}

	pkt(p, 40, PEER, "1.1.1.1");			/* total > len */
	assert_int_equal(from_peer_exact(&r, p, 39, &d), FILT_DROP_MALFORMED);
	p[2] = 0xff;
	p[3] = 0xff;
	assert_int_equal(filt_from_peer(&r, ip(PEER), p, 40, &d),
	    FILT_DROP_MALFORMED);

	pkt(p, 40, PEER, "1.1.1.1");			/* total < IHL */
	p[0] = 0x46;					/* 24-byte header */
	p[3] = 20;
	assert_int_equal(filt_from_peer(&r, ip(PEER), p, 40, &d),
	    FILT_DROP_MALFORMED);
	p[3] = 19;
	p[0] = 0x45;
	assert_int_equal(filt_from_peer(&r, ip(PEER), p, 40, &d),
	    FILT_DROP_MALFORMED);

	pkt(p, 64, PEER, "1.1.1.1");			/* IHL 15 > total */
	p[0] = 0x4f;
	p[3] = 40;
	assert_int_equal(filt_from_peer(&r, ip(PEER), p, 64, &d),
	    FILT_DROP_MALFORMED);
}

/* Edges that are fine: options (IHL 15 = 60 bytes), trailing bytes after
 * the total length, a header with no payload. Malformed is checked before
 * spoofing: a bad header from a spoofed source counts as malformed. */
static void test_filter_well_formed_edges(void **state)
{
	struct filt_rules r = rules(false);
	uint8_t p[64];
	struct in_addr d;

	(void)state;
	pkt(p, 60, PEER, "1.1.1.1");
	p[0] = 0x4f;
	assert_int_equal(filt_from_peer(&r, ip(PEER), p, 60, &d), FILT_TO_TUN);

	pkt(p, 40, PEER, "1.1.1.1");
	assert_int_equal(filt_from_peer(&r, ip(PEER), p, 64, &d), FILT_TO_TUN);

	pkt(p, 40, OTHER, "1.1.1.1");
	p[0] = 0x65;
	assert_int_equal(filt_from_peer(&r, ip(PEER), p, 40, &d),
	    FILT_DROP_MALFORMED);
}

static void test_filter_tun_dst(void **state)
{
	uint8_t p[40];
	struct in_addr d;
	size_t n;

	(void)state;
	pkt(p, sizeof(p), "1.1.1.1", PEER);
	d.s_addr = 0;
	assert_int_equal(filt_tun_dst(p, sizeof(p), &d), 0);
	assert_int_equal(d.s_addr, ip(PEER).s_addr);

	for (n = 0; n < 20; n++)
		assert_int_equal(tun_dst_exact(p, n, &d), -EPROTO);
	assert_int_equal(tun_dst_exact(p, 39, &d), -EPROTO);	/* total > len */
	p[0] = 0x60;
	assert_int_equal(filt_tun_dst(p, sizeof(p), &d), -EPROTO);
	p[0] = 0x44;
	assert_int_equal(filt_tun_dst(p, sizeof(p), &d), -EPROTO);
	p[0] = 0x45;
	p[3] = 19;
	assert_int_equal(filt_tun_dst(p, sizeof(p), &d), -EPROTO);
}

/* ---- IPv6: network6 fd00:8::/64, the server ::1, the peer ::a ---- */

#define PEER6   "fd00:8::a"
#define OTHER6  "fd00:8::b"
#define SERVER6 "fd00:8::1"

static struct in6_addr ip6(const char *s)
{
	struct in6_addr a;

	assert_int_equal(inet_pton(AF_INET6, s, &a), 1);
	return a;
}

static struct filt_rules rules6(bool c2c)
{
	struct filt_rules r = rules(c2c);

	r.fr_has6 = true;
	r.fr_net6 = ip6("fd00:8::");
	r.fr_net6_plen = 64;
	r.fr_server6 = ip6(SERVER6);
	return r;
}

/* An IPv6 packet of len bytes (>= 48): payload length len - 40, next header
 * NH, the given addresses, then filler (an 8-byte upper header of 0xee). */
static void pkt6(uint8_t *p, size_t len, uint8_t nh, const char *src, const char *dst)
{
	struct in6_addr s6 = ip6(src), d6 = ip6(dst);

	memset(p, 0xee, len);
	p[0] = 0x60;
	p[1] = p[2] = p[3] = 0;
	p[4] = (uint8_t)((len - 40) >> 8);
	p[5] = (uint8_t)(len - 40);
	p[6] = nh;
	p[7] = 64;
	memcpy(p + 8, &s6, 16);
	memcpy(p + 24, &d6, 16);
}

static enum filt_verdict v6(const struct filt_rules *r, const uint8_t *p, size_t len,
    struct in6_addr *d)
{
	struct in6_addr peer = ip6(PEER6);
	uint8_t *c = exact(p, len);
	enum filt_verdict v = filt_from_peer6(r, &peer, c, len, d);

	free(c);
	return v;
}

static void test_filter6_routes(void **state)
{
	struct filt_rules r = rules6(false), c = rules6(true), none = rules(false);
	struct in6_addr d, want = ip6("2001:db8::2");
	uint8_t p[80];

	(void)state;
	pkt6(p, 80, IPPROTO_UDP, PEER6, "2001:db8::2");
	assert_int_equal(v6(&r, p, 80, &d), FILT_TO_TUN);
	assert_memory_equal(&d, &want, 16);
	pkt6(p, 80, IPPROTO_UDP, PEER6, SERVER6);
	assert_int_equal(v6(&r, p, 80, &d), FILT_TO_TUN);
	pkt6(p, 80, IPPROTO_UDP, PEER6, OTHER6);
	assert_int_equal(v6(&r, p, 80, &d), FILT_DROP_ISOLATED);
	assert_int_equal(v6(&c, p, 80, &d), FILT_TO_PEER);
	pkt6(p, 80, IPPROTO_UDP, "fd00:8:0:1::a", OTHER6);	/* the next /64 */
	assert_int_equal(v6(&c, p, 80, &d), FILT_DROP_SPOOF);
	pkt6(p, 80, IPPROTO_UDP, OTHER6, "2001:db8::2");
	assert_int_equal(v6(&r, p, 80, &d), FILT_DROP_SPOOF);
	/* no network6: nothing is the peer's */
	pkt6(p, 80, IPPROTO_UDP, PEER6, "2001:db8::2");
	assert_int_equal(v6(&none, p, 80, &d), FILT_DROP_SPOOF);
	/* an odd prefix length: fd00:8::/60 holds fd00:8:0:f::1 */
	c.fr_net6_plen = 60;
	pkt6(p, 80, IPPROTO_UDP, PEER6, "fd00:8:0:f::1");
	assert_int_equal(v6(&c, p, 80, &d), FILT_TO_PEER);
	pkt6(p, 80, IPPROTO_UDP, PEER6, "fd00:8:0:10::1");
	assert_int_equal(v6(&c, p, 80, &d), FILT_TO_TUN);
}

/* The link's own traffic is never forwarded, and counts apart from spoofing. */
static void test_filter6_link_traffic(void **state)
{
	struct filt_rules r = rules6(true);
	struct in6_addr d;
	uint8_t p[80];
	int t;

	(void)state;
	pkt6(p, 80, IPPROTO_UDP, "fe80::a", "2001:db8::2");
	assert_int_equal(v6(&r, p, 80, &d), FILT_DROP_LINKLOCAL);
	pkt6(p, 80, IPPROTO_UDP, "ff02::1", "2001:db8::2");
	assert_int_equal(v6(&r, p, 80, &d), FILT_DROP_LINKLOCAL);
	pkt6(p, 80, IPPROTO_UDP, "::", "ff02::1:ff00:a");
	assert_int_equal(v6(&r, p, 80, &d), FILT_DROP_LINKLOCAL);
	pkt6(p, 80, IPPROTO_UDP, PEER6, "ff05::2");
	assert_int_equal(v6(&r, p, 80, &d), FILT_DROP_LINKLOCAL);
	pkt6(p, 80, IPPROTO_UDP, PEER6, "fe80::1");
	assert_int_equal(v6(&r, p, 80, &d), FILT_DROP_LINKLOCAL);
	for (t = 133; t <= 137; t++) {		/* RS, RA, NS, NA, redirect */
		pkt6(p, 80, IPPROTO_ICMPV6, PEER6, OTHER6);
		p[40] = (uint8_t)t;
		assert_int_equal(v6(&r, p, 80, &d), FILT_DROP_LINKLOCAL);
	}
	pkt6(p, 80, IPPROTO_ICMPV6, PEER6, "2001:db8::2");
	p[40] = 128;				/* echo request */
	assert_int_equal(v6(&r, p, 80, &d), FILT_TO_TUN);
	/* ND behind a destination-options header is still ND */
	pkt6(p, 80, IPPROTO_DSTOPTS, PEER6, OTHER6);
	p[40] = IPPROTO_ICMPV6;
	p[41] = 0;
	p[48] = 135;
	assert_int_equal(v6(&r, p, 80, &d), FILT_DROP_LINKLOCAL);
}

/* Truncated headers, bogus payload lengths, extension chains that run past
 * the packet or go on too long: malformed, and nothing read past len. */
static void test_filter6_malformed(void **state)
{
	struct filt_rules r = rules6(true);
	struct in6_addr d;
	uint8_t p[200];
	size_t n;
	int i;

	(void)state;
	pkt6(p, 80, IPPROTO_UDP, PEER6, "2001:db8::2");
	for (n = 0; n < 41; n++)
		assert_int_equal(v6(&r, p, n, &d), FILT_DROP_MALFORMED);
	assert_int_equal(v6(&r, p, 79, &d), FILT_DROP_MALFORMED);	/* plen past len */
	assert_int_equal(v6(&r, p, 90, &d), FILT_TO_TUN);		/* trailing bytes */
	p[4] = p[5] = 0;						/* jumbogram */
	assert_int_equal(v6(&r, p, 80, &d), FILT_DROP_MALFORMED);
	pkt6(p, 80, IPPROTO_UDP, PEER6, "2001:db8::2");
	p[0] = 0x40;
	assert_int_equal(v6(&r, p, 80, &d), FILT_DROP_MALFORMED);
	/* hop-by-hop of 8 bytes, then routing claiming 16 bytes in the last 8 */
	pkt6(p, 56, IPPROTO_HOPOPTS, PEER6, "2001:db8::2");
	p[40] = IPPROTO_ROUTING;
	p[41] = 0;
	p[48] = IPPROTO_UDP;
	p[49] = 1;
	assert_int_equal(v6(&r, p, 56, &d), FILT_DROP_MALFORMED);
	p[49] = 0;
	assert_int_equal(v6(&r, p, 56, &d), FILT_TO_TUN);
	/* a header that starts where the payload ends */
	pkt6(p, 48, IPPROTO_HOPOPTS, PEER6, "2001:db8::2");
	p[40] = IPPROTO_DSTOPTS;
	p[41] = 0;
	assert_int_equal(v6(&r, p, 48, &d), FILT_DROP_MALFORMED);
	/* AH counts in 4-byte words, plus 2 */
	pkt6(p, 56, IPPROTO_AH, PEER6, "2001:db8::2");
	p[40] = IPPROTO_UDP;
	p[41] = 3;		/* (3 + 2) * 4 = 20 > 16 */
	assert_int_equal(v6(&r, p, 56, &d), FILT_DROP_MALFORMED);
	p[41] = 2;		/* 16: ends exactly */
	assert_int_equal(v6(&r, p, 56, &d), FILT_TO_TUN);
	/* FILT_EXT_MAX destination options are fine, one more is not */
	for (n = 0; n <= 1; n++) {
		size_t len = 40 + 8 * (FILT_EXT_MAX + n) + 8;

		pkt6(p, len, IPPROTO_DSTOPTS, PEER6, "2001:db8::2");
		for (i = 0; i < FILT_EXT_MAX + (int)n; i++) {
			p[40 + 8 * i] = i + 1 < FILT_EXT_MAX + (int)n ? IPPROTO_DSTOPTS : IPPROTO_UDP;
			p[41 + 8 * i] = 0;
		}
		assert_int_equal(v6(&r, p, len, &d), n == 0 ? FILT_TO_TUN : FILT_DROP_MALFORMED);
	}
	/* ... also when the one too many is a later fragment */
	pkt6(p, 40 + 8 * (FILT_EXT_MAX + 1) + 8, IPPROTO_DSTOPTS, PEER6, "2001:db8::2");
	for (i = 0; i < FILT_EXT_MAX; i++) {
		p[40 + 8 * i] = i + 1 < FILT_EXT_MAX ? IPPROTO_DSTOPTS : IPPROTO_FRAGMENT;
		p[41 + 8 * i] = 0;
	}
	p[40 + 8 * FILT_EXT_MAX] = IPPROTO_UDP;
	p[42 + 8 * FILT_EXT_MAX] = 0x05;
	assert_int_equal(v6(&r, p, 40 + 8 * (FILT_EXT_MAX + 1) + 8, &d), FILT_DROP_MALFORMED);
	/* a later fragment: no upper header to read, still routed */
	pkt6(p, 80, IPPROTO_FRAGMENT, PEER6, "2001:db8::2");
	p[40] = IPPROTO_ICMPV6;
	p[42] = 0x05;
	p[43] = 0x00;		/* offset 160 */
	p[48] = 135;
	assert_int_equal(v6(&r, p, 80, &d), FILT_TO_TUN);
	/* the TUN side's checks */
	pkt6(p, 80, IPPROTO_UDP, "2001:db8::2", PEER6);
	assert_int_equal(filt_tun_dst6(p, 80, &d), 0);
	assert_int_equal(filt_tun_dst6(p, 79, &d), -EPROTO);
	assert_int_equal(filt_tun_dst6(p, 39, &d), -EPROTO);
	p[0] = 0x45;
	assert_int_equal(filt_tun_dst6(p, 80, &d), -EPROTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_filter_own_source_to_internet_goes_to_tun),
		cmocka_unit_test(test_filter_to_server_address_goes_to_tun),
		cmocka_unit_test(test_filter_spoofed_source_dropped),
		cmocka_unit_test(test_filter_peer_to_peer_isolated_without_c2c),
		cmocka_unit_test(test_filter_peer_to_peer_with_c2c),
		cmocka_unit_test(test_filter_tunnel_broadcast_isolated_without_c2c),
		cmocka_unit_test(test_filter_malformed_dropped),
		cmocka_unit_test(test_filter_well_formed_edges),
		cmocka_unit_test(test_filter_tun_dst),
		cmocka_unit_test(test_filter6_routes),
		cmocka_unit_test(test_filter6_link_traffic),
		cmocka_unit_test(test_filter6_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
