/* routes.c - install and remove the client's tunnel routes through netlink.
 * Each rt_apply or rt_refresh starts with one dump of the main table: it
 * says which pushed prefixes are taken already (those are kept as they are,
 * not ours), whether our host route to the server is still there, and which
 * route the underlay itself has to the server. That route is what
 * RTM_GETROUTE says while the kernel's answer sees past the tunnel (before
 * the tunnel routes exist, or once our host route has gone), else the one
 * the kernel would pick from the dump (longest prefix, then lowest metric)
 * leaving out the TUN device and our own host route. So the host route
 * always points at the underlay, and follows it when it changes. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <net/if.h>

#include <linux/rtnetlink.h>

#include "client/routes.h"
#include "tunnel/nl.h"

/* Where a packet to the server leaves: device and next hop. */
struct rt_path {
	int            rp_oif;
	bool           rp_has_gw;
	struct in_addr rp_gw;
};

/* What one dump of the main table says (on_scan_route). */
struct rt_scan {
	const struct rt_state *sc_rs;
	const struct cidr     *sc_want;		/* pushed routes to look for */
	int                    sc_nwant;
	bool                   sc_taken[CONF_MAX_ROUTES + 1];	/* not via TUN */
	bool                   sc_own;		/* our host route is there, */
	struct rt_path         sc_own_path;	/* this way */
	bool                   sc_other_host;	/* someone else's /32 to the server */
	bool                   sc_found;	/* the underlay's best route to */
	struct nl_route        sc_best;		/* the server */
};

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

/* Prefixes of either family compare as their bytes: struct cidr and
 * struct cidr6 have no padding. */
_Static_assert(sizeof(struct cidr) == sizeof(struct in_addr) + sizeof(int), "cidr padded");
_Static_assert(sizeof(struct cidr6) == sizeof(struct in6_addr) + sizeof(int), "cidr6 padded");

/* Is the size-byte prefix e one of set[0..n)? */
static bool rt_in(const void *set, int n, const void *e, size_t size)
{
	const char *p = set;
	int i;

	for (i = 0; i < n; i++, p += size)
		if (memcmp(p, e, size) == 0)
			return true;
	return false;
}

/* Append to out[0..*n) each of in[0..nin) that is neither in
 * except[0..nexcept) nor in out already; prefixes of size bytes. */
static void rt_add_missing(const void *in, int nin, const void *except, int nexcept,
    void *out, int *n, size_t size)
{
	const char *e = in;
	int i;

	for (i = 0; i < nin; i++, e += size)
		if (!rt_in(except, nexcept, e, size) && !rt_in(out, *n, e, size))
			memcpy((char *)out + (size_t)(*n)++ * size, e, size);
}

static bool rt_has(const struct cidr *set, int n, const struct cidr *c)
{
	return rt_in(set, n, c, sizeof(*c));
}

void rt_diff(const struct cidr *cur, int ncur, const struct cidr *next, int nnext,
    struct cidr *added, int *nadded, struct cidr *removed, int *nremoved)
{
	*nadded = *nremoved = 0;
	rt_add_missing(next, nnext, cur, ncur, added, nadded, sizeof(*cur));
	rt_add_missing(cur, ncur, next, nnext, removed, nremoved, sizeof(*cur));
}

static bool rt_path_eq(const struct rt_path *a, const struct rt_path *b)
{
	return a->rp_oif == b->rp_oif && a->rp_has_gw == b->rp_has_gw &&
	    (!a->rp_has_gw || a->rp_gw.s_addr == b->rp_gw.s_addr);
}

static struct rt_path rt_path_of(const struct nl_route *r)
{
	return (struct rt_path){ .rp_oif = r->nr_oif, .rp_has_gw = r->nr_has_gw,
	    .rp_gw = r->nr_gw };
}

/* One route of the dump. Routes via the TUN device are ours or the
 * kernel's for the tunnel network, and say nothing about the underlay; a
 * route with a TOS carries no ordinary traffic. */
