/* scrape.c - the server's metrics. Every counter here already exists where
 * the packet path or the control plane counts it (fwd_stats, sess_counts,
 * peer_stats); a scrape only reads and sums them, on the loop, so the
 * packet path pays nothing for being watched. */
#include <errno.h>
#include <stdint.h>

#include "daemon/ctl.h"
#include "daemon/metrics.h"
#include "server/fwd.h"
#include "server/peer.h"
#include "server/scrape.h"

enum peer_val { PV_RX_BYTES, PV_TX_BYTES, PV_RX_PKTS, PV_TX_PKTS, PV_SWITCHES };

static uint64_t peer_val(const struct peer *pe, enum peer_val v)
{
	const struct sess_counts *n = &pe->pe_sess.se_n;

	switch (v) {
	case PV_RX_BYTES: return n->sc_rx_bytes;
	case PV_TX_BYTES: return n->sc_tx_bytes;
	case PV_RX_PKTS:  return n->sc_rx_pkts;
	case PV_TX_PKTS:  return n->sc_tx_pkts;
	case PV_SWITCHES: return n->sc_switches;
	}
	return 0;
}

/* One per-peer family: head, then a sample per connected peer. */
static void per_peer(struct ctl_buf *b, const struct peers *ps, const char *name,
    const char *help, enum peer_val v)
{
	const struct peer *pe;

	metrics_head(b, name, "counter", help);
	for (pe = ps->ps_list; pe != NULL; pe = pe->pe_next)
		if (pe->pe_state == PE_UP)
			metrics_u64(b, name, "peer", pe->pe_name, peer_val(pe, v));
}

static void peers_part(struct ctl_buf *b, const struct peers *ps)
{
	metrics_head(b, "vpnd_peers_connected", "gauge", "Peers with a session up.");
	metrics_u64(b, "vpnd_peers_connected", NULL, NULL, ps->ps_up);
	metrics_head(b, "vpnd_peers_allowed", "gauge", "Peers on the allow-list.");
	metrics_u64(b, "vpnd_peers_allowed", NULL, NULL, ps->ps_allow.al_n);
	metrics_head(b, "vpnd_handshakes_pending", "gauge",
	    "Connections still in their handshake.");
	metrics_u64(b, "vpnd_handshakes_pending", NULL, NULL, ps->ps_pending);
	per_peer(b, ps, "vpnd_peer_receive_bytes_total",
	    "Inner bytes received from a connected peer in this session.",
	    PV_RX_BYTES);
	per_peer(b, ps, "vpnd_peer_transmit_bytes_total",
	    "Inner bytes sent to a connected peer in this session.",
	    PV_TX_BYTES);
	per_peer(b, ps, "vpnd_peer_receive_packets_total",
	    "Inner packets received from a connected peer in this session.",
	    PV_RX_PKTS);
	per_peer(b, ps, "vpnd_peer_transmit_packets_total",
	    "Inner packets sent to a connected peer in this session.",
	    PV_TX_PKTS);
	per_peer(b, ps, "vpnd_peer_transport_switches_total",
	    "Times a connected peer's data changed transport in this session.",
	    PV_SWITCHES);
}

/* The totals of every session, ended ones included. */
static void totals_part(struct ctl_buf *b, const struct sess_counts *t)
{
	const struct metrics_traffic m = { t->sc_rx_bytes, t->sc_tx_bytes,
	    t->sc_rx_pkts, t->sc_tx_pkts, t->sc_switches };

	metrics_totals(b, &m);
}

static void drops_part(struct ctl_buf *b, const struct fwd_stats *f,
    const struct sess_counts *t)
{
	static const char n[] = "vpnd_dropped_packets_total";

	metrics_head(b, n, "counter", "Packets and datagrams dropped, by reason.");
	metrics_u64(b, n, "reason", "spoofed", f->fs_drop_spoof);
	metrics_u64(b, n, "reason", "isolated", f->fs_drop_isolated);
	metrics_u64(b, n, "reason", "malformed", f->fs_drop_malformed);
	metrics_u64(b, n, "reason", "no_route", f->fs_drop_noroute);
	metrics_u64(b, n, "reason", "tun_full", f->fs_drop_tun_full);
	metrics_u64(b, n, "reason", "peer_queue_full", t->sc_tx_dropped);
	metrics_u64(b, n, "reason", "bad_frame", t->sc_bad_frames);
	metrics_u64(b, n, "reason", "udp_unknown", f->fs_udp_unknown);
	metrics_u64(b, n, "reason", "dtls_bad", t->sc_dtls_bad);
	metrics_u64(b, n, "reason", "udp_send", f->fs_udp_tx_drops);
	metrics_u64(b, n, "reason", "link_local", f->fs_drop_linklocal);
	metrics_u64(b, n, "reason", "gso_bad", t->sc_gso_bad);
}

int scrape_server(struct ctl_buf *b, const struct peers *ps, const struct fwd *f,
    time_t started)
{
	static const char r[] = "vpnd_connections_refused_total";
	struct peer_stats p;
	struct fwd_stats fs;

	peers_stats(ps, &p);
	fwd_stats(f, &fs);
	metrics_common(b, "server", (int64_t)started, (int64_t)time(NULL));
	peers_part(b, ps);
	totals_part(b, &p.ps_gone);
	metrics_handshakes(b, p.ps_hs_time.mh_count, p.ps_denied,
	    p.ps_failed + p.ps_timed_out, &p.ps_hs_time);
	metrics_head(b, r, "counter", "Connections closed at accept, before any "
	    "handshake: throttled (per-source limits) or busy (server-wide caps).");
	metrics_u64(b, r, "reason", "throttled", p.ps_throttled);
	metrics_u64(b, r, "reason", "busy", p.ps_busy);
	drops_part(b, &fs, &p.ps_gone);
	return b->cb_oom ? -ENOMEM : 0;
}
