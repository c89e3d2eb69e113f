/* path.c - which server address, the racing connect, and whether the path
 * in use still stands (path.h). The race is plain non-blocking connect()s
 * watched by uv_poll handles, so the winner's socket is handed over as is
 * to the TLS session; the losers are closed. */
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/path.h"
#include "tunnel/nl.h"
#include "tunnel/sock.h"

struct path_try {
	struct path_race *pt_race;
	int               pt_fd;		/* -1: done with */
	uv_poll_t         pt_poll;
};

struct path_race {
	uv_loop_t              *pr_loop;
	struct sockaddr_storage pr_addr[PATH_MAX_ADDRS];
	struct path_try         pr_try[PATH_MAX_ADDRS];
	int                     pr_n, pr_next;	/* addresses; the next to try */
	int                     pr_waiting;	/* connects in flight */
	int                     pr_err;		/* the last attempt's */
	int                     pr_open;	/* handles not closed yet */
	bool                    pr_over;
	uv_timer_t              pr_stagger, pr_deadline;
	path_done_fn           *pr_done;
	void                   *pr_arg;
};

int path_order(const struct addrinfo *res, struct sockaddr_storage *out, int max)
{
	const struct addrinfo *fam[2][PATH_MAX_ADDRS], *ai;
	int nf[2] = { 0, 0 }, i, j, k, n = 0;

	for (ai = res; ai != NULL; ai = ai->ai_next) {
		k = ai->ai_family == AF_INET6 ? 0 : ai->ai_family == AF_INET ? 1 : -1;
		if (k < 0 || nf[k] == PATH_MAX_ADDRS ||
		    ai->ai_addrlen > sizeof(struct sockaddr_storage))
			continue;
		for (j = 0; j < nf[k]; j++)	/* one per address, whatever the socktype */
			if (fam[k][j]->ai_addrlen == ai->ai_addrlen &&
			    memcmp(fam[k][j]->ai_addr, ai->ai_addr, ai->ai_addrlen) == 0)
				break;
		if (j == nf[k])
			fam[k][nf[k]++] = ai;
	}
	for (i = 0; n < max && (i < nf[0] || i < nf[1]); i++)
		for (k = 0; k < 2 && n < max; k++)
			if (i < nf[k]) {
				memset(&out[n], 0, sizeof(out[n]));
				memcpy(&out[n++], fam[k][i]->ai_addr, fam[k][i]->ai_addrlen);
			}
	return n;
}

static void on_race_closed(uv_handle_t *h)
{
	struct path_race *r = h->data;

	if (--r->pr_open == 0)
		free(r);
}

static void try_close(struct path_try *t, bool keep_fd)
{
	struct path_race *r = t->pt_race;

	if (t->pt_fd < 0)
		return;
	uv_close((uv_handle_t *)&t->pt_poll, on_race_closed);
	if (!keep_fd)
		close(t->pt_fd);
	t->pt_fd = -1;
	r->pr_waiting--;
}

/* The end: every other attempt and the timers closed, done told (unless
 * cancelled: done == NULL). */
static void race_over(struct path_race *r, int win, int err)
{
	path_done_fn *done = r->pr_done;
	int i, fd = win >= 0 ? r->pr_try[win].pt_fd : -1;

	r->pr_over = true;
	for (i = 0; i < r->pr_next; i++)
		try_close(&r->pr_try[i], i == win);
	uv_close((uv_handle_t *)&r->pr_stagger, on_race_closed);
	uv_close((uv_handle_t *)&r->pr_deadline, on_race_closed);
	if (done != NULL)
		done(r->pr_arg, fd, win >= 0 ? &r->pr_addr[win] : NULL, err);
}

static void on_try_writable(uv_poll_t *h, int status, int events);
static void on_stagger(uv_timer_t *h);

/* Start attempts until one is in flight: an address that fails at once
 * (no route for its family, say) passes to the next without waiting. */
