/* admin.c - what the server answers on its control socket: status, peers,
 * the allow-list and its edits, kick, reload. Edits of the allow-list file
 * run on libuv's thread pool (read the file, change it, write it atomically)
 * one at a time in arrival order; the result is applied on the loop, so a
 * removed peer is cut off as soon as the file is safely on disk. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/ctl.h"
#include "daemon/log.h"
#include "daemon/priv.h"
#include "server/srv.h"
#include "tunnel/udp.h"

enum job_op { JOB_RELOAD = PRIV_RELOAD, JOB_ADD = PRIV_ADD, JOB_REMOVE = PRIV_REMOVE };

struct admin_job {
	uv_work_t          j_work;
	struct admin_job  *j_next;
	struct srv        *j_srv;
	struct ctl_req    *j_rq;		/* NULL for SIGHUP */
	enum job_op        j_op;
	char               j_name[ALLOW_NAME_MAX];
	char               j_fp[CONF_FP_LEN];
	bool               j_has_addr;
	struct in_addr     j_addr;
	/* filled on the thread pool */
	struct allow_list  j_list;
	struct conf_err    j_err;
	int                j_rc;
};

static void job_start(struct srv *s);

static const char *ip_str(struct in_addr a, char buf[INET_ADDRSTRLEN])
{
	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

/* Thread pool: the file is the truth; edits start from what it says now.
 * The privileged side (a helper process when vpnd runs as a user) reads,
 * edits and rewrites it. */
static void job_work(uv_work_t *w)
{
	struct admin_job *j = w->data;
	struct priv_allow_req rq = { .pa_op = (int)j->j_op, .pa_has_addr = j->j_has_addr,
	    .pa_addr = j->j_addr };

	memcpy(rq.pa_name, j->j_name, sizeof(rq.pa_name));
	memcpy(rq.pa_fp, j->j_fp, sizeof(rq.pa_fp));
	j->j_rc = priv_allow(j->j_srv->s_priv, &rq, &j->j_list, &j->j_err);
}

static void job_reply(struct admin_job *j, int n)
{
	char msg[512];

	if (j->j_rc < 0) {
		conf_err_str(&j->j_err, msg, sizeof(msg));
		if (j->j_rq == NULL)
			log_warnx("reload: %s", msg);
		else
			ctl_replyf(j->j_rq, 1, "%s", j->j_err.line || j->j_op == JOB_RELOAD ?
			    msg : j->j_err.msg);
		return;
	}
	if (j->j_op == JOB_ADD)
		log_info("allow-list: added %s %s", j->j_name, j->j_fp);
	else if (j->j_op == JOB_REMOVE)
		log_info("allow-list: removed %s, %d session(s) closed", j->j_name, n);
	else
		log_info("allow-list: reloaded, %zu peers, %d session(s) closed",
		    j->j_srv->s_allow.al_n, n);
	if (j->j_rq == NULL)
		return;
	if (j->j_op == JOB_RELOAD)
		ctl_replyf(j->j_rq, 0, "reloaded: %zu peers allowed, %d disconnected",
		    j->j_srv->s_allow.al_n, n);
	else
		ctl_reply(j->j_rq, 0, "", 0);
}

static void job_done(uv_work_t *w, int status)
{
	struct admin_job *j = w->data;
	struct srv *s = j->j_srv;
	int n = 0;

	if (status < 0 && j->j_rc == 0)
		j->j_rc = status;
	if (j->j_rc == 0) {
		allow_free(&s->s_allow);
		s->s_allow = j->j_list;		/* takes over the entries */
		memset(&j->j_list, 0, sizeof(j->j_list));
		n = srv_apply_allow(s, j->j_op == JOB_REMOVE ?
		    "removed from the allow-list" : "no longer on the allow-list");
	}
	job_reply(j, n);
	s->s_jobs = j->j_next;
	allow_free(&j->j_list);
	free(j);
	if (s->s_jobs != NULL)
		job_start(s);
}

static void job_start(struct srv *s)
{
	struct admin_job *j = s->s_jobs;
	int err;

	j->j_work.data = j;
	/* j_rc belongs to the worker once queued: never write it here after. */
	if ((err = uv_queue_work(s->s_loop, &j->j_work, job_work, job_done)) < 0) {
		j->j_rc = err;
		job_done(&j->j_work, err);
	}
}

static struct admin_job *job_new(struct srv *s, struct ctl_req *rq, enum job_op op)
{
	struct admin_job *j, **tail;

	if ((j = calloc(1, sizeof(*j))) == NULL) {
		if (rq != NULL)
			ctl_replyf(rq, 1, "out of memory");
		return NULL;
	}
	j->j_srv = s;
	j->j_rq = rq;
	j->j_op = op;
	for (tail = &s->s_jobs; *tail != NULL; tail = &(*tail)->j_next)
		;
	*tail = j;
	return j;
}

/* Queue a job; it starts now if none is running. */
static void job_submit(struct srv *s, struct admin_job *j)
{
	if (s->s_jobs == j)
		job_start(s);
}

int srv_reload(struct srv *s)
{
	struct admin_job *j;

	if (s->s_stopping || (j = job_new(s, NULL, JOB_RELOAD)) == NULL)
		return -ENOMEM;
	job_submit(s, j);
	return 0;
}

static void admin_allow_add(struct srv *s, struct ctl_req *rq)
{
	const struct conf *c = s->s_conf;
	struct admin_job *j;
	char fp[CONF_FP_LEN];
	struct in_addr a;
	bool has_addr = false;

	if (rq->rq_argc != 4 && !(rq->rq_argc == 6 && strcmp(rq->rq_argv[4], "--address") == 0))
		{ ctl_replyf(rq, 2, "usage: allow add NAME FINGERPRINT [--address IP]"); return; }
	if (!fp_name_valid(rq->rq_argv[2]))
		{ ctl_replyf(rq, 2, "%s: invalid name (1-63 of A-Z a-z 0-9 . _ -)", rq->rq_argv[2]); return; }
	if (fp_normalise(rq->rq_argv[3], fp) < 0)
		{ ctl_replyf(rq, 2, "%s: not a fingerprint (sha256: and 64 hex digits)",
		    rq->rq_argv[3]); return; }
	if (rq->rq_argc == 6) {
		uint32_t host = ~(0xffffffffu << (32 - c->c_network.plen));

		if (inet_pton(AF_INET, rq->rq_argv[5], &a) != 1 ||
		    !cidr_contains(&c->c_network, a) ||
		    a.s_addr == s->s_rules.fr_server.s_addr ||
		    (ntohl(a.s_addr) & host) == 0 || (ntohl(a.s_addr) & host) == host) {
			ctl_replyf(rq, 2, "%s: not a peer address in the tunnel network",
			    rq->rq_argv[5]);
			return;
		}
		has_addr = true;
	}
	if ((j = job_new(s, rq, JOB_ADD)) == NULL)
		return;
	snprintf(j->j_name, sizeof(j->j_name), "%s", rq->rq_argv[2]);
	snprintf(j->j_fp, sizeof(j->j_fp), "%s", fp);
	j->j_has_addr = has_addr;
	j->j_addr = a;
	job_submit(s, j);
}

static void admin_allow_remove(struct srv *s, struct ctl_req *rq)
{
	struct admin_job *j;

	if (rq->rq_argc != 3)
		{ ctl_replyf(rq, 2, "usage: allow remove NAME"); return; }
	if ((j = job_new(s, rq, JOB_REMOVE)) == NULL)
		return;
	snprintf(j->j_name, sizeof(j->j_name), "%s", rq->rq_argv[2]);
	job_submit(s, j);
}

static void admin_allow_list(struct srv *s, struct ctl_req *rq)
{
	struct ctl_buf b = { 0 };
	char a[INET_ADDRSTRLEN];
	size_t i;

	if (rq->rq_json)
		ctl_printf(&b, "[");
	else
		ctl_printf(&b, "%-16s %-71s %s\n", "NAME", "FINGERPRINT", "ADDRESS");
	for (i = 0; i < s->s_allow.al_n; i++) {
		const struct allow_entry *e = &s->s_allow.al_e[i];

		if (!rq->rq_json) {
			ctl_printf(&b, "%-16s %-71s %s\n", e->ae_name, e->ae_fp,
			    e->ae_has_addr ? ip_str(e->ae_addr, a) : "-");
			continue;
		}
		ctl_printf(&b, "%s{\"name\":", i ? "," : "");
		ctl_json_str(&b, e->ae_name);
		ctl_printf(&b, ",\"fingerprint\":\"%s\",\"address\":", e->ae_fp);
		if (e->ae_has_addr)
			ctl_printf(&b, "\"%s\"}", ip_str(e->ae_addr, a));
		else
			ctl_printf(&b, "null}");
	}
	if (rq->rq_json)
		ctl_printf(&b, "]\n");
	ctl_reply_buf(rq, 0, &b);
}

/* The address the peer's data comes from now: DTLS's or the TCP one. */
static const char *peer_endpoint(const struct peer *pe)
{
	return peer_on_dtls(pe) && pe->pe_udp_endpoint[0] ? pe->pe_udp_endpoint :
	    pe->pe_endpoint;
}

static void admin_peers(struct srv *s, struct ctl_req *rq)
{
	struct ctl_buf b = { 0 };
	uint64_t now = uv_now(s->s_loop);
	const struct peer *pe;
	int n = 0;

	ctl_peers_begin(&b, rq->rq_json);
	for (pe = s->s_peers; pe != NULL; pe = pe->pe_next) {
		struct ctl_peer row = {
			.cp_name = pe->pe_name, .cp_fp = pe->pe_fp, .cp_addr = pe->pe_addr,
			.cp_endpoint = peer_endpoint(pe),
			.cp_transport = peer_on_dtls(pe) ? "dtls" : "tls",
			.cp_rx_bytes = pe->pe_rx_bytes, .cp_tx_bytes = pe->pe_tx_bytes,
			.cp_rx_pkts = pe->pe_rx_pkts, .cp_tx_pkts = pe->pe_tx_pkts,
			.cp_since = pe->pe_since,
			.cp_last_seen = time(NULL) - (time_t)((now - pe->pe_last_rx) / 1000),
			.cp_dtls_id = pe->pe_dc_on ? pe->pe_dc.dc_io.id : NULL,
		};

		if (pe->pe_state == PE_UP)
			ctl_peers_row(&b, rq->rq_json, n++, &row);
	}
	ctl_peers_end(&b, rq->rq_json);
	ctl_reply_buf(rq, 0, &b);
}

static void srv_totals(struct srv *s, struct srv_stats *t)
{
	const struct peer *pe;
	int i;

	*t = s->s_stats;
	for (i = 0; i < s->s_nudp; i++)
		t->ss_udp_tx_drops += udp_tx_drops(s->s_udp_tx[i]);
	for (pe = s->s_peers; pe != NULL; pe = pe->pe_next)
		if (pe->pe_state == PE_UP) {
			t->ss_rx_bytes += pe->pe_rx_bytes;
			t->ss_tx_bytes += pe->pe_tx_bytes;
			t->ss_rx_pkts += pe->pe_rx_pkts;
			t->ss_tx_pkts += pe->pe_tx_pkts;
			t->ss_bad_frames += pe->pe_st.st_bad_frames;
			if (pe->pe_dc_on)
				t->ss_dtls_dropped += pe->pe_dc.dc_dropped;
		}
}

#define U(x) ((unsigned long long)(x))

static void admin_status(struct srv *s, struct ctl_req *rq)
{
	const struct conf *c = s->s_conf;
	struct ctl_buf b = { 0 };
	struct srv_stats t;
	char a[INET_ADDRSTRLEN], l[80];
	long up = (long)(time(NULL) - s->s_started);
	int i;

	srv_totals(s, &t);
	ip_str(c->c_network.addr, a);
	if (!rq->rq_json) {
		ctl_printf(&b, "mode: server\nversion: %s\nuptime: %lds\nlisten:", VPND_VERSION, up);
		for (i = 0; i < c->c_nlisten; i++)
			ctl_printf(&b, " %s", conf_sockaddr_str(&c->c_listen[i], l, sizeof(l)));
		ctl_printf(&b, "\ntun: %s\nnetwork: %s/%d\npeers: %u connected, %zu allowed\n",
		    s->s_tun_name, a, c->c_network.plen, s->s_npeers_up, s->s_allow.al_n);
		ctl_printf(&b, "bytes: %llu in, %llu out\npackets: %llu in, %llu out\n",
		    U(t.ss_rx_bytes), U(t.ss_tx_bytes), U(t.ss_rx_pkts), U(t.ss_tx_pkts));
		ctl_printf(&b, "dropped: %llu spoofed, %llu isolated, %llu malformed, "
		    "%llu no route, %llu tun full, %llu peer full, %llu bad frames, "
		    "%llu unknown datagrams, %llu bad DTLS records, %llu UDP sends\n",
		    U(t.ss_drop_spoof), U(t.ss_drop_isolated), U(t.ss_drop_malformed),
		    U(t.ss_drop_noroute), U(t.ss_drop_tun_full), U(t.ss_drop_peer_full),
		    U(t.ss_bad_frames), U(t.ss_udp_unknown), U(t.ss_dtls_dropped),
		    U(t.ss_udp_tx_drops));
		ctl_printf(&b, "handshakes: %u pending, %llu denied, %llu failed, %llu timed out, "
		    "%llu throttled, %llu refused as busy\n", s->s_pending, U(t.ss_denied),
		    U(t.ss_handshake_failed), U(t.ss_handshake_timeout), U(t.ss_throttled),
		    U(t.ss_busy));
		ctl_reply_buf(rq, 0, &b);
		return;
	}
	ctl_printf(&b, "{\"mode\":\"server\",\"version\":\"%s\",\"uptime\":%ld,\"listen\":[",
	    VPND_VERSION, up);
	for (i = 0; i < c->c_nlisten; i++)
		ctl_printf(&b, "%s\"%s\"", i ? "," : "",
		    conf_sockaddr_str(&c->c_listen[i], l, sizeof(l)));
	ctl_printf(&b, "],\"tun\":\"%s\",\"network\":\"%s/%d\",\"peers_connected\":%u,"
	    "\"peers_allowed\":%zu,\"bytes_in\":%llu,\"bytes_out\":%llu,"
	    "\"packets_in\":%llu,\"packets_out\":%llu,\"dropped\":{\"spoofed\":%llu,"
	    "\"isolated\":%llu,\"malformed\":%llu,\"no_route\":%llu,\"tun_full\":%llu,"
	    "\"peer_full\":%llu,\"bad_frames\":%llu,\"udp_unknown\":%llu,"
	    "\"dtls_bad\":%llu,\"udp_send\":%llu},\"handshakes\":{\"accepted\":%llu,\"denied\":%llu,"
	    "\"failed\":%llu,\"timed_out\":%llu,\"throttled\":%llu,\"busy\":%llu,"
	    "\"pending\":%u}}\n",
	    s->s_tun_name, a, c->c_network.plen, s->s_npeers_up, s->s_allow.al_n,
	    U(t.ss_rx_bytes), U(t.ss_tx_bytes), U(t.ss_rx_pkts), U(t.ss_tx_pkts),
	    U(t.ss_drop_spoof), U(t.ss_drop_isolated), U(t.ss_drop_malformed),
	    U(t.ss_drop_noroute), U(t.ss_drop_tun_full), U(t.ss_drop_peer_full),
	    U(t.ss_bad_frames), U(t.ss_udp_unknown), U(t.ss_dtls_dropped), U(t.ss_udp_tx_drops), U(t.ss_accepted), U(t.ss_denied), U(t.ss_handshake_failed),
	    U(t.ss_handshake_timeout), U(t.ss_throttled), U(t.ss_busy), s->s_pending);
	ctl_reply_buf(rq, 0, &b);
}

static void admin_kick(struct srv *s, struct ctl_req *rq)
{
	struct peer *pe;

	if (rq->rq_argc != 2)
		{ ctl_replyf(rq, 2, "usage: kick NAME"); return; }
	if ((pe = srv_peer_by_name(s, rq->rq_argv[1])) == NULL)
		{ ctl_replyf(rq, 1, "no connected peer named %s", rq->rq_argv[1]); return; }
	peer_close(pe, "kicked by the administrator", "kicked by the administrator");
	ctl_reply(rq, 0, "", 0);
}

void srv_ctl_handle(void *arg, struct ctl_req *rq)
{
	struct srv *s = arg;
	const char *cmd = rq->rq_argv[0];
	const char *sub = rq->rq_argc > 1 ? rq->rq_argv[1] : "";

	if (strcmp(cmd, "status") == 0)
		admin_status(s, rq);
	else if (strcmp(cmd, "peers") == 0)
		admin_peers(s, rq);
	else if (strcmp(cmd, "kick") == 0)
		admin_kick(s, rq);
	else if (strcmp(cmd, "reload") == 0) {
		struct admin_job *j = job_new(s, rq, JOB_RELOAD);

		if (j != NULL)
			job_submit(s, j);
	} else if (strcmp(cmd, "allow") == 0 && strcmp(sub, "list") == 0)
		admin_allow_list(s, rq);
	else if (strcmp(cmd, "allow") == 0 && strcmp(sub, "add") == 0)
		admin_allow_add(s, rq);
	else if (strcmp(cmd, "allow") == 0 && strcmp(sub, "remove") == 0)
		admin_allow_remove(s, rq);
	else
		ctl_replyf(rq, 2, "unknown command: %s %s", cmd, sub);
}
