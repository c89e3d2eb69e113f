/* gro.h - coalescing the TCP segments a peer sent, one packet at a time,
 * into super-packets for a TUN device opened with IFF_VNET_HDR and TSO, so
 * the kernel takes one write (and one trip up its stack) per run instead of
 * one per segment. The rules are the kernel's tcp_gro_receive, restated:
 * same flow, the next sequence number, the next IPv4 ID, equal headers
 * otherwise (TOS, TTL, flags, ack, window, options), segments of the first
 * one's size with only the last one shorter, PSH ends a run, at most
 * GRO_SEGS_MAX segments and VNET_PKT_MAX bytes. On a device with USO, UDP
 * datagrams coalesce the same way (udp_gro_receive's rules: same flow,
 * the next IPv4 ID, equal TOS/TTL/DF or IPv6 class/label/hops, payloads of
 * the first one's size with only the last one shorter; a datagram without
 * a checksum is written as it is), into one USO super-packet. Anything else (other
 * protocols, SYN/FIN/RST/URG, IP options, fragments) is written as it is,
 * after whatever the same flow had held, so no flow is reordered.
 *
 * A packet is offered once it passed the filter; gro_flush() at the end of
 * each batch writes what is held. No I/O of its own: writes go through the
 * caller's function. */
#ifndef VPND_GRO_H
#define VPND_GRO_H

#include <stddef.h>
#include <stdint.h>

#include "tunnel/vnet.h"

#define GRO_SLOTS     4		/* flows held at once per batch */
#define GRO_SEGS_MAX  64

/* Writes buf[len]: a virtio_net_hdr, then one packet (gso_type NONE: a
 * plain packet, checksums intact) or one super-packet, as one TUN write
 * takes them. Returns what the write returned. */
typedef int gro_write_fn(void *arg, const uint8_t *buf, size_t len);

struct gro;

#define GRO_TCP 1u	/* the device takes TSO4 and TSO6 */
#define GRO_UDP 2u	/* ... and USO4 and USO6 */

/* 0 or -ENOMEM. Holds GRO_SLOTS + 1 buffers of VNET_PKT_MAX bytes. WHAT
 * says which protocols coalesce; the others are written as they come. */
int  gro_new(struct gro **out, unsigned what, gro_write_fn *write, void *arg);
void gro_free(struct gro *g);		/* NULL is fine; drops what it held */

/* Offer one inner packet of len bytes (at most VNET_PKT_MAX); it is copied,
 * to be held or written at once behind its header. */
void gro_add(struct gro *g, const uint8_t *pkt, size_t len);
/* Write everything held, each flow's run as one super-packet. */
void gro_flush(struct gro *g);

/* Counters: packets offered, writes made, segments merged into another. */
struct gro_stats {
	uint64_t gs_in;
	uint64_t gs_out;
	uint64_t gs_merged;
};
const struct gro_stats *gro_stats(const struct gro *g);

#endif
