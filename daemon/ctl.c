/* ctl.c - control socket plumbing: accept, check the caller, read one
 * request line, hand it to the daemon's handler, write the answer, close.
 * Answers may come later (an allow-list write runs on the thread pool), so
 * a connection lives until its reply is written.
 *
 * The socket keeps a list of its connections and is freed only after the
 * last one, so a late reply never reaches freed memory; ctl_close closes
 * the connections still reading at once, and each connection has a timer:
 * the request line must come within CTL_IDLE_MS and the answer be taken
 * within CTL_WRITE_MS (CTL_GRACE_MS once the socket is closing), so no
 * client can hold the daemon's shutdown or a descriptor for long.
 *
 * The renderers at the end build every JSON answer with jansson, never
 * with printf, and lay tables out once all their rows are known, so the
 * columns fit what is in them. */
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/ctl.h"

enum cc_state {
	CC_READING,		/* waiting for the request line */
	CC_HANDLING,		/* the handler has it; it will call ctl_reply */
	CC_WRITING,		/* the answer is being written */
};

struct ctl {
	uv_pipe_t        c_pipe;
	ctl_handler_fn  *c_fn;
	void            *c_arg;
	gid_t            c_group;		/* control_group, or CTL_NO_GROUP */
	struct ctl_conn *c_conns;		/* open connections */
	unsigned         c_nconns;
	bool             c_closing;		/* ctl_close was called */
	bool             c_pipe_closed;		/* the listener's close callback ran */
	char             c_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

struct ctl_conn {
	uv_pipe_t        cc_pipe;
	uv_timer_t       cc_timer;		/* the deadline of the current state */
	uv_write_t       cc_wr;
	struct ctl      *cc_ctl;		/* outlives the connection */
	struct ctl_conn *cc_prev, *cc_next;
	enum cc_state    cc_state;
	int              cc_open_handles;	/* freed when both have closed */
	bool             cc_closing;
	struct ctl_req   cc_req;
	char             cc_in[CTL_MAX_REQ + 1];
	size_t           cc_in_len;
	char            *cc_out;
};

/* The socket goes once it is closed and has no connection left. */
static void ctl_maybe_free(struct ctl *c)
{
	if (c->c_closing && c->c_pipe_closed && c->c_conns == NULL)
		free(c);
}

static void on_conn_handle_closed(uv_handle_t *h)
{
	struct ctl_conn *cc = h->data;
	struct ctl *c = cc->cc_ctl;

	if (--cc->cc_open_handles > 0)
		return;
	if (cc->cc_prev != NULL)
		cc->cc_prev->cc_next = cc->cc_next;
	else
		c->c_conns = cc->cc_next;
	if (cc->cc_next != NULL)
		cc->cc_next->cc_prev = cc->cc_prev;
	c->c_nconns--;
	free(cc->cc_out);
	free(cc);
	ctl_maybe_free(c);
}

static void conn_close(struct ctl_conn *cc)
{
	if (cc->cc_closing)
		return;
	cc->cc_closing = true;
	uv_close((uv_handle_t *)&cc->cc_pipe, on_conn_handle_closed);
	uv_close((uv_handle_t *)&cc->cc_timer, on_conn_handle_closed);
}

static void on_conn_deadline(uv_timer_t *t)
{
	conn_close(t->data);
}

static void conn_deadline(struct ctl_conn *cc, uint64_t ms)
{
	uv_timer_start(&cc->cc_timer, on_conn_deadline, ms, 0);
}

int ctl_parse_request(char *line, struct ctl_req *rq)
{
	struct ctl_req r = { .rq_argc = 0 };
	char *save = NULL, *w;

	for (w = strtok_r(line, "\t", &save); w != NULL;
	     w = strtok_r(NULL, "\t", &save)) {
		if (strcmp(w, "--json") == 0)
			r.rq_json = true;
		else if (strcmp(w, "--long") == 0)
			r.rq_long = true;
		else if (r.rq_argc < CTL_MAX_ARGS)
			r.rq_argv[r.rq_argc++] = w;
		else
			return -E2BIG;
	}
	if (r.rq_argc == 0)
		return -ENODATA;
	rq->rq_argc = r.rq_argc;
	memcpy(rq->rq_argv, r.rq_argv, sizeof(r.rq_argv));
	rq->rq_json = r.rq_json;
	rq->rq_long = r.rq_long;
	return 0;
}

static void conn_dispatch(struct ctl_conn *cc)
{
	struct ctl_req *rq = &cc->cc_req;
	int err;

	rq->rq_conn = cc;
	cc->cc_state = CC_HANDLING;
	uv_timer_stop(&cc->cc_timer);	/* the handler has promised an answer */
	if ((err = ctl_parse_request(cc->cc_in, rq)) < 0)
		ctl_replyf(rq, 2, "%s", err == -E2BIG ? "too many arguments" :
		    "empty request");
	else
		cc->cc_ctl->c_fn(cc->cc_ctl->c_arg, rq);
}

static void on_conn_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct ctl_conn *cc = h->data;

