/* priv.c - the privileged helper and the privilege drop (see priv.h).
 * Messages on the socketpair are a header {type, length} and a payload;
 * every length is checked against what the type allows before anything is
 * read into memory, on both sides. The helper takes no path from the
 * worker: it acts on the configuration it was forked with. */
#include <cap-ng.h>
#include <seccomp.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include "conf/afile.h"
#include "daemon/hook.h"
#include "daemon/priv.h"

#define PRIV_MAX_MSG (64u << 20)	/* a /16's leases, ~500k allow-list entries */

enum { MSG_ALLOW = 1, MSG_LEASES = 2, MSG_EXIT = 3, MSG_HOOK = 4, MSG_HOOKS_RELOAD = 5,
       MSG_EXT = 6 };

struct msg_hdr {
	uint32_t mh_type;
	uint32_t mh_len;
};

struct reply_hdr {
	int32_t  rh_rc;
	uint32_t rh_len;
};

struct priv {
	int                p_fd;		/* -1: no helper, run in-process */
	priv_ext_fn       *p_ext;		/* the mode's own requests, or NULL */
	void              *p_ext_arg;
	pid_t              p_pid;
	uv_mutex_t         p_lock;
	const struct conf *p_conf;
	/* Hooks have a helper of their own, so a hook that runs for 10 s does
	 * not hold an allow-list edit (a revocation) or a lease write behind
	 * it; and one hook job at a time on the thread pool, the rest queued
	 * here on the loop, so hooks cannot take all its threads. */
	struct priv          *p_hooks;	/* NULL: run hooks through this one */
	struct priv_hook_job *p_hook_queue, **p_hook_tail;
	bool                  p_hook_busy;
};

/* ---- the work itself, shared by both modes ---- */

/* The file is loaded and the entry checked with the network it is loaded
 * with, by the same function (allow_add runs allow_load's entry check), so
 * whatever the worker asks, the file written loads at the next start. */
static int allow_edit(const struct conf *c, const struct priv_allow_req *rq,
    struct allow_list *out, struct conf_err *err)
{
	int rc;

	if ((rc = allow_load6(out, c->c_allow_list, &c->c_network,
	    c->c_has_network6 ? &c->c_network6 : NULL, err)) < 0 ||
	    rq->pa_op == PRIV_RELOAD)
		return rc;
	if (rq->pa_op == PRIV_ADD)
		rc = allow_add6(out, &c->c_network, c->c_has_network6 ? &c->c_network6 : NULL,
		    rq->pa_name, rq->pa_fp, rq->pa_has_addr ? &rq->pa_addr : NULL,
		    rq->pa_has_addr6 ? &rq->pa_addr6 : NULL, err);
	else if ((rc = allow_remove(out, rq->pa_name)) < 0) {
		memset(err, 0, sizeof(*err));
		snprintf(err->msg, sizeof(err->msg), "no peer named %s on the allow-list",
		    rq->pa_name);
	}
	if (rc == 0)
		rc = allow_save(out, c->c_allow_list, err);
	if (rc < 0)
		allow_free(out);
	return rc;
}

