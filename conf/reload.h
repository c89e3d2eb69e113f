/* reload.h - what a reload may change while vpnd runs, and what needs a
 * restart. One table row per key: how two configurations compare on it,
 * how its value reads in a message, and whether the running daemon takes
 * the new value (and whether it reaches connected clients in a CONFIG).
 * The server re-reads its file into a second struct conf, diffs, takes the
 * live keys into the running one and names the others. This module only
 * compares and copies; applying a change is the server's job. */
#ifndef VPND_RELOAD_H
#define VPND_RELOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"

enum reload_class {
	RELOAD_RESTART,		/* named, the old value stays */
	RELOAD_LIVE,		/* taken at once, on the server */
	RELOAD_PUSHED,		/* taken, and sent to connected clients */
};

/* The keys a reload compares. A new key: an entry here and a row in the
 * table of reload.c. */
enum reload_key {
	RK_MODE,
	RK_ROUTES,
	RK_KEEPALIVE,
	RK_DEAD_PEER_TIMEOUT,
	RK_CLIENT_TO_CLIENT,
	RK_NAT,
	RK_LISTEN,
	RK_TUN,
	RK_NETWORK,
	RK_KEY,
	RK_CERT,
	RK_USER,
	RK_GROUP,
	RK_CONTROL_SOCKET,
	RK_CONTROL_GROUP,
	RK_STATE_DIR,
	RK_ALLOW_LIST,
	RK_DNS,
	RK_DNS_SEARCH,
	RK_ON_CONNECT,
	RK_ON_DISCONNECT,
	RK_METRICS_LISTEN,
	RK_NETWORK6,
	RK_COUNT
};

/* The keys whose values differ, one bit each (1u << RK_*). */
struct reload_diff {
	uint32_t rd_changed;
};

/* Compare a running configuration with a re-read one. */
void reload_diff(const struct conf *cur, const struct conf *next, struct reload_diff *d);
bool reload_changed(const struct reload_diff *d, enum reload_key k);
/* Some changed key is of class cls. */
bool reload_any(const struct reload_diff *d, enum reload_class cls);
enum reload_class reload_class_of(enum reload_key k);
const char *reload_key_name(enum reload_key k);	/* "nat.out_interface" */
/* The value of k in c as a message shows it ("0.0.0.0:4433"); returns buf. */
const char *reload_value_str(const struct conf *c, enum reload_key k, char *buf, size_t len);
/* Copy every changed key that is not RELOAD_RESTART from next into cur;
 * the rest of cur stays as it is (only those members are written, so a
 * thread reading a restart key meanwhile sees no change). */
void reload_take(struct conf *cur, const struct conf *next, const struct reload_diff *d);
/* The names of the changed keys of class cls, ", " between them, into buf
 * ("" when none); returns buf. */
const char *reload_names(const struct reload_diff *d, enum reload_class cls,
                         char *buf, size_t len);

#endif
