/* ctl.h - the control socket that vpnctl talks to (a Unix stream socket,
 * mode 0600, or 0660 with group control_group). Only root and members of
 * that group are served; the daemon's own (runtime) user never is, even
 * as a member. One request per connection: the command's words separated by
 * tabs, ended by a newline; the answer is "ok\n" and the body, or
 * "error N\n" and a message, N being vpnctl's exit status; then EOF.
 * The daemon (server or client) supplies one handler; this module moves
 * bytes and offers the renderers both daemons share (JSON strings, the
 * peers table). */
#ifndef VPND_CTL_H
#define VPND_CTL_H

#include <stdbool.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <uv.h>

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
	char            *rq_argv[CTL_MAX_ARGS];	/* "--json" removed */
	bool             rq_json;
};

/* Growing output buffer for answers; on allocation failure it stops
 * growing and cb_oom is set. */
struct ctl_buf {
	char  *cb_p;
	size_t cb_len, cb_cap;
	bool   cb_oom;
};

/* Split one request line (the newline already cut off) into words at
 * tabs; "--json" anywhere sets rq_json instead of being a word. The words
 * point into line, which is modified (tabs become NULs). On success sets
 * rq_argc (1..CTL_MAX_ARGS), rq_argv (unused slots NULL) and rq_json and
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

void ctl_printf(struct ctl_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One row of `vpnctl peers`: the same fields, text and JSON, whether the
 * daemon is a server (its peers) or a client (its server). */
struct ctl_peer {
	const char    *cp_name;
	const char    *cp_fp;
	struct in_addr cp_addr;			/* tunnel address */
	const char    *cp_endpoint;		/* "ip:port" data comes from */
	const char    *cp_transport;		/* "dtls" or "tls" */
	uint64_t       cp_rx_bytes, cp_tx_bytes, cp_rx_pkts, cp_tx_pkts;
	time_t         cp_since, cp_last_seen;
	const uint8_t *cp_dtls_id;		/* 8 bytes, or NULL */
};

/* Rows between ctl_peers_begin and ctl_peers_end; n counts rows so far. */
void ctl_peers_begin(struct ctl_buf *b, bool json);
void ctl_peers_row(struct ctl_buf *b, bool json, int n, const struct ctl_peer *p);
void ctl_peers_end(struct ctl_buf *b, bool json);
/* UTC "2026-11-25T08:00:00Z". */
void ctl_time_str(time_t t, char *buf, size_t len);
/* A JSON string literal, quoted and escaped. */
void ctl_json_str(struct ctl_buf *b, const char *s);
void ctl_buf_free(struct ctl_buf *b);

#endif
