/* limit.h - what unauthenticated clients may cost the server before their
 * TLS handshake succeeds. Each source has a cap on handshakes pending at
 * once and a bucket of failures that admission spends and only a success
 * gives back; a source is an address and, beside it, its network (an IPv4
 * /24, an IPv6 /64), which has larger limits of its own. Over all sources:
 * a cap on pending handshakes sized from the descriptor limit, and a bucket
 * of handshakes per second, so a flood cannot make the server sign without
 * bound. A connection over any limit is closed at accept, before TLS work.
 * Sources live in a fixed table hashed with a key drawn at start, so an
 * attacker cannot aim addresses at a victim's entry; when the table fills,
 * the stalest idle entry is reused, so memory does not grow with attackers.
 * The module also keeps the state of a pause in accepting (no descriptors
 * left) and the budget of its log lines; the caller owns the sockets. */
#ifndef VPND_LIMIT_H
#define VPND_LIMIT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#define LIMIT_SLOTS          8192	/* addresses and networks, all sources */
#define LIMIT_PENDING_ADDR   4	/* handshakes in flight per address */
#define LIMIT_PENDING_NET    32	/* ... per IPv4 /24 or IPv6 /64 */
#define LIMIT_FAIL_ADDR      10	/* failures an address may owe at once */
#define LIMIT_REFILL_ADDR_MS 1000	/* one back every second */
#define LIMIT_FAIL_NET       40	/* failures a network may owe at once */
#define LIMIT_REFILL_NET_MS  250	/* four back every second */
#define LIMIT_HS_BURST       200	/* handshakes started, all sources ... */
#define LIMIT_HS_EVERY_MS    10	/* ... then one more each 10 ms (100/s) */
#define LIMIT_FD_RESERVE     64	/* descriptors kept from the pending cap */
#define LIMIT_PENDING_MIN    16	/* the pending cap, whatever the rlimit */
#define LIMIT_PENDING_MAX    1024	/* bounds memory: a pending peer is ~60 KiB */
#define LIMIT_BACKLOG        4096	/* listen(): room for a legitimate SYN in a
					 * flood (the kernel caps it at somaxconn) */
#define LIMIT_PAUSE_MS       200	/* no accept() after running out of fds */

struct limit;

enum limit_verdict {
	LIMIT_OK,		/* admitted: call limit_done once, later */
	LIMIT_THROTTLED,	/* its address or network is over a limit */
	LIMIT_BUSY,		/* the server is: pending cap or handshake rate */
};

/* Raise the soft RLIMIT_NOFILE to the hard limit; returns the soft limit
 * in force afterwards (the old one if it could not be raised). */
unsigned long limit_raise_nofile(void);

/* A table for a process that may hold nofile descriptors: at most
 * (nofile - LIMIT_FD_RESERVE) / 2 handshakes pending, so established
 * sessions keep the other half, within [LIMIT_PENDING_MIN, _MAX].
 * 0, -ENOMEM, or -errno from getrandom() for the hash key. */
int  limit_new(struct limit **out, unsigned long nofile);
void limit_free(struct limit *l);		/* NULL is fine */
unsigned limit_max_pending(const struct limit *l);

/* May a new connection from src (port ignored; IPv4-mapped IPv6 counts as
 * IPv4) start a handshake at now (ms)? LIMIT_OK spends one failure from
 * its address and its network and one handshake from the server's rate. */
enum limit_verdict limit_admit(struct limit *l, const struct sockaddr_storage *src,
                               uint64_t now);
/* Its handshake ended: succeeded (the failures spent at admission are
 * given back) or failed (garbage, timeout, denial: they stay spent). */
void limit_done(struct limit *l, const struct sockaddr_storage *src, bool failed,
                uint64_t now);

/* accept() found no descriptor or memory: the caller stops accepting and
 * asks limit_resume_due on its timer, since the connection stays queued
 * and a level-triggered poll would fire again at once. */
void limit_pause(struct limit *l, uint64_t now);
/* True once, when a pause has lasted LIMIT_PAUSE_MS: accept again. */
bool limit_resume_due(struct limit *l, uint64_t now);

#endif
