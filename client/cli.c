/* cli.c - the client's loop. States: WAIT (backoff timer) -> RESOLVE ->
 * CONNECT/HANDSHAKE (one session, 10 s deadline) -> CONFIG (admitted,
 * waiting for the server's CONFIG) -> UP; a CONFIG while UP is an update
 * after the server's reload (cli_update: routes and timers change in
 * place). The session (tunnel/sess.c) moves the packets and chooses TLS or DTLS; the client's own part is policy:
 * which server, when to reconnect, the TUN device, its address and routes,
 * and the UDP socket the DTLS channel uses. The TUN device and routes stay
 * in place across reconnects, so traffic does not leak outside the tunnel
 * while it is down; they are removed on exit.
 *
 * Packets: TUN readable (on_cli_tun) -> sess_send; the session's sink
 * (cli_to_tun) -> TUN; UDP readable (on_cli_udp) -> sess_datagram_in. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <linux/rtnetlink.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "client/cli.h"
#include "client/dns.h"
#include "client/path.h"
#include "client/routes.h"
#include "conf/conf.h"
#include "crypto/dtls.h"
#include "crypto/tls.h"
#include "daemon/ctl.h"
#include "daemon/http.h"
#include "daemon/metrics.h"
#include "daemon/event.h"
#include "daemon/hook.h"
#include "daemon/log.h"
#include "daemon/notify.h"
#include "daemon/priv.h"
#include "tunnel/nl.h"
#include "tunnel/sess.h"
#include "tunnel/tun.h"
#include "tunnel/udp.h"

#define CLI_TICK_MS      250
#define CLI_CONNECT_MS   10000
#define CLI_BACKOFF_MAX  60000
#define CLI_TUN_BUDGET   512

enum cli_state { CLI_WAIT, CLI_RESOLVE, CLI_HANDSHAKE, CLI_CONFIG, CLI_UP, CLI_STOPPED };

struct cli {
	uv_loop_t         *c_loop;
	const struct conf *c_conf;
	struct tls_ctx    *c_tls;
	struct nl         *c_nl;
	struct ctl        *c_ctl;
	struct http       *c_http;		/* metrics_listen, or NULL */
	struct priv       *c_priv;		/* runs the hooks, and the DNS as user */
	struct dns         c_dns_priv;		/* the helper's copy: its device */
	enum cli_state     c_state;
	int                c_server;		/* index into servers */
	int                c_tries;		/* failed attempts this round */
	uint64_t           c_backoff;		/* ms before the next round */
	uint64_t           c_deadline;
	bool               c_sess_open;
	bool               c_denied;
	char               c_why[LOG_SAFE_BUF + 32];	/* why the session ended */
	struct sess        c_sess;
	struct sess_batch  c_batch;
	uv_getaddrinfo_t   c_gai;
	uv_timer_t         c_timer, c_retry;
	uv_signal_t        c_sig[3];
	struct sockaddr_storage c_peer;		/* server's address, connected */
	struct sockaddr_storage c_local;	/* our end of the TLS connection */
	struct path_race  *c_race;		/* connecting (client/path.h), or NULL */
	int                c_pw_fd;		/* address changes (path_watch) */
	uv_poll_t          c_pw_poll;
	bool               c_moved;		/* the underlay moved: at once again */
	char               c_peer_str[64];	/* numeric "ip:port" */
	char               c_endpoint[300];

	int                c_tun_fd;
	int                c_tun_ifindex;
	char               c_tun_name[IFNAMSIZ];
	uv_poll_t          c_tun_poll;
	struct msg_config  c_cfg;		/* what the tunnel is set up with */
	bool               c_cfg_applied;
	struct rt_state    c_rt;
	struct rt6_state   c_rt6;		/* the IPv6 routes (network6) */
	struct rt_block6   c_block6;		/* block_ipv6, client/routes.h */
	struct dns         c_dns;		/* the pushed resolvers, client/dns.h */
	bool               c_dns_ready;		/* c_dns initialised on the device */
	int                c_dns_err;		/* the last failure, said once */
	int                c_rtw_fd;		/* route changes (nl_watch) */
	uv_poll_t          c_rtw_poll;

	/* the UDP socket of the DTLS channel the server offered */
	struct dtls_ctx   *c_dtls;
	int                c_udp_fd;		/* -1: none */
	uv_poll_t          c_udp_poll;
	struct udp_tx     *c_udp_tx;
	struct udp_rx     *c_udp_rx;

	struct tun_dev    *c_tun;		/* the packet path over c_tun_fd */
	const char        *c_offload;		/* tun_offload_str */
	uint64_t           c_drop_down;		/* TUN packets while not UP */
	struct sess_counts c_gone;		/* of sessions that have ended */
	uint64_t           c_hs_ns;		/* uv_hrtime() at connect */
	uint64_t           c_hs_denied, c_hs_failed;
	struct metrics_hist c_hs_time;		/* connect to CONFIG; count = ok */
	time_t             c_started, c_since;
	uint8_t            c_pkt[UDP_MSG_MAX];
};

static void cli_connect(struct cli *c);
static void on_cli_tun(uv_poll_t *h, int status, int events);

static const struct conf_server_addr *cur_server(const struct cli *c)
{
	return &c->c_conf->c_servers[c->c_server];
}

static void on_retry(uv_timer_t *h)
{
	cli_connect(h->data);
}

/* After a failed or lost session: next server in order; after a whole
 * round without success, wait c_backoff (doubling, capped at 60 s). */
static void cli_schedule(struct cli *c, bool next_server)
{
	uint64_t delay = 0;

	if (c->c_state == CLI_STOPPED)
		return;
	c->c_state = CLI_WAIT;
	if (next_server) {
		c->c_server = (c->c_server + 1) % c->c_conf->c_nservers;
		if (++c->c_tries >= c->c_conf->c_nservers) {
			c->c_tries = 0;
			delay = c->c_backoff;
			c->c_backoff = c->c_backoff * 2 > CLI_BACKOFF_MAX ?
			    CLI_BACKOFF_MAX : c->c_backoff * 2;
		}
	} else
		delay = c->c_moved ? 0 : 1000;
	c->c_moved = false;
	if (delay > 0)
		log_info("reconnecting in %llus", (unsigned long long)(delay / 1000));
	notify_status("reconnecting in %llus", (unsigned long long)(delay / 1000));
	uv_timer_start(&c->c_retry, on_retry, delay, 0);
}

/* The TUN device, created on first use; or at start when vpnd drops
 * privileges, since /dev/net/tun may be root's alone. */
static int cli_tun_open(struct cli *c)
{
	unsigned offloads;
	bool vnet;
	int err;

	if (c->c_tun_fd >= 0)
		return 0;
	if ((c->c_tun_fd = tun_open_vnet(c->c_conf->c_tun_name, c->c_tun_name, &vnet,
	    &offloads)) < 0) {
		err = c->c_tun_fd;
		c->c_tun_fd = -1;
		return err;
	}
	if ((err = tun_dev_new(&c->c_tun, &tun_fd_ops, (void *)(intptr_t)c->c_tun_fd, vnet,
	    offloads)) < 0)
		return err;
	c->c_offload = tun_offload_str(vnet, offloads);
	log_info("tun %s: offloads %s", c->c_tun_name, c->c_offload);
	if ((err = nl_ifindex(c->c_tun_name)) < 0)
		return err;
	c->c_tun_ifindex = err;
	uv_poll_init(c->c_loop, &c->c_tun_poll, c->c_tun_fd);
	c->c_tun_poll.data = c;
	return 0;
}

/* IPv6 inside the tunnel: the address and routes of m's ADDR6 and ROUTE6,
 * in place of those of the CONFIG applied before (none: taken away). */
/* Whether CONFIG m gives this client IPv6 it can use: an address (CONFIG
 * TLVs 8..15), on a device of at least 1280 bytes, below which the kernel
 * keeps no IPv6. What status, events and hooks show follows it. */
