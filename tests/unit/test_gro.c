/* test_gro.c - coalescing TCP segments and UDP datagrams into
 * super-packets: a super-packet cut by vnet_segment and coalesced again is
 * the same, and every rule that ends a run (sequence, IPv4 ID, PSH, a short
 * segment, other flags, other headers, a datagram without a checksum)
 * keeps the packets apart and in order. */
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
#include "tunnel/gro.h"
#include "tunnel/vnet.h"

#define OUT_MAX 24
struct out {
	int                   n;
	struct virtio_net_hdr h[OUT_MAX];
	size_t                len[OUT_MAX];
	uint8_t               pkt[OUT_MAX][VNET_PKT_MAX];
};

static int capture(void *arg, const uint8_t *buf, size_t len)
{
	struct out *o = arg;

	assert_true(o->n < OUT_MAX);
	assert_true(len > VNET_HDR_LEN);
	memcpy(&o->h[o->n], buf, VNET_HDR_LEN);
	memcpy(o->pkt[o->n], buf + VNET_HDR_LEN, len - VNET_HDR_LEN);
	o->len[o->n++] = len - VNET_HDR_LEN;
	return (int)len;
}

static void put16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v >> 16); put16(p + 2, v); }

static uint8_t sup[VNET_PKT_MAX], scratch[VNET_PKT_MAX];

/* A super-packet of PAYLOAD bytes cut into segments of GSO bytes; the
 * first segment's sequence number and IPv4 ID moved on by SKIP segments. */
static void cut_proto(struct fx_segs *s, int ipv, int proto, size_t payload, uint16_t gso,
    uint8_t flags, uint32_t seq_add, uint16_t id_add, uint16_t sport)
{
	struct virtio_net_hdr h;
	struct vnet_info vi;
	size_t len = fx_tcpudp_pkt(sup, ipv, proto, payload, 12, flags, &h, gso);
	size_t l3 = ipv == 4 ? 20 : 40;

	if (proto == IPPROTO_TCP)
		put32(sup + l3 + 4, 0xfffff000u + seq_add);
	put16(sup + l3, sport);
	if (ipv == 4)
		put16(sup + 4, (uint16_t)(0xfffe + id_add));
	s->n = 0;
	assert_int_equal(vnet_check(&h, sup, len, 0, &vi), 0);
	assert_int_equal(vnet_segment(&h, &vi, sup, len, scratch, sizeof(scratch), fx_segs_collect, s),
	    vi.vi_nseg);
}

static void cut(struct fx_segs *s, int ipv, size_t payload, uint16_t gso, uint8_t flags,
    uint32_t seq_add, uint16_t id_add, uint16_t sport)
{
	cut_proto(s, ipv, IPPROTO_TCP, payload, gso, flags, seq_add, id_add, sport);
}

static struct out *out_new_what(struct gro **g, unsigned what)
{
	struct out *o = calloc(1, sizeof(*o));

	assert_non_null(o);
	assert_int_equal(gro_new(g, what, capture, o), 0);
	return o;
}

static struct out *out_new(struct gro **g) { return out_new_what(g, GRO_TCP | GRO_UDP); }

static void feed(struct gro *g, const struct fx_segs *s, int from, int to)
{
	for (int i = from; i < to; i++)
		gro_add(g, s->pkt[i], s->len[i]);
}

/* Output k is the super-packet of segments s[from..to): cut again, it gives
 * them back byte for byte, and its partial checksum finishes right. */
