/* admin.c - what the server answers on its control socket: status, peers,
 * the allow-list and its edits, kick, reload. Edits of the allow-list file
 * run on libuv's thread pool (read the file, change it, write it atomically)
 * one at a time in arrival order; the result is applied on the loop, so a
 * removed peer is cut off as soon as the file is safely on disk.
 *
 * A reload is such a job too: on the pool, the configuration file is read
 * again (by the daemon itself, as whichever user it runs as), the
 * allow-list through the privileged side, and a changed nat.out_interface
 * is installed (one nftables transaction: the old table stays if it
 * fails). Only when all of that worked are the live keys taken into the
 * running configuration, on the loop (conf/reload.h says which are live);
 * otherwise nothing changes and the reply says why. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/allow.h"
#include "conf/conf.h"
#include "conf/reload.h"
#include "daemon/ctl.h"
#include "daemon/event.h"
#include "daemon/log.h"
#include "daemon/notify.h"
#include "daemon/priv.h"
#include "server/admin.h"
#include "server/fwd.h"
#include "server/nat.h"
#include "server/peer.h"
#include "server/scrape.h"

enum job_op { JOB_RELOAD = PRIV_RELOAD, JOB_ADD = PRIV_ADD, JOB_REMOVE = PRIV_REMOVE };

struct admin_addrs {
	bool               aa_has4, aa_has6;
	struct in_addr     aa_4;
	struct in6_addr    aa_6;
};

struct admin_job {
	uv_work_t          j_work;
	struct admin_job  *j_next;
	struct admin      *j_ad;
	struct ctl_req    *j_rq;		/* NULL for SIGHUP */
	enum job_op        j_op;
	char               j_name[ALLOW_NAME_MAX];
	char               j_fp[CONF_FP_LEN];
	struct admin_addrs j_addrs;		/* --address */
	long long          j_uid;		/* who asked; EVT_NO_UID: SIGHUP */
	/* filled on the thread pool */
	struct allow_list  j_list;
	struct conf_err    j_err;
	int                j_rc;
	/* a reload's: the file as it reads now, and how it differs */
	struct conf       *j_conf;
	struct reload_diff j_diff;
	int                j_hooks_rc;		/* priv_hooks_reload */
	bool               j_unread;		/* the daemon's user may not read it */
	struct conf_err    j_unread_err;
};

static void job_start(struct admin *ad);

