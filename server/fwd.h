/* fwd.h - the server's data plane: packets between the TUN device and the
 * peers' sessions. TUN -> inner destination -> that peer's session; a
 * peer's packet (TLS frame or DTLS record, decrypted by its session) ->
 * anti-spoof and isolation -> TUN, or another peer. Datagrams find their
 * session by the DTLS channel id in their header. Lookups are O(1) (by
 * host offset in the tunnel network, and a hash of the id); nothing is
 * allocated or logged per packet, only counted. The control plane
 * (peer.c) attaches a peer once admitted and detaches it when it closes. */
#ifndef VPND_FWD_H
#define VPND_FWD_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "crypto/dtls.h"
#include "server/filter.h"
#include "tunnel/tun.h"

struct fwd;
struct sess;
struct sess_batch;
struct tun_ops;

/* A peer as the data plane sees it; embedded in the control plane's peer. */
struct fwd_link {
	struct sess     *fl_sess;
	struct in_addr   fl_addr;		/* its tunnel address */
	struct fwd      *fl_fwd;		/* set while attached */
	struct fwd_link *fl_id_next;		/* DTLS id bucket */
	bool             fl_has6;		/* it has an IPv6 address too */
	struct in6_addr  fl_addr6;
	struct fwd_link *fl_addr6_next;		/* IPv6 address bucket */
};

/* Packets dropped, by reason. */
struct fwd_stats {
	uint64_t fs_drop_spoof, fs_drop_isolated, fs_drop_malformed;
	uint64_t fs_drop_noroute, fs_drop_tun_full;
	uint64_t fs_drop_linklocal;	/* IPv6 link-local, multicast, ND */
	uint64_t fs_udp_unknown;		/* datagrams for no channel */
	uint64_t fs_udp_tx_drops;		/* datagrams the sockets refused */
	struct tun_stats fs_tun;		/* the device's reads and writes */
	const char *fs_offload;			/* its offloads, for people */
};

/* The TUN device behind tun (io is its argument; vnet and offloads: what
 * tun_open_vnet said); rules say the network, the server's address and
 * client_to_client. 0 or -ENOMEM. */
int  fwd_new(struct fwd **out, const struct tun_ops *tun, void *tun_io,
             bool vnet, unsigned offloads, const struct filt_rules *rules);
void fwd_free(struct fwd *f);				/* NULL is fine */
/* A UDP socket (DTLS) to read from and send on; its index or -errno. The
 * caller keeps the fd and closes it after fwd_free. */
int  fwd_add_udp(struct fwd *f, int fd);
void fwd_set_c2c(struct fwd *f, bool on);
/* The batch the sessions of this loop queue into (sess_init). */
struct sess_batch *fwd_batch(struct fwd *f);

/* A fresh DTLS channel id that no attached peer holds. 0 or -EIO. */
int  fwd_new_dtls_id(struct fwd *f, uint8_t id[DTLS_ID_LEN]);
/* Route l->fl_addr (and its session's DTLS id, if any) to l->fl_sess, and
 * take what the session receives. The address must be in the network. */
void fwd_attach(struct fwd *f, struct fwd_link *l);
void fwd_detach(struct fwd_link *l);			/* not attached: no-op */

/* The loop's events: TUN readable, UDP socket readable, end of turn. */
void fwd_tun_readable(struct fwd *f);
void fwd_udp_readable(struct fwd *f, int sock);
void fwd_flush(struct fwd *f);

void fwd_stats(const struct fwd *f, struct fwd_stats *out);

#endif
