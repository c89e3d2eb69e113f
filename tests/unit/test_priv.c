/* test_priv.c - the privileged side's three requests: allow-list edits
 * (reload, add, remove) on the configured file, the leases file, and at
 * stop the control socket's removal. First in-process (no user), with a
 * struct conf filled by hand on a temp directory; then through the forked
 * helper (user "root", so the test needs root; priv_drop is never called),
 * whose answers must match the in-process ones, and whose stop must reap
 * it. Last the seccomp filter, in forked children: each call it denies
 * fails with its errno, threads and a libuv loop still work. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <uv.h>

#include "server/lease.h"
#include "daemon/hook.h"
#include "daemon/priv.h"
#include "fixture.h"

#define FP(hex2) "sha256:" hex2 \
	"00000000000000000000000000000000000000000000000000000000000000"
#define FP_A FP("a1")
#define FP_B FP("b0")
#define FP_C FP("ca")
#define FP_D FP("da")
#define FP_E FP("ee")
#define FP_A_UPPER "SHA256:A1" \
	"00000000000000000000000000000000000000000000000000000000000000"

#define LIST_ALICE "peers = (\n" \
	"  { name = \"alice\"; fingerprint = \"" FP_A "\"; address = \"10.8.0.10\"; }\n" \
	");\n"

struct fixture {
	char         dir[FX_DIR_MAX];
	struct conf  c;
	struct priv *p;
};

static struct in_addr ip(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a;
}

/* A server's conf on DIR as the config file would give it, USER as set. */
static void conf_fill(struct conf *c, const char *dir, const char *user)
{
	memset(c, 0, sizeof(*c));
	c->c_mode = CONF_SERVER;
	snprintf(c->c_allow_list, sizeof(c->c_allow_list), "%s/peers.conf", dir);
	snprintf(c->c_state_dir, sizeof(c->c_state_dir), "%s", dir);
	snprintf(c->c_control_socket, sizeof(c->c_control_socket), "%s/ctl.sock", dir);
	snprintf(c->c_user, sizeof(c->c_user), "%s", user);
	assert_int_equal(conf_parse_cidr("10.8.0.0/24", &c->c_network), 0);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	*state = f;
	return fx_tmpdir(f->dir, sizeof(f->dir), "priv");
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int rc;

	priv_stop(f->p);		/* a test that failed half-way */
	rc = fx_rmtree(f->dir);
	free(f);
	return rc;
}

/* In-process: conf with no user, the allow-list holding alice (0640). */
static void start(struct fixture *f, const char *user)
{
	conf_fill(&f->c, f->dir, user);
	fx_write(f->c.c_allow_list, LIST_ALICE);
	assert_int_equal(chmod(f->c.c_allow_list, 0640), 0);
	assert_int_equal(priv_start(&f->p, &f->c), 0);
}

static struct priv_allow_req req(int op, const char *name, const char *fp,
    const char *addr)
{
	struct priv_allow_req rq = { .pa_op = op };

	snprintf(rq.pa_name, sizeof(rq.pa_name), "%s", name);
	snprintf(rq.pa_fp, sizeof(rq.pa_fp), "%s", fp);
	if (addr != NULL) {
		rq.pa_has_addr = true;
		rq.pa_addr = ip(addr);
	}
	return rq;
}

/* The whole file, in a static buffer. */
static const char *slurp(const char *path)
{
	static char buf[8192];
	FILE *fp;
	size_t n;

	assert_non_null(fp = fopen(path, "r"));
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	return buf;
}

/* "name[@addr] ..." of a list. */
static void names(const struct allow_list *al, char *out, size_t len)
{
	char a[INET_ADDRSTRLEN];
	size_t i;

	out[0] = '\0';
	for (i = 0; i < al->al_n; i++) {
		const struct allow_entry *e = &al->al_e[i];

		snprintf(out + strlen(out), len - strlen(out), "%s%s%s%s", i ? " " : "",
		    e->ae_name, e->ae_has_addr ? "@" : "",
		    e->ae_has_addr ? inet_ntop(AF_INET, &e->ae_addr, a, sizeof(a)) : "");
	}
}

/* The list as the file now says, loaded independently of priv. */
static void file_names(struct fixture *f, char *out, size_t len)
{
	struct allow_list al;
	struct conf_err err;

	assert_int_equal(allow_load(&al, f->c.c_allow_list, &f->c.c_network, &err), 0);
	names(&al, out, len);
	allow_free(&al);
}

/* One successful request: the list it returns and the file both say WANT. */
static void expect_ok(struct fixture *f, struct priv_allow_req rq, const char *want)
{
	struct allow_list al;
	struct conf_err err;
	char got[512];
	int rc;

	if ((rc = priv_allow(f->p, &rq, &al, &err)) != 0)
		fail_msg("op %d %s: %d %s", rq.pa_op, rq.pa_name, rc, err.msg);
	names(&al, got, sizeof(got));
	assert_string_equal(got, want);
	allow_free(&al);
	if (rq.pa_op != PRIV_RELOAD) {
		file_names(f, got, sizeof(got));
		assert_string_equal(got, want);
	}
}

/* One failing request: RC, a message containing MSG, nothing returned,
 * the file untouched. */
