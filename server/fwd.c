/* fwd.c - the server's data plane, top to bottom: a packet read from TUN
 * (a super-packet's segments one by one, tunnel/tun.c) goes to the session
 * of the peer that holds its destination; a packet a
 * peer sent (its session hands it here) passes the anti-spoof and
 * isolation checks and goes to TUN or to another peer; a datagram goes to
 * the session its channel id names. Sessions queue what they send, and
 * fwd_flush writes it all once per loop turn: one sendmmsg per UDP socket,
 * one TLS write per busy peer, one TUN write per run of a TCP flow. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "conf/conf.h"
#include "server/fwd.h"
#include "tunnel/sess.h"
#include "tunnel/tun.h"
#include "tunnel/udp.h"

#define FWD_TUN_BUDGET   512	/* TUN reads per wakeup: drain its queue */
#define FWD_UDP_BATCHES  1	/* recvmmsg calls per wakeup: the socket buffer is deep */
#define FWD_ID_BUCKETS   1024	/* DTLS channel id -> peer */
#define FWD_ADDR6_BUCKETS 4096	/* IPv6 tunnel address -> peer */

struct fwd {
	struct tun_dev       *fw_tun;
	const char           *fw_offload;	/* tun_offload_str */
	struct filt_rules     fw_rules;
	struct fwd_link     **fw_by_addr;	/* by host offset in the network */
	uint32_t              fw_net_base;	/* host order */
	uint32_t              fw_by_addr_n;
	struct fwd_link      *fw_by_id[FWD_ID_BUCKETS];
	struct fwd_link      *fw_by_addr6[FWD_ADDR6_BUCKETS];	/* network6 */
	int                   fw_udp_fd[CONF_MAX_LISTEN];
	struct udp_tx        *fw_udp_tx[CONF_MAX_LISTEN];
	int                   fw_nudp;
	struct udp_rx        *fw_udp_rx;
	struct sess_batch     fw_batch;
	struct fwd_stats      fw_stats;
	uint8_t               fw_pkt[UDP_MSG_MAX];	/* one decrypted DTLS record */
};

/* ---- lookups ---- */

static struct fwd_link **addr_slot(struct fwd *f, struct in_addr a)
{
	uint32_t off = ntohl(a.s_addr) - f->fw_net_base;

	return off < f->fw_by_addr_n ? &f->fw_by_addr[off] : NULL;
}

static struct sess *peer_at(struct fwd *f, struct in_addr a)
{
	struct fwd_link **slot = addr_slot(f, a);

	return slot != NULL && *slot != NULL ? (*slot)->fl_sess : NULL;
}

static unsigned id_bucket(const uint8_t id[DTLS_ID_LEN])
{
	return ((unsigned)id[0] << 8 | id[1]) % FWD_ID_BUCKETS;
}

static struct fwd_link *id_lookup(struct fwd *f, const uint8_t id[DTLS_ID_LEN])
{
	struct fwd_link *l;
	const uint8_t *lid;

	for (l = f->fw_by_id[id_bucket(id)]; l != NULL; l = l->fl_id_next)
		if ((lid = sess_dtls_id(l->fl_sess)) != NULL &&
		    memcmp(lid, id, DTLS_ID_LEN) == 0)
			return l;
	return NULL;
}

/* network6's addresses differ in their low bits (host numbers from the
 * pool or chosen by hand): a hash of the last 8 bytes spreads them. */
static unsigned addr6_bucket(const struct in6_addr *a)
{
	const uint8_t *b = a->s6_addr + 8;
	uint64_t h = 0;
	int i;

	for (i = 0; i < 8; i++)
		h = h << 8 | b[i];
	h ^= h >> 29;
	h *= UINT64_C(0xbf58476d1ce4e5b9);
	h ^= h >> 32;
	return (unsigned)(h % FWD_ADDR6_BUCKETS);
}

static struct sess *peer_at6(struct fwd *f, const struct in6_addr *a)
{
	struct fwd_link *l;

	for (l = f->fw_by_addr6[addr6_bucket(a)]; l != NULL; l = l->fl_addr6_next)
		if (memcmp(&l->fl_addr6, a, 16) == 0)
			return l->fl_sess;
	return NULL;
}

/* The session an inner packet (its IP version's destination) goes to; the
 * drop counted if none. */
static struct sess *fwd_route(struct fwd *f, const uint8_t *pkt, size_t len)
{
	struct in6_addr dst6;
	struct in_addr dst;
	struct sess *to;

