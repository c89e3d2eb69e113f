/* test_nl.c - the TUN device (tun.c) and rtnetlink (nl.c) against the real
 * kernel, inside a private network namespace made at start with
 * unshare(CLONE_NEWNET), so the machine's own links, addresses and routes are
 * never touched; the route changes the watch socket hears are the test's own. Without root (or netns support) it prints SKIP and exits 77. */
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <linux/rtnetlink.h>

#include "tunnel/nl.h"
#include "tunnel/tun.h"

struct fixture {
	struct nl *nl;
	int        fd;			/* the test's TUN device */
	char       name[IFNAMSIZ];
	int        ifindex;
};

static struct in_addr ip(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a;
}

static int setup(void **state)
{
	static struct fixture f;

	memset(&f, 0, sizeof(f));
	assert_int_equal(nl_open(&f.nl), 0);
	f.fd = tun_open("vt%d", f.name);
	assert_true(f.fd >= 0);
	f.ifindex = nl_ifindex(f.name);
	assert_true(f.ifindex > 0);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (f->fd >= 0)
		close(f->fd);
	nl_close(f->nl);
	return 0;
}

/* ioctl on NAME: SIOCGIFMTU / SIOCGIFFLAGS. */
static struct ifreq ifreq_get(const char *name, unsigned long req)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(s >= 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	assert_int_equal(ioctl(s, req, &ifr), 0);
	close(s);
	return ifr;
}

/* Does NAME carry ADDR with a PLEN-bit netmask? */
static bool has_addr(const char *name, const char *addr, int plen)
{
	struct ifaddrs *ifa, *i;
	struct in_addr a = ip(addr);
	uint32_t mask = htonl(plen ? ~0u << (32 - plen) : 0);
	bool found = false;

	assert_int_equal(getifaddrs(&ifa), 0);
	for (i = ifa; i != NULL; i = i->ifa_next) {
		const struct sockaddr_in *sin = (const void *)i->ifa_addr;
		const struct sockaddr_in *nm = (const void *)i->ifa_netmask;

		if (sin == NULL || sin->sin_family != AF_INET ||
		    strcmp(i->ifa_name, name) != 0)
			continue;
		if (sin->sin_addr.s_addr == a.s_addr && nm != NULL &&
		    nm->sin_addr.s_addr == mask)
			found = true;
	}
	freeifaddrs(ifa);
	return found;
}

/* Link up with 10.8.0.1/24, as the server configures its device. */
static void bring_up(struct fixture *f)
{
	assert_int_equal(nl_link_up(f->nl, f->ifindex, 1400), 0);
	assert_int_equal(nl_addr_add(f->nl, f->ifindex, ip("10.8.0.1"), 24), 0);
}

