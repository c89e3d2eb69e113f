/* srv.c - server set-up and tear-down around one libuv loop: TUN device,
 * forwarding and NAT, TLS listeners, control socket, signals and the timer
 * that ends stale handshakes and silent peers. Whatever set-up did is undone
 * on exit, and on a failed start, so nothing is left half-configured. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <stdint.h>
#include <unistd.h>

#include "conf/afile.h"
#include "conf/allow.h"
#include "crypto/dtls.h"
#include "crypto/tls.h"
#include "daemon/ctl.h"
#include "daemon/http.h"
#include "daemon/log.h"
#include "daemon/notify.h"
#include "daemon/event.h"
#include "daemon/priv.h"
#include "server/admin.h"
#include "server/fwd.h"
#include "server/limit.h"
#include "server/nat.h"
#include "server/peer.h"
#include "server/pool.h"
#include "server/scrape.h"
#include "server/srv.h"
#include "tunnel/nl.h"
#include "tunnel/sock.h"
#include "tunnel/tun.h"
#include "tunnel/udp.h"

#define SRV_TICK_MS     250
#define SRV_STOP_MS     1000	/* time given to BYEs at shutdown */

struct srv {
	uv_loop_t         *s_loop;
	const struct conf *s_conf;		/* = &s_cur */
	struct conf        s_cur;		/* the running configuration: a
						 * reload changes its live keys */
	struct tls_ctx    *s_tls;
	struct dtls_ctx   *s_dtls;
	struct nl         *s_nl;
	struct pool       *s_pool;
	struct limit      *s_limit;
	struct ctl        *s_ctl;
	struct http       *s_http;		/* metrics_listen, or NULL */
	struct priv       *s_priv;		/* file writes, maybe in a helper */
	struct fwd        *s_fwd;		/* the data plane */
	struct peers       s_peers;		/* the sessions */
	struct admin       s_admin;		/* what vpnctl asks */

	int                s_tun_fd;
	int                s_tun_ifindex;
	char               s_tun_name[IFNAMSIZ];
	uv_poll_t          s_tun_poll;
	int                s_lfd[CONF_MAX_LISTEN];
	uv_poll_t          s_lpoll[CONF_MAX_LISTEN];
	int                s_nlisten;
	int                s_udp_fd[CONF_MAX_LISTEN];
	uv_poll_t          s_udp_poll[CONF_MAX_LISTEN];
	int                s_nudp;
	uv_timer_t         s_timer;
	uv_signal_t        s_sig[3];
	struct log_budget  s_log_accept;	/* accept errors: one line per 10 s */
	unsigned           s_status_up;		/* peer count last sent as STATUS= */

	time_t             s_started;
	int                s_ipfwd_was;
	bool               s_nat_up;
	int                s_ipfwd6_was;	/* with network6 */
	bool               s_nat6_up;
	struct pool6      *s_pool6;		/* NULL without network6 */
	bool               s_stopping;
	uint64_t           s_stop_deadline;
};

static void on_tun_readable(uv_poll_t *h, int status, int events)
{
	struct srv *s = h->data;

	(void)events;
	if (status == 0)
		fwd_tun_readable(s->s_fwd);
}

static void on_udp_readable(uv_poll_t *h, int status, int events)
{
	struct srv *s = h->data;

	(void)events;
	if (status == 0)
		fwd_udp_readable(s->s_fwd, (int)(h - s->s_udp_poll));
}

static void on_flush(void *arg)		/* the data plane's end of turn */
{
	struct srv *s = arg;

	fwd_flush(s->s_fwd);
}

/* Out of descriptors or memory, the connection stays queued and the
 * level-triggered poll would fire again at once: stop accepting until
 * on_tick sees the pause over. Logged within a budget either way. */
static void srv_accept_failed(struct srv *s, int err)
{
	uint64_t now = uv_now(s->s_loop);
	bool out = err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;
	int i;

	if (out) {
		for (i = 0; i < s->s_nlisten; i++)
			uv_poll_stop(&s->s_lpoll[i]);
		limit_pause(s->s_limit, now);
	}
	if (log_budget_take(&s->s_log_accept, now)) {
		errno = err;
		log_warn("accept%s", out ? ", paused" : "");
	}
}