	if (len > 0 && pkt[0] >> 4 == 6) {
		if (filt_tun_dst6(pkt, len, &dst6) < 0) {
			f->fw_stats.fs_drop_malformed++;
			return NULL;
		}
		to = peer_at6(f, &dst6);
	} else if (filt_tun_dst(pkt, len, &dst) < 0) {
		f->fw_stats.fs_drop_malformed++;
		return NULL;
	} else
		to = peer_at(f, dst);
	if (to == NULL)
		f->fw_stats.fs_drop_noroute++;
	return to;
}

/* ---- TUN -> peer ---- */

/* A super-packet (sp) goes to the session whole: it sends it as one GSO
 * frame over TLS, or cuts it for DTLS or a peer without GSO frames. */
static void fwd_to_peer(void *arg, const uint8_t *pkt, size_t len,
    const struct vnet_super *sp)
{
	struct fwd *f = arg;
	struct sess *to;

	if ((to = fwd_route(f, pkt, len)) == NULL)
		return;
	if (sp != NULL)
		sess_send_super(to, sp);	/* drops counted there */
	else
		sess_send(to, pkt, len);
}

void fwd_tun_readable(struct fwd *f)
{
	tun_dev_read(f->fw_tun, FWD_TUN_BUDGET, true, fwd_to_peer, f);
}

/* ---- peer -> TUN or another peer ---- */

/* The sink of an attached peer's session: one inner packet it received, or
 * a super-packet (sp) whose IP header the filter judges for all of it. */
static void fwd_from_peer(void *arg, const uint8_t *pkt, size_t len,
    const struct vnet_super *sp)
{
	struct fwd_link *l = arg;
	struct fwd *f = l->fl_fwd;
	static const struct in6_addr none6;	/* a peer without IPv6 owns no source */
	enum filt_verdict v;
	struct in6_addr dst6;
	struct in_addr dst;
	struct sess *to;

	if (len > 0 && pkt[0] >> 4 == 6)
		v = filt_from_peer6(&f->fw_rules, l->fl_has6 ? &l->fl_addr6 : &none6,
		    pkt, len, &dst6);
	else
		v = filt_from_peer(&f->fw_rules, l->fl_addr, pkt, len, &dst);
	switch (v) {
	case FILT_TO_TUN:
		if (sp != NULL)
			tun_dev_write_super(f->fw_tun, sp);	/* refusals counted there */
		else
			tun_dev_write(f->fw_tun, pkt, len);
		break;
	case FILT_TO_PEER:
		if ((to = fwd_route(f, pkt, len)) == NULL)
			break;
		if (sp != NULL)
			sess_send_super(to, sp);
		else
			sess_send(to, pkt, len);
		break;
	case FILT_DROP_MALFORMED: f->fw_stats.fs_drop_malformed++; break;
	case FILT_DROP_SPOOF:     f->fw_stats.fs_drop_spoof++; break;
	case FILT_DROP_ISOLATED:  f->fw_stats.fs_drop_isolated++; break;
	case FILT_DROP_LINKLOCAL: f->fw_stats.fs_drop_linklocal++; break;
	}
}

/* ---- datagrams -> their session ---- */

void fwd_udp_readable(struct fwd *f, int sock)
{
	const struct sockaddr_storage *from;
	const uint8_t *dg, *id;
	struct fwd_link *l;
	size_t len;
	int b, i, n;

	for (b = 0; b < FWD_UDP_BATCHES; b++) {
		if ((n = udp_rx_recv(f->fw_udp_rx, f->fw_udp_fd[sock])) == 0)
			break;
		for (i = 0; i < n; i++) {
			dg = udp_rx_dgram(f->fw_udp_rx, i, &len, &from);
			if ((id = dtls_hdr_id(dg, len)) == NULL ||
			    (l = id_lookup(f, id)) == NULL) {
				f->fw_stats.fs_udp_unknown++;
				continue;
			}
			sess_datagram_in(l->fl_sess, f->fw_udp_tx[sock], dg, len, from,
			    f->fw_pkt, sizeof(f->fw_pkt));
		}
	}
}

/* ---- end of a loop turn ---- */

void fwd_flush(struct fwd *f)
{
	int i;

	tun_dev_flush(f->fw_tun);
	for (i = 0; i < f->fw_nudp; i++)
		udp_tx_flush(f->fw_udp_tx[i]);
	sess_batch_flush(&f->fw_batch);
}

/* ---- attaching peers ---- */