static void on_scan_route(void *arg, const struct nl_route *r)
{
	struct rt_scan *sc = arg;
	const struct rt_state *rs = sc->sc_rs;
	struct cidr c = { .addr = r->nr_dst, .plen = r->nr_plen };
	int i;

	if (r->nr_oif == rs->rs_tun || r->nr_tos != 0)
		return;
	for (i = 0; i < sc->sc_nwant; i++)
		if (sc->sc_want[i].plen == r->nr_plen &&
		    sc->sc_want[i].addr.s_addr == r->nr_dst.s_addr)
			sc->sc_taken[i] = true;
	if (!rs->rs_pin || !cidr_contains(&c, rs->rs_host_addr))
		return;
	if (r->nr_plen == 32 && rs->rs_host && r->nr_proto == NL_RTPROT) {
		sc->sc_own = true;
		sc->sc_own_path = rt_path_of(r);
		return;
	}
	if (r->nr_plen == 32)
		sc->sc_other_host = true;
	if (r->nr_dead)
		return;
	if (!sc->sc_found || r->nr_plen > sc->sc_best.nr_plen ||
	    (r->nr_plen == sc->sc_best.nr_plen && r->nr_metric < sc->sc_best.nr_metric)) {
		sc->sc_best = *r;
		sc->sc_found = true;
	}
}

static int rt_scan(struct nl *nl, struct rt_scan *sc, const struct rt_state *rs,
    const struct cidr *want, int nwant)
{
	memset(sc, 0, sizeof(*sc));
	sc->sc_rs = rs;
	sc->sc_want = want;
	sc->sc_nwant = nwant;
	return nl_route_dump(nl, on_scan_route, sc);
}

/* The underlay's path to the server: the kernel's own answer while that
 * does not end in the tunnel or at our host route, else the dump's best. */
static int rt_underlay(struct nl *nl, const struct rt_state *rs,
    const struct rt_scan *sc, struct rt_path *p)
{
	if (!sc->sc_own && nl_route_get(nl, rs->rs_host_addr, &p->rp_oif, &p->rp_gw,
	    &p->rp_has_gw) == 0 && p->rp_oif != rs->rs_tun)
		return 0;
	if (sc->sc_found && sc->sc_best.nr_type == RTN_UNICAST && sc->sc_best.nr_oif > 0) {
		*p = rt_path_of(&sc->sc_best);
		return 0;
	}
	return -ENETUNREACH;
}

/* Make the host route to rs_host_addr what the underlay says, after scan
 * SC. Ours is moved in place (replace: only ever our own route); a missing
 * one is added, and loses to a host route someone else has. 1 if the route
 * was added or moved, 0 if nothing changed, -errno. */
static int rt_follow(struct nl *nl, struct rt_state *rs, const struct rt_scan *sc)
{
	struct rt_path p;
	int err;

	rs->rs_host_kept = false;
	if (!sc->sc_own) {
		rs->rs_host = false;		/* gone, if it ever was there */
		if ((rs->rs_host_kept = sc->sc_other_host))
			return 0;		/* theirs serves, and stays theirs */
	}
	if ((err = rt_underlay(nl, rs, sc, &p)) < 0)
		return sc->sc_own ? 0 : err;	/* keep the only path we know */
	if (sc->sc_own && rt_path_eq(&p, &sc->sc_own_path))
		return 0;
	if (sc->sc_own)
		err = nl_route_replace(nl, rs->rs_host_addr, 32, p.rp_oif,
		    p.rp_has_gw ? &p.rp_gw : NULL);
	else if ((err = nl_route_add(nl, rs->rs_host_addr, 32, p.rp_oif,
	    p.rp_has_gw ? &p.rp_gw : NULL)) == -EEXIST) {
		rs->rs_host_kept = true;	/* made by someone else just now */
		return 0;
	}
	if (err < 0)
		return err;
	rs->rs_host = true;
	rs->rs_host_oif = p.rp_oif;
	rs->rs_host_has_gw = p.rp_has_gw;
	rs->rs_host_gw = p.rp_gw;
	return 1;
}

static void rt_unpin(struct nl *nl, struct rt_state *rs)
{
	if (rs->rs_host)
		nl_route_del(nl, rs->rs_host_addr, 32, rs->rs_host_oif,
		    rs->rs_host_has_gw ? &rs->rs_host_gw : NULL);
	rs->rs_host = false;
	rs->rs_host_kept = false;
	rs->rs_pin = false;
}

static void rt_remove_tun_routes(struct nl *nl, struct rt_state *rs)
{
	int i;

	for (i = 0; i < rs->rs_nroutes; i++)
		nl_route_del(nl, rs->rs_routes[i].addr, rs->rs_routes[i].plen,
		    rs->rs_tun, NULL);
	rs->rs_nroutes = 0;
}

