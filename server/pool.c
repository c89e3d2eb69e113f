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

/* ---- IPv6 ----
 * network6 is too large for a slot per address: the owners are an array
 * of (host number, fingerprint) entries, one per address that has an
 * owner, in the order they got one. Never-used addresses are handed out
 * from p6_next up; once past the network's end, the longest released
 * entry is reused. */

struct ent6 {
	uint64_t e_host;		/* host number in network6; >= 2 */
	char     e_fp[CONF_FP_LEN];
	bool     e_in_use;
	bool     e_reserved;
	uint64_t e_released;
};

struct pool6 {
	struct cidr6  p6_net;
	uint64_t      p6_max;		/* the largest host number */
	uint64_t      p6_next;		/* lowest host number never handed out */
	uint64_t      p6_clock;
	bool          p6_changed;
	struct ent6  *p6_e;
	size_t        p6_n, p6_cap;
};

int pool6_new(struct pool6 **out, const struct cidr6 *net)
{
	struct pool6 *p;

	if (net->plen < 64 || net->plen > 126)
		return -EINVAL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return -ENOMEM;
	p->p6_net = *net;
	p->p6_max = net->plen == 64 ? UINT64_MAX : (UINT64_C(1) << (128 - net->plen)) - 1;
	p->p6_next = 2;
	*out = p;
	return 0;
}

void pool6_free(struct pool6 *p)
{
	if (p == NULL)
		return;
	free(p->p6_e);
	free(p);
}

struct in6_addr pool6_server_addr(const struct pool6 *p)
{
	struct in6_addr a;

	cidr6_host(&p->p6_net, 1, &a);
	return a;
}

/* a's host number, or 0 if a is outside the network or the server's. */
static uint64_t host6(const struct pool6 *p, const struct in6_addr *a)
{
	uint64_t h = 0;
	int i;

	if (!cidr6_contains(&p->p6_net, a))
		return 0;
	for (i = 8; i < 16; i++)
		h = h << 8 | a->s6_addr[i];
	if (p->p6_net.plen > 64)
		h &= p->p6_max;
	return h >= 2 ? h : 0;
}

static struct ent6 *ent_of_host(struct pool6 *p, uint64_t h)
{
	size_t i;

	for (i = 0; i < p->p6_n; i++)
		if (p->p6_e[i].e_host == h)
			return &p->p6_e[i];
	return NULL;
}

static struct ent6 *ent_of_fp(struct pool6 *p, const char *fp, bool reserved)
{
	size_t i;

	for (i = 0; i < p->p6_n; i++)
		if (p->p6_e[i].e_reserved == reserved && strcmp(p->p6_e[i].e_fp, fp) == 0)
			return &p->p6_e[i];
	return NULL;
}

/* A new entry for host h (no entry holds it yet), or NULL. */
static struct ent6 *ent_new(struct pool6 *p, uint64_t h)
{
	struct ent6 *n;
	size_t cap;

	if (p->p6_n == p->p6_cap) {
		cap = p->p6_cap ? p->p6_cap * 2 : 16;
		if (cap > SIZE_MAX / sizeof(*n) || (n = realloc(p->p6_e, cap * sizeof(*n))) == NULL)
			return NULL;
		p->p6_e = n;
		p->p6_cap = cap;
	}
	n = &p->p6_e[p->p6_n++];
	memset(n, 0, sizeof(*n));
	n->e_host = h;
	return n;
}

static struct ent6 *ent_at(struct pool6 *p, uint64_t h)
{
	struct ent6 *e = ent_of_host(p, h);

	return e != NULL ? e : ent_new(p, h);
}