static void srv_accept(struct srv *s, int lfd)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int i, fd, one = 1;

	for (i = 0; i < 16; i++) {	/* a budget per wakeup, like libuv's */
		sl = sizeof(ss);
		fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				srv_accept_failed(s, errno);
			return;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		sock_unmap(&ss);	/* an IPv4 peer of "[::]" is IPv4 from here on */
		peer_accept(&s->s_peers, fd, &ss);
	}
}

static void on_listen_readable(uv_poll_t *h, int status, int events)
{
	struct srv *s = h->data;

	(void)events;
	if (status == 0)
		srv_accept(s, s->s_lfd[h - s->s_lpoll]);
}

static void srv_accept_resume(struct srv *s, uint64_t now)
{
	int i;

	if (!s->s_stopping && limit_resume_due(s->s_limit, now))
		for (i = 0; i < s->s_nlisten; i++)
			uv_poll_start(&s->s_lpoll[i], UV_READABLE, on_listen_readable);
}

static void srv_stop(struct srv *s, const char *why)
{
	int i;

	if (s->s_stopping)
		return;
	s->s_stopping = true;
	s->s_admin.ad_stopping = true;
	log_info("server stopping: %s", why);
	notify_stopping();
	for (i = 0; i < s->s_nlisten; i++)
		uv_close((uv_handle_t *)&s->s_lpoll[i], NULL);
	uv_close((uv_handle_t *)&s->s_tun_poll, NULL);
	ctl_close(s->s_ctl);
	s->s_ctl = NULL;
	http_close(s->s_http);
	s->s_http = NULL;
	peers_close_all(&s->s_peers, "server shutting down");
	evt_close();			/* after the peers' last events */
	s->s_stop_deadline = uv_now(s->s_loop) + SRV_STOP_MS;
}

/* The last step of a stop: once every session is closed (or the BYE time
 * is over) and no file write runs, close the remaining handles so uv_run
 * returns. */
static void srv_stop_finish(struct srv *s, uint64_t now)
{
	int i;

	if (!peers_gone(&s->s_peers, now >= s->s_stop_deadline) || admin_busy(&s->s_admin))
		return;
	for (i = 0; i < s->s_nudp; i++)
		uv_close((uv_handle_t *)&s->s_udp_poll[i], NULL);
	uv_close((uv_handle_t *)&s->s_timer, NULL);
	sess_batch_stop(fwd_batch(s->s_fwd));
	for (i = 0; i < 3; i++)
		uv_close((uv_handle_t *)&s->s_sig[i], NULL);
}

static void on_tick(uv_timer_t *h)
{
	struct srv *s = h->data;
	uint64_t now = uv_now(s->s_loop);

	peers_tick(&s->s_peers, now);
	srv_accept_resume(s, now);
	log_budget_flush(&s->s_log_accept, now);
	if (s->s_peers.ps_up != s->s_status_up) {	/* at most once a tick */
		s->s_status_up = s->s_peers.ps_up;
		notify_status("%u peers connected", s->s_status_up);
	}
	if (s->s_stopping)
		srv_stop_finish(s, now);
}

