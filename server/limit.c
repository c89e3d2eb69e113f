/* limit.c - per-source handshake limits in an open-addressed table keyed by
 * the address (port ignored: one host is one source). */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "server/limit.h"

#define PROBES 8

struct lslot {
	uint8_t  ls_key[16];	/* IPv4-mapped or IPv6 */
	bool     ls_used;
	uint32_t ls_pending;
	uint32_t ls_tokens;
	uint64_t ls_refilled;	/* ms */
	uint64_t ls_seen;
};

struct limit {
	struct lslot l_slot[LIMIT_SLOTS];
};

int limit_new(struct limit **out)
{
	return (*out = calloc(1, sizeof(**out))) == NULL ? -ENOMEM : 0;
}

void limit_free(struct limit *l)
{
	free(l);
}

static void key_of(const struct sockaddr_storage *ss, uint8_t key[16])
{
	memset(key, 0, 16);
	if (ss->ss_family == AF_INET) {
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	} else
		memcpy(key, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
}

static unsigned hash(const uint8_t key[16])
{
	uint32_t h = 2166136261u;	/* FNV-1a */
	int i;

	for (i = 0; i < 16; i++)
		h = (h ^ key[i]) * 16777619u;
	return h;
}

/* The slot for src: its own, else a free one, else the stalest idle one
 * among the probes. NULL only if every probed slot has handshakes pending. */
static struct lslot *slot_get(struct limit *l, const struct sockaddr_storage *src,
    uint64_t now, bool create)
{
	struct lslot *s, *free_slot = NULL, *stale = NULL, *victim;
	uint8_t key[16];
	unsigned h, i;

	key_of(src, key);
	h = hash(key);
	for (i = 0; i < PROBES; i++) {
		s = &l->l_slot[(h + i) % LIMIT_SLOTS];
		if (s->ls_used && memcmp(s->ls_key, key, 16) == 0)
			return s;
		if (!s->ls_used) {
			if (free_slot == NULL)
				free_slot = s;
		} else if (s->ls_pending == 0 && (stale == NULL || s->ls_seen < stale->ls_seen))
			stale = s;
	}
	victim = free_slot != NULL ? free_slot : stale;
	if (!create || victim == NULL)
		return NULL;
	memset(victim, 0, sizeof(*victim));
	memcpy(victim->ls_key, key, 16);
	victim->ls_used = true;
	victim->ls_tokens = LIMIT_FAIL_BURST;
	victim->ls_refilled = now;
	return victim;
}

static void refill(struct lslot *s, uint64_t now)
{
	uint64_t n = (now - s->ls_refilled) / LIMIT_FAIL_REFILL_MS;

	if (n == 0)
		return;
	s->ls_tokens = s->ls_tokens + n > LIMIT_FAIL_BURST ? LIMIT_FAIL_BURST :
	    s->ls_tokens + (uint32_t)n;
	s->ls_refilled += n * LIMIT_FAIL_REFILL_MS;
}

bool limit_admit(struct limit *l, const struct sockaddr_storage *src, uint64_t now)
{
	struct lslot *s = slot_get(l, src, now, true);

	if (s == NULL)
		return false;
	refill(s, now);
	s->ls_seen = now;
	if (s->ls_tokens == 0 || s->ls_pending >= LIMIT_PENDING_PER_SRC)
		return false;
	s->ls_pending++;
	return true;
}

void limit_done(struct limit *l, const struct sockaddr_storage *src, bool failed,
    uint64_t now)
{
	struct lslot *s = slot_get(l, src, now, false);

	if (s == NULL)
		return;
	if (s->ls_pending > 0)
		s->ls_pending--;
	refill(s, now);
	if (failed && s->ls_tokens > 0)
		s->ls_tokens--;
}
