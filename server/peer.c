/* peer.c - server sessions, control plane. A session is accepted, shakes
 * hands (10 s at most), is admitted by fingerprint or denied, gets an
 * address and a CONFIG and a DTLS offer, and is attached to the data plane
 * (fwd.c), which moves its packets from then on. What happens here happens
 * once per session or per tick, never per packet. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conf/afile.h"
#include "crypto/tls.h"
#include "daemon/event.h"
#include "daemon/hook.h"
#include "daemon/log.h"
#include "daemon/priv.h"
#include "server/lease.h"
#include "server/limit.h"
#include "server/peer.h"
#include "server/pool.h"

const char *peer_transport(const struct peer *pe)
{
	return sess_on_dtls(&pe->pe_sess) ? "dtls" : "tls";
}

const char *peer_endpoint(const struct peer *pe)
{
	return sess_on_dtls(&pe->pe_sess) && pe->pe_udp_endpoint[0] ?
	    pe->pe_udp_endpoint : pe->pe_endpoint;
}

/* Its IPv6 tunnel address, or NULL without one. */
static const char *peer_addr6_str(const struct peer *pe, char buf[INET6_ADDRSTRLEN])
{
	return pe->pe_link.fl_has6 ?
	    inet_ntop(AF_INET6, &pe->pe_link.fl_addr6, buf, INET6_ADDRSTRLEN) : NULL;
}

/* An event about pe for `vpnctl events`, where its log line is. */
static void peer_event(const struct peer *pe, enum evt_type type, const char *reason)
{
	char a[INET_ADDRSTRLEN], a6[INET6_ADDRSTRLEN];
	struct evt ev = { .ev_type = type, .ev_reason = reason, .ev_uid = EVT_NO_UID };

	if (pe->pe_name[0] != '\0')
		ev.ev_name = pe->pe_name;
	if (pe->pe_fp[0] != '\0')
		ev.ev_fp = pe->pe_fp;
	ev.ev_endpoint = pe->pe_state == PE_UP ? peer_endpoint(pe) : pe->pe_endpoint;
	if (pe->pe_state == PE_UP) {
		ev.ev_address = inet_ntop(AF_INET, &pe->pe_link.fl_addr, a, sizeof(a));
		ev.ev_address6 = peer_addr6_str(pe, a6);
		ev.ev_transport = peer_transport(pe);
	}
	evt_emit(&ev);
}

/* ---- leases in state_dir: written on the thread pool, one at a time ---- */

struct lease_job {
	uv_work_t     lj_work;
	struct peers *lj_set;
	char         *lj_buf;
	size_t        lj_len;
	int           lj_rc;
};

static void peers_save_leases(struct peers *ps);

static void lease_work(uv_work_t *w)
{
	struct lease_job *j = w->data;

	j->lj_rc = priv_leases(j->lj_set->ps_priv, j->lj_buf, j->lj_len);
}

static void lease_done(uv_work_t *w, int status)
{
	struct lease_job *j = w->data;
	struct peers *ps = j->lj_set;

	if (status == 0 && j->lj_rc < 0) {
		errno = -j->lj_rc;
		log_warn("leases: cannot write %s", ps->ps_lease_path);
	}
	free(j->lj_buf);
	free(j);
	ps->ps_lease_busy = false;
	if (ps->ps_lease_again) {
		ps->ps_lease_again = false;
		peers_save_leases(ps);
	}
}

static void peers_save_leases(struct peers *ps)
{
	struct lease_job *j;

	pool_clear_changed(ps->ps_pool);
	if (ps->ps_pool6 != NULL)
		pool6_clear_changed(ps->ps_pool6);
	if (ps->ps_lease_path[0] == '\0')
		return;
	if (ps->ps_lease_busy) {
		ps->ps_lease_again = true;
		return;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    (j->lj_buf = lease_render6(ps->ps_pool, ps->ps_pool6, &j->lj_len)) == NULL) {
		free(j);
		log_warnx("leases: out of memory");
		return;
	}
	j->lj_set = ps;
	j->lj_work.data = j;
	if (uv_queue_work(ps->ps_loop, &j->lj_work, lease_work, lease_done) < 0) {
		free(j->lj_buf);
		free(j);
		return;
	}
	ps->ps_lease_busy = true;
}

