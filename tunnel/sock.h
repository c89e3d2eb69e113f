/* sock.h - the listening sockets both modes open (the server's TLS
 * listeners, the metrics endpoint) and the address rules every listener
 * shares: a wildcard "[::]" is dual-stack, a specific IPv6 address is
 * IPv6-only (so "0.0.0.0:P" and "[::1]:P" can both be bound), any address
 * may be one this host does not hold yet (IP_FREEBIND: a VRRP address), and
 * an IPv4 peer seen through a dual-stack socket (::ffff:a.b.c.d) is
 * turned back into plain IPv4 before anyone logs, limits or compares it. */
#ifndef VPND_SOCK_H
#define VPND_SOCK_H

#include <stdbool.h>
#include <sys/socket.h>

/* The socket address length of ss's family. */
socklen_t sock_len(const struct sockaddr_storage *ss);
/* Whether ss is a wildcard address (0.0.0.0 or ::). */
bool sock_is_any(const struct sockaddr_storage *ss);
/* The IPV6_V6ONLY a listener on ss takes: off for "[::]" (IPv4 too),
 * on for a specific IPv6 address. */
bool sock_v6only(const struct sockaddr_storage *ss);
/* ::ffff:a.b.c.d -> a.b.c.d in place (port kept); anything else unchanged. */
void sock_unmap(struct sockaddr_storage *ss);
/* Set the options of a listening fd on ss (IPV6_V6ONLY as v6only,
 * IP_FREEBIND) and bind it. 0 or -errno. */
int  sock_bind(int fd, const struct sockaddr_storage *ss, bool v6only);
/* A non-blocking, close-on-exec TCP listener on ss with backlog, bound by
 * sock_bind (SO_REUSEADDR too). fd or -errno. */
int  sock_listen(const struct sockaddr_storage *ss, int backlog, bool v6only);

#endif
