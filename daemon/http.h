/* http.h - the metrics endpoint: GET (or HEAD) /metrics over plain HTTP on
 * one numeric address, served by libmicrohttpd inside the daemon's libuv
 * loop. Other paths get 404, other methods 405. The text comes from the
 * owner's render function, called on the loop for each scrape. */
#ifndef VPND_HTTP_H
#define VPND_HTTP_H

#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

struct ctl_buf;
struct http;

#define HTTP_MAX_CONNS   16	/* open at once; more are refused at accept */
#define HTTP_PER_IP      8	/* of which from one address */
#define HTTP_TIMEOUT_S   10	/* an idle or slow connection is closed */
#define HTTP_MEM_LIMIT   (32 * 1024)	/* per connection: request, headers */

/* Append the exposition to b (a zeroed ctl_buf). 0 or -errno. */
typedef int http_render_fn(void *arg, struct ctl_buf *b);

/* Bind and listen on ss (port 0: any free port, see http_port), now:
 * before the daemon drops privileges, a port below 1024 needs root. 0 or
 * -errno (-EADDRINUSE, ...). */
int  http_open(struct http **out, uv_loop_t *loop, const struct sockaddr_storage *ss,
               http_render_fn *fn, void *arg);
/* The port bound, host order. */
uint16_t http_port(const struct http *h);
/* Close the listener and every connection now. The struct is freed in a
 * close callback, so the loop must run on; then no handle of this module
 * is left. NULL is fine. */
void http_close(struct http *h);

#endif
