/* scrape.h - what the server exposes as metrics (daemon/metrics.h writes
 * the format): peers connected and allowed, each connected peer's bytes and
 * packets, the totals, handshakes and their latency, drops by reason,
 * transport switches, refused connections. Read from the counters the
 * control and data planes keep; served by `vpnctl metrics` (admin.c) and
 * metrics_listen (srv.c). */
#ifndef VPND_SCRAPE_H
#define VPND_SCRAPE_H

#include <time.h>

struct ctl_buf;
struct fwd;
struct peers;

/* Append the whole exposition to b; started is the daemon's start time.
 * 0, or -ENOMEM (b->cb_oom). */
int scrape_server(struct ctl_buf *b, const struct peers *ps, const struct fwd *f,
                  time_t started);

#endif