/* Our routes of an earlier call that are not wanted now go. */
static void rt_drop_unwanted(struct nl *nl, struct rt_state *rs,
    const struct cidr *want, int k)
{
	int i, j = 0;

	for (i = 0; i < rs->rs_nroutes; i++) {
		if (rt_has(want, k, &rs->rs_routes[i]))
			rs->rs_routes[j++] = rs->rs_routes[i];
		else
			nl_route_del(nl, rs->rs_routes[i].addr, rs->rs_routes[i].plen,
			    rs->rs_tun, NULL);
	}
	rs->rs_nroutes = j;
}

/* Each wanted route: ours already, taken by another route (kept), or added
 * now; an add that fails takes all of ours away again. */
static int rt_add_wanted(struct nl *nl, struct rt_state *rs, const struct cidr *want,
    int k, const struct rt_scan *sc)
{
	int i, err;

	rs->rs_nkept = 0;
	for (i = 0; i < k; i++) {
		if (rt_has(rs->rs_routes, rs->rs_nroutes, &want[i]) ||
		    rt_has(rs->rs_kept, rs->rs_nkept, &want[i]))
			continue;
		if (!sc->sc_taken[i] && (err = nl_route_add(nl, want[i].addr,
		    want[i].plen, rs->rs_tun, NULL)) != -EEXIST) {
			if (err < 0) {
				rt_remove_tun_routes(nl, rs);
				rs->rs_nkept = 0;
				return err;
			}
			rs->rs_routes[rs->rs_nroutes++] = want[i];
			continue;
		}
		rs->rs_kept[rs->rs_nkept++] = want[i];
	}
	return 0;
}

int rt_apply(struct nl *nl, struct rt_state *rs, int tun_ifindex,
    const struct cidr *routes, int n, const struct cidr *tunnet,
    const struct in_addr *server)
{
	struct cidr want[CONF_MAX_ROUTES + 1];
	struct rt_scan sc;
	bool pin;
	int k, err;

	k = rt_expand(routes, n, tunnet, want);
	if (rs->rs_tun != tun_ifindex)
		rs->rs_nroutes = 0;	/* the old device took its routes along */
	rs->rs_tun = tun_ifindex;
	pin = server != NULL && rt_covers(want, k, *server);
	if (rs->rs_pin && (!pin || rs->rs_host_addr.s_addr != server->s_addr))
		rt_unpin(nl, rs);	/* another server, or no longer covered */
	if (pin) {
		rs->rs_pin = true;
		rs->rs_host_addr = *server;
	}
	/* the host route goes in first, while the kernel's lookup for the
	 * server still sees the underlay (unless an earlier session's tunnel
	 * routes are in the way; the dump then says) */
	if ((err = rt_scan(nl, &sc, rs, want, k)) < 0 ||
	    (pin && (err = rt_follow(nl, rs, &sc)) < 0))
		return err;
	rt_drop_unwanted(nl, rs, want, k);
	return rt_add_wanted(nl, rs, want, k, &sc);
}

int rt_refresh(struct nl *nl, struct rt_state *rs)
{
	struct rt_scan sc;
	int err;

	if (!rs->rs_pin)
		return 0;
	if ((err = rt_scan(nl, &sc, rs, NULL, 0)) < 0)
		return err;
	return rt_follow(nl, rs, &sc);
}

void rt_remove(struct nl *nl, struct rt_state *rs)
{
	rt_remove_tun_routes(nl, rs);
	rt_unpin(nl, rs);
	rs->rs_nkept = 0;
}

/* ---- block_ipv6 (routes.h) ---- */

bool rt_block6_wanted(bool block_ipv6, const struct cidr *routes, int n, bool has_ipv6)
{
	int i;

	if (!block_ipv6 || has_ipv6)
		return false;
	for (i = 0; i < n; i++)
		if (routes[i].plen == 0)
			return true;
	return false;
}

void rt_block6_set(uint32_t tag, struct nl_route6 out[RT_BLOCK6_N])
{
	int i;

	for (i = 0; i < RT_BLOCK6_N; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		out[i].n6_dst.s6_addr[0] = i == 0 ? 0x00 : 0x80;
		out[i].n6_plen = 1;
		out[i].n6_type = RTN_UNREACHABLE;
		out[i].n6_metric = tag;
	}
}

/* The underlay's best route to the server, from a dump: longest prefix,
 * then lowest metric, leaving out the tunnel device, routes that are not
 * unicast (the block itself) and our own host routes. */
