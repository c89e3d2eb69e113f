/* fuzz_vnet.c - a virtio_net_hdr and the packet behind it, as a peer or the
 * TUN device hands them over: vnet_check, then vnet_segment. Input: one
 * byte choosing the MTU, the 10-byte header, the packet. What passes the
 * check must segment into exactly the segments it announced, each a whole
 * IPv4/IPv6 packet within the MTU whose length fields match its size and
 * whose checksums are right, carrying the payload in order. */
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "tunnel/vnet.h"

static uint8_t pkt[VNET_PKT_MAX], scratch[VNET_PKT_MAX];

struct run {
	const struct vnet_info *vi;
	const uint8_t *orig;
	size_t         off;	/* payload bytes seen so far */
	unsigned       mtu;
	int            n;
};

static uint16_t g16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static void seg(void *arg, const uint8_t *s, size_t len)
{
	struct run *r = arg;
	const struct vnet_info *vi = r->vi;
	size_t hl = vi->vi_hlen, n = len - hl;
	uint32_t sum;

	r->n++;
	if (vi->vi_gso == 0)
		return;		/* passed through whole, checksum finished */
	if (len < hl || n == 0 || n > vi->vi_gso || (r->mtu != 0 && len > r->mtu))
		abort();
	if ((vi->vi_ipv == 4 && (g16(s + 2) != len ||
	    vnet_csum_fold(vnet_csum_add(0, s, vi->vi_l4off)) != 0xffff)) ||
	    (vi->vi_ipv == 6 && (size_t)g16(s + 4) + 40 != len))
		abort();
	sum = (vi->vi_ipv == 4 ? vnet_csum_add(0, s + 12, 8) : vnet_csum_add(0, s + 8, 32)) +
	    vi->vi_proto + (uint32_t)(len - vi->vi_l4off);
	if (vnet_csum_fold(sum + vnet_csum_add(0, s + vi->vi_l4off, len - vi->vi_l4off)) != 0xffff)
		abort();
	if (memcmp(s + hl, r->orig + hl + r->off, n) != 0)
		abort();
	r->off += n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t orig[VNET_PKT_MAX];
	struct virtio_net_hdr h;
	struct vnet_info vi;
	struct run r = { .vi = &vi };
	size_t len;
	int n;

	if (size < 1 + VNET_HDR_LEN || size - 1 - VNET_HDR_LEN > sizeof(pkt))
		return 0;
	r.mtu = data[0] == 0 ? 0 : 576u + data[0] * 32u;
	memcpy(&h, data + 1, VNET_HDR_LEN);
	len = size - 1 - VNET_HDR_LEN;
	memcpy(pkt, data + 1 + VNET_HDR_LEN, len);
	if (vnet_check(&h, pkt, len, r.mtu, &vi) != 0)
		return 0;
	memcpy(orig, pkt, len);
	r.orig = orig;
	n = vnet_segment(&h, &vi, pkt, len, scratch, sizeof(scratch), seg, &r);
	if (n != vi.vi_nseg || r.n != n || (vi.vi_gso != 0 && r.off != len - vi.vi_hlen))
		abort();
	return 0;
}
