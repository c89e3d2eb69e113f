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
};

struct filt_rules {
	struct cidr    fr_net;		/* the tunnel network */
	struct in_addr fr_server;	/* the server's tunnel address */
	bool           fr_c2c;		/* client_to_client */
};

/* Decide for PKT (len bytes) from the peer holding SRC; the destination
 * goes to *dst. Checks version, header length, total length. */
enum filt_verdict filt_from_peer(const struct filt_rules *r, struct in_addr src,
    const uint8_t *pkt, size_t len, struct in_addr *dst);

/* Destination of a packet read from TUN; -EPROTO if not well-formed IPv4. */
int filt_tun_dst(const uint8_t *pkt, size_t len, struct in_addr *dst);

#endif
