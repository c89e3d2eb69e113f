/* reload.c - the table of what a reload may change (see reload.h). Each row
 * compares one key of two configurations, prints its value, and, for a
 * live key, copies it; the class says who acts on a change. Keys that need
 * a restart are those the daemon bound, opened or dropped privileges with
 * at start: the sockets, the TUN device and its network, the key pair, the
 * account, the control socket, the files the privileged helper was forked
 * to act on. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "conf/reload.h"

struct reload_row {
	const char       *rr_name;
	enum reload_class rr_class;
	bool            (*rr_eq)(const struct conf *, const struct conf *);
	void            (*rr_str)(const struct conf *, char *, size_t);
	void            (*rr_take)(struct conf *, const struct conf *);	/* live keys */
};

static bool eq_mode(const struct conf *a, const struct conf *b)
{
	return a->c_mode == b->c_mode;
}

static void str_mode(const struct conf *c, char *buf, size_t len)
{
	snprintf(buf, len, "%s", c->c_mode == CONF_SERVER ? "server" : "client");
}

static void cidr_str(const struct cidr *r, char *buf, size_t len)
{
	char a[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &r->addr, a, sizeof(a));
	snprintf(buf, len, "%s/%d", a, r->plen);
}

static void cidr6_str(const struct cidr6 *r, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(AF_INET6, &r->addr, a, sizeof(a));
	snprintf(buf, len, "%s/%d", a, r->plen);
}

static bool eq_routes6(const struct conf *a, const struct conf *b)
{
	int i;

	if (a->c_nroutes6 != b->c_nroutes6)
		return false;
	for (i = 0; i < a->c_nroutes6; i++)
		if (a->c_routes6[i].plen != b->c_routes6[i].plen ||
		    memcmp(&a->c_routes6[i].addr, &b->c_routes6[i].addr, 16) != 0)
			return false;
	return true;
}

static bool eq_routes(const struct conf *a, const struct conf *b)
{
	int i;

	if (a->c_nroutes != b->c_nroutes || !eq_routes6(a, b))
		return false;
	for (i = 0; i < a->c_nroutes; i++)
		if (a->c_routes[i].plen != b->c_routes[i].plen ||
		    a->c_routes[i].addr.s_addr != b->c_routes[i].addr.s_addr)
			return false;
	return true;
}

/* "[ 10.0.0.0/8, 198.19.5.0/24 ]", cut short with "..." when buf is full. */
static void str_routes(const struct conf *c, char *buf, size_t len)
{
	char one[INET6_ADDRSTRLEN + 4];
	size_t off;
	int i, n;

	n = snprintf(buf, len, "[");
	for (i = 0, off = (size_t)n; i < c->c_nroutes + c->c_nroutes6 && off < len;
	    i++, off += (size_t)n) {
		if (i < c->c_nroutes)
			cidr_str(&c->c_routes[i], one, sizeof(one));
		else
			cidr6_str(&c->c_routes6[i - c->c_nroutes], one, sizeof(one));
		n = snprintf(buf + off, len - off, "%s %s", i ? "," : "", one);
	}
	if (off < len)
		snprintf(buf + off, len - off, " ]");
	else if (len > 4)
		memcpy(buf + len - 4, "...", 4);
}

static void take_routes(struct conf *cur, const struct conf *next)
{
	memcpy(cur->c_routes, next->c_routes, sizeof(cur->c_routes));
	cur->c_nroutes = next->c_nroutes;
	memcpy(cur->c_routes6, next->c_routes6, sizeof(cur->c_routes6));
	cur->c_nroutes6 = next->c_nroutes6;
}

static bool eq_keepalive(const struct conf *a, const struct conf *b)
{
	return a->c_keepalive == b->c_keepalive;
}

static void str_keepalive(const struct conf *c, char *buf, size_t len)
{
	snprintf(buf, len, "%d", c->c_keepalive);
}

static void take_keepalive(struct conf *cur, const struct conf *next)
{
	cur->c_keepalive = next->c_keepalive;
}

static bool eq_dead(const struct conf *a, const struct conf *b)
{
	return a->c_dead_peer_timeout == b->c_dead_peer_timeout;
}

