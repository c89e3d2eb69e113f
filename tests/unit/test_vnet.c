/* test_vnet.c - virtio_net_hdr checks, checksums and segmentation against
 * packets built by hand. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "tests/unit/fixture.h"
#include "tunnel/vnet.h"

static uint16_t g16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t g32(const uint8_t *p) { return (uint32_t)g16(p) << 16 | g16(p + 2); }
static void p16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
#define build fx_tcpudp_pkt
#define assert_csums fx_assert_csums

static uint8_t pkt[VNET_PKT_MAX + 64], scratch[VNET_PKT_MAX];

static void segment_tcp(int ipv)
{
	struct virtio_net_hdr h;
	struct vnet_info vi;
	struct fx_segs *s = calloc(1, sizeof(*s));
	size_t len = build(pkt, ipv, IPPROTO_TCP, 3500, 12, 0x80 | 0x10 | 0x08 | 0x01, &h, 1400);
	size_t l3 = ipv == 4 ? 20 : 40, hl = l3 + 32, got = 0;
	int i;

	assert_int_equal(vnet_check(&h, pkt, len, 1500, &vi), 0);
	assert_int_equal(vi.vi_hlen, hl);
	assert_int_equal(vi.vi_nseg, 3);
	assert_int_equal(vnet_segment(&h, &vi, pkt, len, scratch, sizeof(scratch), fx_segs_collect, s), 3);
	assert_int_equal(s->n, 3);
	for (i = 0; i < 3; i++) {
		const uint8_t *q = s->pkt[i], *t = q + l3;
		size_t n = i < 2 ? 1400 : 700;

		assert_int_equal(s->len[i], hl + n);
		if (ipv == 4) {
			assert_int_equal(g16(q + 2), hl + n);
			assert_int_equal(g16(q + 4), (uint16_t)(0xfffe + i));	/* ID +1 */
		} else
			assert_int_equal(g16(q + 4), hl + n - 40);
		assert_int_equal(g32(t + 4), (uint32_t)(0xfffff000u + (uint32_t)i * 1400));
		assert_int_equal(t[13] & 0x80, i == 0 ? 0x80 : 0);		/* CWR first */
		assert_int_equal(t[13] & 0x09, i == 2 ? 0x09 : 0);		/* PSH, FIN last */
		assert_int_equal(t[13] & 0x10, 0x10);				/* ACK all */
		assert_memory_equal(q + hl, pkt + hl + got, n);
		assert_memory_equal(q + l3 + 20, pkt + l3 + 20, 12);		/* options */
		assert_csums(q, s->len[i]);
		got += n;
	}
	assert_int_equal(got, 3500);
	free(s);
}

static void test_segment_tcp4(void **st) { (void)st; segment_tcp(4); }
static void test_segment_tcp6(void **st) { (void)st; segment_tcp(6); }

static void test_segment_udp(void **st)
{
	struct virtio_net_hdr h;
	struct vnet_info vi;
	struct fx_segs *s = calloc(1, sizeof(*s));
	int ipv, i;

	(void)st;
	for (ipv = 4; ipv <= 6; ipv += 2) {
		size_t len = build(pkt, ipv, IPPROTO_UDP, 2500, 0, 0, &h, 1000);
		size_t l3 = ipv == 4 ? 20 : 40;

		memset(s, 0, sizeof(*s));
		assert_int_equal(vnet_check(&h, pkt, len, 1500, &vi), 0);
		assert_int_equal(vnet_segment(&h, &vi, pkt, len, scratch, sizeof(scratch), fx_segs_collect, s), 3);
		for (i = 0; i < 3; i++) {
			size_t n = i < 2 ? 1000 : 500;

			assert_int_equal(s->len[i], l3 + 8 + n);
			assert_int_equal(g16(s->pkt[i] + l3 + 4), 8 + n);	/* UDP length */
			assert_memory_equal(s->pkt[i] + l3 + 8, pkt + l3 + 8 + (size_t)i * 1000, n);
			assert_csums(s->pkt[i], s->len[i]);
		}
	}
	free(s);
}

/* One segment exactly, and a super-packet whose payload is a multiple. */
static void test_segment_edges(void **st)
{
	struct virtio_net_hdr h;
	struct vnet_info vi;
	struct fx_segs *s = calloc(1, sizeof(*s));
	size_t len;

	(void)st;
	len = build(pkt, 4, IPPROTO_TCP, 1400, 0, 0x18, &h, 1400);
	assert_int_equal(vnet_check(&h, pkt, len, 1440, &vi), 0);
	assert_int_equal(vnet_segment(&h, &vi, pkt, len, scratch, sizeof(scratch), fx_segs_collect, s), 1);
	assert_int_equal(s->pkt[0][33] & 0x08, 0x08);	/* PSH kept on the only one */
	assert_csums(s->pkt[0], s->len[0]);
	memset(s, 0, sizeof(*s));
	len = build(pkt, 6, IPPROTO_TCP, 4200, 0, 0x10, &h, 1400);
	assert_int_equal(vnet_check(&h, pkt, len, 0, &vi), 0);
	assert_int_equal(vnet_segment(&h, &vi, pkt, len, scratch, sizeof(scratch), fx_segs_collect, s), 3);
	assert_int_equal(s->len[2], 60 + 1400);
	/* scratch smaller than one segment */
	assert_int_equal(vnet_segment(&h, &vi, pkt, len, scratch, 60 + 1399, fx_segs_collect, s), -ENOSPC);
	free(s);
}

