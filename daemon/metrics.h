/* metrics.h - the Prometheus text exposition format (version 0.0.4) written
 * into a ctl_buf: a family's HELP and TYPE lines, samples with at most one
 * label, and histograms. The server (server/scrape.c) and the client
 * (client/cli.c) say what they count; `vpnctl metrics` and the HTTP
 * endpoint (daemon/http.c) serve the same text. Nothing here is on the
 * packet path: counters are kept where they are counted and only read. */
#ifndef VPND_METRICS_H
#define VPND_METRICS_H

#include <stdint.h>

struct ctl_buf;

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Handshake latency in seconds: upper bounds of the buckets (+Inf is
 * implied). A LAN handshake takes a few ms, one over a slow link or past a
 * busy server hundreds; 10 s is where unfinished ones are closed. */
#define METRICS_HS_NB 11
extern const double metrics_hs_bounds[METRICS_HS_NB];

/* A histogram over metrics_hs_bounds; per-bucket counts, not cumulative
 * (the renderer sums them). Zeroed is empty. */
struct metrics_hist {
	uint64_t mh_bucket[METRICS_HS_NB + 1];	/* the last one: +Inf */
	uint64_t mh_count;
	double   mh_sum;
};

void metrics_hist_observe(struct metrics_hist *h, double v);

/* "# HELP name help" and "# TYPE name type" (type: "counter", "gauge",
 * "histogram"); help has backslash and newline escaped. */
void metrics_head(struct ctl_buf *b, const char *name, const char *type,
                  const char *help);
/* One sample: name{label="value"} v, or name v when label is NULL. The
 * value is escaped as the format says (backslash, quote, newline). */
void metrics_u64(struct ctl_buf *b, const char *name, const char *label,
                 const char *value, uint64_t v);
void metrics_f64(struct ctl_buf *b, const char *name, const char *label,
                 const char *value, double v);
/* A whole family: head, then name_bucket{le="..."} cumulative, le="+Inf"
 * equal to name_count, name_sum, name_count. */
void metrics_hist(struct ctl_buf *b, const char *name, const char *help,
                  const struct metrics_hist *h);
/* A label value escaped into out (NUL-terminated, truncated to fit);
 * returns out. */
const char *metrics_escape(const char *v, char *out, size_t len);

/* What both modes start with: vpnd_build_info{version,mode} 1,
 * vpnd_start_time_seconds and vpnd_uptime_seconds. */
void metrics_common(struct ctl_buf *b, const char *mode, int64_t started,
                    int64_t now);

/* Traffic totals of every session, ended ones included:
 * vpnd_{receive,transmit}_{bytes,packets}_total, vpnd_transport_switches_total. */
struct metrics_traffic {
	uint64_t mt_rx_bytes, mt_tx_bytes, mt_rx_pkts, mt_tx_pkts, mt_switches;
};
void metrics_totals(struct ctl_buf *b, const struct metrics_traffic *t);

/* vpnd_handshakes_total{result="ok|denied|failed"} and the latency
 * histogram vpnd_handshake_duration_seconds (of the ok ones). */
void metrics_handshakes(struct ctl_buf *b, uint64_t ok, uint64_t denied,
                        uint64_t failed, const struct metrics_hist *h);

#endif
