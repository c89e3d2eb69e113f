/* nl.c - rtnetlink requests over libmnl: link up and MTU, IPv4 addresses,
 * routes in the main table, route lookups and dumps. Every call builds one
 * request with NLM_F_ACK, sends it on the caller's private socket and reads
 * until the kernel's ACK, error or end of dump for that sequence number,
 * which becomes 0 or -errno. A second kind of socket, the watch, only
 * listens to the kernel's route-change notifications. Nothing here prints;
 * the daemon decides what a failure means. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "tunnel/nl.h"

#define NL_BUF_SIZE 8192	/* MNL_SOCKET_BUFFER_SIZE, without the VLA */

struct nl {
	struct mnl_socket *nl_sock;
	unsigned int       nl_portid;
	unsigned int       nl_seq;
	/* requests are built and replies received here; replies to an ACKed
	 * request are small, and a larger datagram is truncated, not overrun */
	char nl_buf[NL_BUF_SIZE] __attribute__((aligned(NLMSG_ALIGNTO)));
};

#define NL_WATCH_BUDGET 32	/* datagrams per nl_watch_drain() */

/* A route dump hands each route to the caller's function. */
struct nl_dump {
	void (*nd_fn)(void *arg, const struct nl_route *r);
	void  *nd_arg;
};

/* What nl_watch_drain() looks for, and whether it saw it. */
struct nl_watch_scan {
	int  ws_ignore;		/* ifindex whose routes do not matter */
	bool ws_changed;
};

int nl_open(struct nl **out)
{
	struct nl *nl;
	int err;

	if ((nl = calloc(1, sizeof(*nl))) == NULL)
		return -ENOMEM;
	if ((nl->nl_sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC)) == NULL ||
	    mnl_socket_bind(nl->nl_sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		nl_close(nl);
		return err;
	}
	nl->nl_portid = mnl_socket_get_portid(nl->nl_sock);
	nl->nl_seq = (unsigned int)time(NULL);
	*out = nl;
	return 0;
}

void nl_close(struct nl *nl)
{
	if (nl == NULL)
		return;
	if (nl->nl_sock != NULL)
		mnl_socket_close(nl->nl_sock);
	free(nl);
}

int nl_ifindex(const char *ifname)
{
	unsigned int idx;

	if (ifname == NULL || strlen(ifname) >= IFNAMSIZ)
		return -EINVAL;
	if ((idx = if_nametoindex(ifname)) == 0 || idx > INT32_MAX)
		return -ENODEV;
	return (int)idx;
}

/* Start a request of TYPE with FLAGS (NLM_F_REQUEST | NLM_F_ACK added) in
 * nl's buffer and a fresh sequence number. */
