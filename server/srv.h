/* srv.h - the server: one libuv loop that owns the TUN device, the TLS
 * listeners, the sessions (struct peer), the address pool and the control
 * socket. srv.c sets up and tears down; peer.c runs sessions and the packet
 * path; admin.c answers vpnctl. The packet path touches only the srv and the
 * peer it is handed, so it can later be split across worker threads. */
#ifndef VPND_SRV_H
#define VPND_SRV_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <uv.h>

#include "conf/allow.h"
#include "conf/conf.h"
#include "crypto/fp.h"
#include "server/filter.h"
#include "tunnel/dchan.h"
#include "tunnel/stream.h"

#define SRV_TUN_BUDGET   64	/* packets read from TUN per wakeup */
#define SRV_HANDSHAKE_MS 10000	/* SPEC: unfinished handshakes are closed */
#define SRV_LINGER_MS    2000	/* time to deliver a BYE/DENY before closing */
#define SRV_TICK_MS      250
#define SRV_ID_BUCKETS   1024	/* DTLS channel id -> peer */
#define SRV_LOG_BURST    10	/* failure lines per 10 s */

struct tls_ctx;
struct nl;
struct pool;
struct ctl;
struct ctl_req;
struct admin_job;
struct dtls_ctx;
struct udp_tx;
struct udp_rx;
struct limit;
struct priv;

enum peer_state { PE_HANDSHAKE, PE_UP, PE_CLOSING };

/* Packet and session counters; "drop" ones say why something was dropped. */
struct srv_stats {
	uint64_t ss_rx_bytes, ss_tx_bytes;	/* tunnel payload, all peers */
	uint64_t ss_rx_pkts, ss_tx_pkts;
	uint64_t ss_drop_spoof, ss_drop_isolated, ss_drop_malformed;
	uint64_t ss_drop_noroute, ss_drop_tun_full, ss_drop_peer_full;
	uint64_t ss_bad_frames;		/* skipped, or broke a session */
	uint64_t ss_udp_unknown;		/* datagrams for no channel */
	uint64_t ss_dtls_dropped;		/* records that did not authenticate */
	uint64_t ss_udp_tx_drops;		/* datagrams the socket would not take */
	uint64_t ss_denied, ss_handshake_failed, ss_handshake_timeout;
	uint64_t ss_accepted;
	uint64_t ss_throttled;		/* closed at accept: per-source limits */
	uint64_t ss_busy;		/* closed at accept: pending cap, handshake rate */
};

struct peer {
	struct peer    *pe_next, *pe_prev;	/* srv->s_peers */
	struct peer    *pe_dirty_next;		/* srv->s_dirty, tx to flush */
	struct peer    *pe_id_next;		/* srv->s_by_id bucket */
	bool            pe_dirty;
	bool            pe_pending;		/* counted in s_pending and s_limit */
	bool            pe_dc_on;		/* DTLS channel offered */
	bool            pe_on_dtls;		/* last transport logged */
	int             pe_udp;			/* socket index the channel uses */
	struct dchan    pe_dc;
	struct srv     *pe_srv;
	struct stream   pe_st;
	enum peer_state pe_state;
	char            pe_fp[FP_STRLEN];
	char            pe_name[ALLOW_NAME_MAX];
	struct in_addr  pe_addr;
	char            pe_endpoint[64];	/* "198.18.0.2:51820", TCP */
	struct sockaddr_storage pe_src;		/* the TCP peer, for s_limit */
	char            pe_udp_endpoint[64];	/* where DTLS goes, "" before */
	time_t          pe_since;
	uint64_t        pe_last_rx, pe_last_tx;	/* uv_now() ms */
	uint64_t        pe_deadline;		/* handshake or linger end */
	uint64_t        pe_rx_bytes, pe_tx_bytes, pe_rx_pkts, pe_tx_pkts;
};

struct srv {
	uv_loop_t         *s_loop;
	const struct conf *s_conf;
	struct tls_ctx    *s_tls;
	struct nl         *s_nl;
	struct pool       *s_pool;
	struct ctl        *s_ctl;
	struct priv       *s_priv;		/* file writes, maybe in a helper */
	struct allow_list  s_allow;
	struct filt_rules  s_rules;

	int                s_tun_fd;
	int                s_tun_ifindex;
	char               s_tun_name[IFNAMSIZ];
	uv_poll_t          s_tun_poll;
	int                s_lfd[CONF_MAX_LISTEN];
	uv_poll_t          s_lpoll[CONF_MAX_LISTEN];
	int                s_nlisten;
	int                s_udp_fd[CONF_MAX_LISTEN];
	uv_poll_t          s_udp_poll[CONF_MAX_LISTEN];
	struct udp_tx     *s_udp_tx[CONF_MAX_LISTEN];
	int                s_nudp;
	struct udp_rx     *s_udp_rx;
	int                s_udp_cur;		/* socket of the datagram being read */
	struct dtls_ctx   *s_dtls;
	struct peer       *s_by_id[SRV_ID_BUCKETS];
	uv_timer_t         s_timer;
	uv_check_t         s_flush;		/* flushes dirty peers per loop turn */
	uv_signal_t        s_sig[3];

	struct peer       *s_peers;
	struct limit      *s_limit;
	unsigned           s_pending;		/* handshakes in flight */
	unsigned           s_log_tokens;	/* handshake-failure lines left */
	uint64_t           s_log_refilled;
	uint64_t           s_log_suppressed;
	unsigned           s_npeers_up;
	struct peer      **s_by_addr;		/* indexed by host offset in net */
	uint32_t           s_net_base;		/* host order */
	uint32_t           s_by_addr_n;
	struct peer       *s_dirty;

	time_t             s_started;
	int                s_ipfwd_was;
	bool               s_nat_up;
	bool               s_stopping;
	struct admin_job  *s_jobs;		/* allow-list reads/writes, FIFO */
	char               s_lease_path[PATH_MAX];	/* "" without state_dir */
	bool               s_lease_busy;	/* a lease write is running */
	bool               s_lease_again;	/* and another is due after it */
	uint64_t           s_stop_deadline;
	struct srv_stats   s_stats;
	uint8_t            s_pkt[UDP_MSG_MAX];	/* one packet, TUN or DTLS */
};

/* srv.c */
int  srv_run(const struct conf *c);		/* exit status */
void srv_save_leases(struct srv *s);

/* peer.c */
void peer_accept(struct srv *s, int fd, const struct sockaddr_storage *ss);
void peer_close(struct peer *pe, const char *why, const char *bye);
void peer_tick(struct peer *pe, uint64_t now);
void srv_tun_read(struct srv *s);
void srv_flush_dirty(struct srv *s);
void srv_udp_in(struct srv *s, int sock, const uint8_t *dg, size_t len,
                const struct sockaddr_storage *from);
uint64_t srv_dtls_window(const struct srv *s);
bool peer_on_dtls(const struct peer *pe);
struct peer *srv_peer_by_name(struct srv *s, const char *name);
/* Close sessions whose fingerprint the allow-list no longer holds, or whose
 * name or static address changed; returns how many. */
int  srv_apply_allow(struct srv *s, const char *why);

/* admin.c */
void srv_ctl_handle(void *arg, struct ctl_req *rq);
int  srv_reload(struct srv *s);

#endif