struct rt_path6 {
	const struct in6_addr *p6_to;
	int                    p6_tun;
	bool                   p6_found;
	struct nl_route6       p6_best;
};

static bool rt6_covers(const struct nl_route6 *r, const struct in6_addr *a)
{
	int bytes = r->n6_plen / 8, bits = r->n6_plen % 8;

	if (memcmp(r->n6_dst.s6_addr, a->s6_addr, (size_t)bytes) != 0)
		return false;
	return bits == 0 || ((r->n6_dst.s6_addr[bytes] ^ a->s6_addr[bytes]) &
	    (0xff << (8 - bits))) == 0;
}

static void on_path_route6(void *arg, const struct nl_route6 *r)
{
	struct rt_path6 *p = arg;

	if (r->n6_type != RTN_UNICAST || r->n6_oif <= 0 || r->n6_oif == p->p6_tun ||
	    (r->n6_proto == NL_RTPROT && (r->n6_metric > RT_BLOCK6_TAG || r->n6_plen == 128)) ||
	    !rt6_covers(r, p->p6_to))
		return;
	if (!p->p6_found || r->n6_plen > p->p6_best.n6_plen ||
	    (r->n6_plen == p->p6_best.n6_plen && r->n6_metric < p->p6_best.n6_metric)) {
		p->p6_best = *r;
		p->p6_found = true;
	}
}

/* The path rt_path6 finds to TO, into *best. 0, or -ENETUNREACH, -errno. */
static int rt6_path(struct nl *nl, const struct in6_addr *to, int tun, struct nl_route6 *best)
{
	struct rt_path6 path = { .p6_to = to, .p6_tun = tun };
	int err;

	if ((err = nl_route6_dump(nl, on_path_route6, &path)) < 0)
		return err;
	if (!path.p6_found)
		return -ENETUNREACH;
	*best = path.p6_best;
	return 0;
}

/* Whether host route H still goes where BEST does. */
static bool rt6_same_hop(const struct nl_route6 *h, const struct nl_route6 *best)
{
	return h->n6_oif == best->n6_oif && h->n6_has_gw == best->n6_has_gw &&
	    (!h->n6_has_gw || memcmp(&h->n6_gw, &best->n6_gw, sizeof(h->n6_gw)) == 0);
}

static void rt_block6_unpin(struct nl *nl, struct rt_pin6 *p)
{
	if (p->pn_ours)
		nl_route6_del(nl, &p->pn_rt);
	p->pn_ours = false;
}

static struct rt_pin6 *rt_block6_pinned(struct rt_block6 *b, const struct in6_addr *server)
{
	int i;

	for (i = 0; i < b->rb_npins; i++)
		if (memcmp(&b->rb_pins[i].pn_server, server, sizeof(*server)) == 0)
			return &b->rb_pins[i];
	return NULL;
}

/* The host route to an IPv6 server through the underlay; found from a dump,
 * so it works with the block up already (a reconnect to another server of
 * the list). A /128 of someone else's that serves already is left to serve;
 * a full list drops its oldest pin. 0 or -errno. */
static int rt_block6_pin(struct nl *nl, struct rt_block6 *b, const struct in6_addr *server)
{
	struct rt_pin6 p = { .pn_server = *server };
	struct nl_route6 best;
	int err;

	if (rt_block6_pinned(b, server) != NULL)
		return 0;
	if ((err = rt6_path(nl, server, (int)(b->rb_tag - RT_BLOCK6_TAG), &best)) < 0)
		return err;
	if (best.n6_plen < 128) {
		p.pn_rt.n6_dst = *server;
		p.pn_rt.n6_plen = 128;
		p.pn_rt.n6_type = RTN_UNICAST;
		p.pn_rt.n6_oif = best.n6_oif;
		p.pn_rt.n6_has_gw = best.n6_has_gw;
		p.pn_rt.n6_gw = best.n6_gw;
		p.pn_rt.n6_metric = b->rb_tag;
		if ((err = nl_route6_add(nl, &p.pn_rt)) < 0 && err != -EEXIST)
			return err;
		p.pn_ours = err == 0;
	}
	if (b->rb_npins == RT_BLOCK6_PINS) {
		rt_block6_unpin(nl, &b->rb_pins[0]);
		memmove(&b->rb_pins[0], &b->rb_pins[1], sizeof(p) * (RT_BLOCK6_PINS - 1));
		b->rb_npins--;
	}
	b->rb_pins[b->rb_npins++] = p;
	return 0;
}

