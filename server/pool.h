/* pool.h - tunnel addresses leased to peers, sticky by fingerprint: a peer
 * gets the same address each time it reconnects while the server runs. The
 * server takes the network's first host address; peers get the rest. Static
 * addresses from the allow-list are reserved for their fingerprint. Owners
 * can be listed and remembered again, so lease.c can keep them across
 * restarts. */
#ifndef VPND_POOL_H
#define VPND_POOL_H

#include <netinet/in.h>
#include <stdbool.h>

#include "conf/conf.h"

struct pool;

int  pool_new(struct pool **out, const struct cidr *net);	/* 0 or -errno */
void pool_free(struct pool *p);					/* NULL is fine */

struct in_addr pool_server_addr(const struct pool *p);
/* Number of addresses peers can have (hosts minus the server's). */
unsigned pool_size(const struct pool *p);

/* Reserve a for fp (a static allow-list address). -EINVAL outside the pool
 * or the server's own, -EBUSY if another fingerprint holds it now. */
int  pool_reserve(struct pool *p, struct in_addr a, const char *fp);
/* Forget every reservation (before re-reserving after a reload). Leases in
 * use stay. */
void pool_clear_reserved(struct pool *p);

/* Lease an address to fp: its reserved address, else the one it had
 * before, else the lowest never-used one, else the longest-released one.
 * -EBUSY if fp's address is in use (a second session), -ENOSPC if full. */
int  pool_lease(struct pool *p, const char *fp, struct in_addr *out);
/* Mark fp's address free to reuse, remembering it for fp. */
void pool_release(struct pool *p, const char *fp);

/* Record that fp held a, as if leased and released before any release
 * since: fp gets a back, and others get it only when the pool is full
 * (never-used addresses go first). For leases read back after a restart;
 * it does not set pool_changed. -EINVAL outside the pool or the server's
 * own, -EBUSY if a is in use or reserved for another fingerprint. */
int  pool_remember(struct pool *p, struct in_addr a, const char *fp);

/* True once pool_lease (or pool_reserve) has given an address to a
 * fingerprint that did not own it before, i.e. what pool_foreach_owner
 * reports has changed and the caller should persist it. A fingerprint
 * getting its own address back does not count. Stays set until
 * pool_clear_changed. */
bool pool_changed(struct pool *p);
void pool_clear_changed(struct pool *p);

/* Call fn for every address with an owner (in use, released or reserved),
 * in address order. fp is borrowed until fn returns. Stops at the first
 * non-zero return of fn and returns it; else 0. */
int  pool_foreach_owner(const struct pool *p,
         int (*fn)(void *arg, struct in_addr a, const char *fp), void *arg);

/* ---- IPv6: network6 ----
 * The same policy for the peers' IPv6 addresses: the server takes host
 * ::1, peers get host numbers from ::2 up, sticky by fingerprint, static
 * address6 entries reserved. network6 is /64../120, so a host number fits
 * 64 bits; owners are kept in an array (the control plane's, searched
 * when a peer is admitted, never per packet). */
struct pool6;

int  pool6_new(struct pool6 **out, const struct cidr6 *net);	/* 0 or -errno */
void pool6_free(struct pool6 *p);				/* NULL is fine */
struct in6_addr pool6_server_addr(const struct pool6 *p);

/* As pool_reserve, pool_clear_reserved, pool_lease, pool_release,
 * pool_remember, pool_changed and pool_foreach_owner. */
int  pool6_reserve(struct pool6 *p, const struct in6_addr *a, const char *fp);
void pool6_clear_reserved(struct pool6 *p);
int  pool6_lease(struct pool6 *p, const char *fp, struct in6_addr *out);
void pool6_release(struct pool6 *p, const char *fp);
int  pool6_remember(struct pool6 *p, const struct in6_addr *a, const char *fp);
bool pool6_changed(struct pool6 *p);
void pool6_clear_changed(struct pool6 *p);
int  pool6_foreach_owner(const struct pool6 *p,
         int (*fn)(void *arg, const struct in6_addr *a, const char *fp), void *arg);

#endif
