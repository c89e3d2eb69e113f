/* test_routes.c - the client's tunnel routes: rt_expand's rewriting (a
 * default route becomes two /1s, the tunnel network is the kernel's, the
 * cap), rt_diff's added and removed sets, then rt_apply and rt_remove
 * against the real kernel in a private network namespace. There a TUN device "ul0" plays the underlay
 * (198.18.0.2/24, default route via 198.18.0.1) and "tn0" the tunnel
 * (10.8.0.2/24); the server, 198.51.100.7, is reached through the default
 * route. The route table is read from /proc/net/route, not through nl.c,
 * and compared whole before and after. The rt_expand and rt_diff tests
 * run anywhere; the namespace ones need root (else SKIP, exit 77). */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>

#include <cmocka.h>
#include <linux/rtnetlink.h>

#include "client/routes.h"
#include "tunnel/nl.h"
#include "tunnel/tun.h"

static struct in_addr ip(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a;
}

static struct cidr cidr(const char *s)
{
	struct cidr c;

	assert_int_equal(conf_parse_cidr(s, &c), 0);
	return c;
}

/* addr/plen of family af, as text, is want. */
static void assert_prefix(int af, const void *addr, int plen, const char *want)
{
	char a[INET6_ADDRSTRLEN], got[64];

	assert_non_null(inet_ntop(af, addr, a, sizeof(a)));
	snprintf(got, sizeof(got), "%s/%d", a, plen);
	assert_string_equal(got, want);
}

static void assert_cidr(const struct cidr *c, const char *want)
{
	assert_prefix(AF_INET, &c->addr, c->plen, want);
}

/* ---- rt_expand ---- */

/* An output array of exactly the documented size on the heap, so ASan
 * sees a write past it. */
static struct cidr *out_array(void)
{
	struct cidr *out = calloc(CONF_MAX_ROUTES + 1, sizeof(*out));

	assert_non_null(out);
	return out;
}

static void test_expand_default_becomes_two_halves(void **state)
{
	struct cidr in[1] = { cidr("0.0.0.0/0") }, net = cidr("10.8.0.0/24");
	struct cidr *out = out_array();

	(void)state;
	assert_int_equal(rt_expand(in, 1, &net, out), 2);
	assert_cidr(&out[0], "0.0.0.0/1");
	assert_cidr(&out[1], "128.0.0.0/1");
	free(out);
}

static void test_expand_skips_tunnel_network(void **state)
{
	struct cidr in[4] = { cidr("10.8.0.0/24"), cidr("10.8.0.0/16"),
		cidr("0.0.0.0/0"), cidr("10.8.0.0/25") };
	struct cidr net = cidr("10.8.0.0/24");
	struct cidr *out = out_array();

	(void)state;
	assert_int_equal(rt_expand(in, 4, &net, out), 4);
	assert_cidr(&out[0], "10.8.0.0/16");	/* wider: not the same route */
	assert_cidr(&out[1], "0.0.0.0/1");
	assert_cidr(&out[2], "128.0.0.0/1");
	assert_cidr(&out[3], "10.8.0.0/25");	/* narrower: kept too */
	assert_int_equal(rt_expand(in, 1, &net, out), 0);
	free(out);
}

static void test_expand_split_routes_pass_through(void **state)
{
	struct cidr in[3] = { cidr("192.0.2.0/24"), cidr("172.16.0.0/12"),
		cidr("203.0.113.5/32") };
	struct cidr net = cidr("10.8.0.0/24");
	struct cidr *out = out_array();

	(void)state;
	assert_int_equal(rt_expand(in, 3, &net, out), 3);
	assert_cidr(&out[0], "192.0.2.0/24");
	assert_cidr(&out[1], "172.16.0.0/12");
	assert_cidr(&out[2], "203.0.113.5/32");
	assert_int_equal(rt_expand(in, 0, &net, out), 0);
	free(out);
}

/* in[i] = 100.64.i.0/24 for i in [from, to). */
static void fill_split(struct cidr *in, int from, int to)
{
	int i;

	for (i = from; i < to; i++) {
		in[i].addr.s_addr = htonl(0x64400000u | (uint32_t)i << 8);
		in[i].plen = 24;
	}
}

static void test_expand_cap(void **state)
{
	struct cidr in[2 * CONF_MAX_ROUTES], net = cidr("10.8.0.0/24");
	struct cidr *out = out_array();
	int i, n;

	(void)state;
	/* a full config's worth passes */
	fill_split(in, 0, CONF_MAX_ROUTES);
	assert_int_equal(rt_expand(in, CONF_MAX_ROUTES, &net, out), CONF_MAX_ROUTES);
	assert_cidr(&out[CONF_MAX_ROUTES - 1], "100.64.63.0/24");

	/* more than a config can hold: cut at the cap, in order, nothing
	 * written past out (ASan) */
	fill_split(in, 0, 2 * CONF_MAX_ROUTES);
	n = rt_expand(in, 2 * CONF_MAX_ROUTES, &net, out);
	assert_true(n >= CONF_MAX_ROUTES && n <= CONF_MAX_ROUTES + 1);
	for (i = 0; i < n; i++)
		assert_memory_equal(&out[i], &in[i], sizeof(in[i]));

	/* every one a default: pairs up to the array's end, no further */
	for (i = 0; i < 2 * CONF_MAX_ROUTES; i++)
		in[i] = cidr("0.0.0.0/0");
	assert_true(rt_expand(in, 2 * CONF_MAX_ROUTES, &net, out) <= CONF_MAX_ROUTES + 1);

	/* routes then the default, one over CONF_MAX_ROUTES in all */
	fill_split(in, 0, CONF_MAX_ROUTES - 1);
	in[CONF_MAX_ROUTES - 1] = cidr("0.0.0.0/0");
	assert_int_equal(rt_expand(in, CONF_MAX_ROUTES, &net, out), CONF_MAX_ROUTES + 1);
	assert_cidr(&out[CONF_MAX_ROUTES - 2], "100.64.62.0/24");
	assert_cidr(&out[CONF_MAX_ROUTES - 1], "0.0.0.0/1");
	assert_cidr(&out[CONF_MAX_ROUTES], "128.0.0.0/1");
	free(out);
}

/* The same routes in another order: the default first. Every route of a
 * valid configuration must come out whatever the order. */
static void test_expand_cap_default_first(void **state)
{
	struct cidr in[CONF_MAX_ROUTES], net = cidr("10.8.0.0/24");
	struct cidr *out = out_array();
	int n;

	(void)state;
	in[0] = cidr("0.0.0.0/0");
	fill_split(in, 1, CONF_MAX_ROUTES);
	n = rt_expand(in, CONF_MAX_ROUTES, &net, out);
	assert_int_equal(n, CONF_MAX_ROUTES + 1);
	assert_cidr(&out[0], "0.0.0.0/1");
	assert_cidr(&out[1], "128.0.0.0/1");
	assert_cidr(&out[CONF_MAX_ROUTES], "100.64.63.0/24");
	free(out);
}

/* ---- rt_diff: what a CONFIG update adds and removes ---- */

/* "a b c" -> cidrs; returns the count. */
static int cidrs(const char *list, struct cidr *out)
{
	char buf[512], *tok, *save;
	int n = 0;

	snprintf(buf, sizeof(buf), "%s", list);
	for (tok = strtok_r(buf, " ", &save); tok != NULL; tok = strtok_r(NULL, " ", &save))
		out[n++] = cidr(tok);
	return n;
}

