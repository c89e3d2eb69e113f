/* limit.h - what one source address may cost the server before its TLS
 * handshake succeeds: a cap on handshakes it has pending at once, and a
 * token bucket of failed handshakes (refilled over time). A source that is
 * over either limit has its new connections closed at accept, before any
 * TLS work. Sources live in a fixed table; when it is full the stalest
 * entry is reused, so memory does not grow with the number of attackers. */
#ifndef VPND_LIMIT_H
#define VPND_LIMIT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#define LIMIT_SLOTS          4096
#define LIMIT_PENDING_PER_SRC 64	/* handshakes in flight per address */
#define LIMIT_FAIL_BURST     20	/* failed handshakes before throttling */
#define LIMIT_FAIL_REFILL_MS 1000	/* one more allowed per second */

struct limit;

int  limit_new(struct limit **out);		/* 0 or -ENOMEM */
void limit_free(struct limit *l);

/* May a new connection from src start a handshake now? On true the caller
 * must later call limit_done for it exactly once. */
bool limit_admit(struct limit *l, const struct sockaddr_storage *src, uint64_t now);
/* Its handshake ended: succeeded, or failed (garbage, timeout). */
void limit_done(struct limit *l, const struct sockaddr_storage *src, bool failed,
                uint64_t now);

#endif