	(void)hint;
	buf->base = cc->cc_in + cc->cc_in_len;
	buf->len = CTL_MAX_REQ - cc->cc_in_len;
}

static void on_conn_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct ctl_conn *cc = s->data;
	char *nl;

	(void)buf;
	if (n < 0) {
		conn_close(cc);
		return;
	}
	cc->cc_in_len += (size_t)n;
	cc->cc_in[cc->cc_in_len] = '\0';
	if ((nl = memchr(cc->cc_in, '\n', cc->cc_in_len)) == NULL) {
		if (cc->cc_in_len == CTL_MAX_REQ)
			conn_close(cc);		/* no line within the limit */
		return;
	}
	*nl = '\0';
	uv_read_stop(s);
	conn_dispatch(cc);
}

static bool gid_in(const gid_t *g, size_t n, gid_t group)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (g[i] == group)
			return true;
	return false;
}

/* For kernels before SO_PEERGROUPS: the group database's view of uid. */
static bool user_in_group(uid_t uid, gid_t primary, gid_t group)
{
	struct passwd pw, *pwp = NULL;
	char buf[4096];
	gid_t g[256];
	int n = (int)(sizeof(g) / sizeof(g[0]));

	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &pwp) != 0 || pwp == NULL ||
	    getgrouplist(pw.pw_name, primary, g, &n) < 0)
		return false;
	return gid_in(g, (size_t)n, group);
}

/* SO_PEERGROUPS (Linux 4.13): the caller's supplementary groups as the
 * kernel held them when it connected - what a file's group check uses. */
static bool peer_in_group(int fd, uid_t uid, gid_t primary, gid_t group)
{
	gid_t small[64], *g;
	socklen_t len = sizeof(small);
	bool in;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, small, &len) == 0)
		return gid_in(small, len / sizeof(gid_t), group);
	if (errno == ENOPROTOOPT)
		return user_in_group(uid, primary, group);
	if (errno != ERANGE || (g = malloc(len)) == NULL)
		return false;		/* ERANGE: len says how much it takes */
	in = getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) == 0 &&
	    gid_in(g, len / sizeof(gid_t), group);
	free(g);
	return in;
}

/* Root, and members of control_group, may administer the daemon - never
 * the account the daemon itself runs as: that is what an attacker who
 * broke into the daemon would hold. SO_PEERCRED, whatever the socket
 * file's mode says. */
static bool ctl_peer_trusted(const struct ctl *c, struct ctl_conn *cc)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	uv_os_fd_t fd;

	if (uv_fileno((uv_handle_t *)&cc->cc_pipe, &fd) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		return false;
	cc->cc_req.rq_uid = cr.uid;	/* the audit trail of allow-list edits */
	if (cr.uid == 0)
		return true;
	if (cr.uid == geteuid() || cr.uid == getuid() || c->c_group == CTL_NO_GROUP)
		return false;
	return cr.gid == c->c_group || peer_in_group(fd, cr.uid, cr.gid, c->c_group);
}

