/* lease.h - the pool's address owners kept across restarts, in a text file
 * under state_dir: one "sha256:<64 hex> <IPv4>" line per owner, and one
 * "sha256:<64 hex> <IPv6>" line per network6 owner (one file for both). Loading
 * feeds pool_remember; saving is atomic (temp file, fsync, rename, fsync of
 * the directory), so a crash leaves the old file or the new one. Saving is
 * split so the server renders on the loop thread and writes on libuv's
 * thread pool. Never prints. */
#ifndef VPND_LEASE_H
#define VPND_LEASE_H

#include <stddef.h>

#include "conf/conf.h"

struct pool;
struct pool6;

#define LEASE_FILE CONF_LEASE_FILE

/* Read path into p with pool_remember. Blank lines and lines starting with
 * '#' are ignored; a line that is malformed, or that the pool refuses (an
 * address outside the network, or reserved for another fingerprint), is
 * skipped. Returns the number of lines skipped (>= 0; a missing file is 0),
 * or -errno if the file cannot be read. Fingerprints may be in any case. */
int   lease_load(struct pool *p, const char *path);

/* The same with network6's owners: lines with an IPv6 address go to p6
 * with pool6_remember (skipped if p6 is NULL). */
int   lease_load6(struct pool *p, struct pool6 *p6, const char *path);

/* lease_render then lease_write. 0 or -errno. */
int   lease_save(const struct pool *p, const char *path);

/* The file's text for every owner in p (pool_foreach_owner order); the
 * caller frees it. NULL if out of memory. Reads p: call it where p lives. */
char *lease_render(const struct pool *p, size_t *len);
/* The same, then one line per owner in p6 (NULL: none). */
char *lease_render6(const struct pool *p, const struct pool6 *p6, size_t *len);

/* Replace path atomically with buf (mode 0600): a temp file in the same
 * directory is written, synced and renamed over path, then the directory is
 * synced. On failure the temp file is removed and -errno returned. Touches
 * only its arguments and the file system: safe on a uv_queue_work thread.
 * buf is borrowed. */
int   lease_write(const char *path, const char *buf, size_t len);

#endif