void fwd_attach(struct fwd *f, struct fwd_link *l)
{
	struct fwd_link **slot = addr_slot(f, l->fl_addr);
	const uint8_t *id = sess_dtls_id(l->fl_sess);

	l->fl_fwd = f;
	if (slot != NULL)
		*slot = l;
	if (id != NULL) {
		l->fl_id_next = f->fw_by_id[id_bucket(id)];
		f->fw_by_id[id_bucket(id)] = l;
	}
	if (l->fl_has6) {
		l->fl_addr6_next = f->fw_by_addr6[addr6_bucket(&l->fl_addr6)];
		f->fw_by_addr6[addr6_bucket(&l->fl_addr6)] = l;
	}
	sess_set_sink(l->fl_sess, fwd_from_peer, l);
}

void fwd_detach(struct fwd_link *l)
{
	struct fwd *f = l->fl_fwd;
	struct fwd_link **slot, **pp;
	const uint8_t *id;

	if (f == NULL)
		return;
	sess_set_sink(l->fl_sess, NULL, NULL);
	if ((slot = addr_slot(f, l->fl_addr)) != NULL && *slot == l)
		*slot = NULL;
	if ((id = sess_dtls_id(l->fl_sess)) != NULL)
		for (pp = &f->fw_by_id[id_bucket(id)]; *pp != NULL; pp = &(*pp)->fl_id_next)
			if (*pp == l) {
				*pp = l->fl_id_next;
				break;
			}
	if (l->fl_has6)
		for (pp = &f->fw_by_addr6[addr6_bucket(&l->fl_addr6)]; *pp != NULL;
		    pp = &(*pp)->fl_addr6_next)
			if (*pp == l) {
				*pp = l->fl_addr6_next;
				break;
			}
	l->fl_fwd = NULL;
}

int fwd_new_dtls_id(struct fwd *f, uint8_t id[DTLS_ID_LEN])
{
	do {
		if (RAND_bytes(id, DTLS_ID_LEN) != 1)
			return -EIO;
	} while (id_lookup(f, id) != NULL);
	return 0;
}

/* ---- set-up ---- */

int fwd_new(struct fwd **out, const struct tun_ops *tun,
    void *tun_io, bool vnet, unsigned offloads, const struct filt_rules *rules)
{
	struct fwd *f;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return -ENOMEM;
	if (tun_dev_new(&f->fw_tun, tun, tun_io, vnet, offloads) < 0) {
		free(f);
		return -ENOMEM;
	}
	f->fw_offload = tun_offload_str(vnet, offloads);
	f->fw_rules = *rules;
	f->fw_net_base = ntohl(rules->fr_net.addr.s_addr);
	f->fw_by_addr_n = rules->fr_net.plen >= 16 ? 1u << (32 - rules->fr_net.plen) : 0;
	if (f->fw_by_addr_n == 0 ||
	    (f->fw_by_addr = calloc(f->fw_by_addr_n, sizeof(*f->fw_by_addr))) == NULL ||
	    udp_rx_new(&f->fw_udp_rx) < 0) {
		fwd_free(f);
		return -ENOMEM;
	}
	*out = f;
	return 0;
}

void fwd_free(struct fwd *f)
{
	int i;

	if (f == NULL)
		return;
	for (i = 0; i < f->fw_nudp; i++)
		udp_tx_free(f->fw_udp_tx[i]);
	udp_rx_free(f->fw_udp_rx);
	tun_dev_free(f->fw_tun);
	free(f->fw_by_addr);
	free(f);
}

int fwd_add_udp(struct fwd *f, int fd)
{
	int err;

	if (f->fw_nudp >= CONF_MAX_LISTEN)
		return -ENOSPC;
	if ((err = udp_tx_new(&f->fw_udp_tx[f->fw_nudp], fd)) < 0)
		return err;
	f->fw_udp_fd[f->fw_nudp] = fd;
	return f->fw_nudp++;
}

void fwd_set_c2c(struct fwd *f, bool on)
{
	f->fw_rules.fr_c2c = on;
}

struct sess_batch *fwd_batch(struct fwd *f)
{
	return &f->fw_batch;
}

void fwd_stats(const struct fwd *f, struct fwd_stats *out)
{
	int i;

	*out = f->fw_stats;
	out->fs_tun = *tun_dev_stats(f->fw_tun);
	out->fs_drop_tun_full = out->fs_tun.ts_write_fails;
	out->fs_offload = f->fw_offload;
	for (i = 0; i < f->fw_nudp; i++)
		out->fs_udp_tx_drops += udp_tx_drops(f->fw_udp_tx[i]);
}