/* The set as "a b c", for comparing. */
static const char *cidrs_str(const struct cidr *c, int n, char *buf, size_t len)
{
	char a[INET_ADDRSTRLEN];
	size_t off = 0;

	buf[0] = '\0';
	for (int i = 0; i < n; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s/%d", i ? " " : "",
		    inet_ntop(AF_INET, &c[i].addr, a, sizeof(a)), c[i].plen);
	return buf;
}

static void expect_diff(const char *cur_s, const char *next_s, const char *want_add,
    const char *want_del)
{
	struct cidr cur[CONF_MAX_ROUTES], next[CONF_MAX_ROUTES];
	struct cidr *add = out_array(), *del = out_array();
	char buf[512];
	int ncur = cidrs(cur_s, cur), nnext = cidrs(next_s, next), nadd = -1, ndel = -1;

	rt_diff(cur, ncur, next, nnext, add, &nadd, del, &ndel);
	assert_string_equal(cidrs_str(add, nadd, buf, sizeof(buf)), want_add);
	assert_string_equal(cidrs_str(del, ndel, buf, sizeof(buf)), want_del);
	free(add);
	free(del);
}

static void test_diff_add_and_remove(void **state)
{
	(void)state;
	expect_diff("0.0.0.0/0 198.19.6.0/24", "0.0.0.0/0 198.19.5.0/24",
	    "198.19.5.0/24", "198.19.6.0/24");
	expect_diff("10.0.0.0/8", "10.0.0.0/8 172.16.0.0/12 192.168.0.0/16",
	    "172.16.0.0/12 192.168.0.0/16", "");
	expect_diff("10.0.0.0/8 172.16.0.0/12", "172.16.0.0/12", "", "10.0.0.0/8");
}

static void test_diff_same_set(void **state)
{
	(void)state;
	expect_diff("0.0.0.0/0 198.19.6.0/24", "0.0.0.0/0 198.19.6.0/24", "", "");
	expect_diff("0.0.0.0/0 198.19.6.0/24", "198.19.6.0/24 0.0.0.0/0", "", "");	/* order */
	expect_diff("", "", "", "");
}

/* Same address, another length: a different route. Duplicates count once. */
static void test_diff_prefix_length_and_duplicates(void **state)
{
	(void)state;
	expect_diff("198.19.0.0/16", "198.19.0.0/24", "198.19.0.0/24", "198.19.0.0/16");
	expect_diff("", "10.0.0.0/8 10.0.0.0/8", "10.0.0.0/8", "");
	expect_diff("10.0.0.0/8 10.0.0.0/8", "", "", "10.0.0.0/8");
	expect_diff("", "0.0.0.0/0", "0.0.0.0/0", "");
}

/* Every route of a full list replaced: both outputs full, nothing past. */
static void test_diff_full_lists(void **state)
{
	struct cidr cur[CONF_MAX_ROUTES], next[CONF_MAX_ROUTES];
	struct cidr *add = out_array(), *del = out_array();
	int i, nadd, ndel;

	(void)state;
	for (i = 0; i < CONF_MAX_ROUTES; i++) {
		cur[i].addr.s_addr = htonl(0x0a000000u | (uint32_t)i << 8);
		cur[i].plen = 24;
		next[i].addr.s_addr = htonl(0x0b000000u | (uint32_t)i << 8);
		next[i].plen = 24;
	}
	rt_diff(cur, CONF_MAX_ROUTES, next, CONF_MAX_ROUTES, add, &nadd, del, &ndel);
	assert_int_equal(nadd, CONF_MAX_ROUTES);
	assert_int_equal(ndel, CONF_MAX_ROUTES);
	assert_memory_equal(add, next, sizeof(next));
	assert_memory_equal(del, cur, sizeof(cur));
	free(add);
	free(del);
}

/* ---- rt_apply / rt_remove in a network namespace ---- */

struct fixture {
	struct nl *nl;
	int        ul_fd, tn_fd;	/* underlay and tunnel TUN devices */
	int        ul, tn;		/* their ifindexes */
	struct cidr net;		/* 10.8.0.0/24 */
	struct in_addr server;		/* 198.51.100.7 */
	char       before[4096];	/* the table after setup */
};

/* The main table from /proc/net/route, one "dev dst/plen [via gw]" line a
 * route, sorted, so two dumps compare as strings. */
static void route_dump(char *out, size_t len)
{
	char lines[64][96], line[256], dev[IFNAMSIZ], a[INET_ADDRSTRLEN], g[INET_ADDRSTRLEN];
	unsigned dst, gw, flags, mask;
	int i, j, n = 0, metric;
	FILE *fp;

	assert_non_null(fp = fopen("/proc/net/route", "r"));
	assert_non_null(fgets(line, sizeof(line), fp));		/* the header */
	while (fgets(line, sizeof(line), fp) != NULL) {
		struct in_addr d, gwa;

		assert_int_equal(sscanf(line, "%15s %x %x %x %*d %*d %d %x", dev, &dst,
		    &gw, &flags, &metric, &mask), 6);
		assert_true(n < 64);
		d.s_addr = dst;
		gwa.s_addr = gw;
		inet_ntop(AF_INET, &d, a, sizeof(a));
		inet_ntop(AF_INET, &gwa, g, sizeof(g));
		snprintf(lines[n++], sizeof(lines[0]), "%s %s/%d%s%s%s", dev, a,
		    __builtin_popcount(mask), gw ? " via " : "", gw ? g : "",
		    metric ? " metric" : "");
	}
	fclose(fp);
	for (i = 1; i < n; i++)			/* insertion sort: a few lines */
		for (j = i; j > 0 && strcmp(lines[j - 1], lines[j]) > 0; j--) {
			memcpy(line, lines[j], sizeof(lines[0]));
			memcpy(lines[j], lines[j - 1], sizeof(lines[0]));
			memcpy(lines[j - 1], line, sizeof(lines[0]));
		}
	out[0] = '\0';
	for (i = 0; i < n; i++)
		snprintf(out + strlen(out), len - strlen(out), "%s\n", lines[i]);
}

/* The dump holds this exact line. */
static bool has_route(const char *dump, const char *route)
{
	size_t n = strlen(route);
	const char *p;

	for (p = dump; (p = strstr(p, route)) != NULL; p++)
		if ((p == dump || p[-1] == '\n') && p[n] == '\n')
			return true;
	return false;
}

static int count_lines(const char *dump)
{
	int n = 0;

	for (; *dump; dump++)
		n += *dump == '\n';
	return n;
}

static void assert_route(const char *dump, const char *route, bool want)
{
	if (has_route(dump, route) != want)
		fail_msg("route \"%s\" %s in:\n%s", route, want ? "missing" : "present", dump);
}

/* A TUN device NAME, up, with ADDR/24; its fd, ifindex in *idx. */
static int tun_dev(struct nl *nl, const char *name, const char *addr, int *idx)
{
	char got[IFNAMSIZ];
	int fd;

	assert_true((fd = tun_open(name, got)) >= 0);
	assert_true((*idx = nl_ifindex(got)) > 0);
	assert_int_equal(nl_link_up(nl, *idx, 1400), 0);
	assert_int_equal(nl_addr_add(nl, *idx, ip(addr), 24), 0);
	return fd;
}

static int setup(void **state)
{
	static struct fixture f;
	struct in_addr gw;

	memset(&f, 0, sizeof(f));
	assert_int_equal(nl_open(&f.nl), 0);
	f.ul_fd = tun_dev(f.nl, "ul0", "198.18.0.2", &f.ul);
	gw = ip("198.18.0.1");
	assert_int_equal(nl_route_add(f.nl, ip("0.0.0.0"), 0, f.ul, &gw), 0);
	f.tn_fd = tun_dev(f.nl, "tn0", "10.8.0.2", &f.tn);
	f.net = cidr("10.8.0.0/24");
	f.server = ip("198.51.100.7");
	route_dump(f.before, sizeof(f.before));
	assert_route(f.before, "ul0 0.0.0.0/0 via 198.18.0.1", true);
	assert_route(f.before, "ul0 198.18.0.0/24", true);
	assert_route(f.before, "tn0 10.8.0.0/24", true);
	*state = &f;
	return 0;
}