static struct nlmsghdr *nl_request(struct nl *nl, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(nl->nl_buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = ++nl->nl_seq;
	return nlh;
}

/* Send the request in nl's buffer and read replies, handing data messages to
 * CB (may be NULL), until the ACK (0) or the netlink error (-errno). A
 * datagram for another sequence number is the tail of a request abandoned
 * after an error, and is skipped. */
static int nl_talk(struct nl *nl, mnl_cb_t cb, void *data)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)nl->nl_buf;
	unsigned int seq = nlh->nlmsg_seq;
	ssize_t n;
	int ret;

	if (mnl_socket_sendto(nl->nl_sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		n = mnl_socket_recvfrom(nl->nl_sock, nl->nl_buf, sizeof(nl->nl_buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (mnl_nlmsg_ok(nlh, (int)n) && nlh->nlmsg_seq != seq)
			continue;
		errno = 0;
		ret = mnl_cb_run(nl->nl_buf, (size_t)n, seq, nl->nl_portid, cb, data);
		if (ret < 0)
			return errno != 0 ? -errno : -EBADMSG;
		if (ret == MNL_CB_STOP)
			return 0;
	}
}

int nl_link_up(struct nl *nl, int ifindex, int mtu)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;

	if (ifindex <= 0 || mtu < 0)
		return -EINVAL;
	nlh = nl_request(nl, RTM_NEWLINK, 0);
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	if (mtu > 0)
		mnl_attr_put_u32(nlh, IFLA_MTU, (uint32_t)mtu);
	return nl_talk(nl, NULL, NULL);
}

/* Start a TYPE request about an IPv4 prefix of PLEN bits on IFINDEX, with
 * its family header (HDRLEN bytes, zeroed) in place after the netlink
 * header; NULL for an ifindex or length the kernel would refuse anyway. */
static struct nlmsghdr *nl_prefix_request(struct nl *nl, uint16_t type,
    uint16_t flags, int ifindex, int plen, size_t hdrlen)
{
	struct nlmsghdr *nlh;

	if (ifindex <= 0 || plen < 0 || plen > 32)
		return NULL;
	nlh = nl_request(nl, type, flags);
	mnl_nlmsg_put_extra_header(nlh, hdrlen);
	return nlh;
}

/* RTM_NEWADDR / RTM_DELADDR: IFA_LOCAL and IFA_ADDRESS both ADDR, as
 * `ip addr add` does, so the kernel also adds the prefix route. */
static int nl_addr(struct nl *nl, uint16_t type, uint16_t flags, int ifindex,
                   struct in_addr addr, int plen)
{
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;

	if ((nlh = nl_prefix_request(nl, type, flags, ifindex, plen, sizeof(*ifa))) == NULL)
		return -EINVAL;
	ifa = mnl_nlmsg_get_payload(nlh);
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = (unsigned char)plen;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (unsigned int)ifindex;
	mnl_attr_put(nlh, IFA_LOCAL, sizeof(addr), &addr);
	mnl_attr_put(nlh, IFA_ADDRESS, sizeof(addr), &addr);
	return nl_talk(nl, NULL, NULL);
}

int nl_addr_add(struct nl *nl, int ifindex, struct in_addr addr, int plen)
{
	return nl_addr(nl, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, ifindex,
	    addr, plen);
}

int nl_addr_del(struct nl *nl, int ifindex, struct in_addr addr, int plen)
{
	return nl_addr(nl, RTM_DELADDR, 0, ifindex, addr, plen);
}

/* RTM_NEWROUTE / RTM_DELROUTE in the main table, protocol NL_RTPROT. A
 * delete leaves type and scope as wildcards (scope NOWHERE) but names the
 * protocol, so it matches dst/plen, oif and gateway of one of our own
 * routes only: never a route someone else made that looks the same. */
static int nl_route(struct nl *nl, uint16_t type, uint16_t flags,
                    struct in_addr dst, int plen, int ifindex,
                    const struct in_addr *gw)
{
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;

	if ((nlh = nl_prefix_request(nl, type, flags, ifindex, plen, sizeof(*rtm))) == NULL)
		return -EINVAL;
	rtm = mnl_nlmsg_get_payload(nlh);
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = (unsigned char)plen;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = NL_RTPROT;
	if (type == RTM_NEWROUTE) {
		rtm->rtm_type = RTN_UNICAST;
		rtm->rtm_scope = gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	} else {
		rtm->rtm_scope = RT_SCOPE_NOWHERE;
	}
	if (plen > 0)
		mnl_attr_put(nlh, RTA_DST, sizeof(dst), &dst);
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)ifindex);
	if (gw != NULL)
		mnl_attr_put(nlh, RTA_GATEWAY, sizeof(*gw), gw);
	return nl_talk(nl, NULL, NULL);
}

/* NLM_F_EXCL: a route with the same key (prefix, TOS, metric) is the
 * kernel's or someone else's, and stays as it is: -EEXIST. */
int nl_route_add(struct nl *nl, struct in_addr dst, int plen, int ifindex,
                 const struct in_addr *gw)
{
	return nl_route(nl, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, dst,
	    plen, ifindex, gw);
}

