/* metrics.c - the Prometheus text format, 0.0.4: "# HELP", "# TYPE", then
 * one sample a line. Label values are escaped even where the caller's
 * names are already safe (allow-list names are [A-Za-z0-9._-]): a host
 * name from the client's configuration need not be. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "daemon/ctl.h"
#include "daemon/metrics.h"

const double metrics_hs_bounds[METRICS_HS_NB] = {
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};

void metrics_hist_observe(struct metrics_hist *h, double v)
{
	int i;

	for (i = 0; i < METRICS_HS_NB && v > metrics_hs_bounds[i]; i++)
		;
	h->mh_bucket[i]++;		/* le is inclusive: v <= bound */
	h->mh_count++;
	h->mh_sum += v;
}

/* Escape backslash and newline; with quote, the double quote too (label
 * values; HELP text leaves quotes alone). */
static const char *escape(const char *v, char *out, size_t len, int quote)
{
	size_t o = 0;
	int esc;

	for (; *v != '\0'; v++) {
		esc = *v == '\\' || *v == '\n' || (quote && *v == '"');
		if (o + (size_t)esc + 2 > len)	/* the character and the NUL */
			break;
		if (esc)
			out[o++] = '\\';
		out[o++] = *v == '\n' ? 'n' : *v;
	}
	out[o] = '\0';
	return out;
}

const char *metrics_escape(const char *v, char *out, size_t len)
{
	if (len == 0)
		return out;
	return escape(v, out, len, 1);
}

void metrics_head(struct ctl_buf *b, const char *name, const char *type,
    const char *help)
{
	char h[512];

	ctl_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name,
	    escape(help, h, sizeof(h), 0), name, type);
}

/* A label value is at most a host name (255) or a peer name, escaped:
 * twice that at worst. */
#define LBL 520

void metrics_u64(struct ctl_buf *b, const char *name, const char *label,
    const char *value, uint64_t v)
{
	char e[LBL];

	if (label == NULL)
		ctl_printf(b, "%s %" PRIu64 "\n", name, v);
	else
		ctl_printf(b, "%s{%s=\"%s\"} %" PRIu64 "\n", name, label,
		    metrics_escape(value, e, sizeof(e)), v);
}

void metrics_f64(struct ctl_buf *b, const char *name, const char *label,
    const char *value, double v)
{
	char e[LBL];

	/* %.17g round-trips a double; the format takes Go's float syntax. */
	if (label == NULL)
		ctl_printf(b, "%s %.17g\n", name, v);
	else
		ctl_printf(b, "%s{%s=\"%s\"} %.17g\n", name, label,
		    metrics_escape(value, e, sizeof(e)), v);
}

void metrics_hist(struct ctl_buf *b, const char *name, const char *help,
    const struct metrics_hist *h)
{
	uint64_t cum = 0;
	int i;

	metrics_head(b, name, "histogram", help);
	for (i = 0; i < METRICS_HS_NB; i++) {
		cum += h->mh_bucket[i];
		ctl_printf(b, "%s_bucket{le=\"%g\"} %" PRIu64 "\n", name,
		    metrics_hs_bounds[i], cum);
	}
	ctl_printf(b, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n", name, h->mh_count);
	ctl_printf(b, "%s_sum %.17g\n%s_count %" PRIu64 "\n", name, h->mh_sum,
	    name, h->mh_count);
}

void metrics_common(struct ctl_buf *b, const char *mode, int64_t started,
    int64_t now)
{
	char e[LBL];

	metrics_head(b, "vpnd_build_info", "gauge",
	    "Always 1; the labels say which vpnd this is.");
	ctl_printf(b, "vpnd_build_info{version=\"%s\",", metrics_escape(VPND_VERSION,
	    e, sizeof(e)));
	ctl_printf(b, "mode=\"%s\"} 1\n", metrics_escape(mode, e, sizeof(e)));
	metrics_head(b, "vpnd_start_time_seconds", "gauge",
	    "When the daemon started, seconds since the Unix epoch.");
	metrics_u64(b, "vpnd_start_time_seconds", NULL, NULL, (uint64_t)started);
	metrics_head(b, "vpnd_uptime_seconds", "gauge", "Seconds since the daemon started.");
	metrics_u64(b, "vpnd_uptime_seconds", NULL, NULL,
	    now > started ? (uint64_t)(now - started) : 0);
}

void metrics_handshakes(struct ctl_buf *b, uint64_t ok, uint64_t denied,
    uint64_t failed, const struct metrics_hist *h)
{
	metrics_head(b, "vpnd_handshakes_total", "counter",
	    "Handshakes by result: ok (admitted), denied (not allowed), failed "
	    "(TLS error or not finished in time).");
	metrics_u64(b, "vpnd_handshakes_total", "result", "ok", ok);
	metrics_u64(b, "vpnd_handshakes_total", "result", "denied", denied);
	metrics_u64(b, "vpnd_handshakes_total", "result", "failed", failed);
	metrics_hist(b, "vpnd_handshake_duration_seconds",
	    "Time from the connection to admission, of ok handshakes.", h);
}

void metrics_totals(struct ctl_buf *b, const struct metrics_traffic *t)
{
	static const struct { const char *n, *help; } f[] = {
		{ "vpnd_receive_bytes_total", "Inner bytes received, all sessions." },
		{ "vpnd_transmit_bytes_total", "Inner bytes sent, all sessions." },
		{ "vpnd_receive_packets_total", "Inner packets received, all sessions." },
		{ "vpnd_transmit_packets_total", "Inner packets sent, all sessions." },
		{ "vpnd_transport_switches_total",
		  "Times a session's data moved between DTLS and TLS." },
	};
	const uint64_t v[] = { t->mt_rx_bytes, t->mt_tx_bytes, t->mt_rx_pkts,
	    t->mt_tx_pkts, t->mt_switches };
	size_t i;

	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		metrics_head(b, f[i].n, "counter", f[i].help);
		metrics_u64(b, f[i].n, NULL, NULL, v[i]);
	}
}
