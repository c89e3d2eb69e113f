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
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/if_tun.h>

#include "tunnel/gro.h"
#include "tunnel/tun.h"

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

const struct tun_ops tun_fd_ops = {
	.read  = tun_fd_read,
	.write = tun_fd_write,
};

/* ---- the packet path ---- */

struct tun_dev {
	const struct tun_ops *td_ops;
	void                 *td_io;
	bool                  td_vnet;
	struct gro           *td_gro;
	struct tun_stats      td_n;
	tun_pkt_fn           *td_fn;	/* during a read: where segments go */
	void                 *td_arg;
	uint8_t               td_rx[VNET_HDR_LEN + VNET_PKT_MAX];
	uint8_t               td_seg[VNET_PKT_MAX];
};

static int tun_dev_put(void *arg, const uint8_t *buf, size_t len)
{
	struct tun_dev *d = arg;
	ssize_t n = d->td_ops->write(d->td_io, buf, len);

	d->td_n.ts_writes++;
	if (n < 0)
		d->td_n.ts_write_fails++;
	return (int)n;
}

int tun_dev_new(struct tun_dev **out, const struct tun_ops *ops, void *io, bool vnet)
{
	struct tun_dev *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return -ENOMEM;
	d->td_ops = ops;
	d->td_io = io;
	d->td_vnet = vnet;
	if (vnet && gro_new(&d->td_gro, tun_dev_put, d) < 0) {
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
	d->td_fn(d->td_arg, seg, len);
}

int tun_dev_read(struct tun_dev *d, int budget, tun_pkt_fn *fn, void *arg)
{
	struct virtio_net_hdr h;
	struct vnet_info vi;
	uint8_t *pkt = d->td_rx + VNET_HDR_LEN;
	size_t len;
	ssize_t n;
	int i;

	for (i = 0; i < budget; i++) {
		if (!d->td_vnet) {
			if ((n = d->td_ops->read(d->td_io, d->td_rx, sizeof(d->td_rx))) <= 0)
				break;
			d->td_n.ts_reads++;
			d->td_n.ts_segs++;
			fn(arg, d->td_rx, (size_t)n);
			continue;
		}
		if ((n = d->td_ops->read(d->td_io, d->td_rx, sizeof(d->td_rx))) <= 0)
			break;
		d->td_n.ts_reads++;
		if ((size_t)n <= VNET_HDR_LEN) {
			d->td_n.ts_bad++;
			continue;
		}
		memcpy(&h, d->td_rx, VNET_HDR_LEN);
		len = (size_t)n - VNET_HDR_LEN;
		if (h.gso_type == VIRTIO_NET_HDR_GSO_NONE && !(h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)) {
			d->td_n.ts_segs++;
			fn(arg, pkt, len);	/* the common small packet: as it is */
			continue;
		}
		if (vnet_check(&h, pkt, len, 0, &vi) < 0) {
			d->td_n.ts_bad++;
			continue;
		}
		if (vi.vi_gso != 0)
			d->td_n.ts_supers++;
		d->td_fn = fn;
		d->td_arg = arg;
		vnet_segment(&h, &vi, pkt, len, d->td_seg, sizeof(d->td_seg), tun_dev_seg, d);
	}
	return i;
}

void tun_dev_write(struct tun_dev *d, const uint8_t *pkt, size_t len)
{
	ssize_t n;

	if (d->td_vnet) {
		gro_add(d->td_gro, pkt, len);
		return;
	}
	n = d->td_ops->write(d->td_io, pkt, len);
	d->td_n.ts_writes++;
	if (n < 0)
		d->td_n.ts_write_fails++;
}

void tun_dev_flush(struct tun_dev *d)
{
	if (d->td_vnet)
		gro_flush(d->td_gro);
}

const struct tun_stats *tun_dev_stats(const struct tun_dev *d)
{
	return &d->td_n;
}