int nl_route_replace(struct nl *nl, struct in_addr dst, int plen, int ifindex,
                     const struct in_addr *gw)
{
	return nl_route(nl, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, dst,
	    plen, ifindex, gw);
}

int nl_route_del(struct nl *nl, struct in_addr dst, int plen, int ifindex,
                 const struct in_addr *gw)
{
	return nl_route(nl, RTM_DELROUTE, 0, dst, plen, ifindex, gw);
}

/* Where a route message's attributes go, for either family: dst and gw
 * are alen bytes (4 or 16). */
struct nl_rattrs {
	void     *ra_dst, *ra_gw;
	size_t    ra_alen;
	int      *ra_oif;
	bool     *ra_has_gw;
	uint32_t *ra_metric, *ra_table;
};

/* One attribute of an RTM_NEWROUTE message; sizes are checked before use. */
static int on_route_attr(const struct nlattr *attr, void *data)
{
	struct nl_rattrs *ra = data;

	switch (mnl_attr_get_type(attr)) {
	case RTA_DST:
		if (mnl_attr_validate2(attr, MNL_TYPE_BINARY, ra->ra_alen) < 0)
			return MNL_CB_ERROR;
		memcpy(ra->ra_dst, mnl_attr_get_payload(attr), ra->ra_alen);
		break;
	case RTA_OIF:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
			return MNL_CB_ERROR;
		*ra->ra_oif = (int)mnl_attr_get_u32(attr);
		break;
	case RTA_GATEWAY:
		if (mnl_attr_validate2(attr, MNL_TYPE_BINARY, ra->ra_alen) < 0)
			return MNL_CB_ERROR;
		memcpy(ra->ra_gw, mnl_attr_get_payload(attr), ra->ra_alen);
		*ra->ra_has_gw = true;
		break;
	case RTA_PRIORITY:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
			return MNL_CB_ERROR;
		*ra->ra_metric = mnl_attr_get_u32(attr);
		break;
	case RTA_TABLE:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
			return MNL_CB_ERROR;
		*ra->ra_table = mnl_attr_get_u32(attr);
		break;
	}
	return MNL_CB_OK;
}

/* The rtmsg of a route message: 1 with *rtm for family, 0 for another
 * family, -1 (errno EBADMSG) when too short to hold one. */
static int nl_rtmsg(const struct nlmsghdr *nlh, int family, const struct rtmsg **rtm)
{
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(**rtm))) {
		errno = EBADMSG;
		return -1;
	}
	*rtm = mnl_nlmsg_get_payload(nlh);
	return (*rtm)->rtm_family == family;
}

/* A route message's attributes into ra, its prefix plen of at most max
 * bits: 1, or -1 (errno EBADMSG) for a malformed one. */
static int nl_rattrs_parse(const struct nlmsghdr *nlh, int plen, int max,
    struct nl_rattrs *ra)
{
	if (plen > max ||
	    mnl_attr_parse(nlh, sizeof(struct rtmsg), on_route_attr, ra) != MNL_CB_OK) {
		errno = EBADMSG;
		return -1;
	}
	return 1;
}

/* An RTM_NEWROUTE / RTM_DELROUTE message into R: 1 for an IPv4 route, 0
 * for another family, -1 (errno EBADMSG) for a malformed one. */
static int nl_route_parse(const struct nlmsghdr *nlh, struct nl_route *r)
{
	struct nl_rattrs ra = { &r->nr_dst, &r->nr_gw, sizeof(r->nr_dst), &r->nr_oif,
	    &r->nr_has_gw, &r->nr_metric, &r->nr_table };
	const struct rtmsg *rtm;
	int rc;

	if ((rc = nl_rtmsg(nlh, AF_INET, &rtm)) <= 0)
		return rc;
	memset(r, 0, sizeof(*r));
	r->nr_plen = rtm->rtm_dst_len;
	r->nr_tos = rtm->rtm_tos;
	r->nr_type = rtm->rtm_type;
	r->nr_proto = rtm->rtm_protocol;
	r->nr_table = rtm->rtm_table;		/* RTA_TABLE, if any, wins */
	r->nr_dead = (rtm->rtm_flags & RTNH_F_DEAD) != 0;
	return nl_rattrs_parse(nlh, r->nr_plen, 32, &ra);
}