/* Only SERVER's pin stays (NULL: none): the session is up on it. */
static void rt_block6_unpin_others(struct nl *nl, struct rt_block6 *b,
    const struct in6_addr *server)
{
	int i, j = 0;

	for (i = 0; i < b->rb_npins; i++) {
		if (server != NULL &&
		    memcmp(&b->rb_pins[i].pn_server, server, sizeof(*server)) == 0)
			b->rb_pins[j++] = b->rb_pins[i];
		else
			rt_block6_unpin(nl, &b->rb_pins[i]);
	}
	b->rb_npins = j;
}

int rt_block6_refresh(struct nl *nl, struct rt_block6 *b)
{
	struct nl_route6 best;
	int i, moved = 0, err;

	for (i = 0; b->rb_up && i < b->rb_npins; i++) {
		struct rt_pin6 *p = &b->rb_pins[i];
		struct nl_route6 nr = p->pn_rt;

		if (!p->pn_ours)
			continue;
		if ((err = rt6_path(nl, &p->pn_server, (int)(b->rb_tag - RT_BLOCK6_TAG),
		    &best)) < 0)
			return err;
		if (rt6_same_hop(&p->pn_rt, &best))
			continue;
		nr.n6_oif = best.n6_oif;
		nr.n6_has_gw = best.n6_has_gw;
		nr.n6_gw = best.n6_gw;
		nl_route6_del(nl, &p->pn_rt);
		/* a failure keeps the old hop on record: the next change tries
		 * again (its delete finds nothing, which is fine) */
		if ((err = nl_route6_add(nl, &nr)) < 0 && err != -EEXIST)
			return err;
		p->pn_rt = nr;
		p->pn_ours = err == 0;
		moved++;
	}
	return moved;
}

int rt_block6_up(struct nl *nl, struct rt_block6 *b, int tun_ifindex,
    const struct in6_addr *server)
{
	struct nl_route6 half[RT_BLOCK6_N];
	bool was_up = b->rb_up;
	int i, err;

	if (tun_ifindex <= 0)
		return -EINVAL;
	if (b->rb_up && b->rb_tag != RT_BLOCK6_TAG + (uint32_t)tun_ifindex) {
		rt_block6_down(nl, b);		/* a new device, a new tag */
		was_up = false;
	}
	b->rb_tag = RT_BLOCK6_TAG + (uint32_t)tun_ifindex;
	rt_block6_unpin_others(nl, b, server);
	/* the host route goes in before the block */
	if (server != NULL && (err = rt_block6_pin(nl, b, server)) < 0)
		goto fail;
	if (b->rb_up)
		return 0;
	rt_block6_set(b->rb_tag, half);
	for (i = 0; i < RT_BLOCK6_N; i++) {
		if ((err = nl_route6_add(nl, &half[i])) < 0 && err != -EEXIST)
			goto fail;
		b->rb_own[i] = err == 0;
	}
	b->rb_up = true;
	return 0;
fail:
	if (!was_up)
		rt_block6_down(nl, b);	/* what is ours goes; the rest was not */
	return err;
}

int rt_block6_allow(struct nl *nl, struct rt_block6 *b, const struct in6_addr *server)
{
	if (!b->rb_up)
		return 0;
	return rt_block6_pin(nl, b, server);
}

void rt_block6_down(struct nl *nl, struct rt_block6 *b)
{
	struct nl_route6 half[RT_BLOCK6_N];
	int i;

	rt_block6_set(b->rb_tag, half);
	for (i = 0; i < RT_BLOCK6_N; i++)
		if (b->rb_own[i])
			nl_route6_del(nl, &half[i]);
	rt_block6_unpin_others(nl, b, NULL);
	memset(b, 0, sizeof(*b));
}

/* What rt_block6_sweep found to remove. */
struct rt_sweep6 {
	struct nl_route6 sw_rt[16];
	int              sw_n;
};

