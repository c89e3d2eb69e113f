/* nl.h - rtnetlink from C (libmnl): bring links up, set MTU, add addresses
 * and routes, look up the route the kernel would take. Each call is one
 * request and its ACK on a private socket; nothing is printed. */
#ifndef VPND_NL_H
#define VPND_NL_H

#include <netinet/in.h>
#include <stdbool.h>

struct nl;

int  nl_open(struct nl **out);			/* 0 or -errno */
void nl_close(struct nl *nl);			/* NULL is fine */

int  nl_ifindex(const char *ifname);		/* >0 or -errno */
/* Set MTU (if mtu > 0) and bring the link up. */
int  nl_link_up(struct nl *nl, int ifindex, int mtu);
/* Add ADDR/PLEN to the link (NLM_F_REPLACE, so repeating is fine). */
int  nl_addr_add(struct nl *nl, int ifindex, struct in_addr addr, int plen);
int  nl_addr_del(struct nl *nl, int ifindex, struct in_addr addr, int plen);
/* Route DST/PLEN out of ifindex, via gw if gw is not NULL (main table,
 * NLM_F_REPLACE on add). del: -ESRCH when there is no such route. */
int  nl_route_add(struct nl *nl, struct in_addr dst, int plen, int ifindex,
                  const struct in_addr *gw);
int  nl_route_del(struct nl *nl, struct in_addr dst, int plen, int ifindex,
                  const struct in_addr *gw);
/* RTM_GETROUTE for DST: outgoing ifindex and gateway (has_gw false on a
 * directly connected route). */
int  nl_route_get(struct nl *nl, struct in_addr dst, int *ifindex,
                  struct in_addr *gw, bool *has_gw);

#endif