static int on_route_reply(const struct nlmsghdr *nlh, void *data)
{
	if (nlh->nlmsg_type != RTM_NEWROUTE)
		return MNL_CB_OK;
	return nl_route_parse(nlh, data) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

int nl_route_get(struct nl *nl, struct in_addr dst, int *ifindex,
                 struct in_addr *gw, bool *has_gw)
{
	struct nl_route r = { .nr_oif = 0 };
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	int err;

	nlh = nl_request(nl, RTM_GETROUTE, 0);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = 32;
	mnl_attr_put(nlh, RTA_DST, sizeof(dst), &dst);
	if ((err = nl_talk(nl, on_route_reply, &r)) < 0)
		return err;
	if (r.nr_oif <= 0)		/* e.g. a blackhole route */
		return -ENETUNREACH;
	*ifindex = r.nr_oif;
	*gw = r.nr_has_gw ? r.nr_gw : (struct in_addr){ 0 };
	*has_gw = r.nr_has_gw;
	return 0;
}

/* One route of a dump: the main table's go to the caller. */
static int on_dump_route(const struct nlmsghdr *nlh, void *data)
{
	const struct nl_dump *d = data;
	struct nl_route r;
	int ret;

	if (nlh->nlmsg_type != RTM_NEWROUTE)
		return MNL_CB_OK;
	if ((ret = nl_route_parse(nlh, &r)) < 0)
		return MNL_CB_ERROR;
	if (ret > 0 && r.nr_table == RT_TABLE_MAIN)
		d->nd_fn(d->nd_arg, &r);
	return MNL_CB_OK;
}

/* Without strict checking the kernel dumps every table whatever rtm_table
 * says, so the filter is on_dump_route's. */
int nl_route_dump(struct nl *nl, void (*fn)(void *arg, const struct nl_route *r),
                  void *arg)
{
	struct nl_dump d = { .nd_fn = fn, .nd_arg = arg };
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;

	nlh = nl_request(nl, RTM_GETROUTE, NLM_F_DUMP);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_table = RT_TABLE_MAIN;
	return nl_talk(nl, on_dump_route, &d);
}

/* ---- route-change notifications ---- */

int nl_watch_open(uint32_t groups)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = groups };
	int fd, err;

	if ((fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    NETLINK_ROUTE)) < 0)
		return -errno;
	if (bind(fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static int nl_route6_parse(const struct nlmsghdr *nlh, struct nl_route6 *r);

/* Whether one notification matters: a main-table IPv4 or IPv6 route not
 * on the ignored device. A malformed one counts as a change (better a
 * needless look than a missed one). */
static int on_watch_msg(const struct nlmsghdr *nlh, void *data)
{
	struct nl_watch_scan *ws = data;
	struct nl_route r;
	struct nl_route6 r6;
	int ret;

	if (nlh->nlmsg_type != RTM_NEWROUTE && nlh->nlmsg_type != RTM_DELROUTE)
		return MNL_CB_OK;
	if ((ret = nl_route_parse(nlh, &r)) < 0 ||
	    (ret > 0 && r.nr_table == RT_TABLE_MAIN && r.nr_oif != ws->ws_ignore))
		ws->ws_changed = true;
	else if (ret == 0 && ((ret = nl_route6_parse(nlh, &r6)) < 0 ||
	    (ret > 0 && r6.n6_table == RT_TABLE_MAIN && r6.n6_oif != ws->ws_ignore)))
		ws->ws_changed = true;
	return MNL_CB_OK;
}

int nl_watch_drain(int fd, int ignore_ifindex)
{
	char buf[NL_BUF_SIZE] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct nl_watch_scan ws = { .ws_ignore = ignore_ifindex > 0 ? ignore_ifindex : -1 };
	ssize_t n;
	int i;

	for (i = 0; i < NL_WATCH_BUDGET; i++) {
		if ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == ENOBUFS)	/* the queue overran: we missed some */
				ws.ws_changed = true;
			else if (errno != EINTR)
				return -errno;
			continue;
		}
		/* seq and portid 0: notifications answer no request of ours */
		if (mnl_cb_run(buf, (size_t)n, 0, 0, on_watch_msg, &ws) < 0)
			ws.ws_changed = true;
	}
	return ws.ws_changed;
}

