/* routes.h - the routes a client installs for its tunnel, and removes
 * again. A pushed default route becomes 0.0.0.0/1 + 128.0.0.0/1 through the
 * TUN device (the original default stays untouched underneath), and when the
 * pushed routes cover the server's own address a /32 host route keeps it
 * reachable through the underlay, as OpenVPN's def1 and wg-quick do. */
#ifndef VPND_ROUTES_H
#define VPND_ROUTES_H

#include <netinet/in.h>
#include <stdbool.h>

#include "conf/conf.h"

struct nl;

struct rt_state {
	struct cidr    rs_routes[CONF_MAX_ROUTES + 1];	/* via TUN */
	int            rs_nroutes;
	int            rs_tun;				/* ifindex */
	bool           rs_host;				/* host route in place */
	struct in_addr rs_host_addr;
	int            rs_host_oif;			/* underlay */
	bool           rs_host_has_gw;
	struct in_addr rs_host_gw;
};

/* Expand pushed routes into what is installed: 0/0 -> two /1s; routes equal
 * to the tunnel network are left to the kernel's connected route. Returns
 * the count written to out (at most CONF_MAX_ROUTES + 1). */
int  rt_expand(const struct cidr *in, int n, const struct cidr *tunnet,
               struct cidr *out);
/* Install ROUTES through tun_ifindex, and the host route to SERVER if they
 * cover it (server NULL: an IPv6 underlay, nothing to pin). Undoes its own
 * partial work on failure. 0 or -errno. */
int  rt_apply(struct nl *nl, struct rt_state *rs, int tun_ifindex,
              const struct cidr *routes, int n, const struct cidr *tunnet,
              const struct in_addr *server);
/* Remove everything rt_apply installed; missing routes are not an error. */
void rt_remove(struct nl *nl, struct rt_state *rs);

#endif
