/* udp.c - sendmmsg/recvmmsg batches. Buffers are allocated once per socket;
 * nothing is allocated per datagram. A wildcard socket reports each
 * datagram's local address (pktinfo), kept in the peer's struct udp_path
 * and handed back as the source of the replies. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tunnel/sock.h"
#include "tunnel/udp.h"

_Static_assert(sizeof(struct udp_path) <= sizeof(struct sockaddr_storage),
    "a path fits a sockaddr_storage");

/* Room for the control messages of one datagram: a source (the larger of
 * the two pktinfos) and a GSO segment size, or GRO's on receive. */
#define PKTINFO_SPACE (CMSG_SPACE(sizeof(struct in6_pktinfo)) > \
	CMSG_SPACE(sizeof(struct in_pktinfo)) ? CMSG_SPACE(sizeof(struct in6_pktinfo)) : \
	CMSG_SPACE(sizeof(struct in_pktinfo)))

#define UDP_SOCKBUF (4 * 1024 * 1024)

#define GSO_MAX_BYTES 65000	/* one UDP_SEGMENT send: under 64 KiB of IP */
/* The batch's datagrams lie back to back: room for UDP_TX_BATCH of a
 * 1400-byte tunnel's (1475 bytes each) and one more of the largest; with
 * larger ones the batch is sent sooner. A slot for each of the largest
 * would make 576 KiB, all of it resident once a bulk transfer has filled
 * the batch. */
#define UDP_TX_BYTES  (UDP_TX_BATCH * 1488 + UDP_DGRAM_MAX)