static bool cli_cfg_gives_ipv6(const struct cli *c, const struct msg_config *m)
{
	int mtu = c->c_conf->c_tun_mtu ? c->c_conf->c_tun_mtu : m->mc_mtu;

	return m->mc_has6 && mtu >= 1280;
}

static int cli_tun_setup6(struct cli *c, const struct msg_config *m)
{
	const struct msg_config *old = &c->c_cfg;
	int mtu = c->c_conf->c_tun_mtu ? c->c_conf->c_tun_mtu : m->mc_mtu;
	bool v6 = cli_cfg_gives_ipv6(c, m);
	struct cidr6 net;
	int err;

	if (m->mc_has6 && !v6)	/* the kernel keeps no IPv6 on a device below 1280 */
		log_warnx("tun %s: mtu %d is below 1280: the server's IPv6 is not applied",
		    c->c_tun_name, mtu);
	if (c->c_cfg_applied && old->mc_has6 && (!v6 ||
	    memcmp(&old->mc_addr6, &m->mc_addr6, 16) != 0 || old->mc_plen6 != m->mc_plen6))
		nl_addr6_del(c->c_nl, c->c_tun_ifindex, &old->mc_addr6, old->mc_plen6);
	if (!v6) {
		rt6_remove(c->c_nl, &c->c_rt6);
		return 0;
	}
	net.addr = m->mc_addr6;
	net.plen = m->mc_plen6;
	for (int i = 0; i < 16; i++)	/* the host bits off */
		net.addr.s6_addr[i] &= (uint8_t)(i * 8 >= net.plen ? 0 :
		    i * 8 + 8 <= net.plen ? 0xff : 0xff << (8 - (net.plen - i * 8)));
	if ((err = nl_addr6_add(c->c_nl, c->c_tun_ifindex, &m->mc_addr6, m->mc_plen6)) < 0)
		return err;
	return rt6_apply(c->c_nl, &c->c_rt6, c->c_tun_ifindex, m->mc_routes6,
	    m->mc_nroutes6, &net, c->c_peer.ss_family == AF_INET6 ?
	    &((struct sockaddr_in6 *)&c->c_peer)->sin6_addr : NULL);
}

static int cli_tun_setup(struct cli *c, const struct msg_config *m)
{
	const struct conf *cf = c->c_conf;
	struct cidr net;
	int mtu = cf->c_tun_mtu ? cf->c_tun_mtu : m->mc_mtu;
	int err;

	if ((err = cli_tun_open(c)) < 0)
		return err;
	if (c->c_cfg_applied && c->c_cfg.mc_addr.s_addr != m->mc_addr.s_addr)
		nl_addr_del(c->c_nl, c->c_tun_ifindex, c->c_cfg.mc_addr, c->c_cfg.mc_plen);
	net.plen = m->mc_plen;
	net.addr.s_addr = m->mc_addr.s_addr & htonl(m->mc_plen ? 0xffffffffu << (32 - m->mc_plen) : 0);
	if ((err = nl_addr_add(c->c_nl, c->c_tun_ifindex, m->mc_addr, m->mc_plen)) < 0 ||
	    (err = nl_link_up(c->c_nl, c->c_tun_ifindex, mtu)) < 0 ||
	    (err = rt_apply(c->c_nl, &c->c_rt, c->c_tun_ifindex, m->mc_routes,
	    m->mc_nroutes, &net, c->c_peer.ss_family == AF_INET ?
	    &((struct sockaddr_in *)&c->c_peer)->sin_addr : NULL)) < 0 ||
	    (err = cli_tun_setup6(c, m)) < 0)
		return err;
	c->c_cfg = *m;
	c->c_cfg_applied = true;
	return 0;
}

/* The server dialled, if over IPv6. */
static const struct in6_addr *sa_in6(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

	return ss->ss_family == AF_INET6 && !IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr) ?
	    &s6->sin6_addr : NULL;
}

static const struct in6_addr *cli_server6(const struct cli *c)
{
	return sa_in6(&c->c_peer);
}

/* block_ipv6 (client/routes.h): up while the CONFIG in force, m, is a full
 * IPv4 tunnel without IPv6, down otherwise (m NULL: stopping). Said once
 * each way; a failure is logged and the tunnel stays up, and the next
 * CONFIG tries again. */
static void cli_block6(struct cli *c, const struct msg_config *m)
{
	const struct in6_addr *server = cli_server6(c);
	bool was = c->c_block6.rb_up;
	int err;

	if (m == NULL || !rt_block6_wanted(c->c_conf->c_block_ipv6, m->mc_routes,
	    m->mc_nroutes, cli_cfg_gives_ipv6(c, m))) {
		rt_block6_down(c->c_nl, &c->c_block6);
		if (was)
			log_info("ipv6 block down: IPv6 takes the underlay's routes again");
		return;
	}
	if ((err = rt_block6_up(c->c_nl, &c->c_block6, c->c_tun_ifindex, server)) ==
	    -EAFNOSUPPORT)
		return;			/* a kernel without IPv6: nothing can leak */
	if (err < 0) {
		errno = -err;
		log_warn("ipv6 block: cannot keep IPv6 from leaving outside the tunnel");
	} else if (!was)
		log_info("ipv6 block up: full IPv4 tunnel without IPv6, so IPv6 is "
		    "unreachable outside %s (::/1, 8000::/1)", c->c_tun_name);
}

/* Before the race to addrs[0..n): under a block that is up (a reconnect),
 * each IPv6 address of the server needs its host route, or the block would
 * stop the connect. */
static void cli_block6_allow(struct cli *c, const struct sockaddr_storage *addrs, int n)
{
	char a[INET6_ADDRSTRLEN];
	int i, err;

	for (i = 0; i < n; i++) {
		if (sa_in6(&addrs[i]) == NULL ||
		    (err = rt_block6_allow(c->c_nl, &c->c_block6, sa_in6(&addrs[i]))) == 0)
			continue;
		errno = -err;
		log_warn("ipv6 block: no host route to server %s",
		    inet_ntop(AF_INET6, sa_in6(&addrs[i]), a, sizeof(a)));
	}
}

/* Apply (or remove) s: here, or, running as user (no exec, no polkit
 * grant), through the privileged helper, which holds the state then; the
 * worker's c_dns mirrors what is in place. */
static int cli_dns_put(struct cli *c, int op, const struct dns_set *s, enum dns_backend *used)
{
	struct dns_req r = { .dr_op = (uint32_t)op };
	int rc;

	if (c->c_conf->c_user[0] == '\0')
		return op == DNS_REQ_APPLY ? dns_apply(&c->c_dns, s, used) : dns_remove(&c->c_dns);
	if (s != NULL)
		r.dr_set = *s;
	if ((rc = priv_ext(c->c_priv, &r, sizeof(r))) < 0) {
		if (op == DNS_REQ_REMOVE)
			c->c_dns.d_applied = DNS_NONE;	/* as dns_remove: nothing recorded */
		return rc;
	}
	c->c_dns.d_applied = (enum dns_backend)rc;
	if (s != NULL && rc != DNS_NONE)
		c->c_dns.d_set = *s;
	if (used != NULL)
		*used = (enum dns_backend)rc;
	return 0;
}

/* The pushed resolvers onto the tunnel device, or off it when the server
 * now pushes none. When the tunnel comes up, and again when a CONFIG
 * update changes them (full reload); a failure is logged and the tunnel
 * stays up, since routes work without DNS. */