static void test_tun_open_pattern_gets_kernel_name(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(strncmp(f->name, "vt", 2), 0);
	assert_string_not_equal(f->name, "vt%d");
	assert_int_equal(fcntl(f->fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	assert_true(fcntl(f->fd, F_GETFL) & O_NONBLOCK);
}

static void test_tun_open_fixed_name(void **state)
{
	char name[IFNAMSIZ];
	int fd;

	(void)state;
	fd = tun_open("vtfixed", name);
	assert_true(fd >= 0);
	assert_string_equal(name, "vtfixed");
	assert_true(nl_ifindex("vtfixed") > 0);
	close(fd);
}

static void test_tun_open_rejects_long_name(void **state)
{
	char name[IFNAMSIZ];

	(void)state;
	assert_int_equal(tun_open("a-name-of-16-chr", name), -EINVAL);
}

static void test_tun_close_removes_device(void **state)
{
	struct fixture *f = *state;

	close(f->fd);
	f->fd = -1;
	assert_int_equal(nl_ifindex(f->name), -ENODEV);
	assert_int_equal(if_nametoindex(f->name), 0);
}

static void test_ifindex_unknown_and_bad_names(void **state)
{
	(void)state;
	assert_int_equal(nl_ifindex("nosuchdev0"), -ENODEV);
	assert_int_equal(nl_ifindex("a-name-of-16-chr"), -EINVAL);
	assert_int_equal(nl_ifindex("lo"), 1);
}

static void test_link_up_sets_mtu_and_flag(void **state)
{
	struct fixture *f = *state;
	struct ifreq ifr;

	assert_false(ifreq_get(f->name, SIOCGIFFLAGS).ifr_flags & IFF_UP);
	assert_int_equal(nl_link_up(f->nl, f->ifindex, 1400), 0);
	assert_int_equal(ifreq_get(f->name, SIOCGIFMTU).ifr_mtu, 1400);
	assert_true(ifreq_get(f->name, SIOCGIFFLAGS).ifr_flags & IFF_UP);

	/* mtu 0 leaves the MTU alone */
	assert_int_equal(nl_link_up(f->nl, f->ifindex, 0), 0);
	ifr = ifreq_get(f->name, SIOCGIFMTU);
	assert_int_equal(ifr.ifr_mtu, 1400);
}

static void test_link_up_errors(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(nl_link_up(f->nl, 9999, 1400), -ENODEV);
	assert_int_equal(nl_link_up(f->nl, f->ifindex, 20), -EINVAL);
	assert_int_equal(nl_link_up(f->nl, 0, 1400), -EINVAL);
	/* the socket is still in step after errors */
	assert_int_equal(nl_link_up(f->nl, f->ifindex, 1300), 0);
}

static void test_addr_add_replace_del(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(nl_addr_add(f->nl, f->ifindex, ip("10.8.0.1"), 24), 0);
	assert_true(has_addr(f->name, "10.8.0.1", 24));
	assert_int_equal(nl_addr_add(f->nl, f->ifindex, ip("10.8.0.1"), 24), 0);
	assert_int_equal(nl_addr_del(f->nl, f->ifindex, ip("10.8.0.1"), 24), 0);
	assert_false(has_addr(f->name, "10.8.0.1", 24));
	assert_int_equal(nl_addr_del(f->nl, f->ifindex, ip("10.8.0.1"), 24),
	    -EADDRNOTAVAIL);
	assert_int_equal(nl_addr_add(f->nl, f->ifindex, ip("10.8.0.1"), 33), -EINVAL);
}

static void test_route_add_then_get(void **state)
{
	struct fixture *f = *state;
	struct in_addr gw;
	bool has_gw = true;
	int oif = 0;

	bring_up(f);
	assert_int_equal(nl_route_add(f->nl, ip("192.0.2.0"), 24, f->ifindex, NULL), 0);
	assert_int_equal(nl_route_get(f->nl, ip("192.0.2.7"), &oif, &gw, &has_gw), 0);
	assert_int_equal(oif, f->ifindex);
	assert_false(has_gw);
	assert_int_equal(gw.s_addr, 0);
}

/* add never takes over a route that is there (NLM_F_EXCL): the one with a
 * gateway stays; replace is the explicit way, for our own. */
static void test_route_add_keeps_existing(void **state)
{
	struct fixture *f = *state;
	struct in_addr gw, via = ip("10.8.0.2"), other = ip("10.8.0.3");
	bool has_gw;
	int oif;

	bring_up(f);
	assert_int_equal(nl_route_add(f->nl, ip("192.0.2.0"), 24, f->ifindex, &via), 0);
	assert_int_equal(nl_route_add(f->nl, ip("192.0.2.0"), 24, f->ifindex, NULL), -EEXIST);
	assert_int_equal(nl_route_add(f->nl, ip("192.0.2.0"), 24, f->ifindex, &other), -EEXIST);
	assert_int_equal(nl_route_get(f->nl, ip("192.0.2.7"), &oif, &gw, &has_gw), 0);
	assert_true(has_gw);
	assert_int_equal(gw.s_addr, via.s_addr);

	assert_int_equal(nl_route_replace(f->nl, ip("192.0.2.0"), 24, f->ifindex, &other), 0);
	assert_int_equal(nl_route_get(f->nl, ip("192.0.2.7"), &oif, &gw, &has_gw), 0);
	assert_int_equal(gw.s_addr, other.s_addr);
	assert_int_equal(nl_route_del(f->nl, ip("192.0.2.0"), 24, f->ifindex, &via), -ESRCH);
	assert_int_equal(nl_route_del(f->nl, ip("192.0.2.0"), 24, f->ifindex, &other), 0);
}

/* del only matches routes of ours (NL_RTPROT): the kernel's prefix route
 * for the device's address looks the same to `ip route del`, not to us. */
static void test_route_del_only_ours(void **state)
{
	struct fixture *f = *state;
	struct in_addr gw;
	bool has_gw;
	int oif;

	bring_up(f);
	assert_int_equal(nl_route_del(f->nl, ip("10.8.0.0"), 24, f->ifindex, NULL), -ESRCH);
	assert_int_equal(nl_route_get(f->nl, ip("10.8.0.9"), &oif, &gw, &has_gw), 0);
	assert_int_equal(oif, f->ifindex);
}

static void test_route_with_gateway(void **state)
{
	struct fixture *f = *state;
	struct in_addr gw, via = ip("10.8.0.2");
	bool has_gw = false;
	int oif = 0;

	bring_up(f);
	assert_int_equal(nl_route_add(f->nl, ip("198.51.100.0"), 24, f->ifindex, &via), 0);
	assert_int_equal(nl_route_get(f->nl, ip("198.51.100.9"), &oif, &gw, &has_gw), 0);
	assert_int_equal(oif, f->ifindex);
	assert_true(has_gw);
	assert_int_equal(gw.s_addr, via.s_addr);
	assert_int_equal(nl_route_del(f->nl, ip("198.51.100.0"), 24, f->ifindex, &via), 0);
	assert_int_equal(nl_route_del(f->nl, ip("198.51.100.0"), 24, f->ifindex, &via),
	    -ESRCH);
}

static void test_route_del_then_missing(void **state)
{
	struct fixture *f = *state;
	struct in_addr gw;
	bool has_gw;
	int oif;

	bring_up(f);
	assert_int_equal(nl_route_add(f->nl, ip("192.0.2.0"), 24, f->ifindex, NULL), 0);
	assert_int_equal(nl_route_del(f->nl, ip("192.0.2.0"), 24, f->ifindex, NULL), 0);
	assert_int_equal(nl_route_get(f->nl, ip("192.0.2.7"), &oif, &gw, &has_gw),
	    -ENETUNREACH);
	assert_int_equal(nl_route_del(f->nl, ip("192.0.2.0"), 24, f->ifindex, NULL),
	    -ESRCH);
}

static void test_default_route(void **state)
{
	struct fixture *f = *state;
	struct in_addr gw;
	bool has_gw;
	int oif = 0;

	bring_up(f);
	assert_int_equal(nl_route_add(f->nl, ip("0.0.0.0"), 0, f->ifindex, NULL), 0);
	assert_int_equal(nl_route_get(f->nl, ip("203.0.113.1"), &oif, &gw, &has_gw), 0);
	assert_int_equal(oif, f->ifindex);
	assert_int_equal(nl_route_del(f->nl, ip("0.0.0.0"), 0, f->ifindex, NULL), 0);
	assert_int_equal(nl_route_get(f->nl, ip("203.0.113.1"), &oif, &gw, &has_gw),
	    -ENETUNREACH);
}

/* ---- nl_route_dump ---- */

struct dump {
	struct nl_route r[16];
	int             n;
};

static void on_route(void *arg, const struct nl_route *r)
{
	struct dump *d = arg;

	assert_true(d->n < 16);
	d->r[d->n++] = *r;
}

static const struct nl_route *find_route(const struct dump *d, const char *dst, int plen)
{
	int i;

	for (i = 0; i < d->n; i++)
		if (d->r[i].nr_dst.s_addr == ip(dst).s_addr && d->r[i].nr_plen == plen)
			return &d->r[i];
	return NULL;
}

/* The main table only (the local table's 10.8.0.1/32 is not listed), with
 * each route's fields as the kernel keeps them. */
static void test_route_dump(void **state)
{
	struct fixture *f = *state;
	struct in_addr via = ip("10.8.0.2");
	const struct nl_route *r;
	struct dump d = { .n = 0 };

	bring_up(f);
	assert_int_equal(nl_route_add(f->nl, ip("198.51.100.0"), 24, f->ifindex, &via), 0);
	assert_int_equal(nl_route_add(f->nl, ip("0.0.0.0"), 0, f->ifindex, NULL), 0);
	assert_int_equal(nl_route_dump(f->nl, on_route, &d), 0);
	assert_int_equal(d.n, 3);
	assert_null(find_route(&d, "10.8.0.1", 32));

	assert_non_null(r = find_route(&d, "198.51.100.0", 24));
	assert_int_equal(r->nr_oif, f->ifindex);
	assert_true(r->nr_has_gw);
	assert_int_equal(r->nr_gw.s_addr, via.s_addr);
	assert_int_equal(r->nr_proto, NL_RTPROT);
	assert_int_equal(r->nr_type, RTN_UNICAST);
	assert_int_equal(r->nr_table, RT_TABLE_MAIN);
	assert_int_equal(r->nr_metric, 0);
	assert_false(r->nr_dead);

	assert_non_null(r = find_route(&d, "0.0.0.0", 0));
	assert_false(r->nr_has_gw);
	assert_non_null(r = find_route(&d, "10.8.0.0", 24));
	assert_int_equal(r->nr_proto, RTPROT_KERNEL);

	/* the socket is in step for the next request */
	assert_int_equal(nl_route_del(f->nl, ip("0.0.0.0"), 0, f->ifindex, NULL), 0);
	d.n = 0;
	assert_int_equal(nl_route_dump(f->nl, on_route, &d), 0);
	assert_int_equal(d.n, 2);
}

/* ---- nl_watch ---- */

static bool readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

static void test_watch_sees_route_changes(void **state)
{
	struct fixture *f = *state;
	int w, other;

	assert_true((w = nl_watch_open(RTMGRP_IPV4_ROUTE)) >= 0);
	assert_int_equal(fcntl(w, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	assert_true(fcntl(w, F_GETFL) & O_NONBLOCK);
	assert_int_equal(nl_watch_drain(w, 0), 0);	/* nothing yet: no wait */

	bring_up(f);		/* the prefix route is a main-table change */
	assert_true(readable(w, 2000));
	assert_int_equal(nl_watch_drain(w, 0), 1);
	assert_int_equal(nl_watch_drain(w, 0), 0);	/* drained */

	assert_int_equal(nl_route_add(f->nl, ip("192.0.2.0"), 24, f->ifindex, NULL), 0);
	assert_true(readable(w, 2000));
	assert_int_equal(nl_watch_drain(w, 0), 1);
	assert_int_equal(nl_route_del(f->nl, ip("192.0.2.0"), 24, f->ifindex, NULL), 0);
	assert_true(readable(w, 2000));
	assert_int_equal(nl_watch_drain(w, 0), 1);

	/* on the ignored device: read, and nothing to say */
	assert_int_equal(nl_route_add(f->nl, ip("192.0.2.0"), 24, f->ifindex, NULL), 0);
	assert_true(readable(w, 2000));
	assert_int_equal(nl_watch_drain(w, f->ifindex), 0);
	assert_false(readable(w, 0));

	/* another device's route does count */
	assert_true((other = nl_ifindex("lo")) > 0);
	assert_int_equal(nl_route_add(f->nl, ip("203.0.113.0"), 24, other, NULL), 0);
	assert_true(readable(w, 2000));
	assert_int_equal(nl_watch_drain(w, f->ifindex), 1);
	assert_int_equal(nl_route_del(f->nl, ip("203.0.113.0"), 24, other, NULL), 0);
	close(w);
}

/* Many changes at once: each call reads a bounded share, the change is
 * reported, and the socket ends up empty. */
static void test_watch_budget(void **state)
{
	struct fixture *f = *state;
	struct in_addr a;
	int w, i, calls = 0, seen = 0, rc;

	bring_up(f);
	assert_true((w = nl_watch_open(RTMGRP_IPV4_ROUTE)) >= 0);
	for (i = 0; i < 200; i++) {
		a.s_addr = htonl(0xc6336400u + ((uint32_t)i << 8));	/* 198.51.100+i.0 */
		assert_int_equal(nl_route_add(f->nl, a, 24, f->ifindex, NULL), 0);
	}
	while (readable(w, 0)) {
		assert_true((rc = nl_watch_drain(w, 0)) >= 0);
		seen |= rc;
		assert_true(++calls <= 200);
	}
	assert_int_equal(seen, 1);
	assert_true(calls > 1);		/* a bounded share per call */
	assert_int_equal(nl_watch_drain(w, 0), 0);
	close(w);
}

/* Read from the TUN fd until an IPv4 packet arrives (IPv6 addrconf may send
 * its own first); returns its length. */
static ssize_t read_ipv4(int fd, unsigned char *buf, size_t len)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;

	for (;;) {
		assert_int_equal(poll(&p, 1, 2000), 1);
		n = tun_fd_ops.read((void *)(intptr_t)fd, buf, len);
		assert_true(n > 0);
		if (buf[0] >> 4 == 4)
			return n;
	}
}

static uint16_t ip_checksum(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

/* A datagram sent to a peer address comes out of the fd as a bare IPv4
 * packet (no packet-info header); one written to the fd reaches a socket. */
static void test_tun_fd_ops_carry_bare_ip(void **state)
{
	struct fixture *f = *state;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(5555) };
	unsigned char pkt[2048];
	struct iphdr *iph = (struct iphdr *)pkt;
	struct udphdr *uh;
	ssize_t n;
	int s;

	bring_up(f);
	assert_true((s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) >= 0);
	assert_int_equal(bind(s, (const struct sockaddr *)&sin, sizeof(sin)), 0);
	sin.sin_addr = ip("10.8.0.2");
	assert_int_equal(sendto(s, "ping", 4, 0, (const struct sockaddr *)&sin,
	    sizeof(sin)), 4);
	n = read_ipv4(f->fd, pkt, sizeof(pkt));
	assert_int_equal(n, sizeof(*iph) + sizeof(*uh) + 4);
	assert_int_equal(iph->protocol, IPPROTO_UDP);
	assert_int_equal(iph->daddr, ip("10.8.0.2").s_addr);
	assert_memory_equal(pkt + n - 4, "ping", 4);

	/* turn it round: 10.8.0.2:5555 -> 10.8.0.1:5555, UDP checksum 0 */
	iph->saddr = ip("10.8.0.2").s_addr;
	iph->daddr = ip("10.8.0.1").s_addr;
	iph->check = 0;
	iph->check = ip_checksum(iph, sizeof(*iph));
	uh = (struct udphdr *)(pkt + sizeof(*iph));
	uh->source = htons(5555);
	uh->check = 0;
	memcpy(pkt + n - 4, "pong", 4);
	assert_int_equal(tun_fd_ops.write((void *)(intptr_t)f->fd, pkt, (size_t)n), n);
	assert_int_equal(recv(s, pkt, sizeof(pkt), 0), 4);
	assert_memory_equal(pkt, "pong", 4);
	close(s);
}

int main(void)
{
	struct nl *nl;
	int lo;

	if (geteuid() != 0 || unshare(CLONE_NEWNET) < 0 ||
	    access("/dev/net/tun", R_OK | W_OK) < 0) {
		printf("SKIP: needs root\n");
		return 77;
	}
	/* a fresh namespace has only lo, and it is down */
	if (nl_open(&nl) < 0 || (lo = nl_ifindex("lo")) < 0 ||
	    nl_link_up(nl, lo, 0) < 0) {
		printf("SKIP: cannot bring up lo in a new netns\n");
		return 77;
	}
	nl_close(nl);

	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tun_open_pattern_gets_kernel_name, setup, teardown),
		cmocka_unit_test(test_tun_open_fixed_name),
		cmocka_unit_test(test_tun_open_rejects_long_name),
		cmocka_unit_test_setup_teardown(test_tun_close_removes_device, setup, teardown),
		cmocka_unit_test(test_ifindex_unknown_and_bad_names),
		cmocka_unit_test_setup_teardown(test_link_up_sets_mtu_and_flag, setup, teardown),
		cmocka_unit_test_setup_teardown(test_link_up_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_addr_add_replace_del, setup, teardown),
		cmocka_unit_test_setup_teardown(test_route_add_then_get, setup, teardown),
		cmocka_unit_test_setup_teardown(test_route_add_keeps_existing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_route_del_only_ours, setup, teardown),
		cmocka_unit_test_setup_teardown(test_route_with_gateway, setup, teardown),
		cmocka_unit_test_setup_teardown(test_route_del_then_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_default_route, setup, teardown),
		cmocka_unit_test_setup_teardown(test_route_dump, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watch_sees_route_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watch_budget, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tun_fd_ops_carry_bare_ip, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