static void on_signal(uv_signal_t *h, int signum)
{
	struct srv *s = h->data;

	if (signum == SIGHUP)
		admin_reload(&s->s_admin);
	else
		srv_stop(s, signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

/* UDP on the same address and port, for DTLS. */
static int srv_listen_udp(struct srv *s, const struct sockaddr_storage *ss)
{
	int fd, err, i = s->s_nudp;
	char a[80];

	if ((fd = udp_bind(ss)) < 0) {
		errno = -fd;
		log_warn("listen udp %s", conf_sockaddr_str(ss, a, sizeof(a)));
		return fd;
	}
	if ((err = fwd_add_udp(s->s_fwd, fd)) < 0) {
		close(fd);
		return err;
	}
	s->s_udp_fd[i] = fd;
	uv_poll_init(s->s_loop, &s->s_udp_poll[i], fd);
	s->s_udp_poll[i].data = s;
	uv_poll_start(&s->s_udp_poll[i], UV_READABLE, on_udp_readable);
	s->s_nudp++;
	return 0;
}

static int srv_listen(struct srv *s)
{
	const struct conf *c = s->s_conf;
	char a[80];
	int i, fd, err;

	if ((err = dtls_ctx_new(&s->s_dtls, 1)) < 0)
		return err;
	s->s_peers.ps_dtls = s->s_dtls;
	for (i = 0; i < c->c_nlisten; i++) {
		if ((fd = sock_listen(&c->c_listen[i], LIMIT_BACKLOG,
		    sock_v6only(&c->c_listen[i]))) < 0) {
			errno = -fd;
			log_warn("listen %s", conf_sockaddr_str(&c->c_listen[i], a, sizeof(a)));
			return fd;
		}
		s->s_lfd[s->s_nlisten] = fd;
		uv_poll_init(s->s_loop, &s->s_lpoll[s->s_nlisten], fd);
		s->s_lpoll[s->s_nlisten].data = s;
		uv_poll_start(&s->s_lpoll[s->s_nlisten], UV_READABLE, on_listen_readable);
		s->s_nlisten++;
		if ((err = srv_listen_udp(s, &c->c_listen[i])) < 0)
			return err;
	}
	return 0;
}

/* TUN device with the server's address on the tunnel network, and the data
 * plane behind it. */
static int srv_tun_up(struct srv *s)
{
	const struct conf *c = s->s_conf;
	struct filt_rules r = { .fr_net = c->c_network,
	    .fr_server = pool_server_addr(s->s_pool), .fr_c2c = c->c_client_to_client };
	unsigned offloads;
	bool vnet;
	int err;

	if (s->s_pool6 != NULL) {	/* IPv6 inside the tunnel */
		r.fr_has6 = true;
		r.fr_net6 = c->c_network6.addr;
		r.fr_net6_plen = c->c_network6.plen;
		r.fr_server6 = pool6_server_addr(s->s_pool6);
	}
	if ((s->s_tun_fd = tun_open_vnet(c->c_tun_name, s->s_tun_name, &vnet, &offloads)) < 0) {
		errno = -s->s_tun_fd;
		log_warn("tun %s: cannot create", c->c_tun_name);
		return s->s_tun_fd;
	}
	if ((err = nl_open(&s->s_nl)) < 0 ||
	    (err = s->s_tun_ifindex = nl_ifindex(s->s_tun_name)) < 0 ||
	    (err = nl_addr_add(s->s_nl, s->s_tun_ifindex, r.fr_server,
	    c->c_network.plen)) < 0 ||
	    (err = nl_link_up(s->s_nl, s->s_tun_ifindex, c->c_tun_mtu)) < 0) {
		errno = -err;
		log_warn("tun %s: cannot configure", s->s_tun_name);
		return err;
	}
	/* after link up: a down device has no IPv6 to take the address */
	if (r.fr_has6 && (err = nl_addr6_add(s->s_nl, s->s_tun_ifindex, &r.fr_server6,
	    c->c_network6.plen)) < 0) {
		errno = -err;
		log_warn("tun %s: cannot add its network6 address", s->s_tun_name);
		return err;
	}
	if ((err = fwd_new(&s->s_fwd, &tun_fd_ops, (void *)(intptr_t)s->s_tun_fd, vnet,
	    offloads, &r)) < 0)
		return err;
	log_info("tun %s: offloads %s", s->s_tun_name, tun_offload_str(vnet, offloads));
	s->s_peers.ps_fwd = s->s_fwd;
	s->s_admin.ad_fwd = s->s_fwd;
	uv_poll_init(s->s_loop, &s->s_tun_poll, s->s_tun_fd);
	s->s_tun_poll.data = s;
	uv_poll_start(&s->s_tun_poll, UV_READABLE, on_tun_readable);
	return 0;
}

static int srv_nat_up(struct srv *s)
{
	const struct conf *c = s->s_conf;
	char err[256];
	int rc;

	if ((rc = ipfwd_enable(&s->s_ipfwd_was)) < 0) {
		errno = -rc;
		log_warn("cannot enable IPv4 forwarding");
		return rc;
	}
	if ((rc = nat_setup(&c->c_network, c->c_nat_out, s->s_tun_name, err, sizeof(err))) < 0) {
		log_warnx("nftables: cannot set up table ip %s: %s", NAT_TABLE, err);
		return rc;
	}
	s->s_nat_up = true;
	if (!c->c_has_network6)
		return 0;
	if ((rc = ipfwd6_enable(&s->s_ipfwd6_was)) < 0) {
		errno = -rc;
		log_warn("cannot enable IPv6 forwarding");
		return rc;
	}
	s->s_nat6_up = true;
	if ((rc = nat6_setup(&c->c_network6, c->c_nat_ipv6, c->c_nat_out, s->s_tun_name,
	    err, sizeof(err))) < 0) {
		log_warnx("nftables: cannot set up table ip6 %s: %s", NAT_TABLE, err);
		return rc;
	}
	return 0;
}

static void on_temp_removed(void *arg, const char *name)
{
	(void)arg;
	log_info("removed %s, left by an interrupted write", name);
}

/* Keys, the allow-list, the pool and the limits; the sessions' and the
 * control socket's borrowed pointers. */
static int srv_http_moved(void *arg);

static int srv_load(struct srv *s)
{
	const struct conf *c = s->s_conf;
	struct peers *ps = &s->s_peers;
	struct conf_err ce;
	char msg[512];
	int err;

	if ((err = tls_ctx_server(&s->s_tls, c->c_key, c->c_cert, msg, sizeof(msg))) < 0) {
		log_warnx("%s: %s", c->c_path, msg);
		return err;
	}
	/* A kill -9 between writing a temp file and renaming it leaves one
	 * beside the file; remove it before anything is written. */
	afile_clean(c->c_allow_list, on_temp_removed, NULL);
	if ((err = allow_load6(&ps->ps_allow, c->c_allow_list, &c->c_network,
	    c->c_has_network6 ? &c->c_network6 : NULL, &ce)) < 0) {
		log_warnx("%s", conf_err_str(&ce, msg, sizeof(msg)));
		return err;
	}
	if ((err = pool_new(&s->s_pool, &c->c_network)) < 0 ||
	    (c->c_has_network6 && (err = pool6_new(&s->s_pool6, &c->c_network6)) < 0) ||
	    (err = limit_new(&s->s_limit, limit_raise_nofile())) < 0)
		return err;
	ps->ps_pool6 = s->s_pool6;
	ps->ps_loop = s->s_loop;
	ps->ps_conf = c;
	ps->ps_tls = s->s_tls;
	ps->ps_pool = s->s_pool;
	ps->ps_limit = s->s_limit;
	s->s_admin.ad_loop = s->s_loop;
	s->s_admin.ad_conf = &s->s_cur;
	s->s_admin.ad_metrics_moved = srv_http_moved;
	s->s_admin.ad_metrics_arg = s;
	s->s_admin.ad_peers = ps;
	s->s_admin.ad_tun_name = s->s_tun_name;
	s->s_admin.ad_started = s->s_started;
	return peers_init(ps);
}

static int srv_metrics(void *arg, struct ctl_buf *b)
{
	struct srv *s = arg;

	return scrape_server(b, &s->s_peers, s->s_fwd, s->s_started);
}

/* metrics_listen: bound now, as root, like the other listeners. */
static int srv_http_open(struct srv *s)
{
	const struct conf *c = s->s_conf;
	char a[80];
	int err;

	if (!c->c_has_metrics)
		return 0;
	if ((err = http_open(&s->s_http, s->s_loop, &c->c_metrics_listen,
	    srv_metrics, s)) < 0) {
		errno = -err;
		log_warn("metrics_listen %s", conf_sockaddr_str(&c->c_metrics_listen,
		    a, sizeof(a)));
	}
	return err;
}

/* A reload moved metrics_listen (admin.c): the new endpoint first, then
 * the old one goes; if the new one cannot listen, the old one stays. */
static int srv_http_moved(void *arg)
{
	struct srv *s = arg;
	struct http *old = s->s_http;
	int err;

	s->s_http = NULL;
	if ((err = srv_http_open(s)) < 0) {
		s->s_http = old;
		return err;
	}
	http_close(old);
	return 0;
}

static int srv_start(struct srv *s)
{
	const struct conf *c = s->s_conf;
	static const int sigs[3] = { SIGTERM, SIGINT, SIGHUP };
	int i, err;

	if ((err = srv_load(s)) < 0 || (err = srv_tun_up(s)) < 0 ||
	    (err = srv_nat_up(s)) < 0 || (err = srv_listen(s)) < 0 ||
	    (err = srv_http_open(s)) < 0)
		return err;
	evt_open(s->s_loop);
	if ((err = ctl_open(&s->s_ctl, s->s_loop, c->c_control_socket,
	    c->c_control_gid, admin_handle, &s->s_admin)) < 0) {
		errno = -err;
		log_warn("control socket %s", c->c_control_socket);
		return err;
	}
	if ((err = priv_start(&s->s_priv, c)) < 0 || (err = priv_drop(c)) < 0) {
		errno = -err;
		log_warn("cannot drop privileges to %s", c->c_user);
		return err;
	}
	s->s_peers.ps_priv = s->s_priv;
	s->s_admin.ad_priv = s->s_priv;
	if (c->c_user[0] != '\0')
		log_info("running as %s (uid %u, gid %u) with CAP_NET_ADMIN only; "
		    "file writes through a privileged helper", c->c_user,
		    (unsigned)c->c_uid, (unsigned)c->c_gid);
	uv_timer_init(s->s_loop, &s->s_timer);
	s->s_timer.data = s;
	uv_timer_start(&s->s_timer, on_tick, SRV_TICK_MS, SRV_TICK_MS);
	sess_batch_start(fwd_batch(s->s_fwd), s->s_loop, on_flush, s);
	for (i = 0; i < 3; i++) {
		uv_signal_init(s->s_loop, &s->s_sig[i]);
		s->s_sig[i].data = s;
		uv_signal_start(&s->s_sig[i], on_signal, sigs[i]);
	}
	return 0;
}

/* Undo whatever srv_start got to, in reverse. Handles still open are
 * closed first and the loop run until their callbacks are done. */
static void srv_cleanup(struct srv *s)
{
	int i;

	if (!s->s_stopping) {	/* failed start: close what was opened */
		for (i = 0; i < s->s_nlisten; i++)
			uv_close((uv_handle_t *)&s->s_lpoll[i], NULL);
		for (i = 0; i < s->s_nudp; i++)
			uv_close((uv_handle_t *)&s->s_udp_poll[i], NULL);
		if (uv_is_active((uv_handle_t *)&s->s_tun_poll))
			uv_close((uv_handle_t *)&s->s_tun_poll, NULL);
		ctl_close(s->s_ctl);
		http_close(s->s_http);
		evt_close();
		uv_run(s->s_loop, UV_RUN_DEFAULT);
	}
	for (i = 0; i < s->s_nlisten; i++)
		close(s->s_lfd[i]);
	fwd_free(s->s_fwd);
	for (i = 0; i < s->s_nudp; i++)
		close(s->s_udp_fd[i]);
	dtls_ctx_free(s->s_dtls);
	if (s->s_nat_up && nat_teardown() < 0)
		log_warnx("nftables: cannot remove table ip %s", NAT_TABLE);
	if (s->s_nat_up)
		ipfwd_restore(s->s_ipfwd_was);
	if (s->s_nat6_up)
		ipfwd6_restore(s->s_ipfwd6_was);
	if (s->s_tun_fd > 0)
		close(s->s_tun_fd);	/* removes the device */
	nl_close(s->s_nl);
	priv_stop(s->s_priv);		/* unlinks the control socket */
	pool_free(s->s_pool);
	pool6_free(s->s_pool6);
	limit_free(s->s_limit);
	peers_free(&s->s_peers);
	tls_ctx_free(s->s_tls);
}

int srv_run(uv_loop_t *loop, const struct conf *c)
{
	struct srv *s;
	char a[80], b[INET_ADDRSTRLEN];
	struct in_addr gw;
	int rc = 1;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		fatal("calloc");
	s->s_loop = loop;
	s->s_cur = *c;
	s->s_conf = c = &s->s_cur;
	s->s_tun_fd = -1;
	s->s_started = time(NULL);
	log_budget_init(&s->s_log_accept, "accept errors", LOG_LVL_WARN, 1, 10000);
	if (srv_start(s) == 0) {
		gw = pool_server_addr(s->s_pool);
		log_info("server %s listening on %s, %s %s/%d, %zu peers allowed",
		    VPND_VERSION, conf_sockaddr_str(&c->c_listen[0], a, sizeof(a)),
		    s->s_tun_name, inet_ntop(AF_INET, &gw, b, sizeof(b)),
		    c->c_network.plen, s->s_peers.ps_allow.al_n);
		notify_status("%u peers connected", s->s_status_up);
		notify_ready();		/* listeners, TUN and NAT are up */
		uv_run(loop, UV_RUN_DEFAULT);
		rc = 0;
	}
	srv_cleanup(s);
	if (rc == 0)
		log_info("server stopped");
	free(s);
	return rc;
}