static void str_dead(const struct conf *c, char *buf, size_t len)
{
	snprintf(buf, len, "%d", c->c_dead_peer_timeout);
}

static void take_dead(struct conf *cur, const struct conf *next)
{
	cur->c_dead_peer_timeout = next->c_dead_peer_timeout;
}

static bool eq_c2c(const struct conf *a, const struct conf *b)
{
	return a->c_client_to_client == b->c_client_to_client;
}

static void str_c2c(const struct conf *c, char *buf, size_t len)
{
	snprintf(buf, len, "%s", c->c_client_to_client ? "true" : "false");
}

static void take_c2c(struct conf *cur, const struct conf *next)
{
	cur->c_client_to_client = next->c_client_to_client;
}

static bool eq_nat(const struct conf *a, const struct conf *b)
{
	return strcmp(a->c_nat_out, b->c_nat_out) == 0 && a->c_nat_ipv6 == b->c_nat_ipv6;
}

static void str_nat(const struct conf *c, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s", c->c_nat_out[0] ? c->c_nat_out : "none",
	    c->c_nat_ipv6 ? " ipv6" : "");
}

static void take_nat(struct conf *cur, const struct conf *next)
{
	memcpy(cur->c_nat_out, next->c_nat_out, sizeof(cur->c_nat_out));
	cur->c_nat_ipv6 = next->c_nat_ipv6;
}

static bool eq_listen(const struct conf *a, const struct conf *b)
{
	return a->c_nlisten == b->c_nlisten &&
	    memcmp(a->c_listen, b->c_listen, sizeof(a->c_listen[0]) * (size_t)a->c_nlisten) == 0;
}

static void str_listen(const struct conf *c, char *buf, size_t len)
{
	char one[80];
	size_t off = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < c->c_nlisten && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? " " : "",
		    conf_sockaddr_str(&c->c_listen[i], one, sizeof(one)));
}

static bool eq_tun(const struct conf *a, const struct conf *b)
{
	return strcmp(a->c_tun_name, b->c_tun_name) == 0 && a->c_tun_mtu == b->c_tun_mtu;
}

static void str_tun(const struct conf *c, char *buf, size_t len)
{
	snprintf(buf, len, "%s mtu %d", c->c_tun_name, c->c_tun_mtu);
}

static bool eq_network(const struct conf *a, const struct conf *b)
{
	return a->c_network.plen == b->c_network.plen &&
	    a->c_network.addr.s_addr == b->c_network.addr.s_addr;
}

static void str_network(const struct conf *c, char *buf, size_t len)
{
	cidr_str(&c->c_network, buf, len);
}

static bool eq_network6(const struct conf *a, const struct conf *b)
{
	return a->c_has_network6 == b->c_has_network6 && (!a->c_has_network6 ||
	    (a->c_network6.plen == b->c_network6.plen &&
	     memcmp(&a->c_network6.addr, &b->c_network6.addr, 16) == 0));
}

static void str_network6(const struct conf *c, char *buf, size_t len)
{
	if (c->c_has_network6)
		cidr6_str(&c->c_network6, buf, len);
	else
		snprintf(buf, len, "none");
}

#define STRING_KEY(fn, member)							\
static bool eq_##fn(const struct conf *a, const struct conf *b)		\
{									\
	return strcmp(a->member, b->member) == 0;			\
}									\
static void str_##fn(const struct conf *c, char *buf, size_t len)	\
{									\
	snprintf(buf, len, "%s", c->member[0] ? c->member : "none");	\
}

STRING_KEY(key, c_key)
STRING_KEY(cert, c_cert)
STRING_KEY(user, c_user)
STRING_KEY(control_socket, c_control_socket)
STRING_KEY(control_group, c_control_group)
STRING_KEY(state_dir, c_state_dir)
STRING_KEY(allow_list, c_allow_list)

/* group is kept as a gid (it may be the user's primary group, unnamed). */
static bool eq_group(const struct conf *a, const struct conf *b)
{
	return a->c_has_group == b->c_has_group && a->c_gid == b->c_gid;
}

static void str_group(const struct conf *c, char *buf, size_t len)
{
	if (c->c_has_group)
		snprintf(buf, len, "gid %u", (unsigned)c->c_gid);
	else
		snprintf(buf, len, "none");
}

