/* filter.c - anti-spoof and isolation for packets arriving from peers.
 * A peer may only send from its own tunnel address (else it could inject
 * traffic as another peer, or as anything the NAT would masquerade), and
 * may reach other peers only when client_to_client is on. */
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