static void cli_dns(struct cli *c, const struct msg_config *m)
{
	enum dns_backend was = c->c_dns.d_applied, used;
	struct dns_set s;
	int i, err;

	if (!c->c_dns_ready) {
		dns_init(&c->c_dns, c->c_tun_name, c->c_tun_ifindex, &dns_exec_ops, NULL);
		c->c_dns_ready = true;
		was = DNS_NONE;
	}
	memset(&s, 0, sizeof(s));
	memcpy(s.ds_servers, m->mc_dns, sizeof(s.ds_servers));
	s.ds_nservers = m->mc_ndns;
	memcpy(s.ds_domains, m->mc_search, sizeof(s.ds_domains));
	s.ds_ndomains = m->mc_nsearch;
	for (i = 0; i < m->mc_nroutes; i++)
		if (m->mc_routes[i].plen == 0)
			s.ds_full_tunnel = true;
	if (was != DNS_NONE && memcmp(&c->c_dns.d_set, &s, sizeof(s)) == 0)
		return;
	/* a failure is said once, not at every reconnect: with user set
	 * (no exec, no polkit grant) it would come back each time */
	if ((err = cli_dns_put(c, DNS_REQ_APPLY, &s, &used)) < 0 && err == c->c_dns_err)
		return;
	c->c_dns_err = err;
	if (err == -ENOTSUP)
		log_warnx("dns %s: neither systemd-resolved nor resolvconf is "
		    "here: the server's %d resolvers are not applied",
		    c->c_tun_name, s.ds_nservers);
	else if (err < 0) {
		errno = -err;
		log_warn("dns %s: cannot apply the server's resolvers", c->c_tun_name);
	} else if (used != DNS_NONE)
		log_info("dns %s: %d servers, %d domains%s, via %s", c->c_tun_name,
		    s.ds_nservers, s.ds_ndomains, s.ds_full_tunnel ? ", all names" : "",
		    dns_backend_name(used));
	else if (was != DNS_NONE)
		log_info("dns %s: the server pushes no resolvers now: removed from %s",
		    c->c_tun_name, dns_backend_name(was));
}

static void cli_dns_remove(struct cli *c)
{
	enum dns_backend was = c->c_dns.d_applied;
	int err;

	if (!c->c_dns_ready || was == DNS_NONE)
		return;
	if ((err = cli_dns_put(c, DNS_REQ_REMOVE, NULL, NULL)) < 0) {
		errno = -err;
		log_warn("dns %s: cannot remove from %s", c->c_tun_name,
		    dns_backend_name(was));
	} else
		log_info("dns %s: removed from %s", c->c_tun_name, dns_backend_name(was));
}

/* The session's sink: a packet (or a super-packet, sp) from the server, to
 * the TUN device. */
static void cli_to_tun(void *arg, const uint8_t *pkt, size_t len,
    const struct vnet_super *sp)
{
	struct cli *c = arg;

	if (sp != NULL)
		tun_dev_write_super(c->c_tun, sp);	/* refusals counted there */
	else
		tun_dev_write(c->c_tun, pkt, len);
}

/* An event for `vpnctl events`: the client's one peer is its server. */
static void cli_event(const struct cli *c, enum evt_type type, const char *reason,
    const struct sess_counts *n)
{
	char a[INET_ADDRSTRLEN], a6[INET6_ADDRSTRLEN];
	struct evt ev = { .ev_type = type, .ev_fp = c->c_conf->c_server_fp,
	    .ev_endpoint = c->c_endpoint, .ev_reason = reason, .ev_uid = EVT_NO_UID };

	if (c->c_cfg_applied)
		ev.ev_address = inet_ntop(AF_INET, &c->c_cfg.mc_addr, a, sizeof(a));
	if (c->c_cfg_applied && cli_cfg_gives_ipv6(c, &c->c_cfg))
		ev.ev_address6 = inet_ntop(AF_INET6, &c->c_cfg.mc_addr6, a6, sizeof(a6));
	if (type != EVT_DENIED)
		ev.ev_transport = sess_on_dtls(&c->c_sess) ? "dtls" : "tls";
	if (type == EVT_TRANSPORT) {
		ev.ev_from = ev.ev_transport[0] == 'd' ? "tls" : "dtls";
		ev.ev_to = ev.ev_transport;
	}
	if (n != NULL) {
		ev.ev_has_bytes = true;
		ev.ev_rx_bytes = n->sc_rx_bytes;
		ev.ev_tx_bytes = n->sc_tx_bytes;
	}
	evt_emit(&ev);
}

static void on_cli_hook_done(void *arg, const struct hook_vars *v, int rc, int status)
{
	const char *key = v->hv_event == HOOK_CONNECT ? "on_connect" : "on_disconnect";
	char st[40];

	(void)arg;
	if (rc == -ETIMEDOUT)
		log_warnx("hook %s: killed after %d s", key, HOOK_TIMEOUT_MS / 1000);
	else if (rc < 0)
		log_warnx("hook %s: cannot run: %s", key, strerror(-rc));
	else
		log_info("hook %s: %s", key, hook_status_str(status, st, sizeof(st)));
}

/* The client's hooks: told, never asked (the session is up already). */
static void cli_hook(struct cli *c, int event, const struct sess_counts *n)
{
	const struct conf *cf = c->c_conf;
	struct hook_vars v = { .hv_event = event };
	int err;

	if ((event == HOOK_CONNECT ? cf->c_on_connect : cf->c_on_disconnect)[0] == '\0')
		return;
	snprintf(v.hv_fp, sizeof(v.hv_fp), "%s", cf->c_server_fp);
	inet_ntop(AF_INET, &c->c_cfg.mc_addr, v.hv_address, sizeof(v.hv_address));
	if (cli_cfg_gives_ipv6(c, &c->c_cfg))
		inet_ntop(AF_INET6, &c->c_cfg.mc_addr6, v.hv_address6, sizeof(v.hv_address6));
	snprintf(v.hv_endpoint, sizeof(v.hv_endpoint), "%s", c->c_peer_str);
	snprintf(v.hv_transport, sizeof(v.hv_transport), "%s",
	    sess_on_dtls(&c->c_sess) ? "dtls" : "tls");
	if (n != NULL) {
		v.hv_rx_bytes = n->sc_rx_bytes;
		v.hv_tx_bytes = n->sc_tx_bytes;
	}
	if ((err = priv_hook_start(c->c_priv, c->c_loop, &v, on_cli_hook_done, NULL,
	    NULL)) < 0)
		on_cli_hook_done(NULL, &v, err, 0);
}

static void cli_up(struct cli *c, const struct frame *f)
{
	const struct conf *cf = c->c_conf;
	struct msg_config m;
	char a[INET_ADDRSTRLEN];
	int i, err;

	if (msg_config_decode(f->f_payload, f->f_len, &m) < 0) {
		log_warnx("server %s sent a malformed configuration", c->c_endpoint);
		sess_close(&c->c_sess);
		return;
	}
	if ((err = cli_tun_setup(c, &m)) < 0) {
		errno = -err;
		log_warn("tun %s: cannot configure", cf->c_tun_name);
		sess_close(&c->c_sess);
		return;
	}
	cli_block6(c, &m);
	if (m.mc_gso) {	/* the server takes super-packets whole: so do we */
		static const uint8_t caps[4] = { 0, 0, 0, FRAME_CAPS_GSO };

		sess_gso_peer(&c->c_sess, true);
		if (sess_gso_accept(&c->c_sess) == 0)
			sess_send_control(&c->c_sess, FRAME_CAPS, caps, sizeof(caps));
	}
	c->c_state = CLI_UP;
	c->c_since = time(NULL);
	metrics_hist_observe(&c->c_hs_time, (double)(uv_hrtime() - c->c_hs_ns) / 1e9);
	c->c_backoff = 1000;
	c->c_tries = 0;
	/* the server's timers, where it says them */
	sess_set_timers(&c->c_sess, m.mc_keepalive ? m.mc_keepalive : (unsigned)cf->c_keepalive,
	    m.mc_dead_peer_timeout ? m.mc_dead_peer_timeout : (unsigned)cf->c_dead_peer_timeout);
	sess_set_sink(&c->c_sess, cli_to_tun, c);
	uv_poll_start(&c->c_tun_poll, UV_READABLE, on_cli_tun);
	log_info("connected to %s, %s %s/%d, tls", c->c_endpoint, c->c_tun_name,
	    inet_ntop(AF_INET, &m.mc_addr, a, sizeof(a)), m.mc_plen);
	notify_status("connected to %s, %s %s/%d", c->c_endpoint, c->c_tun_name, a, m.mc_plen);
	cli_event(c, EVT_CONNECTED, NULL, NULL);
	cli_hook(c, HOOK_CONNECT, NULL);
	for (i = 0; i < c->c_rt.rs_nkept; i++)
		log_info("route %s/%d exists already: left as it is, not through the tunnel",
		    inet_ntop(AF_INET, &c->c_rt.rs_kept[i].addr, a, sizeof(a)),
		    c->c_rt.rs_kept[i].plen);
	if (c->c_rt.rs_host_kept)
		log_info("host route to %s exists already: left as it is",
		    inet_ntop(AF_INET, &c->c_rt.rs_host_addr, a, sizeof(a)));
	cli_dns(c, &m);
}

