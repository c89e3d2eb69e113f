/* path.h - the client's underlay path to its server. Which addresses of
 * the server's name to try and in which order (RFC 8305 section 4: the
 * families interleaved, IPv6 first), a racing connect that starts one
 * attempt every PATH_DELAY_MS (RFC 8305's Connection Attempt Delay) and
 * takes the first that completes, and whether a path in use still stands
 * after the host's addresses or routes changed (an underlay moving from
 * IPv4 to IPv6: the session is then re-established at once instead of
 * waiting for dead_peer_timeout). */
#ifndef VPND_PATH_H
#define VPND_PATH_H

#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

struct addrinfo;

#define PATH_MAX_ADDRS 16
#define PATH_DELAY_MS  250

/* res's addresses, ordered: getaddrinfo's order (RFC 6724) within each
 * family, the families interleaved starting with IPv6; duplicates and
 * other families dropped. At most max into out; returns how many. */
int  path_order(const struct addrinfo *res, struct sockaddr_storage *out, int max);

struct path_race;
/* done runs once: fd >= 0 connected to *addr (the caller owns fd now), or
 * fd -1 and err (-errno of the last attempt, -ETIMEDOUT) when every
 * attempt failed or timeout_ms passed. The race frees itself after. */
typedef void path_done_fn(void *arg, int fd, const struct sockaddr_storage *addr, int err);
/* Race TCP connections to addrs[0..n) (copied). 0 or -errno; on an error
 * return done never runs. */
int  path_race_start(struct path_race **out, uv_loop_t *loop,
                     const struct sockaddr_storage *addrs, int n, uint64_t timeout_ms,
                     path_done_fn *done, void *arg);
/* Stop a race before done ran: done never runs; the memory goes in the
 * handles' close callbacks. NULL is fine. */
void path_race_cancel(struct path_race *r);

/* 0 while a connection from local to peer can still work; -EADDRNOTAVAIL
 * when local is no longer this host's, -ENETUNREACH (or the route
 * lookup's error) when nothing routes to peer any more. */
int  path_check(const struct sockaddr_storage *local, const struct sockaddr_storage *peer);

/* A netlink socket told of address and route changes, IPv4 and IPv6;
 * fd or -errno. */
int  path_watch_open(void);
/* Read and drop what is queued; how many messages (0: none). */
int  path_watch_drain(int fd);

#endif
