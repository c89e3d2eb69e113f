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
#include <unistd.h>

#include "conf/afile.h"
#include "crypto/dtls.h"
#include "crypto/tls.h"
#include "daemon/ctl.h"
#include "daemon/log.h"
#include "server/lease.h"
#include "server/limit.h"
#include "server/nat.h"
#include "daemon/priv.h"
#include "server/pool.h"
#include "server/srv.h"
#include "tunnel/nl.h"
#include "tunnel/tun.h"
#include "tunnel/udp.h"

#define SRV_UDP_BATCHES 4	/* recvmmsg calls per wakeup */

#define SRV_STOP_MS 1000	/* time given to BYEs at shutdown */

static void on_tun_readable(uv_poll_t *h, int status, int events)
{
	(void)events;
	if (status == 0)
		srv_tun_read(h->data);
}

static void on_flush_check(uv_check_t *h)
{
	srv_flush_dirty(h->data);
}

/* Out of descriptors or memory, the connection stays queued and the
 * level-triggered poll would fire again at once: stop accepting until
 * on_tick sees the pause over. Logged within a budget either way. */
static void srv_accept_failed(struct srv *s, int err)
{
	uint64_t now = uv_now(s->s_loop), held;
	bool out = err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;
	int i;

	if (out) {
		for (i = 0; i < s->s_nlisten; i++)
			uv_poll_stop(&s->s_lpoll[i]);
		limit_pause(s->s_limit, now);
	}
	if (limit_log_due(s->s_limit, now, &held)) {
		errno = err;
		log_warn("accept%s (%llu more not logged)", out ? ", paused" : "",
		    (unsigned long long)held);
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
		peer_accept(s, fd, &ss);
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

static void on_udp_readable(uv_poll_t *h, int status, int events)
{
	struct srv *s = h->data;
	int sock = (int)(h - s->s_udp_poll), fd = s->s_udp_fd[sock];
	const struct sockaddr_storage *from;
	const uint8_t *dg;
	size_t len;
	int b, i, n;

	(void)events;
	if (status < 0)
		return;
	for (b = 0; b < SRV_UDP_BATCHES; b++) {
		if ((n = udp_rx_recv(s->s_udp_rx, fd)) == 0)
			break;
		for (i = 0; i < n; i++) {
			dg = udp_rx_dgram(s->s_udp_rx, i, &len, &from);
			srv_udp_in(s, sock, dg, len, from);
		}
	}
}

static void srv_stop(struct srv *s, const char *why)
{
	struct peer *pe, *next;
	int i;

	if (s->s_stopping)
		return;
	s->s_stopping = true;
	log_info("server stopping: %s", why);
	for (i = 0; i < s->s_nlisten; i++)
		uv_close((uv_handle_t *)&s->s_lpoll[i], NULL);
	uv_close((uv_handle_t *)&s->s_tun_poll, NULL);
	ctl_close(s->s_ctl);
	s->s_ctl = NULL;
	for (pe = s->s_peers; pe != NULL; pe = next) {
		next = pe->pe_next;
		peer_close(pe, "server shutting down", "server shutting down");
	}
	s->s_stop_deadline = uv_now(s->s_loop) + SRV_STOP_MS;
}

/* The last step of a stop: once every session is closed (or the BYE time
 * is over), close the remaining handles so uv_run returns. */
static void srv_stop_finish(struct srv *s, uint64_t now)
{
	struct peer *pe;
	int i;

	if (s->s_peers != NULL && now < s->s_stop_deadline)
		return;
	for (pe = s->s_peers; pe != NULL; pe = pe->pe_next)
		stream_close(&pe->pe_st);
	if (s->s_peers != NULL)
		return;		/* their close callbacks are pending */
	if (s->s_jobs != NULL || s->s_lease_busy)
		return;		/* a file write is finishing */
	for (i = 0; i < s->s_nudp; i++)
		uv_close((uv_handle_t *)&s->s_udp_poll[i], NULL);
	uv_close((uv_handle_t *)&s->s_timer, NULL);
	uv_close((uv_handle_t *)&s->s_flush, NULL);
	for (i = 0; i < 3; i++)
		uv_close((uv_handle_t *)&s->s_sig[i], NULL);
}

static void on_tick(uv_timer_t *h)
{
	struct srv *s = h->data;
	uint64_t now = uv_now(s->s_loop);
	struct peer *pe, *next;

	for (pe = s->s_peers; pe != NULL; pe = next) {
		next = pe->pe_next;
		peer_tick(pe, now);
	}
	srv_accept_resume(s, now);
	if (s->s_stopping)
		srv_stop_finish(s, now);
}

static void on_signal(uv_signal_t *h, int signum)
{
	struct srv *s = h->data;

	if (signum == SIGHUP)
		srv_reload(s);
	else
		srv_stop(s, signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

static int listen_one(const struct sockaddr_storage *ss)
{
	socklen_t sl = ss->ss_family == AF_INET ? sizeof(struct sockaddr_in) :
	    sizeof(struct sockaddr_in6);
	int fd, one = 1;

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss->ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)ss, sl) < 0 || listen(fd, LIMIT_BACKLOG) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
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
	if ((err = udp_tx_new(&s->s_udp_tx[i], fd)) < 0) {
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

	if ((err = dtls_ctx_new(&s->s_dtls, 1)) < 0 ||
	    (err = udp_rx_new(&s->s_udp_rx)) < 0)
		return err;
	for (i = 0; i < c->c_nlisten; i++) {
		if ((fd = listen_one(&c->c_listen[i])) < 0) {
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

/* TUN device with the server's address on the tunnel network. */
static int srv_tun_up(struct srv *s)
{
	const struct conf *c = s->s_conf;
	int err;

	if ((s->s_tun_fd = tun_open(c->c_tun_name, s->s_tun_name)) < 0) {
		errno = -s->s_tun_fd;
		log_warn("tun %s: cannot create", c->c_tun_name);
		return s->s_tun_fd;
	}
	if ((err = nl_open(&s->s_nl)) < 0 ||
	    (err = s->s_tun_ifindex = nl_ifindex(s->s_tun_name)) < 0 ||
	    (err = nl_addr_add(s->s_nl, s->s_tun_ifindex, pool_server_addr(s->s_pool),
	    c->c_network.plen)) < 0 ||
	    (err = nl_link_up(s->s_nl, s->s_tun_ifindex, c->c_tun_mtu)) < 0) {
		errno = -err;
		log_warn("tun %s: cannot configure", s->s_tun_name);
		return err;
	}
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
	return 0;
}

static void on_temp_removed(void *arg, const char *name)
{
	(void)arg;
	log_info("removed %s, left by an interrupted write", name);
}

/* A kill -9 between writing a temp file and renaming it leaves one beside
 * the file; remove such leftovers at start, before anything is written. */
static void srv_clean_temps(const char *path)
{
	afile_clean(path, on_temp_removed, NULL);
}

/* ---- leases in state_dir: written on the thread pool, one at a time ---- */

struct lease_job {
	uv_work_t   lj_work;
	struct srv *lj_srv;
	char       *lj_buf;
	size_t      lj_len;
	int         lj_rc;
};

static void lease_work(uv_work_t *w)
{
	struct lease_job *j = w->data;

	j->lj_rc = priv_leases(j->lj_srv->s_priv, j->lj_buf, j->lj_len);
}

static void lease_done(uv_work_t *w, int status)
{
	struct lease_job *j = w->data;
	struct srv *s = j->lj_srv;

	if (status == 0 && j->lj_rc < 0) {
		errno = -j->lj_rc;
		log_warn("leases: cannot write %s", s->s_lease_path);
	}
	free(j->lj_buf);
	free(j);
	s->s_lease_busy = false;
	if (s->s_lease_again) {
		s->s_lease_again = false;
		srv_save_leases(s);
	}
}

void srv_save_leases(struct srv *s)
{
	struct lease_job *j;

	pool_clear_changed(s->s_pool);
	if (s->s_lease_path[0] == '\0')
		return;
	if (s->s_lease_busy) {
		s->s_lease_again = true;
		return;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    (j->lj_buf = lease_render(s->s_pool, &j->lj_len)) == NULL) {
		free(j);
		log_warnx("leases: out of memory");
		return;
	}
	j->lj_srv = s;
	j->lj_work.data = j;
	if (uv_queue_work(s->s_loop, &j->lj_work, lease_work, lease_done) < 0) {
		free(j->lj_buf);
		free(j);
		return;
	}
	s->s_lease_busy = true;
}

static int srv_load_leases(struct srv *s)
{
	const struct conf *c = s->s_conf;
	int n;

	if (c->c_state_dir[0] == '\0')
		return 0;
	if (mkdir(c->c_state_dir, 0700) < 0 && errno != EEXIST) {
		log_warn("state_dir %s", c->c_state_dir);
		return -errno;
	}
	if (snprintf(s->s_lease_path, sizeof(s->s_lease_path), "%s/%s",
	    c->c_state_dir, LEASE_FILE) >= (int)sizeof(s->s_lease_path))
		return -ENAMETOOLONG;
	srv_clean_temps(s->s_lease_path);
	if ((n = lease_load(s->s_pool, s->s_lease_path)) < 0) {
		errno = -n;
		log_warn("leases: cannot read %s", s->s_lease_path);
		return n;
	}
	if (n > 0)
		log_warnx("leases: %s: %d line(s) skipped", s->s_lease_path, n);
	pool_clear_changed(s->s_pool);
	return 0;
}

static int srv_load(struct srv *s)
{
	const struct conf *c = s->s_conf;
	struct conf_err ce;
	char msg[512];
	int err;

	if ((err = tls_ctx_server(&s->s_tls, c->c_key, c->c_cert, msg, sizeof(msg))) < 0) {
		log_warnx("%s: %s", c->c_path, msg);
		return err;
	}
	srv_clean_temps(c->c_allow_list);
	if ((err = allow_load(&s->s_allow, c->c_allow_list, &c->c_network, &ce)) < 0) {
		log_warnx("%s", conf_err_str(&ce, msg, sizeof(msg)));
		return err;
	}
	if ((err = pool_new(&s->s_pool, &c->c_network)) < 0 ||
	    (err = limit_new(&s->s_limit, limit_raise_nofile())) < 0)
		return err;
	s->s_net_base = ntohl(c->c_network.addr.s_addr);
	s->s_by_addr_n = 1u << (32 - c->c_network.plen);
	if ((s->s_by_addr = calloc(s->s_by_addr_n, sizeof(*s->s_by_addr))) == NULL)
		return -ENOMEM;
	s->s_rules.fr_net = c->c_network;
	s->s_rules.fr_server = pool_server_addr(s->s_pool);
	s->s_rules.fr_c2c = c->c_client_to_client;
	srv_apply_allow(s, "");
	return srv_load_leases(s);
}

static int srv_start(struct srv *s)
{
	const struct conf *c = s->s_conf;
	static const int sigs[3] = { SIGTERM, SIGINT, SIGHUP };
	int i, err;

	if ((err = srv_load(s)) < 0 || (err = srv_tun_up(s)) < 0 ||
	    (err = srv_nat_up(s)) < 0 || (err = srv_listen(s)) < 0)
		return err;
	if ((err = ctl_open(&s->s_ctl, s->s_loop, c->c_control_socket,
	    srv_ctl_handle, s)) < 0) {
		errno = -err;
		log_warn("control socket %s", c->c_control_socket);
		return err;
	}
	if (c->c_user[0] != '\0' && chown(c->c_control_socket, c->c_uid, c->c_gid) < 0)
		log_warn("control socket %s: chown", c->c_control_socket);
	if ((err = priv_start(&s->s_priv, c)) < 0 || (err = priv_drop(c)) < 0) {
		errno = -err;
		log_warn("cannot drop privileges to %s", c->c_user);
		return err;
	}
	if (c->c_user[0] != '\0')
		log_info("running as %s (uid %u, gid %u) with CAP_NET_ADMIN only; "
		    "file writes through a privileged helper", c->c_user,
		    (unsigned)c->c_uid, (unsigned)c->c_gid);
	uv_timer_init(s->s_loop, &s->s_timer);
	s->s_timer.data = s;
	uv_timer_start(&s->s_timer, on_tick, SRV_TICK_MS, SRV_TICK_MS);
	uv_check_init(s->s_loop, &s->s_flush);
	s->s_flush.data = s;
	uv_check_start(&s->s_flush, on_flush_check);
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
		uv_run(s->s_loop, UV_RUN_DEFAULT);
	}
	for (i = 0; i < s->s_nlisten; i++)
		close(s->s_lfd[i]);
	for (i = 0; i < s->s_nudp; i++) {
		close(s->s_udp_fd[i]);
		udp_tx_free(s->s_udp_tx[i]);
	}
	udp_rx_free(s->s_udp_rx);
	dtls_ctx_free(s->s_dtls);
	if (s->s_nat_up && nat_teardown() < 0)
		log_warnx("nftables: cannot remove table ip %s", NAT_TABLE);
	if (s->s_nat_up)
		ipfwd_restore(s->s_ipfwd_was);
	if (s->s_tun_fd > 0)
		close(s->s_tun_fd);	/* removes the device */
	nl_close(s->s_nl);
	priv_stop(s->s_priv);		/* unlinks the control socket */
	pool_free(s->s_pool);
	limit_free(s->s_limit);
	allow_free(&s->s_allow);
	tls_ctx_free(s->s_tls);
	free(s->s_by_addr);
}

int srv_run(const struct conf *c)
{
	struct srv *s;
	uv_loop_t loop;
	char a[80], b[INET_ADDRSTRLEN];
	int rc = 1;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		fatal("calloc");
	signal(SIGPIPE, SIG_IGN);
	uv_loop_init(&loop);
	s->s_loop = &loop;
	s->s_conf = c;
	s->s_tun_fd = -1;
	s->s_started = time(NULL);
	if (srv_start(s) == 0) {
		log_info("server %s listening on %s, %s %s/%d, %zu peers allowed",
		    VPND_VERSION, conf_sockaddr_str(&c->c_listen[0], a, sizeof(a)),
		    s->s_tun_name, inet_ntop(AF_INET, &s->s_rules.fr_server, b, sizeof(b)),
		    c->c_network.plen, s->s_allow.al_n);
		uv_run(&loop, UV_RUN_DEFAULT);
		rc = 0;
	}
	srv_cleanup(s);
	if (uv_loop_close(&loop) != 0)
		log_warnx("event loop: handles left open at exit");
	if (rc == 0)
		log_info("server stopped");
	free(s);
	return rc;
}
