/* filter.c - anti-spoof and isolation for packets arriving from peers.
 * A peer may only send from its own tunnel address (else it could inject
 * traffic as another peer, or as anything the NAT would masquerade), and
 * may reach other peers only when client_to_client is on. IPv6 adds the
 * link's own traffic (link-local, multicast, neighbour discovery), which
 * stays on the tunnel link: the server answers none of it and forwards
 * none of it. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "server/filter.h"

/* Minimal IPv4 sanity: version 4, IHL >= 5, total length within len. */
static int ipv4_ok(const uint8_t *pkt, size_t len)
{
	size_t ihl, tot;

	if (len < 20 || (pkt[0] >> 4) != 4)
		return -EPROTO;
	ihl = (size_t)(pkt[0] & 0x0f) * 4;
	tot = (size_t)pkt[2] << 8 | pkt[3];
	if (ihl < 20 || tot < ihl || tot > len)
		return -EPROTO;
	return 0;
}

int filt_tun_dst(const uint8_t *pkt, size_t len, struct in_addr *dst)
{
	if (ipv4_ok(pkt, len) < 0)
		return -EPROTO;
	memcpy(&dst->s_addr, pkt + 16, 4);
	return 0;
}

/* Inside the tunnel network? Its own arithmetic: this runs per packet. */
static bool in_net(const struct filt_rules *r, struct in_addr a)
{
	uint32_t mask = r->fr_net.plen ? htonl(~0u << (32 - r->fr_net.plen)) : 0;

	return ((a.s_addr ^ r->fr_net.addr.s_addr) & mask) == 0;
}

enum filt_verdict filt_from_peer(const struct filt_rules *r, struct in_addr src,
    const uint8_t *pkt, size_t len, struct in_addr *dst)
{
	struct in_addr s;

	if (ipv4_ok(pkt, len) < 0)
		return FILT_DROP_MALFORMED;
	memcpy(&s.s_addr, pkt + 12, 4);
	memcpy(&dst->s_addr, pkt + 16, 4);
	if (s.s_addr != src.s_addr)
		return FILT_DROP_SPOOF;
	if (dst->s_addr == r->fr_server.s_addr || !in_net(r, *dst))
		return FILT_TO_TUN;
	return r->fr_c2c ? FILT_TO_PEER : FILT_DROP_ISOLATED;
}

/* ---- IPv6 ---- */

/* Version 6 and a payload length inside len; the packet's end. */
static int ipv6_ok(const uint8_t *pkt, size_t len, size_t *end)
{
	size_t plen;

	if (len < 40 || (pkt[0] >> 4) != 6)
		return -EPROTO;
	plen = (size_t)pkt[4] << 8 | pkt[5];
	if (plen == 0 || plen + 40 > len)
		return -EPROTO;
	*end = plen + 40;
	return 0;
}

int filt_tun_dst6(const uint8_t *pkt, size_t len, struct in6_addr *dst)
{
	size_t end;

	if (ipv6_ok(pkt, len, &end) < 0)
		return -EPROTO;
	memcpy(dst, pkt + 24, 16);
	return 0;
}

/* Walk the extension headers to the upper layer: its protocol into *proto
 * and offset into *off; a later fragment's upper layer is unknown (*proto
 * IPPROTO_FRAGMENT). -EPROTO when the chain runs past the packet or is
 * longer than FILT_EXT_MAX. */
static int ipv6_upper(const uint8_t *pkt, size_t end, uint8_t *proto, size_t *off)
{
	uint8_t nh = pkt[6];
	size_t o = 40, hl;
	int i;

	for (i = 0; ; i++) {
		if (i == FILT_EXT_MAX && (nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING ||
		    nh == IPPROTO_DSTOPTS || nh == IPPROTO_AH || nh == IPPROTO_FRAGMENT))
			return -EPROTO;		/* one extension header too many */
		switch (nh) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
			if (o + 8 > end)
				return -EPROTO;
			hl = ((size_t)pkt[o + 1] + 1) * 8;
			break;
		case IPPROTO_AH:
			if (o + 8 > end)
				return -EPROTO;
			hl = ((size_t)pkt[o + 1] + 2) * 4;
			break;
		case IPPROTO_FRAGMENT:
			if (o + 8 > end)
				return -EPROTO;
			if (((pkt[o + 2] << 8 | pkt[o + 3]) & 0xfff8) != 0) {
				*proto = IPPROTO_FRAGMENT;	/* not the first */
				*off = o;
				return 0;
			}
			hl = 8;
			break;
		default:
			*proto = nh;
			*off = o;
			return 0;
		}
		if (o + hl > end)
			return -EPROTO;
		nh = pkt[o];
		o += hl;
	}
}

static bool v6_linklocal(const uint8_t *a)
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

static bool v6_multicast(const uint8_t *a)
{
	return a[0] == 0xff;
}

static bool v6_unspecified(const uint8_t *a)
{
	static const uint8_t zero[16];

	return memcmp(a, zero, 16) == 0;
}

static bool in_net6(const struct filt_rules *r, const uint8_t *a)
{
	const uint8_t *n = r->fr_net6.s6_addr;
	int bits = r->fr_net6_plen, i;

	for (i = 0; bits >= 8; i++, bits -= 8)
		if (a[i] != n[i])
			return false;
	return bits == 0 || ((a[i] ^ n[i]) & (uint8_t)(0xff << (8 - bits))) == 0;
}

/* ICMPv6 that only makes sense on the link: router solicitation and
 * advertisement, neighbour solicitation and advertisement, redirect. */
static bool nd_message(const uint8_t *pkt, size_t end, uint8_t proto, size_t off)
{
	return proto == IPPROTO_ICMPV6 && off < end && pkt[off] >= 133 && pkt[off] <= 137;
}

enum filt_verdict filt_from_peer6(const struct filt_rules *r, const struct in6_addr *src6,
    const uint8_t *pkt, size_t len, struct in6_addr *dst)
{
	const uint8_t *s = pkt + 8, *d = pkt + 24;
	uint8_t proto;
	size_t end, off;

	if (ipv6_ok(pkt, len, &end) < 0 || ipv6_upper(pkt, end, &proto, &off) < 0)
		return FILT_DROP_MALFORMED;
	memcpy(dst, d, 16);
	if (v6_linklocal(s) || v6_multicast(s) || v6_unspecified(s) ||
	    v6_linklocal(d) || v6_multicast(d) || nd_message(pkt, end, proto, off))
		return FILT_DROP_LINKLOCAL;
	if (!r->fr_has6 || memcmp(s, src6->s6_addr, 16) != 0)
		return FILT_DROP_SPOOF;
	if (memcmp(d, r->fr_server6.s6_addr, 16) == 0 || !in_net6(r, d))
		return FILT_TO_TUN;
	return r->fr_c2c ? FILT_TO_PEER : FILT_DROP_ISOLATED;
}
