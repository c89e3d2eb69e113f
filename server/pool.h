/* pool.h - tunnel addresses leased to peers, sticky by fingerprint: a peer
 * gets the same address each time it reconnects while the server runs. The
 * server takes the network's first host address; peers get the rest. Static
 * addresses from the allow-list are reserved for their fingerprint. */
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

#endif