static void assert_run(struct out *o, int k, const struct fx_segs *s, int from, int to)
{
	struct fx_segs *again = calloc(1, sizeof(*again));
	struct vnet_info vi;
	int i;

	if (to - from == 1) {
		assert_int_equal(o->h[k].gso_type, VIRTIO_NET_HDR_GSO_NONE);
		assert_int_equal(o->h[k].flags, 0);
		assert_int_equal(o->len[k], s->len[from]);
		assert_memory_equal(o->pkt[k], s->pkt[from], s->len[from]);
		free(again);
		return;
	}
	assert_int_not_equal(o->h[k].gso_type, VIRTIO_NET_HDR_GSO_NONE);
	assert_int_equal(vnet_check(&o->h[k], o->pkt[k], o->len[k], 1500, &vi), 0);
	assert_int_equal(vi.vi_nseg, to - from);
	assert_int_equal(vnet_segment(&o->h[k], &vi, o->pkt[k], o->len[k], scratch,
	    sizeof(scratch), fx_segs_collect, again), to - from);
	for (i = from; i < to; i++) {
		assert_int_equal(again->len[i - from], s->len[i]);
		assert_memory_equal(again->pkt[i - from], s->pkt[i], s->len[i]);
	}
	memcpy(sup, o->pkt[k], o->len[k]);
	vnet_csum_finish(&o->h[k], sup, o->len[k]);
	fx_assert_csums(sup, o->len[k]);
	free(again);
}