struct udp_tx {
	int                     t_fd;
	unsigned                t_n;
	bool                    t_gso;		/* UDP_SEGMENT works on this socket */
	uint64_t                t_drops;
	struct mmsghdr          t_msg[UDP_TX_BATCH];
	struct mmsghdr          t_gmsg[UDP_TX_BATCH];	/* runs, for GSO */
	union {
		char            buf[PKTINFO_SPACE];
		struct cmsghdr  align;
	}                       t_cmsg[UDP_TX_BATCH];	/* a message's source */
	union {
		char            buf[PKTINFO_SPACE + CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr  align;
	}                       t_gcmsg[UDP_TX_BATCH];	/* a run's source, size */
	struct iovec            t_iov[UDP_TX_BATCH];
	struct sockaddr_storage t_addr[UDP_TX_BATCH];
	size_t                  t_off;		/* bytes of t_buf in use */
	_Alignas(16) uint8_t    t_buf[UDP_TX_BYTES];	/* the datagrams, back to back */
};

#define RX_BUF    65536		/* one GRO super-datagram */
#define RX_SEGS   (UDP_RX_BATCH * 64)

struct udp_seg {
	const uint8_t                 *sg_p;
	size_t                         sg_len;
	const struct sockaddr_storage *sg_from;
};

struct udp_rx {
	struct mmsghdr          r_msg[UDP_RX_BATCH];
	struct iovec            r_iov[UDP_RX_BATCH];
	struct sockaddr_storage r_addr[UDP_RX_BATCH];
	union {
		char            buf[CMSG_SPACE(sizeof(int)) + CMSG_SPACE(sizeof(struct in_pktinfo)) +
		                    CMSG_SPACE(sizeof(struct in6_pktinfo))];
		struct cmsghdr  align;
	}                       r_cmsg[UDP_RX_BATCH];
	struct udp_seg          r_seg[RX_SEGS];
	uint8_t                 r_buf[UDP_RX_BATCH][RX_BUF];
};
static socklen_t addr_len(const struct sockaddr_storage *a)
{
	return sock_len(a);
}

const struct udp_local *udp_local_of(const struct sockaddr_storage *ss)
{
	return &((const struct udp_path *)ss)->up_local;
}

static struct udp_local *local_of(struct sockaddr_storage *ss)
{
	return &((struct udp_path *)ss)->up_local;
}

int udp_tx_new(struct udp_tx **out, int fd)
{
	struct udp_tx *tx;

	if ((tx = calloc(1, sizeof(*tx))) == NULL)
		return -ENOMEM;
	tx->t_fd = fd;
	tx->t_gso = true;
	*out = tx;
	return 0;
}

void udp_tx_free(struct udp_tx *tx)
{
	free(tx);
}

/* One control message at cm: level, type and len bytes of data. Returns
 * the room it takes (CMSG_SPACE). */
static size_t cmsg_put(struct cmsghdr *cm, int level, int type, const void *data,
    size_t len)
{
	cm->cmsg_level = level;
	cm->cmsg_type = type;
	cm->cmsg_len = CMSG_LEN(len);
	memcpy(CMSG_DATA(cm), data, len);
	return CMSG_SPACE(len);
}

/* Send msgs[0..n) with sendmmsg; a full socket buffer drops the rest.
 * count[k] is how many datagrams message k holds (NULL: one each). With
 * count, a message refused with EIO/EINVAL (GSO not possible) stops the
 * send: returns -1 with *done the datagrams sent before it. Else 0. */
static int send_all(struct udp_tx *tx, struct mmsghdr *msgs, unsigned n,
    const unsigned *count, unsigned *done)
{
	unsigned off = 0, k;
	int r;

	*done = 0;
	while (off < n) {
		r = sendmmsg(tx->t_fd, msgs + off, n - off, 0);
		if (r > 0) {
			for (k = off; k < off + (unsigned)r; k++)
				*done += count ? count[k] : 1;
			off += (unsigned)r;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (count != NULL && (errno == EIO || errno == EINVAL))
			return -1;
		if (errno == EAGAIN || errno == ENOBUFS) {
			for (k = off; k < n; k++)
				tx->t_drops += count ? count[k] : 1;
			break;
		}
		tx->t_drops += count ? count[off] : 1;	/* skip the offending one */
		off++;
	}
	return 0;
}

static bool same_dst(const struct udp_tx *tx, unsigned a, unsigned b)
{
	return tx->t_msg[a].msg_hdr.msg_namelen == tx->t_msg[b].msg_hdr.msg_namelen &&
	    memcmp(&tx->t_addr[a], &tx->t_addr[b], tx->t_msg[a].msg_hdr.msg_namelen) == 0 &&
	    memcmp(udp_local_of(&tx->t_addr[a]), udp_local_of(&tx->t_addr[b]),
	    sizeof(struct udp_local)) == 0;
}

/* Runs of datagrams to one address, all of one size but the last, go out
 * as one UDP_SEGMENT send: the stack is walked once per run, not once per
 * datagram, and the device (or the kernel, late) cuts them. */
static unsigned gso_group(struct udp_tx *tx, unsigned *count)
{
	unsigned i = 0, j, g = 0;
	size_t seg;

	while (i < tx->t_n) {
		seg = tx->t_iov[i].iov_len;
		for (j = i + 1; j < tx->t_n && same_dst(tx, i, j) &&
		    (j - i + 1) * seg <= GSO_MAX_BYTES; j++) {
			if (tx->t_iov[j].iov_len > seg)
				break;
			if (tx->t_iov[j].iov_len < seg) {
				j++;		/* a shorter one may end the run */
				break;
			}
		}
		tx->t_gmsg[g] = tx->t_msg[i];
		tx->t_gmsg[g].msg_hdr.msg_iovlen = j - i;
		if (j - i > 1) {
			size_t src = tx->t_msg[i].msg_hdr.msg_controllen;
			struct cmsghdr *cm = (struct cmsghdr *)(tx->t_gcmsg[g].buf + src);
			uint16_t gso = (uint16_t)seg;

			if (src > 0)		/* the run's source first */
				memcpy(tx->t_gcmsg[g].buf, tx->t_cmsg[i].buf, src);
			tx->t_gmsg[g].msg_hdr.msg_control = tx->t_gcmsg[g].buf;
			tx->t_gmsg[g].msg_hdr.msg_controllen = src +
			    cmsg_put(cm, SOL_UDP, UDP_SEGMENT, &gso, sizeof(gso));
		}
		count[g++] = j - i;
		i = j;
	}
	return g;
}

void udp_tx_flush(struct udp_tx *tx)
{
	unsigned count[UDP_TX_BATCH], g, done = 0;

	if (tx->t_n == 0)
		return;
	if (tx->t_gso && tx->t_n > 1) {
		g = gso_group(tx, count);
		if (send_all(tx, tx->t_gmsg, g, count, &done) == 0) {
			tx->t_n = 0;
			tx->t_off = 0;
			return;
		}
		tx->t_gso = false;	/* refused here: one datagram at a time */
	}
	send_all(tx, tx->t_msg + done, tx->t_n - done, NULL, &done);
	tx->t_n = 0;
	tx->t_off = 0;
}

/* The source of message i, from its path's local address: IP_PKTINFO's
 * ipi_spec_dst for an IPv4 peer (also through a dual-stack socket), or
 * IPV6_PKTINFO. The interface is left to the routing table (0). */
static void tx_source(struct udp_tx *tx, unsigned i)
{
	const struct udp_local *l = udp_local_of(&tx->t_addr[i]);
	struct msghdr *mh = &tx->t_msg[i].msg_hdr;
	struct cmsghdr *cm = (struct cmsghdr *)tx->t_cmsg[i].buf;

	if (l->ul_family != tx->t_addr[i].ss_family)
		return;
	memset(tx->t_cmsg[i].buf, 0, sizeof(tx->t_cmsg[i].buf));
	if (l->ul_family == AF_INET) {
		struct in_pktinfo pi = { .ipi_spec_dst = l->ul_addr.v4 };

		mh->msg_controllen = cmsg_put(cm, IPPROTO_IP, IP_PKTINFO, &pi, sizeof(pi));
	} else {
		struct in6_pktinfo pi = { .ipi6_addr = l->ul_addr.v6 };

		mh->msg_controllen = cmsg_put(cm, IPPROTO_IPV6, IPV6_PKTINFO, &pi, sizeof(pi));
	}
	mh->msg_control = tx->t_cmsg[i].buf;
}

uint8_t *udp_tx_slot(struct udp_tx *tx)
{
	if (tx->t_n == UDP_TX_BATCH || tx->t_off + UDP_DGRAM_MAX > sizeof(tx->t_buf))
		udp_tx_flush(tx);
	return tx->t_buf + tx->t_off;
}

void udp_tx_push(struct udp_tx *tx, const struct sockaddr_storage *dst, size_t len)
{
	unsigned i;

	if (tx->t_n == UDP_TX_BATCH || len > UDP_DGRAM_MAX) {	/* no slot taken */
		tx->t_drops++;
		return;
	}
	i = tx->t_n++;

	tx->t_addr[i] = *dst;
	tx->t_iov[i].iov_base = tx->t_buf + tx->t_off;
	tx->t_iov[i].iov_len = len;
	tx->t_off += (len + 15) & ~(size_t)15;	/* the next one 16-byte aligned */
	memset(&tx->t_msg[i], 0, sizeof(tx->t_msg[i]));
	tx->t_msg[i].msg_hdr.msg_iov = &tx->t_iov[i];
	tx->t_msg[i].msg_hdr.msg_iovlen = 1;
	tx->t_msg[i].msg_hdr.msg_name = &tx->t_addr[i];
	tx->t_msg[i].msg_hdr.msg_namelen = addr_len(dst);
	tx_source(tx, i);
}

void udp_tx_add(struct udp_tx *tx, const struct sockaddr_storage *dst,
    const void *buf, size_t len)
{
	if (len > UDP_DGRAM_MAX) {
		tx->t_drops++;
		return;
	}
	memcpy(udp_tx_slot(tx), buf, len);
	udp_tx_push(tx, dst, len);
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
		rx->r_iov[i].iov_len = RX_BUF;
		rx->r_msg[i].msg_hdr.msg_control = rx->r_cmsg[i].buf;
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

/* The segment size the kernel's UDP GRO reports for message i, or 0. */
static size_t gro_size(struct udp_rx *rx, int i)
{
	struct msghdr *mh = &rx->r_msg[i].msg_hdr;
	struct cmsghdr *cm;
	uint16_t g = 0;

	for (cm = CMSG_FIRSTHDR(mh); cm != NULL; cm = CMSG_NXTHDR(mh, cm))
		if (cm->cmsg_level == SOL_UDP && cm->cmsg_type == UDP_GRO &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(g)))
			memcpy(&g, CMSG_DATA(cm), sizeof(g));
	return g;
}

/* The local address message i was sent to, behind its peer's address;
 * an IPv4 peer of a dual-stack socket unmapped to AF_INET first. */
static void rx_path(struct udp_rx *rx, int i)
{
	struct msghdr *mh = &rx->r_msg[i].msg_hdr;
	struct sockaddr_storage *ss = &rx->r_addr[i];
	struct udp_local l = { 0 };
	struct cmsghdr *cm;

	for (cm = CMSG_FIRSTHDR(mh); cm != NULL; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(struct in_pktinfo))) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			l.ul_family = AF_INET;
			l.ul_addr.v4 = pi.ipi_spec_dst;
		} else if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(struct in6_pktinfo))) {
			struct in6_pktinfo pi;

			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			if (IN6_IS_ADDR_V4MAPPED(&pi.ipi6_addr)) {
				l.ul_family = AF_INET;
				memcpy(&l.ul_addr.v4, &pi.ipi6_addr.s6_addr[12], 4);
			} else {
				l.ul_family = AF_INET6;
				l.ul_addr.v6 = pi.ipi6_addr;
			}
		}
	}
	sock_unmap(ss);			/* zeroes the rest of ss too */
	if (ss->ss_family == AF_INET6)	/* the kernel wrote only its part */
		memset((char *)ss + sizeof(struct sockaddr_in6), 0,
		    sizeof(*ss) - sizeof(struct sockaddr_in6));
	else if (ss->ss_family == AF_INET)
		memset((char *)ss + sizeof(struct sockaddr_in), 0,
		    sizeof(*ss) - sizeof(struct sockaddr_in));
	*local_of(ss) = l;
}