static void on_temp_removed(void *arg, const char *name)
{
	(void)arg;
	log_info("removed %s, left by an interrupted write", name);
}

static int peers_load_leases(struct peers *ps)
{
	const struct conf *c = ps->ps_conf;
	int n;

	if (c->c_state_dir[0] == '\0')
		return 0;
	if (mkdir(c->c_state_dir, 0700) < 0 && errno != EEXIST) {
		log_warn("state_dir %s", c->c_state_dir);
		return -errno;
	}
	if (snprintf(ps->ps_lease_path, sizeof(ps->ps_lease_path), "%s/%s",
	    c->c_state_dir, LEASE_FILE) >= (int)sizeof(ps->ps_lease_path))
		return -ENAMETOOLONG;
	/* A kill -9 between writing a temp file and renaming it leaves one
	 * beside the file; remove it before anything is written. */
	afile_clean(ps->ps_lease_path, on_temp_removed, NULL);
	if ((n = lease_load6(ps->ps_pool, ps->ps_pool6, ps->ps_lease_path)) < 0) {
		errno = -n;
		log_warn("leases: cannot read %s", ps->ps_lease_path);
		return n;
	}
	if (n > 0)
		log_warnx("leases: %s: %d line(s) skipped", ps->ps_lease_path, n);
	pool_clear_changed(ps->ps_pool);
	if (ps->ps_pool6 != NULL)
		pool6_clear_changed(ps->ps_pool6);
	return 0;
}

/* ---- admission ---- */

/* The handshake of pe is over, one way or the other: release its place
 * in the pending counts; a failure costs its source a token. */
static void peer_handshake_over(struct peer *pe, bool failed)
{
	struct peers *ps = pe->pe_set;

	if (!pe->pe_pending)
		return;
	pe->pe_pending = false;
	ps->ps_pending--;
	limit_done(ps->ps_limit, &pe->pe_src, failed, uv_now(ps->ps_loop));
}

static void peer_say_and_close(struct peer *pe, uint8_t type, const char *text)
{
	pe->pe_state = PE_CLOSING;
	if (sess_say_and_close(&pe->pe_sess, type, text) < 0) {
		sess_close(&pe->pe_sess);
		return;
	}
	pe->pe_deadline = uv_now(pe->pe_set->ps_loop) + PEER_LINGER_MS;
}

static void peer_deny(struct peer *pe, const char *why)
{
	struct peers *ps = pe->pe_set;

	ps->ps_stats.ps_denied++;
	peer_handshake_over(pe, true);
	if (log_budget_take(&ps->ps_log_denied, uv_now(ps->ps_loop)))
		log_info("peer %s %s denied: %s", pe->pe_fp, pe->pe_endpoint, why);
	peer_event(pe, EVT_DENIED, why);
	peer_say_and_close(pe, FRAME_DENY, why);
}

