/* http.c - libmicrohttpd driven by the daemon's own libuv loop, so a scrape
 * reads the daemon's counters on the thread that writes them: no lock, no
 * thread. MHD runs with MHD_USE_EPOLL and no internal thread: it keeps its
 * sockets (the listener we bound, its connections) in one epoll fd of its
 * own, which we watch with a uv_poll; when that fd is readable, or when
 * MHD_get_timeout says a connection times out, MHD_run does the work
 * without blocking, and the timer is set again from MHD_get_timeout. The
 * epoll variant beats select (FD_SETSIZE: the daemon holds thousands of
 * sockets) and poll (we would rebuild the set each turn). Resources are
 * bounded by MHD's own limits: HTTP_MAX_CONNS connections, HTTP_PER_IP per
 * source, HTTP_TIMEOUT_S each, HTTP_MEM_LIMIT of memory each.
 *
 * libmicrohttpd is loaded (daemon/dl.c) by the first http_open, not linked: it
 * brings GnuTLS and six more libraries, about 3 MB of resident pages per
 * process, which a daemon without metrics_listen should not carry. */
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/ctl.h"
#include "daemon/dl.h"
#include "daemon/http.h"
#include "daemon/metrics.h"
#include "tunnel/sock.h"

struct http {
	struct MHD_Daemon *h_mhd;
	uv_loop_t         *h_loop;
	uv_poll_t          h_poll;		/* MHD's epoll fd */
	uv_timer_t         h_timer;		/* MHD_get_timeout */
	int                h_open_handles;
	uint16_t           h_port;
	http_render_fn    *h_fn;
	void              *h_arg;
};

/* The part of libmicrohttpd's API used here, resolved at the first open in
 * the order of mhd_load's names. */
static struct {
	struct MHD_Daemon *(*start_daemon)(unsigned int, uint16_t, MHD_AcceptPolicyCallback,
	    void *, MHD_AccessHandlerCallback, void *, ...);
	void (*stop_daemon)(struct MHD_Daemon *);
	enum MHD_Result (*run)(struct MHD_Daemon *);
	enum MHD_Result (*get_timeout)(struct MHD_Daemon *, MHD_UNSIGNED_LONG_LONG *);
	const union MHD_DaemonInfo *(*get_daemon_info)(struct MHD_Daemon *,
	    enum MHD_DaemonInfoType, ...);
	struct MHD_Response *(*create_response_from_buffer)(size_t, void *,
	    enum MHD_ResponseMemoryMode);
	enum MHD_Result (*add_response_header)(struct MHD_Response *, const char *,
	    const char *);
	enum MHD_Result (*queue_response)(struct MHD_Connection *, unsigned int,
	    struct MHD_Response *);
	void (*destroy_response)(struct MHD_Response *);
} mhd;

/* 0, or -ELIBACC when the library (libmicrohttpd12) is not installed. */
static int mhd_load(void)
{
	static const char *const names[] = { "MHD_start_daemon", "MHD_stop_daemon",
	    "MHD_run", "MHD_get_timeout", "MHD_get_daemon_info",
	    "MHD_create_response_from_buffer", "MHD_add_response_header",
	    "MHD_queue_response", "MHD_destroy_response" };
	static void *lib;

	if (lib != NULL)
		return 0;
	return dl_load(&lib, "libmicrohttpd.so.12", names, sizeof(names) / sizeof(names[0]),
	    &mhd, sizeof(mhd));
}

static void on_http_timer(uv_timer_t *t);

/* MHD_run processes what is ready and returns; then the timer is set to
 * the nearest connection timeout (MHD_NO: none waits, epoll wakes us). A
 * timeout of 0 means MHD has work left: the timer runs it next turn. */
static void http_run(struct http *h)
{
	MHD_UNSIGNED_LONG_LONG ms;

	mhd.run(h->h_mhd);
	if (mhd.get_timeout(h->h_mhd, &ms) == MHD_YES)
		uv_timer_start(&h->h_timer, on_http_timer,
		    ms > HTTP_TIMEOUT_S * 1000ULL ? HTTP_TIMEOUT_S * 1000ULL : ms, 0);
	else
		uv_timer_stop(&h->h_timer);
}

static void on_http_timer(uv_timer_t *t)
{
	http_run(t->data);
}

static void on_http_readable(uv_poll_t *p, int status, int events)
{
	(void)events;
	if (status == 0)
		http_run(p->data);
}