STRING_KEY(on_connect, c_on_connect)
STRING_KEY(on_disconnect, c_on_disconnect)

static void take_on_connect(struct conf *cur, const struct conf *next)
{
	memcpy(cur->c_on_connect, next->c_on_connect, sizeof(cur->c_on_connect));
}

static void take_on_disconnect(struct conf *cur, const struct conf *next)
{
	memcpy(cur->c_on_disconnect, next->c_on_disconnect, sizeof(cur->c_on_disconnect));
}

static bool eq_dns(const struct conf *a, const struct conf *b)
{
	return a->c_ndns == b->c_ndns &&
	    memcmp(a->c_dns, b->c_dns, sizeof(a->c_dns[0]) * (size_t)a->c_ndns) == 0;
}

static void str_dns(const struct conf *c, char *buf, size_t len)
{
	char one[INET6_ADDRSTRLEN];
	size_t off = 0;
	int i;

	off = (size_t)snprintf(buf, len, "[");
	for (i = 0; i < c->c_ndns && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s %s", i ? "," : "",
		    inet_ntop(c->c_dns[i].cd_family, c->c_dns[i].cd_addr, one, sizeof(one)));
	if (off < len)
		snprintf(buf + off, len - off, " ]");
}

static void take_dns(struct conf *cur, const struct conf *next)
{
	memcpy(cur->c_dns, next->c_dns, sizeof(cur->c_dns));
	cur->c_ndns = next->c_ndns;
}

static bool eq_dns_search(const struct conf *a, const struct conf *b)
{
	int i;

	if (a->c_ndns_search != b->c_ndns_search)
		return false;
	for (i = 0; i < a->c_ndns_search; i++)
		if (strcmp(a->c_dns_search[i], b->c_dns_search[i]) != 0)
			return false;
	return true;
}

static void str_dns_search(const struct conf *c, char *buf, size_t len)
{
	size_t off = 0;
	int i;

	off = (size_t)snprintf(buf, len, "[");
	for (i = 0; i < c->c_ndns_search && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s %s", i ? "," : "",
		    c->c_dns_search[i]);
	if (off < len)
		snprintf(buf + off, len - off, " ]");
}

static void take_dns_search(struct conf *cur, const struct conf *next)
{
	memcpy(cur->c_dns_search, next->c_dns_search, sizeof(cur->c_dns_search));
	cur->c_ndns_search = next->c_ndns_search;
}

static bool eq_metrics(const struct conf *a, const struct conf *b)
{
	return a->c_has_metrics == b->c_has_metrics && (!a->c_has_metrics ||
	    memcmp(&a->c_metrics_listen, &b->c_metrics_listen, sizeof(a->c_metrics_listen)) == 0);
}

static void str_metrics(const struct conf *c, char *buf, size_t len)
{
	char one[80];

	snprintf(buf, len, "%s", c->c_has_metrics ?
	    conf_sockaddr_str(&c->c_metrics_listen, one, sizeof(one)) : "none");
}

static void take_metrics(struct conf *cur, const struct conf *next)
{
	cur->c_metrics_listen = next->c_metrics_listen;
	cur->c_has_metrics = next->c_has_metrics;
}