static int peer_send_config(struct peer *pe)
{
	struct peers *ps = pe->pe_set;
	const struct conf *c = ps->ps_conf;
	struct msg_config m = { .mc_version = FRAME_VERSION };
	uint8_t buf[FRAME_CTRL_MAX];
	int n;

	m.mc_addr = pe->pe_link.fl_addr;
	m.mc_plen = (uint8_t)c->c_network.plen;
	m.mc_gateway = pool_server_addr(ps->ps_pool);
	m.mc_mtu = (uint16_t)c->c_tun_mtu;
	m.mc_keepalive = (uint16_t)c->c_keepalive;
	m.mc_dead_peer_timeout = (uint16_t)c->c_dead_peer_timeout;
	memcpy(m.mc_routes, c->c_routes, sizeof(c->c_routes[0]) * (size_t)c->c_nroutes);
	m.mc_nroutes = c->c_nroutes;
	memcpy(m.mc_dns, c->c_dns, sizeof(m.mc_dns));
	m.mc_ndns = c->c_ndns;
	memcpy(m.mc_search, c->c_dns_search, sizeof(m.mc_search));
	m.mc_nsearch = c->c_ndns_search;
	if ((m.mc_has6 = pe->pe_link.fl_has6)) {
		m.mc_addr6 = pe->pe_link.fl_addr6;
		m.mc_plen6 = (uint8_t)c->c_network6.plen;
		m.mc_gateway6 = pool6_server_addr(ps->ps_pool6);
		memcpy(m.mc_routes6, c->c_routes6, sizeof(c->c_routes6[0]) * (size_t)c->c_nroutes6);
		m.mc_nroutes6 = c->c_nroutes6;
	}
	/* super-packets whole over TLS, once the client says it takes them too */
	m.mc_gso = sess_gso_accept(&pe->pe_sess) == 0;
	if ((n = msg_config_encode(&m, buf, sizeof(buf))) < 0)
		return n;
	return sess_send_control(&pe->pe_sess, FRAME_CONFIG, buf, (size_t)n);
}

/* Offer the client a DTLS channel bound to this TLS session. */
static void peer_offer_dtls(struct peer *pe)
{
	struct peers *ps = pe->pe_set;
	uint8_t id[DTLS_ID_LEN];

	if (ps->ps_dtls != NULL && fwd_new_dtls_id(ps->ps_fwd, id) == 0)
		sess_dtls_offer(&pe->pe_sess, ps->ps_dtls, id, ps->ps_conf->c_tun_mtu);
}

/* Give pe's addresses back to the pools (it keeps them for next time). */
static void peer_release(struct peer *pe)
{
	struct peers *ps = pe->pe_set;

	pool_release(ps->ps_pool, pe->pe_fp);
	if (ps->ps_pool6 != NULL)
		pool6_release(ps->ps_pool6, pe->pe_fp);
}

/* Lease an address: the allow-list's static one, else from the pool; the
 * same for IPv6 with network6. */
static int peer_lease(struct peer *pe, const struct allow_entry *ae)
{
	struct pool *p = pe->pe_set->ps_pool;
	struct pool6 *p6 = pe->pe_set->ps_pool6;
	int err;

	pe->pe_link.fl_has6 = false;
	if (ae->ae_has_addr && (err = pool_reserve(p, ae->ae_addr, ae->ae_fp)) < 0)
		return err;
	if ((err = pool_lease(p, pe->pe_fp, &pe->pe_link.fl_addr)) < 0 || p6 == NULL)
		return err;
	if ((ae->ae_has_addr6 && (err = pool6_reserve(p6, &ae->ae_addr6, ae->ae_fp)) < 0) ||
	    (err = pool6_lease(p6, pe->pe_fp, &pe->pe_link.fl_addr6)) < 0) {
		pool_release(p, pe->pe_fp);
		return err;
	}
	pe->pe_link.fl_has6 = true;
	return 0;
}

static void peers_close_fp(struct peers *ps, const struct peer *keep)
{
	struct peer *old, *next;

	for (old = ps->ps_list; old != NULL; old = next) {
		next = old->pe_next;
		if (old != keep && old->pe_state == PE_UP && strcmp(old->pe_fp, keep->pe_fp) == 0)
			peer_close(old, "replaced by a new session", "replaced by a new session");
	}
}

/* ---- hooks: on_connect gates admission, on_disconnect is told ---- */

static void peer_hook_vars(const struct peer *pe, int event, struct hook_vars *v)
{
	memset(v, 0, sizeof(*v));
	v->hv_event = event;
	snprintf(v->hv_name, sizeof(v->hv_name), "%s", pe->pe_name);
	snprintf(v->hv_fp, sizeof(v->hv_fp), "%s", pe->pe_fp);
	inet_ntop(AF_INET, &pe->pe_link.fl_addr, v->hv_address, sizeof(v->hv_address));
	if (pe->pe_link.fl_has6)
		inet_ntop(AF_INET6, &pe->pe_link.fl_addr6, v->hv_address6, sizeof(v->hv_address6));
	snprintf(v->hv_endpoint, sizeof(v->hv_endpoint), "%s", peer_endpoint(pe));
	snprintf(v->hv_transport, sizeof(v->hv_transport), "%s", peer_transport(pe));
}

