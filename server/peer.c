/* peer.c - server sessions and the packet path. A session is accepted,
 * handshakes (10 s at most), is admitted by fingerprint or denied, gets an
 * address and a CONFIG, then moves packets: TUN -> peer by inner destination
 * (queued, flushed once per loop turn), peer -> TUN after the anti-spoof and
 * isolation checks. Only counters are touched per packet. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "crypto/dtls.h"
#include "crypto/tls.h"
#include "server/limit.h"
#include "daemon/log.h"
#include "server/pool.h"
#include "server/srv.h"
#include "tunnel/udp.h"

/* Data goes on DTLS while an authenticated record came within a third of
 * dead_peer_timeout (SPEC "Transport"); otherwise on the TLS stream. */
uint64_t srv_dtls_window(const struct srv *s)
{
	return dchan_window_ms((unsigned)s->s_conf->c_dead_peer_timeout);
}

bool peer_on_dtls(const struct peer *pe)
{
	return pe->pe_dc_on && dchan_usable(&pe->pe_dc, uv_now(pe->pe_srv->s_loop),
	    srv_dtls_window(pe->pe_srv));
}

static const char *transport_name(const struct peer *pe)
{
	return peer_on_dtls(pe) ? "dtls" : "tls";
}

static struct peer **addr_slot(struct srv *s, struct in_addr a)
{
	uint32_t off = ntohl(a.s_addr) - s->s_net_base;

	return off < s->s_by_addr_n ? &s->s_by_addr[off] : NULL;
}

static void peer_mark_dirty(struct peer *pe)
{
	struct srv *s = pe->pe_srv;

	if (!pe->pe_dirty) {
		pe->pe_dirty = true;
		pe->pe_dirty_next = s->s_dirty;
		s->s_dirty = pe;
	}
}

/* Queue one packet for pe on its current transport; flushed with the rest
 * of the batch at the end of the loop turn. */
static void peer_send(struct peer *pe, const uint8_t *pkt, size_t len)
{
	if (peer_on_dtls(pe)) {
		if (dchan_send(&pe->pe_dc, DC_DATA, pkt, len) < 0) {
			pe->pe_srv->s_stats.ss_drop_peer_full++;
			return;
		}
		pe->pe_tx_pkts++;
		pe->pe_tx_bytes += len;
		return;
	}
	if (stream_queue(&pe->pe_st, FRAME_DATA, pkt, len) < 0) {
		pe->pe_srv->s_stats.ss_drop_peer_full++;
		return;
	}
	pe->pe_tx_pkts++;
	pe->pe_tx_bytes += len;
	peer_mark_dirty(pe);
}

void srv_flush_dirty(struct srv *s)
{
	uint64_t now = uv_now(s->s_loop);
	struct peer *pe;
	int i;

	for (i = 0; i < s->s_nudp; i++)
		udp_tx_flush(s->s_udp_tx[i]);

	while ((pe = s->s_dirty) != NULL) {
		s->s_dirty = pe->pe_dirty_next;
		pe->pe_dirty = false;
		pe->pe_last_tx = now;
		stream_flush(&pe->pe_st);
	}
}

void srv_tun_read(struct srv *s)
{
	struct in_addr dst;
	struct peer **slot;
	ssize_t n;
	int i;

	for (i = 0; i < SRV_TUN_BUDGET; i++) {
		if ((n = read(s->s_tun_fd, s->s_pkt, sizeof(s->s_pkt))) <= 0)
			break;
		if (filt_tun_dst(s->s_pkt, (size_t)n, &dst) < 0) {
			s->s_stats.ss_drop_malformed++;
			continue;
		}
		if ((slot = addr_slot(s, dst)) == NULL || *slot == NULL) {
			s->s_stats.ss_drop_noroute++;
			continue;
		}
		peer_send(*slot, s->s_pkt, (size_t)n);
	}
}