static int leases_write(const struct conf *c, const char *buf, size_t len)
{
	char path[PATH_MAX];
	const char *what;

	if (c->c_state_dir[0] == '\0')
		return -ENOENT;
	if (snprintf(path, sizeof(path), "%s/%s", c->c_state_dir, CONF_LEASE_FILE) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	return afile_write(path, buf, len, 0600, false, &what);
}

/* The hook's path is the configuration's, never the caller's. */
static int hook_exec(const struct conf *c, const struct hook_vars *v, int *status)
{
	const char *path = v->hv_event == HOOK_CONNECT ? c->c_on_connect :
	    v->hv_event == HOOK_DISCONNECT ? c->c_on_disconnect : "";

	*status = 0;
	if (path[0] == '\0')
		return -ENOENT;
	return hook_run(path, v, HOOK_TIMEOUT_MS, status);
}

/* ---- socket I/O ---- */

static int io_full(int fd, void *buf, size_t len, bool wr)
{
	uint8_t *p = buf;
	ssize_t n;

	while (len > 0) {
		n = wr ? write(fd, p, len) : read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n == 0 ? -EPIPE : -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int send_msg(int fd, uint32_t type, int32_t rc, const void *a, size_t alen,
    const void *b, size_t blen, bool reply)
{
	struct msg_hdr mh = { type, (uint32_t)(alen + blen) };
	struct reply_hdr rh = { rc, (uint32_t)(alen + blen) };
	int err;

	if ((err = reply ? io_full(fd, &rh, sizeof(rh), true) :
	    io_full(fd, &mh, sizeof(mh), true)) < 0 ||
	    (alen && (err = io_full(fd, (void *)(uintptr_t)a, alen, true)) < 0) ||
	    (blen && (err = io_full(fd, (void *)(uintptr_t)b, blen, true)) < 0))
		return err;
	return 0;
}

/* ---- the helper process ---- */

/* What the worker sent may be anything: terminate the strings and check
 * the op before acting. */
static int helper_allow(int fd, const struct conf *c, struct priv_allow_req *rq)
{
	struct allow_list al = { 0 };
	struct conf_err err = { 0 };
	int rc = -EINVAL;

	rq->pa_name[sizeof(rq->pa_name) - 1] = '\0';
	rq->pa_fp[sizeof(rq->pa_fp) - 1] = '\0';
	if (rq->pa_op >= PRIV_RELOAD && rq->pa_op <= PRIV_REMOVE)
		rc = allow_edit(c, rq, &al, &err);
	else
		snprintf(err.msg, sizeof(err.msg), "bad request");
	rc = send_msg(fd, MSG_ALLOW, rc, &err, sizeof(err), al.al_e,
	    rc < 0 ? 0 : al.al_n * sizeof(al.al_e[0]), true);
	allow_free(&al);
	return rc;
}

/* A reload changed the hooks: the helper reads them from its own file, as
 * root (the worker's word on a path is never taken); nothing else of its
 * configuration changes. */
static int helper_hooks_reload(struct conf *c)
{
	static struct conf next;
	struct conf_err err;
	int rc;

	if ((rc = conf_reread(&next, c->c_path, &err)) < 0)
		return rc;
	memcpy(c->c_on_connect, next.c_on_connect, sizeof(c->c_on_connect));
	memcpy(c->c_on_disconnect, next.c_on_disconnect, sizeof(c->c_on_disconnect));
	return 0;
}

/* In the helper: the mode's own requests (priv_start_ext). */
static priv_ext_fn *helper_ext;
static void        *helper_ext_arg;

static void helper_gone(void)
{
	if (helper_ext != NULL)
		helper_ext(helper_ext_arg, NULL, 0);	/* undo, the worker is gone */
	_exit(0);
}

static void helper_loop(int fd, struct conf *c)
{
	struct priv_allow_req rq;
	struct hook_vars hv;
	struct msg_hdr h;
	char *buf;

	for (;;) {
		if (io_full(fd, &h, sizeof(h), false) < 0)
			helper_gone();
		if (h.mh_type == MSG_ALLOW && h.mh_len == sizeof(rq)) {
			if (io_full(fd, &rq, sizeof(rq), false) < 0 ||
			    helper_allow(fd, c, &rq) < 0)
				_exit(1);
		} else if (h.mh_type == MSG_LEASES && h.mh_len <= PRIV_MAX_MSG) {
			if ((buf = malloc(h.mh_len + 1)) == NULL ||
			    io_full(fd, buf, h.mh_len, false) < 0 ||
			    send_msg(fd, MSG_LEASES, leases_write(c, buf, h.mh_len),
			    NULL, 0, NULL, 0, true) < 0)
				_exit(1);
			free(buf);
		} else if (h.mh_type == MSG_HOOK && h.mh_len == sizeof(hv)) {
			int32_t st;
			int status, rc;

			if (io_full(fd, &hv, sizeof(hv), false) < 0)
				_exit(1);
			hook_vars_terminate(&hv);
			rc = hook_exec(c, &hv, &status);
			st = status;
			if (send_msg(fd, MSG_HOOK, rc, &st, sizeof(st), NULL, 0, true) < 0)
				_exit(1);
		} else if (h.mh_type == MSG_EXT && helper_ext != NULL && h.mh_len > 0 &&
		    h.mh_len <= PRIV_EXT_MAX) {
			if ((buf = malloc(h.mh_len)) == NULL ||
			    io_full(fd, buf, h.mh_len, false) < 0 ||
			    send_msg(fd, MSG_EXT, helper_ext(helper_ext_arg, buf, h.mh_len),
			    NULL, 0, NULL, 0, true) < 0)
				_exit(1);
			free(buf);
		} else if (h.mh_type == MSG_HOOKS_RELOAD && h.mh_len == 0) {
			if (send_msg(fd, MSG_HOOKS_RELOAD, helper_hooks_reload(c), NULL, 0,
			    NULL, 0, true) < 0)
				_exit(1);
		} else if (h.mh_type == MSG_EXIT && h.mh_len == 0) {
			if (helper_ext != NULL)
				helper_ext(helper_ext_arg, NULL, 0);
			unlink(c->c_control_socket);
			send_msg(fd, MSG_EXIT, 0, NULL, 0, NULL, 0, true);
			_exit(0);
		} else
			_exit(1);		/* not a request we serve */
	}
}

static void helper_run(int fd, const struct conf *cf)
{
	static struct conf c;	/* the helper's own: a reload may change its hooks */

	c = *cf;
	signal(SIGINT, SIG_IGN);	/* a terminal's ^C is the worker's to act on */
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (dup2(fd, 3) < 0)
		_exit(1);
	close_range(4, ~0u, 0);	/* TUN, sockets, the loop: none of ours */
	prctl(PR_SET_NAME, "vpnd-priv");	/* last: the name says it is set up */
	helper_loop(3, &c);
}

/* One helper (or none, without user) and its channel. */
static int priv_start_one(struct priv **out, const struct conf *c, priv_ext_fn *ext,
    void *ext_arg)
{
	struct priv *p;
	int sp[2];

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return -ENOMEM;
	p->p_fd = -1;
	p->p_conf = c;
	p->p_ext = ext;
	p->p_ext_arg = ext_arg;
	p->p_hook_tail = &p->p_hook_queue;
	uv_mutex_init(&p->p_lock);
	if (c->c_user[0] != '\0') {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0 ||
		    (p->p_pid = fork()) < 0) {
			int err = -errno;

			uv_mutex_destroy(&p->p_lock);
			free(p);
			return err;
		}
		if (p->p_pid == 0) {
			helper_ext = ext;
			helper_ext_arg = ext_arg;
			helper_run(sp[1], c);
		}
		close(sp[1]);
		p->p_fd = sp[0];
	}
	*out = p;
	return 0;
}

int priv_start_ext(struct priv **out, const struct conf *c, priv_ext_fn *fn, void *arg)
{
	struct priv *p;
	int err;

	if ((err = priv_start_one(&p, c, fn, arg)) < 0)
		return err;
	if (c->c_user[0] != '\0' && (c->c_on_connect[0] != '\0' ||
	    c->c_on_disconnect[0] != '\0') &&
	    (err = priv_start_one(&p->p_hooks, c, NULL, NULL)) < 0) {
		priv_stop(p);
		return err;
	}
	*out = p;
	return 0;
}

int priv_start(struct priv **out, const struct conf *c)
{
	return priv_start_ext(out, c, NULL, NULL);
}

/* clone()'s flags word: first on most architectures, second on s390. */
#if defined(__s390__) || defined(__s390x__)
#define CLONE_FLAGS_ARG 1
#else
#define CLONE_FLAGS_ARG 0
#endif

/* A clone() that makes a namespace, any of them, fails. CLONE_NEWTIME is
 * not here: for clone() its bit is part of the exit signal (CSIGNAL); only
 * clone3 and unshare know it. */
static int deny_clone_ns(scmp_filter_ctx ctx)
{
	static const uint64_t ns[] = { CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS,
	    CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET };
	size_t i;
	int rc = 0;

	for (i = 0; i < sizeof(ns) / sizeof(ns[0]) && rc == 0; i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
		    SCMP_CMP(CLONE_FLAGS_ARG, SCMP_CMP_MASKED_EQ, ns[i], ns[i]));
	return rc;
}

/* Defence in depth for the unprivileged daemon: system calls it never
 * makes, and an attacker who took it over would want, fail with EPERM. A
 * deny-list, so no library's rare call is broken by a missing entry. The
 * namespace calls matter most: an unprivileged user may make a user
 * namespace and hold every capability inside it, a way to kernel code
 * (mounts, netfilter, ...) that is otherwise root's. So unshare and setns
 * fail, and so does clone with any CLONE_NEW* flag; clone3 passes its
 * flags in memory a filter cannot read, so it fails with ENOSYS, on which
 * glibc (pthread_create, posix_spawn) falls back to clone, and libuv's
 * threads with it. The new mount API (fsopen ... mount_setattr) is mount's;
 * io_uring's rings run work outside this filter's sight (libuv 1.45 to
 * 1.47 would make some at uv_loop_init: cmd/vpnd.c turns that off). */
int priv_seccomp(void)
{
	static const int deny[] = {
		SCMP_SYS(execve), SCMP_SYS(execveat),
#ifndef __SANITIZE_ADDRESS__	/* LeakSanitizer ptraces its own threads */
		SCMP_SYS(ptrace),
#endif
		SCMP_SYS(process_vm_readv), SCMP_SYS(process_vm_writev),
		SCMP_SYS(pidfd_getfd),
		SCMP_SYS(mount), SCMP_SYS(umount2), SCMP_SYS(pivot_root),
		SCMP_SYS(chroot), SCMP_SYS(fsopen), SCMP_SYS(fsconfig),
		SCMP_SYS(fsmount), SCMP_SYS(fspick), SCMP_SYS(move_mount),
		SCMP_SYS(open_tree), SCMP_SYS(mount_setattr),
		SCMP_SYS(kexec_load), SCMP_SYS(init_module),
		SCMP_SYS(finit_module), SCMP_SYS(delete_module), SCMP_SYS(bpf),
		SCMP_SYS(setuid), SCMP_SYS(setgid), SCMP_SYS(setreuid),
		SCMP_SYS(setregid), SCMP_SYS(setresuid), SCMP_SYS(setresgid),
		SCMP_SYS(setgroups), SCMP_SYS(personality), SCMP_SYS(keyctl),
		SCMP_SYS(add_key), SCMP_SYS(request_key), SCMP_SYS(userfaultfd),
		SCMP_SYS(perf_event_open), SCMP_SYS(unshare), SCMP_SYS(setns),
		SCMP_SYS(io_uring_setup), SCMP_SYS(io_uring_enter),
		SCMP_SYS(io_uring_register),
		SCMP_SYS(open_by_handle_at), SCMP_SYS(swapon), SCMP_SYS(swapoff),
		SCMP_SYS(reboot),
	};
	scmp_filter_ctx ctx;
	size_t i;
	int rc = 0;

	if ((ctx = seccomp_init(SCMP_ACT_ALLOW)) == NULL)
		return -ENOMEM;
	/* every thread, should one exist already (a resolver, a pool worker) */
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	for (i = 0; i < sizeof(deny) / sizeof(deny[0]) && rc == 0; i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), deny[i], 0);
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	if (rc == 0)
		rc = deny_clone_ns(ctx);
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	return rc;
}

int priv_drop(const struct conf *c)
{
	if (c->c_user[0] == '\0')
		return 0;
	capng_clear(CAPNG_SELECT_BOTH);
	if (capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, CAP_NET_ADMIN) < 0 ||
	    capng_change_id((int)c->c_uid, (int)c->c_gid,
	    CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING) < 0)
		return -EPERM;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	return priv_seccomp();
}