/* ---- IPv6 routes ---- */

/* RTM_NEWROUTE / RTM_DELROUTE of R in the main table, protocol NL_RTPROT:
 * as nl_route, a delete names the protocol, so it only ever matches one of
 * our own routes. */
static int nl_route6(struct nl *nl, uint16_t type, uint16_t flags,
                     const struct nl_route6 *r)
{
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;

	if (r->n6_plen < 0 || r->n6_plen > 128 || r->n6_oif < 0 ||
	    (type == RTM_NEWROUTE && r->n6_type == RTN_UNICAST && r->n6_oif == 0))
		return -EINVAL;
	nlh = nl_request(nl, type, flags);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET6;
	rtm->rtm_dst_len = (unsigned char)r->n6_plen;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = NL_RTPROT;
	rtm->rtm_type = r->n6_type;
	rtm->rtm_scope = type == RTM_NEWROUTE ? RT_SCOPE_UNIVERSE : RT_SCOPE_NOWHERE;
	if (r->n6_plen > 0)
		mnl_attr_put(nlh, RTA_DST, sizeof(r->n6_dst), &r->n6_dst);
	if (r->n6_oif > 0)
		mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)r->n6_oif);
	if (r->n6_has_gw)
		mnl_attr_put(nlh, RTA_GATEWAY, sizeof(r->n6_gw), &r->n6_gw);
	if (r->n6_metric > 0)
		mnl_attr_put_u32(nlh, RTA_PRIORITY, r->n6_metric);
	return nl_talk(nl, NULL, NULL);
}

int nl_route6_add(struct nl *nl, const struct nl_route6 *r)
{
	return nl_route6(nl, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, r);
}

int nl_route6_del(struct nl *nl, const struct nl_route6 *r)
{
	return nl_route6(nl, RTM_DELROUTE, 0, r);
}

/* As nl_route_parse, for IPv6: 1, 0 for another family, -1 (EBADMSG). */
static int nl_route6_parse(const struct nlmsghdr *nlh, struct nl_route6 *r)
{
	struct nl_rattrs ra = { &r->n6_dst, &r->n6_gw, sizeof(r->n6_dst), &r->n6_oif,
	    &r->n6_has_gw, &r->n6_metric, &r->n6_table };
	const struct rtmsg *rtm;
	int rc;

	if ((rc = nl_rtmsg(nlh, AF_INET6, &rtm)) <= 0)
		return rc;
	memset(r, 0, sizeof(*r));
	r->n6_plen = rtm->rtm_dst_len;
	r->n6_type = rtm->rtm_type;
	r->n6_proto = rtm->rtm_protocol;
	r->n6_table = rtm->rtm_table;
	return nl_rattrs_parse(nlh, r->n6_plen, 128, &ra);
}

struct nl_dump6 {
	void (*nd_fn)(void *arg, const struct nl_route6 *r);
	void  *nd_arg;
};

static int on_dump_route6(const struct nlmsghdr *nlh, void *data)
{
	const struct nl_dump6 *d = data;
	struct nl_route6 r;
	int ret;

	if (nlh->nlmsg_type != RTM_NEWROUTE)
		return MNL_CB_OK;
	if ((ret = nl_route6_parse(nlh, &r)) < 0)
		return MNL_CB_ERROR;
	if (ret > 0 && r.n6_table == RT_TABLE_MAIN)
		d->nd_fn(d->nd_arg, &r);
	return MNL_CB_OK;
}