static void conn_refuse(struct ctl_conn *cc)
{
	cc->cc_req.rq_conn = cc;
	cc->cc_state = CC_HANDLING;
	ctl_replyf(&cc->cc_req, 1, "permission denied");
}

static void on_ctl_connection(uv_stream_t *server, int status)
{
	struct ctl *c = server->data;
	struct ctl_conn *cc;

	if (status < 0 || (cc = calloc(1, sizeof(*cc))) == NULL)
		return;
	cc->cc_ctl = c;
	uv_pipe_init(server->loop, &cc->cc_pipe, 0);
	uv_timer_init(server->loop, &cc->cc_timer);
	cc->cc_pipe.data = cc->cc_timer.data = cc;
	cc->cc_open_handles = 2;
	if ((cc->cc_next = c->c_conns) != NULL)
		cc->cc_next->cc_prev = cc;
	c->c_conns = cc;
	c->c_nconns++;
	if (uv_accept(server, (uv_stream_t *)&cc->cc_pipe) < 0 ||
	    c->c_nconns > CTL_MAX_CONNS) {
		conn_close(cc);		/* accepted, or libuv would stop listening */
		return;
	}
	conn_deadline(cc, CTL_IDLE_MS);
	if (!ctl_peer_trusted(c, cc))
		conn_refuse(cc);
	else if (uv_read_start((uv_stream_t *)&cc->cc_pipe, on_conn_alloc,
	    on_conn_read) < 0)
		conn_close(cc);
}

static void on_reply_written(uv_write_t *wr, int status)
{
	(void)status;
	conn_close(wr->data);
}

void ctl_reply(struct ctl_req *rq, int status, const char *text, size_t len)
{
	struct ctl_conn *cc = rq->rq_conn;
	uv_buf_t b;
	int hl;

	assert(cc->cc_state == CC_HANDLING && !cc->cc_closing);
	cc->cc_state = CC_WRITING;
	conn_deadline(cc, cc->cc_ctl->c_closing ? CTL_GRACE_MS : CTL_WRITE_MS);
	if ((cc->cc_out = malloc(len + 32)) == NULL) {
		conn_close(cc);
		return;
	}
	hl = status == 0 ? snprintf(cc->cc_out, 32, "ok\n") :
	    snprintf(cc->cc_out, 32, "error %d\n", status);
	memcpy(cc->cc_out + hl, text, len);
	b = uv_buf_init(cc->cc_out, (unsigned)(len + (size_t)hl));
	cc->cc_wr.data = cc;
	if (uv_write(&cc->cc_wr, (uv_stream_t *)&cc->cc_pipe, &b, 1, on_reply_written) < 0)
		conn_close(cc);
}

int ctl_detach(struct ctl_req *rq)
{
	struct ctl_conn *cc = rq->rq_conn;
	uv_os_fd_t fd;
	int nfd;

	assert(cc->cc_state == CC_HANDLING && !cc->cc_closing);
	if (uv_fileno((uv_handle_t *)&cc->cc_pipe, &fd) < 0)
		return -EBADF;
	if ((nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3)) < 0)
		return -errno;
	cc->cc_state = CC_WRITING;	/* answered: by whoever holds nfd */
	conn_close(cc);
	return nfd;
}

void ctl_reply_buf(struct ctl_req *rq, int status, struct ctl_buf *b)
{
	if (b->cb_oom)
		ctl_replyf(rq, 1, "out of memory");
	else
		ctl_reply(rq, status, b->cb_p ? b->cb_p : "", b->cb_len);
	ctl_buf_free(b);
}

void ctl_replyf(struct ctl_req *rq, int status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n > sizeof(msg) - 2)
		n = (int)sizeof(msg) - 2;
	msg[n++] = '\n';
	ctl_reply(rq, status, msg, (size_t)n);
}