/* The channel is out of step or gone: close it, so later requests fail
 * plainly instead of reading someone else's reply. */
static void priv_broken(struct priv *p)
{
	close(p->p_fd);
	p->p_fd = -2;
}

/* One request and its reply header; the payload is read by the caller. */
static int call(struct priv *p, uint32_t type, const void *a, size_t alen,
    struct reply_hdr *rh)
{
	int err;

	if ((err = send_msg(p->p_fd, type, 0, a, alen, NULL, 0, false)) < 0 ||
	    (err = io_full(p->p_fd, rh, sizeof(*rh), false)) < 0)
		return err;
	return rh->rh_len > PRIV_MAX_MSG ? -EPROTO : 0;
}

/* The helper's allow-list reply: conf_err, then the entries. */
static int read_allow_reply(struct priv *p, const struct reply_hdr *rh,
    struct allow_list *out, struct conf_err *err)
{
	size_t n;
	int rc;

	if (rh->rh_len < sizeof(*err) ||
	    (rh->rh_len - sizeof(*err)) % sizeof(out->al_e[0]) != 0)
		return -EPROTO;
	if ((rc = io_full(p->p_fd, err, sizeof(*err), false)) < 0)
		return rc;
	err->file[sizeof(err->file) - 1] = '\0';
	err->msg[sizeof(err->msg) - 1] = '\0';
	n = (rh->rh_len - sizeof(*err)) / sizeof(out->al_e[0]);
	if (n > 0 && (out->al_e = calloc(n, sizeof(out->al_e[0]))) == NULL)
		return -ENOMEM;		/* the stream is now out of step */
	out->al_n = out->al_cap = n;
	if (n > 0 && (rc = io_full(p->p_fd, out->al_e, n * sizeof(out->al_e[0]), false)) < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		out->al_e[i].ae_name[ALLOW_NAME_MAX - 1] = '\0';
		out->al_e[i].ae_fp[CONF_FP_LEN - 1] = '\0';
	}
	return 0;
}