static const struct reload_row rows[RK_COUNT] = {
	[RK_MODE]              = { "mode", RELOAD_RESTART, eq_mode, str_mode, NULL },
	[RK_ROUTES]            = { "routes", RELOAD_PUSHED, eq_routes, str_routes, take_routes },
	[RK_KEEPALIVE]         = { "keepalive", RELOAD_PUSHED, eq_keepalive, str_keepalive,
	                           take_keepalive },
	[RK_DEAD_PEER_TIMEOUT] = { "dead_peer_timeout", RELOAD_PUSHED, eq_dead, str_dead,
	                           take_dead },
	[RK_CLIENT_TO_CLIENT]  = { "client_to_client", RELOAD_LIVE, eq_c2c, str_c2c, take_c2c },
	[RK_NAT]               = { "nat.out_interface", RELOAD_LIVE, eq_nat, str_nat, take_nat },
	[RK_LISTEN]            = { "listen", RELOAD_RESTART, eq_listen, str_listen, NULL },
	[RK_TUN]               = { "tun", RELOAD_RESTART, eq_tun, str_tun, NULL },
	[RK_NETWORK]           = { "network", RELOAD_RESTART, eq_network, str_network, NULL },
	[RK_KEY]               = { "key", RELOAD_RESTART, eq_key, str_key, NULL },
	[RK_CERT]              = { "cert", RELOAD_RESTART, eq_cert, str_cert, NULL },
	[RK_USER]              = { "user", RELOAD_RESTART, eq_user, str_user, NULL },
	[RK_GROUP]             = { "group", RELOAD_RESTART, eq_group, str_group, NULL },
	[RK_CONTROL_SOCKET]    = { "control_socket", RELOAD_RESTART, eq_control_socket,
	                           str_control_socket, NULL },
	[RK_CONTROL_GROUP]     = { "control_group", RELOAD_RESTART, eq_control_group,
	                           str_control_group, NULL },
	[RK_STATE_DIR]         = { "state_dir", RELOAD_RESTART, eq_state_dir, str_state_dir, NULL },
	/* the helper edits the file it was forked with */
	[RK_ALLOW_LIST]        = { "allow_list", RELOAD_RESTART, eq_allow_list,
	                           str_allow_list, NULL },
	[RK_DNS]               = { "dns", RELOAD_PUSHED, eq_dns, str_dns, take_dns },
	[RK_DNS_SEARCH]        = { "dns_search", RELOAD_PUSHED, eq_dns_search, str_dns_search,
	                           take_dns_search },
	/* the helpers read them again themselves (priv_hooks_reload) */
	[RK_ON_CONNECT]        = { "on_connect", RELOAD_LIVE, eq_on_connect, str_on_connect,
	                           take_on_connect },
	[RK_ON_DISCONNECT]     = { "on_disconnect", RELOAD_LIVE, eq_on_disconnect,
	                           str_on_disconnect, take_on_disconnect },
	[RK_METRICS_LISTEN]    = { "metrics_listen", RELOAD_LIVE, eq_metrics, str_metrics,
	                           take_metrics },
	[RK_NETWORK6]          = { "network6", RELOAD_RESTART, eq_network6, str_network6, NULL },
};

void reload_diff(const struct conf *cur, const struct conf *next, struct reload_diff *d)
{
	int k;

	d->rd_changed = 0;
	for (k = 0; k < RK_COUNT; k++)
		if (!rows[k].rr_eq(cur, next))
			d->rd_changed |= 1u << k;
}

bool reload_changed(const struct reload_diff *d, enum reload_key k)
{
	return (d->rd_changed & 1u << k) != 0;
}

bool reload_any(const struct reload_diff *d, enum reload_class cls)
{
	int k;

	for (k = 0; k < RK_COUNT; k++)
		if (reload_changed(d, (enum reload_key)k) && rows[k].rr_class == cls)
			return true;
	return false;
}

enum reload_class reload_class_of(enum reload_key k)
{
	return rows[k].rr_class;
}

const char *reload_key_name(enum reload_key k)
{
	return rows[k].rr_name;
}

const char *reload_value_str(const struct conf *c, enum reload_key k, char *buf, size_t len)
{
	rows[k].rr_str(c, buf, len);
	return buf;
}

void reload_take(struct conf *cur, const struct conf *next, const struct reload_diff *d)
{
	int k;

	for (k = 0; k < RK_COUNT; k++)
		if (reload_changed(d, (enum reload_key)k) && rows[k].rr_class != RELOAD_RESTART)
			rows[k].rr_take(cur, next);
}

const char *reload_names(const struct reload_diff *d, enum reload_class cls,
    char *buf, size_t len)
{
	size_t off = 0;
	int k, n;

	buf[0] = '\0';
	for (k = 0; k < RK_COUNT && off < len; k++) {
		if (!reload_changed(d, (enum reload_key)k) || rows[k].rr_class != cls)
			continue;
		n = snprintf(buf + off, len - off, "%s%s", off ? ", " : "", rows[k].rr_name);
		off += n > 0 ? (size_t)n : 0;
	}
	return buf;
}
