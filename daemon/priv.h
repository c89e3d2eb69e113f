/* priv.h - least privilege. With `user` set, vpnd sets up as root, then
 * drops to that user keeping one capability, CAP_NET_ADMIN (TUN, routes,
 * nftables, its own sysctl), and forks a privileged helper first: a small
 * process that serves exactly four requests over a socketpair - edit the
 * allow-list file, write the leases file, run a hook, and at exit unlink
 * the control socket - on the paths fixed by the configuration, never on
 * paths it is sent. Without `user` the same requests run in-process. */
#ifndef VPND_PRIV_H
#define VPND_PRIV_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "conf/allow.h"
#include "conf/conf.h"

enum priv_allow_op { PRIV_RELOAD, PRIV_ADD, PRIV_REMOVE };

struct priv_allow_req {
	int            pa_op;			/* enum priv_allow_op */
	char           pa_name[ALLOW_NAME_MAX];
	char           pa_fp[CONF_FP_LEN];
	bool           pa_has_addr;
	struct in_addr pa_addr;
	bool           pa_has_addr6;
	struct in6_addr pa_addr6;
};

struct priv;
struct hook_vars;

/* Start: with c->c_user set, fork the helper (call before any thread
 * exists). 0 or -errno. */
int  priv_start(struct priv **out, const struct conf *c);

/* A request of the mode's own that needs root (the client's DNS): fn runs
 * in the helper, as root and without the worker's seccomp filter, on the
 * request's bytes (1..PRIV_EXT_MAX; the callee checks them as untrusted
 * input), and its result goes back to priv_ext; when the worker is gone it
 * is called once more with req NULL, to undo what it put in place. Without
 * user, priv_ext calls fn in-process. arg is copied into the helper at the
 * fork (so whatever fn needs to know, the device's name say, is fixed
 * before the worker can be attacked). */
#define PRIV_EXT_MAX 8192
typedef int priv_ext_fn(void *arg, const void *req, size_t len);
int  priv_start_ext(struct priv **out, const struct conf *c, priv_ext_fn *fn, void *arg);
/* Blocking (a fork and exec at most; 10 s bound in the callee). fn's result,
 * or -errno when the helper could not be asked. */
int  priv_ext(struct priv *p, const void *req, size_t len);
/* Become c->c_user keeping only CAP_NET_ADMIN, with no_new_privs and the
 * seccomp filter of priv_seccomp (no-op without user). libuv must not
 * use io_uring (see cmd/vpnd.c). */
int  priv_drop(const struct conf *c);
/* Load the seccomp filter priv_drop loads, for every thread of the process
 * and those made later: exec, ptrace, mounts (old and new API), modules,
 * id changes, bpf, keyrings, io_uring, namespaces (unshare, setns, clone
 * with a CLONE_NEW* flag) fail with EPERM, clone3 with ENOSYS so that
 * libcs fall back to clone. Needs no_new_privs or CAP_SYS_ADMIN; exported
 * for the tests. 0 or -errno. */
int  priv_seccomp(void);
/* Read the allow-list, apply the edit, write it atomically; the result in
 * *out (initialised here). Thread-safe. 0 or -errno with err filled. */
int  priv_allow(struct priv *p, const struct priv_allow_req *rq,
                struct allow_list *out, struct conf_err *err);
/* Atomically replace state_dir/leases with buf. Thread-safe. */
int  priv_leases(struct priv *p, const char *buf, size_t len);
/* Run the on_connect or on_disconnect hook (v->hv_event) of the
 * configuration the privileged side was started with, as root, and wait
 * for it (HOOK_TIMEOUT_MS at most). Blocks: call it on the thread pool.
 * Hooks run one at a time. hook_run's result (*status set on 0 and
 * -ETIMEDOUT); -ENOENT when that hook is not configured. */
int  priv_hook(struct priv *p, const struct hook_vars *v, int *status);
/* A reload changed on_connect or on_disconnect: the helpers read them again
 * from their own file (as root; no path comes from the worker). Blocking:
 * from a thread. 0 or -errno (the helpers keep the hooks they had). */
int  priv_hooks_reload(struct priv *p);
/* priv_hook on libuv's thread pool, one job at a time in arrival order
 * (the rest wait on the loop, holding no thread): cb(arg, v, rc, status)
 * runs on the loop when the hook is over (v borrowed for the call); with
 * arg NULL if priv_hook_forget(job) was called (the owner of arg has
 * gone; the result may still be logged), and rc -ECANCELED if the job
 * was forgotten before it started (the hook did not run). jobp may be
 * NULL. 0, or -ENOMEM and cb never runs (if the thread pool refuses the
 * work, cb hears its error, possibly before this returns). The loop
 * runs on until every job is over. With user and a hook configured,
 * hooks have a helper process of their own, so they never hold up an
 * allow-list edit or a lease write. */
struct priv_hook_job;
typedef void priv_hook_cb(void *arg, const struct hook_vars *v, int rc, int status);
int  priv_hook_start(struct priv *p, uv_loop_t *loop, const struct hook_vars *v,
                     priv_hook_cb *cb, void *arg, struct priv_hook_job **jobp);
void priv_hook_forget(struct priv_hook_job *job);
/* Unlink the control socket, end the helper and wait for it. */
void priv_stop(struct priv *p);			/* NULL is fine */

#endif
