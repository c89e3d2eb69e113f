/* sock.c - listening sockets and the address rules they share (sock.h).
 * Kept apart from udp.c's batches and from the callers' loops: the server's
 * TLS listeners, its DTLS sockets and the metrics endpoint all bind here,
 * so "[::]" means the same everywhere. */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#include "tunnel/sock.h"

#ifndef IPV6_FREEBIND
#define IPV6_FREEBIND 78	/* Linux 4.15; glibc headers may lag */
#endif

socklen_t sock_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	    sizeof(struct sockaddr_in);
}

bool sock_is_any(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)ss)->sin6_addr);
	return ((const struct sockaddr_in *)ss)->sin_addr.s_addr == htonl(INADDR_ANY);
}

bool sock_v6only(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 && !sock_is_any(ss);
}

void sock_unmap(struct sockaddr_storage *ss)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
	struct sockaddr_in s4 = { .sin_family = AF_INET };

	if (ss->ss_family != AF_INET6 || !IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
		return;
	s4.sin_port = s6->sin6_port;
	memcpy(&s4.sin_addr, &s6->sin6_addr.s6_addr[12], sizeof(s4.sin_addr));
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, &s4, sizeof(s4));
}

int sock_bind(int fd, const struct sockaddr_storage *ss, bool v6only)
{
	int v6 = v6only, one = 1;

	if (ss->ss_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6, sizeof(v6)) < 0)
		return -errno;
	/* An address this host may only get later (a VRRP failover address):
	 * bind now, traffic flows once it is added. IP_FREEBIND covers IPv6
	 * sockets too on every kernel; IPV6_FREEBIND is the newer spelling. */
	setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
	if (ss->ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)ss, sock_len(ss)) < 0)
		return -errno;
	return 0;
}

int sock_listen(const struct sockaddr_storage *ss, int backlog, bool v6only)
{
	int fd, one = 1, err;

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if ((err = sock_bind(fd, ss, v6only)) == 0 && listen(fd, backlog) < 0)
		err = -errno;
	if (err < 0) {
		close(fd);
		return err;
	}
	return fd;
}