/* A packet from pe: to the TUN device, to another peer, or dropped. */
static void peer_data_in(struct peer *pe, const uint8_t *pkt, size_t len)
{
	struct srv *s = pe->pe_srv;
	struct peer **slot;
	struct in_addr dst;

	pe->pe_rx_pkts++;
	pe->pe_rx_bytes += len;
	switch (filt_from_peer(&s->s_rules, pe->pe_addr, pkt, len, &dst)) {
	case FILT_TO_TUN:
		if (write(s->s_tun_fd, pkt, len) < 0)
			s->s_stats.ss_drop_tun_full++;
		break;
	case FILT_TO_PEER:
		if ((slot = addr_slot(s, dst)) != NULL && *slot != NULL)
			peer_send(*slot, pkt, len);
		else
			s->s_stats.ss_drop_noroute++;
		break;
	case FILT_DROP_MALFORMED: s->s_stats.ss_drop_malformed++; break;
	case FILT_DROP_SPOOF:     s->s_stats.ss_drop_spoof++; break;
	case FILT_DROP_ISOLATED:  s->s_stats.ss_drop_isolated++; break;
	}
}

static int peer_on_frame(void *arg, const struct frame *f)
{
	struct peer *pe = arg;
	char why[FRAME_CTRL_MAX + 32];

	pe->pe_last_rx = uv_now(pe->pe_srv->s_loop);
	if (pe->pe_state != PE_UP)
		return 0;		/* denied or closing: ignore input */
	switch (f->f_type) {
	case FRAME_DATA:
		peer_data_in(pe, f->f_payload, f->f_len);
		return 0;
	case FRAME_KEEPALIVE:
		return 0;
	case FRAME_BYE:
		snprintf(why, sizeof(why), "closed by peer: %.*s", (int)f->f_len,
		    (const char *)f->f_payload);
		peer_close(pe, why, NULL);
		return -1;
	default:
		peer_close(pe, "protocol error: unexpected control frame", "protocol error");
		return -1;
	}
}

/* ---- the DTLS channel ---- */

static unsigned id_bucket(const uint8_t id[DTLS_ID_LEN])
{
	return ((unsigned)id[0] << 8 | id[1]) % SRV_ID_BUCKETS;
}

static struct peer *id_lookup(struct srv *s, const uint8_t id[DTLS_ID_LEN])
{
	struct peer *pe;

	for (pe = s->s_by_id[id_bucket(id)]; pe != NULL; pe = pe->pe_id_next)
		if (memcmp(pe->pe_dc.dc_io.id, id, DTLS_ID_LEN) == 0)
			return pe;
	return NULL;
}

static void id_remove(struct srv *s, struct peer *pe)
{
	struct peer **pp;

	for (pp = &s->s_by_id[id_bucket(pe->pe_dc.dc_io.id)]; *pp != NULL;
	     pp = &(*pp)->pe_id_next)
		if (*pp == pe) {
			*pp = pe->pe_id_next;
			return;
		}
}

static int peer_udp_send(void *arg, const struct sockaddr_storage *dst,
    const void *buf, size_t len)
{
	struct peer *pe = arg;

	udp_tx_add(pe->pe_srv->s_udp_tx[pe->pe_udp], dst, buf, len);
	return 0;
}

static void peer_dc_msg(void *arg, uint8_t type, const uint8_t *p, size_t len)
{
	struct peer *pe = arg;
	struct srv *s = pe->pe_srv;

	pe->pe_last_rx = uv_now(s->s_loop);
	pe->pe_udp = s->s_udp_cur;	/* authenticated: answer on this socket */
	if (type == DC_DATA && len > 0)
		peer_data_in(pe, p, len);
}

static void peer_dc_state(void *arg, bool up, const char *why)
{
	struct peer *pe = arg;

	if (up) {
		conf_sockaddr_str(&pe->pe_dc.dc_io.dst, pe->pe_udp_endpoint,
		    sizeof(pe->pe_udp_endpoint));
		log_debug("peer %s DTLS handshake done", pe->pe_name);
	} else
		log_info("peer %s DTLS channel closed: %s", pe->pe_name, why);
}