int nl_route6_dump(struct nl *nl, void (*fn)(void *arg, const struct nl_route6 *r),
                   void *arg)
{
	struct nl_dump6 d = { .nd_fn = fn, .nd_arg = arg };
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;

	nlh = nl_request(nl, RTM_GETROUTE, NLM_F_DUMP);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET6;
	rtm->rtm_table = RT_TABLE_MAIN;
	return nl_talk(nl, on_dump_route6, &d);
}

/* ---- IPv6 addresses, and the route to one address ---- */

/* RTM_NEWADDR / RTM_DELADDR for an IPv6 address. IFA_F_NODAD: the tunnel
 * is a point-to-point link with no neighbour to collide with, and an
 * address in duplicate address detection is not usable for a second. */
static int nl_addr6(struct nl *nl, uint16_t type, uint16_t flags, int ifindex,
                    const struct in6_addr *addr, int plen)
{
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;

	if (ifindex <= 0 || plen < 0 || plen > 128)
		return -EINVAL;
	nlh = nl_request(nl, type, flags);
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET6;
	ifa->ifa_prefixlen = (unsigned char)plen;
	ifa->ifa_flags = IFA_F_NODAD;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (unsigned int)ifindex;
	mnl_attr_put(nlh, IFA_LOCAL, sizeof(*addr), addr);
	mnl_attr_put(nlh, IFA_ADDRESS, sizeof(*addr), addr);
	mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
	return nl_talk(nl, NULL, NULL);
}

int nl_addr6_add(struct nl *nl, int ifindex, const struct in6_addr *addr, int plen)
{
	return nl_addr6(nl, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, ifindex, addr, plen);
}

int nl_addr6_del(struct nl *nl, int ifindex, const struct in6_addr *addr, int plen)
{
	return nl_addr6(nl, RTM_DELADDR, 0, ifindex, addr, plen);
}

/* The route the kernel would take to DST (RTM_GETROUTE). */
struct nl_route6_reply {
	int             rr_oif;
	bool            rr_has_gw;
	struct in6_addr rr_gw;
};

static int on_route6_get_attr(const struct nlattr *attr, void *data)
{
	struct nl_route6_reply *r = data;

	switch (mnl_attr_get_type(attr)) {
	case RTA_OIF:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
			return MNL_CB_ERROR;
		r->rr_oif = (int)mnl_attr_get_u32(attr);
		break;
	case RTA_GATEWAY:
		if (mnl_attr_validate2(attr, MNL_TYPE_BINARY, sizeof(r->rr_gw)) < 0)
			return MNL_CB_ERROR;
		memcpy(&r->rr_gw, mnl_attr_get_payload(attr), sizeof(r->rr_gw));
		r->rr_has_gw = true;
		break;
	}
	return MNL_CB_OK;
}

static int on_route6_get_reply(const struct nlmsghdr *nlh, void *data)
{
	if (nlh->nlmsg_type != RTM_NEWROUTE)
		return MNL_CB_OK;
	return mnl_attr_parse(nlh, sizeof(struct rtmsg), on_route6_get_attr, data);
}

int nl_route6_get(struct nl *nl, const struct in6_addr *dst, int *ifindex,
                  struct in6_addr *gw, bool *has_gw)
{
	struct nl_route6_reply r = { .rr_oif = 0 };
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	int err;

	nlh = nl_request(nl, RTM_GETROUTE, 0);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET6;
	rtm->rtm_dst_len = 128;
	mnl_attr_put(nlh, RTA_DST, sizeof(*dst), dst);
	if ((err = nl_talk(nl, on_route6_get_reply, &r)) < 0)
		return err;
	if (r.rr_oif <= 0)
		return -ENETUNREACH;
	*ifindex = r.rr_oif;
	memset(gw, 0, sizeof(*gw));
	if ((*has_gw = r.rr_has_gw))
		*gw = r.rr_gw;
	return 0;
}
