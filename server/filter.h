/* filter.h - what the server does with an IP packet a peer sent: the
 * anti-spoof and client-isolation decisions, kept pure so they can be tested
 * and fuzzed without a network. */
#ifndef VPND_FILTER_H
#define VPND_FILTER_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"

enum filt_verdict {
	FILT_TO_TUN,		/* to the server's stack: its address or beyond */
	FILT_TO_PEER,		/* to another peer (client_to_client only) */
	FILT_DROP_MALFORMED,	/* not a well-formed IPv4 header */
	FILT_DROP_SPOOF,	/* inner source is not the peer's address */
	FILT_DROP_ISOLATED,	/* peer to peer while client_to_client is off */
	FILT_DROP_LINKLOCAL,	/* IPv6 link-local or multicast, or neighbour
				 * discovery: it belongs to the tunnel link */
};

struct filt_rules {
	struct cidr    fr_net;		/* the tunnel network */
	struct in_addr fr_server;	/* the server's tunnel address */
	bool           fr_c2c;		/* client_to_client */
	/* IPv6 inside the tunnel (network6); without it (fr_has6 false, as a
	 * zeroed struct is) a peer has no IPv6 address, so no IPv6 source is
	 * its own */
	bool            fr_has6;
	struct in6_addr fr_net6;
	int             fr_net6_plen;	/* 0..128 */
	struct in6_addr fr_server6;
};

/* Decide for PKT (len bytes) from the peer holding SRC; the destination
 * goes to *dst. Checks version, header length, total length. */
enum filt_verdict filt_from_peer(const struct filt_rules *r, struct in_addr src,
    const uint8_t *pkt, size_t len, struct in_addr *dst);

/* Destination of a packet read from TUN; -EPROTO if not well-formed IPv4. */
int filt_tun_dst(const uint8_t *pkt, size_t len, struct in_addr *dst);

/* The same for an IPv6 PKT from the peer holding SRC6. Well-formed means:
 * version 6, a payload length neither 0 (jumbograms) nor past len, and a
 * chain of extension headers (hop-by-hop, routing, fragment, destination
 * options, AH; at most FILT_EXT_MAX) that ends inside the payload. A
 * link-local, multicast or unspecified source, a link-local or multicast
 * destination, and ICMPv6 router/neighbour discovery or redirects are
 * FILT_DROP_LINKLOCAL; then the rules of filt_from_peer. */
#define FILT_EXT_MAX 8
enum filt_verdict filt_from_peer6(const struct filt_rules *r, const struct in6_addr *src6,
    const uint8_t *pkt, size_t len, struct in6_addr *dst);

/* Destination of an IPv6 packet read from TUN (version, payload length
 * within len); -EPROTO if not well-formed. */
int filt_tun_dst6(const uint8_t *pkt, size_t len, struct in6_addr *dst);

#endif
