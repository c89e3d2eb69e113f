/* gro.c - TCP segments and UDP datagrams into super-packets for the TUN
 * device (see gro.h). */
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "tunnel/gro.h"

#define TCP_ACK 0x10
#define TCP_PSH 0x08

/* One held run: the first segment's headers, then every payload in order. */
struct gro_slot {
	bool     gl_used;
	uint8_t  gl_proto;	/* IPPROTO_TCP or IPPROTO_UDP */
	bool     gl_closed;	/* a short segment or PSH came: nothing follows */
	uint8_t  gl_ipv;
	uint16_t gl_l4off;
	uint16_t gl_hlen;
	uint16_t gl_gso;	/* the first segment's payload */
	uint16_t gl_nseg;
	uint16_t gl_next_id;
	uint32_t gl_next_seq;
	size_t   gl_len;
	/* the header, then the packet: written in one go */
	uint8_t  gl_raw[VNET_HDR_LEN + VNET_PKT_MAX];
};

static uint8_t *slot_pkt(struct gro_slot *sl) { return sl->gl_raw + VNET_HDR_LEN; }
static const uint8_t *slot_cpkt(const struct gro_slot *sl) { return sl->gl_raw + VNET_HDR_LEN; }

struct gro {
	unsigned         g_what;	/* GRO_TCP | GRO_UDP */
	gro_write_fn    *g_write;
	void            *g_arg;
	unsigned         g_evict;	/* the slot a new flow takes when all are busy */
	struct gro_stats g_stats;
	struct gro_slot  g_slot[GRO_SLOTS];
	struct gro_slot  g_pass;		/* a packet written as it came */
};

/* A TCP segment's or UDP datagram's facts, or false when it is not a
 * plain IPv4 (no options, no fragment) / IPv6 (no extension header) packet
 * of a protocol this instance coalesces. */
struct seg {
	uint8_t  ipv;
	uint8_t  proto;
	uint16_t l4off, hlen, id;
	uint32_t seq;
	uint8_t  flags;
	size_t   payload;
};

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static uint32_t get32(const uint8_t *p) { return (uint32_t)get16(p) << 16 | get16(p + 2); }

/* A UDP datagram whose length field matches. One without a checksum (an
 * IPv4 datagram may be sent so) must not gain one from the kernel: it
 * keeps its place in its flow but never merges (payload 0). */
static bool parse_udp(const uint8_t *p, size_t len, struct seg *s)
{
	if ((size_t)s->l4off + 8 > len || get16(p + s->l4off + 4) != len - s->l4off)
		return false;
	s->hlen = (uint16_t)(s->l4off + 8);
	s->seq = 0;
	s->flags = 0;
	s->payload = get16(p + s->l4off + 6) == 0 ? 0 : len - s->hlen;
	return true;
}

static bool parse(const struct gro *g, const uint8_t *p, size_t len, struct seg *s)
{
	size_t thl;

	if (len < 28)
		return false;
	s->ipv = p[0] >> 4;
	if (s->ipv == 4) {
		if (p[0] != 0x45 || get16(p + 2) != len || (get16(p + 6) & 0x3fff) != 0)
			return false;
		s->proto = p[9];
		s->l4off = 20;
		s->id = get16(p + 4);
	} else if (s->ipv == 6) {
		if (len < 48 || (size_t)get16(p + 4) + 40 != len)
			return false;
		s->proto = p[6];
		s->l4off = 40;
		s->id = 0;
	} else
		return false;
	if (s->proto == IPPROTO_UDP && (g->g_what & GRO_UDP))
		return parse_udp(p, len, s);
	if (s->proto != IPPROTO_TCP || !(g->g_what & GRO_TCP) || (size_t)s->l4off + 20 > len)
		return false;
	thl = (size_t)(p[s->l4off + 12] >> 4) * 4;
	if (thl < 20 || s->l4off + thl > len)
		return false;
	s->hlen = (uint16_t)(s->l4off + thl);
	s->seq = get32(p + s->l4off + 4);
	s->flags = p[s->l4off + 13];
	s->payload = len - s->hlen;
	return true;
}

