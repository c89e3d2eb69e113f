/* peer.h - the server's sessions, control plane: accept a connection (past
 * the per-source limits), run its handshake (10 s at most), admit it by
 * fingerprint against the allow-list or deny it, lease its address, send
 * CONFIG and offer DTLS, attach it to the data plane (fwd.h), and close it:
 * on a BYE, revocation, kick, shutdown or silence. Leases are saved to
 * state_dir on libuv's thread pool through the privileged side. */
#ifndef VPND_PEER_H
#define VPND_PEER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>
#include <uv.h>

#include "conf/allow.h"
#include "conf/conf.h"
#include "crypto/fp.h"
#include "daemon/log.h"
#include "daemon/metrics.h"
#include "server/fwd.h"
#include "tunnel/sess.h"

#define PEER_HANDSHAKE_MS 10000	/* SPEC: unfinished handshakes are closed */
#define PEER_LINGER_MS    2000	/* time to deliver a BYE/DENY before closing */
#define PEER_LOG_BURST    10	/* handshake-failure and denial lines per 10 s */

struct tls_ctx;
struct dtls_ctx;
struct pool;
struct pool6;
struct limit;
struct priv;
struct peers;
struct priv_hook_job;

enum peer_state { PE_HANDSHAKE, PE_UP, PE_CLOSING };

struct peer {
	struct peer    *pe_next, *pe_prev;	/* peers->ps_list */
	struct peers   *pe_set;
	struct sess     pe_sess;
	struct fwd_link pe_link;		/* in the data plane while UP */
	enum peer_state pe_state;
	bool            pe_pending;		/* counted in ps_pending and the limits */
	char            pe_fp[FP_STRLEN];
	char            pe_name[ALLOW_NAME_MAX];
	char            pe_endpoint[64];	/* "198.18.0.2:51820", TCP */
	struct sockaddr_storage pe_src;		/* the TCP peer, for the limits */
	char            pe_udp_endpoint[64];	/* where DTLS goes, "" before */
	time_t          pe_since;
	uint64_t        pe_deadline;		/* handshake or linger end */
	uint64_t        pe_accepted_ns;		/* uv_hrtime() at accept */
	struct priv_hook_job *pe_hook;		/* on_connect runs: leased, not yet UP */
};

/* Handshakes, and the totals of sessions that have ended. */
struct peer_stats {
	uint64_t ps_accepted, ps_denied, ps_failed, ps_timed_out;
	uint64_t ps_throttled;		/* closed at accept: per-source limits */
	uint64_t ps_busy;		/* closed at accept: pending cap, handshake rate */
	struct sess_counts ps_gone;	/* of closed sessions */
	struct metrics_hist ps_hs_time;	/* accept to admission; count = admitted */
};

/* The sessions and what admitting them needs. The server fills the
 * borrowed pointers, then calls peers_init. */
struct peers {
	uv_loop_t         *ps_loop;
	const struct conf *ps_conf;
	struct tls_ctx    *ps_tls;
	struct dtls_ctx   *ps_dtls;		/* NULL: no DTLS offered */
	struct fwd        *ps_fwd;
	struct pool       *ps_pool;
	struct pool6      *ps_pool6;		/* NULL without network6 */
	struct limit      *ps_limit;
	struct priv       *ps_priv;
	struct allow_list  ps_allow;		/* owned */

	struct peer       *ps_list;
	unsigned           ps_pending, ps_up;
	struct log_budget  ps_log_failed;	/* lines anyone can cause */
	struct log_budget  ps_log_denied;
	char               ps_lease_path[PATH_MAX];	/* "" without state_dir */
	bool               ps_lease_busy, ps_lease_again;
	struct peer_stats  ps_stats;
};

/* Load the leases (state_dir) and reserve the allow-list's static
 * addresses. 0 or -errno (logged). */
int  peers_init(struct peers *ps);
void peers_free(struct peers *ps);		/* the allow-list */

/* A connection accepted on a listener (fd non-blocking; taken). */
void peer_accept(struct peers *ps, int fd, const struct sockaddr_storage *ss);
/* End a session. why is logged for admitted peers; bye, if not NULL, is
 * sent before the connection closes. The peer stops passing packets at
 * once; its memory goes when its session's handles are closed. */
void peer_close(struct peer *pe, const char *why, const char *bye);
void peers_tick(struct peers *ps, uint64_t now);
/* Shutdown: tell everyone, then (after PEER_LINGER_MS at most, or force)
 * close what is left. True once every session is gone and no lease write
 * runs. */
void peers_close_all(struct peers *ps, const char *why);
bool peers_gone(struct peers *ps, bool force);

/* Take al as the allow-list (ownership moves; *al is zeroed) and close the
 * sessions it no longer admits, or whose name or static address changed;
 * returns how many. */
int  peers_set_allow(struct peers *ps, struct allow_list *al, const char *why);
/* After a reload changed ps_conf: every session takes its keepalive and
 * dead_peer_timeout, and with push every admitted peer is sent a CONFIG
 * again (routes and timers; the address stays). Returns the CONFIGs sent;
 * a peer that cannot be sent one is closed. */
int  peers_reconfigure(struct peers *ps, bool push);
struct peer *peers_find(struct peers *ps, const char *name);	/* UP only */
/* "dtls" or "tls", and the address data comes from now. */
const char *peer_transport(const struct peer *pe);
const char *peer_endpoint(const struct peer *pe);
/* ps_stats plus the live sessions' counters. */
void peers_stats(const struct peers *ps, struct peer_stats *out);

#endif
