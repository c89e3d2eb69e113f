/* ctl.h - the control socket that vpnctl talks to (a Unix stream socket,
 * mode 0600, or 0660 with group control_group). Only root and members of
 * that group are served; the daemon's own (runtime) user never is, even
 * as a member. One request per connection: the command's words separated by
 * tabs, ended by a newline; the answer is "ok\n" and the body, or
 * "error N\n" and a message, N being vpnctl's exit status; then EOF.
 * The daemon (server or client) supplies one handler; this module moves
 * bytes and offers the renderers both daemons share: JSON values through
 * jansson (strings made safe, counters, the reply), tables sized to their
 * content, human units, and `vpnctl peers` in text and JSON. */
#ifndef VPND_CTL_H
#define VPND_CTL_H

#include <stdbool.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <uv.h>
#include <jansson.h>

#include <sys/types.h>

#define CTL_MAX_ARGS  16
#define CTL_MAX_REQ   4096
#define CTL_MAX_CONNS 64		/* open at once; more are closed at accept */
#define CTL_IDLE_MS   5000		/* the request line must come within this */
#define CTL_WRITE_MS  5000		/* the answer must be taken within this */
#define CTL_GRACE_MS  1000		/* ... once ctl_close has been called */
#define CTL_NO_GROUP  ((gid_t)-1)	/* ctl_open: no control_group */

struct ctl;
struct ctl_conn;

struct ctl_req {
	struct ctl_conn *rq_conn;
	int              rq_argc;
	char            *rq_argv[CTL_MAX_ARGS];	/* "--json", "--long" removed */
	bool             rq_json;
	bool             rq_long;		/* vpnctl -l: the table in full */
	uid_t            rq_uid;		/* the caller (SO_PEERCRED) */
};

/* Growing output buffer for answers; on allocation failure it stops
 * growing and cb_oom is set. */
struct ctl_buf {
	char  *cb_p;
	size_t cb_len, cb_cap;
	bool   cb_oom;
};

/* Split one request line (the newline already cut off) into words at
 * tabs; "--json" anywhere sets rq_json and "--long" rq_long instead of
 * being a word. The words
 * point into line, which is modified (tabs become NULs). On success sets
 * rq_argc (1..CTL_MAX_ARGS), rq_argv (unused slots NULL), rq_json and rq_long, and
 * returns 0; on failure rq is left untouched and the result is -E2BIG
 * (more than CTL_MAX_ARGS words) or -ENODATA (no word). rq_conn is never
 * touched. */
int ctl_parse_request(char *line, struct ctl_req *rq);

/* The handler must answer every request exactly once with ctl_reply, now
 * or later (the request stays valid until then). */
typedef void ctl_handler_fn(void *arg, struct ctl_req *rq);

/* Listen on PATH (its directory is created 0755 if missing; a stale socket
 * is replaced, a live one is -EADDRINUSE). The socket file is owned by the
 * caller (root, before dropping privileges), mode 0600; with GROUP other
 * than CTL_NO_GROUP it has that group and mode 0660, and members of GROUP
 * are served too. 0 or -errno. */
int  ctl_open(struct ctl **out, uv_loop_t *loop, const char *path, gid_t group,
              ctl_handler_fn *fn, void *arg);
/* Stop listening and unlink the socket. Connections still reading their
 * request are closed now; a request the handler holds is still answered
 * (its reply, and one being written, get CTL_GRACE_MS). The struct is
 * freed in a close callback once the last connection has gone, so the
 * loop must run on; when it stops, no handle of this module is left. */
void ctl_close(struct ctl *c);			/* NULL is fine */

