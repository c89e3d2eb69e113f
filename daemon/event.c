/* event.c - the event bus (see event.h). An event is rendered at most
 * twice (text, JSON), into reference-counted lines that every watcher's
 * queue points to; a watcher writes all it has queued in one uv_write and
 * the next batch when that one is done, so a reader that stops reading
 * holds at most EVT_QUEUE lines and one pending write, and never the loop:
 * the socket is non-blocking and the kernel's buffer fills first.
 *
 * A watcher is a control-socket connection handed over by ctl_detach():
 * it is read only to see the caller hang up, and lives until then, or
 * until evt_close() at shutdown. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/ctl.h"
#include "daemon/event.h"

struct evt_line {
	unsigned el_refs;
	size_t   el_len;
	char     el_text[];
};

struct evt_watcher {
	uv_pipe_t           ew_pipe;
	uv_write_t          ew_wr;
	struct evt_watcher *ew_prev, *ew_next;
	bool                ew_json;
	bool                ew_closing;
	struct evt_line    *ew_q[EVT_QUEUE];	/* ring: the first ew_inflight are being written */
	unsigned            ew_head, ew_n, ew_inflight;
	uint64_t            ew_dropped;		/* since the watcher was last told */
	char                ew_rbuf[64];	/* what the caller sends is ignored */
};

/* One per process, like the log; nothing here is on the packet path. */
static struct {
	uv_loop_t          *b_loop;		/* NULL: closed */
	struct evt_watcher *b_list;
	unsigned            b_n;
	uint64_t            b_dropped;
} bus;

static const char *const type_name[] = {
	[EVT_CONNECTED] = "connected", [EVT_DENIED] = "denied",
	[EVT_REVOKED] = "revoked", [EVT_KICKED] = "kicked",
	[EVT_TRANSPORT] = "transport", [EVT_ROAMED] = "roamed",
	[EVT_DISCONNECTED] = "disconnected", [EVT_ALLOW] = "allow",
	[EVT_RELOAD] = "reload",
};

/* ---- rendering ---- */

static int set_str(json_t *o, const char *key, const char *v)
{
	return v == NULL ? 0 : json_object_set_new(o, key, ctl_json_string(v));
}

