/* cli.h - the client: connect to the first server that answers, pin its
 * fingerprint, take the address, MTU and routes it pushes, move packets
 * between the TUN device and the session, keep it alive, and reconnect with
 * backoff (1 s doubling to 60 s) when it is denied or the server is lost. */
#ifndef VPND_CLI_H
#define VPND_CLI_H

struct conf;

int cli_run(const struct conf *c);	/* exit status */

#endif