static void on_sweep_route6(void *arg, const struct nl_route6 *r)
{
	struct rt_sweep6 *sw = arg;
	char name[IF_NAMESIZE];
	bool half = r->n6_type == RTN_UNREACHABLE && r->n6_plen == 1;
	bool host = r->n6_type == RTN_UNICAST && r->n6_plen == 128;

	if (r->n6_proto != NL_RTPROT || r->n6_metric <= RT_BLOCK6_TAG ||
	    r->n6_metric - RT_BLOCK6_TAG > INT32_MAX || (!half && !host) ||
	    sw->sw_n == (int)(sizeof(sw->sw_rt) / sizeof(sw->sw_rt[0])))
		return;
	if (if_indextoname(r->n6_metric - RT_BLOCK6_TAG, name) != NULL)
		return;			/* its client's device is there: live */
	sw->sw_rt[sw->sw_n] = *r;
	if (half)
		sw->sw_rt[sw->sw_n].n6_oif = 0;	/* the kernel's lo: not a key */
	sw->sw_n++;
}

int rt_block6_sweep(struct nl *nl)
{
	struct rt_sweep6 sw = { .sw_n = 0 };
	int i, err, n = 0;

	if ((err = nl_route6_dump(nl, on_sweep_route6, &sw)) < 0)
		return err;
	for (i = 0; i < sw.sw_n; i++)
		if (nl_route6_del(nl, &sw.sw_rt[i]) == 0)
			n++;
	return n;
}

/* ---- IPv6 inside the tunnel ----
 * The same policy for the pushed IPv6 routes, kept apart from the IPv4
 * state: ::/0 becomes ::/1 + 8000::/1, network6 is left to the kernel's
 * connected route, and a /128 host route keeps an IPv6 server reachable
 * through the underlay while the routes cover it. A route the table has
 * already (NLM_F_EXCL says -EEXIST) is kept as it is, not ours. */

/* A unicast route through OIF (and GW), for nl_route6_add/del. */
static int rt6_nl(struct nl *nl, bool add, const struct in6_addr *dst, int plen, int oif,
    const struct in6_addr *gw)
{
	struct nl_route6 r = { .n6_dst = *dst, .n6_plen = plen, .n6_type = RTN_UNICAST,
	    .n6_oif = oif, .n6_has_gw = gw != NULL };

	if (gw != NULL)
		r.n6_gw = *gw;
	return add ? nl_route6_add(nl, &r) : nl_route6_del(nl, &r);
}

static bool rt6_eq(const struct cidr6 *a, const struct cidr6 *b)
{
	return a->plen == b->plen && memcmp(&a->addr, &b->addr, 16) == 0;
}

static bool rt6_has(const struct cidr6 *set, int n, const struct cidr6 *c)
{
	return rt_in(set, n, c, sizeof(*c));
}

int rt6_expand(const struct cidr6 *in, int n, const struct cidr6 *tunnet,
    struct cidr6 *out)
{
	int i, k = 0;

	for (i = 0; i < n; i++) {
		if (tunnet != NULL && rt6_eq(&in[i], tunnet))
			continue;
		if (k + (in[i].plen == 0 ? 2 : 1) > CONF_MAX_ROUTES + 1)
			break;
		if (in[i].plen == 0) {
			memset(&out[k], 0, sizeof(out[k]));
			out[k++].plen = 1;
			memset(&out[k], 0, sizeof(out[k]));
			out[k].addr.s6_addr[0] = 0x80;
			out[k++].plen = 1;
			continue;
		}
		out[k++] = in[i];
	}
	return k;
}

void rt6_diff(const struct cidr6 *cur, int ncur, const struct cidr6 *next, int nnext,
    struct cidr6 *added, int *nadded, struct cidr6 *removed, int *nremoved)
{
	*nadded = *nremoved = 0;
	rt_add_missing(next, nnext, cur, ncur, added, nadded, sizeof(*cur));
	rt_add_missing(cur, ncur, next, nnext, removed, nremoved, sizeof(*cur));
}

static void rt6_unpin(struct nl *nl, struct rt6_state *rs)
{
	if (rs->r6_host)
		rt6_nl(nl, false, &rs->r6_host_addr, 128, rs->r6_host_oif,
		    rs->r6_host_has_gw ? &rs->r6_host_gw : NULL);
	rs->r6_host = false;
	rs->r6_host_kept = false;
}

/* The /128 to the server through the path the kernel takes now (before
 * the tunnel routes are in: rt6_apply pins first). */
