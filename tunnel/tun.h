/* tun.h - the TUN device: opened from /dev/net/tun (IFF_TUN | IFF_NO_PI, so
 * reads and writes are bare IP packets), non-blocking, close-on-exec. The
 * device is not persistent: closing the fd removes it, even after a crash. */
#ifndef VPND_TUN_H
#define VPND_TUN_H

#include <net/if.h>
#include <sys/types.h>

/* Open/create NAME (may contain %d); the kernel's chosen name in ifname.
 * Returns the fd or -errno. */
int tun_open(const char *name, char ifname[IFNAMSIZ]);

/* Device I/O behind a small ops table so tests can swap in a socketpair. */
struct tun_ops {
	ssize_t (*read)(void *io, void *buf, size_t len);
	ssize_t (*write)(void *io, const void *buf, size_t len);
};
extern const struct tun_ops tun_fd_ops;	/* io = (void *)(intptr_t)fd */

#endif