/* "+198.19.5.0/24 -10.0.0.0/8" appended to b at *off. */
static void cli_routes_str(char *b, size_t len, size_t *off, char sign,
    const struct cidr *r, int n)
{
	char a[INET_ADDRSTRLEN];
	int i, k;

	for (i = 0; i < n && *off < len; i++) {
		k = snprintf(b + *off, len - *off, "%s%c%s/%d", *off ? " " : "", sign,
		    inet_ntop(AF_INET, &r[i].addr, a, sizeof(a)), r[i].plen);
		*off += k > 0 ? (size_t)k : 0;
	}
}

/* The effective timers of CONFIG m: the server's where it says them. */
static void cli_timers_of(const struct cli *c, const struct msg_config *m,
    unsigned *ka, unsigned *dead)
{
	*ka = m->mc_keepalive ? m->mc_keepalive : (unsigned)c->c_conf->c_keepalive;
	*dead = m->mc_dead_peer_timeout ? m->mc_dead_peer_timeout :
	    (unsigned)c->c_conf->c_dead_peer_timeout;
}

/* The tunnel network of CONFIG m. */
static struct cidr cli_tunnet(const struct msg_config *m)
{
	struct cidr net = { .plen = m->mc_plen };

	net.addr.s_addr = m->mc_addr.s_addr & htonl(m->mc_plen ? 0xffffffffu << (32 - m->mc_plen) : 0);
	return net;
}

/* The new routes of an update in place; on failure rt_apply has taken all
 * of ours away, so the session starts over and sets them up again. */
static int cli_update_routes(struct cli *c, const struct msg_config *m)
{
	struct cidr net = cli_tunnet(m);
	char a[INET_ADDRSTRLEN];
	int i, err;

	if ((err = rt_apply(c->c_nl, &c->c_rt, c->c_tun_ifindex, m->mc_routes,
	    m->mc_nroutes, &net, c->c_peer.ss_family == AF_INET ?
	    &((struct sockaddr_in *)&c->c_peer)->sin_addr : NULL)) < 0) {
		errno = -err;
		log_warn("tun %s: cannot apply the new routes; reconnecting", c->c_tun_name);
		sess_close(&c->c_sess);
		return err;
	}
	for (i = 0; i < c->c_rt.rs_nkept; i++)
		log_info("route %s/%d exists already: left as it is, not through the tunnel",
		    inet_ntop(AF_INET, &c->c_rt.rs_kept[i].addr, a, sizeof(a)),
		    c->c_rt.rs_kept[i].plen);
	return 0;
}

/* IPv6 address, prefix or gateway not as before: like a new IPv4 address. */
static bool cli_addr6_changed(const struct msg_config *old, const struct msg_config *m)
{
	return old->mc_has6 != m->mc_has6 || (m->mc_has6 &&
	    (memcmp(&old->mc_addr6, &m->mc_addr6, 16) != 0 || old->mc_plen6 != m->mc_plen6 ||
	     memcmp(&old->mc_gateway6, &m->mc_gateway6, 16) != 0));
}

/* The IPv6 routes of an update in place, "+PREFIX -PREFIX" appended to
 * what; on failure the session starts over, as for IPv4. */
static int cli_update6(struct cli *c, const struct msg_config *m, char *what,
    size_t len, size_t *off)
{
	const struct msg_config *old = &c->c_cfg;
	struct cidr6 add[CONF_MAX_ROUTES], del[CONF_MAX_ROUTES];
	char a[INET6_ADDRSTRLEN];
	int nadd, ndel, i, k, err;

	if (!m->mc_has6)
		return 0;
	rt6_diff(old->mc_routes6, old->mc_nroutes6, m->mc_routes6, m->mc_nroutes6,
	    add, &nadd, del, &ndel);
	if (nadd == 0 && ndel == 0)
		return 0;
	if ((err = cli_tun_setup6(c, m)) < 0) {
		errno = -err;
		log_warn("tun %s: cannot apply the new IPv6 routes; reconnecting", c->c_tun_name);
		sess_close(&c->c_sess);
		return err;
	}
	for (i = 0; i < nadd + ndel && *off < len; i++) {
		const struct cidr6 *r = i < nadd ? &add[i] : &del[i - nadd];

		k = snprintf(what + *off, len - *off, "%s%c%s/%d", *off ? " " : "",
		    i < nadd ? '+' : '-', inet_ntop(AF_INET6, &r->addr, a, sizeof(a)), r->plen);
		*off += k > 0 ? (size_t)k : 0;
	}
	return 0;
}

/* A CONFIG while UP: the server's reload changed what it pushes. Same
 * address, gateway and MTU: routes and timers change in place, the session
 * and the TUN device stay. A new address (or MTU in use) cannot be taken
 * under a running session: it ends, and the reconnect 1 s later sets the
 * tunnel up with the new values, as at first. */
static void cli_update(struct cli *c, const struct frame *f)
{
	const struct msg_config *old = &c->c_cfg;
	struct cidr add[CONF_MAX_ROUTES], del[CONF_MAX_ROUTES];
	struct msg_config m;
	unsigned ka0, dead0, ka, dead;
	char what[2048] = "", a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
	size_t off = 0;
	int nadd, ndel;

	if (msg_config_decode(f->f_payload, f->f_len, &m) < 0) {
		log_warnx("server %s sent a malformed configuration", c->c_endpoint);
		sess_close(&c->c_sess);
		return;
	}
	if (m.mc_addr.s_addr != old->mc_addr.s_addr || m.mc_plen != old->mc_plen ||
	    m.mc_gateway.s_addr != old->mc_gateway.s_addr || cli_addr6_changed(old, &m) ||
	    (c->c_conf->c_tun_mtu == 0 && m.mc_mtu != old->mc_mtu)) {
		log_info("server %s changed the tunnel address or MTU (%s/%d mtu %u -> "
		    "%s/%d mtu %u): reconnecting", c->c_endpoint,
		    inet_ntop(AF_INET, &old->mc_addr, a, sizeof(a)), old->mc_plen,
		    old->mc_mtu, inet_ntop(AF_INET, &m.mc_addr, b, sizeof(b)),
		    m.mc_plen, m.mc_mtu);
		sess_close(&c->c_sess);
		return;
	}
	rt_diff(old->mc_routes, old->mc_nroutes, m.mc_routes, m.mc_nroutes,
	    add, &nadd, del, &ndel);
	if ((nadd > 0 || ndel > 0) && cli_update_routes(c, &m) < 0)
		return;
	cli_routes_str(what, sizeof(what), &off, '+', add, nadd);
	cli_routes_str(what, sizeof(what), &off, '-', del, ndel);
	if (cli_update6(c, &m, what, sizeof(what), &off) < 0)
		return;
	cli_timers_of(c, old, &ka0, &dead0);
	cli_timers_of(c, &m, &ka, &dead);
	if (ka != ka0 || dead != dead0) {
		sess_set_timers(&c->c_sess, ka, dead);
		if (off < sizeof(what))
			snprintf(what + off, sizeof(what) - off, "%skeepalive %u -> %u s, "
			    "dead_peer_timeout %u -> %u s", off ? "; " : "", ka0, ka, dead0, dead);
	}
	cli_dns(c, &m);		/* nothing runs when the resolvers did not change */
	cli_block6(c, &m);
	c->c_cfg = m;
	log_info("server %s updated the configuration: %s", c->c_endpoint,
	    what[0] ? what : "unchanged");
}

