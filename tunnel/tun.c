/* tun.c - the TUN device. tun_open() asks the kernel for a non-persistent
 * IFF_TUN | IFF_NO_PI device, so the fd carries bare IP packets and closing
 * it removes the device; tun_open_vnet() adds the virtio_net_hdr and the
 * offloads. tun_fd_ops is the real back-end of struct tun_ops (tests swap
 * in a socketpair); struct tun_dev the packet path over either kind of
 * device. Link, address and route setup live in nl.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/if_tun.h>

#include "tunnel/gro.h"
#include "tunnel/tun.h"

#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20		/* Linux 6.2; Debian 12's uapi headers predate it */
#define TUN_F_USO6 0x40
#endif
#define TUN_F_TSO  (TUN_F_TSO4 | TUN_F_TSO6)
#define TUN_F_USO  (TUN_F_USO4 | TUN_F_USO6)

static int tun_create(const char *name, char ifname[IFNAMSIZ], short flags)
{
	struct ifreq ifr;
	int fd, err;

	if (name == NULL || strlen(name) >= IFNAMSIZ)
		return -EINVAL;
	if ((fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC)) < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = (short)(IFF_TUN | IFF_NO_PI | flags);
	memcpy(ifr.ifr_name, name, strlen(name));
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	memcpy(ifname, ifr.ifr_name, IFNAMSIZ);
	ifname[IFNAMSIZ - 1] = '\0';
	return fd;
}

int tun_open(const char *name, char ifname[IFNAMSIZ])
{
	return tun_create(name, ifname, 0);
}

int tun_open_vnet(const char *name, char ifname[IFNAMSIZ], bool *vnet, unsigned *offloads)
{
	/* the most first; a kernel without TSO6 (or checksum offload at all)
	 * takes what it can, and no offload is still a valid vnet device */
	static const unsigned try[] = {
		TUN_F_CSUM | TUN_F_TSO | TUN_F_USO,
		TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6,
		TUN_F_CSUM | TUN_F_TSO4,
		TUN_F_CSUM,
		0,
	};
	int fd, sz = (int)VNET_HDR_LEN;
	const char *e;
	size_t i;

	*vnet = false;
	*offloads = 0;
	if ((e = getenv("VPND_TUN_OFFLOAD")) != NULL && strcmp(e, "0") == 0)
		return tun_open(name, ifname);
	if ((fd = tun_create(name, ifname, IFF_VNET_HDR)) < 0) {
		if (fd != -EINVAL)
			return fd;
		return tun_open(name, ifname);
	}
	if (ioctl(fd, TUNSETVNETHDRSZ, &sz) < 0) {
		close(fd);
		return tun_open(name, ifname);
	}
	for (i = 0; i < sizeof(try) / sizeof(try[0]); i++)
		if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)try[i]) == 0) {
			*offloads = try[i];
			break;
		}
	*vnet = true;
	return fd;
}

const char *tun_offload_str(bool vnet, unsigned offloads)
{
	if (!vnet)
		return "off";
	switch (offloads) {
	case TUN_F_CSUM | TUN_F_TSO | TUN_F_USO:   return "csum tso4 tso6 uso4 uso6";
	case TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6: return "csum tso4 tso6";
	case TUN_F_CSUM | TUN_F_TSO4:              return "csum tso4";
	case TUN_F_CSUM:                           return "csum";
	default:                                   return "none (header only)";
	}
}

static ssize_t tun_fd_read(void *io, void *buf, size_t len)
{
	return read((int)(intptr_t)io, buf, len);
}

static ssize_t tun_fd_write(void *io, const void *buf, size_t len)
{
	return write((int)(intptr_t)io, buf, len);
}

static ssize_t tun_fd_writev(void *io, const struct iovec *iov, int n)
{
	return writev((int)(intptr_t)io, iov, n);
}

const struct tun_ops tun_fd_ops = {
	.read   = tun_fd_read,
	.write  = tun_fd_write,
	.writev = tun_fd_writev,
};

/* ---- the packet path ---- */

struct tun_dev {
	const struct tun_ops *td_ops;
	void                 *td_io;
	bool                  td_vnet;
	unsigned              td_offloads;
	struct gro           *td_gro;	/* when the device takes TSO4 and TSO6
					 * (and UDP too with USO4 and USO6) */
	struct tun_stats      td_n;
	tun_pkt_fn           *td_fn;	/* during a cut: where segments go */
	void                 *td_arg;
	uint8_t               td_rx[VNET_HDR_LEN + VNET_PKT_MAX];
	uint8_t               td_seg[VNET_PKT_MAX];
};

static void tun_dev_put(struct tun_dev *d, const uint8_t *buf, size_t len)
{
	d->td_n.ts_writes++;
	if (d->td_ops->write(d->td_io, buf, len) < 0)
		d->td_n.ts_write_fails++;
}

/* A header and the packet it heads, each written from where it is, not
 * copied together first (up to 64 KiB a write). writev only reads what
 * iov_base points to, hence the casts through uintptr_t. */
static void tun_dev_putv(struct tun_dev *d, const struct virtio_net_hdr *h,
    const uint8_t *pkt, size_t len)
{
	struct iovec iov[2] = {
		{ .iov_base = (void *)(uintptr_t)h,   .iov_len = VNET_HDR_LEN },
		{ .iov_base = (void *)(uintptr_t)pkt, .iov_len = len },
	};

	d->td_n.ts_writes++;
	if (d->td_ops->writev(d->td_io, iov, 2) < 0)
		d->td_n.ts_write_fails++;
}