int udp_rx_recv(struct udp_rx *rx, int fd)
{
	size_t len, g, off;
	int i, n, k = 0;

	for (i = 0; i < UDP_RX_BATCH; i++) {
		rx->r_msg[i].msg_hdr.msg_namelen = sizeof(rx->r_addr[i]);
		rx->r_msg[i].msg_hdr.msg_controllen = sizeof(rx->r_cmsg[i].buf);
	}
	do
		n = recvmmsg(fd, rx->r_msg, UDP_RX_BATCH, MSG_DONTWAIT, NULL);
	while (n < 0 && errno == EINTR);
	/* Split GRO super-datagrams back into the datagrams they were. */
	for (i = 0; i < n; i++) {
		rx_path(rx, i);
		len = rx->r_msg[i].msg_len;
		g = gro_size(rx, i);
		if (g == 0 || g > len)
			g = len;
		for (off = 0; (off < len || len == 0) && k < RX_SEGS; off += g) {
			rx->r_seg[k].sg_p = rx->r_buf[i] + off;
			rx->r_seg[k].sg_len = len - off < g ? len - off : g;
			rx->r_seg[k++].sg_from = &rx->r_addr[i];
			if (len == 0)
				break;
		}
	}
	return k;	/* 0 on EAGAIN, or ICMP errors on a connected socket */
}