json_t *evt_json(const struct evt *ev, time_t at)
{
	char t[32];
	json_t *o;
	int rc;

	ctl_time_str(at, t, sizeof(t));
	if ((o = json_object()) == NULL)
		return NULL;
	rc = json_object_set_new(o, "time", json_string(t)) |
	    json_object_set_new(o, "event", json_string(type_name[ev->ev_type])) |
	    set_str(o, "name", ev->ev_name) | set_str(o, "fingerprint", ev->ev_fp) |
	    set_str(o, "endpoint", ev->ev_endpoint) |
	    set_str(o, "address", ev->ev_address) |
	    set_str(o, "address6", ev->ev_address6) |
	    set_str(o, "transport", ev->ev_transport) |
	    set_str(o, "from", ev->ev_from) | set_str(o, "to", ev->ev_to) |
	    set_str(o, "reason", ev->ev_reason) |
	    set_str(o, ev->ev_type == EVT_ALLOW ? "change" : "result", ev->ev_change);
	if (ev->ev_uid != EVT_NO_UID)
		rc |= json_object_set_new(o, "uid", json_integer(ev->ev_uid));
	if (ev->ev_has_bytes)
		rc |= json_object_set_new(o, "rx_bytes", ctl_json_uint(ev->ev_rx_bytes)) |
		    json_object_set_new(o, "tx_bytes", ctl_json_uint(ev->ev_tx_bytes));
	if (rc != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* key=value; a value with a space, a quote or a backslash is quoted, and
 * control characters are \xNN, so one event is one line whatever a
 * reason holds. */
static void text_field(struct ctl_buf *b, const char *key, const char *v)
{
	const unsigned char *p;
	bool quote = false;

	if (v == NULL)
		return;
	for (p = (const unsigned char *)v; *p; p++)
		quote |= *p <= ' ' || *p == '"' || *p == '\\' || *p == 0x7f;
	ctl_printf(b, " %s=%s", key, quote || *v == '\0' ? "\"" : "");
	for (p = (const unsigned char *)v; *p; p++) {
		if (*p < ' ' || *p == 0x7f)
			ctl_printf(b, "\\x%02x", *p);
		else if (*p == '"' || *p == '\\')
			ctl_printf(b, "\\%c", *p);
		else
			ctl_printf(b, "%c", *p);
	}
	if (quote || *v == '\0')
		ctl_printf(b, "\"");
}

static char *text_line(const struct evt *ev, time_t at)
{
	struct ctl_buf b = { 0 };
	char t[32];

	ctl_time_str(at, t, sizeof(t));
	ctl_printf(&b, "%s %s", t, type_name[ev->ev_type]);
	text_field(&b, "name", ev->ev_name);
	text_field(&b, ev->ev_type == EVT_ALLOW ? "change" : "result", ev->ev_change);
	text_field(&b, "fingerprint", ev->ev_fp);
	text_field(&b, "endpoint", ev->ev_endpoint);
	text_field(&b, "address", ev->ev_address);
	text_field(&b, "address6", ev->ev_address6);
	text_field(&b, "transport", ev->ev_transport);
	text_field(&b, "from", ev->ev_from);
	text_field(&b, "to", ev->ev_to);
	if (ev->ev_has_bytes)
		ctl_printf(&b, " rx_bytes=%llu tx_bytes=%llu",
		    (unsigned long long)ev->ev_rx_bytes, (unsigned long long)ev->ev_tx_bytes);
	if (ev->ev_uid != EVT_NO_UID)
		ctl_printf(&b, " uid=%lld", ev->ev_uid);
	text_field(&b, "reason", ev->ev_reason);
	ctl_printf(&b, "\n");
	if (b.cb_oom) {
		ctl_buf_free(&b);
		return NULL;
	}
	return b.cb_p;
}

char *evt_format(const struct evt *ev, bool json, time_t at)
{
	struct ctl_buf b = { 0 };

	if (!json)
		return text_line(ev, at);
	if (ctl_buf_json(&b, evt_json(ev, at)) < 0) {
		ctl_buf_free(&b);
		return NULL;
	}
	return b.cb_p;
}

static struct evt_line *line_new(char *text)
{
	struct evt_line *l;
	size_t len;

	if (text == NULL)
		return NULL;
	len = strlen(text);
	if ((l = malloc(sizeof(*l) + len + 1)) != NULL) {
		l->el_refs = 1;
		l->el_len = len;
		memcpy(l->el_text, text, len + 1);
	}
	free(text);
	return l;
}

static void line_unref(struct evt_line *l)
{
	if (l != NULL && --l->el_refs == 0)
		free(l);
}

/* "events_dropped": what the watcher missed, in its own format. */
static struct evt_line *dropped_line(bool json, uint64_t n)
{
	struct ctl_buf b = { 0 };
	char t[32];

	ctl_time_str(time(NULL), t, sizeof(t));
	if (!json)
		ctl_printf(&b, "%s events_dropped count=%llu\n", t, (unsigned long long)n);
	else if (ctl_buf_json(&b, json_pack("{s:s,s:s,s:o}", "time", t, "event",
	    "events_dropped", "count", ctl_json_uint(n))) < 0)
		b.cb_oom = true;
	if (b.cb_oom) {
		ctl_buf_free(&b);
		return NULL;
	}
	return line_new(b.cb_p);
}

/* ---- watchers ---- */

static void watcher_flush(struct evt_watcher *w);

static void on_watcher_closed(uv_handle_t *h)
{
	struct evt_watcher *w = h->data;

	while (w->ew_n > 0) {
		line_unref(w->ew_q[w->ew_head]);
		w->ew_head = (w->ew_head + 1) % EVT_QUEUE;
		w->ew_n--;
	}
	free(w);
}

static void watcher_close(struct evt_watcher *w)
{
	if (w->ew_closing)
		return;
	w->ew_closing = true;
	if (w->ew_prev != NULL)
		w->ew_prev->ew_next = w->ew_next;
	else
		bus.b_list = w->ew_next;
	if (w->ew_next != NULL)
		w->ew_next->ew_prev = w->ew_prev;
	bus.b_n--;
	uv_close((uv_handle_t *)&w->ew_pipe, on_watcher_closed);
}

/* Queue a line (borrowed: a reference is taken); false if it is full. */
static bool watcher_push(struct evt_watcher *w, struct evt_line *l)
{
	if (w->ew_n == EVT_QUEUE)
		return false;
	l->el_refs++;
	w->ew_q[(w->ew_head + w->ew_n) % EVT_QUEUE] = l;
	w->ew_n++;
	return true;
}

/* Tell the watcher what it missed, once there is room for that and one
 * more line. */
static void watcher_catch_up(struct evt_watcher *w)
{
	struct evt_line *l;

	if (w->ew_dropped == 0 || w->ew_n + 2 > EVT_QUEUE ||
	    (l = dropped_line(w->ew_json, w->ew_dropped)) == NULL)
		return;
	if (watcher_push(w, l))
		w->ew_dropped = 0;
	line_unref(l);
}

static void on_watcher_written(uv_write_t *req, int status)
{
	struct evt_watcher *w = req->data;

	while (w->ew_inflight > 0) {
		line_unref(w->ew_q[w->ew_head]);
		w->ew_head = (w->ew_head + 1) % EVT_QUEUE;
		w->ew_n--;
		w->ew_inflight--;
	}
	if (status < 0) {
		watcher_close(w);	/* the caller has gone (or closing cancelled it) */
		return;
	}
	watcher_catch_up(w);
	watcher_flush(w);
}

/* Write everything queued, in one request, unless one is in flight. */
static void watcher_flush(struct evt_watcher *w)
{
	uv_buf_t bufs[EVT_QUEUE];
	unsigned i;

	if (w->ew_closing || w->ew_inflight > 0 || w->ew_n == 0)
		return;
	for (i = 0; i < w->ew_n; i++) {
		struct evt_line *l = w->ew_q[(w->ew_head + i) % EVT_QUEUE];

		bufs[i] = uv_buf_init(l->el_text, (unsigned)l->el_len);
	}
	w->ew_inflight = w->ew_n;
	w->ew_wr.data = w;
	if (uv_write(&w->ew_wr, (uv_stream_t *)&w->ew_pipe, bufs, w->ew_n,
	    on_watcher_written) < 0) {
		w->ew_inflight = 0;
		watcher_close(w);
	}
}

static void on_watcher_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct evt_watcher *w = h->data;

	(void)hint;
	*buf = uv_buf_init(w->ew_rbuf, sizeof(w->ew_rbuf));
}

static void on_watcher_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	(void)buf;
	if (n < 0)			/* EOF: vpnctl was interrupted */
		watcher_close(s->data);
}