/* Closing the devices takes their routes along: the next test starts
 * from an empty table whatever this one left. */
static int teardown(void **state)
{
	struct fixture *f = *state;

	if (f->tn_fd >= 0)
		close(f->tn_fd);
	if (f->ul_fd >= 0)
		close(f->ul_fd);
	nl_close(f->nl);
	return 0;
}

/* Where the kernel would send DST now: "dev" or "dev via gw". */
static void assert_path(struct fixture *f, const char *dst, const char *want)
{
	char dev[IF_NAMESIZE], g[INET_ADDRSTRLEN], got[64];
	struct in_addr gw;
	bool has_gw;
	int oif;

	assert_int_equal(nl_route_get(f->nl, ip(dst), &oif, &gw, &has_gw), 0);
	assert_non_null(if_indextoname((unsigned)oif, dev));
	inet_ntop(AF_INET, &gw, g, sizeof(g));
	snprintf(got, sizeof(got), "%s%s%s", dev, has_gw ? " via " : "", has_gw ? g : "");
	if (strcmp(got, want) != 0)
		fail_msg("%s goes %s, want %s", dst, got, want);
}

static int apply(struct fixture *f, struct rt_state *rs, const char *r0,
    const char *r1, const struct in_addr *server)
{
	struct cidr r[2];
	int n = 0;

	if (r0 != NULL)
		r[n++] = cidr(r0);
	if (r1 != NULL)
		r[n++] = cidr(r1);
	return rt_apply(f->nl, rs, f->tn, r, n, &f->net, server);
}

static void assert_restored(struct fixture *f)
{
	char now[4096];

	route_dump(now, sizeof(now));
	assert_string_equal(now, f->before);
}

static void test_full_tunnel(void **state)
{
	struct fixture *f = *state;
	struct rt_state rs = { 0 };
	char now[4096];

	assert_path(f, "203.0.113.1", "ul0 via 198.18.0.1");
	assert_int_equal(apply(f, &rs, "0.0.0.0/0", NULL, &f->server), 0);
	route_dump(now, sizeof(now));
	assert_route(now, "ul0 198.51.100.7/32 via 198.18.0.1", true);
	assert_route(now, "tn0 0.0.0.0/1", true);
	assert_route(now, "tn0 128.0.0.0/1", true);
	assert_route(now, "ul0 0.0.0.0/0 via 198.18.0.1", true);	/* untouched */
	assert_int_equal(count_lines(now), count_lines(f->before) + 3);
	assert_true(rs.rs_host);
	assert_int_equal(rs.rs_nroutes, 2);
	assert_int_equal(rs.rs_tun, f->tn);

	assert_path(f, "198.51.100.7", "ul0 via 198.18.0.1");
	assert_path(f, "203.0.113.1", "tn0");
	assert_path(f, "198.51.100.8", "tn0");
	assert_path(f, "10.8.0.9", "tn0");
	assert_path(f, "198.18.0.9", "ul0");

	rt_remove(f->nl, &rs);
	assert_restored(f);
	assert_false(rs.rs_host);
	assert_int_equal(rs.rs_nroutes, 0);
	assert_path(f, "203.0.113.1", "ul0 via 198.18.0.1");
	rt_remove(f->nl, &rs);		/* twice: nothing left to remove */
	assert_restored(f);
}

/* A reconnect applies the routes again over the ones in place; the host
 * route stays pinned to the underlay. */
static void test_reconnect_keeps_host_route(void **state)
{
	struct fixture *f = *state;
	struct rt_state rs = { 0 };
	char first[4096], now[4096];

	assert_int_equal(apply(f, &rs, "0.0.0.0/0", NULL, &f->server), 0);
	route_dump(first, sizeof(first));
	assert_int_equal(apply(f, &rs, "0.0.0.0/0", NULL, &f->server), 0);
	route_dump(now, sizeof(now));
	assert_string_equal(now, first);
	assert_true(rs.rs_host);
	assert_int_equal(rs.rs_nroutes, 2);

	/* the server pushes other routes this time */
	assert_int_equal(apply(f, &rs, "0.0.0.0/0", "192.0.2.0/24", &f->server), 0);
	route_dump(now, sizeof(now));
	assert_route(now, "tn0 192.0.2.0/24", true);
	assert_route(now, "ul0 198.51.100.7/32 via 198.18.0.1", true);
	assert_int_equal(count_lines(now), count_lines(first) + 1);
	assert_int_equal(apply(f, &rs, "0.0.0.0/0", NULL, &f->server), 0);
	route_dump(now, sizeof(now));
	assert_string_equal(now, first);

	rt_remove(f->nl, &rs);
	assert_restored(f);
}

/* The next server in the list, while the tunnel routes are still up: the
 * kernel would now send it into the tunnel, so its host route takes the
 * underlay path the last one had. */
static void test_reconnect_other_server(void **state)
{
	struct fixture *f = *state;
	struct rt_state rs = { 0 };
	struct in_addr other = ip("198.51.100.8");
	char now[4096];

	assert_int_equal(apply(f, &rs, "0.0.0.0/0", NULL, &f->server), 0);
	assert_path(f, "198.51.100.8", "tn0");
	assert_int_equal(apply(f, &rs, "0.0.0.0/0", NULL, &other), 0);
	route_dump(now, sizeof(now));
	assert_route(now, "ul0 198.51.100.8/32 via 198.18.0.1", true);
	assert_route(now, "ul0 198.51.100.7/32 via 198.18.0.1", false);
	assert_route(now, "tn0 0.0.0.0/1", true);
	assert_route(now, "tn0 128.0.0.0/1", true);
	assert_int_equal(count_lines(now), count_lines(f->before) + 3);
	assert_path(f, "198.51.100.8", "ul0 via 198.18.0.1");
	rt_remove(f->nl, &rs);
	assert_restored(f);
}

/* A new TUN device (the old one closed, its routes gone with it). */
static void test_new_tunnel_device(void **state)
{
	struct fixture *f = *state;
	struct rt_state rs = { 0 };
	char now[4096];
	int old = f->tn;

	assert_int_equal(apply(f, &rs, "0.0.0.0/0", NULL, &f->server), 0);
	close(f->tn_fd);
	f->tn_fd = tun_dev(f->nl, "tn0", "10.8.0.2", &f->tn);
	assert_int_not_equal(f->tn, old);
	assert_int_equal(apply(f, &rs, "0.0.0.0/0", NULL, &f->server), 0);
	route_dump(now, sizeof(now));
	assert_route(now, "ul0 198.51.100.7/32 via 198.18.0.1", true);
	assert_route(now, "tn0 0.0.0.0/1", true);
	assert_route(now, "tn0 128.0.0.0/1", true);
	assert_int_equal(count_lines(now), count_lines(f->before) + 3);
	assert_int_equal(rs.rs_tun, f->tn);
	rt_remove(f->nl, &rs);
	assert_restored(f);
}

