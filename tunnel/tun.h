/* tun.h - the TUN device: opened from /dev/net/tun (IFF_TUN | IFF_NO_PI),
 * non-blocking, close-on-exec; the device is not persistent: closing the fd
 * removes it, even after a crash.
 *
 * With offloads (tun_open_vnet) every read and write starts with a
 * virtio_net_hdr and the kernel hands over TSO super-packets of up to 64
 * KiB. struct tun_dev is the packet path both ends run over the device:
 * reads come out as the packets they carry, a super-packet cut into its
 * segments (tunnel/vnet.c); writes of a batch are coalesced into
 * super-packets (tunnel/gro.c) and go out at tun_dev_flush. A device
 * without offloads takes the same calls, one packet per read and write. */
#ifndef VPND_TUN_H
#define VPND_TUN_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tunnel/vnet.h"

struct gro;

/* Open/create NAME (may contain %d); the kernel's chosen name in ifname.
 * Returns the fd or -errno. */
int tun_open(const char *name, char ifname[IFNAMSIZ]);
/* The same with IFF_VNET_HDR and the offloads the kernel accepts of
 * checksum, TSO4 and TSO6 (TUN_F_* bits into *offloads). A kernel that
 * refuses the header gets a plain device (*offloads = 0, *vnet false), as
 * does VPND_TUN_OFFLOAD=0 in the environment (tests, or an operator
 * ruling offloads out). */
int tun_open_vnet(const char *name, char ifname[IFNAMSIZ], bool *vnet, unsigned *offloads);
/* "csum tso4 tso6", "none (header only)", "off" for the log. */
const char *tun_offload_str(bool vnet, unsigned offloads);

/* Device I/O behind a small ops table so tests can swap in a socketpair. */
struct iovec;
struct tun_ops {
	ssize_t (*read)(void *io, void *buf, size_t len);
	ssize_t (*write)(void *io, const void *buf, size_t len);
	/* One packet in n pieces (a header and what it heads). */
	ssize_t (*writev)(void *io, const struct iovec *iov, int n);
};
extern const struct tun_ops tun_fd_ops;	/* io = (void *)(intptr_t)fd */

/* Called once per packet read, pkt valid until it returns; sp is NULL for
 * a plain packet, else the checked super-packet pkt is (tun_dev_read says
 * whether to cut it). */
typedef void tun_pkt_fn(void *arg, const uint8_t *pkt, size_t len,
    const struct vnet_super *sp);

struct tun_stats {
	uint64_t ts_reads;		/* read() calls that returned a packet */
	uint64_t ts_supers;		/* of them, super-packets */
	uint64_t ts_segs;		/* packets handed on, segments included */
	uint64_t ts_bad;		/* headers the kernel should not have made */
	uint64_t ts_writes;		/* write() calls */
	uint64_t ts_write_fails;	/* of them refused (queue full) */
};

struct tun_dev;

/* vnet, offloads: what tun_open_vnet said. The ops and io are borrowed.
 * 0 or -ENOMEM. */
int  tun_dev_new(struct tun_dev **out, const struct tun_ops *ops, void *io, bool vnet,
                 unsigned offloads);
void tun_dev_free(struct tun_dev *d);	/* NULL is fine */
/* Up to budget reads; each packet to fn. whole: fn takes super-packets as
 * they are (sp set); else they come cut, one call per segment. Returns the
 * reads done (< budget: the device is drained). */
int  tun_dev_read(struct tun_dev *d, int budget, bool whole, tun_pkt_fn *fn, void *arg);
/* Cut a super-packet (as tun_dev_read would have) into fn. */
void tun_dev_cut(struct tun_dev *d, const struct vnet_super *sp, tun_pkt_fn *fn, void *arg);
/* One packet for the device: held for coalescing, or written. */
void tun_dev_write(struct tun_dev *d, const uint8_t *pkt, size_t len);
/* A checked super-packet for the device: written whole where the device
 * takes TSO for it, else cut and written segment by segment. */
void tun_dev_write_super(struct tun_dev *d, const struct vnet_super *sp);
/* Write what the batch held (once per loop turn). */
void tun_dev_flush(struct tun_dev *d);
const struct tun_stats *tun_dev_stats(const struct tun_dev *d);

#endif
