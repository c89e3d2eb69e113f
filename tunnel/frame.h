/* frame.h - framing of packets and control messages on the TLS stream.
 * Every frame is a 4-byte header (type, flags = 0, payload length as u16
 * big-endian) and its payload. DATA carries one IPv4 packet; GSO one
 * super-packet behind its segmentation header, and its length takes the
 * flags byte as bits 16-23; the control frames are small.
 * docs/protocol.md is the reference for this file. */
#ifndef VPND_FRAME_H
#define VPND_FRAME_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"
#include "tunnel/vnet.h"

#define FRAME_HDR       4
#define FRAME_DATA_MAX  9000	/* largest tunnel MTU */
#define FRAME_CTRL_MAX  1024	/* largest control payload */
#define FRAME_MAX       (FRAME_HDR + FRAME_DATA_MAX)
#define FRAME_VERSION   1
#define FRAME_GSO_HDR   10	/* the segmentation header on the wire */
#define FRAME_GSO_MAX   (FRAME_GSO_HDR + VNET_PKT_MAX)
#define FRAME_CAPS_GSO  0x1u	/* CAPS: GSO frames welcome */

enum frame_type {
	FRAME_DATA      = 1,	/* an IPv4 packet */
	FRAME_CONFIG    = 2,	/* server -> client: address, routes, timers */
	FRAME_DENY      = 3,	/* server -> client: not admitted; reason text */
	FRAME_KEEPALIVE = 4,	/* either way, empty */
	FRAME_BYE       = 5,	/* either way: closing; reason text */
	FRAME_DTLS      = 6,	/* server -> client: DTLS channel id (8 bytes) */
	FRAME_GSO       = 7,	/* either way, once the other end said it takes
				 * them: a super-packet, segmentation header first */
	FRAME_CAPS      = 8,	/* client -> server: what it takes (u32 bits) */
	FRAME_LAST      = FRAME_CAPS,
};

struct frame {
	uint8_t        f_type;
	uint32_t       f_len;
	const uint8_t *f_payload;	/* points into the parsed buffer */
};

/* Parse the frame at the start of buf. Returns the bytes it takes (> 0),
 * 0 when more bytes are needed, or -EPROTO (flags set, zero-length DATA,
 * wrong length for a known type) / -EMSGSIZE (longer than allowed for its
 * type; unknown types may carry up to FRAME_CTRL_MAX). A caller skips
 * unknown types. */
int frame_parse(const uint8_t *buf, size_t len, struct frame *f);

/* Write a header for a payload of len bytes (len <= 65535, or for GSO
 * FRAME_GSO_MAX) into out. */
void frame_put_hdr(uint8_t *out, uint8_t type, size_t len);

/* The segmentation header of a GSO frame: flags, gso_type, then hdr_len,
 * gso_size, csum_start, csum_offset as u16 big-endian. */
void frame_gso_put(uint8_t out[FRAME_GSO_HDR], const struct virtio_net_hdr *h);
void frame_gso_get(const uint8_t in[FRAME_GSO_HDR], struct virtio_net_hdr *h);

/* The CONFIG message: what a client needs to bring its tunnel up. */
struct msg_config {
	uint8_t        mc_version;
	struct in_addr mc_addr;		/* the client's tunnel address */
	uint8_t        mc_plen;		/* and the tunnel network's prefix */
	struct in_addr mc_gateway;	/* the server's tunnel address */
	uint16_t       mc_mtu;
	uint16_t       mc_keepalive;
	uint16_t       mc_dead_peer_timeout;
	struct cidr    mc_routes[CONF_MAX_ROUTES];
	int            mc_nroutes;
	bool           mc_has6;		/* ADDR6 sent: IPv6 inside the tunnel */
	struct in6_addr mc_addr6;	/* the client's IPv6 tunnel address */
	uint8_t        mc_plen6;	/* and network6's prefix length */
	struct in6_addr mc_gateway6;	/* the server's (::1 of network6) */
	struct cidr6   mc_routes6[CONF_MAX_ROUTES];	/* IPv6 routes */
	int            mc_nroutes6;
	struct conf_dns mc_dns[CONF_MAX_DNS];		/* resolvers, in order */
	int            mc_ndns;
	char           mc_search[CONF_MAX_SEARCH][CONF_DOMAIN_MAX + 1];
	int            mc_nsearch;			/* "~name": routing only */
	bool           mc_gso;		/* the server takes GSO frames */
};

/* Encode into out (cap bytes, payload only). Returns length or -ENOSPC. */
int msg_config_encode(const struct msg_config *m, uint8_t *out, size_t cap);
/* Decode; unknown TLVs are skipped. 0 or -EPROTO (truncated, bad lengths,
 * missing address/gateway/mtu, bad prefix lengths, too many routes,
 * an IPv6 route or GATEWAY6 without ADDR6,
 * resolvers or domains, a domain conf_check_domain refuses). */
int msg_config_decode(const uint8_t *p, size_t len, struct msg_config *m);

#endif