static void test_split_routes_need_no_host_route(void **state)
{
	struct fixture *f = *state;
	struct rt_state rs = { 0 };
	char now[4096];

	assert_int_equal(apply(f, &rs, "192.0.2.0/24", "10.8.0.0/24", &f->server), 0);
	route_dump(now, sizeof(now));
	assert_route(now, "tn0 192.0.2.0/24", true);
	assert_int_equal(count_lines(now), count_lines(f->before) + 1);
	assert_false(rs.rs_host);
	assert_int_equal(rs.rs_nroutes, 1);
	assert_path(f, "198.51.100.7", "ul0 via 198.18.0.1");
	rt_remove(f->nl, &rs);
	assert_restored(f);
}

static void test_split_route_covering_server(void **state)
{
	struct fixture *f = *state;
	struct rt_state rs = { 0 };
	char now[4096];

	assert_int_equal(apply(f, &rs, "198.51.100.0/24", NULL, &f->server), 0);
	route_dump(now, sizeof(now));
	assert_route(now, "tn0 198.51.100.0/24", true);
	assert_route(now, "ul0 198.51.100.7/32 via 198.18.0.1", true);
	assert_int_equal(count_lines(now), count_lines(f->before) + 2);
	assert_path(f, "198.51.100.7", "ul0 via 198.18.0.1");
	assert_path(f, "198.51.100.9", "tn0");
	rt_remove(f->nl, &rs);
	assert_restored(f);
}

/* A server on the underlay's own subnet: the host route has no gateway. */
static void test_server_on_link(void **state)
{
	struct fixture *f = *state;
	struct rt_state rs = { 0 };
	struct in_addr near = ip("198.18.0.1");
	char now[4096];

	assert_int_equal(apply(f, &rs, "0.0.0.0/0", NULL, &near), 0);
	route_dump(now, sizeof(now));
	assert_route(now, "ul0 198.18.0.1/32", true);
	assert_false(rs.rs_host_has_gw);
	rt_remove(f->nl, &rs);
	assert_restored(f);
}

/* No IPv4 server address (an IPv6 underlay): nothing to pin. */
static void test_no_server_address(void **state)
{
	struct fixture *f = *state;
	struct rt_state rs = { 0 };
	char now[4096];

	assert_int_equal(apply(f, &rs, "0.0.0.0/0", NULL, NULL), 0);
	route_dump(now, sizeof(now));
	assert_route(now, "tn0 0.0.0.0/1", true);
	assert_route(now, "tn0 128.0.0.0/1", true);
	assert_int_equal(count_lines(now), count_lines(f->before) + 2);
	assert_false(rs.rs_host);
	rt_remove(f->nl, &rs);
	assert_restored(f);
}

/* The tunnel routes cannot go in: none of them stays, and rt_remove takes
 * away whatever else rt_apply recorded. */
static void test_failure_leaves_no_tunnel_routes(void **state)
{
	struct fixture *f = *state;
	struct rt_state rs = { 0 };
	struct cidr r[2] = { cidr("192.0.2.0/24"), cidr("0.0.0.0/0") };
	char now[4096];

	assert_true(rt_apply(f->nl, &rs, 9999, r, 2, &f->net, &f->server) < 0);
	route_dump(now, sizeof(now));
	assert_int_equal(rs.rs_nroutes, 0);
	assert_null(strstr(now, "tn0 192.0.2.0/24"));
	assert_null(strstr(now, "/1\n"));
	rt_remove(f->nl, &rs);
	assert_restored(f);

	/* the kernel refuses the second route (host bits set): the first,
	 * already in, is taken out again */
	assert_int_equal(apply(f, &rs, "192.0.2.0/24", NULL, NULL), 0);
	r[1].addr = ip("198.51.100.5");
	r[1].plen = 24;
	assert_int_equal(rt_apply(f->nl, &rs, f->tn, r, 2, &f->net, NULL), -EINVAL);
	assert_int_equal(rs.rs_nroutes, 0);
	assert_restored(f);

	/* routes in place from an earlier session go too */
	assert_int_equal(apply(f, &rs, "192.0.2.0/24", NULL, &f->server), 0);
	close(f->tn_fd);		/* the device is gone: every add fails */
	f->tn_fd = -1;
	assert_true(apply(f, &rs, "192.0.2.0/24", "0.0.0.0/0", &f->server) < 0);
	assert_int_equal(rs.rs_nroutes, 0);
	rt_remove(f->nl, &rs);
	route_dump(now, sizeof(now));
	assert_string_equal(now, "ul0 0.0.0.0/0 via 198.18.0.1\nul0 198.18.0.0/24\n");
}

/* No path to the server at all: an error, and nothing installed. */
static void test_server_unreachable(void **state)
{
	struct fixture *f = *state;
	struct rt_state rs = { 0 };
	struct in_addr gw = ip("198.18.0.1");
	char before[4096];

	assert_int_equal(nl_route_del(f->nl, ip("0.0.0.0"), 0, f->ul, &gw), 0);
	route_dump(before, sizeof(before));
	assert_int_equal(apply(f, &rs, "0.0.0.0/0", NULL, &f->server), -ENETUNREACH);
	assert_false(rs.rs_host);
	assert_int_equal(rs.rs_nroutes, 0);
	memcpy(f->before, before, sizeof(before));
	assert_restored(f);
}

/* ---- routes that are not ours ---- */

/* The table has the pushed prefix already, through the underlay (the
 * client's LAN, say): it is kept as it is, reported, and still there after
 * rt_remove; the other pushed routes go in and out as usual. */
static void test_pushed_route_taken_is_kept(void **state)
{
	struct fixture *f = *state;
	struct rt_state rs = { 0 };
	struct in_addr gw = ip("198.18.0.1");
	char now[4096], again[4096];

	assert_int_equal(nl_route_add(f->nl, ip("192.0.2.0"), 24, f->ul, &gw), 0);
	route_dump(f->before, sizeof(f->before));
	assert_int_equal(apply(f, &rs, "192.0.2.0/24", "203.0.113.0/24", &f->server), 0);
	route_dump(now, sizeof(now));
	assert_route(now, "ul0 192.0.2.0/24 via 198.18.0.1", true);
	assert_route(now, "tn0 192.0.2.0/24", false);
	assert_route(now, "tn0 203.0.113.0/24", true);
	assert_int_equal(count_lines(now), count_lines(f->before) + 1);
	assert_int_equal(rs.rs_nkept, 1);
	assert_cidr(&rs.rs_kept[0], "192.0.2.0/24");
	assert_int_equal(rs.rs_nroutes, 1);
	assert_path(f, "192.0.2.9", "ul0 via 198.18.0.1");

	/* applied again (a reconnect): still kept, nothing moves */
	assert_int_equal(apply(f, &rs, "192.0.2.0/24", "203.0.113.0/24", &f->server), 0);
	route_dump(again, sizeof(again));
	assert_string_equal(again, now);
	assert_int_equal(rs.rs_nkept, 1);

	rt_remove(f->nl, &rs);
	assert_restored(f);
	assert_route(f->before, "ul0 192.0.2.0/24 via 198.18.0.1", true);
	assert_int_equal(rs.rs_nkept, 0);
}

/* A host route to the server someone else made: it serves, stays, and is
 * not removed at the end. */
static void test_host_route_of_someone_else_is_kept(void **state)
{
	struct fixture *f = *state;
	struct rt_state rs = { 0 };
	struct in_addr gw = ip("198.18.0.1");
	char now[4096];

	assert_int_equal(nl_route_add(f->nl, f->server, 32, f->ul, &gw), 0);
	route_dump(f->before, sizeof(f->before));
	assert_int_equal(apply(f, &rs, "0.0.0.0/0", NULL, &f->server), 0);
	assert_false(rs.rs_host);
	assert_true(rs.rs_host_kept);
	route_dump(now, sizeof(now));
	assert_route(now, "ul0 198.51.100.7/32 via 198.18.0.1", true);
	assert_int_equal(count_lines(now), count_lines(f->before) + 2);
	assert_path(f, "198.51.100.7", "ul0 via 198.18.0.1");
	assert_int_equal(rt_refresh(f->nl, &rs), 0);
	assert_false(rs.rs_host);

	rt_remove(f->nl, &rs);
	assert_restored(f);
}