/* A route changed: while the tunnel routes are in place (connected, or
 * reconnecting under them) the host route to the server follows the
 * underlay. */
static void on_cli_routes(uv_poll_t *h, int status, int events)
{
	struct cli *c = h->data;
	char a[INET_ADDRSTRLEN], a6[INET6_ADDRSTRLEN];
	int err;

	(void)events;
	if (status < 0 || nl_watch_drain(c->c_rtw_fd, c->c_tun_ifindex) <= 0 ||
	    !c->c_cfg_applied)
		return;
	inet_ntop(AF_INET, &c->c_rt.rs_host_addr, a, sizeof(a));
	if ((err = rt_refresh(c->c_nl, &c->c_rt)) > 0)
		log_info("host route to %s follows the underlay again", a);
	else if (err < 0 && err != -ENETUNREACH) {
		errno = -err;
		log_warn("host route to %s", a);
	}
	if (cli_server6(c) == NULL)
		return;
	inet_ntop(AF_INET6, cli_server6(c), a6, sizeof(a6));
	if ((err = rt6_refresh(c->c_nl, &c->c_rt6)) > 0 ||
	    (err = rt_block6_refresh(c->c_nl, &c->c_block6)) > 0)
		log_info("host route to %s follows the underlay again", a6);
	else if (err < 0 && err != -ENETUNREACH) {
		errno = -err;
		log_warn("host route to %s", a6);
	}
}

/* ---- the DTLS channel's UDP socket ---- */

static void on_cli_udp(uv_poll_t *h, int status, int events)
{
	struct cli *c = h->data;
	const struct sockaddr_storage *from;
	const uint8_t *dg;
	size_t len;
	int b, i, n;

	(void)events;
	if (status < 0)
		return;
	for (b = 0; b < 1 && c->c_udp_fd >= 0 && (n = udp_rx_recv(c->c_udp_rx, c->c_udp_fd)) > 0; b++)
		for (i = 0; i < n; i++) {
			dg = udp_rx_dgram(c->c_udp_rx, i, &len, &from);
			/* connected: whatever arrives is from the server */
			sess_datagram_in(&c->c_sess, c->c_udp_tx, dg, len, &c->c_peer,
			    c->c_pkt, sizeof(c->c_pkt));
		}
}

static void cli_dtls_close(struct cli *c)
{
	sess_dtls_stop(&c->c_sess);
	if (c->c_udp_fd < 0)
		return;
	uv_close((uv_handle_t *)&c->c_udp_poll, NULL);
	udp_tx_free(c->c_udp_tx);
	c->c_udp_tx = NULL;
	close(c->c_udp_fd);
	c->c_udp_fd = -1;
}

/* The server offers a DTLS channel: open a UDP socket to the same address
 * and port as the TLS session and let the session say ClientHello. */
static void cli_dtls_offer(struct cli *c, const struct frame *f)
{
	int fd;

	if (c->c_conf->c_transport == CONF_TRANSPORT_TLS || f->f_len != DTLS_ID_LEN ||
	    c->c_udp_fd >= 0)
		return;
	if ((fd = udp_connect(&c->c_peer)) < 0) {
		errno = -fd;
		log_warn("DTLS: udp socket to %s", c->c_peer_str);
		return;
	}
	if (udp_tx_new(&c->c_udp_tx, fd) < 0) {
		close(fd);
		return;
	}
	c->c_udp_fd = fd;
	uv_poll_init(c->c_loop, &c->c_udp_poll, fd);
	c->c_udp_poll.data = c;
	uv_poll_start(&c->c_udp_poll, UV_READABLE, on_cli_udp);
	if (sess_dtls_start(&c->c_sess, c->c_dtls, f->f_payload, c->c_cfg.mc_mtu,
	    c->c_udp_tx, &c->c_peer) < 0)
		cli_dtls_close(c);
}

/* ---- the session's callbacks ---- */

static int cli_on_control(void *arg, const struct frame *f)
{
	struct cli *c = arg;
	char text[LOG_SAFE_BUF];

	switch (f->f_type) {
	case FRAME_CONFIG:
		if (c->c_state == CLI_CONFIG)
			cli_up(c, f);
		else if (c->c_state == CLI_UP)
			cli_update(c, f);	/* the server reloaded */
		return c->c_state == CLI_UP && !sess_closing(&c->c_sess) ? 0 : -1;
	case FRAME_DENY:		/* the server's words: escaped, bounded */
		log_warnx("denied by server %s: %s", c->c_endpoint,
		    log_safe(text, sizeof(text), f->f_payload, f->f_len));
		cli_event(c, EVT_DENIED, text, NULL);
		c->c_denied = true;
		sess_close(&c->c_sess);
		return -1;
	case FRAME_DTLS:
		if (c->c_state == CLI_UP)
			cli_dtls_offer(c, f);
		return 0;
	case FRAME_BYE:
		log_info("server %s closed the session: %s", c->c_endpoint,
		    log_safe(text, sizeof(text), f->f_payload, f->f_len));
		snprintf(c->c_why, sizeof(c->c_why), "closed by server: %s", text);
		sess_close(&c->c_sess);
		return -1;
	default:
		return 0;
	}
}

static int cli_on_established(void *arg)
{
	struct cli *c = arg;

	c->c_state = CLI_CONFIG;
	c->c_deadline = uv_now(c->c_loop) + CLI_CONNECT_MS;
	log_debug("TLS session with %s established", c->c_endpoint);
	return 0;
}

static void cli_on_event(void *arg, enum sess_event ev, const char *why)
{
	struct cli *c = arg;

	/* SESS_ROAMED: the client's socket is connected, nothing moves */
	if (ev == SESS_ON_DTLS || ev == SESS_ON_TLS) {
		log_info("transport %s", ev == SESS_ON_DTLS ? "dtls" : "tls (DTLS silent)");
		cli_event(c, EVT_TRANSPORT, ev == SESS_ON_DTLS ? "DTLS up" : "DTLS silent",
		    NULL);
	} else if (ev == SESS_DTLS_DOWN)
		log_info("DTLS channel to %s closed: %s", c->c_endpoint, why);
	else if (ev == SESS_DTLS_UP)
		log_debug("DTLS handshake with %s done", c->c_endpoint);
}

static void cli_on_failed(void *arg, const char *reason, int err)
{
	struct cli *c = arg;
	SSL *ssl = sess_ssl(&c->c_sess);

	if (c->c_state == CLI_UP && (err == -EADDRNOTAVAIL || err == -ENETUNREACH ||
	    err == -EHOSTUNREACH))
		c->c_moved = true;	/* the underlay is gone: no 1 s pause */
	if (tls_pin_mismatch(ssl))
		log_warnx("server %s refused: its fingerprint %s is not server_fingerprint %s",
		    c->c_endpoint, tls_seen_fp(ssl), c->c_conf->c_server_fp);
	else if (c->c_state == CLI_UP) {
		log_warnx("lost server %s: %s", c->c_endpoint, reason);
		snprintf(c->c_why, sizeof(c->c_why), "%s", reason);
	} else
		log_warnx("cannot connect to %s: %s", c->c_endpoint, reason);
	sess_close(&c->c_sess);
}

