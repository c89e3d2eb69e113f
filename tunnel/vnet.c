/* vnet.c - virtio_net_hdr checks, checksums and segmentation (see vnet.h).
 * The rules are the kernel's (virtio_net_hdr_to_skb, tcp_gso_segment,
 * __udp_gso_segment) restated for the subset a TUN device produces: the
 * checks are stricter than the kernel's, since the header may come from a
 * peer, and a packet we cannot segment exactly is refused, not guessed at. */
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>

#include "tunnel/vnet.h"

#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_CWR 0x80

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);  p[3] = (uint8_t)v;
}

/* Eight bytes at a time in the host's order with end-around carry, folded
 * and put in network order at the end (RFC 1071's byte-order independence):
 * this runs over every segment's payload, so it must not go byte by byte. */
uint32_t vnet_csum_add(uint32_t sum, const uint8_t *buf, size_t len)
{
	uint64_t s = 0, v;
	uint8_t tail[8] = { 0 };
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&v, buf + i, 8);
		s += v;
		s += s < v;
	}
	if (i < len) {
		memcpy(tail, buf + i, len - i);
		memcpy(&v, tail, 8);
		s += v;
		s += s < v;
	}
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	s = ((s & 0xff) << 8) | (s >> 8);
#endif
	return sum + (uint32_t)s;
}

uint16_t vnet_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* The pseudo-header sum of an L4 segment of l4len bytes. */
static uint32_t pseudo_sum(const uint8_t *ip, uint8_t ipv, uint8_t proto, size_t l4len)
{
	uint32_t s;

	if (ipv == 4)
		s = vnet_csum_add(0, ip + 12, 8);
	else
		s = vnet_csum_add(0, ip + 8, 32);
	return s + proto + (uint32_t)l4len;
}

/* The L4 checksum of a whole segment, written into its field. */
static void l4_csum(uint8_t *pkt, size_t len, const struct vnet_info *vi)
{
	uint8_t *field = pkt + vi->vi_l4off + (vi->vi_proto == IPPROTO_TCP ? 16 : 6);
	uint16_t c;

	put16(field, 0);
	c = (uint16_t)~vnet_csum_fold(pseudo_sum(pkt, vi->vi_ipv, vi->vi_proto,
	    len - vi->vi_l4off) + vnet_csum_add(0, pkt + vi->vi_l4off, len - vi->vi_l4off));
	if (c == 0 && vi->vi_proto == IPPROTO_UDP)
		c = 0xffff;	/* 0 means "no checksum" in UDP */
	put16(field, c);
}

static void ip4_csum(uint8_t *ip, size_t ihl)
{
	put16(ip + 10, 0);
	put16(ip + 10, (uint16_t)~vnet_csum_fold(vnet_csum_add(0, ip, ihl)));
}

/* IPv4 or IPv6 header of pkt: version, L4 offset and protocol, checked
 * against len. 0 or -EPROTO. */
static int ip_hdr(const uint8_t *pkt, size_t len, struct vnet_info *vi, bool *frag)
{
	if (len < 1)
		return -EPROTO;
	vi->vi_ipv = pkt[0] >> 4;
	*frag = false;
	if (vi->vi_ipv == 4) {
		size_t ihl = (size_t)(pkt[0] & 0x0f) * 4;

		if (len < 20 || ihl < 20 || ihl > len || get16(pkt + 2) != len)
			return -EPROTO;
		vi->vi_l4off = (uint16_t)ihl;
		vi->vi_proto = pkt[9];
		*frag = (get16(pkt + 6) & 0x3fff) != 0;	/* MF or an offset */
		return 0;
	}
	if (vi->vi_ipv == 6) {
		if (len < 40 || (size_t)get16(pkt + 4) + 40 != len)
			return -EPROTO;
		vi->vi_l4off = 40;
		vi->vi_proto = pkt[6];	/* extension headers are "other" */
		return 0;
	}
	return -EPROTO;
}

