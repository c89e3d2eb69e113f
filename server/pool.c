/* pool.c - one slot per peer address in the tunnel network. A slot remembers
 * the fingerprint that last held it, so reconnecting peers get their address
 * back; addresses are reused only when the pool runs out, oldest first.
 * A remembered slot (from a lease file) counts as released at time 0, older
 * than any release since. Lookups are linear: they happen once per
 * handshake, not per packet. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "server/pool.h"

struct slot {
	char     s_fp[CONF_FP_LEN];	/* owner, "" if never leased */
	bool     s_in_use;
	bool     s_reserved;		/* static: only s_fp may have it */
	uint64_t s_released;		/* release order, for reuse */
};

struct pool {
	uint32_t     p_first;		/* host order: first peer address */
	unsigned     p_n;
	uint32_t     p_server;		/* host order */
	uint64_t     p_clock;		/* last release order handed out */
	bool         p_changed;		/* an address got a new owner */
	struct slot  p_slots[];		/* p_n, one allocation with the pool */
};

int pool_new(struct pool **out, const struct cidr *net)
{
	struct pool *p;
	uint32_t base;
	unsigned hosts;

	if (net->plen < 8 || net->plen > 30)
		return -EINVAL;
	hosts = (1u << (32 - net->plen)) - 2;	/* minus network, broadcast */
	if ((p = calloc(1, sizeof(*p) + (size_t)(hosts - 1) * sizeof(p->p_slots[0]))) == NULL)
		return -ENOMEM;
	base = ntohl(net->addr.s_addr);
	p->p_server = base + 1;
	p->p_first = base + 2;
	p->p_n = hosts - 1;
	*out = p;
	return 0;
}

void pool_free(struct pool *p)
{
	free(p);
}

struct in_addr pool_server_addr(const struct pool *p)
{
	struct in_addr a = { htonl(p->p_server) };

	return a;
}

unsigned pool_size(const struct pool *p)
{
	return p->p_n;
}

static struct slot *slot_of_addr(struct pool *p, struct in_addr a)
{
	uint32_t h = ntohl(a.s_addr);

	if (h < p->p_first || h - p->p_first >= p->p_n)
		return NULL;
	return &p->p_slots[h - p->p_first];
}

static struct slot *slot_of_fp(struct pool *p, const char *fp, bool reserved)
{
	unsigned i;

	for (i = 0; i < p->p_n; i++)
		if (p->p_slots[i].s_reserved == reserved &&
		    strcmp(p->p_slots[i].s_fp, fp) == 0)
			return &p->p_slots[i];
	return NULL;
}

int pool_reserve(struct pool *p, struct in_addr a, const char *fp)
{
	struct slot *s = slot_of_addr(p, a);

	if (s == NULL)
		return -EINVAL;
	if (s->s_in_use && strcmp(s->s_fp, fp) != 0)
		return -EBUSY;
	if (strcmp(s->s_fp, fp) != 0)
		p->p_changed = true;
	snprintf(s->s_fp, sizeof(s->s_fp), "%s", fp);
	s->s_reserved = true;
	return 0;
}

void pool_clear_reserved(struct pool *p)
{
	unsigned i;

	for (i = 0; i < p->p_n; i++)
		p->p_slots[i].s_reserved = false;
}

/* A slot nobody holds: never used first, else the longest released. */
static struct slot *slot_free(struct pool *p)
{
	struct slot *best = NULL;
	unsigned i;

	for (i = 0; i < p->p_n; i++) {
		struct slot *s = &p->p_slots[i];

		if (s->s_in_use || s->s_reserved)
			continue;
		if (s->s_fp[0] == '\0')
			return s;
		if (best == NULL || s->s_released < best->s_released)
			best = s;
	}
	return best;
}

int pool_lease(struct pool *p, const char *fp, struct in_addr *out)
{
	struct slot *s;
	unsigned i;

	for (i = 0; i < p->p_n; i++)	/* one address per fingerprint at a time */
		if (p->p_slots[i].s_in_use && strcmp(p->p_slots[i].s_fp, fp) == 0)
			return -EBUSY;
	if ((s = slot_of_fp(p, fp, true)) == NULL &&
	    (s = slot_of_fp(p, fp, false)) == NULL &&
	    (s = slot_free(p)) == NULL)
		return -ENOSPC;
	if (s->s_in_use)
		return -EBUSY;
	if (strcmp(s->s_fp, fp) != 0)
		p->p_changed = true;
	snprintf(s->s_fp, sizeof(s->s_fp), "%s", fp);
	s->s_in_use = true;
	out->s_addr = htonl(p->p_first + (uint32_t)(s - p->p_slots));
	return 0;
}

void pool_release(struct pool *p, const char *fp)
{
	unsigned i;

	for (i = 0; i < p->p_n; i++) {
		struct slot *s = &p->p_slots[i];

		if (s->s_in_use && strcmp(s->s_fp, fp) == 0) {
			s->s_in_use = false;
			s->s_released = ++p->p_clock;
		}
	}
}

int pool_remember(struct pool *p, struct in_addr a, const char *fp)
{
	struct slot *s = slot_of_addr(p, a);

	if (s == NULL || fp == NULL || fp[0] == '\0')
		return -EINVAL;
	if (s->s_in_use || (s->s_reserved && strcmp(s->s_fp, fp) != 0))
		return -EBUSY;
	snprintf(s->s_fp, sizeof(s->s_fp), "%s", fp);
	s->s_released = 0;	/* p_clock starts at 0: older than any release */
	return 0;
}

bool pool_changed(struct pool *p)
{
	return p->p_changed;
}

void pool_clear_changed(struct pool *p)
{
	p->p_changed = false;
}

int pool_foreach_owner(const struct pool *p,
    int (*fn)(void *arg, struct in_addr a, const char *fp), void *arg)
{
	struct in_addr a;
	unsigned i;
	int rc;

	for (i = 0; i < p->p_n; i++) {
		if (p->p_slots[i].s_fp[0] == '\0')
			continue;
		a.s_addr = htonl(p->p_first + i);
		if ((rc = fn(arg, a, p->p_slots[i].s_fp)) != 0)
			return rc;
	}
	return 0;
}