/* ---- rt_refresh: the host route follows the underlay ---- */

/* The default route moves to another gateway: the host route follows, in
 * place; a second look finds nothing to do. */
static void test_refresh_follows_new_gateway(void **state)
{
	struct fixture *f = *state;
	struct rt_state rs = { 0 };
	struct in_addr gw2 = ip("198.18.0.254");
	char now[4096];

	assert_int_equal(apply(f, &rs, "0.0.0.0/0", NULL, &f->server), 0);
	assert_int_equal(rt_refresh(f->nl, &rs), 0);		/* nothing changed */
	assert_int_equal(nl_route_replace(f->nl, ip("0.0.0.0"), 0, f->ul, &gw2), 0);
	assert_int_equal(rt_refresh(f->nl, &rs), 1);
	route_dump(now, sizeof(now));
	assert_route(now, "ul0 198.51.100.7/32 via 198.18.0.254", true);
	assert_route(now, "ul0 198.51.100.7/32 via 198.18.0.1", false);
	assert_route(now, "tn0 0.0.0.0/1", true);
	assert_route(now, "tn0 128.0.0.0/1", true);
	assert_path(f, "198.51.100.7", "ul0 via 198.18.0.254");
	assert_int_equal(rt_refresh(f->nl, &rs), 0);
	assert_true(rs.rs_host);
	assert_int_equal(rs.rs_host_gw.s_addr, gw2.s_addr);

	rt_remove(f->nl, &rs);
	route_dump(now, sizeof(now));
	assert_string_equal(now, "tn0 10.8.0.0/24\nul0 0.0.0.0/0 via 198.18.0.254\nul0 198.18.0.0/24\n");
}

/* Someone deletes the host route: it is put back. */
static void test_refresh_puts_back_deleted_host_route(void **state)
{
	struct fixture *f = *state;
	struct rt_state rs = { 0 };
	struct in_addr gw = ip("198.18.0.1");

	assert_int_equal(apply(f, &rs, "0.0.0.0/0", NULL, &f->server), 0);
	assert_int_equal(nl_route_del(f->nl, f->server, 32, f->ul, &gw), 0);
	assert_path(f, "198.51.100.7", "tn0");
	assert_int_equal(rt_refresh(f->nl, &rs), 1);
	assert_path(f, "198.51.100.7", "ul0 via 198.18.0.1");
	assert_int_equal(rt_refresh(f->nl, &rs), 0);
	rt_remove(f->nl, &rs);
	assert_restored(f);
}

/* The underlay loses its address (a flapping link, a DHCP renewal): the
 * kernel drops every route through it, ours included, without a word.
 * Until the default route is back there is no path and nothing to add;
 * then the host route is back, through the underlay, under the tunnel
 * routes that never moved. */
static void test_refresh_after_underlay_flap(void **state)
{
	struct fixture *f = *state;
	struct rt_state rs = { 0 };
	struct in_addr gw = ip("198.18.0.1");
	char now[4096];

	assert_int_equal(apply(f, &rs, "0.0.0.0/0", NULL, &f->server), 0);
	assert_int_equal(nl_addr_del(f->nl, f->ul, ip("198.18.0.2"), 24), 0);
	route_dump(now, sizeof(now));
	assert_route(now, "ul0 198.51.100.7/32 via 198.18.0.1", false);
	assert_route(now, "ul0 0.0.0.0/0 via 198.18.0.1", false);
	assert_int_equal(rt_refresh(f->nl, &rs), -ENETUNREACH);
	assert_false(rs.rs_host);

	assert_int_equal(nl_addr_add(f->nl, f->ul, ip("198.18.0.2"), 24), 0);
	assert_int_equal(rt_refresh(f->nl, &rs), -ENETUNREACH);	/* no default yet */
	assert_int_equal(nl_route_add(f->nl, ip("0.0.0.0"), 0, f->ul, &gw), 0);
	assert_int_equal(rt_refresh(f->nl, &rs), 1);
	route_dump(now, sizeof(now));
	assert_route(now, "ul0 198.51.100.7/32 via 198.18.0.1", true);
	assert_route(now, "tn0 0.0.0.0/1", true);
	assert_route(now, "tn0 128.0.0.0/1", true);
	assert_path(f, "198.51.100.7", "ul0 via 198.18.0.1");
	rt_remove(f->nl, &rs);
	assert_restored(f);
}

/* The default route goes away: the host route (its gateway still on the
 * link) is the only path left to the server, and stays. */
static void test_refresh_keeps_host_route_without_default(void **state)
{
	struct fixture *f = *state;
	struct rt_state rs = { 0 };
	struct in_addr gw = ip("198.18.0.1");

	assert_int_equal(apply(f, &rs, "0.0.0.0/0", NULL, &f->server), 0);
	assert_int_equal(nl_route_del(f->nl, ip("0.0.0.0"), 0, f->ul, &gw), 0);
	assert_int_equal(rt_refresh(f->nl, &rs), 0);
	assert_path(f, "198.51.100.7", "ul0 via 198.18.0.1");
	assert_true(rs.rs_host);
	rt_remove(f->nl, &rs);
}

/* Nothing pinned (split routes, or before any rt_apply): nothing to do. */
static void test_refresh_without_pin(void **state)
{
	struct fixture *f = *state;
	struct rt_state rs = { 0 };

	assert_int_equal(rt_refresh(f->nl, &rs), 0);
	assert_int_equal(apply(f, &rs, "192.0.2.0/24", NULL, &f->server), 0);
	assert_int_equal(rt_refresh(f->nl, &rs), 0);
	assert_false(rs.rs_host);
	rt_remove(f->nl, &rs);
	assert_restored(f);
}

/* ---- block_ipv6: rt_block6_* ---- */

static void test_block6_wanted(void **state)
{
	struct cidr full[2] = { cidr("198.19.5.0/24"), cidr("0.0.0.0/0") };
	struct cidr split[2] = { cidr("198.19.5.0/24"), cidr("0.0.0.0/1") };

	(void)state;
	assert_true(rt_block6_wanted(true, full, 2, false));
	assert_true(rt_block6_wanted(true, &full[1], 1, false));
	assert_false(rt_block6_wanted(false, full, 2, false));	/* block_ipv6 = false */
	assert_false(rt_block6_wanted(true, full, 2, true));	/* the server gives IPv6 */
	assert_false(rt_block6_wanted(true, split, 2, false));	/* not a full tunnel */
	assert_false(rt_block6_wanted(true, full, 1, false));
	assert_false(rt_block6_wanted(true, NULL, 0, false));
}

static void test_block6_set(void **state)
{
	struct nl_route6 r[RT_BLOCK6_N];
	char a[INET6_ADDRSTRLEN];

	(void)state;
	rt_block6_set(RT_BLOCK6_TAG + 7, r);
	assert_string_equal(inet_ntop(AF_INET6, &r[0].n6_dst, a, sizeof(a)), "::");
	assert_string_equal(inet_ntop(AF_INET6, &r[1].n6_dst, a, sizeof(a)), "8000::");
	for (int i = 0; i < RT_BLOCK6_N; i++) {
		assert_int_equal(r[i].n6_plen, 1);
		assert_int_equal(r[i].n6_type, RTN_UNREACHABLE);
		assert_int_equal(r[i].n6_metric, RT_BLOCK6_TAG + 7);
		assert_int_equal(r[i].n6_oif, 0);
		assert_false(r[i].n6_has_gw);
	}
}