static void race_next(struct path_race *r)
{
	struct path_try *t;
	int fd;

	while (!r->pr_over && r->pr_next < r->pr_n) {
		t = &r->pr_try[r->pr_next];
		fd = socket(r->pr_addr[r->pr_next].ss_family,
		    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd >= 0 && (connect(fd, (const struct sockaddr *)&r->pr_addr[r->pr_next],
		    sock_len(&r->pr_addr[r->pr_next])) == 0 || errno == EINPROGRESS)) {
			t->pt_fd = fd;
			uv_poll_init(r->pr_loop, &t->pt_poll, fd);
			t->pt_poll.data = r;
			r->pr_open++;
			r->pr_waiting++;
			uv_poll_start(&t->pt_poll, UV_WRITABLE, on_try_writable);
			r->pr_next++;
			uv_timer_start(&r->pr_stagger, on_stagger, PATH_DELAY_MS, 0);
			return;
		}
		r->pr_err = -errno;
		if (fd >= 0)
			close(fd);
		r->pr_next++;
	}
	if (!r->pr_over && r->pr_waiting == 0)
		race_over(r, -1, r->pr_err);
}

static void on_try_writable(uv_poll_t *h, int status, int events)
{
	struct path_race *r = h->data;
	struct path_try *t = (struct path_try *)((char *)h - offsetof(struct path_try, pt_poll));
	int soerr = 0;
	socklen_t sl = sizeof(soerr);

	(void)events;
	if (r->pr_over)
		return;
	/* libuv says POLLERR as UV_EBADF: the socket's own error is the news */
	if (getsockopt(t->pt_fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
		soerr = errno;
	else if (soerr == 0 && status < 0)
		soerr = -status;
	if (soerr == 0) {
		race_over(r, (int)(t - r->pr_try), 0);
		return;
	}
	r->pr_err = -soerr;	/* refused, unreachable: the next one now */
	try_close(t, false);
	race_next(r);
}

static void on_stagger(uv_timer_t *h)
{
	race_next(h->data);
}

static void on_deadline(uv_timer_t *h)
{
	struct path_race *r = h->data;

	if (!r->pr_over)
		race_over(r, -1, -ETIMEDOUT);
}

int path_race_start(struct path_race **out, uv_loop_t *loop,
    const struct sockaddr_storage *addrs, int n, uint64_t timeout_ms,
    path_done_fn *done, void *arg)
{
	struct path_race *r;
	int i;

	if (n <= 0)
		return -EINVAL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return -ENOMEM;
	r->pr_loop = loop;
	r->pr_n = n > PATH_MAX_ADDRS ? PATH_MAX_ADDRS : n;
	memcpy(r->pr_addr, addrs, (size_t)r->pr_n * sizeof(*addrs));
	for (i = 0; i < PATH_MAX_ADDRS; i++) {
		r->pr_try[i].pt_race = r;
		r->pr_try[i].pt_fd = -1;
	}
	r->pr_err = -EHOSTUNREACH;
	r->pr_done = done;
	r->pr_arg = arg;
	uv_timer_init(loop, &r->pr_stagger);
	uv_timer_init(loop, &r->pr_deadline);
	r->pr_stagger.data = r->pr_deadline.data = r;
	r->pr_open = 2;
	uv_timer_start(&r->pr_deadline, on_deadline, timeout_ms, 0);
	*out = r;
	/* the first attempt from the loop, so done never runs inside start */
	uv_timer_start(&r->pr_stagger, on_stagger, 0, 0);
	return 0;
}

void path_race_cancel(struct path_race *r)
{
	if (r == NULL || r->pr_over)
		return;
	r->pr_done = NULL;
	race_over(r, -1, -ECANCELED);
}

int path_check(const struct sockaddr_storage *local, const struct sockaddr_storage *peer)
{
	struct sockaddr_storage l = *local;
	int fd, err = 0;

	if ((fd = socket(local->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return 0;		/* cannot tell: assume it stands */
	if (l.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&l)->sin6_port = 0;
	else
		((struct sockaddr_in *)&l)->sin_port = 0;
	/* bind: is the address still ours; connect: is there a route */
	if (bind(fd, (const struct sockaddr *)&l, sock_len(&l)) < 0 ||
	    connect(fd, (const struct sockaddr *)peer, sock_len(peer)) < 0)
		err = errno == EADDRINUSE ? 0 : -errno;
	close(fd);
	return err;
}

int path_watch_open(void)
{
	return nl_watch_open(RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR |
	    RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE);
}

/* Only that something changed matters (path_check looks at the result),
 * so the messages are not parsed; an overrun (ENOBUFS) counts as one. */
int path_watch_drain(int fd)
{
	char buf[8192];
	int n = 0;
	ssize_t r;

	while ((r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0 ||
	    (r < 0 && (errno == EINTR || errno == ENOBUFS)))
		n++;
	return n;
}
