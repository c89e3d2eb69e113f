/* cli.h - the client: connect to the first server that answers, pin its
 * fingerprint, take the address, MTU and routes it pushes, move packets
 * between the TUN device and the session, keep it alive, and reconnect with
 * backoff (1 s doubling to 60 s) when it is denied or the server is lost. */
#ifndef VPND_CLI_H
#define VPND_CLI_H

#include <uv.h>

struct conf;

/* Run the client on c in loop until SIGTERM/SIGINT; every handle it opened
 * is closed when it returns the exit status. */
int cli_run(uv_loop_t *loop, const struct conf *c);

#endif