static void hook_log(const struct hook_vars *v, int rc, int status)
{
	const char *key = v->hv_event == HOOK_CONNECT ? "on_connect" : "on_disconnect";
	char st[40];

	if (rc == -ETIMEDOUT)
		log_warnx("hook %s %s: killed after %d s", key, v->hv_name,
		    HOOK_TIMEOUT_MS / 1000);
	else if (rc == -ECANCELED)
		log_info("hook %s %s: not run, the peer left while it waited", key,
		    v->hv_name);
	else if (rc < 0)
		log_warnx("hook %s %s: cannot run: %s", key, v->hv_name, strerror(-rc));
	else
		log_info("hook %s %s: %s", key, v->hv_name,
		    hook_status_str(status, st, sizeof(st)));
}

static void on_disconnect_hook_done(void *arg, const struct hook_vars *v, int rc,
    int status)
{
	(void)arg;
	hook_log(v, rc, status);
}

static void peer_hook_disconnect(struct peer *pe, const struct sess_counts *n)
{
	struct peers *ps = pe->pe_set;
	struct hook_vars v;
	int err;

	if (ps->ps_conf->c_on_disconnect[0] == '\0')
		return;
	peer_hook_vars(pe, HOOK_DISCONNECT, &v);
	v.hv_rx_bytes = n->sc_rx_bytes;
	v.hv_tx_bytes = n->sc_tx_bytes;
	if ((err = priv_hook_start(ps->ps_priv, ps->ps_loop, &v, on_disconnect_hook_done,
	    NULL, NULL)) < 0)
		hook_log(&v, err, 0);
}

static int peer_up(struct peer *pe);

/* on_connect is over; the peer may have gone meanwhile (arg NULL), or the
 * allow-list changed: it is looked up again. */
static void on_connect_hook_done(void *arg, const struct hook_vars *v, int rc,
    int status)
{
	struct peer *pe = arg;

	hook_log(v, rc, status);
	if (pe == NULL)
		return;
	pe->pe_hook = NULL;
	if (rc < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		peer_release(pe);
		peer_deny(pe, rc == -ETIMEDOUT ? "on_connect hook timed out" :
		    "on_connect hook failed");
		return;
	}
	if (allow_find_fp(&pe->pe_set->ps_allow, pe->pe_fp) == NULL) {
		peer_release(pe);
		peer_deny(pe, "not on the allow-list");
		return;
	}
	peer_up(pe);
}

static int peer_on_established(void *arg)
{
	struct peer *pe = arg;
	struct peers *ps = pe->pe_set;
	const struct allow_entry *ae;
	struct hook_vars v;
	int err;

	if (tls_peer_fp(sess_ssl(&pe->pe_sess), pe->pe_fp) < 0) {
		peer_deny(pe, "no client key");
		return 0;
	}
	if ((ae = allow_find_fp(&ps->ps_allow, pe->pe_fp)) == NULL) {
		peer_deny(pe, "not on the allow-list");
		return 0;
	}
	snprintf(pe->pe_name, sizeof(pe->pe_name), "%s", ae->ae_name);
	peers_close_fp(ps, pe);
	if ((err = peer_lease(pe, ae)) < 0) {
		peer_deny(pe, err == -ENOSPC ? "address pool exhausted" : "address in use");
		return 0;
	}
	if (ps->ps_conf->c_on_connect[0] == '\0')
		return peer_up(pe);
	/* no address, no CONFIG until the hook says yes; the hook may take
	 * HOOK_TIMEOUT_MS on top of the handshake */
	peer_hook_vars(pe, HOOK_CONNECT, &v);
	pe->pe_deadline = uv_now(ps->ps_loop) + HOOK_TIMEOUT_MS + PEER_HANDSHAKE_MS;
	if ((err = priv_hook_start(ps->ps_priv, ps->ps_loop, &v, on_connect_hook_done,
	    pe, &pe->pe_hook)) < 0) {
		hook_log(&v, err, 0);
		peer_release(pe);
		peer_deny(pe, "on_connect hook failed");
	}
	return 0;
}