static struct in6_addr ip6(const char *s)
{
	struct in6_addr a;

	assert_int_equal(inet_pton(AF_INET6, s, &a), 1);
	return a;
}

/* The IPv6 tables from /proc/net/ipv6_route, one "dev dst/plen [via gw]
 * metric M [reject]" line a route, sorted. */
static void route6_dump(char *out, size_t len)
{
	char lines[64][160], line[512], dst[33], gw[33], dev[IFNAMSIZ];
	char a[INET6_ADDRSTRLEN], g[INET6_ADDRSTRLEN];
	unsigned plen, metric, flags;
	int i, j, n = 0;
	FILE *fp;

	assert_non_null(fp = fopen("/proc/net/ipv6_route", "r"));
	while (fgets(line, sizeof(line), fp) != NULL) {
		struct in6_addr d, gwa;

		assert_int_equal(sscanf(line, "%32s %x %*s %*x %32s %x %*x %*x %x %15s",
		    dst, &plen, gw, &metric, &flags, dev), 6);
		for (int k = 0; k < 16; k++) {
			sscanf(dst + 2 * k, "%2hhx", &d.s6_addr[k]);
			sscanf(gw + 2 * k, "%2hhx", &gwa.s6_addr[k]);
		}
		assert_true(n < 64);
		inet_ntop(AF_INET6, &d, a, sizeof(a));
		inet_ntop(AF_INET6, &gwa, g, sizeof(g));
		snprintf(lines[n++], sizeof(lines[0]), "%s %s/%u%s%s metric %u%s", dev, a, plen,
		    IN6_IS_ADDR_UNSPECIFIED(&gwa) ? "" : " via ",
		    IN6_IS_ADDR_UNSPECIFIED(&gwa) ? "" : g, metric,
		    (flags & 0x0200) ? " reject" : "");
	}
	fclose(fp);
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && strcmp(lines[j - 1], lines[j]) > 0; j--) {
			memcpy(line, lines[j], sizeof(lines[0]));
			memcpy(lines[j], lines[j - 1], sizeof(lines[0]));
			memcpy(lines[j - 1], line, sizeof(lines[0]));
		}
	out[0] = '\0';
	for (i = 0; i < n; i++)
		snprintf(out + strlen(out), len - strlen(out), "%s\n", lines[i]);
}

/* errno of a UDP connect() to DST (on link SCOPE, or 0): 0 when the
 * kernel has a route. */
static int connect6_errno(const char *dst, int scope)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons(9),
	    .sin6_addr = ip6(dst), .sin6_scope_id = (uint32_t)scope };
	int fd, err = 0;

	assert_true((fd = socket(AF_INET6, SOCK_DGRAM, 0)) >= 0);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		err = errno;
	close(fd);
	return err;
}

static void sysctl_set(const char *path, const char *v)
{
	FILE *fp;

	assert_non_null(fp = fopen(path, "w"));
	assert_true(fputs(v, fp) >= 0);
	assert_int_equal(fclose(fp), 0);
}

/* The fixture with IPv6 on the underlay: default route via fe80::1 on ul0.
 * Devices made from here get no link-local address (addr_gen_mode none):
 * the routes of one would appear after its DAD, whenever that ends, and
 * the tables would not compare. fe80::/64 is there all the same. */
static char before6[8192];

static int setup6(void **state)
{
	struct nl_route6 def = { .n6_type = RTN_UNICAST, .n6_has_gw = true,
	    .n6_gw = ip6("fe80::1") };
	struct fixture *f;

	sysctl_set("/proc/sys/net/ipv6/conf/default/addr_gen_mode", "1");
	setup(state);
	f = *state;
	def.n6_oif = f->ul;
	assert_int_equal(nl_route6_add(f->nl, &def), 0);
	route6_dump(before6, sizeof(before6));
	assert_route(before6, "ul0 ::/0 via fe80::1 metric 1024", true);
	return 0;
}

#define TAG(ifindex) (RT_BLOCK6_TAG + (unsigned)(ifindex))

static void test_block6_up_and_down(void **state)
{
	struct fixture *f = *state;
	struct rt_block6 b = { 0 };
	char now[8192], r0[96], r1[96];

	assert_int_equal(connect6_errno("2001:db8:5::1", 0), 0);
	assert_int_equal(rt_block6_up(f->nl, &b, f->tn, NULL), 0);
	assert_true(b.rb_up);
	route6_dump(now, sizeof(now));
	snprintf(r0, sizeof(r0), "lo ::/1 metric %u reject", TAG(f->tn));
	snprintf(r1, sizeof(r1), "lo 8000::/1 metric %u reject", TAG(f->tn));
	assert_route(now, r0, true);
	assert_route(now, r1, true);
	assert_int_equal(count_lines(now), count_lines(before6) + 2);
	assert_int_equal(connect6_errno("2001:db8:5::1", 0), EHOSTUNREACH);	/* at once */
	/* link-local takes the kernel's fe80::/64, not the block (the device
	 * has no link-local address here: no source for it either) */
	assert_int_equal(connect6_errno("fe80::1", f->ul), EADDRNOTAVAIL);
	assert_int_equal(rt_block6_up(f->nl, &b, f->tn, NULL), 0);	/* again: no change */
	route6_dump(now, sizeof(now));
	assert_int_equal(count_lines(now), count_lines(before6) + 2);

	rt_block6_down(f->nl, &b);
	assert_false(b.rb_up);
	route6_dump(now, sizeof(now));
	assert_string_equal(now, before6);
	assert_int_equal(connect6_errno("2001:db8:5::1", 0), 0);
	rt_block6_down(f->nl, &b);		/* twice: nothing left */
}

/* An IPv6 server: its /128 goes in first, through the underlay, so the
 * block leaves the tunnel's own transport alone; another server of the
 * list gets its own while the block stays up (rt_block6_allow). */
static void test_block6_pins_ipv6_server(void **state)
{
	struct fixture *f = *state;
	struct rt_block6 b = { 0 };
	struct in6_addr s1 = ip6("2001:db8:99::7"), s2 = ip6("2001:db8:99::8");
	char now[8192], h1[96], h2[96];

	snprintf(h1, sizeof(h1), "ul0 2001:db8:99::7/128 via fe80::1 metric %u", TAG(f->tn));
	snprintf(h2, sizeof(h2), "ul0 2001:db8:99::8/128 via fe80::1 metric %u", TAG(f->tn));
	assert_int_equal(rt_block6_up(f->nl, &b, f->tn, &s1), 0);
	route6_dump(now, sizeof(now));
	assert_route(now, h1, true);
	assert_int_equal(count_lines(now), count_lines(before6) + 3);
	assert_int_equal(connect6_errno("2001:db8:99::7", 0), 0);
	assert_int_equal(connect6_errno("2001:db8:99::8", 0), EHOSTUNREACH);

	/* a reconnect to s2: allowed before the connect, beside s1 */
	assert_int_equal(rt_block6_allow(f->nl, &b, &s2), 0);
	route6_dump(now, sizeof(now));
	assert_route(now, h1, true);
	assert_route(now, h2, true);
	assert_int_equal(count_lines(now), count_lines(before6) + 4);
	assert_int_equal(connect6_errno("2001:db8:99::8", 0), 0);
	assert_int_equal(rt_block6_allow(f->nl, &b, &s2), 0);	/* again: no change */
	route6_dump(now, sizeof(now));
	assert_int_equal(count_lines(now), count_lines(before6) + 4);
	/* up on s2: s1's goes */
	assert_int_equal(rt_block6_up(f->nl, &b, f->tn, &s2), 0);
	route6_dump(now, sizeof(now));
	assert_route(now, h1, false);
	assert_route(now, h2, true);
	assert_int_equal(count_lines(now), count_lines(before6) + 3);

	assert_int_equal(rt_block6_up(f->nl, &b, f->tn, NULL), 0);	/* an IPv4 server */
	route6_dump(now, sizeof(now));
	assert_route(now, h2, false);
	assert_int_equal(count_lines(now), count_lines(before6) + 2);
	rt_block6_down(f->nl, &b);
	route6_dump(now, sizeof(now));
	assert_string_equal(now, before6);
	assert_int_equal(rt_block6_allow(f->nl, &b, &s1), 0);	/* down: nothing */
	route6_dump(now, sizeof(now));
	assert_string_equal(now, before6);
}

