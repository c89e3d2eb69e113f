/* limit.c - handshake admission: per-source entries in an open-addressed
 * table, keyed by an address (/32, /128) or a network (/24, /64) and
 * hashed with SipHash-2-4 under a key drawn at start, and the server-wide
 * pending cap and handshake bucket. Everything is counted in ms of the
 * caller's monotonic clock. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>

#include "server/limit.h"

#define PROBES 8	/* slots a key may use, from its hash on */

/* Tokens, refilled one per interval up to a burst. */
struct bucket {
	uint32_t b_tokens;
	uint64_t b_at;		/* ms the last token was added (or now, if full) */
};

/* What is hashed: IPv4 as ::ffff:a.b.c.d, host bits zero, and the prefix
 * length, so an address and its network never share a key. */
struct lkey {
	uint8_t k_addr[16];
	uint8_t k_plen;		/* 128: an address; 120: IPv4 /24; 64: IPv6 /64 */
};

struct lslot {
	struct lkey   ls_key;	/* k_plen 0: free */
	uint32_t      ls_pending;
	struct bucket ls_fail;
	uint64_t      ls_seen;	/* ms of the last admission asked for */
};

struct limit {
	uint64_t      l_sipkey[2];
	unsigned      l_pending, l_max_pending;
	struct bucket l_hs;
	bool          l_paused;
	uint64_t      l_paused_at;
	struct lslot  l_slot[LIMIT_SLOTS];
};

unsigned long limit_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 1024;
	if (rl.rlim_cur < rl.rlim_max) {
		rlim_t cur = rl.rlim_cur;

		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			rl.rlim_cur = cur;
	}
	return rl.rlim_cur;
}

int limit_new(struct limit **out, unsigned long nofile)
{
	struct limit *l;
	unsigned long cap;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return -ENOMEM;
	if (getrandom(l->l_sipkey, sizeof(l->l_sipkey), 0) != sizeof(l->l_sipkey)) {
		free(l);
		return errno ? -errno : -EIO;
	}
	cap = nofile > LIMIT_FD_RESERVE ? (nofile - LIMIT_FD_RESERVE) / 2 : 0;
	l->l_max_pending = cap < LIMIT_PENDING_MIN ? LIMIT_PENDING_MIN :
	    cap > LIMIT_PENDING_MAX ? LIMIT_PENDING_MAX : (unsigned)cap;
	l->l_hs.b_tokens = LIMIT_HS_BURST;
	*out = l;
	return 0;
}

void limit_free(struct limit *l)
{
	free(l);
}

unsigned limit_max_pending(const struct limit *l)
{
	return l->l_max_pending;
}

/* ---- SipHash-2-4 (Aumasson, Bernstein 2012), the reference layout ---- */

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND do {							\
	v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);	\
	v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;				\
	v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;				\
	v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);	\
} while (0)

static uint64_t le64(const uint8_t *p)
{
	uint64_t w = 0;
	int i;

	for (i = 7; i >= 0; i--)
		w = w << 8 | p[i];
	return w;
}