static int peer_up(struct peer *pe)
{
	struct peers *ps = pe->pe_set;
	char a[INET_ADDRSTRLEN], a6[INET6_ADDRSTRLEN];
	const char *v6;

	peer_handshake_over(pe, false);
	if (pool_changed(ps->ps_pool) || (ps->ps_pool6 != NULL && pool6_changed(ps->ps_pool6)))
		peers_save_leases(ps);
	pe->pe_state = PE_UP;
	pe->pe_since = time(NULL);
	metrics_hist_observe(&ps->ps_stats.ps_hs_time,
	    (double)(uv_hrtime() - pe->pe_accepted_ns) / 1e9);
	ps->ps_up++;
	if (peer_send_config(pe) < 0) {
		peer_close(pe, "cannot send configuration", NULL);
		return -1;
	}
	peer_offer_dtls(pe);
	fwd_attach(ps->ps_fwd, &pe->pe_link);
	v6 = peer_addr6_str(pe, a6);
	log_info("peer %s %s connected, %s%s%s, %s", pe->pe_name, pe->pe_endpoint,
	    inet_ntop(AF_INET, &pe->pe_link.fl_addr, a, sizeof(a)), v6 ? " " : "",
	    v6 ? v6 : "", peer_transport(pe));
	peer_event(pe, EVT_CONNECTED, NULL);
	return 0;
}

static int peer_on_control(void *arg, const struct frame *f)
{
	struct peer *pe = arg;
	char text[LOG_SAFE_BUF], why[LOG_SAFE_BUF + 32];

	if (pe->pe_state != PE_UP)
		return 0;		/* denied or closing: ignore input */
	if (f->f_type == FRAME_CAPS) {	/* what the client takes; bits we do not know: ignored */
		sess_gso_peer(&pe->pe_sess, (f->f_payload[3] & FRAME_CAPS_GSO) != 0);
		return 0;
	}
	if (f->f_type == FRAME_BYE) {	/* the peer's words: escaped, bounded */
		snprintf(why, sizeof(why), "closed by peer: \"%s\"",
		    log_safe(text, sizeof(text), f->f_payload, f->f_len));
		peer_close(pe, why, NULL);
	} else
		peer_close(pe, "protocol error: unexpected control frame", "protocol error");
	return -1;
}

static void peer_event_transport(const struct peer *pe, bool to_dtls)
{
	struct evt ev = { .ev_type = EVT_TRANSPORT, .ev_name = pe->pe_name,
	    .ev_fp = pe->pe_fp, .ev_endpoint = peer_endpoint(pe),
	    .ev_transport = to_dtls ? "dtls" : "tls",
	    .ev_from = to_dtls ? "tls" : "dtls", .ev_to = to_dtls ? "dtls" : "tls",
	    .ev_reason = to_dtls ? "DTLS up" : "DTLS silent", .ev_uid = EVT_NO_UID };

	evt_emit(&ev);
}

static void peer_on_event(void *arg, enum sess_event ev, const char *why)
{
	struct peer *pe = arg;

	switch (ev) {
	case SESS_ON_DTLS:
	case SESS_ON_TLS:
		log_info("peer %s transport %s", pe->pe_name,
		    ev == SESS_ON_DTLS ? "dtls" : "tls (DTLS silent)");
		peer_event_transport(pe, ev == SESS_ON_DTLS);
		break;
	case SESS_DTLS_UP:
		conf_sockaddr_str(sess_dtls_peer(&pe->pe_sess), pe->pe_udp_endpoint,
		    sizeof(pe->pe_udp_endpoint));
		log_debug("peer %s DTLS handshake done", pe->pe_name);
		break;
	case SESS_DTLS_DOWN:
		log_info("peer %s DTLS channel closed: %s", pe->pe_name, why);
		break;
	case SESS_ROAMED:
		conf_sockaddr_str(sess_dtls_peer(&pe->pe_sess), pe->pe_udp_endpoint,
		    sizeof(pe->pe_udp_endpoint));
		log_info("peer %s DTLS now from %s", pe->pe_name, pe->pe_udp_endpoint);
		peer_event(pe, EVT_ROAMED, NULL);
		break;
	}
}