/* More servers tried than pins kept: the oldest pin goes. */
static void test_block6_pin_list_full(void **state)
{
	struct fixture *f = *state;
	struct rt_block6 b = { 0 };
	struct in6_addr s;
	char now[8192];
	int i;

	assert_int_equal(rt_block6_up(f->nl, &b, f->tn, NULL), 0);
	for (i = 0; i <= RT_BLOCK6_PINS; i++) {
		s = ip6("2001:db8:99::");
		s.s6_addr[15] = (uint8_t)(i + 1);
		assert_int_equal(rt_block6_allow(f->nl, &b, &s), 0);
	}
	assert_int_equal(b.rb_npins, RT_BLOCK6_PINS);
	route6_dump(now, sizeof(now));
	assert_int_equal(count_lines(now), count_lines(before6) + 2 + RT_BLOCK6_PINS);
	assert_int_equal(connect6_errno("2001:db8:99::1", 0), EHOSTUNREACH);	/* dropped */
	assert_int_equal(connect6_errno("2001:db8:99::9", 0), 0);
	rt_block6_down(f->nl, &b);
	route6_dump(now, sizeof(now));
	assert_string_equal(now, before6);
}

/* No underlay route to the IPv6 server: nothing goes in, an error. */
static void test_block6_server_unreachable(void **state)
{
	struct fixture *f = *state;
	struct rt_block6 b = { 0 };
	struct nl_route6 def = { .n6_type = RTN_UNICAST, .n6_oif = f->ul,
	    .n6_has_gw = true, .n6_gw = ip6("fe80::1") };
	struct in6_addr s1 = ip6("2001:db8:99::7");
	char now[8192], empty[8192];

	assert_int_equal(nl_route6_del(f->nl, &def), 0);
	route6_dump(empty, sizeof(empty));
	assert_int_equal(rt_block6_up(f->nl, &b, f->tn, &s1), -ENETUNREACH);
	assert_false(b.rb_up);
	route6_dump(now, sizeof(now));
	assert_string_equal(now, empty);
}

/* A client that died left its block (its device went with it): the next
 * one's sweep removes it, and leaves a live client's block alone. */
static void test_block6_sweep(void **state)
{
	struct fixture *f = *state;
	struct rt_block6 dead = { 0 }, live = { 0 };
	struct in6_addr s1 = ip6("2001:db8:99::7");
	char base[8192], now[8192], r0[96];
	int gone_fd, gone;

	gone_fd = tun_dev(f->nl, "gone0", "10.9.0.2", &gone);
	route6_dump(base, sizeof(base));	/* with the device's own routes */
	assert_int_equal(rt_block6_up(f->nl, &dead, gone, &s1), 0);
	assert_int_equal(rt_block6_up(f->nl, &live, f->tn, NULL), 0);
	route6_dump(now, sizeof(now));
	assert_int_equal(count_lines(now), count_lines(base) + 5);
	assert_int_equal(rt_block6_sweep(f->nl), 0);		/* both alive */
	close(gone_fd);					/* the crash */
	assert_int_equal(rt_block6_sweep(f->nl), 3);
	route6_dump(now, sizeof(now));
	assert_int_equal(count_lines(now), count_lines(before6) + 2);
	snprintf(r0, sizeof(r0), "lo ::/1 metric %u reject", TAG(f->tn));
	assert_route(now, r0, true);
	assert_int_equal(rt_block6_sweep(f->nl), 0);
	rt_block6_down(f->nl, &live);
	route6_dump(now, sizeof(now));
	assert_string_equal(now, before6);
}

/* A new tunnel device: the block moves to its tag. */
static void test_block6_new_device(void **state)
{
	struct fixture *f = *state;
	struct rt_block6 b = { 0 };
	char now[8192], r0[96];
	int fd, idx;

	fd = tun_dev(f->nl, "tn1", "10.9.0.2", &idx);
	assert_int_equal(rt_block6_up(f->nl, &b, f->tn, NULL), 0);
	assert_int_equal(rt_block6_up(f->nl, &b, idx, NULL), 0);
	route6_dump(now, sizeof(now));
	snprintf(r0, sizeof(r0), "lo ::/1 metric %u reject", TAG(idx));
	assert_route(now, r0, true);
	snprintf(r0, sizeof(r0), "lo ::/1 metric %u reject", TAG(f->tn));
	assert_route(now, r0, false);
	rt_block6_down(f->nl, &b);
	close(fd);
	route6_dump(now, sizeof(now));
	assert_string_equal(now, before6);	/* the old tag's block went too */
}

/* ---- IPv6 (network6) ---- */

static struct cidr6 cidr6(const char *s)
{
	struct cidr6 c;

	assert_int_equal(conf_parse_cidr6(s, &c), 0);
	return c;
}

static void assert_cidr6(const struct cidr6 *c, const char *want)
{
	assert_prefix(AF_INET6, &c->addr, c->plen, want);
}

/* ::/0 becomes ::/1 and 8000::/1, network6 is left out, the rest passes;
 * the output is capped like IPv4's. */
static void test_expand6(void **state)
{
	struct cidr6 in[CONF_MAX_ROUTES], *out = calloc(CONF_MAX_ROUTES + 1, sizeof(*out));
	struct cidr6 net = cidr6("fd00:8::/64");
	int i;

	(void)state;
	assert_non_null(out);
	in[0] = cidr6("2001:db8::/32");
	in[1] = cidr6("fd00:8::/64");
	in[2] = cidr6("::/0");
	assert_int_equal(rt6_expand(in, 3, &net, out), 3);
	assert_cidr6(&out[0], "2001:db8::/32");
	assert_cidr6(&out[1], "::/1");
	assert_cidr6(&out[2], "8000::/1");
	assert_int_equal(rt6_expand(in, 2, NULL, out), 2);	/* no tunnel network */
	for (i = 0; i < CONF_MAX_ROUTES; i++)
		in[i] = cidr6("::/0");
	assert_int_equal(rt6_expand(in, CONF_MAX_ROUTES, &net, out), CONF_MAX_ROUTES);
	free(out);
}

static void test_diff6(void **state)
{
	struct cidr6 cur[2], next[2], add[CONF_MAX_ROUTES], del[CONF_MAX_ROUTES];
	int nadd, ndel;

	(void)state;
	cur[0] = cidr6("::/0");
	cur[1] = cidr6("2001:db8::/32");
	next[0] = cidr6("2001:db8::/32");
	next[1] = cidr6("2001:db8::/48");
	rt6_diff(cur, 2, next, 2, add, &nadd, del, &ndel);
	assert_int_equal(nadd, 1);
	assert_cidr6(&add[0], "2001:db8::/48");
	assert_int_equal(ndel, 1);
	assert_cidr6(&del[0], "::/0");
	rt6_diff(cur, 2, cur, 2, add, &nadd, del, &ndel);
	assert_int_equal(nadd + ndel, 0);
}