int priv_allow(struct priv *p, const struct priv_allow_req *rq,
    struct allow_list *out, struct conf_err *err)
{
	struct reply_hdr rh;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(err, 0, sizeof(*err));
	if (p->p_fd == -1) {		/* in-process: still one edit at a time */
		uv_mutex_lock(&p->p_lock);
		rc = allow_edit(p->p_conf, rq, out, err);
		uv_mutex_unlock(&p->p_lock);
		return rc;
	}
	uv_mutex_lock(&p->p_lock);
	if (p->p_fd < 0)
		rc = -EPIPE;
	else if ((rc = call(p, MSG_ALLOW, rq, sizeof(*rq), &rh)) < 0 ||
	    (rc = read_allow_reply(p, &rh, out, err)) < 0)
		priv_broken(p);		/* the reply was not read whole */
	else
		rc = rh.rh_rc;
	uv_mutex_unlock(&p->p_lock);
	if (rc < 0) {
		allow_free(out);
		if (err->msg[0] == '\0')
			snprintf(err->msg, sizeof(err->msg), "privileged helper: %s",
			    strerror(-rc));
	}
	return rc;
}

/* A request whose reply is a status alone, to a helper that runs (p_fd
 * >= 0; callers handle the in-process case). Under the lock; a reply that
 * does not fit breaks the channel. The helper's rc, or -errno. */