static void peer_on_failed(void *arg, const char *reason, int err)
{
	struct peer *pe = arg;
	struct peers *ps = pe->pe_set;

	if (pe->pe_state != PE_HANDSHAKE && (err == -EPROTO || err == -EMSGSIZE))
		ps->ps_stats.ps_gone.sc_bad_frames++;
	if (pe->pe_state == PE_HANDSHAKE) {
		ps->ps_stats.ps_failed++;
		if (log_budget_take(&ps->ps_log_failed, uv_now(ps->ps_loop)))
			log_info("peer %s TLS handshake failed: %s", pe->pe_endpoint, reason);
	}
	peer_close(pe, reason, NULL);
}

static void peer_on_closed(void *arg)
{
	struct peer *pe = arg;
	struct peers *ps = pe->pe_set;

	if (pe->pe_hook != NULL) {	/* closed without peer_close */
		priv_hook_forget(pe->pe_hook);
		peer_release(pe);
	}
	if (pe->pe_prev != NULL)
		pe->pe_prev->pe_next = pe->pe_next;
	else
		ps->ps_list = pe->pe_next;
	if (pe->pe_next != NULL)
		pe->pe_next->pe_prev = pe->pe_prev;
	free(pe);
}

static const struct sess_cb peer_sess_cb = {
	.established = peer_on_established,
	.control = peer_on_control,
	.event = peer_on_event,
	.failed = peer_on_failed,
	.closed = peer_on_closed,
};

static void peer_event_gone(const struct peer *pe, const struct sess_counts *n,
    const char *why)
{
	char a[INET_ADDRSTRLEN], a6[INET6_ADDRSTRLEN];
	struct evt ev = { .ev_type = EVT_DISCONNECTED, .ev_name = pe->pe_name,
	    .ev_fp = pe->pe_fp, .ev_endpoint = peer_endpoint(pe),
	    .ev_address = inet_ntop(AF_INET, &pe->pe_link.fl_addr, a, sizeof(a)),
	    .ev_address6 = peer_addr6_str(pe, a6),
	    .ev_transport = peer_transport(pe), .ev_reason = why,
	    .ev_uid = EVT_NO_UID, .ev_has_bytes = true,
	    .ev_rx_bytes = n->sc_rx_bytes, .ev_tx_bytes = n->sc_tx_bytes };

	evt_emit(&ev);
}

void peer_close(struct peer *pe, const char *why, const char *bye)
{
	struct peers *ps = pe->pe_set;
	struct sess_counts n;

	peer_handshake_over(pe, true);	/* no-op once admitted or denied */
	if (pe->pe_hook != NULL) {	/* gone while on_connect runs */
		priv_hook_forget(pe->pe_hook);
		pe->pe_hook = NULL;
		peer_release(pe);
	}
	if (pe->pe_state == PE_UP) {
		fwd_detach(&pe->pe_link);
		peer_release(pe);
		ps->ps_up--;
		/* counted, told and hooked while the DTLS channel is still there:
		 * its drops are in the counts, the event and hook name the
		 * transport and endpoint the session ended on */
		sess_counts(&pe->pe_sess, &n);
		sess_counts_add(&ps->ps_stats.ps_gone, &n);
		log_info("peer %s %s disconnected: %s", pe->pe_name, pe->pe_endpoint, why);
		peer_event_gone(pe, &n, why);
		peer_hook_disconnect(pe, &n);
		sess_dtls_stop(&pe->pe_sess);
		memset(&pe->pe_sess.se_n, 0, sizeof(pe->pe_sess.se_n));
		if (bye != NULL) {
			peer_say_and_close(pe, FRAME_BYE, bye);
			return;
		}
	}
	pe->pe_state = PE_CLOSING;
	sess_close(&pe->pe_sess);
}