int pool6_reserve(struct pool6 *p, const struct in6_addr *a, const char *fp)
{
	uint64_t h = host6(p, a);
	struct ent6 *e;

	if (h == 0)
		return -EINVAL;
	if ((e = ent_of_host(p, h)) != NULL && e->e_in_use && strcmp(e->e_fp, fp) != 0)
		return -EBUSY;
	if (e == NULL && (e = ent_new(p, h)) == NULL)
		return -ENOMEM;
	if (strcmp(e->e_fp, fp) != 0)
		p->p6_changed = true;
	snprintf(e->e_fp, sizeof(e->e_fp), "%s", fp);
	e->e_reserved = true;
	return 0;
}

void pool6_clear_reserved(struct pool6 *p)
{
	size_t i;

	for (i = 0; i < p->p6_n; i++)
		p->p6_e[i].e_reserved = false;
}

/* An address nobody holds: never used first, else the longest released. */
static struct ent6 *ent_free(struct pool6 *p)
{
	struct ent6 *best = NULL;
	size_t i;

	while (p->p6_next != 0 && p->p6_next <= p->p6_max) {
		if (ent_of_host(p, p->p6_next) == NULL)
			return ent_new(p, p->p6_next++);
		p->p6_next++;		/* remembered or reserved: not never-used */
	}
	for (i = 0; i < p->p6_n; i++) {
		struct ent6 *e = &p->p6_e[i];

		if (e->e_in_use || e->e_reserved)
			continue;
		if (best == NULL || e->e_released < best->e_released)
			best = e;
	}
	return best;
}

int pool6_lease(struct pool6 *p, const char *fp, struct in6_addr *out)
{
	struct ent6 *e;
	size_t i;

	for (i = 0; i < p->p6_n; i++)
		if (p->p6_e[i].e_in_use && strcmp(p->p6_e[i].e_fp, fp) == 0)
			return -EBUSY;
	if ((e = ent_of_fp(p, fp, true)) == NULL &&
	    (e = ent_of_fp(p, fp, false)) == NULL &&
	    (e = ent_free(p)) == NULL)
		return -ENOSPC;
	if (e->e_in_use)
		return -EBUSY;
	if (strcmp(e->e_fp, fp) != 0)
		p->p6_changed = true;
	snprintf(e->e_fp, sizeof(e->e_fp), "%s", fp);
	e->e_in_use = true;
	return cidr6_host(&p->p6_net, e->e_host, out);
}

void pool6_release(struct pool6 *p, const char *fp)
{
	size_t i;

	for (i = 0; i < p->p6_n; i++)
		if (p->p6_e[i].e_in_use && strcmp(p->p6_e[i].e_fp, fp) == 0) {
			p->p6_e[i].e_in_use = false;
			p->p6_e[i].e_released = ++p->p6_clock;
		}
}

int pool6_remember(struct pool6 *p, const struct in6_addr *a, const char *fp)
{
	uint64_t h = host6(p, a);
	struct ent6 *e;

	if (h == 0 || fp == NULL || fp[0] == '\0')
		return -EINVAL;
	if ((e = ent_of_host(p, h)) != NULL &&
	    (e->e_in_use || (e->e_reserved && strcmp(e->e_fp, fp) != 0)))
		return -EBUSY;
	if ((e = ent_at(p, h)) == NULL)
		return -ENOMEM;
	snprintf(e->e_fp, sizeof(e->e_fp), "%s", fp);
	e->e_released = 0;
	return 0;
}

bool pool6_changed(struct pool6 *p)
{
	return p->p6_changed;
}

void pool6_clear_changed(struct pool6 *p)
{
	p->p6_changed = false;
}

int pool6_foreach_owner(const struct pool6 *p,
    int (*fn)(void *arg, const struct in6_addr *a, const char *fp), void *arg)
{
	struct in6_addr a;
	size_t i;
	int rc;

	for (i = 0; i < p->p6_n; i++) {
		if (p->p6_e[i].e_fp[0] == '\0')
			continue;
		cidr6_host(&p->p6_net, p->p6_e[i].e_host, &a);
		if ((rc = fn(arg, &a, p->p6_e[i].e_fp)) != 0)
			return rc;
	}
	return 0;
}