const uint8_t *udp_rx_dgram(const struct udp_rx *rx, int i, size_t *len,
    const struct sockaddr_storage **from)
{
	*len = rx->r_seg[i].sg_len;
	*from = rx->r_seg[i].sg_from;
	return rx->r_seg[i].sg_p;
}

static int udp_socket(int family)
{
	int fd, v = IP_PMTUDISC_DONT, bufsz = UDP_SOCKBUF, one = 1;

	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* Room for bursts: a batch of full-size datagrams per peer. FORCE
	 * passes net.core.[rw]mem_max when we have CAP_NET_ADMIN. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bufsz, sizeof(bufsz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bufsz, sizeof(bufsz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));
	/* Receive runs of datagrams coalesced (split again in udp_rx_recv). */
	setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof(one));
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
	/* A wildcard socket answers from whichever address the peer chose:
	 * without it the kernel picks the route's source, which the peer's
	 * connected socket drops when it sent to a secondary address. On a
	 * dual-stack socket IPV6_RECVPKTINFO covers the IPv4 peers too
	 * (mapped); IP_PKTINFO is asked as well, which kernels give there. */
	if (sock_is_any(addr)) {
		if (addr->ss_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
		setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
	}
	if ((err = sock_bind(fd, addr, sock_v6only(addr))) < 0) {
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