void peers_tick(struct peers *ps, uint64_t now)
{
	struct peer *pe, *next;

	log_budget_flush(&ps->ps_log_failed, now);
	log_budget_flush(&ps->ps_log_denied, now);
	for (pe = ps->ps_list; pe != NULL; pe = next) {
		next = pe->pe_next;
		switch (pe->pe_state) {
		case PE_HANDSHAKE:
			if (now >= pe->pe_deadline) {
				ps->ps_stats.ps_timed_out++;
				log_debug("peer %s handshake timed out", pe->pe_endpoint);
				peer_close(pe, "handshake timeout", NULL);
			}
			break;
		case PE_CLOSING:
			if (now >= pe->pe_deadline)
				sess_close(&pe->pe_sess);
			break;
		case PE_UP:
			if (sess_tick(&pe->pe_sess, now) == SESS_DEAD)
				peer_close(pe, "no packet within dead_peer_timeout", "timeout");
			break;
		}
	}
}

void peer_accept(struct peers *ps, int fd, const struct sockaddr_storage *ss)
{
	const struct conf *c = ps->ps_conf;
	uint64_t now = uv_now(ps->ps_loop);
	struct peer *pe;
	SSL *ssl;

	switch (limit_admit(ps->ps_limit, ss, now)) {
	case LIMIT_OK:
		break;
	case LIMIT_THROTTLED:		/* its address or network: over a limit */
		ps->ps_stats.ps_throttled++;
		close(fd);
		return;
	case LIMIT_BUSY:		/* the server: pending cap, handshake rate */
		ps->ps_stats.ps_busy++;
		close(fd);
		return;
	}
	if ((pe = calloc(1, sizeof(*pe))) == NULL ||
	    (ssl = tls_ssl_new(ps->ps_tls, fd)) == NULL) {
		limit_done(ps->ps_limit, ss, false, now);
		free(pe);
		close(fd);
		return;
	}
	pe->pe_set = ps;
	pe->pe_state = PE_HANDSHAKE;
	pe->pe_src = *ss;
	pe->pe_link.fl_sess = &pe->pe_sess;
	conf_sockaddr_str(ss, pe->pe_endpoint, sizeof(pe->pe_endpoint));
	pe->pe_deadline = now + PEER_HANDSHAKE_MS;
	pe->pe_accepted_ns = uv_hrtime();
	if (sess_init(&pe->pe_sess, ps->ps_loop, fwd_batch(ps->ps_fwd), fd, ssl,
	    false, true, &peer_sess_cb, pe) < 0) {
		limit_done(ps->ps_limit, ss, false, now);
		free(pe);
		return;
	}
	sess_set_timers(&pe->pe_sess, (unsigned)c->c_keepalive,
	    (unsigned)c->c_dead_peer_timeout);
	pe->pe_pending = true;
	ps->ps_pending++;
	pe->pe_next = ps->ps_list;
	if (ps->ps_list != NULL)
		ps->ps_list->pe_prev = pe;
	ps->ps_list = pe;
	ps->ps_stats.ps_accepted++;
}

int peers_reconfigure(struct peers *ps, bool push)
{
	const struct conf *c = ps->ps_conf;
	struct peer *pe, *next;
	int n = 0;

	for (pe = ps->ps_list; pe != NULL; pe = next) {
		next = pe->pe_next;
		if (pe->pe_state == PE_CLOSING)
			continue;
		sess_set_timers(&pe->pe_sess, (unsigned)c->c_keepalive,
		    (unsigned)c->c_dead_peer_timeout);
		if (!push || pe->pe_state != PE_UP)
			continue;	/* a handshake still to finish gets the new one */
		if (peer_send_config(pe) < 0)
			peer_close(pe, "cannot send the new configuration", NULL);
		else
			n++;
	}
	return n;
}

struct peer *peers_find(struct peers *ps, const char *name)
{
	struct peer *pe;