static void assert_path6(struct fixture *f, const char *dst, const char *want)
{
	char dev[IF_NAMESIZE], g[INET6_ADDRSTRLEN], got[80];
	struct in6_addr gw, d = ip6(dst);
	bool has_gw;
	int oif;

	assert_int_equal(nl_route6_get(f->nl, &d, &oif, &gw, &has_gw), 0);
	assert_non_null(if_indextoname((unsigned)oif, dev));
	inet_ntop(AF_INET6, &gw, g, sizeof(g));
	snprintf(got, sizeof(got), "%s%s%s", dev, has_gw ? " via " : "", has_gw ? g : "");
	if (strcmp(got, want) != 0)
		fail_msg("%s goes %s, want %s", dst, got, want);
}

/* The IPv6 underlay: ul0 2001:db8::2/64 with ::/0 via 2001:db8::1, tn0
 * fd00:8::2/64. A full IPv6 tunnel sends everything to tn0 but the
 * server (a /128 via the underlay) and the links; removing it restores
 * the underlay's paths and takes the /128 away. */
static void test_full_tunnel6(void **state)
{
	struct fixture *f = *state;
	struct rt6_state rs = { 0 };
	struct in6_addr a = ip6("2001:db8::2"), gw = ip6("2001:db8::1"), t = ip6("fd00:8::2");
	struct in6_addr any = ip6("::"), server = ip6("2001:db8:99::7");
	struct cidr6 r[2] = { cidr6("::/0"), cidr6("fd00:8::/64") }, net = cidr6("fd00:8::/64");

	struct nl_route6 def = { .n6_dst = any, .n6_plen = 0, .n6_type = RTN_UNICAST,
	    .n6_oif = f->ul, .n6_has_gw = true, .n6_gw = gw };

	assert_int_equal(nl_addr6_add(f->nl, f->ul, &a, 64), 0);
	assert_int_equal(nl_addr6_add(f->nl, f->tn, &t, 64), 0);
	assert_int_equal(nl_route6_add(f->nl, &def), 0);
	assert_path6(f, "2001:db8:5::1", "ul0 via 2001:db8::1");
	assert_int_equal(rt6_apply(f->nl, &rs, f->tn, r, 2, &net, &server), 0);
	assert_true(rs.r6_host);
	assert_int_equal(rs.r6_nroutes, 2);
	assert_path6(f, "2001:db8:5::1", "tn0");
	assert_path6(f, "8000::1", "tn0");
	assert_path6(f, "2001:db8:99::7", "ul0 via 2001:db8::1");
	assert_path6(f, "2001:db8::9", "ul0");
	assert_path6(f, "fd00:8::9", "tn0");
	/* again (a reconnect, or an update without IPv6 change): no change */
	assert_int_equal(rt6_apply(f->nl, &rs, f->tn, r, 2, &net, &server), 0);
	assert_int_equal(rs.r6_nroutes, 2);
	assert_int_equal(rt6_refresh(f->nl, &rs), 0);		/* nothing moved */
	/* the underlay's gateway moves: the /128 follows it, and back */
	struct nl_route6 def3 = def;

	def3.n6_gw = ip6("2001:db8::3");
	assert_int_equal(nl_route6_del(f->nl, &def), 0);
	assert_int_equal(nl_route6_add(f->nl, &def3), 0);
	assert_int_equal(rt6_refresh(f->nl, &rs), 1);
	assert_path6(f, "2001:db8:99::7", "ul0 via 2001:db8::3");
	assert_path6(f, "2001:db8:5::1", "tn0");
	assert_int_equal(nl_route6_del(f->nl, &def3), 0);
	assert_int_equal(nl_route6_add(f->nl, &def), 0);
	assert_int_equal(rt6_refresh(f->nl, &rs), 1);
	assert_path6(f, "2001:db8:99::7", "ul0 via 2001:db8::1");
	/* an update that drops ::/0: its halves and the /128 go */
	r[0] = cidr6("2001:db8:5::/48");
	assert_int_equal(rt6_apply(f->nl, &rs, f->tn, r, 1, &net, &server), 0);
	assert_false(rs.r6_host);
	assert_int_equal(rs.r6_nroutes, 1);
	assert_path6(f, "2001:db8:5::1", "tn0");
	assert_path6(f, "8000::1", "ul0 via 2001:db8::1");
	rt6_remove(f->nl, &rs);
	assert_int_equal(rs.r6_nroutes, 0);
	assert_path6(f, "2001:db8:5::1", "ul0 via 2001:db8::1");
	assert_path6(f, "2001:db8:99::7", "ul0 via 2001:db8::1");
	rt6_remove(f->nl, &rs);		/* twice: nothing left */
}

int main(void)
{
	const struct CMUnitTest pure[] = {
		cmocka_unit_test(test_expand6),
		cmocka_unit_test(test_diff6),
		cmocka_unit_test(test_diff_add_and_remove),
		cmocka_unit_test(test_diff_same_set),
		cmocka_unit_test(test_diff_prefix_length_and_duplicates),
		cmocka_unit_test(test_diff_full_lists),
		cmocka_unit_test(test_expand_default_becomes_two_halves),
		cmocka_unit_test(test_expand_skips_tunnel_network),
		cmocka_unit_test(test_expand_split_routes_pass_through),
		cmocka_unit_test(test_expand_cap),
		cmocka_unit_test(test_expand_cap_default_first),
		cmocka_unit_test(test_block6_wanted),
		cmocka_unit_test(test_block6_set),
	};
	const struct CMUnitTest netns[] = {
		cmocka_unit_test_setup_teardown(test_full_tunnel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconnect_keeps_host_route, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconnect_other_server, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_tunnel_device, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_routes_need_no_host_route, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_route_covering_server, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_on_link, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_server_address, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure_leaves_no_tunnel_routes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_unreachable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pushed_route_taken_is_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_route_of_someone_else_is_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refresh_follows_new_gateway, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refresh_puts_back_deleted_host_route, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refresh_after_underlay_flap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refresh_keeps_host_route_without_default, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refresh_without_pin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_tunnel6, setup, teardown),
		cmocka_unit_test_setup_teardown(test_block6_up_and_down, setup6, teardown),
		cmocka_unit_test_setup_teardown(test_block6_pins_ipv6_server, setup6, teardown),
		cmocka_unit_test_setup_teardown(test_block6_pin_list_full, setup6, teardown),
		cmocka_unit_test_setup_teardown(test_block6_server_unreachable, setup6, teardown),
		cmocka_unit_test_setup_teardown(test_block6_sweep, setup6, teardown),
		cmocka_unit_test_setup_teardown(test_block6_new_device, setup6, teardown),
	};
	struct nl *nl;
	int rc, lo;

	if ((rc = cmocka_run_group_tests_name("rt_expand", pure, NULL, NULL)) != 0)
		return rc;
	if (geteuid() != 0) {
		printf("SKIP: the route tests need root\n");
		return 77;
	}
	/* root from here: a namespace that cannot be made is a failure */
	if (unshare(CLONE_NEWNET) < 0 || access("/dev/net/tun", R_OK | W_OK) < 0) {
		printf("cannot make a network namespace with a TUN device: %s\n",
		    strerror(errno));
		return 1;
	}
	if (nl_open(&nl) < 0 || (lo = nl_ifindex("lo")) < 0 || nl_link_up(nl, lo, 0) < 0) {
		printf("cannot bring up lo in the new namespace\n");
		return 1;
	}
	nl_close(nl);
	return cmocka_run_group_tests_name("rt_apply", netns, NULL, NULL);
}