void ctl_printf(struct ctl_buf *b, const char *fmt, ...)
{
	va_list ap;
	size_t need;
	char *p;
	int n;

	if (b->cb_oom)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	need = b->cb_len + (size_t)n + 1;
	if (need > b->cb_cap) {
		size_t cap = b->cb_cap ? b->cb_cap : 1024;

		while (cap < need)
			cap *= 2;
		if ((p = realloc(b->cb_p, cap)) == NULL) {
			b->cb_oom = true;
			return;
		}
		b->cb_p = p;
		b->cb_cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(b->cb_p + b->cb_len, b->cb_cap - b->cb_len, fmt, ap);
	va_end(ap);
	b->cb_len += (size_t)n;
}

void ctl_buf_free(struct ctl_buf *b)
{
	free(b->cb_p);
	memset(b, 0, sizeof(*b));
}

/* A socket file at path: if something answers, it is a live daemon. */
static int ctl_claim_path(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat sb;
	int fd, live;

	if (lstat(path, &sb) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(sb.st_mode))
		return -EEXIST;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	live = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
	close(fd);
	if (live)
		return -EADDRINUSE;
	return unlink(path) < 0 ? -errno : 0;
}

static int ctl_mkdir_parent(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* The socket is born with its final mode (umask), so there is no moment
 * when it is open wider; its group is set with lchown, which does not
 * follow a link someone may have put at the path. */
static int ctl_bind(struct ctl *c, const char *path)
{
	mode_t old;
	int err;

	old = umask(c->c_group == CTL_NO_GROUP ? 0177 : 0117);	/* 0600, 0660 */
	err = uv_pipe_bind(&c->c_pipe, path);
	umask(old);
	if (err == 0 && c->c_group != CTL_NO_GROUP &&
	    lchown(path, (uid_t)-1, c->c_group) < 0)
		err = -errno;
	return err;
}

int ctl_open(struct ctl **out, uv_loop_t *loop, const char *path, gid_t group,
    ctl_handler_fn *fn, void *arg)
{
	struct ctl *c;
	int err;

	if (strlen(path) >= sizeof(c->c_path))
		return -ENAMETOOLONG;
	if ((err = ctl_mkdir_parent(path)) < 0 || (err = ctl_claim_path(path)) < 0)
		return err;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -ENOMEM;
	snprintf(c->c_path, sizeof(c->c_path), "%s", path);
	c->c_fn = fn;
	c->c_arg = arg;
	c->c_group = group;
	uv_pipe_init(loop, &c->c_pipe, 0);
	c->c_pipe.data = c;
	if ((err = ctl_bind(c, path)) == 0)
		err = uv_listen((uv_stream_t *)&c->c_pipe, 16, on_ctl_connection);
	if (err < 0) {
		ctl_close(c);
		return err;
	}
	*out = c;
	return 0;
}

static void on_ctl_closed(uv_handle_t *h)
{
	struct ctl *c = h->data;

	c->c_pipe_closed = true;
	ctl_maybe_free(c);
}

void ctl_close(struct ctl *c)
{
	struct ctl_conn *cc;

	if (c == NULL || c->c_closing)
		return;
	c->c_closing = true;
	unlink(c->c_path);
	uv_close((uv_handle_t *)&c->c_pipe, on_ctl_closed);
	for (cc = c->c_conns; cc != NULL; cc = cc->cc_next) {
		if (cc->cc_state == CC_READING)
			conn_close(cc);		/* frees later, in a close callback */
		else if (cc->cc_state == CC_WRITING && !cc->cc_closing)
			conn_deadline(cc, CTL_GRACE_MS);
	}
}

void ctl_time_str(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The length of the valid UTF-8 sequence at s (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), or 0. */
static size_t utf8_seq(const unsigned char *s)
{
	size_t n, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1fu;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0fu;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07u;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;		/* also stops at the NUL */
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

json_t *ctl_json_string(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), i = 0, k = 0, n;
	json_t *j;
	char *out;

	if ((j = json_string(s)) != NULL || len == 0)
		return j;
	if ((out = malloc(len * 3 + 1)) == NULL)	/* each byte at most U+FFFD */
		return NULL;
	while (p[i] != '\0') {
		if ((n = utf8_seq(p + i)) == 0) {
			memcpy(out + k, "\xef\xbf\xbd", 3);
			k += 3;
			i++;
			continue;
		}
		memcpy(out + k, p + i, n);
		k += n;
		i += n;
	}
	out[k] = '\0';
	j = json_string(out);
	free(out);
	return j;
}

json_t *ctl_json_string_or_null(const char *s)
{
	return s == NULL || *s == '\0' ? json_null() : ctl_json_string(s);
}

json_t *ctl_json_uint(uint64_t v)
{
	return json_integer(v > (uint64_t)INT64_MAX ? INT64_MAX :
	    (json_int_t)v);
}

int ctl_buf_json(struct ctl_buf *b, json_t *j)
{
	char *s;

	if (j == NULL)
		return -ENOMEM;
	s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(j);
	if (s == NULL)
		return -ENOMEM;
	ctl_printf(b, "%s\n", s);
	free(s);
	return b->cb_oom ? -ENOMEM : 0;
}

void ctl_reply_json(struct ctl_req *rq, json_t *j)
{
	struct ctl_buf b = { 0 };

	if (ctl_buf_json(&b, j) < 0)
		b.cb_oom = true;
	ctl_reply_buf(rq, 0, &b);
}

json_t *ctl_offload_json(const struct ctl_offload *o)
{
	return json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o}",
	    "tun", ctl_json_string(o->co_tun),
	    "tun_reads", ctl_json_uint(o->co_reads),
	    "tun_super_reads", ctl_json_uint(o->co_super_reads),
	    "tun_writes", ctl_json_uint(o->co_writes),
	    "gso_sent", ctl_json_uint(o->co_gso_sent),
	    "gso_received", ctl_json_uint(o->co_gso_received),
	    "gso_bad", ctl_json_uint(o->co_gso_bad));
}

void ctl_table_init(struct ctl_table *t, int ncols, const char *const *head)
{
	memset(t, 0, sizeof(*t));
	t->ct_ncols = ncols;
	ctl_table_row(t, head);
}

/* A cell as shown: control characters (a name is free text somewhere)
 * as \xNN, so a cell is one line and cannot move the cursor. */
static char *cell_dup(const char *s)
{
	size_t n = 0, i;
	char *out, *o;

	for (i = 0; s[i]; i++)
		n += (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? 4 : 1;
	if ((out = o = malloc(n + 1)) == NULL)
		return NULL;
	for (i = 0; s[i]; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			o += sprintf(o, "\\x%02x", (unsigned char)s[i]);
		else
			*o++ = s[i];
	}
	*o = '\0';
	return out;
}

void ctl_table_row(struct ctl_table *t, const char *const *cells)
{
	char **p;
	int i;

	if (t->ct_oom)
		return;
	if (t->ct_n + (size_t)t->ct_ncols > t->ct_cap) {
		size_t cap = t->ct_cap ? t->ct_cap * 2 : (size_t)t->ct_ncols * 8;

		if ((p = realloc(t->ct_cells, cap * sizeof(*p))) == NULL) {
			t->ct_oom = true;
			return;
		}
		t->ct_cells = p;
		t->ct_cap = cap;
	}
	for (i = 0; i < t->ct_ncols; i++)
		if ((t->ct_cells[t->ct_n++] = cell_dup(cells[i] ? cells[i] : "")) == NULL)
			t->ct_oom = true;
}

/* Characters a terminal shows for s: UTF-8 continuation bytes take none. */
static size_t cell_width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

int ctl_table_render(struct ctl_table *t, struct ctl_buf *b)
{
	size_t *w, r, nrows;
	int i, rc = -ENOMEM;

	if (t->ct_oom || (w = calloc((size_t)t->ct_ncols, sizeof(*w))) == NULL)
		goto out;
	nrows = t->ct_n / (size_t)t->ct_ncols;
	for (r = 0; r < nrows; r++)
		for (i = 0; i < t->ct_ncols; i++) {
			size_t cw = cell_width(t->ct_cells[r * (size_t)t->ct_ncols + (size_t)i]);

			if (cw > w[i])
				w[i] = cw;
		}
	for (r = 0; r < nrows; r++)
		for (i = 0; i < t->ct_ncols; i++) {
			const char *c = t->ct_cells[r * (size_t)t->ct_ncols + (size_t)i];

			if (i + 1 == t->ct_ncols)
				ctl_printf(b, "%s\n", c);
			else
				ctl_printf(b, "%s%*s", c, (int)(w[i] - cell_width(c) + 2), "");
		}
	free(w);
	rc = b->cb_oom ? -ENOMEM : 0;
out:
	ctl_table_free(t);
	return rc;
}

void ctl_table_free(struct ctl_table *t)
{
	size_t i;

	for (i = 0; i < t->ct_n; i++)
		free(t->ct_cells[i]);
	free(t->ct_cells);
	t->ct_cells = NULL;
	t->ct_n = t->ct_cap = 0;
}

void ctl_bytes_str(uint64_t n, char *buf, size_t len)
{
	static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double v = (double)n;
	int u = -1;

	if (n < 1024) {
		snprintf(buf, len, "%llu B", (unsigned long long)n);
		return;
	}
	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	if (v >= 1023.95 && u < 5) {	/* would print as "1024.0" */
		v /= 1024;
		u++;
	}
	snprintf(buf, len, "%.1f %s", v, unit[u]);
}

void ctl_dur_str(long long s, char *buf, size_t len)
{
	if (s < 0)
		s = 0;
	if (s < 60)
		snprintf(buf, len, "%llds", s);
	else if (s < 3600)
		snprintf(buf, len, "%lldm%llds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%lldh%lldm", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, len, "%lldd%lldh", s / 86400, s % 86400 / 3600);
}

void ctl_peers_begin(struct ctl_peers *t, bool json, bool lng, time_t now)
{
	static const char *const head[] = { "NAME", "FINGERPRINT", "ADDRESS",
		"ENDPOINT", "TRANSPORT", "RX", "TX", "SINCE", "LAST-SEEN" };
	static const char *const head_long[] = { "NAME", "FINGERPRINT", "ADDRESS",
		"ENDPOINT", "TRANSPORT", "RX", "TX", "RX-PKTS", "TX-PKTS", "SINCE",
		"LAST-SEEN", "DTLS-ID" };

	memset(t, 0, sizeof(*t));
	t->cps_json = json;
	t->cps_long = lng;
	t->cps_now = now;
	if (json) {
		if ((t->cps_rows = json_array()) == NULL)
			t->cps_oom = true;
	} else if (lng)
		ctl_table_init(&t->cps_tab, 12, head_long);
	else
		ctl_table_init(&t->cps_tab, 9, head);
}

static void dtls_id_str(const uint8_t *id, char out[17])
{
	int i;

	for (i = 0; i < 8; i++)
		snprintf(out + 2 * i, 3, "%02x", id[i]);
}

static json_t *peer_json(const struct ctl_peer *p)
{
	char a[INET_ADDRSTRLEN], a6[INET6_ADDRSTRLEN], since[32], seen[32], id[17];
	json_t *o;

	inet_ntop(AF_INET, &p->cp_addr, a, sizeof(a));
	if (p->cp_has_addr6)
		inet_ntop(AF_INET6, &p->cp_addr6, a6, sizeof(a6));
	ctl_time_str(p->cp_since, since, sizeof(since));
	ctl_time_str(p->cp_last_seen, seen, sizeof(seen));
	if (p->cp_dtls_id != NULL)
		dtls_id_str(p->cp_dtls_id, id);
	o = json_pack("{s:o,s:o,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:s,s:s,s:o}",
	    "name", ctl_json_string(p->cp_name),
	    "fingerprint", ctl_json_string(p->cp_fp),
	    "address", a,
	    "address6", p->cp_has_addr6 ? json_string(a6) : json_null(),
	    "addresses", p->cp_has_addr6 ? json_pack("[s,s]", a, a6) : json_pack("[s]", a),
	    "endpoint", ctl_json_string(p->cp_endpoint),
	    "transport", ctl_json_string(p->cp_transport),
	    "transport_switches", ctl_json_uint(p->cp_switches),
	    "rx_bytes", ctl_json_uint(p->cp_rx_bytes),
	    "tx_bytes", ctl_json_uint(p->cp_tx_bytes),
	    "rx_packets", ctl_json_uint(p->cp_rx_pkts),
	    "tx_packets", ctl_json_uint(p->cp_tx_pkts),
	    "connected_since", since, "last_seen", seen,
	    "dtls_id", p->cp_dtls_id != NULL ? json_string(id) : json_null());
	return o;
}

static void peer_cells(struct ctl_peers *t, const struct ctl_peer *p)
{
	char a[INET_ADDRSTRLEN + 1 + INET6_ADDRSTRLEN], fp[CTL_FP_SHORT + 1], tr[64];
	char rx[32], tx[32], rp[24], tp[24], since[40], seen[40], id[17] = "-";
	const char *f = p->cp_fp;
	struct tm tm;
	time_t st = p->cp_since;

	inet_ntop(AF_INET, &p->cp_addr, a, INET_ADDRSTRLEN);
	if (p->cp_has_addr6) {		/* both in one cell: "10.8.0.2,fd00:8::2" */
		strcat(a, ",");
		inet_ntop(AF_INET6, &p->cp_addr6, a + strlen(a), INET6_ADDRSTRLEN);
	}
	if (strncmp(f, "sha256:", 7) == 0)
		f += 7;
	if (!t->cps_long) {
		snprintf(fp, sizeof(fp), "%s", f);	/* cut to CTL_FP_SHORT */
		f = fp;
	} else
		f = p->cp_fp;
	if (p->cp_switches == 0)
		snprintf(tr, sizeof(tr), "%s", p->cp_transport);
	else
		snprintf(tr, sizeof(tr), "%s (%llu switch%s)", p->cp_transport,
		    (unsigned long long)p->cp_switches, p->cp_switches == 1 ? "" : "es");
	ctl_bytes_str(p->cp_rx_bytes, rx, sizeof(rx));
	ctl_bytes_str(p->cp_tx_bytes, tx, sizeof(tx));
	if (t->cps_long) {
		localtime_r(&st, &tm);
		strftime(since, sizeof(since), "%Y-%m-%d %H:%M:%S", &tm);
	} else
		ctl_dur_str((long long)(t->cps_now - p->cp_since), since, sizeof(since));
	ctl_dur_str((long long)(t->cps_now - p->cp_last_seen), seen, sizeof(seen));
	strcat(seen, " ago");
	if (!t->cps_long) {
		const char *c[] = { p->cp_name, f, a, p->cp_endpoint, tr, rx, tx, since, seen };

		ctl_table_row(&t->cps_tab, c);
		return;
	}
	snprintf(rp, sizeof(rp), "%llu", (unsigned long long)p->cp_rx_pkts);
	snprintf(tp, sizeof(tp), "%llu", (unsigned long long)p->cp_tx_pkts);
	if (p->cp_dtls_id != NULL)
		dtls_id_str(p->cp_dtls_id, id);
	{
		const char *c[] = { p->cp_name, f, a, p->cp_endpoint, tr, rx, tx, rp, tp,
			since, seen, id };

		ctl_table_row(&t->cps_tab, c);
	}
}

void ctl_peers_row(struct ctl_peers *t, const struct ctl_peer *p)
{
	if (t->cps_oom)
		return;
	if (!t->cps_json) {
		peer_cells(t, p);
		return;
	}
	if (json_array_append_new(t->cps_rows, peer_json(p)) < 0)
		t->cps_oom = true;
}

int ctl_peers_end(struct ctl_peers *t, struct ctl_buf *b)
{
	int rc;

	if (!t->cps_json)
		return ctl_table_render(&t->cps_tab, b);
	if (t->cps_oom) {
		json_decref(t->cps_rows);
		t->cps_rows = NULL;
		return -ENOMEM;
	}
	rc = ctl_buf_json(b, t->cps_rows);
	t->cps_rows = NULL;
	return rc;
}