	for (pe = ps->ps_list; pe != NULL; pe = pe->pe_next)
		if (pe->pe_state == PE_UP && strcmp(pe->pe_name, name) == 0)
			return pe;
	return NULL;
}

/* Static addresses are the allow-list's: reserve them for their owners. */
static void peers_reserve_static(struct peers *ps)
{
	const struct allow_entry *e;
	size_t i;

	pool_clear_reserved(ps->ps_pool);
	if (ps->ps_pool6 != NULL)
		pool6_clear_reserved(ps->ps_pool6);
	for (i = 0; i < ps->ps_allow.al_n; i++) {
		e = &ps->ps_allow.al_e[i];
		if (e->ae_has_addr && pool_reserve(ps->ps_pool, e->ae_addr, e->ae_fp) < 0)
			log_warnx("allow-list: %s: static address in use by another peer",
			    e->ae_name);
		if (ps->ps_pool6 != NULL && e->ae_has_addr6 &&
		    pool6_reserve(ps->ps_pool6, &e->ae_addr6, e->ae_fp) < 0)
			log_warnx("allow-list: %s: static address6 in use by another peer",
			    e->ae_name);
	}
}

int peers_set_allow(struct peers *ps, struct allow_list *al, const char *why)
{
	const struct allow_entry *ae;
	struct peer *pe, *next;
	int n = 0;

	allow_free(&ps->ps_allow);
	ps->ps_allow = *al;		/* takes over the entries */
	memset(al, 0, sizeof(*al));
	peers_reserve_static(ps);
	for (pe = ps->ps_list; pe != NULL; pe = next) {
		next = pe->pe_next;
		if (pe->pe_state != PE_UP)
			continue;
		ae = allow_find_fp(&ps->ps_allow, pe->pe_fp);
		if (ae == NULL) {
			peer_event(pe, EVT_REVOKED, why);
			peer_close(pe, why, "removed from the allow-list");
			n++;
		} else if ((ae->ae_has_addr && ae->ae_addr.s_addr != pe->pe_link.fl_addr.s_addr) ||
		    (ae->ae_has_addr6 && pe->pe_link.fl_has6 &&
		     memcmp(&ae->ae_addr6, &pe->pe_link.fl_addr6, 16) != 0)) {
			peer_close(pe, "static address changed", "address changed");
			n++;
		} else
			snprintf(pe->pe_name, sizeof(pe->pe_name), "%s", ae->ae_name);
	}
	return n;
}

void peers_close_all(struct peers *ps, const char *why)
{
	struct peer *pe, *next;

	for (pe = ps->ps_list; pe != NULL; pe = next) {
		next = pe->pe_next;
		peer_close(pe, why, why);
	}
}

bool peers_gone(struct peers *ps, bool force)
{
	struct peer *pe;

	if (force)
		for (pe = ps->ps_list; pe != NULL; pe = pe->pe_next)
			sess_close(&pe->pe_sess);
	return ps->ps_list == NULL && !ps->ps_lease_busy;
}

void peers_stats(const struct peers *ps, struct peer_stats *out)
{
	const struct peer *pe;
	struct sess_counts n;

	*out = ps->ps_stats;
	for (pe = ps->ps_list; pe != NULL; pe = pe->pe_next)
		if (pe->pe_state == PE_UP) {
			sess_counts(&pe->pe_sess, &n);
			sess_counts_add(&out->ps_gone, &n);
		}
}

int peers_init(struct peers *ps)
{
	log_budget_init(&ps->ps_log_failed, "failed handshakes", LOG_LVL_INFO,
	    PEER_LOG_BURST, PEER_LOG_BURST * 1000);
	log_budget_init(&ps->ps_log_denied, "denied peers", LOG_LVL_INFO,
	    PEER_LOG_BURST, PEER_LOG_BURST * 1000);
	peers_reserve_static(ps);
	return peers_load_leases(ps);
}

void peers_free(struct peers *ps)
{
	log_budget_flush(&ps->ps_log_failed, UINT64_MAX);
	log_budget_flush(&ps->ps_log_denied, UINT64_MAX);
	allow_free(&ps->ps_allow);
}