int vnet_check(const struct virtio_net_hdr *h, const uint8_t *pkt, size_t len,
    unsigned mtu, struct vnet_info *vi)
{
	uint8_t type = h->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
	bool csum = (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) != 0, frag;
	size_t payload, l4h;
	int rc;

	memset(vi, 0, sizeof(*vi));
	vi->vi_nseg = 1;
	if (len > VNET_PKT_MAX)
		return -EMSGSIZE;
	if (h->flags & ~(VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID))
		return -EPROTO;
	if ((rc = ip_hdr(pkt, len, vi, &frag)) < 0)
		return rc;
	if (type == VIRTIO_NET_HDR_GSO_NONE) {
		if (h->gso_type != VIRTIO_NET_HDR_GSO_NONE || h->gso_size != 0)
			return -EPROTO;	/* ECN without GSO, or a stray size */
		if (csum && ((size_t)h->csum_start < vi->vi_l4off ||
		    (size_t)h->csum_start + h->csum_offset + 2 > len))
			return -EPROTO;
		if (mtu != 0 && len > mtu)
			return -EMSGSIZE;
		return 0;
	}
	if (type != VIRTIO_NET_HDR_GSO_TCPV4 && type != VIRTIO_NET_HDR_GSO_TCPV6 &&
	    type != VIRTIO_NET_HDR_GSO_UDP_L4)
		return -EPROTONOSUPPORT;	/* UFO (GSO_UDP) is gone from Linux */
	if ((type == VIRTIO_NET_HDR_GSO_TCPV4 && vi->vi_ipv != 4) ||
	    (type == VIRTIO_NET_HDR_GSO_TCPV6 && vi->vi_ipv != 6))
		return -EPROTO;
	if (vi->vi_proto != (type == VIRTIO_NET_HDR_GSO_UDP_L4 ? IPPROTO_UDP : IPPROTO_TCP))
		return vi->vi_ipv == 6 ? -EPROTONOSUPPORT : -EPROTO;
	if (type == VIRTIO_NET_HDR_GSO_UDP_L4 && (h->gso_type & VIRTIO_NET_HDR_GSO_ECN))
		return -EPROTO;
	if (frag || !csum || h->csum_start != vi->vi_l4off ||
	    h->csum_offset != (vi->vi_proto == IPPROTO_TCP ? 16 : 6))
		return -EPROTO;
	if (vi->vi_proto == IPPROTO_TCP) {
		if ((size_t)vi->vi_l4off + 20 > len)
			return -EPROTO;
		l4h = (size_t)(pkt[vi->vi_l4off + 12] >> 4) * 4;
		if (l4h < 20)
			return -EPROTO;
	} else {
		l4h = 8;
		if ((size_t)vi->vi_l4off + 8 > len ||
		    get16(pkt + vi->vi_l4off + 4) != len - vi->vi_l4off)
			return -EPROTO;
	}
	if ((size_t)vi->vi_l4off + l4h > len)
		return -EPROTO;
	vi->vi_hlen = (uint16_t)(vi->vi_l4off + l4h);
	/* hdr_len is the sender's hint; the headers themselves are what count */
	if (h->hdr_len > len || h->gso_size == 0)
		return -EPROTO;
	payload = len - vi->vi_hlen;
	if (payload == 0)
		return -EPROTO;
	if (mtu != 0 && (size_t)vi->vi_hlen + h->gso_size > mtu)
		return -EMSGSIZE;
	vi->vi_gso = h->gso_size;
	vi->vi_nseg = (uint16_t)((payload + h->gso_size - 1) / h->gso_size);
	return 0;
}

void vnet_csum_finish(const struct virtio_net_hdr *h, uint8_t *pkt, size_t len)
{
	uint8_t *field;
	uint16_t c;

	if (!(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
		return;
	/* the field holds the pseudo-header sum; the rest is summed over it */
	field = pkt + h->csum_start + h->csum_offset;
	c = (uint16_t)~vnet_csum_fold(vnet_csum_add(0, pkt + h->csum_start,
	    len - h->csum_start));
	put16(field, c);
}

int vnet_segment(const struct virtio_net_hdr *h, const struct vnet_info *vi,
    const uint8_t *pkt, size_t len, uint8_t *scratch, size_t cap, vnet_emit_fn *emit,
    void *arg)
{
	size_t hl = vi->vi_hlen, off, n;
	const uint8_t *th;
	uint16_t id;
	uint32_t seq;
	uint8_t flags;
	int i;

	if (vi->vi_gso == 0) {
		if (!(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)) {
			emit(arg, pkt, len);
			return 1;
		}
		if (cap < len)
			return -ENOSPC;
		memcpy(scratch, pkt, len);
		vnet_csum_finish(h, scratch, len);
		emit(arg, scratch, len);
		return 1;
	}
	if (cap < hl + vi->vi_gso && cap < len)
		return -ENOSPC;	/* a segment is at most hl + gso_size, and no more than len */
	id = vi->vi_ipv == 4 ? get16(pkt + 4) : 0;
	th = pkt + vi->vi_l4off;
	seq = vi->vi_proto == IPPROTO_TCP ? get32(th + 4) : 0;
	flags = vi->vi_proto == IPPROTO_TCP ? th[13] : 0;
	for (i = 0, off = hl; off < len; i++, off += n) {
		uint8_t *s = scratch, *st = scratch + vi->vi_l4off;
		bool last;

		n = len - off < vi->vi_gso ? len - off : vi->vi_gso;
		last = off + n == len;
		memcpy(s, pkt, hl);
		memcpy(s + hl, pkt + off, n);
		if (vi->vi_ipv == 4) {
			put16(s + 2, (uint16_t)(hl + n));
			put16(s + 4, (uint16_t)(id + i));
			ip4_csum(s, vi->vi_l4off);
		} else
			put16(s + 4, (uint16_t)(hl + n - 40));
		if (vi->vi_proto == IPPROTO_TCP) {
			put32(st + 4, seq + (uint32_t)(off - hl));
			st[13] = flags;
			if (!last)
				st[13] &= (uint8_t)~(TCP_FIN | TCP_PSH);
			if (i > 0)
				st[13] &= (uint8_t)~TCP_CWR;
		} else
			put16(st + 4, (uint16_t)(hl - vi->vi_l4off + n));
		l4_csum(s, hl + n, vi);
		emit(arg, s, hl + n);
	}
	return i;
}
