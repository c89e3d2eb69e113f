/* hook.h - on_connect / on_disconnect: run an operator's program with the
 * session in its environment, and wait for it, at most a timeout. The
 * caller picks the program (from its own configuration) and runs this
 * off the event loop: it blocks until the hook ends. */
#ifndef VPND_HOOK_H
#define VPND_HOOK_H

#include <stdbool.h>
#include <stdint.h>

#define HOOK_TIMEOUT_MS 10000	/* SPEC: a hook still running then is killed */

enum hook_event { HOOK_CONNECT = 1, HOOK_DISCONNECT = 2 };

/* What a hook is told, as fixed-size strings: the struct crosses the
 * privileged helper's socketpair as it is (hook_vars_terminate then). */
struct hook_vars {
	int32_t  hv_event;			/* enum hook_event */
	char     hv_name[64];
	char     hv_fp[80];
	char     hv_address[48];
	char     hv_address6[48];		/* "" until the tunnel has IPv6 */
	char     hv_endpoint[64];
	char     hv_transport[8];
	uint64_t hv_rx_bytes, hv_tx_bytes;	/* on disconnect */
};

/* NUL-terminate every string of v (it came from another process). */
void hook_vars_terminate(struct hook_vars *v);

/* Run path (absolute) with stdin /dev/null, stdout and stderr the
 * caller's, in a session and process group of its own, with a clean
 * environment: PATH and the VPND_ variables of v. Waits up to timeout_ms;
 * past that the whole process group is killed. 0 with *status set (a wait
 * status), -ETIMEDOUT (killed; *status set too), or -errno (it did not
 * start). Thread-safe. */
int hook_run(const char *path, const struct hook_vars *v, unsigned timeout_ms,
             int *status);

/* "exit 0", "exit 3", "killed by signal 9" into buf; returns buf. */
const char *hook_status_str(int status, char *buf, unsigned len);

#endif