static void peer_dc_roamed(void *arg, const struct sockaddr_storage *from)
{
	struct peer *pe = arg;
	char a[64];

	log_info("peer %s DTLS now from %s", pe->pe_name,
	    conf_sockaddr_str(from, a, sizeof(a)));
	snprintf(pe->pe_udp_endpoint, sizeof(pe->pe_udp_endpoint), "%s", a);
}

static const struct dchan_cb peer_dc_cb = {
	.msg = peer_dc_msg,
	.state = peer_dc_state,
	.roamed = peer_dc_roamed,
};

/* Offer the client a DTLS channel bound to this TLS session. */
static void peer_offer_dtls(struct peer *pe)
{
	struct srv *s = pe->pe_srv;
	int mtu = s->s_conf->c_tun_mtu + 100 > 1500 ? s->s_conf->c_tun_mtu + 100 : 1500;
	uint8_t id[DTLS_ID_LEN];

	if (s->s_dtls == NULL)
		return;
	do {
		if (RAND_bytes(id, sizeof(id)) != 1)
			return;
	} while (id_lookup(s, id) != NULL);
	if (dchan_init(&pe->pe_dc, s->s_dtls, true, pe->pe_st.st_ssl, id, mtu,
	    peer_udp_send, &peer_dc_cb, pe) < 0)
		return;
	pe->pe_dc_on = true;
	pe->pe_dc.dc_window = srv_dtls_window(s);
	pe->pe_id_next = s->s_by_id[id_bucket(id)];
	s->s_by_id[id_bucket(id)] = pe;
	stream_queue(&pe->pe_st, FRAME_DTLS, id, sizeof(id));
}

void srv_udp_in(struct srv *s, int sock, const uint8_t *dg, size_t len,
    const struct sockaddr_storage *from)
{
	const uint8_t *id = dtls_hdr_id(dg, len);
	struct peer *pe = id ? id_lookup(s, id) : NULL;

	if (pe == NULL || pe->pe_state != PE_UP) {
		s->s_stats.ss_udp_unknown++;
		return;
	}
	s->s_udp_cur = sock;
	if (pe->pe_dc.dc_state != DC_UP)
		pe->pe_udp = sock;	/* answer the handshake where it came */
	dchan_input(&pe->pe_dc, dg + DTLS_HDR, len - DTLS_HDR, from,
	    uv_now(s->s_loop), s->s_pkt, sizeof(s->s_pkt));
}

static void peer_dtls_close(struct peer *pe)
{
	struct srv *s = pe->pe_srv;

	if (!pe->pe_dc_on)
		return;
	id_remove(s, pe);
	s->s_stats.ss_dtls_dropped += pe->pe_dc.dc_dropped;
	dchan_free(&pe->pe_dc);
	pe->pe_dc_on = false;
}

static void peer_dtls_tick(struct peer *pe, uint64_t now)
{
	bool on;

	if (!pe->pe_dc_on)
		return;
	dchan_tick(&pe->pe_dc, now, 0);
	if ((on = peer_on_dtls(pe)) != pe->pe_on_dtls) {
		pe->pe_on_dtls = on;
		log_info("peer %s transport %s", pe->pe_name, on ? "dtls" :
		    "tls (DTLS silent)");
	}
}

/* The handshake of pe is over, one way or the other: release its place
 * in the pending counts; a failure costs its source a token. */
static void peer_handshake_over(struct peer *pe, bool failed)
{
	struct srv *s = pe->pe_srv;

	if (!pe->pe_pending)
		return;
	pe->pe_pending = false;
	s->s_pending--;
	limit_done(s->s_limit, &pe->pe_src, failed, uv_now(s->s_loop));
}

static void peer_deny(struct peer *pe, const char *why)
{
	struct srv *s = pe->pe_srv;

	s->s_stats.ss_denied++;
	peer_handshake_over(pe, true);
	log_info("peer %s %s denied: %s", pe->pe_fp, pe->pe_endpoint, why);
	stream_queue(&pe->pe_st, FRAME_DENY, why, strlen(why));
	pe->pe_state = PE_CLOSING;
	pe->pe_deadline = uv_now(s->s_loop) + SRV_LINGER_MS;
	stream_linger(&pe->pe_st);
}

