/* hook.c - run a hook (see hook.h) with posix_spawn, which is safe from a
 * threaded process (the thread pool runs it when vpnd stays root) and
 * from the privileged helper alike. Signals the helper ignores are reset,
 * since an ignored signal stays ignored across exec; the hook gets its
 * own session, so a timeout kills what it started too. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon/hook.h"

#define HOOK_POLL_MS 10		/* how often a running hook is looked at */

static void term(char *s, size_t n)
{
	s[n - 1] = '\0';
}

void hook_vars_terminate(struct hook_vars *v)
{
	term(v->hv_name, sizeof(v->hv_name));
	term(v->hv_fp, sizeof(v->hv_fp));
	term(v->hv_address, sizeof(v->hv_address));
	term(v->hv_address6, sizeof(v->hv_address6));
	term(v->hv_endpoint, sizeof(v->hv_endpoint));
	term(v->hv_transport, sizeof(v->hv_transport));
}

struct hook_env {
	char  he_buf[12][160];
	char *he_env[13];
	int   he_n;
};

static void env_add(struct hook_env *e, const char *key, const char *val)
{
	snprintf(e->he_buf[e->he_n], sizeof(e->he_buf[0]), "%s=%s", key, val);
	e->he_env[e->he_n] = e->he_buf[e->he_n];
	e->he_env[++e->he_n] = NULL;
}

static void env_build(struct hook_env *e, const struct hook_vars *v)
{
	char n[24];

	e->he_n = 0;
	env_add(e, "PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	env_add(e, "VPND_EVENT", v->hv_event == HOOK_CONNECT ? "connect" : "disconnect");
	env_add(e, "VPND_PEER_NAME", v->hv_name);
	env_add(e, "VPND_PEER_FINGERPRINT", v->hv_fp);
	env_add(e, "VPND_PEER_ADDRESS", v->hv_address);
	env_add(e, "VPND_PEER_ADDRESS6", v->hv_address6);
	env_add(e, "VPND_ENDPOINT", v->hv_endpoint);
	env_add(e, "VPND_TRANSPORT", v->hv_transport);
	if (v->hv_event == HOOK_DISCONNECT) {
		snprintf(n, sizeof(n), "%" PRIu64, v->hv_rx_bytes);
		env_add(e, "VPND_RX_BYTES", n);
		snprintf(n, sizeof(n), "%" PRIu64, v->hv_tx_bytes);
		env_add(e, "VPND_TX_BYTES", n);
	}
}

static int spawn(pid_t *pid, const char *path, char *const env[])
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, def;
	char *const argv[] = { (char *)(uintptr_t)path, NULL };
	int rc;

	sigemptyset(&none);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	sigaddset(&def, SIGINT);
	sigaddset(&def, SIGTERM);
	sigaddset(&def, SIGHUP);
	sigaddset(&def, SIGCHLD);
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &def);
	rc = posix_spawn(pid, path, &fa, &at, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	return -rc;
}

int hook_run(const char *path, const struct hook_vars *v, unsigned timeout_ms,
    int *status)
{
	const struct timespec tick = { 0, HOOK_POLL_MS * 1000000L };
	struct hook_env e;
	struct timespec t0, t;
	pid_t pid, r;
	int err;

	env_build(&e, v);
	if ((err = spawn(&pid, path, e.he_env)) < 0)
		return err;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if ((r = waitpid(pid, status, WNOHANG)) == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 >=
		    (long)timeout_ms)
			break;
		nanosleep(&tick, NULL);
	}
	kill(-pid, SIGKILL);		/* its session: what it started goes too */
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
	return -ETIMEDOUT;
}

const char *hook_status_str(int status, char *buf, unsigned len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exit %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d", WTERMSIG(status));
	else
		snprintf(buf, len, "status %#x", (unsigned)status);
	return buf;
}