/* Data with ACK, maybe PSH, nothing else: the only segments that merge;
 * any UDP datagram with a payload. */
static bool mergeable(const struct seg *s)
{
	if (s->proto == IPPROTO_UDP)
		return s->payload > 0;
	return s->payload > 0 && (s->flags == TCP_ACK || s->flags == (TCP_ACK | TCP_PSH));
}

static bool same_flow(const struct gro_slot *sl, const uint8_t *p, const struct seg *s)
{
	const uint8_t *q = slot_cpkt(sl);

	if (sl->gl_ipv != s->ipv || sl->gl_proto != s->proto)
		return false;
	if (s->ipv == 4 ? memcmp(q + 12, p + 12, 8) != 0 : memcmp(q + 8, p + 8, 32) != 0)
		return false;
	return memcmp(q + sl->gl_l4off, p + s->l4off, 4) == 0;	/* the ports */
}

/* Everything but lengths, IDs, sequence numbers and checksums equal; the
 * held run's flags are ACK alone (PSH closes it). */
static bool same_headers(const struct gro_slot *sl, const uint8_t *p, const struct seg *s)
{
	const uint8_t *q = slot_cpkt(sl), *qt = q + sl->gl_l4off, *pt = p + s->l4off;

	if (sl->gl_hlen != s->hlen)
		return false;
	if (s->ipv == 4) {
		if (q[1] != p[1] || q[6] != p[6] || q[8] != p[8])	/* TOS, DF, TTL */
			return false;
	} else if (memcmp(q, p, 4) != 0 || q[7] != p[7])	/* class, label, hops */
		return false;
	if (s->proto == IPPROTO_UDP)
		return true;
	return memcmp(qt + 8, pt + 8, 5) == 0 &&		/* ack, data offset */
	    memcmp(qt + 14, pt + 14, 2) == 0 &&			/* window */
	    memcmp(qt + 20, pt + 20, (size_t)s->hlen - s->l4off - 20) == 0;	/* options */
}

static void slot_write(struct gro *g, struct gro_slot *sl)
{
	struct virtio_net_hdr h = { 0 };
	uint8_t *p = slot_pkt(sl);
	size_t l4len = sl->gl_len - sl->gl_l4off;
	bool udp = sl->gl_proto == IPPROTO_UDP;
	uint32_t sum;

	if (sl->gl_nseg > 1) {
		if (sl->gl_ipv == 4) {
			put16(p + 2, (uint16_t)sl->gl_len);
			put16(p + 10, 0);
			put16(p + 10, (uint16_t)~vnet_csum_fold(vnet_csum_add(0, p, 20)));
			sum = vnet_csum_add(0, p + 12, 8);
		} else {
			put16(p + 4, (uint16_t)(sl->gl_len - 40));
			sum = vnet_csum_add(0, p + 8, 32);
		}
		/* CHECKSUM_PARTIAL: the field holds the pseudo-header sum;
		 * a UDP super-packet's length is all of it, as a UDP_SEGMENT
		 * send builds one (the kernel puts each segment's in) */
		if (udp)
			put16(p + sl->gl_l4off + 4, (uint16_t)l4len);
		put16(p + sl->gl_l4off + (udp ? 6 : 16),
		    vnet_csum_fold(sum + sl->gl_proto + (uint32_t)l4len));
		h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		h.gso_type = udp ? VIRTIO_NET_HDR_GSO_UDP_L4 : sl->gl_ipv == 4 ?
		    VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6;
		h.hdr_len = sl->gl_hlen;
		h.gso_size = sl->gl_gso;
		h.csum_start = sl->gl_l4off;
		h.csum_offset = udp ? 6 : 16;
	}
	memcpy(sl->gl_raw, &h, VNET_HDR_LEN);
	g->g_write(g->g_arg, sl->gl_raw, VNET_HDR_LEN + sl->gl_len);
	g->g_stats.gs_out++;
	sl->gl_used = false;
}

/* A packet that is not held: behind a zero header, at once. */
static void pass(struct gro *g, const uint8_t *pkt, size_t len)
{
	memset(g->g_pass.gl_raw, 0, VNET_HDR_LEN);
	memcpy(slot_pkt(&g->g_pass), pkt, len);
	g->g_write(g->g_arg, g->g_pass.gl_raw, VNET_HDR_LEN + len);
	g->g_stats.gs_out++;
}