static int call_status(struct priv *p, uint32_t type, const void *a, size_t alen)
{
	struct reply_hdr rh;
	int rc;

	uv_mutex_lock(&p->p_lock);
	if (p->p_fd < 0)
		rc = -EPIPE;
	else if ((rc = call(p, type, a, alen, &rh)) < 0 || rh.rh_len != 0) {
		priv_broken(p);
		rc = rc < 0 ? rc : -EPROTO;
	} else
		rc = rh.rh_rc;
	uv_mutex_unlock(&p->p_lock);
	return rc;
}

int priv_leases(struct priv *p, const char *buf, size_t len)
{
	int rc;

	if (p->p_fd == -1) {
		uv_mutex_lock(&p->p_lock);
		rc = leases_write(p->p_conf, buf, len);
		uv_mutex_unlock(&p->p_lock);
		return rc;
	}
	if (len > PRIV_MAX_MSG)
		return -EMSGSIZE;
	return call_status(p, MSG_LEASES, buf, len);
}

static int hooks_reload_one(struct priv *p)
{
	if (p == NULL || p->p_fd == -1)
		return 0;	/* in-process: the hooks are read from the running conf */
	return call_status(p, MSG_HOOKS_RELOAD, NULL, 0);
}

int priv_ext(struct priv *p, const void *req, size_t len)
{
	int rc;

	if (p->p_ext == NULL)
		return -ENOSYS;
	if (len == 0 || len > PRIV_EXT_MAX)
		return -EMSGSIZE;
	if (p->p_fd != -1)
		return call_status(p, MSG_EXT, req, len);
	uv_mutex_lock(&p->p_lock);
	rc = p->p_ext(p->p_ext_arg, req, len);
	uv_mutex_unlock(&p->p_lock);
	return rc;
}

