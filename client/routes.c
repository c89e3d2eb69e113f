/* routes.c - install and remove the client's tunnel routes through netlink.
 * The host route to the server is looked up before any tunnel route exists
 * (or reused from the last session), so it always points at the underlay. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "client/routes.h"
#include "tunnel/nl.h"

int rt_expand(const struct cidr *in, int n, const struct cidr *tunnet,
    struct cidr *out)
{
	int i, k = 0;

	for (i = 0; i < n; i++) {
		if (in[i].plen == tunnet->plen && in[i].addr.s_addr == tunnet->addr.s_addr)
			continue;
		if (k + (in[i].plen == 0 ? 2 : 1) > CONF_MAX_ROUTES + 1)
			break;
		if (in[i].plen == 0) {
			out[k].addr.s_addr = htonl(0);
			out[k++].plen = 1;
			out[k].addr.s_addr = htonl(0x80000000u);
			out[k++].plen = 1;
			continue;
		}
		out[k++] = in[i];
	}
	return k;
}

static bool rt_covers(const struct cidr *r, int n, struct in_addr a)
{
	int i;

	for (i = 0; i < n; i++)
		if (cidr_contains(&r[i], a))
			return true;
	return false;
}

/* Pin the server's address to the path it has now, unless the previous
 * session's host route is for the same address already. */
static int rt_host_route(struct nl *nl, struct rt_state *rs, struct in_addr server)
{
	int oif, err;
	struct in_addr gw;
	bool has_gw;

	if (rs->rs_host && rs->rs_host_addr.s_addr == server.s_addr)
		return 0;
	if ((err = nl_route_get(nl, server, &oif, &gw, &has_gw)) < 0)
		return err;
	if (oif == rs->rs_tun && rs->rs_host) {	/* tunnel routes in the way */
		oif = rs->rs_host_oif;
		gw = rs->rs_host_gw;
		has_gw = rs->rs_host_has_gw;
	}
	if (rs->rs_host)
		nl_route_del(nl, rs->rs_host_addr, 32, rs->rs_host_oif,
		    rs->rs_host_has_gw ? &rs->rs_host_gw : NULL);
	if ((err = nl_route_add(nl, server, 32, oif, has_gw ? &gw : NULL)) < 0) {
		rs->rs_host = false;
		return err;
	}
	rs->rs_host = true;
	rs->rs_host_addr = server;
	rs->rs_host_oif = oif;
	rs->rs_host_gw = gw;
	rs->rs_host_has_gw = has_gw;
	return 0;
}

static void rt_remove_tun_routes(struct nl *nl, struct rt_state *rs)
{
	int i;

	for (i = 0; i < rs->rs_nroutes; i++)
		nl_route_del(nl, rs->rs_routes[i].addr, rs->rs_routes[i].plen,
		    rs->rs_tun, NULL);
	rs->rs_nroutes = 0;
}

int rt_apply(struct nl *nl, struct rt_state *rs, int tun_ifindex,
    const struct cidr *routes, int n, const struct cidr *tunnet,
    const struct in_addr *server)
{
	struct cidr want[CONF_MAX_ROUTES + 1];
	int i, k, err;

	k = rt_expand(routes, n, tunnet, want);
	if (rs->rs_tun != tun_ifindex)
		rs->rs_nroutes = 0;	/* the old device took its routes along */
	rs->rs_tun = tun_ifindex;
	if (server != NULL && rt_covers(want, k, *server) &&
	    (err = rt_host_route(nl, rs, *server)) < 0)
		return err;
	rt_remove_tun_routes(nl, rs);
	for (i = 0; i < k; i++) {
		if ((err = nl_route_add(nl, want[i].addr, want[i].plen, tun_ifindex, NULL)) < 0) {
			rt_remove_tun_routes(nl, rs);
			return err;
		}
		rs->rs_routes[rs->rs_nroutes++] = want[i];
	}
	return 0;
}

void rt_remove(struct nl *nl, struct rt_state *rs)
{
	rt_remove_tun_routes(nl, rs);
	if (rs->rs_host)
		nl_route_del(nl, rs->rs_host_addr, 32, rs->rs_host_oif,
		    rs->rs_host_has_gw ? &rs->rs_host_gw : NULL);
	rs->rs_host = false;
}