static void cli_on_closed(void *arg)
{
	struct cli *c = arg;
	bool was_up = c->c_state == CLI_UP;
	struct sess_counts n;

	c->c_sess_open = false;
	cli_dtls_close(c);
	sess_counts(&c->c_sess, &n);
	sess_counts_add(&c->c_gone, &n);
	if (was_up) {
		cli_event(c, EVT_DISCONNECTED, c->c_state == CLI_STOPPED ?
		    "client stopping" : c->c_why[0] ? c->c_why : "session ended", &n);
		cli_hook(c, HOOK_DISCONNECT, &n);
	}
	c->c_why[0] = '\0';
	if (c->c_tun_fd >= 0 && uv_is_active((uv_handle_t *)&c->c_tun_poll))
		uv_poll_stop(&c->c_tun_poll);
	if (c->c_state == CLI_STOPPED)
		return;
	if (!was_up)
		(*(c->c_denied ? &c->c_hs_denied : &c->c_hs_failed))++;
	if (c->c_denied)
		c->c_tries = c->c_conf->c_nservers;	/* straight to backoff */
	c->c_denied = false;
	cli_schedule(c, !was_up);
}

static const struct sess_cb cli_sess_cb = {
	.established = cli_on_established,
	.control = cli_on_control,
	.event = cli_on_event,
	.failed = cli_on_failed,
	.closed = cli_on_closed,
};

/* The race is over: a TCP connection to addr (the TLS session and later
 * the DTLS channel use that address), or none. */
static void on_cli_connected(void *arg, int fd, const struct sockaddr_storage *addr, int err)
{
	struct cli *c = arg;
	const struct conf *cf = c->c_conf;
	socklen_t sl = sizeof(c->c_local);
	int one = 1;
	SSL *ssl;

	c->c_race = NULL;
	if (fd < 0) {
		log_warnx("cannot connect to %s: %s", c->c_endpoint, strerror(-err));
		cli_schedule(c, true);
		return;
	}
	c->c_peer = *addr;
	conf_sockaddr_str(&c->c_peer, c->c_peer_str, sizeof(c->c_peer_str));
	memset(&c->c_local, 0, sizeof(c->c_local));
	getsockname(fd, (struct sockaddr *)&c->c_local, &sl);
	log_debug("TCP connection to %s at %s", c->c_endpoint, c->c_peer_str);
	if ((ssl = tls_ssl_new(c->c_tls, fd)) == NULL) {
		log_warnx("connect %s: no TLS session", c->c_endpoint);
		close(fd);
		cli_schedule(c, true);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->c_state = CLI_HANDSHAKE;
	c->c_deadline = uv_now(c->c_loop) + CLI_CONNECT_MS;
	if (sess_init(&c->c_sess, c->c_loop, &c->c_batch, fd, ssl, true,
	    cf->c_transport != CONF_TRANSPORT_DTLS, &cli_sess_cb, c) < 0) {
		cli_schedule(c, true);
		return;
	}
	c->c_sess_open = true;
}

/* Every address of the name, raced as RFC 8305 says (client/path.c): a
 * dead IPv6 address costs 250 ms, not a TCP timeout. */
static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	struct cli *c = req->data;
	struct sockaddr_storage addrs[PATH_MAX_ADDRS];
	int n, err;

	if (c->c_state != CLI_RESOLVE) {
		uv_freeaddrinfo(res);
		return;
	}
	if (status < 0) {
		log_warnx("cannot resolve %s: %s", cur_server(c)->host, uv_strerror(status));
		cli_schedule(c, true);
		return;
	}
	n = path_order(res, addrs, PATH_MAX_ADDRS);
	uv_freeaddrinfo(res);
	cli_block6_allow(c, addrs, n);	/* the race tries them all */
	c->c_hs_ns = uv_hrtime();
	if ((err = path_race_start(&c->c_race, c->c_loop, addrs, n, CLI_CONNECT_MS,
	    on_cli_connected, c)) < 0) {
		log_warnx("connect %s: %s", c->c_endpoint, strerror(-err));
		cli_schedule(c, true);
	}
}

/* Addresses or routes changed: if the address the session uses is gone,
 * or nothing routes to the server any more (the underlay moved, IPv4 to
 * IPv6 or back), start over now, on whatever the host has, rather than
 * after dead_peer_timeout. The TUN device and its routes stay. */
static void on_cli_path(uv_poll_t *h, int status, int events)
{
	struct cli *c = h->data;
	char a[80];
	int err;

	(void)events;
	if (status < 0 || path_watch_drain(c->c_pw_fd) == 0 || !c->c_sess_open ||
	    sess_closing(&c->c_sess) || c->c_state != CLI_UP ||
	    (err = path_check(&c->c_local, &c->c_peer)) == 0)
		return;
	log_info("underlay: %s to %s: %s; reconnecting now",
	    conf_sockaddr_str(&c->c_local, a, sizeof(a)), c->c_peer_str, strerror(-err));
	snprintf(c->c_why, sizeof(c->c_why), "underlay moved");
	c->c_moved = true;
	sess_close(&c->c_sess);
}

static void cli_connect(struct cli *c)
{
	const struct conf_server_addr *sa = cur_server(c);
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };

	snprintf(c->c_endpoint, sizeof(c->c_endpoint), "%s:%s", sa->host, sa->port);
	c->c_state = CLI_RESOLVE;
	c->c_gai.data = c;
	if (uv_getaddrinfo(c->c_loop, &c->c_gai, on_resolved, sa->host, sa->port, &hints) < 0)
		cli_schedule(c, true);
}

/* TUN -> the session, which queues on DTLS while it answers, else on TLS
 * (unless transport = "dtls" forbids that); a super-packet comes here as
 * its segments. */
static void cli_to_server(void *arg, const uint8_t *pkt, size_t len,
    const struct vnet_super *sp)
{
	struct cli *c = arg;

	if (c->c_state != CLI_UP)
		c->c_drop_down++;
	else if (sp != NULL)
		sess_send_super(&c->c_sess, sp);	/* drops counted there */
	else
		sess_send(&c->c_sess, pkt, len);
}

static void on_cli_tun(uv_poll_t *h, int status, int events)
{
	struct cli *c = h->data;

	(void)events;
	if (status < 0)
		return;
	tun_dev_read(c->c_tun, CLI_TUN_BUDGET, true, cli_to_server, c);
}

static void on_cli_flush(void *arg)
{
	struct cli *c = arg;

	if (c->c_tun != NULL)
		tun_dev_flush(c->c_tun);
	if (c->c_udp_tx != NULL)
		udp_tx_flush(c->c_udp_tx);
	sess_batch_flush(&c->c_batch);
}

static void on_cli_tick(uv_timer_t *h)
{
	struct cli *c = h->data;
	uint64_t now = uv_now(c->c_loop);

	if (!c->c_sess_open || sess_closing(&c->c_sess))
		return;
	if (c->c_state != CLI_UP && now >= c->c_deadline) {
		log_warnx("cannot connect to %s: timed out", c->c_endpoint);
		sess_close(&c->c_sess);
	} else if (c->c_state == CLI_UP && sess_tick(&c->c_sess, now) == SESS_DEAD) {
		log_warnx("lost server %s: silent for %llus", c->c_endpoint,
		    (unsigned long long)(c->c_sess.se_dead_ms / 1000));
		sess_close(&c->c_sess);
	}
}

static bool cli_on_dtls_now(const struct cli *c)
{
	return c->c_state == CLI_UP && sess_on_dtls(&c->c_sess);
}

static const char *cli_state_name(enum cli_state st)
{
	static const char *names[] = { "waiting", "resolving", "connecting",
		"authenticating", "connected", "stopped" };

	return names[st];
}

/* What every session so far has moved. */
static void cli_counts(const struct cli *c, struct sess_counts *out)
{
	*out = c->c_gone;
	if (c->c_sess_open) {
		struct sess_counts n;

		sess_counts(&c->c_sess, &n);
		sess_counts_add(out, &n);
	}
}

#define U(x) ((unsigned long long)(x))