static uint64_t siphash(const uint64_t k[2], const uint8_t *m, size_t len)
{
	uint64_t v0 = 0x736f6d6570736575ULL ^ k[0], v1 = 0x646f72616e646f6dULL ^ k[1];
	uint64_t v2 = 0x6c7967656e657261ULL ^ k[0], v3 = 0x7465646279746573ULL ^ k[1];
	uint64_t w, last = (uint64_t)len << 56;
	size_t i, end = len - len % 8;

	for (i = 0; i < end; i += 8) {
		w = le64(m + i);
		v3 ^= w;
		SIPROUND;
		SIPROUND;
		v0 ^= w;
	}
	for (; i < len; i++)
		last |= (uint64_t)m[i] << (8 * (i - end));
	v3 ^= last;
	SIPROUND;
	SIPROUND;
	v0 ^= last;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/* ---- keys and slots ---- */

/* The address key and the network key of src. A v4-mapped IPv6 address
 * (a dual-stack socket) is the IPv4 host it maps, not one more /64. */
static void keys_of(const struct sockaddr_storage *ss, struct lkey *a, struct lkey *n)
{
	static const uint8_t v4mapped[12] = { [10] = 0xff, [11] = 0xff };
	const uint8_t *v6 = ((const struct sockaddr_in6 *)ss)->sin6_addr.s6_addr;

	memset(a, 0, sizeof(*a));
	if (ss->ss_family == AF_INET) {
		a->k_addr[10] = a->k_addr[11] = 0xff;
		memcpy(a->k_addr + 12, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	} else if (ss->ss_family == AF_INET6)
		memcpy(a->k_addr, v6, 16);
	a->k_plen = 128;
	*n = *a;
	if (memcmp(a->k_addr, v4mapped, sizeof(v4mapped)) == 0) {
		n->k_addr[15] = 0;
		n->k_plen = 96 + 24;
	} else {
		memset(n->k_addr + 8, 0, 8);
		n->k_plen = 64;
	}
}

static bool is_addr(const struct lslot *s)
{
	return s->ls_key.k_plen == 128;
}

static unsigned burst_of(const struct lslot *s)
{
	return is_addr(s) ? LIMIT_FAIL_ADDR : LIMIT_FAIL_NET;
}

static unsigned refill_ms_of(const struct lslot *s)
{
	return is_addr(s) ? LIMIT_REFILL_ADDR_MS : LIMIT_REFILL_NET_MS;
}

static unsigned pending_max_of(const struct lslot *s)
{
	return is_addr(s) ? LIMIT_PENDING_ADDR : LIMIT_PENDING_NET;
}

static void bucket_refill(struct bucket *b, uint64_t now, unsigned burst, unsigned every_ms)
{
	uint64_t n;

	if (now <= b->b_at)
		return;
	n = (now - b->b_at) / every_ms;
	if (b->b_tokens + n >= burst) {
		b->b_tokens = burst;
		b->b_at = now;
	} else if (n > 0) {
		b->b_tokens += (uint32_t)n;
		b->b_at += n * every_ms;
	}
}

static void slot_refill(struct lslot *s, uint64_t now)
{
	bucket_refill(&s->ls_fail, now, burst_of(s), refill_ms_of(s));
}

/* The slot for k: its own, else a free one, else the stalest idle one
 * among the probes but never keep (the caller's other slot). NULL if k
 * has none and create is false, or if every probe has handshakes pending:
 * an entry that is owed a limit_done is never reused. */
static struct lslot *slot_get(struct limit *l, const struct lkey *k, uint64_t now,
    bool create, const struct lslot *keep)
{
	struct lslot *s, *free_slot = NULL, *stale = NULL, *victim;
	unsigned h, i;

	h = (unsigned)siphash(l->l_sipkey, (const uint8_t *)k, sizeof(*k));
	for (i = 0; i < PROBES; i++) {
		s = &l->l_slot[(h + i) % LIMIT_SLOTS];
		if (s->ls_key.k_plen == 0) {
			if (free_slot == NULL)
				free_slot = s;
		} else if (memcmp(&s->ls_key, k, sizeof(*k)) == 0)
			return s;
		else if (s->ls_pending == 0 && s != keep &&
		    (stale == NULL || s->ls_seen < stale->ls_seen))
			stale = s;
	}
	victim = free_slot != NULL ? free_slot : stale;
	if (!create || victim == NULL)
		return NULL;
	memset(victim, 0, sizeof(*victim));
	victim->ls_key = *k;
	victim->ls_fail.b_tokens = burst_of(victim);
	victim->ls_fail.b_at = now;
	return victim;
}

/* ---- admission ---- */

static bool slot_open(struct lslot *s, uint64_t now)
{
	slot_refill(s, now);
	s->ls_seen = now;
	return s->ls_pending < pending_max_of(s) && s->ls_fail.b_tokens > 0;
}

enum limit_verdict limit_admit(struct limit *l, const struct sockaddr_storage *src,
    uint64_t now)
{
	struct lslot *a, *n;
	struct lkey ka, kn;
	bool a_open, n_open;

	keys_of(src, &ka, &kn);
	if ((a = slot_get(l, &ka, now, true, NULL)) == NULL ||
	    (n = slot_get(l, &kn, now, true, a)) == NULL)
		return LIMIT_THROTTLED;
	a_open = slot_open(a, now);
	n_open = slot_open(n, now);
	if (!a_open || !n_open)
		return LIMIT_THROTTLED;
	bucket_refill(&l->l_hs, now, LIMIT_HS_BURST, LIMIT_HS_EVERY_MS);
	if (l->l_pending >= l->l_max_pending || l->l_hs.b_tokens == 0)
		return LIMIT_BUSY;
	/* Paid now, not when it fails: a handshake pending is a failure
	 * until it proves otherwise, so silent connections cannot outrun
	 * the bucket while they wait for their timeout. */
	a->ls_fail.b_tokens--;
	n->ls_fail.b_tokens--;
	a->ls_pending++;
	n->ls_pending++;
	l->l_hs.b_tokens--;
	l->l_pending++;
	return LIMIT_OK;
}

static void slot_done(struct limit *l, const struct lkey *k, bool failed, uint64_t now)
{
	struct lslot *s = slot_get(l, k, now, false, NULL);

	if (s == NULL)
		return;
	if (s->ls_pending > 0)
		s->ls_pending--;
	slot_refill(s, now);
	if (!failed && s->ls_fail.b_tokens < burst_of(s))
		s->ls_fail.b_tokens++;
}

void limit_done(struct limit *l, const struct sockaddr_storage *src, bool failed,
    uint64_t now)
{
	struct lkey ka, kn;

	keys_of(src, &ka, &kn);
	slot_done(l, &ka, failed, now);
	slot_done(l, &kn, failed, now);
	if (l->l_pending > 0)
		l->l_pending--;
}

/* ---- pausing accept ---- */

void limit_pause(struct limit *l, uint64_t now)
{
	l->l_paused = true;
	l->l_paused_at = now;
}

bool limit_resume_due(struct limit *l, uint64_t now)
{
	if (!l->l_paused || now - l->l_paused_at < LIMIT_PAUSE_MS)
		return false;
	l->l_paused = false;
	return true;
}

