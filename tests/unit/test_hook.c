/* test_hook.c - the hook runner: the environment is SPEC's and nothing
 * else, stdin is /dev/null, the exit status comes back, and a hook past
 * its timeout is killed with what it started (its process group). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "daemon/hook.h"
#include "fixture.h"

static char dir[FX_DIR_MAX];

static int setup(void **state)
{
	(void)state;
	return fx_tmpdir(dir, sizeof(dir), "hook");
}

static int teardown(void **state)
{
	(void)state;
	return fx_rmtree(dir);
}

static const char *script(const char *name, const char *body)
{
	const char *p = fx_path(dir, name);
	char text[1024];

	snprintf(text, sizeof(text), "#!/bin/sh\n%s\n", body);
	fx_write(p, text);
	assert_int_equal(chmod(p, 0755), 0);
	return p;
}

static const struct hook_vars vars = {
	.hv_event = HOOK_DISCONNECT, .hv_name = "alice", .hv_fp = "sha256:ab",
	.hv_address = "10.8.0.10", .hv_endpoint = "198.18.0.2:5000",
	.hv_transport = "dtls", .hv_rx_bytes = 123, .hv_tx_bytes = 456,
};

static void test_environment_is_spec_and_clean(void **state)
{
	char cmd[512], out[2048] = "";
	const char *p;
	FILE *f;
	int st;

	(void)state;
	setenv("VPND_SECRET_OF_THE_PARENT", "x", 1);
	snprintf(cmd, sizeof(cmd), "env | sort > %s/env; cat > %s/stdin",
	    dir, dir);
	p = script("env.sh", cmd);
	assert_int_equal(hook_run(p, &vars, 5000, &st), 0);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_non_null(f = fopen(fx_path(dir, "env"), "r"));
	fread(out, 1, sizeof(out) - 1, f);
	fclose(f);
	assert_non_null(strstr(out, "VPND_EVENT=disconnect\n"));
	assert_non_null(strstr(out, "VPND_PEER_NAME=alice\n"));
	assert_non_null(strstr(out, "VPND_PEER_FINGERPRINT=sha256:ab\n"));
	assert_non_null(strstr(out, "VPND_PEER_ADDRESS=10.8.0.10\n"));
	assert_non_null(strstr(out, "VPND_PEER_ADDRESS6=\n"));
	assert_non_null(strstr(out, "VPND_ENDPOINT=198.18.0.2:5000\n"));
	assert_non_null(strstr(out, "VPND_TRANSPORT=dtls\n"));
	assert_non_null(strstr(out, "VPND_RX_BYTES=123\n"));
	assert_non_null(strstr(out, "VPND_TX_BYTES=456\n"));
	assert_non_null(strstr(out, "PATH=/usr/local/sbin:"));
	assert_null(strstr(out, "VPND_SECRET_OF_THE_PARENT"));
	assert_null(strstr(out, "HOME="));
	unsetenv("VPND_SECRET_OF_THE_PARENT");
	/* stdin was /dev/null: cat got EOF at once, and wrote nothing */
	assert_non_null(f = fopen(fx_path(dir, "stdin"), "r"));
	assert_int_equal(fgetc(f), EOF);
	fclose(f);
}

static void test_connect_has_no_byte_counts(void **state)
{
	struct hook_vars v = vars;
	char cmd[256], out[1024] = "";
	FILE *f;
	int st;

	(void)state;
	v.hv_event = HOOK_CONNECT;
	snprintf(cmd, sizeof(cmd), "env > %s/env2", dir);
	assert_int_equal(hook_run(script("env2.sh", cmd), &v, 5000, &st), 0);
	assert_non_null(f = fopen(fx_path(dir, "env2"), "r"));
	fread(out, 1, sizeof(out) - 1, f);
	fclose(f);
	assert_non_null(strstr(out, "VPND_EVENT=connect\n"));
	assert_null(strstr(out, "VPND_RX_BYTES"));
}

static void test_exit_status_comes_back(void **state)
{
	char buf[40];
	int st;

	(void)state;
	assert_int_equal(hook_run(script("three.sh", "exit 3"), &vars, 5000, &st), 0);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 3);
	assert_string_equal(hook_status_str(st, buf, sizeof(buf)), "exit 3");
	assert_int_equal(hook_run(fx_path(dir, "missing"), &vars, 5000, &st), -ENOENT);
}

static long long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}

/* A hook that sleeps, and started a child that sleeps: both are killed
 * at the timeout, not when they would have ended. */
static void test_timeout_kills_the_group(void **state)
{
	char cmd[256], pid[32] = "";
	long long t0, dt;
	FILE *f;
	int st;

	(void)state;
	snprintf(cmd, sizeof(cmd), "sleep 60 & echo $! > %s/child; sleep 60", dir);
	t0 = now_ms();
	assert_int_equal(hook_run(script("slow.sh", cmd), &vars, 300, &st), -ETIMEDOUT);
	dt = now_ms() - t0;
	assert_true(dt >= 300 && dt < 5000);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	assert_non_null(f = fopen(fx_path(dir, "child"), "r"));
	assert_non_null(fgets(pid, sizeof(pid), f));
	fclose(f);
	for (int i = 0; i < 200 && kill(atoi(pid), 0) == 0; i++)
		usleep(10000);		/* gone (reaped by init, or a zombie soon) */
	{
		char path[64], stat[256] = "";
		FILE *s;

		snprintf(path, sizeof(path), "/proc/%d/stat", atoi(pid));
		if ((s = fopen(path, "r")) != NULL) {	/* a zombie is dead */
			fgets(stat, sizeof(stat), s);
			fclose(s);
			assert_non_null(strstr(stat, ") Z"));
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_environment_is_spec_and_clean),
		cmocka_unit_test(test_connect_has_no_byte_counts),
		cmocka_unit_test(test_exit_status_comes_back),
		cmocka_unit_test(test_timeout_kills_the_group),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