static void cli_status(struct cli *c, struct ctl_req *rq)
{
	struct ctl_buf b = { 0 };
	struct sess_counts t;
	const char *tr = c->c_state != CLI_UP ? NULL : cli_on_dtls_now(c) ? "dtls" : "tls";
	char a[INET_ADDRSTRLEN] = "", n[INET_ADDRSTRLEN + 4] = "", net_s[INET_ADDRSTRLEN];
	char a6[INET6_ADDRSTRLEN] = "";
	char ups[32];
	long up = (long)(time(NULL) - c->c_started);
	bool on = c->c_state == CLI_UP;

	cli_counts(c, &t);
	if (c->c_cfg_applied) {
		struct in_addr net = { c->c_cfg.mc_addr.s_addr &
		    htonl(0xffffffffu << (32 - c->c_cfg.mc_plen)) };

		inet_ntop(AF_INET, &c->c_cfg.mc_addr, a, sizeof(a));
		inet_ntop(AF_INET, &net, net_s, sizeof(net_s));
		snprintf(n, sizeof(n), "%s/%u", net_s, c->c_cfg.mc_plen & 63u);
	}
	if (c->c_cfg_applied && cli_cfg_gives_ipv6(c, &c->c_cfg))
		inet_ntop(AF_INET6, &c->c_cfg.mc_addr6, a6, sizeof(a6));
	if (rq->rq_json) {
		const struct tun_stats *ts = c->c_tun != NULL ? tun_dev_stats(c->c_tun) : NULL;
		struct ctl_offload o = { .co_tun = c->c_offload != NULL ? c->c_offload : "off",
		    .co_reads = ts ? ts->ts_reads : 0, .co_super_reads = ts ? ts->ts_supers : 0,
		    .co_writes = ts ? ts->ts_writes : 0, .co_gso_sent = t.sc_gso_tx,
		    .co_gso_received = t.sc_gso_rx, .co_gso_bad = t.sc_gso_bad };

		ctl_reply_json(rq, json_pack("{s:s,s:s,s:I,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:o,"
		    "s:i,s:o,s:o,s:o,s:o,s:o,s:b}",
		    "mode", "client", "version", VPND_VERSION, "uptime", (json_int_t)up,
		    "state", cli_state_name(c->c_state),
		    "server", ctl_json_string(c->c_endpoint),
		    "tun", ctl_json_string_or_null(c->c_tun_name),
		    "address", ctl_json_string_or_null(a),
		    "network", ctl_json_string_or_null(n),
		    "address6", ctl_json_string_or_null(a6),
		    "dtls_bad", ctl_json_uint(t.sc_dtls_bad),
		    "transport", ctl_json_string_or_null(tr),
		    "peers_connected", on ? 1 : 0,
		    "bytes_in", ctl_json_uint(t.sc_rx_bytes),
		    "bytes_out", ctl_json_uint(t.sc_tx_bytes),
		    "packets_in", ctl_json_uint(t.sc_rx_pkts),
		    "packets_out", ctl_json_uint(t.sc_tx_pkts),
		    "offload", ctl_offload_json(&o),
		    "ipv6_block", c->c_block6.rb_up));
		return;
	}
	ctl_dur_str(up, ups, sizeof(ups));
	ctl_printf(&b, "mode: client\nversion: %s\nuptime: %s\nstate: %s\n"
	    "server: %s\ntun: %s\naddress: %s\nnetwork: %s\naddress6: %s\ntransport: %s\n"
	    "ipv6 block: %s\nbytes: %llu in, %llu out\npackets: %llu in, %llu out\n",
	    VPND_VERSION, ups, cli_state_name(c->c_state), c->c_endpoint,
	    c->c_tun_name[0] ? c->c_tun_name : "-", a[0] ? a : "-", n[0] ? n : "-",
	    a6[0] ? a6 : "-", tr ? tr : "-", c->c_block6.rb_up ? "on" : "off",
	    U(t.sc_rx_bytes), U(t.sc_tx_bytes), U(t.sc_rx_pkts), U(t.sc_tx_pkts));
	ctl_reply_buf(rq, 0, &b);
}

/* A client's only peer is its server: one row, the server's fields. */
static void cli_peers(struct cli *c, struct ctl_req *rq)
{
	struct ctl_buf b = { 0 };
	struct ctl_peers p;
	struct sess_counts t;
	time_t wall = time(NULL);

	cli_counts(c, &t);
	ctl_peers_begin(&p, rq->rq_json, rq->rq_long, wall);
	if (c->c_state == CLI_UP) {
		struct ctl_peer row = {
			.cp_name = cur_server(c)->host, .cp_fp = c->c_conf->c_server_fp,
			.cp_addr = c->c_cfg.mc_gateway, .cp_endpoint = c->c_peer_str,
			.cp_has_addr6 = cli_cfg_gives_ipv6(c, &c->c_cfg), .cp_addr6 = c->c_cfg.mc_gateway6,
			.cp_transport = cli_on_dtls_now(c) ? "dtls" : "tls",
			.cp_rx_bytes = t.sc_rx_bytes, .cp_tx_bytes = t.sc_tx_bytes,
			.cp_rx_pkts = t.sc_rx_pkts, .cp_tx_pkts = t.sc_tx_pkts,
			.cp_switches = t.sc_switches,
			.cp_since = c->c_since,
			.cp_last_seen = wall -
			    (time_t)((uv_now(c->c_loop) - c->c_sess.se_last_rx) / 1000),
			.cp_dtls_id = sess_dtls_id(&c->c_sess),
		};

		ctl_peers_row(&p, &row);
	}
	if (ctl_peers_end(&p, &b) < 0)
		b.cb_oom = true;
	ctl_reply_buf(rq, 0, &b);
}

/* The client's metrics: its one session (the server as the peer), the
 * totals, its handshakes and drops. */
static int cli_metrics(void *arg, struct ctl_buf *b)
{
	static const char *const fam[4][2] = {
		{ "vpnd_peer_receive_bytes_total", "Inner bytes received from the server." },
		{ "vpnd_peer_transmit_bytes_total", "Inner bytes sent to the server." },
		{ "vpnd_peer_receive_packets_total", "Inner packets received from the server." },
		{ "vpnd_peer_transmit_packets_total", "Inner packets sent to the server." },
	};
	static const char d[] = "vpnd_dropped_packets_total";
	struct cli *c = arg;
	const struct sess_counts *n = &c->c_sess.se_n;
	const uint64_t v[4] = { n->sc_rx_bytes, n->sc_tx_bytes, n->sc_rx_pkts, n->sc_tx_pkts };
	struct sess_counts t;
	struct metrics_traffic m;
	int i;

	cli_counts(c, &t);
	m = (struct metrics_traffic){ t.sc_rx_bytes, t.sc_tx_bytes, t.sc_rx_pkts,
	    t.sc_tx_pkts, t.sc_switches };
	metrics_common(b, "client", c->c_started, time(NULL));
	metrics_head(b, "vpnd_peers_connected", "gauge", "1 while the session is up.");
	metrics_u64(b, "vpnd_peers_connected", NULL, NULL, c->c_state == CLI_UP);
	for (i = 0; i < 4; i++) {
		metrics_head(b, fam[i][0], "counter", fam[i][1]);
		if (c->c_state == CLI_UP)
			metrics_u64(b, fam[i][0], "peer", cur_server(c)->host, v[i]);
	}
	metrics_totals(b, &m);
	metrics_handshakes(b, c->c_hs_time.mh_count, c->c_hs_denied, c->c_hs_failed,
	    &c->c_hs_time);
	metrics_head(b, d, "counter", "Packets dropped, by reason.");
	metrics_u64(b, d, "reason", "not_connected", c->c_drop_down);
	metrics_u64(b, d, "reason", "peer_queue_full", t.sc_tx_dropped);
	metrics_u64(b, d, "reason", "bad_frame", t.sc_bad_frames);
	metrics_u64(b, d, "reason", "dtls_bad", t.sc_dtls_bad);
	return b->cb_oom ? -ENOMEM : 0;
}

static void cli_ctl_handle(void *arg, struct ctl_req *rq)
{
	struct cli *c = arg;

	if (strcmp(rq->rq_argv[0], "status") == 0)
		cli_status(c, rq);
	else if (strcmp(rq->rq_argv[0], "peers") == 0)
		cli_peers(c, rq);
	else if (strcmp(rq->rq_argv[0], "metrics") == 0) {
		struct ctl_buf b = { 0 };

		cli_metrics(c, &b);
		ctl_reply_buf(rq, 0, &b);
	}
	else if (strcmp(rq->rq_argv[0], "events") == 0)
		evt_watch(rq);
	else
		ctl_replyf(rq, 2, "%s: not available on a client", rq->rq_argv[0]);
}

