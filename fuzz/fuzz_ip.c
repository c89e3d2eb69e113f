/* fuzz_ip.c - the server's checks on an inner IPv4 packet: filt_from_peer
 * (anti-spoof, isolation) and filt_tun_dst. The first 14 bytes of the input
 * choose the rules and the sending peer's address, the rest is the packet.
 * Each verdict is compared with a model written from filter.h's contract
 * and SPEC's rules, so a check that is merely crash-free but wrong fails:
 * in particular a packet only reaches the TUN device or another peer if it
 * is well-formed, its total length lies within the bytes received, and its
 * source is the sender's own tunnel address. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "server/filter.h"

#define PREFIX 14	/* net(4) plen(1) server(4) flags(1) src(4) */

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Well-formed, by RFC 791 and filter.h: version 4, IHL >= 5 words, total
 * length covers the header and lies within the bytes received. */
static bool model_ipv4_ok(const uint8_t *pkt, size_t len)
{
	size_t ihl, tot;

	if (len < 20 || pkt[0] >> 4 != 4)
		return false;
	ihl = (pkt[0] & 0xfu) * 4u;
	tot = (size_t)pkt[2] << 8 | pkt[3];
	return ihl >= 20 && tot >= ihl && tot <= len;
}

static bool model_in_net(uint32_t net, int plen, uint32_t a)
{
	uint32_t mask = plen == 0 ? 0 : 0xffffffffu << (32 - plen);

	return (a & mask) == (net & mask);
}

static enum filt_verdict model(const struct filt_rules *r, uint32_t src,
    const uint8_t *pkt, size_t len)
{
	uint32_t s, d;

	if (!model_ipv4_ok(pkt, len))
		return FILT_DROP_MALFORMED;
	s = be32(pkt + 12);
	d = be32(pkt + 16);
	if (s != src)
		return FILT_DROP_SPOOF;
	if (d == ntohl(r->fr_server.s_addr) ||
	    !model_in_net(ntohl(r->fr_net.addr.s_addr), r->fr_net.plen, d))
		return FILT_TO_TUN;
	return r->fr_c2c ? FILT_TO_PEER : FILT_DROP_ISOLATED;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct filt_rules r;
	struct in_addr src, dst = { 0 }, tdst = { 0 };
	const uint8_t *pkt;
	enum filt_verdict v;
	size_t len;
	int t;

	if (size < PREFIX)
		return 0;
	memcpy(&r.fr_net.addr.s_addr, data, 4);
	r.fr_net.plen = data[4] % 33;
	memcpy(&r.fr_server.s_addr, data + 5, 4);
	r.fr_c2c = data[9] & 1;
	memcpy(&src.s_addr, data + 10, 4);
	pkt = data + PREFIX;
	len = size - PREFIX;

	v = filt_from_peer(&r, src, pkt, len, &dst);
	if (v != model(&r, ntohl(src.s_addr), pkt, len))
		abort();
	t = filt_tun_dst(pkt, len, &tdst);
	if ((t == 0) != model_ipv4_ok(pkt, len) || (t != 0 && t != -EPROTO))
		abort();
	if (v == FILT_DROP_MALFORMED)
		return 0;
	/* past the header checks: dst is the packet's, as filt_tun_dst says */
	if (dst.s_addr != tdst.s_addr || memcmp(&dst.s_addr, pkt + 16, 4) != 0)
		abort();
	if (v == FILT_TO_TUN || v == FILT_TO_PEER) {
		size_t tot = (size_t)pkt[2] << 8 | pkt[3];

		if (memcmp(pkt + 12, &src.s_addr, 4) != 0 || tot > len || tot < 20)
			abort();
	}
	if (v == FILT_TO_PEER && (!r.fr_c2c || dst.s_addr == r.fr_server.s_addr ||
	    !cidr_contains(&r.fr_net, dst)))
		abort();
	return 0;
}
