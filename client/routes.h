/* routes.h - the routes a client installs for its tunnel, and removes
 * again. A pushed default route becomes 0.0.0.0/1 + 128.0.0.0/1 through the
 * TUN device (the original default stays untouched underneath), and when the
 * pushed routes cover the server's own address a /32 host route keeps it
 * reachable through the underlay, as OpenVPN's def1 and wg-quick do. The
 * client only ever changes or removes routes it added itself: a pushed
 * route the table has already (the client's LAN, say) is kept as it is, and
 * so is a host route to the server someone else made. */
#ifndef VPND_ROUTES_H
#define VPND_ROUTES_H

#include <netinet/in.h>
#include <stdbool.h>

#include "conf/conf.h"
#include "tunnel/nl.h"

struct nl;

struct rt_state {
	struct cidr    rs_routes[CONF_MAX_ROUTES + 1];	/* ours, via TUN */
	int            rs_nroutes;
	struct cidr    rs_kept[CONF_MAX_ROUTES + 1];	/* pushed, but there */
	int            rs_nkept;			/* already: not ours */
	int            rs_tun;				/* ifindex */
	bool           rs_pin;				/* the server needs a host route */
	struct in_addr rs_host_addr;			/* the server */
	bool           rs_host;				/* our host route in place */
	bool           rs_host_kept;			/* someone else's serves */
	int            rs_host_oif;			/* underlay */
	bool           rs_host_has_gw;
	struct in_addr rs_host_gw;
};

/* Expand pushed routes into what is installed: 0/0 -> two /1s; routes equal
 * to the tunnel network are left to the kernel's connected route. Returns
 * the count written to out (at most CONF_MAX_ROUTES + 1). */
int  rt_expand(const struct cidr *in, int n, const struct cidr *tunnet,
               struct cidr *out);
/* What a CONFIG update changes in the pushed routes (as pushed, before
 * rt_expand): the prefixes of NEXT not in CUR into added, those of CUR not
 * in NEXT into removed (each CONF_MAX_ROUTES long, in the order given);
 * *nadded and *nremoved get their counts. For the log: rt_apply itself
 * keeps what is pushed again and removes what is not. */
void rt_diff(const struct cidr *cur, int ncur, const struct cidr *next, int nnext,
             struct cidr *added, int *nadded, struct cidr *removed, int *nremoved);
/* Install ROUTES through tun_ifindex, and the host route to SERVER if they
 * cover it (server NULL: an IPv6 underlay, nothing to pin). A route whose
 * prefix the main table has already, on another device and whatever its
 * metric, is not added: it lands in rs_kept for the caller to log, and is
 * never touched. Routes of an earlier call that are pushed again stay in
 * place, the others go. Undoes its own partial work on failure. 0 or -errno. */
int  rt_apply(struct nl *nl, struct rt_state *rs, int tun_ifindex,
              const struct cidr *routes, int n, const struct cidr *tunnet,
              const struct in_addr *server);
/* After a route change (nl_watch_drain): look the underlay's route to the
 * pinned server up again and make the host route follow it, put back if it
 * vanished (a flapping link takes its routes along) or moved to the new
 * gateway. 1: the host route was put back or moved; 0: nothing to do (no
 * pin, unchanged, or someone else's host route serves); -ENETUNREACH: the
 * underlay has no route to the server for now (the next change retries);
 * other -errno. */
int  rt_refresh(struct nl *nl, struct rt_state *rs);
/* Remove everything rt_apply installed, nothing else; missing routes are
 * not an error. */
void rt_remove(struct nl *nl, struct rt_state *rs);

/* ---- block_ipv6: no IPv6 outside a full IPv4 tunnel ----
 * A full IPv4 tunnel from a server that gives the client no IPv6 would let
 * every IPv6 connection leave outside it. The block is two routes of type
 * unreachable, ::/1 and 8000::/1, in the main table: more specific than
 * any default route, so a connect() or send() to a global IPv6 address
 * fails at once with EHOSTUNREACH (applications fall back to IPv4 without a
 * timeout) and no packet is sent. Link-local (fe80::/10) and multicast have
 * the kernel's more specific routes, so ND keeps working; so do the
 * on-link prefixes of the underlay, as the IPv4 LAN does under a full
 * tunnel. When the server's own address is IPv6, a /128 host route through
 * the underlay keeps the tunnel's transport out of the block. Every route
 * of the block has protocol NL_RTPROT and, as its metric, RT_BLOCK6_TAG
 * plus the ifindex of the tunnel device: the tag that tells a restarted
 * client which blocks were left by a client that is gone (its device went
 * with it). */