static int tun_dev_gro_put(void *arg, const uint8_t *buf, size_t len)
{
	tun_dev_put(arg, buf, len);
	return (int)len;
}

int tun_dev_new(struct tun_dev **out, const struct tun_ops *ops, void *io, bool vnet,
    unsigned offloads)
{
	struct tun_dev *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return -ENOMEM;
	d->td_ops = ops;
	d->td_io = io;
	d->td_vnet = vnet;
	d->td_offloads = vnet ? offloads : 0;
	if ((d->td_offloads & TUN_F_TSO) == TUN_F_TSO &&
	    gro_new(&d->td_gro, GRO_TCP | ((d->td_offloads & TUN_F_USO) == TUN_F_USO ?
	    GRO_UDP : 0), tun_dev_gro_put, d) < 0) {
		free(d);
		return -ENOMEM;
	}
	*out = d;
	return 0;
}

void tun_dev_free(struct tun_dev *d)
{
	if (d == NULL)
		return;
	gro_free(d->td_gro);
	free(d);
}

static void tun_dev_seg(void *arg, const uint8_t *seg, size_t len)
{
	struct tun_dev *d = arg;

	d->td_n.ts_segs++;
	d->td_fn(d->td_arg, seg, len, NULL);
}

void tun_dev_cut(struct tun_dev *d, const struct vnet_super *sp, tun_pkt_fn *fn, void *arg)
{
	d->td_fn = fn;
	d->td_arg = arg;
	vnet_segment(&sp->vs_h, &sp->vs_vi, sp->vs_pkt, sp->vs_len, d->td_seg,
	    sizeof(d->td_seg), tun_dev_seg, d);
}

int tun_dev_read(struct tun_dev *d, int budget, bool whole, tun_pkt_fn *fn, void *arg)
{
	struct vnet_super sp;
	const uint8_t *pkt = d->td_rx + VNET_HDR_LEN;
	ssize_t n;
	int i;

	for (i = 0; i < budget; i++) {
		if ((n = d->td_ops->read(d->td_io, d->td_rx, sizeof(d->td_rx))) <= 0)
			break;
		d->td_n.ts_reads++;
		if (!d->td_vnet) {
			d->td_n.ts_segs++;
			fn(arg, d->td_rx, (size_t)n, NULL);
			continue;
		}
		if ((size_t)n <= VNET_HDR_LEN) {
			d->td_n.ts_bad++;
			continue;
		}
		memcpy(&sp.vs_h, d->td_rx, VNET_HDR_LEN);
		sp.vs_pkt = pkt;
		sp.vs_len = (size_t)n - VNET_HDR_LEN;
		if (sp.vs_h.gso_type == VIRTIO_NET_HDR_GSO_NONE &&
		    !(sp.vs_h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)) {
			d->td_n.ts_segs++;
			fn(arg, pkt, sp.vs_len, NULL);	/* the common small packet */
			continue;
		}
		if (vnet_check(&sp.vs_h, pkt, sp.vs_len, 0, &sp.vs_vi) < 0) {
			d->td_n.ts_bad++;
			continue;
		}
		if (sp.vs_vi.vi_gso == 0 || !whole) {
			d->td_n.ts_supers += sp.vs_vi.vi_gso != 0;
			tun_dev_cut(d, &sp, fn, arg);
			continue;
		}
		d->td_n.ts_supers++;
		d->td_n.ts_segs += sp.vs_vi.vi_nseg;
		fn(arg, pkt, sp.vs_len, &sp);
	}
	return i;
}

void tun_dev_write(struct tun_dev *d, const uint8_t *pkt, size_t len)
{
	if (d->td_gro != NULL) {
		gro_add(d->td_gro, pkt, len);
		return;
	}
	if (!d->td_vnet) {
		tun_dev_put(d, pkt, len);
		return;
	}
	if (len > VNET_PKT_MAX)
		return;
	tun_dev_putv(d, &(const struct virtio_net_hdr){ .gso_type = VIRTIO_NET_HDR_GSO_NONE },
	    pkt, len);
}

static void tun_dev_write_seg(void *arg, const uint8_t *pkt, size_t len,
    const struct vnet_super *sp)
{
	(void)sp;
	tun_dev_write(arg, pkt, len);
}

void tun_dev_write_super(struct tun_dev *d, const struct vnet_super *sp)
{
	bool udp = sp->vs_vi.vi_proto == IPPROTO_UDP;
	unsigned need = sp->vs_vi.vi_ipv == 4 ? (udp ? TUN_F_USO4 : TUN_F_TSO4) :
	    (udp ? TUN_F_USO6 : TUN_F_TSO6);

	if (sp->vs_vi.vi_gso == 0 || !(d->td_offloads & need)) {
		tun_dev_cut(d, sp, tun_dev_write_seg, d);
		return;
	}
	if (d->td_gro != NULL)
		gro_flush(d->td_gro);	/* what the flow had held goes first */
	tun_dev_putv(d, &sp->vs_h, sp->vs_pkt, sp->vs_len);
}

void tun_dev_flush(struct tun_dev *d)
{
	if (d->td_gro != NULL)
		gro_flush(d->td_gro);
}

const struct tun_stats *tun_dev_stats(const struct tun_dev *d)
{
	return &d->td_n;
}
