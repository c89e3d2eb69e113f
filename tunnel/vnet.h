/* vnet.h - the virtio_net_hdr that a TUN device opened with IFF_VNET_HDR
 * puts before every packet: checks it as untrusted input, finishes partial
 * checksums, and splits TSO/USO super-packets into the segments a datagram
 * transport or a peer without offloads needs. Pure functions on buffers:
 * no I/O, no allocation. The header is in the host's byte order (TUN's
 * virtio endianness on little-endian hosts), packets in network order. */
#ifndef VPND_VNET_H
#define VPND_VNET_H

#include <linux/virtio_net.h>
#include <stddef.h>
#include <stdint.h>

#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5	/* USO; Debian 12's uapi headers predate it */
#endif

#define VNET_HDR_LEN     sizeof(struct virtio_net_hdr)	/* 10 */
#define VNET_PKT_MAX     65535	/* an IPv4 total length; IPv6 payload + 40 */

/* What the header and its packet were found to be. */
struct vnet_info {
	uint8_t  vi_ipv;	/* 4 or 6 */
	uint8_t  vi_proto;	/* IPPROTO_TCP, IPPROTO_UDP, or other for NONE */
	uint16_t vi_l4off;	/* where the TCP/UDP header starts */
	uint16_t vi_hlen;	/* all headers: l4off + TCP/UDP header */
	uint16_t vi_gso;	/* payload bytes per segment; 0: not GSO */
	uint16_t vi_nseg;	/* segments it makes (1 when not GSO) */
};

/* Check header h and the packet pkt[len] it describes, as untrusted input,
 * before the kernel or the segmenter sees them: known gso_type and flags
 * only; a GSO packet is IPv4/IPv6 + TCP or UDP with no fragment bits,
 * no IPv6 extension headers, lengths in its IP header equal to len,
 * NEEDS_CSUM set with csum_start at the L4 header and csum_offset at its
 * checksum field, and segments of at most mtu bytes (0: no limit); a
 * checksum request of a non-GSO packet lies inside it. Fills *vi.
 * 0, or -EPROTO (malformed), -EMSGSIZE (segments over mtu, len over
 * VNET_PKT_MAX), -EPROTONOSUPPORT (a GSO type or layout not handled). */
int vnet_check(const struct virtio_net_hdr *h, const uint8_t *pkt, size_t len,
    unsigned mtu, struct vnet_info *vi);

/* Finish the partial checksum of a checked non-GSO packet that asks for one
 * (VIRTIO_NET_HDR_F_NEEDS_CSUM), in place; no-op otherwise. */
void vnet_csum_finish(const struct virtio_net_hdr *h, uint8_t *pkt, size_t len);

/* A checked packet from an offloading device or a peer: its header, what
 * vnet_check found, and its bytes (borrowed). */
struct vnet_super {
	struct virtio_net_hdr vs_h;
	struct vnet_info      vs_vi;
	const uint8_t        *vs_pkt;
	size_t                vs_len;
};

/* Called once per segment, in order; seg is valid until it returns. */
typedef void vnet_emit_fn(void *arg, const uint8_t *seg, size_t len);

/* Split a checked packet into the segments its header asks for, each a
 * complete packet with its own IP length, IPv4 ID (+1 per segment), TCP
 * sequence number, flags (FIN and PSH on the last only, CWR on the first
 * only) or UDP length, and full checksums; the last segment may be short.
 * A packet that is not GSO is emitted once, its checksum finished (in
 * scratch). scratch holds one segment: vi->vi_hlen + vi->vi_gso bytes, or
 * len if that is less (VNET_PKT_MAX always does).
 * Returns the segments emitted, or -ENOSPC (scratch too small). */
int vnet_segment(const struct virtio_net_hdr *h, const struct vnet_info *vi,
    const uint8_t *pkt, size_t len, uint8_t *scratch, size_t cap, vnet_emit_fn *emit,
    void *arg);

/* The Internet checksum of buf (RFC 1071), folded, not complemented, added
 * to sum: chain calls to sum discontiguous parts of even length. */
uint32_t vnet_csum_add(uint32_t sum, const uint8_t *buf, size_t len);
uint16_t vnet_csum_fold(uint32_t sum);

#endif