static const char *ip_str(struct in_addr a, char buf[INET_ADDRSTRLEN])
{
	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

/* Thread pool: the file is the truth; edits start from what it says now.
 * The privileged side (a helper process when vpnd runs as a user) reads,
 * edits and rewrites it. */
static void job_work(uv_work_t *w);

/* Thread pool: a reload. The running configuration is read here without a
 * lock: only a reload writes it (on the loop, in job_done), and reloads
 * run one at a time. */
static void reload_work(struct admin_job *j)
{
	const struct conf *cur = j->j_ad->ad_conf;
	struct priv_allow_req rq = { .pa_op = PRIV_RELOAD };
	const char *file;
	char msg[256];
	int rc;

	if ((j->j_conf = malloc(sizeof(*j->j_conf))) == NULL) {
		j->j_rc = conf_err_set(&j->j_err, "", 0, ENOMEM, "out of memory");
		return;
	}
	rc = conf_reread(j->j_conf, cur->c_path, &j->j_err);
	if (rc == -EACCES && j->j_err.line == 0 && cur->c_user[0] != '\0') {
		/* dropped to user: the file is root's alone; the allow-list
		 * (read by the helper) is still reloaded, as before */
		j->j_unread = true;
		j->j_unread_err = j->j_err;
	} else if (rc < 0) {
		j->j_rc = rc;
		return;
	} else {
		reload_diff(cur, j->j_conf, &j->j_diff);
		if (reload_changed(&j->j_diff, RK_MODE)) {
			int line = conf_key_line(j->j_conf, "mode", &file);

			j->j_rc = conf_err_set(&j->j_err, file, line, EINVAL,
			    "mode: changed to client, needs a restart");
			return;
		}
	}
	if ((j->j_rc = priv_allow(j->j_ad->ad_priv, &rq, &j->j_list, &j->j_err)) < 0 ||
	    j->j_unread || !reload_changed(&j->j_diff, RK_NAT))
		return;
	/* last, as the one step with an effect: nothing else can fail now */
	if ((rc = nat_setup(&cur->c_network, j->j_conf->c_nat_out, j->j_ad->ad_tun_name,
	    msg, sizeof(msg))) < 0) {
		int line = conf_key_line(j->j_conf, "nat.out_interface", &file);

		j->j_rc = conf_err_set(&j->j_err, file, line, -rc,
		    "nat.out_interface: nftables: %s", msg);
		allow_free(&j->j_list);
	} else if (cur->c_has_network6 && (rc = nat6_setup(&cur->c_network6,
	    j->j_conf->c_nat_ipv6, j->j_conf->c_nat_out, j->j_ad->ad_tun_name,
	    msg, sizeof(msg))) < 0) {
		int line = conf_key_line(j->j_conf, "nat.ipv6", &file);

		j->j_rc = conf_err_set(&j->j_err, file, line, -rc,
		    "nat.ipv6: nftables: %s", msg);
		allow_free(&j->j_list);
	}
}

/* Pool, after reload_work: the helpers read changed hooks again. */
static void reload_hooks(struct admin_job *j)
{
	if (j->j_op != JOB_RELOAD || j->j_rc < 0 || j->j_unread ||
	    (!reload_changed(&j->j_diff, RK_ON_CONNECT) &&
	    !reload_changed(&j->j_diff, RK_ON_DISCONNECT)))
		return;
	j->j_hooks_rc = priv_hooks_reload(j->j_ad->ad_priv);
}

static void job_work(uv_work_t *w)
{
	struct admin_job *j = w->data;
	const struct admin_addrs *aa = &j->j_addrs;
	struct priv_allow_req rq = { .pa_op = (int)j->j_op, .pa_has_addr = aa->aa_has4,
	    .pa_addr = aa->aa_4, .pa_has_addr6 = aa->aa_has6, .pa_addr6 = aa->aa_6 };

	if (j->j_op == JOB_RELOAD) {
		reload_work(j);
		reload_hooks(j);
		return;
	}
	memcpy(rq.pa_name, j->j_name, sizeof(rq.pa_name));
	memcpy(rq.pa_fp, j->j_fp, sizeof(rq.pa_fp));
	j->j_rc = priv_allow(j->j_ad->ad_priv, &rq, &j->j_list, &j->j_err);
}

/* Loop: the reload worked; take the live keys that changed, say what
 * changed and what needs a restart, in the log and the reply (b). */
static void reload_apply(struct admin_job *j, struct ctl_buf *b)
{
	struct admin *ad = j->j_ad;
	const struct reload_diff *d = &j->j_diff;
	char was[1024], now[1024], names[512], msg[512];
	int k, sent;

	if (j->j_unread) {
		conf_err_str(&j->j_unread_err, msg, sizeof(msg));
		log_warnx("reload: %s as user %s: configuration not re-read, only the "
		    "allow-list", msg, ad->ad_conf->c_user);
		ctl_printf(b, "configuration not re-read: %s as user %s (make it readable "
		    "by the daemon's group); only the allow-list was reloaded\n", msg,
		    ad->ad_conf->c_user);
		return;
	}
	for (k = 0; k < RK_COUNT; k++) {
		if (!reload_changed(d, (enum reload_key)k))
			continue;
		reload_value_str(ad->ad_conf, (enum reload_key)k, was, sizeof(was));
		reload_value_str(j->j_conf, (enum reload_key)k, now, sizeof(now));
		if (reload_class_of((enum reload_key)k) == RELOAD_RESTART) {
			log_warnx("reload: %s changed, needs a restart; keeping %s",
			    reload_key_name((enum reload_key)k), was);
			ctl_printf(b, "%s changed, needs a restart; keeping %s\n",
			    reload_key_name((enum reload_key)k), was);
		} else {
			log_info("reload: %s: %s -> %s", reload_key_name((enum reload_key)k),
			    was, now);
			ctl_printf(b, "%s: %s -> %s\n", reload_key_name((enum reload_key)k),
			    was, now);
		}
	}
	if (reload_changed(d, RK_METRICS_LISTEN)) {
		struct sockaddr_storage old = ad->ad_conf->c_metrics_listen;
		bool had = ad->ad_conf->c_has_metrics;

		reload_value_str(ad->ad_conf, RK_METRICS_LISTEN, was, sizeof(was));
		ad->ad_conf->c_metrics_listen = j->j_conf->c_metrics_listen;
		ad->ad_conf->c_has_metrics = j->j_conf->c_has_metrics;
		if (ad->ad_metrics_moved != NULL &&
		    ad->ad_metrics_moved(ad->ad_metrics_arg) < 0) {
			/* the old endpoint stays, and so does its value */
			ad->ad_conf->c_metrics_listen = j->j_conf->c_metrics_listen = old;
			ad->ad_conf->c_has_metrics = j->j_conf->c_has_metrics = had;
			ctl_printf(b, "metrics_listen: cannot listen there; keeping %s\n", was);
		}
	}
	if (j->j_hooks_rc < 0) {
		errno = -j->j_hooks_rc;
		log_warn("reload: the helpers could not read the hooks again; they keep theirs");
		ctl_printf(b, "on_connect/on_disconnect: the helpers keep the hooks they had "
		    "(%s)\n", strerror(-j->j_hooks_rc));
	}
	reload_take(ad->ad_conf, j->j_conf, d);
	/* Where each live key takes effect: dns and dns_search are pushed
	 * (below) with the routes; the helpers read the hooks again on the
	 * pool, and in-process hooks read the running conf when they run;
	 * metrics_listen moved above; nat was installed on the pool. */
	if (reload_changed(d, RK_CLIENT_TO_CLIENT))
		fwd_set_c2c(ad->ad_fwd, ad->ad_conf->c_client_to_client);
	if (reload_any(d, RELOAD_PUSHED)) {
		sent = peers_reconfigure(ad->ad_peers, true);
		reload_names(d, RELOAD_PUSHED, names, sizeof(names));
		log_info("reload: %s sent to %d connected peer(s)", names, sent);
		ctl_printf(b, "sent to %d connected peer(s): %s\n", sent, names);
	}
	if (!reload_any(d, RELOAD_LIVE) && !reload_any(d, RELOAD_PUSHED) &&
	    !reload_any(d, RELOAD_RESTART))
		ctl_printf(b, "configuration unchanged\n");
}

/* Loop: a reload is over; applied (j_rc 0) or nothing changed. */
static void reload_reply(struct admin_job *j, int n)
{
	struct admin *ad = j->j_ad;
	struct ctl_buf b = { 0 };
	char msg[512];

	if (j->j_rc < 0) {
		conf_err_str(&j->j_err, msg, sizeof(msg));
		log_warnx("reload: %s; nothing changed", msg);
		if (j->j_rq != NULL)	/* a file that does not parse: 2, as vpnd -t */
			ctl_replyf(j->j_rq, j->j_rc == -EINVAL ? 2 : 1, "%s; nothing changed", msg);
		return;
	}
	log_info("allow-list: reloaded, %zu peers, %d session(s) closed",
	    ad->ad_peers->ps_allow.al_n, n);
	ctl_printf(&b, "reloaded: %zu peers allowed, %d disconnected\n",
	    ad->ad_peers->ps_allow.al_n, n);
	reload_apply(j, &b);
	if (j->j_rq != NULL)
		ctl_reply_buf(j->j_rq, 0, &b);
	else
		free(b.cb_p);
}

static void job_reply(struct admin_job *j, int n)
{
	char msg[512];

	if (j->j_rc < 0) {
		conf_err_str(&j->j_err, msg, sizeof(msg));
		ctl_replyf(j->j_rq, 1, "%s", j->j_err.line ? msg : j->j_err.msg);
		return;
	}
	if (j->j_op == JOB_ADD)
		log_info("allow-list: added %s %s", j->j_name, j->j_fp);
	else
		log_info("allow-list: removed %s, %d session(s) closed", j->j_name, n);
	ctl_reply(j->j_rq, 0, "", 0);
}

/* The audit trail: what changed, and who asked. */
static void job_event(const struct admin_job *j)
{
	char a[INET_ADDRSTRLEN], a6[INET6_ADDRSTRLEN];
	struct evt ev = { .ev_type = j->j_op == JOB_RELOAD ? EVT_RELOAD : EVT_ALLOW,
	    .ev_uid = j->j_uid };

	if (j->j_op == JOB_RELOAD) {
		ev.ev_change = j->j_rc < 0 ? "failed" : "ok";
		ev.ev_reason = j->j_rc < 0 ? j->j_err.msg : NULL;
	} else if (j->j_rc == 0) {
		ev.ev_change = j->j_op == JOB_ADD ? "add" : "remove";
		ev.ev_name = j->j_name;
		if (j->j_op == JOB_ADD) {
			ev.ev_fp = j->j_fp;
			ev.ev_address = j->j_addrs.aa_has4 ? ip_str(j->j_addrs.aa_4, a) : NULL;
			ev.ev_address6 = j->j_addrs.aa_has6 ?
			    inet_ntop(AF_INET6, &j->j_addrs.aa_6, a6, sizeof(a6)) : NULL;
		}
	} else
		return;			/* nothing changed */
	evt_emit(&ev);
}

static void job_done(uv_work_t *w, int status)
{
	struct admin_job *j = w->data;
	struct admin *ad = j->j_ad;
	int n = 0;

	if (status < 0 && j->j_rc == 0)
		j->j_rc = status;
	if (j->j_rc == 0)
		n = peers_set_allow(ad->ad_peers, &j->j_list, j->j_op == JOB_REMOVE ?
		    "removed from the allow-list" : "no longer on the allow-list");
	job_event(j);
	if (j->j_op == JOB_RELOAD) {
		reload_reply(j, n);
		notify_ready();		/* the reload is over, applied or not */
	} else
		job_reply(j, n);
	ad->ad_jobs = j->j_next;
	allow_free(&j->j_list);
	free(j->j_conf);
	free(j);
	if (ad->ad_jobs != NULL)
		job_start(ad);
}

static void job_start(struct admin *ad)
{
	struct admin_job *j = ad->ad_jobs;
	int err;

	j->j_work.data = j;
	if (j->j_op == JOB_RELOAD)
		notify_reloading();
	/* j_rc belongs to the worker once queued: never write it here after. */
	if ((err = uv_queue_work(ad->ad_loop, &j->j_work, job_work, job_done)) < 0) {
		j->j_rc = err;
		job_done(&j->j_work, err);
	}
}

static struct admin_job *job_new(struct admin *ad, struct ctl_req *rq, enum job_op op)
{
	struct admin_job *j, **tail;

	if ((j = calloc(1, sizeof(*j))) == NULL) {
		if (rq != NULL)
			ctl_replyf(rq, 1, "out of memory");
		return NULL;
	}
	j->j_ad = ad;
	j->j_rq = rq;
	j->j_op = op;
	j->j_uid = rq != NULL ? (long long)rq->rq_uid : EVT_NO_UID;
	for (tail = &ad->ad_jobs; *tail != NULL; tail = &(*tail)->j_next)
		;
	*tail = j;
	return j;
}

/* Queue a job; it starts now if none is running. */
static void job_submit(struct admin *ad, struct admin_job *j)
{
	if (ad->ad_jobs == j)
		job_start(ad);
}

int admin_reload(struct admin *ad)
{
	struct admin_job *j;

	if (ad->ad_stopping || (j = job_new(ad, NULL, JOB_RELOAD)) == NULL)
		return -ENOMEM;
	job_submit(ad, j);
	return 0;
}

bool admin_busy(const struct admin *ad)
{
	return ad->ad_jobs != NULL;
}

/* --address's value: an IPv4 address, an IPv6 address (address6, with
 * network6), or one of each separated by a comma, as `vpnctl peers` shows
 * them. Each checked as the allow-list loader checks it. 0, or -1 with the
 * reply sent. */
static int admin_allow_addrs(struct admin *ad, struct ctl_req *rq, const char *arg,
    struct admin_addrs *aa)
{
	const struct conf *c = ad->ad_conf;
	char buf[2 * INET6_ADDRSTRLEN + 2], *part, *save = NULL;
	struct conf_err ce;

	if (snprintf(buf, sizeof(buf), "%s", arg) >= (int)sizeof(buf))
		{ ctl_replyf(rq, 2, "--address: too long"); return -1; }
	for (part = strtok_r(buf, ",", &save); part != NULL; part = strtok_r(NULL, ",", &save)) {
		if (!aa->aa_has4 && inet_pton(AF_INET, part, &aa->aa_4) == 1) {
			if (allow_addr_check(&c->c_network, aa->aa_4, &ce) < 0)
				{ ctl_replyf(rq, 2, "%s", ce.msg); return -1; }
			aa->aa_has4 = true;
		} else if (!aa->aa_has6 && inet_pton(AF_INET6, part, &aa->aa_6) == 1) {
			if (!c->c_has_network6)
				{ ctl_replyf(rq, 2, "%s: an IPv6 address, and the server has no "
				    "network6", part); return -1; }
			if (allow_addr6_check(&c->c_network6, &aa->aa_6, &ce) < 0)
				{ ctl_replyf(rq, 2, "%s", ce.msg); return -1; }
			aa->aa_has6 = true;
		} else {
			ctl_replyf(rq, 2, "%s: not an IPv4 or IPv6 address (at most one of "
			    "each, separated by a comma)", part);
			return -1;
		}
	}
	if (!aa->aa_has4 && !aa->aa_has6)
		{ ctl_replyf(rq, 2, "--address: no address given"); return -1; }
	return 0;
}

static void admin_allow_add(struct admin *ad, struct ctl_req *rq)
{
	struct admin_addrs aa = { 0 };
	struct admin_job *j;
	char fp[CONF_FP_LEN];

	if (rq->rq_argc != 4 && !(rq->rq_argc == 6 && strcmp(rq->rq_argv[4], "--address") == 0))
		{ ctl_replyf(rq, 2, "usage: allow add NAME FINGERPRINT [--address IP[,IPv6]]"); return; }
	if (!fp_name_valid(rq->rq_argv[2]))
		{ ctl_replyf(rq, 2, "%s: invalid name (1-63 of A-Z a-z 0-9 . _ -)", rq->rq_argv[2]); return; }
	if (fp_normalise(rq->rq_argv[3], fp) < 0)
		{ ctl_replyf(rq, 2, "%s: not a fingerprint (sha256: and 64 hex digits)",
		    rq->rq_argv[3]); return; }
	/* the helper checks again, as the loader does */
	if (rq->rq_argc == 6 && admin_allow_addrs(ad, rq, rq->rq_argv[5], &aa) < 0)
		return;
	if ((j = job_new(ad, rq, JOB_ADD)) == NULL)
		return;
	snprintf(j->j_name, sizeof(j->j_name), "%s", rq->rq_argv[2]);
	snprintf(j->j_fp, sizeof(j->j_fp), "%s", fp);
	j->j_addrs = aa;
	job_submit(ad, j);
}

static void admin_allow_remove(struct admin *ad, struct ctl_req *rq)
{
	struct admin_job *j;

	if (rq->rq_argc != 3)
		{ ctl_replyf(rq, 2, "usage: allow remove NAME"); return; }
	if ((j = job_new(ad, rq, JOB_REMOVE)) == NULL)
		return;
	snprintf(j->j_name, sizeof(j->j_name), "%s", rq->rq_argv[2]);
	job_submit(ad, j);
}

static void admin_allow_list(struct admin *ad, struct ctl_req *rq)
{
	static const char *const head[] = { "NAME", "FINGERPRINT", "ADDRESS" };
	const struct allow_list *al = &ad->ad_peers->ps_allow;
	struct ctl_buf b = { 0 };
	struct ctl_table t;
	char a[INET_ADDRSTRLEN], a6[INET6_ADDRSTRLEN];
	json_t *arr = NULL;
	size_t i;

	if (rq->rq_json)
		arr = json_array();
	else
		ctl_table_init(&t, 3, head);
	for (i = 0; i < al->al_n; i++) {
		const struct allow_entry *e = &al->al_e[i];
		const char *addr = e->ae_has_addr ? ip_str(e->ae_addr, a) : NULL;
		const char *addr6 = e->ae_has_addr6 ?
		    inet_ntop(AF_INET6, &e->ae_addr6, a6, sizeof(a6)) : NULL;

		if (!rq->rq_json) {
			char both[INET_ADDRSTRLEN + 1 + INET6_ADDRSTRLEN];
			const char *row[] = { e->ae_name, e->ae_fp, both };

			/* both in one cell, as vpnctl peers shows them */
			snprintf(both, sizeof(both), "%s%s%s", addr ? addr : "-",
			    addr6 ? "," : "", addr6 ? addr6 : "");

			ctl_table_row(&t, row);
		} else if (arr != NULL && json_array_append_new(arr, json_pack("{s:o,s:o,s:o,s:o}",
		    "name", ctl_json_string(e->ae_name),
		    "fingerprint", ctl_json_string(e->ae_fp),
		    "address", ctl_json_string_or_null(addr),
		    "address6", ctl_json_string_or_null(addr6))) < 0) {
			json_decref(arr);
			arr = NULL;
		}
	}
	if (rq->rq_json) {
		ctl_reply_json(rq, arr);
		return;
	}
	if (ctl_table_render(&t, &b) < 0)
		b.cb_oom = true;
	ctl_reply_buf(rq, 0, &b);
}

static void admin_peers(struct admin *ad, struct ctl_req *rq)
{
	struct ctl_buf b = { 0 };
	struct ctl_peers t;
	uint64_t now = uv_now(ad->ad_loop);
	time_t wall = time(NULL);
	const struct peer *pe;

	ctl_peers_begin(&t, rq->rq_json, rq->rq_long, wall);
	for (pe = ad->ad_peers->ps_list; pe != NULL; pe = pe->pe_next) {
		struct ctl_peer row = {
			.cp_name = pe->pe_name, .cp_fp = pe->pe_fp,
			.cp_addr = pe->pe_link.fl_addr,
			.cp_has_addr6 = pe->pe_link.fl_has6, .cp_addr6 = pe->pe_link.fl_addr6,
			.cp_endpoint = peer_endpoint(pe),
			.cp_transport = peer_transport(pe),
			.cp_rx_bytes = pe->pe_sess.se_n.sc_rx_bytes,
			.cp_tx_bytes = pe->pe_sess.se_n.sc_tx_bytes,
			.cp_rx_pkts = pe->pe_sess.se_n.sc_rx_pkts,
			.cp_tx_pkts = pe->pe_sess.se_n.sc_tx_pkts,
			.cp_switches = pe->pe_sess.se_n.sc_switches,
			.cp_since = pe->pe_since,
			.cp_last_seen = wall -
			    (time_t)((now - pe->pe_sess.se_last_rx) / 1000),
			.cp_dtls_id = sess_dtls_id(&pe->pe_sess),
		};

		if (pe->pe_state == PE_UP)
			ctl_peers_row(&t, &row);
	}
	if (ctl_peers_end(&t, &b) < 0)
		b.cb_oom = true;
	ctl_reply_buf(rq, 0, &b);
}

#define U(x) ((unsigned long long)(x))
#define J(x) ctl_json_uint(x)

/* network6 as "fd00:8::/64", "" without it. */
static void net6_str(const struct conf *c, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	buf[0] = '\0';
	if (c->c_has_network6)
		snprintf(buf, len, "%s/%d", inet_ntop(AF_INET6, &c->c_network6.addr, a,
		    sizeof(a)), c->c_network6.plen);
}

static json_t *status_json(struct admin *ad, const struct peer_stats *p,
    const struct fwd_stats *f, long up)
{
	const struct conf *c = ad->ad_conf;
	const struct peers *ps = ad->ad_peers;
	const struct sess_counts *t = &p->ps_gone;
	char a[INET_ADDRSTRLEN], net[INET_ADDRSTRLEN + 4], l[80];
	char net6[INET6_ADDRSTRLEN + 4];
	json_t *listen, *o;
	int i;

	if ((listen = json_array()) == NULL)
		return NULL;
	for (i = 0; i < c->c_nlisten; i++)
		json_array_append_new(listen, ctl_json_string(
		    conf_sockaddr_str(&c->c_listen[i], l, sizeof(l))));
	snprintf(net, sizeof(net), "%s/%d", ip_str(c->c_network.addr, a), c->c_network.plen);
	net6_str(c, net6, sizeof(net6));
	struct ctl_offload off = { .co_tun = f->fs_offload, .co_reads = f->fs_tun.ts_reads,
	    .co_super_reads = f->fs_tun.ts_supers, .co_writes = f->fs_tun.ts_writes,
	    .co_gso_sent = t->sc_gso_tx, .co_gso_received = t->sc_gso_rx,
	    .co_gso_bad = t->sc_gso_bad };

	o = json_pack("{s:s,s:s,s:I,s:o,s:o,s:s,s:o,s:I,s:o,s:o,s:o,s:o,s:o,"
	    "s:{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o},"
	    "s:{s:o,s:o,s:o,s:o,s:o,s:o,s:I},s:o}",
	    "mode", "server", "version", VPND_VERSION, "uptime", (json_int_t)up,
	    "listen", listen, "tun", ctl_json_string(ad->ad_tun_name), "network", net,
	    "network6", net6[0] ? json_string(net6) : json_null(),
	    "peers_connected", (json_int_t)ps->ps_up,
	    "peers_allowed", J(ps->ps_allow.al_n),
	    "bytes_in", J(t->sc_rx_bytes), "bytes_out", J(t->sc_tx_bytes),
	    "packets_in", J(t->sc_rx_pkts), "packets_out", J(t->sc_tx_pkts),
	    "dropped",
	    "spoofed", J(f->fs_drop_spoof), "isolated", J(f->fs_drop_isolated),
	    "malformed", J(f->fs_drop_malformed), "no_route", J(f->fs_drop_noroute),
	    "tun_full", J(f->fs_drop_tun_full), "peer_full", J(t->sc_tx_dropped),
	    "bad_frames", J(t->sc_bad_frames), "udp_unknown", J(f->fs_udp_unknown),
	    "dtls_bad", J(t->sc_dtls_bad), "udp_send", J(f->fs_udp_tx_drops),
	    "link_local", J(f->fs_drop_linklocal),
	    "handshakes",
	    "accepted", J(p->ps_accepted), "denied", J(p->ps_denied),
	    "failed", J(p->ps_failed), "timed_out", J(p->ps_timed_out),
	    "throttled", J(p->ps_throttled), "busy", J(p->ps_busy),
	    "pending", (json_int_t)ps->ps_pending,
	    "offload", ctl_offload_json(&off));
	return o;
}

static void admin_status(struct admin *ad, struct ctl_req *rq)
{
	const struct conf *c = ad->ad_conf;
	const struct peers *ps = ad->ad_peers;
	struct ctl_buf b = { 0 };
	struct peer_stats p;
	struct fwd_stats f;
	const struct sess_counts *t = &p.ps_gone;
	char a[INET_ADDRSTRLEN], l[80], ups[32], net6[INET6_ADDRSTRLEN + 4];
	long up = (long)(time(NULL) - ad->ad_started);
	int i;

	peers_stats(ps, &p);
	fwd_stats(ad->ad_fwd, &f);
	if (rq->rq_json) {
		ctl_reply_json(rq, status_json(ad, &p, &f, up));
		return;
	}
	ip_str(c->c_network.addr, a);
	ctl_dur_str(up, ups, sizeof(ups));
	ctl_printf(&b, "mode: server\nversion: %s\nuptime: %s\nlisten:", VPND_VERSION, ups);
	for (i = 0; i < c->c_nlisten; i++)
		ctl_printf(&b, " %s", conf_sockaddr_str(&c->c_listen[i], l, sizeof(l)));
	net6_str(c, net6, sizeof(net6));
	ctl_printf(&b, "\ntun: %s\nnetwork: %s/%d\n", ad->ad_tun_name, a, c->c_network.plen);
	if (net6[0] != '\0')
		ctl_printf(&b, "network6: %s\n", net6);
	ctl_printf(&b, "peers: %u connected, %zu allowed\n", ps->ps_up, ps->ps_allow.al_n);
	ctl_printf(&b, "bytes: %llu in, %llu out\npackets: %llu in, %llu out\n",
	    U(t->sc_rx_bytes), U(t->sc_tx_bytes), U(t->sc_rx_pkts), U(t->sc_tx_pkts));
	ctl_printf(&b, "dropped: %llu spoofed, %llu isolated, %llu malformed, "
	    "%llu no route, %llu tun full, %llu peer full, %llu bad frames, "
	    "%llu unknown datagrams, %llu bad DTLS records, %llu UDP sends, "
	    "%llu link-local\n",
	    U(f.fs_drop_spoof), U(f.fs_drop_isolated), U(f.fs_drop_malformed),
	    U(f.fs_drop_noroute), U(f.fs_drop_tun_full), U(t->sc_tx_dropped),
	    U(t->sc_bad_frames), U(f.fs_udp_unknown), U(t->sc_dtls_bad),
	    U(f.fs_udp_tx_drops), U(f.fs_drop_linklocal));
	ctl_printf(&b, "handshakes: %u pending, %llu denied, %llu failed, %llu timed out, "
	    "%llu throttled, %llu refused as busy\n", ps->ps_pending, U(p.ps_denied),
	    U(p.ps_failed), U(p.ps_timed_out), U(p.ps_throttled), U(p.ps_busy));
	ctl_reply_buf(rq, 0, &b);
}

static void admin_metrics(struct admin *ad, struct ctl_req *rq)
{
	struct ctl_buf b = { 0 };

	scrape_server(&b, ad->ad_peers, ad->ad_fwd, ad->ad_started);
	ctl_reply_buf(rq, 0, &b);
}

static void admin_kick(struct admin *ad, struct ctl_req *rq)
{
	struct peer *pe;

	if (rq->rq_argc != 2)
		{ ctl_replyf(rq, 2, "usage: kick NAME"); return; }
	if ((pe = peers_find(ad->ad_peers, rq->rq_argv[1])) == NULL)
		{ ctl_replyf(rq, 1, "no connected peer named %s", rq->rq_argv[1]); return; }
	evt_emit(&(struct evt){ .ev_type = EVT_KICKED, .ev_name = pe->pe_name,
	    .ev_fp = pe->pe_fp, .ev_endpoint = peer_endpoint(pe),
	    .ev_transport = peer_transport(pe), .ev_reason = "kicked by the administrator",
	    .ev_uid = (long long)rq->rq_uid });
	peer_close(pe, "kicked by the administrator", "kicked by the administrator");
	ctl_reply(rq, 0, "", 0);
}

void admin_handle(void *arg, struct ctl_req *rq)
{
	struct admin *ad = arg;
	const char *cmd = rq->rq_argv[0];
	const char *sub = rq->rq_argc > 1 ? rq->rq_argv[1] : "";
	struct admin_job *j;

	if (strcmp(cmd, "status") == 0)
		admin_status(ad, rq);
	else if (strcmp(cmd, "peers") == 0)
		admin_peers(ad, rq);
	else if (strcmp(cmd, "kick") == 0)
		admin_kick(ad, rq);
	else if (strcmp(cmd, "metrics") == 0)
		admin_metrics(ad, rq);
	else if (strcmp(cmd, "events") == 0)
		evt_watch(rq);
	else if (strcmp(cmd, "reload") == 0) {
		if ((j = job_new(ad, rq, JOB_RELOAD)) != NULL)
			job_submit(ad, j);
	} else if (strcmp(cmd, "allow") == 0 && strcmp(sub, "list") == 0)
		admin_allow_list(ad, rq);
	else if (strcmp(cmd, "allow") == 0 && strcmp(sub, "add") == 0)
		admin_allow_add(ad, rq);
	else if (strcmp(cmd, "allow") == 0 && strcmp(sub, "remove") == 0)
		admin_allow_remove(ad, rq);
	else
		ctl_replyf(rq, 2, "unknown command: %s %s", cmd, sub);
}