static void expect_err(struct fixture *f, struct priv_allow_req rq, int rc,
    const char *msg)
{
	struct allow_list al;
	struct conf_err err;
	char before[8192];

	snprintf(before, sizeof(before), "%s", slurp(f->c.c_allow_list));
	memset(&al, 0x5a, sizeof(al));
	assert_int_equal(priv_allow(f->p, &rq, &al, &err), rc);
	if (strstr(err.msg, msg) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", err.msg, msg);
	assert_null(al.al_e);
	assert_int_equal(al.al_n, 0);
	assert_string_equal(slurp(f->c.c_allow_list), before);
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

static int count_files(const char *dir)
{
	struct dirent *d;
	DIR *dp;
	int n = 0;

	assert_non_null(dp = opendir(dir));
	while ((d = readdir(dp)) != NULL)
		n += strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0;
	closedir(dp);
	return n;
}

/* ---- in-process ---- */

static void test_inproc_edits(void **state)
{
	struct fixture *f = *state;

	start(f, "");
	expect_ok(f, req(PRIV_RELOAD, "", "", NULL), "alice@10.8.0.10");
	expect_ok(f, req(PRIV_ADD, "bob", FP_B, NULL), "alice@10.8.0.10 bob");
	expect_ok(f, req(PRIV_ADD, "carol", FP_C, "10.8.0.12"),
	    "alice@10.8.0.10 bob carol@10.8.0.12");
	expect_ok(f, req(PRIV_REMOVE, "alice", "", NULL), "bob carol@10.8.0.12");
	expect_ok(f, req(PRIV_RELOAD, "", "", NULL), "bob carol@10.8.0.12");
	/* the file's mode survives the rewrites, and no temp file is left */
	assert_int_equal(mode_of(f->c.c_allow_list), 0640);
	assert_int_equal(count_files(f->dir), 1);
}

/* Reload reads the file as it is now, edited by hand or not. */
static void test_inproc_reload_sees_hand_edits(void **state)
{
	struct fixture *f = *state;
	struct allow_list al;
	struct conf_err err;

	start(f, "");
	fx_write(f->c.c_allow_list, "peers = (\n  { name = \"dave\"; fingerprint = \""
	    FP_D "\"; }\n);\n");
	expect_ok(f, req(PRIV_RELOAD, "", "", NULL), "dave");
	fx_write(f->c.c_allow_list, "peers = (\n  { name = \"dave\"; fingerprint = \""
	    FP_D "\"; address = \"10.9.0.1\"; }\n);\n");
	assert_int_equal(priv_allow(f->p, &(struct priv_allow_req){ .pa_op = PRIV_RELOAD },
	    &al, &err), -EINVAL);
	assert_int_equal(err.line, 2);
	assert_string_equal(err.file, f->c.c_allow_list);
	assert_null(al.al_e);
	/* an edit on a file that does not load is refused, the file kept */
	expect_err(f, req(PRIV_ADD, "bob", FP_B, NULL), -EINVAL, "address");
	assert_int_equal(unlink(f->c.c_allow_list), 0);
	assert_int_equal(priv_allow(f->p, &(struct priv_allow_req){ .pa_op = PRIV_RELOAD },
	    &al, &err), -ENOENT);
	assert_int_equal(priv_allow(f->p, &(struct priv_allow_req){ .pa_op = PRIV_REMOVE },
	    &al, &err), -ENOENT);
	assert_int_equal(access(f->c.c_allow_list, F_OK), -1);
}

static void test_inproc_errors(void **state)
{
	struct fixture *f = *state;

	start(f, "");
	expect_ok(f, req(PRIV_ADD, "bob", FP_B, NULL), "alice@10.8.0.10 bob");
	expect_err(f, req(PRIV_ADD, "bob", FP_D, NULL), -EEXIST, "name: bob is already listed");
	expect_err(f, req(PRIV_ADD, "dave", FP_A, NULL), -EEXIST, "fingerprint");
	expect_err(f, req(PRIV_ADD, "eve", FP_E, "10.8.0.10"), -EEXIST,
	    "address: 10.8.0.10 is already listed");
	expect_err(f, req(PRIV_ADD, "bad name", FP_E, NULL), -EINVAL, "name");
	expect_err(f, req(PRIV_ADD, "eve", "sha256:12", NULL), -EINVAL, "fingerprint");
	expect_err(f, req(PRIV_REMOVE, "zed", "", NULL), -ENOENT,
	    "no peer named zed");
	expect_ok(f, req(PRIV_RELOAD, "", "", NULL), "alice@10.8.0.10 bob");
}

static void test_inproc_leases(void **state)
{
	struct fixture *f = *state;
	const char *path = fx_path(f->dir, LEASE_FILE);
	const char *text = FP_A " 10.8.0.10\n" FP_B " 10.8.0.11\n";

	start(f, "");
	assert_int_equal(priv_leases(f->p, text, strlen(text)), 0);
	assert_string_equal(slurp(path), text);
	assert_int_equal(mode_of(path), 0600);
	assert_int_equal(priv_leases(f->p, text, 10), 0);	/* replaced exactly */
	assert_string_equal(slurp(path), "sha256:a10");
	assert_int_equal(priv_leases(f->p, "", 0), 0);
	assert_string_equal(slurp(path), "");
	assert_int_equal(count_files(f->dir), 2);

	/* no state_dir: nowhere to write */
	f->c.c_state_dir[0] = '\0';
	assert_int_equal(priv_leases(f->p, text, strlen(text)), -ENOENT);
	snprintf(f->c.c_state_dir, sizeof(f->c.c_state_dir), "%s/gone", f->dir);
	assert_int_equal(priv_leases(f->p, text, strlen(text)), -ENOENT);
}

/* Without a user nothing is forked, and stopping reaps nothing. */
static void test_inproc_no_helper(void **state)
{
	struct fixture *f = *state;

	start(f, "");
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	priv_stop(f->p);
	f->p = NULL;
	priv_stop(NULL);
}

/* ---- through the helper ---- */

static void need_root(void)
{
	if (geteuid() != 0)
		skip();
}

/* A transcript of SCRIPT's requests: rc, message and list for each. */
struct step {
	int         op;
	const char *name, *fp, *addr;
};

static const struct step script_ok[] = {
	{ PRIV_RELOAD, "", "", NULL },
	{ PRIV_ADD, "bob", FP_B, NULL },
	{ PRIV_ADD, "carol", FP_C, "10.8.0.12" },
	{ PRIV_REMOVE, "alice", "", NULL },
	{ PRIV_ADD, "dave", FP_D, "10.8.0.200" },
	{ PRIV_RELOAD, "", "", NULL },
};

static void run_script(struct fixture *f, const struct step *s, size_t n,
    char *out, size_t len)
{
	struct priv_allow_req rq;
	struct allow_list al;
	struct conf_err err;
	char list[512];
	size_t i;
	int rc;

	out[0] = '\0';
	for (i = 0; i < n; i++) {
		rq = req(s[i].op, s[i].name, s[i].fp, s[i].addr);
		rc = priv_allow(f->p, &rq, &al, &err);
		names(&al, list, sizeof(list));
		snprintf(out + strlen(out), len - strlen(out), "%d line %d [%s] %s\n",
		    rc, err.line, err.msg, list);
		allow_free(&al);
	}
}

/* The in-process transcript of SCRIPT in a directory of its own. */
static void reference(const struct step *s, size_t n, char *out, size_t len)
{
	struct fixture ref = { .p = NULL };

	assert_int_equal(fx_tmpdir(ref.dir, sizeof(ref.dir), "priv-ref"), 0);
	start(&ref, "");
	run_script(&ref, s, n, out, len);
	priv_stop(ref.p);
	assert_int_equal(fx_rmtree(ref.dir), 0);
}

static void test_helper_same_results(void **state)
{
	struct fixture *f = *state;
	char want[4096], got[4096], list[512];
	struct stat st;

	need_root();
	reference(script_ok, sizeof(script_ok) / sizeof(script_ok[0]), want, sizeof(want));
	start(f, "root");
	run_script(f, script_ok, sizeof(script_ok) / sizeof(script_ok[0]), got, sizeof(got));
	assert_string_equal(got, want);
	assert_non_null(strstr(got, "] bob carol@10.8.0.12 dave@10.8.0.200\n"));
	file_names(f, list, sizeof(list));
	assert_string_equal(list, "bob carol@10.8.0.12 dave@10.8.0.200");
	assert_int_equal(stat(f->c.c_allow_list, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
}

/* The helper acts on the configuration it was forked with: changing the
 * worker's copy afterwards moves nothing. */
static void test_helper_paths_fixed_at_start(void **state)
{
	struct fixture *f = *state;
	char list[512], other[PATH_MAX];

	need_root();
	start(f, "root");
	snprintf(other, sizeof(other), "%s/other.conf", f->dir);
	fx_write(other, "peers = ( );\n");
	snprintf(f->c.c_allow_list, sizeof(f->c.c_allow_list), "%s", other);
	snprintf(f->c.c_state_dir, sizeof(f->c.c_state_dir), "%s/nowhere", f->dir);
	expect_ok(f, req(PRIV_RELOAD, "", "", NULL), "alice@10.8.0.10");
	{
		struct priv_allow_req rq = req(PRIV_ADD, "bob", FP_B, NULL);
		struct allow_list al;
		struct conf_err err;

		assert_int_equal(priv_allow(f->p, &rq, &al, &err), 0);
		allow_free(&al);
	}
	assert_string_equal(slurp(other), "peers = ( );\n");
	snprintf(f->c.c_allow_list, sizeof(f->c.c_allow_list), "%s/peers.conf", f->dir);
	file_names(f, list, sizeof(list));
	assert_string_equal(list, "alice@10.8.0.10 bob");
	assert_int_equal(priv_leases(f->p, "x\n", 2), 0);
	assert_string_equal(slurp(fx_path(f->dir, LEASE_FILE)), "x\n");
}

/* A hook that writes "NAME EVENT" into DIR/out, and exits CODE. */
static void put_hook(struct fixture *f, const char *name, int code)
{
	char text[512];
	const char *p = fx_path(f->dir, name);

	snprintf(text, sizeof(text), "#!/bin/sh\necho \"%s $VPND_EVENT $VPND_PEER_NAME\" > %s/out\n"
	    "exit %d\n", name, f->dir, code);
	fx_write(p, text);
	assert_int_equal(chmod(p, 0755), 0);
}

static void start_hooks(struct fixture *f, const char *user)
{
	conf_fill(&f->c, f->dir, user);
	fx_write(f->c.c_allow_list, LIST_ALICE);
	put_hook(f, "up.sh", 0);
	put_hook(f, "other.sh", 0);
	snprintf(f->c.c_on_connect, sizeof(f->c.c_on_connect), "%s", fx_path(f->dir, "up.sh"));
	assert_int_equal(priv_start(&f->p, &f->c), 0);
}

static const struct hook_vars hv_alice = { .hv_event = HOOK_CONNECT, .hv_name = "alice" };

static void test_inproc_hook(void **state)
{
	struct fixture *f = *state;
	struct hook_vars dis = hv_alice;
	int st;

	start_hooks(f, "");
	assert_int_equal(priv_hook(f->p, &hv_alice, &st), 0);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_string_equal(slurp(fx_path(f->dir, "out")), "up.sh connect alice\n");
	dis.hv_event = HOOK_DISCONNECT;		/* not configured */
	assert_int_equal(priv_hook(f->p, &dis, &st), -ENOENT);
	put_hook(f, "up.sh", 7);
	assert_int_equal(priv_hook(f->p, &hv_alice, &st), 0);
	assert_int_equal(WEXITSTATUS(st), 7);
}

/* The helper runs the hook it was started with, whatever the worker's
 * copy of the configuration says later, and runs it as root. */
static void test_helper_hook_path_fixed_at_start(void **state)
{
	struct fixture *f = *state;
	struct hook_vars bad = hv_alice;
	int st;

	need_root();
	start_hooks(f, "root");
	snprintf(f->c.c_on_connect, sizeof(f->c.c_on_connect), "%s", fx_path(f->dir, "other.sh"));
	assert_int_equal(priv_hook(f->p, &hv_alice, &st), 0);
	assert_string_equal(slurp(fx_path(f->dir, "out")), "up.sh connect alice\n");
	bad.hv_event = 99;			/* neither hook */
	memset(bad.hv_name, 'x', sizeof(bad.hv_name));	/* unterminated */
	assert_int_equal(priv_hook(f->p, &bad, &st), -ENOENT);
	assert_int_equal(priv_hook(f->p, &hv_alice, &st), 0);	/* still in step */
}

static void test_helper_leases(void **state)
{
	struct fixture *f = *state;
	const char *text = FP_A " 10.8.0.10\n";
	const char *path = fx_path(f->dir, LEASE_FILE);
	char *big;
	struct stat st;
	size_t n = 1u << 20;

	need_root();
	start(f, "root");
	assert_int_equal(priv_leases(f->p, text, strlen(text)), 0);
	assert_string_equal(slurp(path), text);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);

	/* a megabyte goes through whole */
	assert_non_null(big = malloc(n));
	memset(big, 'L', n);
	assert_int_equal(priv_leases(f->p, big, n), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, (off_t)n);
	free(big);
	assert_int_equal(priv_leases(f->p, "", 0), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 0);
}

/* Each error comes back as in-process, and the channel stays usable. */
static void test_helper_errors(void **state)
{
	static const struct step script_err[] = {
		{ PRIV_ADD, "bob", FP_B, NULL },
		{ PRIV_ADD, "bob", FP_D, NULL },
		{ PRIV_RELOAD, "", "", NULL },
		{ PRIV_ADD, "dave", FP_A, NULL },
		{ PRIV_ADD, "eve", FP_E, "10.8.0.10" },
		{ PRIV_ADD, "bad name", FP_E, NULL },
		{ PRIV_REMOVE, "zed", "", NULL },
		{ PRIV_RELOAD, "", "", NULL },
	};
	struct fixture *f = *state;
	char want[4096], got[4096];

	need_root();
	reference(script_err, sizeof(script_err) / sizeof(script_err[0]), want, sizeof(want));
	assert_non_null(strstr(want, "no peer named zed"));
	start(f, "root");
	expect_ok(f, req(PRIV_RELOAD, "", "", NULL), "alice@10.8.0.10");
	expect_err(f, req(PRIV_REMOVE, "zed", "", NULL), -ENOENT,
	    "no peer named zed on the allow-list");
	{
		struct priv_allow_req rq = req(PRIV_RELOAD, "", "", NULL);
		struct allow_list al;
		struct conf_err err;

		/* an error reply must not break the channel */
		assert_int_equal(priv_allow(f->p, &rq, &al, &err), 0);
		allow_free(&al);
	}
	fx_write(f->c.c_allow_list, LIST_ALICE);
	run_script(f, script_err, sizeof(script_err) / sizeof(script_err[0]), got, sizeof(got));
	assert_string_equal(got, want);
}

/* A request the helper does not know is refused, and the next one served. */
static void test_helper_bad_request(void **state)
{
	struct fixture *f = *state;
	struct priv_allow_req rq = req(PRIV_REMOVE, "alice", "", NULL);
	struct allow_list al;
	struct conf_err err;

	need_root();
	start(f, "root");
	rq.pa_op = 7;
	assert_int_equal(priv_allow(f->p, &rq, &al, &err), -EINVAL);
	assert_string_equal(err.msg, "bad request");
	assert_null(al.al_e);
	rq.pa_op = -1;
	assert_int_equal(priv_allow(f->p, &rq, &al, &err) < 0, 1);
	rq.pa_op = PRIV_RELOAD;
	assert_int_equal(priv_allow(f->p, &rq, &al, &err), 0);
	assert_int_equal(al.al_n, 1);
	allow_free(&al);
	expect_ok(f, req(PRIV_RELOAD, "", "", NULL), "alice@10.8.0.10");
}

/* Each edit the loader would refuse (the network's, the server's or the
 * broadcast address, one outside the network, a name, fingerprint or
 * address already listed) is refused with the loader's message and the
 * file left as it was, whoever asks; a good edit writes a file that loads
 * (expect_ok loads it with allow_load). */
static void refuses_what_load_refuses(struct fixture *f)
{
	expect_err(f, req(PRIV_ADD, "eve", FP_E, "10.8.0.0"), -EINVAL,
	    "address: 10.8.0.0 is the network address of 10.8.0.0/24");
	expect_err(f, req(PRIV_ADD, "eve", FP_E, "10.8.0.1"), -EINVAL,
	    "address: 10.8.0.1 is the server's (the first host of 10.8.0.0/24)");
	expect_err(f, req(PRIV_ADD, "eve", FP_E, "10.8.0.255"), -EINVAL,
	    "address: 10.8.0.255 is the broadcast address of 10.8.0.0/24");
	expect_err(f, req(PRIV_ADD, "eve", FP_E, "192.0.2.1"), -EINVAL,
	    "address: 192.0.2.1 is outside 10.8.0.0/24");
	expect_err(f, req(PRIV_ADD, "alice", FP_E, NULL), -EEXIST,
	    "name: alice is already listed");
	expect_err(f, req(PRIV_ADD, "eve", FP_A_UPPER, NULL), -EEXIST,
	    "fingerprint: " FP_A " is already listed");
	expect_err(f, req(PRIV_ADD, "eve", FP_E, "10.8.0.10"), -EEXIST,
	    "address: 10.8.0.10 is already listed");
	expect_ok(f, req(PRIV_ADD, "eve", FP_E, "10.8.0.254"),
	    "alice@10.8.0.10 eve@10.8.0.254");
	expect_ok(f, req(PRIV_RELOAD, "", "", NULL), "alice@10.8.0.10 eve@10.8.0.254");
}

static void test_inproc_refuses_what_load_refuses(void **state)
{
	struct fixture *f = *state;

	start(f, "");
	refuses_what_load_refuses(f);
}

static void test_helper_refuses_what_load_refuses(void **state)
{
	struct fixture *f = *state;

	need_root();
	start(f, "root");
	refuses_what_load_refuses(f);
}

struct adder {
	struct fixture *f;
	int             base, rc;
};

static void *add_many(void *arg)
{
	struct adder *a = arg;
	struct priv_allow_req rq;
	struct allow_list al;
	struct conf_err err;
	char name[16], fp[CONF_FP_LEN];
	int i;

	for (i = 0; i < 8 && a->rc == 0; i++) {
		snprintf(name, sizeof(name), "p%d", a->base + i);
		snprintf(fp, sizeof(fp), "sha256:%064x", a->base + i);
		rq = req(PRIV_ADD, name, fp, NULL);
		a->rc = priv_allow(a->f->p, &rq, &al, &err);
		allow_free(&al);
	}
	return NULL;
}

/* Requests from several threads are served one at a time: no edit lost. */
static void test_helper_threads(void **state)
{
	struct fixture *f = *state;
	struct adder a[4];
	pthread_t t[4];
	struct allow_list al;
	struct conf_err err;
	int i;

	need_root();
	start(f, "root");
	for (i = 0; i < 4; i++) {
		a[i] = (struct adder){ .f = f, .base = 100 + 10 * i };
		assert_int_equal(pthread_create(&t[i], NULL, add_many, &a[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(a[i].rc, 0);
	}
	assert_int_equal(allow_load(&al, f->c.c_allow_list, &f->c.c_network, &err), 0);
	assert_int_equal(al.al_n, 1 + 4 * 8);
	allow_free(&al);
}

/* Stop: the helper removes the control socket's path (whatever is there)
 * and exits; priv_stop waits for it, so no zombie is left. */
static void test_helper_stop(void **state)
{
	struct fixture *f = *state;

	need_root();
	start(f, "root");
	fx_write(f->c.c_control_socket, "not really a socket\n");
	assert_int_equal(waitpid(-1, NULL, WNOHANG), 0);	/* the helper runs */
	priv_stop(f->p);
	f->p = NULL;
	assert_int_equal(access(f->c.c_control_socket, F_OK), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	/* the allow-list and the directory are left alone */
	assert_string_equal(slurp(f->c.c_allow_list), LIST_ALICE);
}

/* The helper: the test's only child, found through /proc. */
static pid_t helper_pid(void)
{
	char path[64], buf[256] = "", comm[32] = "";
	FILE *fp;
	pid_t pid;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", getpid(), getpid());
	assert_non_null(fp = fopen(path, "r"));
	assert_non_null(fgets(buf, sizeof(buf), fp));
	fclose(fp);
	assert_true((pid = (pid_t)strtol(buf, NULL, 10)) > 0);
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	/* the child names itself once set up (its descriptors closed); 10 s
	 * for a loaded machine, where 1 ms is the usual */
	for (i = 0; i < 10000; i++) {
		assert_non_null(fp = fopen(path, "r"));
		assert_non_null(fgets(comm, sizeof(comm), fp));
		fclose(fp);
		if (strcmp(comm, "vpnd-priv\n") == 0)
			break;
		usleep(1000);
	}
	assert_string_equal(comm, "vpnd-priv\n");
	return pid;
}

/* The helper died on its own: requests fail plainly (no SIGPIPE death,
 * no hang), and stop still reaps it. */
static void test_helper_died(void **state)
{
	struct fixture *f = *state;
	struct priv_allow_req rq = req(PRIV_RELOAD, "", "", NULL);
	struct allow_list al;
	struct conf_err err;
	siginfo_t si;
	pid_t pid;

	need_root();
	start(f, "root");
	pid = helper_pid();
	assert_int_equal(kill(pid, SIGKILL), 0);
	memset(&si, 0, sizeof(si));
	assert_int_equal(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0);
	assert_int_equal(si.si_pid, pid);
	assert_true(priv_allow(f->p, &rq, &al, &err) < 0);
	assert_non_null(strstr(err.msg, "privileged helper"));
	assert_null(al.al_e);
	assert_int_equal(priv_leases(f->p, "x", 1), -EPIPE);
	priv_stop(f->p);
	f->p = NULL;
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

/* The helper keeps nothing of the worker's but the channel: fds 0-2 and
 * 3, not the TUN device, sockets or the loop the worker had open. */
static void test_helper_keeps_no_fds(void **state)
{
	struct fixture *f = *state;
	char path[64], fds[1024] = "";
	struct dirent **names;
	int pfd[2], i, n;

	need_root();
	assert_int_equal(pipe(pfd), 0);		/* inheritable: no CLOEXEC */
	start(f, "root");
	snprintf(path, sizeof(path), "/proc/%d/fd", helper_pid());
	close(pfd[0]);
	close(pfd[1]);
	assert_true((n = scandir(path, &names, NULL, versionsort)) >= 0);
	for (i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.')
			snprintf(fds + strlen(fds), sizeof(fds) - strlen(fds), "%s ",
			    names[i]->d_name);
		free(names[i]);
	}
	free(names);
	assert_string_equal(fds, "0 1 2 3 ");
}

/* ---- the seccomp filter ---- */

static int report_fd = -1;	/* in a checking child: the pipe to the test */

static void report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One line for the test to print: a call that did not do what it must. */
static void report(const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	n = n < (int)sizeof(line) - 2 ? n : (int)sizeof(line) - 2;
	line[n++] = '\n';
	if (write(report_fd, line, (size_t)n) < 0)
		_exit(3);
}

/* CALL's result must be -1 with WANT; an fd or a child it made unfiltered
 * is closed or reaped, so that a failing run stays tidy. */
static void expect_errno(const char *call, long rc, int want, bool is_fd)
{
	int got = errno;

	if (rc == -1 && got == want)
		return;
	report("%s: %ld (%s), want %s", call, rc, rc == -1 ? strerror(got) : "no error",
	    strerror(want));
	if (rc >= 0 && is_fd)
		close((int)rc);
}

/* The raw system calls, as an intruder would make them (no libc fallback).
 * A child that one makes exits at once; the parent reaps it. */
static long raw_clone(unsigned long flags)
{
	long rc;

#if defined(__s390__) || defined(__s390x__)
	rc = syscall(SYS_clone, 0UL, flags, 0UL, 0UL, 0UL);
#else
	rc = syscall(SYS_clone, flags, 0UL, 0UL, 0UL, 0UL);
#endif
	if (rc == 0)
		_exit(0);
	if (rc > 0)
		waitpid((pid_t)rc, NULL, 0);
	return rc;
}

static long raw_clone3(uint64_t flags)
{
	uint64_t args[8] = { flags };	/* struct clone_args, version 0 */
	long rc;

	args[4] = SIGCHLD;		/* .exit_signal */
	rc = syscall(SYS_clone3, args, sizeof(args));
	if (rc == 0)
		_exit(0);
	if (rc > 0)
		waitpid((pid_t)rc, NULL, 0);
	return rc;
}

/* Each call an intruder would want for a new namespace, a mount, io_uring
 * or another process's descriptors, with arguments on which, as root and
 * unfiltered, none fails with EPERM: so only the filter makes them. */
static void check_denied(void)
{
	static const struct { const char *name; unsigned long flag; } ns[] = {
		{ "clone(CLONE_NEWNS)", CLONE_NEWNS },
		{ "clone(CLONE_NEWCGROUP)", CLONE_NEWCGROUP },
		{ "clone(CLONE_NEWUTS)", CLONE_NEWUTS },
		{ "clone(CLONE_NEWIPC)", CLONE_NEWIPC },
		{ "clone(CLONE_NEWUSER)", CLONE_NEWUSER },
		{ "clone(CLONE_NEWPID)", CLONE_NEWPID },
		{ "clone(CLONE_NEWNET)", CLONE_NEWNET },
		{ "clone(CLONE_NEWUSER|CLONE_NEWNET)", CLONE_NEWUSER | CLONE_NEWNET },
	};
	uint64_t uring_params[15] = { 0 };	/* struct io_uring_params */
	uint32_t perf_attr[32] = { 0 };		/* struct perf_event_attr */
	char *const argv[] = { (char *)(uintptr_t)"true", NULL };
	long pidfd;
	size_t i;

	for (i = 0; i < sizeof(ns) / sizeof(ns[0]); i++)
		expect_errno(ns[i].name, raw_clone(ns[i].flag | SIGCHLD), EPERM, false);
	expect_errno("clone3()", raw_clone3(0), ENOSYS, false);
	expect_errno("clone3(CLONE_NEWUSER)", raw_clone3(CLONE_NEWUSER), ENOSYS, false);
	expect_errno("unshare(CLONE_NEWUSER)", syscall(SYS_unshare, CLONE_NEWUSER),
	    EPERM, false);
	expect_errno("setns", syscall(SYS_setns, -1, 0), EPERM, false);
	expect_errno("mount", syscall(SYS_mount, "none", "/nonexistent", "tmpfs",
	    0UL, NULL), EPERM, false);
	expect_errno("fsopen", syscall(SYS_fsopen, "tmpfs", 0U), EPERM, true);
	expect_errno("fsconfig", syscall(SYS_fsconfig, -1, 0U, NULL, NULL, 0), EPERM,
	    false);
	expect_errno("fsmount", syscall(SYS_fsmount, -1, 0U, 0U), EPERM, true);
	expect_errno("fspick", syscall(SYS_fspick, AT_FDCWD, "/", 0U), EPERM, true);
	expect_errno("move_mount", syscall(SYS_move_mount, -1, "", -1, "", 0U),
	    EPERM, false);
	expect_errno("open_tree", syscall(SYS_open_tree, AT_FDCWD, "/", 0U), EPERM,
	    true);
	expect_errno("mount_setattr", syscall(SYS_mount_setattr, -1, "", 0U, NULL,
	    (size_t)0), EPERM, false);
	expect_errno("io_uring_setup", syscall(SYS_io_uring_setup, 4U, uring_params),
	    EPERM, true);
	expect_errno("io_uring_enter", syscall(SYS_io_uring_enter, -1, 0U, 0U, 0U,
	    NULL, (size_t)0), EPERM, false);
	expect_errno("io_uring_register", syscall(SYS_io_uring_register, -1, 0U,
	    NULL, 0U), EPERM, false);
	if ((pidfd = syscall(SYS_pidfd_open, getpid(), 0U)) < 0)
		report("pidfd_open: %s (it must be allowed)", strerror(errno));
	expect_errno("pidfd_getfd", syscall(SYS_pidfd_getfd, (int)pidfd, 0, 0U),
	    EPERM, true);
	expect_errno("userfaultfd", syscall(SYS_userfaultfd, O_CLOEXEC), EPERM, true);
	perf_attr[1] = sizeof(perf_attr);	/* .size; .type 0, hardware */
	expect_errno("perf_event_open", syscall(SYS_perf_event_open, perf_attr, 0,
	    -1, -1, 0UL), EPERM, true);
	expect_errno("execve", syscall(SYS_execve, "/nonexistent/true", argv, argv + 1),
	    EPERM, false);
	if (pidfd >= 0)
		close((int)pidfd);
}

static void *thread_main(void *arg)
{
	*(int *)arg = 1;
	return NULL;
}

static void on_work(uv_work_t *w)
{
	*(int *)w->data += 1;
}

static void on_work_done(uv_work_t *w, int status)
{
	*(int *)w->data += status == 0 ? 10 : 100;
}

/* What must keep working: a plain clone (fork), fork(), pthread_create
 * (glibc tries clone3, gets ENOSYS, uses clone), and a libuv loop made
 * before the filter, as srv_run and cli_run make theirs, whose thread pool
 * starts after it. */
static void check_allowed(uv_loop_t *loop)
{
	uv_work_t w;
	pthread_t t;
	pid_t pid;
	int ran = 0, done = 0, rc, st;

	if (raw_clone(SIGCHLD) <= 0)
		report("clone(SIGCHLD): %s", strerror(errno));
	if ((pid = fork()) == 0)
		_exit(7);
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 7)
		report("fork: %s", pid < 0 ? strerror(errno) : "the child went wrong");
	if ((rc = pthread_create(&t, NULL, thread_main, &ran)) != 0)
		report("pthread_create: %s", strerror(rc));
	else if ((rc = pthread_join(t, NULL)) != 0 || ran != 1)
		report("pthread_join: %s, ran %d", strerror(rc), ran);
	w.data = &done;
	if ((rc = uv_queue_work(loop, &w, on_work, on_work_done)) < 0)
		report("uv_queue_work: %s", uv_strerror(rc));
	else if ((rc = uv_run(loop, UV_RUN_DEFAULT)) != 0 || done != 11)
		report("uv_run: %d, work %d (want 11)", rc, done);
	if ((rc = uv_loop_close(loop)) != 0)
		report("uv_loop_close: %s", uv_strerror(rc));
}

/* A thread made before the filter, as a resolver or pool worker might be:
 * released once it is loaded, it must be under it too. */
static void *early_thread(void *arg)
{
	char go;

	if (read(*(int *)arg, &go, 1) == 1)
		expect_errno("clone(CLONE_NEWUSER) on a thread older than the "
		    "filter", raw_clone(CLONE_NEWUSER | SIGCHLD), EPERM, false);
	return NULL;
}

static void check_early_thread(pthread_t t, int go)
{
	if (write(go, "", 1) != 1)
		report("early thread: %s", strerror(errno));
	pthread_join(t, NULL);
}

/* Fork a child that makes a loop and a thread, runs LOAD(ARG) (which loads
 * the filter), then the checks, reporting through a pipe; the test fails
 * with each line it reports, or if it died. */
static void run_filtered(int (*load)(void *), void *arg)
{
	char out[8192];
	size_t len = 0;
	ssize_t n;
	pid_t pid;
	int pfd[2], st, rc;

	assert_int_equal(pipe(pfd), 0);
	assert_true((pid = fork()) >= 0);
	if (pid == 0) {
		uv_loop_t loop;
		pthread_t t;
		int go[2];

		close(pfd[0]);
		report_fd = pfd[1];
		alarm(60);		/* a hang ends as a failure, not a stuck run */
		if (pipe(go) < 0)
			report("pipe: %s", strerror(errno));
		else if ((rc = pthread_create(&t, NULL, early_thread, &go[0])) != 0)
			report("early thread: %s", strerror(rc));
		else if ((rc = uv_loop_init(&loop)) < 0)
			report("uv_loop_init: %s", uv_strerror(rc));
		else if ((rc = load(arg)) < 0)
			report("filter: %s", strerror(-rc));
		else {
			check_early_thread(t, go[1]);
			check_denied();
			check_allowed(&loop);
		}
		_exit(0);		/* not cmocka's atexit, nor LeakSanitizer's */
	}
	close(pfd[1]);
	while (len < sizeof(out) - 1 &&
	    (n = read(pfd[0], out + len, sizeof(out) - 1 - len)) != 0) {
		if (n < 0 && errno != EINTR)
			fail_msg("read: %s", strerror(errno));
		len += n > 0 ? (size_t)n : 0;
	}
	out[len] = '\0';
	close(pfd[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (len > 0)
		print_error("under the filter:\n%s", out);	/* fail_msg cuts it */
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("the checking child ended with status %#x", st);
	if (len > 0)
		fail_msg("%zu bytes of complaints", len);
}

static int filter_only(void *arg)
{
	(void)arg;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	return priv_seccomp();
}

/* The filter alone, on a process that keeps root's capabilities: each call
 * would work without it. */
static void test_seccomp_denies(void **state)
{
	(void)state;
	need_root();
	run_filtered(filter_only, NULL);
}

static int drop_to(void *arg)
{
	const struct conf *c = arg;
	int rc;

	if ((rc = priv_drop(c)) < 0)
		return rc;
	if (getuid() != c->c_uid || geteuid() != c->c_uid || getgid() != c->c_gid ||
	    prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		report("priv_drop: uid %u gid %u, no_new_privs %d", (unsigned)getuid(),
		    (unsigned)getgid(), prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
	return 0;
}

/* The way vpnd gets it: priv_drop to nobody loads the same filter. */
static void test_seccomp_after_drop(void **state)
{
	struct fixture *f = *state;
	struct passwd *pw;

	need_root();
	if ((pw = getpwnam("nobody")) == NULL)
		skip();
	conf_fill(&f->c, f->dir, "nobody");
	f->c.c_uid = pw->pw_uid;
	f->c.c_gid = pw->pw_gid;
	run_filtered(drop_to, &f->c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_inproc_edits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inproc_reload_sees_hand_edits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inproc_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inproc_refuses_what_load_refuses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inproc_leases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inproc_no_helper, setup, teardown),
		cmocka_unit_test_setup_teardown(test_helper_same_results, setup, teardown),
		cmocka_unit_test_setup_teardown(test_helper_paths_fixed_at_start, setup, teardown),
		cmocka_unit_test_setup_teardown(test_helper_leases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inproc_hook, setup, teardown),
		cmocka_unit_test_setup_teardown(test_helper_hook_path_fixed_at_start, setup, teardown),
		cmocka_unit_test_setup_teardown(test_helper_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_helper_bad_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_helper_refuses_what_load_refuses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_helper_threads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_helper_keeps_no_fds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_helper_stop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_helper_died, setup, teardown),
		cmocka_unit_test(test_seccomp_denies),
		cmocka_unit_test_setup_teardown(test_seccomp_after_drop, setup, teardown),
	};

	signal(SIGPIPE, SIG_IGN);	/* as vpnd does: a dead helper is EPIPE */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