int evt_watch_fd(int fd, bool json)
{
	struct evt_watcher *w;
	struct evt_line *ok;
	int err;

	if (bus.b_loop == NULL || bus.b_n >= EVT_MAX_WATCHERS) {
		close(fd);
		return bus.b_loop == NULL ? -ESHUTDOWN : -EMFILE;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL ||
	    (ok = line_new(strdup("ok\n"))) == NULL) {
		free(w);
		close(fd);
		return -ENOMEM;
	}
	uv_pipe_init(bus.b_loop, &w->ew_pipe, 0);
	w->ew_pipe.data = w;
	w->ew_json = json;
	if ((w->ew_next = bus.b_list) != NULL)
		w->ew_next->ew_prev = w;
	bus.b_list = w;
	bus.b_n++;
	if ((err = uv_pipe_open(&w->ew_pipe, fd)) < 0) {
		close(fd);		/* not the pipe's yet */
		line_unref(ok);
		watcher_close(w);
		return err;
	}
	watcher_push(w, ok);
	line_unref(ok);
	if ((err = uv_read_start((uv_stream_t *)&w->ew_pipe, on_watcher_alloc,
	    on_watcher_read)) < 0) {
		watcher_close(w);
		return err;
	}
	watcher_flush(w);
	return 0;
}

void evt_watch(struct ctl_req *rq)
{
	int fd, err;

	if (rq->rq_argc != 1) {
		ctl_replyf(rq, 2, "usage: events [--json]");
		return;
	}
	if (bus.b_loop == NULL) {
		ctl_replyf(rq, 1, "events: the daemon is stopping");
		return;
	}
	if (bus.b_n >= EVT_MAX_WATCHERS) {
		ctl_replyf(rq, 1, "events: %d watchers already", EVT_MAX_WATCHERS);
		return;
	}
	if ((fd = ctl_detach(rq)) < 0) {
		ctl_replyf(rq, 1, "events: %s", strerror(-fd));
		return;
	}
	if ((err = evt_watch_fd(fd, rq->rq_json)) < 0)
		(void)err;	/* fd is closed: the caller sees EOF, "no answer" */
}

/* ---- the bus ---- */

void evt_open(uv_loop_t *loop)
{
	bus.b_loop = loop;
}

void evt_close(void)
{
	while (bus.b_list != NULL)
		watcher_close(bus.b_list);
	bus.b_loop = NULL;
}

void evt_emit(const struct evt *ev)
{
	struct evt_line *l[2] = { NULL, NULL };	/* text, JSON: made when needed */
	struct evt_watcher *w;
	time_t now;

	if (bus.b_list == NULL)
		return;
	now = time(NULL);
	for (w = bus.b_list; w != NULL; w = w->ew_next) {
		if (l[w->ew_json] == NULL &&
		    (l[w->ew_json] = line_new(evt_format(ev, w->ew_json, now))) == NULL) {
			w->ew_dropped++;	/* out of memory: missed all the same */
			bus.b_dropped++;
			continue;
		}
		watcher_catch_up(w);
		if (!watcher_push(w, l[w->ew_json])) {
			w->ew_dropped++;
			bus.b_dropped++;
			continue;
		}
		watcher_flush(w);
	}
	line_unref(l[0]);
	line_unref(l[1]);
}

unsigned evt_watchers(void)
{
	return bus.b_n;
}

uint64_t evt_dropped(void)
{
	return bus.b_dropped;
}