static void cli_stop(struct cli *c, const char *why)
{
	int i;

	if (c->c_state == CLI_STOPPED)
		return;
	log_info("client stopping: %s", why);
	notify_stopping();
	if (c->c_state == CLI_RESOLVE)
		uv_cancel((uv_req_t *)&c->c_gai);
	path_race_cancel(c->c_race);
	c->c_race = NULL;
	c->c_state = CLI_STOPPED;
	if (c->c_sess_open && sess_up(&c->c_sess) && !sess_closing(&c->c_sess))
		sess_say_and_close(&c->c_sess, FRAME_BYE, "client stopping");
	if (c->c_sess_open)
		sess_close(&c->c_sess);	/* what the BYE did not get written loses */
	uv_close((uv_handle_t *)&c->c_timer, NULL);
	uv_close((uv_handle_t *)&c->c_retry, NULL);
	sess_batch_stop(&c->c_batch);
	uv_close((uv_handle_t *)&c->c_rtw_poll, NULL);
	uv_close((uv_handle_t *)&c->c_pw_poll, NULL);
	if (c->c_tun_fd >= 0)
		uv_close((uv_handle_t *)&c->c_tun_poll, NULL);
	for (i = 0; i < 3; i++)
		uv_close((uv_handle_t *)&c->c_sig[i], NULL);
	ctl_close(c->c_ctl);
	c->c_ctl = NULL;
	http_close(c->c_http);
	c->c_http = NULL;
	evt_close();
}

/* SIGHUP reconnects (as OpenVPN restarts on it); TERM and INT stop. */
static void on_cli_signal(uv_signal_t *h, int signum)
{
	struct cli *c = h->data;

	if (signum != SIGHUP) {
		cli_stop(c, signum == SIGTERM ? "SIGTERM" : "SIGINT");
		return;
	}
	log_info("SIGHUP: reconnecting");
	if (c->c_sess_open)
		sess_close(&c->c_sess);
}

static int cli_start(struct cli *c)
{
	const struct conf *cf = c->c_conf;
	char msg[512];
	int i, err;

	if ((err = tls_ctx_client(&c->c_tls, cf->c_key, cf->c_cert, cf->c_server_fp,
	    msg, sizeof(msg))) < 0) {
		log_warnx("%s: %s", cf->c_path, msg);
		return err;
	}
	if ((err = dtls_ctx_new(&c->c_dtls, 0)) < 0 || (err = udp_rx_new(&c->c_udp_rx)) < 0) {
		log_warnx("DTLS: cannot set up: %s", strerror(-err));
		return err;
	}
	if ((err = nl_open(&c->c_nl)) < 0 || (err = nl_watch_open(RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE)) < 0) {
		errno = -err;
		log_warn("netlink");
		return err;
	}
	c->c_rtw_fd = err;
	if ((err = rt_block6_sweep(c->c_nl)) > 0)	/* a client that is gone left them */
		log_info("ipv6 block: removed %d routes left by a client that is gone", err);
	if ((err = path_watch_open()) < 0) {
		errno = -err;
		log_warn("netlink");
		return err;
	}
	c->c_pw_fd = err;
	evt_open(c->c_loop);
	if ((err = ctl_open(&c->c_ctl, c->c_loop, cf->c_control_socket, cf->c_control_gid,
	    cli_ctl_handle, c)) < 0) {
		errno = -err;
		log_warn("control socket %s", cf->c_control_socket);
		return err;
	}
	if (cf->c_has_metrics && (err = http_open(&c->c_http, c->c_loop,
	    &cf->c_metrics_listen, cli_metrics, c)) < 0) {
		errno = -err;
		log_warn("metrics_listen %s", conf_sockaddr_str(&cf->c_metrics_listen,
		    msg, sizeof(msg)));
		return err;
	}
	if (cf->c_user[0] != '\0' && (err = cli_tun_open(c)) < 0) {
		errno = -err;
		log_warn("tun %s: cannot create", cf->c_tun_name);
		return err;
	}
	/* the helper applies the DNS as root, on the device named here */
	if (cf->c_user[0] != '\0')
		dns_init(&c->c_dns_priv, c->c_tun_name, c->c_tun_ifindex, &dns_exec_ops, NULL);
	if ((err = priv_start_ext(&c->c_priv, cf, cf->c_user[0] != '\0' ? dns_helper : NULL,
	    &c->c_dns_priv)) < 0 || (err = priv_drop(cf)) < 0) {
		errno = -err;
		log_warn("cannot drop privileges to %s", cf->c_user);
		return err;
	}
	if (cf->c_user[0] != '\0')
		log_info("running as %s with CAP_NET_ADMIN only", cf->c_user);
	uv_timer_init(c->c_loop, &c->c_timer);
	uv_timer_init(c->c_loop, &c->c_retry);
	c->c_timer.data = c->c_retry.data = c;
	uv_timer_start(&c->c_timer, on_cli_tick, CLI_TICK_MS, CLI_TICK_MS);
	sess_batch_start(&c->c_batch, c->c_loop, on_cli_flush, c);
	uv_poll_init(c->c_loop, &c->c_rtw_poll, c->c_rtw_fd);
	c->c_rtw_poll.data = c;
	uv_poll_start(&c->c_rtw_poll, UV_READABLE, on_cli_routes);
	uv_poll_init(c->c_loop, &c->c_pw_poll, c->c_pw_fd);
	c->c_pw_poll.data = c;
	uv_poll_start(&c->c_pw_poll, UV_READABLE, on_cli_path);
	for (i = 0; i < 3; i++) {
		static const int sigs[3] = { SIGTERM, SIGINT, SIGHUP };

		uv_signal_init(c->c_loop, &c->c_sig[i]);
		c->c_sig[i].data = c;
		uv_signal_start(&c->c_sig[i], on_cli_signal, sigs[i]);
	}
	return 0;
}

int cli_run(uv_loop_t *loop, const struct conf *cf)
{
	struct cli *c;
	int rc = 1;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		fatal("calloc");
	c->c_loop = loop;
	c->c_conf = cf;
	c->c_tun_fd = -1;
	c->c_udp_fd = -1;
	c->c_rtw_fd = -1;
	c->c_pw_fd = -1;
	c->c_backoff = 1000;
	c->c_started = time(NULL);
	if (cli_start(c) == 0) {
		log_info("client %s starting, server %s:%s", VPND_VERSION,
		    cf->c_servers[0].host, cf->c_servers[0].port);
		notify_ready();		/* started; connecting goes on */
		cli_connect(c);
		uv_run(loop, UV_RUN_DEFAULT);
		rc = 0;
	} else {
		ctl_close(c->c_ctl);
		http_close(c->c_http);
		evt_close();
		uv_run(loop, UV_RUN_DEFAULT);
	}
	cli_dns_remove(c);		/* before the device goes: resolvconf keeps records */
	if (c->c_nl != NULL) {
		cli_block6(c, NULL);
		rt_remove(c->c_nl, &c->c_rt);
		rt6_remove(c->c_nl, &c->c_rt6);
	}
	if (c->c_tun_fd >= 0)
		close(c->c_tun_fd);		/* removes the device */
	tun_dev_free(c->c_tun);
	nl_close(c->c_nl);
	if (c->c_rtw_fd >= 0)
		close(c->c_rtw_fd);
	if (c->c_pw_fd >= 0)
		close(c->c_pw_fd);
	tls_ctx_free(c->c_tls);
	dtls_ctx_free(c->c_dtls);
	udp_rx_free(c->c_udp_rx);
	priv_stop(c->c_priv);
	if (rc == 0)
		log_info("client stopped");
	free(c);
	return rc;
}