static int peer_send_config(struct peer *pe)
{
	struct srv *s = pe->pe_srv;
	const struct conf *c = s->s_conf;
	struct msg_config m = { .mc_version = FRAME_VERSION };
	uint8_t buf[FRAME_CTRL_MAX];
	int n;

	m.mc_addr = pe->pe_addr;
	m.mc_plen = (uint8_t)c->c_network.plen;
	m.mc_gateway = pool_server_addr(s->s_pool);
	m.mc_mtu = (uint16_t)c->c_tun_mtu;
	m.mc_keepalive = (uint16_t)c->c_keepalive;
	m.mc_dead_peer_timeout = (uint16_t)c->c_dead_peer_timeout;
	memcpy(m.mc_routes, c->c_routes, sizeof(c->c_routes[0]) * (size_t)c->c_nroutes);
	m.mc_nroutes = c->c_nroutes;
	if ((n = msg_config_encode(&m, buf, sizeof(buf))) < 0)
		return n;
	return stream_queue(&pe->pe_st, FRAME_CONFIG, buf, (size_t)n);
}

/* Lease an address: the allow-list's static one, else from the pool. */
static int peer_lease(struct peer *pe, const struct allow_entry *ae)
{
	struct pool *p = pe->pe_srv->s_pool;
	int err;

	if (ae->ae_has_addr && (err = pool_reserve(p, ae->ae_addr, ae->ae_fp)) < 0)
		return err;
	return pool_lease(p, pe->pe_fp, &pe->pe_addr);
}

static int peer_on_established(void *arg)
{
	struct peer *pe = arg, *old;
	struct srv *s = pe->pe_srv;
	const struct allow_entry *ae;
	char a[INET_ADDRSTRLEN];
	int err;

	if (tls_peer_fp(pe->pe_st.st_ssl, pe->pe_fp) < 0) {
		peer_deny(pe, "no client key");
		return 0;
	}
	if ((ae = allow_find_fp(&s->s_allow, pe->pe_fp)) == NULL) {
		peer_deny(pe, "not on the allow-list");
		return 0;
	}
	snprintf(pe->pe_name, sizeof(pe->pe_name), "%s", ae->ae_name);
	for (old = s->s_peers; old != NULL; old = old->pe_next)
		if (old != pe && old->pe_state == PE_UP && strcmp(old->pe_fp, pe->pe_fp) == 0)
			peer_close(old, "replaced by a new session", "replaced by a new session");
	if ((err = peer_lease(pe, ae)) < 0) {
		peer_deny(pe, err == -ENOSPC ? "address pool exhausted" : "address in use");
		return 0;
	}
	peer_handshake_over(pe, false);
	if (pool_changed(s->s_pool))
		srv_save_leases(s);
	*addr_slot(s, pe->pe_addr) = pe;
	pe->pe_state = PE_UP;
	pe->pe_since = time(NULL);
	pe->pe_last_tx = uv_now(s->s_loop);
	s->s_npeers_up++;
	if (peer_send_config(pe) < 0) {
		peer_close(pe, "cannot send configuration", NULL);
		return -1;
	}
	peer_offer_dtls(pe);
	peer_mark_dirty(pe);
	log_info("peer %s %s connected, %s, %s", pe->pe_name, pe->pe_endpoint,
	    inet_ntop(AF_INET, &pe->pe_addr, a, sizeof(a)), transport_name(pe));
	return 0;
}

/* Failed handshakes are logged, but at most SRV_LOG_BURST lines every
 * SRV_LOG_BURST seconds: a flood must not flood the journal. What is held
 * back is counted and said once the budget returns. */