static void round_trip(int ipv)
{
	struct fx_segs *s = calloc(1, sizeof(*s));
	struct gro *g;
	struct out *o = out_new(&g);

	cut(s, ipv, 5000, 1388, 0x18, 0, 0, 40000);	/* ACK|PSH: PSH on the last */
	assert_int_equal(s->n, 4);
	feed(g, s, 0, 4);
	assert_int_equal(o->n, 0);			/* held until the flush */
	gro_flush(g);
	assert_int_equal(o->n, 1);
	assert_int_equal(o->h[0].gso_type, ipv == 4 ? VIRTIO_NET_HDR_GSO_TCPV4 :
	    VIRTIO_NET_HDR_GSO_TCPV6);
	assert_int_equal(o->h[0].gso_size, 1388);
	assert_int_equal(o->h[0].csum_start, ipv == 4 ? 20 : 40);
	assert_int_equal(o->h[0].csum_offset, 16);
	assert_int_equal(o->h[0].flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	assert_run(o, 0, s, 0, 4);
	assert_int_equal(gro_stats(g)->gs_in, 4);
	assert_int_equal(gro_stats(g)->gs_out, 1);
	assert_int_equal(gro_stats(g)->gs_merged, 3);
	gro_free(g);
	free(o);
	free(s);
}

static void test_round_trip4(void **st) { (void)st; round_trip(4); }
static void test_round_trip6(void **st) { (void)st; round_trip(6); }

/* PSH and a short segment end a run; what follows starts the next. */
static void test_run_ends(void **st)
{
	struct fx_segs *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct gro *g;
	struct out *o = out_new(&g);

	(void)st;
	cut(a, 4, 2800, 1400, 0x18, 0, 0, 40000);	/* 2 segments, PSH on the 2nd */
	cut(b, 4, 2800, 1400, 0x10, 2800, 2, 40000);	/* continues it exactly */
	feed(g, a, 0, 2);
	feed(g, b, 0, 2);
	gro_flush(g);
	assert_int_equal(o->n, 2);
	assert_run(o, 0, a, 0, 2);
	assert_run(o, 1, b, 0, 2);
	o->n = 0;
	cut(a, 4, 2000, 1400, 0x10, 0, 0, 40000);	/* 1400 + a short 600 */
	cut(b, 4, 1400, 1400, 0x10, 2000, 2, 40000);
	feed(g, a, 0, 2);
	feed(g, b, 0, 1);
	gro_flush(g);
	assert_int_equal(o->n, 2);
	assert_run(o, 0, a, 0, 2);
	assert_run(o, 1, b, 0, 1);
	gro_free(g);
	free(o);
	free(a);
	free(b);
}

/* A gap in the sequence, an ID that does not follow, a window or an option
 * that changed: no merge, and the order stays. */
static void test_no_merge(void **st)
{
	struct fx_segs *s = calloc(1, sizeof(*s));
	struct gro *g;
	struct out *o = out_new(&g);
	int what;

	(void)st;
	for (what = 0; what < 4; what++) {
		cut(s, 4, 4200, 1400, 0x10, 0, 0, 40000);
		switch (what) {
		case 0: memmove(s->pkt[1], s->pkt[2], s->len[2]); break;	/* seg 1 lost */
		case 1: s->pkt[2][5] ^= 1; break;				/* IPv4 ID */
		case 2: s->pkt[2][20 + 14] ^= 1; break;				/* window */
		case 3: s->pkt[2][20 + 20] = 0; break;				/* an option */
		}
		o->n = 0;
		feed(g, s, 0, what == 0 ? 2 : 3);
		gro_flush(g);
		if (what == 0) {
			assert_int_equal(o->n, 2);
			assert_run(o, 0, s, 0, 1);
			assert_run(o, 1, s, 1, 2);
		} else {
			assert_int_equal(o->n, 2);
			assert_run(o, 0, s, 0, 2);
			assert_run(o, 1, s, 2, 3);
		}
	}
	gro_free(g);
	free(o);
	free(s);
}

/* A FIN of the flow goes out after the flow's run; a packet of another
 * protocol goes out at once and does not break the run. */
static void test_passthrough_order(void **st)
{
	struct fx_segs *s = calloc(1, sizeof(*s)), *f = calloc(1, sizeof(*f));
	struct virtio_net_hdr h;
	struct gro *g;
	struct out *o = out_new_what(&g, GRO_TCP);	/* a device without USO */
	uint8_t udp[200];
	size_t ulen = fx_tcpudp_pkt(udp, 4, IPPROTO_UDP, 100, 0, 0, &h, 0);

	(void)st;
	cut(s, 4, 2800, 1400, 0x10, 0, 0, 40000);
	cut(f, 4, 100, 1400, 0x11, 2800, 2, 40000);	/* ACK|FIN with data */
	gro_add(g, s->pkt[0], s->len[0]);
	gro_add(g, udp, ulen);
	gro_add(g, s->pkt[1], s->len[1]);
	assert_int_equal(o->n, 1);
	assert_memory_equal(o->pkt[0], udp, ulen);
	gro_add(g, f->pkt[0], f->len[0]);
	assert_int_equal(o->n, 3);			/* the run, then the FIN */
	assert_run(o, 1, s, 0, 2);
	assert_run(o, 2, f, 0, 1);
	gro_flush(g);
	assert_int_equal(o->n, 3);
	gro_free(g);
	free(o);
	free(s);
	free(f);
}

/* Flows interleaved: as many as slots merge fully; more than slots evict,
 * and every byte still comes out once. */
static void test_many_flows(void **st)
{
	struct fx_segs *s[GRO_SLOTS + 2];
	struct gro *g;
	struct out *o = out_new(&g);
	size_t bytes = 0;
	int i, k;

	(void)st;
	for (k = 0; k < GRO_SLOTS + 2; k++) {
		s[k] = calloc(1, sizeof(*s[k]));
		cut(s[k], k % 2 ? 6 : 4, 4200, 1400, 0x10, 0, 0, (uint16_t)(41000 + k));
	}
	for (i = 0; i < 3; i++)
		for (k = 0; k < GRO_SLOTS + 2; k++)
			gro_add(g, s[k]->pkt[i], s[k]->len[i]);
	gro_flush(g);
	for (i = 0; i < o->n; i++)
		bytes += o->len[i] - (o->pkt[i][0] >> 4 == 4 ? 20u : 40u) - 32u;
	assert_int_equal(bytes, (GRO_SLOTS + 2) * 4200u);
	assert_true(o->n <= 3 * (GRO_SLOTS + 2));
	for (i = 0; i < o->n; i++) {
		struct vnet_info vi;

		if (o->h[i].gso_type != VIRTIO_NET_HDR_GSO_NONE)
			assert_int_equal(vnet_check(&o->h[i], o->pkt[i], o->len[i], 0, &vi), 0);
	}
	o->n = 0;
	for (i = 0; i < 3; i++)
		for (k = 0; k < GRO_SLOTS; k++)
			gro_add(g, s[k]->pkt[i], s[k]->len[i]);
	gro_flush(g);
	assert_int_equal(o->n, GRO_SLOTS);
	for (k = 0; k < GRO_SLOTS; k++)
		assert_run(o, k, s[k], 0, 3);
	for (k = 0; k < GRO_SLOTS + 2; k++)
		free(s[k]);
	gro_free(g);
	free(o);
}

/* UDP datagrams of one flow, the last one short, become one USO
 * super-packet that cuts back into the same datagrams. */
static void udp_round_trip(int ipv)
{
	struct fx_segs *s = calloc(1, sizeof(*s));
	struct gro *g;
	struct out *o = out_new(&g);

	cut_proto(s, ipv, IPPROTO_UDP, 20 * 64 + 30, 64, 0, 0, 0, 40000);
	assert_int_equal(s->n, 21);
	feed(g, s, 0, 21);
	assert_int_equal(o->n, 0);
	gro_flush(g);
	assert_int_equal(o->n, 1);
	assert_int_equal(o->h[0].gso_type, VIRTIO_NET_HDR_GSO_UDP_L4);
	assert_int_equal(o->h[0].gso_size, 64);
	assert_int_equal(o->h[0].hdr_len, (ipv == 4 ? 20 : 40) + 8);
	assert_int_equal(o->h[0].csum_offset, 6);
	assert_run(o, 0, s, 0, 21);
	gro_free(g);
	free(o);
	free(s);
}

static void test_udp_round_trip4(void **st) { (void)st; udp_round_trip(4); }
static void test_udp_round_trip6(void **st) { (void)st; udp_round_trip(6); }

/* A longer datagram, an IPv4 ID that does not follow, another TTL, another
 * port: a new run. A datagram without a checksum is written as it is. */
static void test_udp_no_merge(void **st)
{
	struct fx_segs *s = calloc(1, sizeof(*s)), *b = calloc(1, sizeof(*b));
	struct gro *g;
	struct out *o = out_new(&g);
	int what, n;

	(void)st;
	for (what = 0; what < 5; what++) {
		/* IPv6 for the other port: no ID to follow across flows */
		cut_proto(s, what == 3 ? 6 : 4, IPPROTO_UDP, 4 * 100, 100, 0, 0, 0, 40000);
		switch (what) {
		case 0:
			cut_proto(b, 4, IPPROTO_UDP, 200, 200, 0, 0, 2, 40000);
			memcpy(s->pkt[2], b->pkt[0], b->len[0]);	/* longer */
			s->len[2] = b->len[0];
			break;
		case 1: s->pkt[2][5] ^= 1; break;			/* IPv4 ID */
		case 2: s->pkt[2][8] ^= 1; break;			/* TTL */
		case 3: s->pkt[2][41] ^= 1; break;			/* source port */
		case 4: s->pkt[2][26] = s->pkt[2][27] = 0; break;	/* no checksum */
		}
		o->n = 0;
		n = what == 1 || what == 2 ? 3 : 4;	/* the 4th would not follow the 3rd */
		feed(g, s, 0, n);
		gro_flush(g);
		if (what == 3) {	/* another flow: its own slot, the run goes on */
			assert_int_equal(o->n, 2);
			assert_int_equal(o->h[0].gso_type, VIRTIO_NET_HDR_GSO_UDP_L4);
			assert_int_equal(o->len[0], 40 + 8 + 300u);
			assert_memory_equal(o->pkt[1], s->pkt[2], s->len[2]);
			continue;
		}
		assert_int_equal(o->n, what == 4 ? 3 : 2);
		assert_run(o, 0, s, 0, 2);
		if (what == 4) {	/* after the run, as it came, then the rest */
			assert_int_equal(o->h[1].gso_type, VIRTIO_NET_HDR_GSO_NONE);
			assert_memory_equal(o->pkt[1], s->pkt[2], s->len[2]);
			assert_run(o, 2, s, 3, 4);
		} else
			assert_run(o, 1, s, 2, n);
	}
	gro_free(g);
	free(o);
	free(s);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip4),
		cmocka_unit_test(test_round_trip6),
		cmocka_unit_test(test_run_ends),
		cmocka_unit_test(test_no_merge),
		cmocka_unit_test(test_passthrough_order),
		cmocka_unit_test(test_many_flows),
		cmocka_unit_test(test_udp_round_trip4),
		cmocka_unit_test(test_udp_round_trip6),
		cmocka_unit_test(test_udp_no_merge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
