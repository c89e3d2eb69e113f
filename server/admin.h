/* admin.h - what the server answers on its control socket: status, peers,
 * the allow-list and its edits, kick, reload. Edits of the allow-list and
 * reloads (the configuration and the allow-list) run on libuv's thread
 * pool, the allow-list through the privileged side, one at a time in
 * arrival order; the result is applied on the loop. */
#ifndef VPND_ADMIN_H
#define VPND_ADMIN_H

#include <stdbool.h>
#include <time.h>
#include <uv.h>

struct conf;
struct ctl_req;
struct fwd;
struct peers;
struct priv;
struct admin_job;

/* The server fills the borrowed pointers. */
struct admin {
	uv_loop_t         *ad_loop;
	struct conf       *ad_conf;		/* the running one: a reload changes it */
	struct peers      *ad_peers;
	struct fwd        *ad_fwd;
	struct priv       *ad_priv;
	const char        *ad_tun_name;
	time_t             ad_started;
	bool               ad_stopping;		/* no new jobs */
	struct admin_job  *ad_jobs;		/* FIFO; the head runs */
	/* a reload moved metrics_listen: open the new endpoint, then close
	 * the old one; < 0 keeps the old (the callee logs why) */
	int              (*ad_metrics_moved)(void *arg);
	void              *ad_metrics_arg;
};

/* The control socket's handler (ctl_open), arg = struct admin. */
void admin_handle(void *arg, struct ctl_req *rq);
/* SIGHUP: re-read the configuration and the allow-list (as vpnctl
 * reload, logged only). 0 or -errno. */
int  admin_reload(struct admin *ad);
/* A job is running or queued (shutdown waits for it). */
bool admin_busy(const struct admin *ad);

#endif
