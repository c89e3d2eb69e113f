/* udp.c - sendmmsg/recvmmsg batches. Buffers are allocated once per socket;
 * nothing is allocated per datagram. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tunnel/udp.h"

#define UDP_SOCKBUF (4 * 1024 * 1024)

struct udp_tx {
	int                     t_fd;
	unsigned                t_n;
	uint64_t                t_drops;
	struct mmsghdr          t_msg[UDP_TX_BATCH];
	struct iovec            t_iov[UDP_TX_BATCH];
	struct sockaddr_storage t_addr[UDP_TX_BATCH];
	uint8_t                 t_buf[UDP_TX_BATCH][UDP_DGRAM_MAX];
};

struct udp_rx {
	struct mmsghdr          r_msg[UDP_RX_BATCH];
	struct iovec            r_iov[UDP_RX_BATCH];
	struct sockaddr_storage r_addr[UDP_RX_BATCH];
	uint8_t                 r_buf[UDP_RX_BATCH][UDP_DGRAM_MAX];
};

static socklen_t addr_len(const struct sockaddr_storage *a)
{
	return a->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	    sizeof(struct sockaddr_in);
}

int udp_tx_new(struct udp_tx **out, int fd)
{
	struct udp_tx *tx;

	if ((tx = calloc(1, sizeof(*tx))) == NULL)
		return -ENOMEM;
	tx->t_fd = fd;
	*out = tx;
	return 0;
}

void udp_tx_free(struct udp_tx *tx)
{
	free(tx);
}

void udp_tx_flush(struct udp_tx *tx)
{
	unsigned off = 0;
	int n;

	while (off < tx->t_n) {
		n = sendmmsg(tx->t_fd, tx->t_msg + off, tx->t_n - off, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != ENOBUFS)
				off++;		/* skip the offending datagram */
			else {
				tx->t_drops += tx->t_n - off;
				break;
			}
			tx->t_drops++;
			continue;
		}
		off += (unsigned)n;
	}
	tx->t_n = 0;
}

void udp_tx_add(struct udp_tx *tx, const struct sockaddr_storage *dst,
    const void *buf, size_t len)
{
	unsigned i;

	if (len > UDP_DGRAM_MAX) {
		tx->t_drops++;
		return;
	}
	if (tx->t_n == UDP_TX_BATCH)
		udp_tx_flush(tx);
	i = tx->t_n++;
	memcpy(tx->t_buf[i], buf, len);
	tx->t_addr[i] = *dst;
	tx->t_iov[i].iov_base = tx->t_buf[i];
	tx->t_iov[i].iov_len = len;
	memset(&tx->t_msg[i], 0, sizeof(tx->t_msg[i]));
	tx->t_msg[i].msg_hdr.msg_iov = &tx->t_iov[i];
	tx->t_msg[i].msg_hdr.msg_iovlen = 1;
	tx->t_msg[i].msg_hdr.msg_name = &tx->t_addr[i];
	tx->t_msg[i].msg_hdr.msg_namelen = addr_len(dst);
}

uint64_t udp_tx_drops(const struct udp_tx *tx)
{
	return tx->t_drops;
}

int udp_rx_new(struct udp_rx **out)
{
	struct udp_rx *rx;
	int i;

	if ((rx = calloc(1, sizeof(*rx))) == NULL)
		return -ENOMEM;
	for (i = 0; i < UDP_RX_BATCH; i++) {
		rx->r_iov[i].iov_base = rx->r_buf[i];
		rx->r_iov[i].iov_len = UDP_DGRAM_MAX;
		rx->r_msg[i].msg_hdr.msg_iov = &rx->r_iov[i];
		rx->r_msg[i].msg_hdr.msg_iovlen = 1;
		rx->r_msg[i].msg_hdr.msg_name = &rx->r_addr[i];
	}
	*out = rx;
	return 0;
}

void udp_rx_free(struct udp_rx *rx)
{
	free(rx);
}

int udp_rx_recv(struct udp_rx *rx, int fd)
{
	int i, n;

	for (i = 0; i < UDP_RX_BATCH; i++)
		rx->r_msg[i].msg_hdr.msg_namelen = sizeof(rx->r_addr[i]);
	do
		n = recvmmsg(fd, rx->r_msg, UDP_RX_BATCH, MSG_DONTWAIT, NULL);
	while (n < 0 && errno == EINTR);
	return n < 0 ? 0 : n;	/* EAGAIN, or ICMP errors on a connected socket */
}

const uint8_t *udp_rx_dgram(const struct udp_rx *rx, int i, size_t *len,
    const struct sockaddr_storage **from)
{
	*len = rx->r_msg[i].msg_len;
	*from = &rx->r_addr[i];
	return rx->r_buf[i];
}

static int udp_socket(int family)
{
	int fd, v = IP_PMTUDISC_DONT, bufsz = UDP_SOCKBUF;

	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* Room for bursts: a batch of full-size datagrams per peer. FORCE
	 * passes net.core.[rw]mem_max when we have CAP_NET_ADMIN. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bufsz, sizeof(bufsz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bufsz, sizeof(bufsz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));
	if (family == AF_INET)
		setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &v, sizeof(v));
	else {
		v = IPV6_PMTUDISC_DONT;
		setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &v, sizeof(v));
	}
	return fd;
}

int udp_bind(const struct sockaddr_storage *addr)
{
	int fd, one = 1, err;

	if ((fd = udp_socket(addr->ss_family)) < 0)
		return fd;
	if (addr->ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)addr, addr_len(addr)) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int udp_connect(const struct sockaddr_storage *addr)
{
	int fd, err;

	if ((fd = udp_socket(addr->ss_family)) < 0)
		return fd;
	if (connect(fd, (const struct sockaddr *)addr, addr_len(addr)) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}