/* Answer: status 0 with body, or status 1/2 with an error message. */
void ctl_reply(struct ctl_req *rq, int status, const char *text, size_t len);
void ctl_reply_buf(struct ctl_req *rq, int status, struct ctl_buf *b);	/* frees b */
void ctl_replyf(struct ctl_req *rq, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Answer rq by taking its connection away from the socket: returns a
 * duplicate of its descriptor (close-on-exec, the caller's to write the
 * answer to and close) and closes the connection here, deadlines and all;
 * for answers that stream (vpnctl events). -errno: rq is still to be
 * answered. */
int  ctl_detach(struct ctl_req *rq);

void ctl_printf(struct ctl_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* JSON answers are built with jansson, never printed by hand: a name with
 * a quote, a backslash or a control character cannot break them. */

/* A JSON string of s. jansson takes only UTF-8, and a device name or a
 * host name may be any bytes: each byte that is not part of valid UTF-8
 * becomes U+FFFD. NULL only when out of memory. */
json_t *ctl_json_string(const char *s);
/* The same, or JSON null when s is NULL or empty. */
json_t *ctl_json_string_or_null(const char *s);
/* A counter; JSON integers are signed 64-bit here, so it saturates at
 * INT64_MAX. */
json_t *ctl_json_uint(uint64_t v);
/* Answer status 0 with j as one line of compact JSON; takes j (NULL: out
 * of memory, answered as such). */
void ctl_reply_json(struct ctl_req *rq, json_t *j);
/* j as one line of compact JSON and a newline, appended to b; takes j.
 * 0, or -ENOMEM (j NULL, or out of memory). */
int  ctl_buf_json(struct ctl_buf *b, json_t *j);

/* A text table sized to its content: each column as wide as its widest
 * cell (counted in UTF-8 characters), columns two spaces apart, all left
 * aligned, so every column starts at the same offset in every line; the
 * last one is not padded. Control characters in a cell are shown as \xNN. */
struct ctl_table {
	int    ct_ncols;
	char **ct_cells;			/* row-major, the header first */
	size_t ct_n, ct_cap;			/* cells */
	bool   ct_oom;
};

void ctl_table_init(struct ctl_table *t, int ncols, const char *const *head);
void ctl_table_row(struct ctl_table *t, const char *const *cells);	/* ncols */
/* Append the table to b and free t's cells. 0 or -ENOMEM. */
int  ctl_table_render(struct ctl_table *t, struct ctl_buf *b);
void ctl_table_free(struct ctl_table *t);

/* Human units: "512 B", "1.5 KiB", "2.0 MiB", "3.1 GiB" ... (1024-based). */
void ctl_bytes_str(uint64_t n, char *buf, size_t len);
/* A duration: "0s", "59s", "3m20s", "2h13m", "4d3h" (negative: "0s"). */
void ctl_dur_str(long long secs, char *buf, size_t len);

/* One row of `vpnctl peers`: the same fields, text and JSON, whether the
 * daemon is a server (its peers) or a client (its server). */
struct ctl_peer {
	const char    *cp_name;
	const char    *cp_fp;
	struct in_addr cp_addr;			/* tunnel address */
	bool           cp_has_addr6;		/* and its IPv6 one (network6) */
	struct in6_addr cp_addr6;
	const char    *cp_endpoint;		/* "ip:port" data comes from */
	const char    *cp_transport;		/* "dtls" or "tls" */
	uint64_t       cp_rx_bytes, cp_tx_bytes, cp_rx_pkts, cp_tx_pkts;
	uint64_t       cp_switches;		/* times data changed transport */
	time_t         cp_since, cp_last_seen;
	const uint8_t *cp_dtls_id;		/* 8 bytes, or NULL */
};

#define CTL_FP_SHORT 12				/* hex digits the table shows */

/* The offloads' work, for `status --json` of both modes ("offload"). */
struct ctl_offload {
	const char *co_tun;			/* "csum tso4 tso6", "off", ... */
	uint64_t    co_reads, co_super_reads;	/* TUN reads, of them super-packets */
	uint64_t    co_writes;			/* TUN writes (coalesced or whole) */
	uint64_t    co_gso_sent, co_gso_received, co_gso_bad;	/* GSO frames */
};
json_t *ctl_offload_json(const struct ctl_offload *o);

/* `vpnctl peers`: rows between ctl_peers_begin and ctl_peers_end. JSON is
 * an array of objects, every field always there; text is a ctl_table:
 * NAME FINGERPRINT (CTL_FP_SHORT hex digits) ADDRESS ENDPOINT TRANSPORT
 * ("dtls", "tls (2 switches)") RX TX (human units) SINCE (a duration)
 * LAST-SEEN ("3m20s ago"); with lng, the full fingerprint, SINCE as local
 * time, and RX-PKTS TX-PKTS DTLS-ID columns. Times relative to now. */
struct ctl_peers {
	bool             cps_json, cps_long;
	time_t           cps_now;
	json_t          *cps_rows;
	struct ctl_table cps_tab;
	bool             cps_oom;
};

void ctl_peers_begin(struct ctl_peers *t, bool json, bool lng, time_t now);
void ctl_peers_row(struct ctl_peers *t, const struct ctl_peer *p);
/* Append what was rendered to b and free t. 0 or -ENOMEM. */
int  ctl_peers_end(struct ctl_peers *t, struct ctl_buf *b);
/* UTC "2026-11-25T08:00:00Z". */
void ctl_time_str(time_t t, char *buf, size_t len);
void ctl_buf_free(struct ctl_buf *b);

#endif