static int rt6_pin(struct nl *nl, struct rt6_state *rs, const struct in6_addr *server)
{
	struct in6_addr gw;
	bool has_gw;
	int oif, err;

	if (rs->r6_host && memcmp(&rs->r6_host_addr, server, 16) == 0)
		return 0;
	rt6_unpin(nl, rs);
	if ((err = nl_route6_get(nl, server, &oif, &gw, &has_gw)) < 0)
		return err;
	if (oif == rs->r6_tun)
		return -ENETUNREACH;
	if ((err = rt6_nl(nl, true, server, 128, oif, has_gw ? &gw : NULL)) == -EEXIST) {
		rs->r6_host_kept = true;
		return 0;
	}
	if (err < 0)
		return err;
	rs->r6_host = true;
	rs->r6_host_addr = *server;
	rs->r6_host_oif = oif;
	rs->r6_host_has_gw = has_gw;
	rs->r6_host_gw = gw;
	return 0;
}

int rt6_refresh(struct nl *nl, struct rt6_state *rs)
{
	struct nl_route6 best, cur = { .n6_oif = rs->r6_host_oif,
	    .n6_has_gw = rs->r6_host_has_gw, .n6_gw = rs->r6_host_gw };
	int err;

	if (!rs->r6_host)
		return 0;
	if ((err = rt6_path(nl, &rs->r6_host_addr, rs->r6_tun, &best)) < 0)
		return err;
	if (rt6_same_hop(&cur, &best))
		return 0;
	rt6_nl(nl, false, &rs->r6_host_addr, 128, rs->r6_host_oif,
	    rs->r6_host_has_gw ? &rs->r6_host_gw : NULL);
	/* a failure keeps the old hop on record: the next change tries again */
	if ((err = rt6_nl(nl, true, &rs->r6_host_addr, 128, best.n6_oif,
	    best.n6_has_gw ? &best.n6_gw : NULL)) < 0 && err != -EEXIST)
		return err;
	rs->r6_host = err == 0;
	rs->r6_host_kept = err == -EEXIST;
	rs->r6_host_oif = best.n6_oif;
	rs->r6_host_has_gw = best.n6_has_gw;
	rs->r6_host_gw = best.n6_gw;
	return 1;
}

static void rt6_remove_tun_routes(struct nl *nl, struct rt6_state *rs)
{
	int i;

	for (i = 0; i < rs->r6_nroutes; i++)
		rt6_nl(nl, false, &rs->r6_routes[i].addr, rs->r6_routes[i].plen,
		    rs->r6_tun, NULL);
	rs->r6_nroutes = 0;
}

int rt6_apply(struct nl *nl, struct rt6_state *rs, int tun_ifindex,
    const struct cidr6 *routes, int n, const struct cidr6 *tunnet,
    const struct in6_addr *server)
{
	struct cidr6 want[CONF_MAX_ROUTES + 1];
	bool covered = false;
	int i, j, k, err;

	k = rt6_expand(routes, n, tunnet, want);
	if (rs->r6_tun != tun_ifindex)
		rs->r6_nroutes = 0;	/* the old device took its routes along */
	rs->r6_tun = tun_ifindex;
	for (i = 0; server != NULL && i < k; i++) {
		struct cidr6 c = want[i];

		covered |= cidr6_contains(&c, server);
	}
	if (!covered)
		rt6_unpin(nl, rs);
	else if ((err = rt6_pin(nl, rs, server)) < 0)
		return err;
	for (i = j = 0; i < rs->r6_nroutes; i++) {	/* ours not wanted now go */
		if (rt6_has(want, k, &rs->r6_routes[i]))
			rs->r6_routes[j++] = rs->r6_routes[i];
		else
			rt6_nl(nl, false, &rs->r6_routes[i].addr, rs->r6_routes[i].plen,
			    rs->r6_tun, NULL);
	}
	rs->r6_nroutes = j;
	rs->r6_nkept = 0;
	for (i = 0; i < k; i++) {
		if (rt6_has(rs->r6_routes, rs->r6_nroutes, &want[i]))
			continue;
		err = rt6_nl(nl, true, &want[i].addr, want[i].plen, rs->r6_tun, NULL);
		if (err == -EEXIST) {
			rs->r6_kept[rs->r6_nkept++] = want[i];
			continue;
		}
		if (err < 0) {
			rt6_remove_tun_routes(nl, rs);
			rs->r6_nkept = 0;
			return err;
		}
		rs->r6_routes[rs->r6_nroutes++] = want[i];
	}
	return 0;
}

void rt6_remove(struct nl *nl, struct rt6_state *rs)
{
	rt6_remove_tun_routes(nl, rs);
	rt6_unpin(nl, rs);
	rs->r6_nkept = 0;
}
