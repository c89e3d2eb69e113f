/* udp.h - batched datagram I/O for the DTLS data channel: sendmmsg of
 * whatever a loop turn produced, recvmmsg of up to UDP_RX_BATCH datagrams
 * per wakeup. A full socket buffer drops (and counts) datagrams, as UDP
 * would anyway. */
#ifndef VPND_UDP_H
#define VPND_UDP_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define UDP_TX_BATCH  64
/* Each receive slot holds a 64 KiB GRO super-datagram (about 45 of a
 * 1400-byte tunnel's), so 16 of them take in some 700 datagrams per call;
 * 32 cost another megabyte of resident memory per socket and moved no
 * more in the bench. */
#define UDP_RX_BATCH  16
#define UDP_DGRAM_MAX 9216	/* a 9000-byte packet and its overhead */

struct udp_tx;
struct udp_rx;

/* The path of a datagram: the peer's address and, behind it in the same
 * sockaddr_storage, the local address the peer sent to (learnt with
 * IP_PKTINFO / IPV6_PKTINFO on a wildcard socket). udp_rx_dgram's `from`
 * is one; whoever keeps a whole copy of it as the peer's address (the DTLS
 * channel does) keeps the path too, and udp_tx_add answers from that local
 * address, so a server with several addresses replies from the one the
 * client knows. ul_family 0 (a zeroed sockaddr_storage): the kernel
 * chooses the source. An IPv4 peer on a dual-stack socket comes out as
 * plain AF_INET. */
struct udp_local {
	sa_family_t ul_family;
	union {
		struct in_addr  v4;
		struct in6_addr v6;
	} ul_addr;
};
struct udp_path {
	union {
		struct sockaddr_in  v4;
		struct sockaddr_in6 v6;
	} up_peer;
	struct udp_local up_local;
};
/* The local half of a path (inside ss). */
const struct udp_local *udp_local_of(const struct sockaddr_storage *ss);

int  udp_tx_new(struct udp_tx **out, int fd);		/* 0 or -ENOMEM */
void udp_tx_free(struct udp_tx *tx);
/* Copy one datagram into the batch (flushing first if it is full). */
void udp_tx_add(struct udp_tx *tx, const struct sockaddr_storage *dst,
                const void *buf, size_t len);
/* Or write it in place: udp_tx_slot gives the next datagram's buffer
 * (UDP_DGRAM_MAX bytes; flushing first if the batch is full), udp_tx_push
 * adds the len bytes (at most UDP_DGRAM_MAX) written there for dst. A slot
 * not pushed is handed out again. */
uint8_t *udp_tx_slot(struct udp_tx *tx);
void udp_tx_push(struct udp_tx *tx, const struct sockaddr_storage *dst, size_t len);
void udp_tx_flush(struct udp_tx *tx);
uint64_t udp_tx_drops(const struct udp_tx *tx);

int  udp_rx_new(struct udp_rx **out);
void udp_rx_free(struct udp_rx *rx);
/* Receive up to UDP_RX_BATCH messages from fd, splitting any the kernel
 * coalesced (UDP GRO) back into datagrams; returns how many datagrams
 * (0 when none are waiting). */
int  udp_rx_recv(struct udp_rx *rx, int fd);
/* Datagram i of the last receive. */
const uint8_t *udp_rx_dgram(const struct udp_rx *rx, int i, size_t *len,
                            const struct sockaddr_storage **from);

/* A UDP socket bound to addr (non-blocking, close-on-exec, IP fragmentation
 * allowed so large records still pass a smaller path), by sock_bind's
 * rules (tunnel/sock.h: "[::]" dual-stack, IP_FREEBIND); on a wildcard
 * address it learns each datagram's local address (struct udp_path). fd
 * or -errno. */
int  udp_bind(const struct sockaddr_storage *addr);
/* A UDP socket connected to addr (the client's). fd or -errno. */
int  udp_connect(const struct sockaddr_storage *addr);

#endif
