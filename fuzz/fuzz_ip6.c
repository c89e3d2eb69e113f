/* fuzz_ip6.c - the server's checks on an inner IPv6 packet: filt_from_peer6
 * and filt_tun_dst6. Input: flags (bit 0 client_to_client, bit 1 network6
 * on), the network6 prefix length, the sending peer's address (16 bytes),
 * then the packet; network6 is fd00:8::/plen with the server on ::1. Each
 * verdict is compared with a model written from filter.h's contract, so a
 * check that is merely crash-free but wrong fails: a packet reaches the TUN
 * device or a peer only if its extension headers end inside it, it is not
 * the link's own traffic, and its source is the peer's. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "server/filter.h"

#define PREFIX 18

static const uint8_t NET6[16] = { 0xfd, 0x00, 0x00, 0x08 };

/* The upper layer after the extension headers, read one header at a time:
 * -1 malformed, else its protocol, with its offset in *off. */
static int model_upper(const uint8_t *p, size_t end, size_t *off)
{
	size_t o = 40;
	int nh = p[6], n = 0;

	for (;;) {
		size_t hl;

		if (nh != 0 && nh != 43 && nh != 44 && nh != 60 && nh != 51) {
			*off = o;
			return nh;
		}
		if (n++ == FILT_EXT_MAX || end - o < 8)
			return -1;
		if (nh == 44 && (p[o + 2] << 8 | p[o + 3]) >> 3 != 0) {
			*off = o;
			return 44;
		}
		hl = nh == 44 ? 8 : nh == 51 ? (p[o + 1] + 2u) * 4u : (p[o + 1] + 1u) * 8u;
		if (end - o < hl)
			return -1;
		nh = p[o];
		o += hl;
	}
}

static bool model_in(const uint8_t *a, int plen)
{
	for (int i = 0; i < plen; i++)
		if (((a[i / 8] ^ NET6[i / 8]) >> (7 - i % 8)) & 1)
			return false;
	return true;
}

static bool linkish(const uint8_t *a)
{
	static const uint8_t zero[16];

	return a[0] == 0xff || (a[0] == 0xfe && (a[1] >> 6) == 2) || memcmp(a, zero, 16) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct filt_rules r = { 0 };
	struct in6_addr src, dst, tdst;
	enum filt_verdict v, want;
	const uint8_t *pkt;
	size_t len, end = 0, off = 0;
	int up = -1, t;

	if (size < PREFIX)
		return 0;
	r.fr_c2c = data[0] & 1;
	r.fr_has6 = data[0] & 2;
	r.fr_net6_plen = data[1] % 129;
	memcpy(&r.fr_net6, NET6, 16);
	memcpy(&r.fr_server6, NET6, 16);
	r.fr_server6.s6_addr[15] = 1;
	memcpy(&src, data + 2, 16);
	pkt = data + PREFIX;
	len = size - PREFIX;

	if (len >= 40 && pkt[0] >> 4 == 6 && (pkt[4] | pkt[5]) != 0 &&
	    (size_t)(pkt[4] << 8 | pkt[5]) + 40 <= len)
		end = (size_t)(pkt[4] << 8 | pkt[5]) + 40;
	if (end != 0)
		up = model_upper(pkt, end, &off);
	if (up < 0)
		want = FILT_DROP_MALFORMED;
	else if (linkish(pkt + 8) || pkt[24] == 0xff || (pkt[24] == 0xfe && (pkt[25] >> 6) == 2) ||
	    (up == 58 && off < end && pkt[off] >= 133 && pkt[off] <= 137))
		want = FILT_DROP_LINKLOCAL;
	else if (!r.fr_has6 || memcmp(pkt + 8, &src, 16) != 0)
		want = FILT_DROP_SPOOF;
	else if (memcmp(pkt + 24, &r.fr_server6, 16) == 0 || !model_in(pkt + 24, r.fr_net6_plen))
		want = FILT_TO_TUN;
	else
		want = r.fr_c2c ? FILT_TO_PEER : FILT_DROP_ISOLATED;

	v = filt_from_peer6(&r, &src, pkt, len, &dst);
	if (v != want)
		abort();
	if (v != FILT_DROP_MALFORMED && memcmp(&dst, pkt + 24, 16) != 0)
		abort();
	t = filt_tun_dst6(pkt, len, &tdst);
	if ((t == 0) != (end != 0) || (t == 0 && memcmp(&tdst, pkt + 24, 16) != 0))
		abort();
	return 0;
}