static void test_csum_finish(void **st)
{
	struct virtio_net_hdr h;
	struct vnet_info vi;
	struct fx_segs *s = calloc(1, sizeof(*s));
	size_t len;
	int ipv;

	(void)st;
	for (ipv = 4; ipv <= 6; ipv += 2) {
		len = build(pkt, ipv, IPPROTO_TCP, 777, 4, 0x18, &h, 0);	/* odd length */
		assert_int_equal(vnet_check(&h, pkt, len, 1500, &vi), 0);
		assert_int_equal(vi.vi_nseg, 1);
		memset(s, 0, sizeof(*s));
		assert_int_equal(vnet_segment(&h, &vi, pkt, len, scratch, sizeof(scratch), fx_segs_collect, s), 1);
		assert_int_equal(s->len[0], len);
		assert_csums(s->pkt[0], len);
		len = build(pkt, ipv, IPPROTO_UDP, 100, 0, 0, &h, 0);
		vnet_csum_finish(&h, pkt, len);
		assert_csums(pkt, len);
	}
	/* no NEEDS_CSUM: left alone */
	len = build(pkt, 4, IPPROTO_TCP, 10, 0, 0x18, &h, 0);
	h.flags = 0;
	memcpy(scratch, pkt, len);
	vnet_csum_finish(&h, pkt, len);
	assert_memory_equal(scratch, pkt, len);
	free(s);
}

/* Each field wrong on its own is refused. */
static void test_check_rejects(void **st)
{
	struct virtio_net_hdr h, g;
	struct vnet_info vi;
	size_t len, len6;

	(void)st;
	len = build(pkt, 4, IPPROTO_TCP, 3000, 0, 0x10, &g, 1400);
#define REJECT(rc, mtu, stmt) do { h = g; stmt; \
	assert_int_equal(vnet_check(&h, pkt, len, mtu, &vi), rc); } while (0)
	REJECT(0, 1500, (void)0);
	REJECT(-EPROTONOSUPPORT, 1500, h.gso_type = VIRTIO_NET_HDR_GSO_UDP);
	REJECT(-EPROTONOSUPPORT, 1500, h.gso_type = 7);
	REJECT(-EPROTO, 1500, h.gso_type = VIRTIO_NET_HDR_GSO_TCPV6);
	REJECT(-EPROTO, 1500, h.gso_type = VIRTIO_NET_HDR_GSO_UDP_L4);
	REJECT(0, 1500, h.gso_type |= VIRTIO_NET_HDR_GSO_ECN);
	REJECT(-EPROTO, 1500, h.flags |= 0x04);
	REJECT(-EPROTO, 1500, h.flags = 0);
	REJECT(-EPROTO, 1500, h.csum_start = 24);
	REJECT(-EPROTO, 1500, h.csum_offset = 6);
	REJECT(-EPROTO, 1500, h.gso_size = 0);
	REJECT(-EPROTO, 1500, h.hdr_len = (uint16_t)(len + 1));
	REJECT(-EMSGSIZE, 1439, (void)0);		/* 40 + 1400 > 1439 */
	REJECT(-EPROTO, 1500, len = len - 1);		/* tot_len says more */
	len = len + 1;
	REJECT(-EPROTO, 1500, pkt[6] |= 0x20);		/* MF */
	pkt[6] &= (uint8_t)~0x20;
	REJECT(-EPROTO, 1500, pkt[0] = 0x44);		/* IHL 4 */
	pkt[0] = 0x45;
	REJECT(-EPROTO, 1500, pkt[0] = 0x55);		/* version 5 */
	pkt[0] = 0x45;
	REJECT(-EPROTO, 1500, pkt[9] = IPPROTO_UDP);
	pkt[9] = IPPROTO_TCP;
	REJECT(-EPROTO, 1500, pkt[32] = 0x40);		/* doff 4 */
	REJECT(-EPROTO, 1500, (pkt[32] = 0xf0, len = 70, p16(pkt + 2, 70)));	/* doff past len */
	len = build(pkt, 4, IPPROTO_TCP, 3000, 0, 0x10, &g, 1400);
	REJECT(-EPROTO, 1500, (len = 40, p16(pkt + 2, 40)));		/* no payload */
	REJECT(-EPROTO, 1500, len = 19);
	REJECT(-EMSGSIZE, 1500, len = VNET_PKT_MAX + 1);
	len = build(pkt, 4, IPPROTO_TCP, 3000, 0, 0x10, &g, 1400);
	/* not GSO: a stray size, ECN alone, a checksum field past the end */
	REJECT(-EPROTO, 1500, (h.gso_type = 0, h.gso_size = 5));
	REJECT(-EPROTO, 1500, (h.gso_type = VIRTIO_NET_HDR_GSO_ECN, h.gso_size = 0));
	REJECT(-EPROTO, 0, (h.gso_type = 0, h.gso_size = 0, h.csum_start = (uint16_t)(len - 17)));
	REJECT(-EPROTO, 0, (h.gso_type = 0, h.gso_size = 0, h.csum_start = 10));
	REJECT(-EMSGSIZE, 1500, (h.gso_type = 0, h.gso_size = 0));	/* 3040 > mtu */
	REJECT(0, 0, (h.gso_type = 0, h.gso_size = 0));
	/* UDP: length field, ECN */
	len = build(pkt, 4, IPPROTO_UDP, 3000, 0, 0, &g, 1400);
	REJECT(0, 1500, (void)0);
	REJECT(-EPROTO, 1500, h.gso_type |= VIRTIO_NET_HDR_GSO_ECN);
	REJECT(-EPROTO, 1500, p16(pkt + 24, 3007));
	/* IPv6: payload length, an extension header, v4 type */
	len6 = build(pkt, 6, IPPROTO_TCP, 3000, 0, 0x10, &g, 1400);
	len = len6;
	REJECT(0, 1500, (void)0);
	REJECT(-EPROTO, 1500, p16(pkt + 4, 3019));
	p16(pkt + 4, 3020);
	REJECT(-EPROTONOSUPPORT, 1500, pkt[6] = 0);	/* hop-by-hop first */
	pkt[6] = IPPROTO_TCP;
	REJECT(-EPROTO, 1500, h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4);
	REJECT(-EPROTO, 1500, len = 39);