static void slot_start(struct gro_slot *sl, const uint8_t *pkt, size_t len,
    const struct seg *s)
{
	memcpy(slot_pkt(sl), pkt, len);
	sl->gl_used = true;
	sl->gl_proto = s->proto;
	sl->gl_ipv = s->ipv;
	sl->gl_l4off = s->l4off;
	sl->gl_hlen = s->hlen;
	sl->gl_gso = (uint16_t)s->payload;
	sl->gl_nseg = 1;
	sl->gl_len = len;
	sl->gl_next_seq = s->seq + (uint32_t)s->payload;
	sl->gl_next_id = (uint16_t)(s->id + 1);
	sl->gl_closed = (s->flags & TCP_PSH) != 0;
}

static bool slot_append(struct gro_slot *sl, const uint8_t *pkt, const struct seg *s)
{
	if (sl->gl_closed || (s->proto == IPPROTO_TCP && s->seq != sl->gl_next_seq) ||
	    s->payload > sl->gl_gso ||
	    (s->ipv == 4 && s->id != sl->gl_next_id) || sl->gl_nseg >= GRO_SEGS_MAX ||
	    sl->gl_len + s->payload > VNET_PKT_MAX || !same_headers(sl, pkt, s))
		return false;
	memcpy(slot_pkt(sl) + sl->gl_len, pkt + s->hlen, s->payload);
	sl->gl_len += s->payload;
	sl->gl_nseg++;
	sl->gl_next_seq += (uint32_t)s->payload;
	sl->gl_next_id++;
	if (s->flags & TCP_PSH) {
		slot_pkt(sl)[sl->gl_l4off + 13] |= TCP_PSH;
		sl->gl_closed = true;
	}
	if (s->payload < sl->gl_gso)
		sl->gl_closed = true;
	return true;
}

void gro_add(struct gro *g, const uint8_t *pkt, size_t len)
{
	struct gro_slot *sl = NULL;
	struct seg s;
	unsigned i;

	g->g_stats.gs_in++;
	if (len > VNET_PKT_MAX)
		return;		/* no TUN device takes it; the caller's MTU bars it */
	if (!parse(g, pkt, len, &s)) {
		pass(g, pkt, len);
		return;
	}
	for (i = 0; i < GRO_SLOTS; i++)
		if (g->g_slot[i].gl_used && same_flow(&g->g_slot[i], pkt, &s)) {
			sl = &g->g_slot[i];
			break;
		}
	if (sl != NULL && mergeable(&s) && slot_append(sl, pkt, &s)) {
		g->g_stats.gs_merged++;
		return;
	}
	if (sl != NULL)
		slot_write(g, sl);	/* the flow's earlier segments go first */
	if (!mergeable(&s)) {
		pass(g, pkt, len);
		return;
	}
	if (sl == NULL) {
		for (i = 0; i < GRO_SLOTS && g->g_slot[i].gl_used; i++)
			;
		if (i == GRO_SLOTS) {
			i = g->g_evict;
			g->g_evict = (g->g_evict + 1) % GRO_SLOTS;
			slot_write(g, &g->g_slot[i]);
		}
		sl = &g->g_slot[i];
	}
	slot_start(sl, pkt, len, &s);
}

void gro_flush(struct gro *g)
{
	unsigned i;

	for (i = 0; i < GRO_SLOTS; i++)
		if (g->g_slot[i].gl_used)
			slot_write(g, &g->g_slot[i]);
}

int gro_new(struct gro **out, unsigned what, gro_write_fn *write, void *arg)
{
	struct gro *g = calloc(1, sizeof(*g));

	if (g == NULL)
		return -ENOMEM;
	g->g_what = what;
	g->g_write = write;
	g->g_arg = arg;
	*out = g;
	return 0;
}

void gro_free(struct gro *g)
{
	free(g);
}

const struct gro_stats *gro_stats(const struct gro *g)
{
	return &g->g_stats;
}