#define RT_BLOCK6_N    2
#define RT_BLOCK6_TAG  65536u	/* above any metric people set by hand */
#define RT_BLOCK6_PINS 8	/* servers tried under one block */

struct rt_pin6 {			/* an IPv6 server kept reachable */
	struct in6_addr  pn_server;
	bool             pn_ours;		/* by our /128, pn_rt */
	struct nl_route6 pn_rt;
};

struct rt_block6 {
	bool             rb_up;			/* the block is in place */
	bool             rb_own[RT_BLOCK6_N];	/* each half is ours */
	uint32_t         rb_tag;		/* metric: TAG + tunnel ifindex */
	struct rt_pin6   rb_pins[RT_BLOCK6_PINS];
	int              rb_npins;
};

/* The predicate: block when block_ipv6 is on, the pushed ROUTES (as
 * pushed) hold a default route, and the server gives no IPv6 (HAS_IPV6:
 * the CONFIG carries an IPv6 address for the client). */
bool rt_block6_wanted(bool block_ipv6, const struct cidr *routes, int n, bool has_ipv6);
/* The two unreachable halves tagged TAG, into out. */
void rt_block6_set(uint32_t tag, struct nl_route6 out[RT_BLOCK6_N]);
/* Put the block up for the tunnel device TUN_IFINDEX, with a host route to
 * SERVER through the underlay first when it is IPv6 (NULL: IPv4); those of
 * other servers go. Up already: only the host routes change; for another
 * device the block moves. A half or host route someone else has already
 * is left theirs. A failure takes away what this call added (a block that
 * was up stays up). 0 or -errno. */
int  rt_block6_up(struct nl *nl, struct rt_block6 *b, int tun_ifindex,
                  const struct in6_addr *server);
/* Before connecting to SERVER (IPv6) while the block is up (a reconnect):
 * its host route through the underlay, beside those of servers tried
 * before (the next rt_block6_up keeps only the server in use). 0 when the
 * block is down, or -errno. */
int  rt_block6_allow(struct nl *nl, struct rt_block6 *b, const struct in6_addr *server);
/* Take down what rt_block6_up put in place, nothing else. */
void rt_block6_down(struct nl *nl, struct rt_block6 *b);
/* The underlay's IPv6 routes changed (a new gateway, another device): each
 * host route of ours to a server moves to the path the underlay has now,
 * as rt_refresh does for IPv4. How many moved, or -errno (-ENETUNREACH: no
 * path now; the next change tries again). */
int  rt_block6_refresh(struct nl *nl, struct rt_block6 *b);
/* At start: remove the block routes (NL_RTPROT, a tag, unreachable ::/1
 * and 8000::/1 or a /128) whose tag names no device any more. The count
 * removed, or -errno. */
int  rt_block6_sweep(struct nl *nl);
/* ---- IPv6 inside the tunnel (network6): the same, apart ---- */
struct rt6_state {
	struct cidr6    r6_routes[CONF_MAX_ROUTES + 1];	/* ours, via TUN */
	int             r6_nroutes;
	struct cidr6    r6_kept[CONF_MAX_ROUTES + 1];	/* pushed, there already */
	int             r6_nkept;
	int             r6_tun;
	bool            r6_host;			/* our /128 to the server */
	bool            r6_host_kept;			/* someone else's serves */
	struct in6_addr r6_host_addr;
	int             r6_host_oif;
	bool            r6_host_has_gw;
	struct in6_addr r6_host_gw;
};

/* ::/0 -> ::/1 + 8000::/1; a route equal to tunnet (may be NULL) is left
 * out. Returns the count written to out (at most CONF_MAX_ROUTES + 1). */
int  rt6_expand(const struct cidr6 *in, int n, const struct cidr6 *tunnet,
                struct cidr6 *out);
void rt6_diff(const struct cidr6 *cur, int ncur, const struct cidr6 *next, int nnext,
              struct cidr6 *added, int *nadded, struct cidr6 *removed, int *nremoved);
/* As rt_apply, for IPv6 routes; server is the server's address when the
 * underlay is IPv6 (NULL otherwise): a /128 to it through the current
 * path goes in first when the routes cover it. 0 or -errno. */
int  rt6_apply(struct nl *nl, struct rt6_state *rs, int tun_ifindex,
               const struct cidr6 *routes, int n, const struct cidr6 *tunnet,
               const struct in6_addr *server);
/* Remove what rt6_apply installed, nothing else. */
void rt6_remove(struct nl *nl, struct rt6_state *rs);
/* The same for the /128 to an IPv6 server under IPv6 tunnel routes: 1 if it
 * moved, 0 if not (or there is none of ours), -errno. */
int  rt6_refresh(struct nl *nl, struct rt6_state *rs);

#endif