#undef REJECT
}

/* Random headers over random and real packets: never a crash, and what
 * passes the check segments into packets within the MTU. */
static void test_check_random(void **st)
{
	struct virtio_net_hdr h;
	struct vnet_info vi;
	struct fx_segs *s = calloc(1, sizeof(*s));
	unsigned seed = 12345, passed = 0;
	int i, j;

	(void)st;
	for (i = 0; i < 20000; i++) {
		size_t len;

		seed = seed * 1103515245u + 12345u;
		len = build(pkt, seed & 1 ? 6 : 4, seed & 2 ? IPPROTO_UDP : IPPROTO_TCP,
		    1 + (seed >> 8) % 3000, 0, 0x18, &h, (uint16_t)(500 + (seed >> 20) % 1000));
		for (j = 0; j < (int)(seed >> 28); j++)	/* a few random bytes */
			pkt[(seed >> (j % 16)) % (len + 8)] ^= (uint8_t)(seed >> 3);
		if ((seed >> 27) & 1)
			((uint8_t *)&h)[(seed >> 13) % sizeof(h)] ^= (uint8_t)(seed >> 5);
		if (vnet_check(&h, pkt, len, 1500, &vi) != 0)
			continue;
		passed++;
		memset(s, 0, sizeof(*s));
		if (vi.vi_nseg > FX_SEGS_MAX)
			continue;
		assert_int_equal(vnet_segment(&h, &vi, pkt, len, scratch, sizeof(scratch),
		    fx_segs_collect, s), vi.vi_nseg);
		for (j = 0; j < s->n; j++)
			assert_true(s->len[j] <= 1500);
	}
	assert_true(passed > 1000);	/* the valid ones mostly pass */
	free(s);
}

/* The word-at-a-time checksum equals RFC 1071's byte-pair sum for every
 * length, offset and content, chained parts included. */
static uint32_t ref_sum(uint32_t sum, const uint8_t *b, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	return sum;
}

static void test_csum_matches_reference(void **st)
{
	uint8_t buf[300];
	unsigned seed = 7;
	size_t off, len, i;

	(void)st;
	for (i = 0; i < sizeof(buf); i++) {
		seed = seed * 1103515245u + 12345u;
		buf[i] = (uint8_t)(seed >> 16);
	}
	memset(buf + 100, 0xff, 64);		/* carries */
	for (off = 0; off < 9; off++)
		for (len = 0; len + off <= sizeof(buf); len++) {
			assert_int_equal(vnet_csum_fold(vnet_csum_add(0, buf + off, len)),
			    vnet_csum_fold(ref_sum(0, buf + off, len)));
			if (len >= 6)
				assert_int_equal(vnet_csum_fold(vnet_csum_add(vnet_csum_add(0x1234,
				    buf + off, 6), buf + off + 6, len - 6)),
				    vnet_csum_fold(ref_sum(0x1234, buf + off, len)));
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csum_matches_reference),
		cmocka_unit_test(test_segment_tcp4),
		cmocka_unit_test(test_segment_tcp6),
		cmocka_unit_test(test_segment_udp),
		cmocka_unit_test(test_segment_edges),
		cmocka_unit_test(test_csum_finish),
		cmocka_unit_test(test_check_rejects),
		cmocka_unit_test(test_check_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
