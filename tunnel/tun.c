/* tun.c - the TUN device. tun_open() asks the kernel for a non-persistent
 * IFF_TUN | IFF_NO_PI device, so the fd carries bare IP packets and closing
 * it removes the device; tun_fd_ops is the real back-end of struct tun_ops
 * (tests swap in a socketpair). Link, address and route setup live in nl.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/if_tun.h>

#include "tunnel/tun.h"

int tun_open(const char *name, char ifname[IFNAMSIZ])
{
	struct ifreq ifr;
	int fd, err;

	if (name == NULL || strlen(name) >= IFNAMSIZ)
		return -EINVAL;
	if ((fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC)) < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
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