static enum MHD_Result http_send(struct MHD_Connection *conn, unsigned code,
    const char *text)
{
	struct MHD_Response *r;
	enum MHD_Result rc;

	r = mhd.create_response_from_buffer(strlen(text), (void *)(uintptr_t)text,
	    MHD_RESPMEM_PERSISTENT);
	if (r == NULL)
		return MHD_NO;
	mhd.add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	rc = mhd.queue_response(conn, code, r);
	mhd.destroy_response(r);
	return rc;
}

static enum MHD_Result http_metrics(struct http *h, struct MHD_Connection *conn)
{
	struct ctl_buf b = { 0 };
	struct MHD_Response *r;
	enum MHD_Result rc;

	if (h->h_fn(h->h_arg, &b) < 0 || b.cb_oom) {
		ctl_buf_free(&b);
		return http_send(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	}
	/* MHD frees the buffer with free() once the response is gone. */
	r = mhd.create_response_from_buffer(b.cb_len, b.cb_p, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		ctl_buf_free(&b);
		return MHD_NO;
	}
	mhd.add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, METRICS_CONTENT_TYPE);
	rc = mhd.queue_response(conn, MHD_HTTP_OK, r);
	mhd.destroy_response(r);
	return rc;
}

/* One request: the first call (no body is accepted) answers at once. */
static enum MHD_Result on_http_request(void *arg, struct MHD_Connection *conn,
    const char *url, const char *method, const char *version,
    const char *upload, size_t *upload_len, void **state)
{
	struct http *h = arg;

	(void)version;
	(void)upload;
	(void)state;
	if (*upload_len != 0)
		return MHD_NO;		/* a body on GET: drop the connection */
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return http_send(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n");
	if (strcmp(url, "/metrics") != 0)
		return http_send(conn, MHD_HTTP_NOT_FOUND, "not found; try /metrics\n");
	return http_metrics(h, conn);
}

static int http_listen(const struct sockaddr_storage *ss, uint16_t *port)
{
	struct sockaddr_storage got;
	socklen_t sl = sizeof(got);
	int fd, err;

	if ((fd = sock_listen(ss, HTTP_MAX_CONNS, sock_v6only(ss))) < 0)
		return fd;
	if (getsockname(fd, (struct sockaddr *)&got, &sl) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	*port = ntohs(got.ss_family == AF_INET ? ((struct sockaddr_in *)&got)->sin_port :
	    ((struct sockaddr_in6 *)&got)->sin6_port);
	return fd;
}

static void on_http_closed(uv_handle_t *hd)
{
	struct http *h = hd->data;

	if (--h->h_open_handles == 0)
		free(h);
}

int http_open(struct http **out, uv_loop_t *loop, const struct sockaddr_storage *ss,
    http_render_fn *fn, void *arg)
{
	const union MHD_DaemonInfo *di;
	struct http *h;
	int fd, err;

	if ((err = mhd_load()) < 0)
		return err;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return -ENOMEM;
	if ((fd = http_listen(ss, &h->h_port)) < 0) {
		free(h);
		return fd;
	}
	h->h_loop = loop;
	h->h_fn = fn;
	h->h_arg = arg;
	/* No MHD_USE_INTERNAL_POLLING_THREAD: we drive it. MHD takes fd and
	 * closes it at MHD_stop_daemon. */
	h->h_mhd = mhd.start_daemon(MHD_USE_EPOLL, 0, NULL, NULL, on_http_request, h,
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_MAX_CONNS,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)HTTP_PER_IP,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_TIMEOUT_S,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_MEM_LIMIT,
	    MHD_OPTION_END);
	if (h->h_mhd == NULL) {
		close(fd);
		free(h);
		return -EIO;		/* MHD says no more than that */
	}
	if ((di = mhd.get_daemon_info(h->h_mhd, MHD_DAEMON_INFO_EPOLL_FD)) == NULL ||
	    (err = uv_poll_init(loop, &h->h_poll, di->epoll_fd)) < 0) {
		mhd.stop_daemon(h->h_mhd);
		free(h);
		return di == NULL ? -EIO : err;
	}
	uv_timer_init(loop, &h->h_timer);
	h->h_poll.data = h->h_timer.data = h;
	h->h_open_handles = 2;
	uv_poll_start(&h->h_poll, UV_READABLE, on_http_readable);
	*out = h;
	return 0;
}

uint16_t http_port(const struct http *h)
{
	return h->h_port;
}

void http_close(struct http *h)
{
	if (h == NULL)
		return;
	/* libuv stops watching the epoll fd at once (uv_close), before MHD
	 * closes it with its connections and the listener. */
	uv_close((uv_handle_t *)&h->h_poll, on_http_closed);
	uv_close((uv_handle_t *)&h->h_timer, on_http_closed);
	mhd.stop_daemon(h->h_mhd);
	h->h_mhd = NULL;
}
