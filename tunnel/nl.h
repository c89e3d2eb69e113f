/* nl.h - rtnetlink from C (libmnl): bring links up, set MTU, add addresses
 * and routes, look up the route the kernel would take, list the main table,
 * and hear about route changes. Each call is one request and its ACK on a
 * private socket; nothing is printed. */
#ifndef VPND_NL_H
#define VPND_NL_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

struct nl;

int  nl_open(struct nl **out);			/* 0 or -errno */
void nl_close(struct nl *nl);			/* NULL is fine */

int  nl_ifindex(const char *ifname);		/* >0 or -errno */
/* Set MTU (if mtu > 0) and bring the link up. */
int  nl_link_up(struct nl *nl, int ifindex, int mtu);
/* Add ADDR/PLEN to the link (NLM_F_REPLACE, so repeating is fine). */
int  nl_addr_add(struct nl *nl, int ifindex, struct in_addr addr, int plen);
int  nl_addr_del(struct nl *nl, int ifindex, struct in_addr addr, int plen);
/* Routes this module adds carry this protocol number (unassigned in
 * iproute2's rt_protos), so `ip route show proto 118` lists them and
 * nl_route_del can only ever remove one of them. */
#define NL_RTPROT 118

/* Route DST/PLEN out of ifindex, via gw if gw is not NULL, in the main
 * table. add never replaces: -EEXIST when the table has a route with that
 * key (prefix, TOS 0, metric 0) already, whoever made it. replace swaps
 * such a route for this one: only for a route the caller added itself.
 * del removes only a route of ours (NL_RTPROT) with that prefix, ifindex
 * and gateway: -ESRCH when there is none. */
int  nl_route_add(struct nl *nl, struct in_addr dst, int plen, int ifindex,
                  const struct in_addr *gw);
int  nl_route_replace(struct nl *nl, struct in_addr dst, int plen, int ifindex,
                      const struct in_addr *gw);
int  nl_route_del(struct nl *nl, struct in_addr dst, int plen, int ifindex,
                  const struct in_addr *gw);
/* RTM_GETROUTE for DST: outgoing ifindex and gateway (has_gw false on a
 * directly connected route). */
int  nl_route_get(struct nl *nl, struct in_addr dst, int *ifindex,
                  struct in_addr *gw, bool *has_gw);

/* One IPv4 route of a table as the kernel lists it. */
struct nl_route {
	struct in_addr nr_dst;
	int            nr_plen;
	int            nr_oif;		/* 0: none, or several next hops */
	bool           nr_has_gw;
	struct in_addr nr_gw;
	uint32_t       nr_metric;
	uint32_t       nr_table;
	uint8_t        nr_type;		/* RTN_UNICAST, RTN_BLACKHOLE, ... */
	uint8_t        nr_tos;
	uint8_t        nr_proto;		/* RTPROT_KERNEL, NL_RTPROT, ... */
	bool           nr_dead;		/* its next hop is down (RTNH_F_DEAD) */
};
/* Every IPv4 route of the main table, one call of FN each; R is borrowed
 * for the call and FN must not use NL. 0 or -errno. */
int  nl_route_dump(struct nl *nl, void (*fn)(void *arg, const struct nl_route *r),
                   void *arg);

/* Route (or address) changes: a non-blocking netlink socket subscribed to
 * GROUPS (RTMGRP_IPV4_ROUTE for nl_watch_drain; RTMGRP_*), for the
 * caller's poll loop. Opening needs no privilege. fd or -errno; the caller
 * close()s it. */
int  nl_watch_open(uint32_t groups);
/* Read what is queued on FD, at most a bounded number of datagrams (a
 * level-triggered poll fires again for the rest). 1 if a main-table route
 * (IPv4 or IPv6) not on IGNORE_IFINDEX was added or removed, or notifications were lost
 * (the socket overran); 0 if nothing of that; -errno. */
int  nl_watch_drain(int fd, int ignore_ifindex);

/* ---- IPv6 routes (main table) ---- */

/* One IPv6 route: what nl_route6_add installs (protocol NL_RTPROT, main
 * table), nl_route6_del removes and nl_route6_dump reports. */
struct nl_route6 {
	struct in6_addr n6_dst;
	int             n6_plen;	/* 0..128 */
	uint8_t         n6_type;	/* RTN_UNICAST, RTN_UNREACHABLE, ... */
	uint8_t         n6_proto;	/* reported; add and del use NL_RTPROT */
	int             n6_oif;		/* unicast: the device; else 0 (add) */
	bool            n6_has_gw;
	struct in6_addr n6_gw;
	uint32_t        n6_metric;	/* 0 on add: the kernel's 1024; on del: any */
	uint32_t        n6_table;	/* reported */
};
/* Add R (RTN_UNICAST needs n6_oif; RTN_UNREACHABLE takes none): never
 * replaces, -EEXIST when a route with that key (prefix, metric) is there.
 * del removes only a route of ours (NL_RTPROT) with that prefix, metric
 * (0: any), device (0: any) and gateway: -ESRCH when there is none. */
int  nl_route6_add(struct nl *nl, const struct nl_route6 *r);
int  nl_route6_del(struct nl *nl, const struct nl_route6 *r);
/* Every IPv6 route of the main table, one call of FN each; R is borrowed
 * for the call and FN must not use NL. 0 or -errno. */
int  nl_route6_dump(struct nl *nl, void (*fn)(void *arg, const struct nl_route6 *r),
                    void *arg);

/* IPv6 inside the tunnel: the address (added without duplicate address
 * detection: a point-to-point link has no neighbour to collide with), and
 * the route the kernel would take to DST (RTM_GETROUTE): its device and
 * gateway, or -ENETUNREACH. */
int  nl_addr6_add(struct nl *nl, int ifindex, const struct in6_addr *addr, int plen);
int  nl_addr6_del(struct nl *nl, int ifindex, const struct in6_addr *addr, int plen);
int  nl_route6_get(struct nl *nl, const struct in6_addr *dst, int *ifindex,
                   struct in6_addr *gw, bool *has_gw);

#endif
