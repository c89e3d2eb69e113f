/* srv.h - the server: one libuv loop that owns the TUN device, the TLS
 * listeners and UDP sockets, and wires the data plane (fwd.h), the
 * sessions' control plane (peer.h) and the control socket (admin.h). */
#ifndef VPND_SRV_H
#define VPND_SRV_H

#include <uv.h>

struct conf;

/* Run the server on c in loop until SIGTERM/SIGINT; every handle it opened
 * is closed when it returns the exit status. */
int srv_run(uv_loop_t *loop, const struct conf *c);

#endif