int priv_hooks_reload(struct priv *p)
{
	int rc = hooks_reload_one(p);

	return rc < 0 ? rc : hooks_reload_one(p->p_hooks);
}

int priv_hook(struct priv *p, const struct hook_vars *v, int *status)
{
	struct reply_hdr rh;
	int32_t st = 0;
	int rc;

	*status = 0;
	if (p->p_hooks != NULL)
		p = p->p_hooks;
	if (p->p_fd == -1)		/* in-process: vpnd is root, no filter */
		return hook_exec(p->p_conf, v, status);
	uv_mutex_lock(&p->p_lock);
	if (p->p_fd < 0)
		rc = -EPIPE;
	else if ((rc = call(p, MSG_HOOK, v, sizeof(*v), &rh)) < 0 ||
	    rh.rh_len != sizeof(st) || (rc = io_full(p->p_fd, &st, sizeof(st), false)) < 0) {
		priv_broken(p);
		rc = rc < 0 ? rc : -EPROTO;
	} else {
		rc = rh.rh_rc;
		*status = st;
	}
	uv_mutex_unlock(&p->p_lock);
	return rc;
}

struct priv_hook_job {
	uv_work_t             hj_work;
	struct priv_hook_job *hj_next;		/* p_hook_queue */
	struct priv          *hj_priv;
	uv_loop_t            *hj_loop;
	struct hook_vars      hj_vars;
	priv_hook_cb         *hj_cb;
	void                 *hj_arg;		/* NULL once forgotten */
	bool                  hj_forgotten;
	int                   hj_rc, hj_status;
};

static void hook_next(struct priv *p);

static void hook_work(uv_work_t *w)
{
	struct priv_hook_job *j = w->data;

	j->hj_rc = priv_hook(j->hj_priv, &j->hj_vars, &j->hj_status);
}

static void hook_done(uv_work_t *w, int status)
{
	struct priv_hook_job *j = w->data;
	struct priv *p = j->hj_priv;

	if (status < 0)
		j->hj_rc = status;
	j->hj_cb(j->hj_arg, &j->hj_vars, j->hj_rc, j->hj_status);
	free(j);
	p->p_hook_busy = false;
	hook_next(p);
}

/* Start the first queued job; one whose owner has gone meanwhile is
 * not run at all (its callback hears -ECANCELED). */
static void hook_next(struct priv *p)
{
	struct priv_hook_job *j;
	int err;

	while (!p->p_hook_busy && (j = p->p_hook_queue) != NULL) {
		if ((p->p_hook_queue = j->hj_next) == NULL)
			p->p_hook_tail = &p->p_hook_queue;
		if (j->hj_forgotten)
			err = -ECANCELED;
		else if ((err = uv_queue_work(j->hj_loop, &j->hj_work, hook_work,
		    hook_done)) == 0) {
			p->p_hook_busy = true;
			return;
		}
		j->hj_cb(j->hj_arg, &j->hj_vars, err, 0);
		free(j);
	}
}

int priv_hook_start(struct priv *p, uv_loop_t *loop, const struct hook_vars *v,
    priv_hook_cb *cb, void *arg, struct priv_hook_job **jobp)
{
	struct priv_hook_job *j;

	if ((j = calloc(1, sizeof(*j))) == NULL)
		return -ENOMEM;
	j->hj_priv = p;
	j->hj_vars = *v;
	j->hj_cb = cb;
	j->hj_arg = arg;
	j->hj_work.data = j;
	j->hj_loop = loop;
	*p->p_hook_tail = j;
	p->p_hook_tail = &j->hj_next;
	if (jobp != NULL)
		*jobp = j;
	hook_next(p);
	return 0;
}

void priv_hook_forget(struct priv_hook_job *j)
{
	if (j != NULL) {
		j->hj_arg = NULL;
		j->hj_forgotten = true;
	}
}

void priv_stop(struct priv *p)
{
	struct reply_hdr rh;

	if (p == NULL)
		return;
	priv_stop(p->p_hooks);
	if (p->p_fd >= 0) {
		call(p, MSG_EXIT, NULL, 0, &rh);
		close(p->p_fd);
	}
	if (p->p_pid > 0)
		waitpid(p->p_pid, NULL, 0);	/* exits on EOF if not asked */
	uv_mutex_destroy(&p->p_lock);
	free(p);
}