static bool srv_log_budget(struct srv *s)
{
	uint64_t now = uv_now(s->s_loop);

	if (now - s->s_log_refilled >= SRV_LOG_BURST * 1000) {
		if (s->s_log_suppressed > 0)
			log_info("%llu more handshake failures not logged",
			    (unsigned long long)s->s_log_suppressed);
		s->s_log_tokens = SRV_LOG_BURST;
		s->s_log_refilled = now;
		s->s_log_suppressed = 0;
	}
	if (s->s_log_tokens == 0) {
		s->s_log_suppressed++;
		return false;
	}
	s->s_log_tokens--;
	return true;
}

static void peer_on_failed(void *arg, const char *reason, int err)
{
	struct peer *pe = arg;

	if (pe->pe_state != PE_HANDSHAKE && (err == -EPROTO || err == -EMSGSIZE))
		pe->pe_srv->s_stats.ss_bad_frames++;
	if (pe->pe_state == PE_HANDSHAKE) {
		pe->pe_srv->s_stats.ss_handshake_failed++;
		if (srv_log_budget(pe->pe_srv))
			log_info("peer %s TLS handshake failed: %s", pe->pe_endpoint, reason);
	}
	peer_close(pe, reason, NULL);
}

static void peer_on_closed(void *arg)
{
	struct peer *pe = arg;
	struct srv *s = pe->pe_srv;
	struct peer **pp;

	for (pp = &s->s_dirty; *pp != NULL; pp = &(*pp)->pe_dirty_next)
		if (*pp == pe) {
			*pp = pe->pe_dirty_next;
			break;
		}
	if (pe->pe_prev != NULL)
		pe->pe_prev->pe_next = pe->pe_next;
	else
		s->s_peers = pe->pe_next;
	if (pe->pe_next != NULL)
		pe->pe_next->pe_prev = pe->pe_prev;
	free(pe);
}

static const struct stream_cb peer_stream_cb = {
	.established = peer_on_established,
	.frame = peer_on_frame,
	.failed = peer_on_failed,
	.closed = peer_on_closed,
};

/* End a session. why is logged for admitted peers; bye, if not NULL, is
 * sent to the peer before the connection closes. The peer stops passing
 * packets at once; its memory goes in the stream's close callback. */
void peer_close(struct peer *pe, const char *why, const char *bye)
{
	struct srv *s = pe->pe_srv;
	struct peer **slot;

	peer_handshake_over(pe, true);	/* no-op once admitted or denied */
	if (pe->pe_state == PE_UP) {
		peer_dtls_close(pe);
		if ((slot = addr_slot(s, pe->pe_addr)) != NULL && *slot == pe)
			*slot = NULL;
		pool_release(s->s_pool, pe->pe_fp);
		s->s_npeers_up--;
		s->s_stats.ss_rx_bytes += pe->pe_rx_bytes;
		s->s_stats.ss_tx_bytes += pe->pe_tx_bytes;
		s->s_stats.ss_rx_pkts += pe->pe_rx_pkts;
		s->s_stats.ss_tx_pkts += pe->pe_tx_pkts;
		s->s_stats.ss_bad_frames += pe->pe_st.st_bad_frames;
		log_info("peer %s %s disconnected: %s", pe->pe_name, pe->pe_endpoint, why);
	}
	if (bye != NULL && pe->pe_state == PE_UP &&
	    stream_queue(&pe->pe_st, FRAME_BYE, bye, strlen(bye)) == 0) {
		pe->pe_state = PE_CLOSING;
		pe->pe_deadline = uv_now(s->s_loop) + SRV_LINGER_MS;
		stream_linger(&pe->pe_st);
		return;
	}
	pe->pe_state = PE_CLOSING;
	stream_close(&pe->pe_st);
}

void peer_tick(struct peer *pe, uint64_t now)
{
	const struct conf *c = pe->pe_srv->s_conf;

	switch (pe->pe_state) {
	case PE_HANDSHAKE:
		if (now >= pe->pe_deadline) {
			pe->pe_srv->s_stats.ss_handshake_timeout++;
			log_debug("peer %s handshake timed out", pe->pe_endpoint);
			peer_close(pe, "handshake timeout", NULL);
		}
		break;
	case PE_CLOSING:
		if (now >= pe->pe_deadline)
			stream_close(&pe->pe_st);
		break;
	case PE_UP:
		peer_dtls_tick(pe, now);
		if (now - pe->pe_last_rx >= (uint64_t)c->c_dead_peer_timeout * 1000)
			peer_close(pe, "no packet within dead_peer_timeout", "timeout");
		else if (now - pe->pe_last_tx >= (uint64_t)c->c_keepalive * 1000 &&
		    stream_queue(&pe->pe_st, FRAME_KEEPALIVE, NULL, 0) == 0)
			peer_mark_dirty(pe);
		break;
	}
}

void peer_accept(struct srv *s, int fd, const struct sockaddr_storage *ss)
{
	uint64_t now = uv_now(s->s_loop);
	struct peer *pe;
	SSL *ssl;

	switch (limit_admit(s->s_limit, ss, now)) {
	case LIMIT_OK:
		break;
	case LIMIT_THROTTLED:
		s->s_stats.ss_throttled++;
		close(fd);
		return;
	case LIMIT_BUSY:
		s->s_stats.ss_busy++;
		close(fd);
		return;
	}
	if ((pe = calloc(1, sizeof(*pe))) == NULL ||
	    (ssl = tls_ssl_new(s->s_tls, fd)) == NULL) {
		limit_done(s->s_limit, ss, false, now);
		free(pe);
		close(fd);
		return;
	}
	pe->pe_srv = s;
	pe->pe_state = PE_HANDSHAKE;
	pe->pe_src = *ss;
	pe->pe_pending = true;
	s->s_pending++;
	conf_sockaddr_str(ss, pe->pe_endpoint, sizeof(pe->pe_endpoint));
	pe->pe_last_rx = now;
	pe->pe_deadline = now + SRV_HANDSHAKE_MS;
	pe->pe_next = s->s_peers;
	if (s->s_peers != NULL)
		s->s_peers->pe_prev = pe;
	s->s_peers = pe;
	if (stream_init(&pe->pe_st, s->s_loop, fd, ssl, &peer_stream_cb, pe) < 0) {
		peer_handshake_over(pe, false);
		s->s_peers = pe->pe_next;
		if (pe->pe_next != NULL)
			pe->pe_next->pe_prev = NULL;
		free(pe);
		return;
	}
	s->s_stats.ss_accepted++;
}

struct peer *srv_peer_by_name(struct srv *s, const char *name)
{
	struct peer *pe;

	for (pe = s->s_peers; pe != NULL; pe = pe->pe_next)
		if (pe->pe_state == PE_UP && strcmp(pe->pe_name, name) == 0)
			return pe;
	return NULL;
}

int srv_apply_allow(struct srv *s, const char *why)
{
	const struct allow_entry *ae;
	struct peer *pe, *next;
	size_t i;
	int n = 0;

	pool_clear_reserved(s->s_pool);
	for (i = 0; i < s->s_allow.al_n; i++)
		if (s->s_allow.al_e[i].ae_has_addr &&
		    pool_reserve(s->s_pool, s->s_allow.al_e[i].ae_addr,
		    s->s_allow.al_e[i].ae_fp) < 0)
			log_warnx("allow-list: %s: static address in use by another peer",
			    s->s_allow.al_e[i].ae_name);
	for (pe = s->s_peers; pe != NULL; pe = next) {
		next = pe->pe_next;
		if (pe->pe_state != PE_UP)
			continue;
		ae = allow_find_fp(&s->s_allow, pe->pe_fp);
		if (ae == NULL) {
			peer_close(pe, why, "removed from the allow-list");
			n++;
		} else if (ae->ae_has_addr && ae->ae_addr.s_addr != pe->pe_addr.s_addr) {
			peer_close(pe, "static address changed", "address changed");
			n++;
		} else
			snprintf(pe->pe_name, sizeof(pe->pe_name), "%s", ae->ae_name);
	}
	return n;
}
