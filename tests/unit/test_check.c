/* test_check.c - check_conf on configurations written to a temp directory
 * and a fake host (struct check_probe): each check once failing, at the
 * line of its key, and once passing; the line of a key set in an
 * @included file; a clean configuration that finds nothing. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/check.h"
#include "conf/conf.h"
#include "fixture.h"

#define FP(c) "sha256:2bd806c97f0e00af1a1fc3328fa763a9269723c8db8fac4f93af71db186d6e9" c

/* Lines 1-6 of a clean server file; tests append from line 7. */
#define SERVER \
	"mode = \"server\";\n" \
	"key = \"server.key\";\n" \
	"cert = \"server.crt\";\n" \
	"network = \"10.8.0.0/24\";\n" \
	"allow_list = \"peers.conf\";\n" \
	"tun = { name = \"vpn0\"; };\n"

/* The fake host: its addresses, devices and one non-local address. */
struct host {
	struct check_addr addrs[4];
	int  naddrs;
	const char *ifs[4];
	struct in_addr nonlocal;
	int  nprobed;		/* cp_local calls */
};

struct fixture {
	char dir[FX_DIR_MAX];
	struct host host;
	struct check_probe probe;
	struct conf c;
	struct check_report r;
};

static int fake_addrs(void *arg, struct check_addr *out, int max)
{
	struct host *h = arg;
	int n = h->naddrs < max ? h->naddrs : max;

	memcpy(out, h->addrs, (size_t)n * sizeof(*out));
	return n;
}

static bool fake_if_exists(void *arg, const char *ifname)
{
	struct host *h = arg;

	for (int i = 0; i < 4 && h->ifs[i] != NULL; i++)
		if (strcmp(h->ifs[i], ifname) == 0)
			return true;
	return false;
}

static int fake_local(void *arg, const struct sockaddr_storage *ss)
{
	struct host *h = arg;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

	h->nprobed++;
	return ss->ss_family == AF_INET &&
	    sin->sin_addr.s_addr == h->nonlocal.s_addr ? -EADDRNOTAVAIL : 0;
}

static void host_addr(struct host *h, const char *ifname, const char *a, int plen)
{
	struct check_addr *ca = &h->addrs[h->naddrs++];

	snprintf(ca->ca_ifname, sizeof(ca->ca_ifname), "%s", ifname);
	assert_int_equal(inet_pton(AF_INET, a, &ca->ca_addr), 1);
	ca->ca_plen = plen;
}

static const char *put(struct fixture *f, const char *name, const char *text,
    mode_t mode)
{
	const char *path = fx_path(f->dir, name);

	fx_write(path, text);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

/* An allow-list of N peers without an address. */
static void put_peers(struct fixture *f, int n)
{
	char buf[8192];
	size_t len = 0;

	len += (size_t)snprintf(buf + len, sizeof(buf) - len, "peers = (\n");
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s{ name = "
		    "\"p%d\"; fingerprint = \"sha256:%064x\"; }\n", i ? "," : "",
		    i, i + 1);
	snprintf(buf + len, sizeof(buf) - len, ");\n");
	put(f, "peers.conf", buf, 0644);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL || fx_tmpdir(f->dir, sizeof(f->dir), "check") < 0)
		return -1;
	*state = f;
	return 0;
}

/* Each test starts from a clean host: eth0 198.18.0.1/24 (the NAT
 * device) and our own vpn0 holding the server's 10.8.0.1. */
static int setup_test(void **state)
{
	struct fixture *f = *state;

	memset(&f->host, 0, sizeof(f->host));
	host_addr(&f->host, "lo", "127.0.0.1", 8);
	host_addr(&f->host, "eth0", "198.18.0.1", 24);
	host_addr(&f->host, "vpn0", "10.8.0.1", 24);
	f->host.ifs[0] = "lo";
	f->host.ifs[1] = "eth0";
	inet_pton(AF_INET, "198.18.9.9", &f->host.nonlocal);
	f->probe = (struct check_probe){ fake_addrs, fake_if_exists, fake_local,
	    &f->host };
	put(f, "server.key", "k\n", 0600);
	put(f, "server.crt", "c\n", 0644);
	put(f, "client.key", "k\n", 0600);
	put(f, "client.crt", "c\n", 0644);
	put(f, "peers.conf", "peers = ();\n", 0644);
	return chmod(f->dir, 0700);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	fx_rmtree(f->dir);
	free(f);
	return 0;
}

/* Load SERVER followed by EXTRA as t.conf and check it: check_conf's rc. */
static int run(struct fixture *f, const char *head, const char *extra)
{
	char text[2048];
	struct conf_err ce;

	snprintf(text, sizeof(text), "%s%s", head, extra);
	if (conf_load(&f->c, put(f, "t.conf", text, 0644), &ce) < 0)
		fail_msg("conf_load: %s:%d: %s", ce.file, ce.line, ce.msg);
	return check_conf(&f->c, &f->probe, &f->r);
}

/* The report holds exactly one finding, of LEVEL, at LINE of FILE (NULL:
 * t.conf; an @included file is named as libconfig and conf's own errors
 * name it, as written), its message starting "key: " and containing PART. */
static void expect_one(struct fixture *f, enum check_level level,
    const char *file, int line, const char *key, const char *part)
{
	const struct check_finding *cf = &f->r.cr_f[0];
	char want[64];

	assert_int_equal(f->r.cr_n, 1);
	assert_int_equal(f->r.cr_errors, level == CHECK_ERROR);
	assert_int_equal(f->r.cr_warnings, level == CHECK_WARNING);
	assert_int_equal(cf->cf_level, level);
	assert_string_equal(cf->cf_err.file, file ? file : fx_path(f->dir, "t.conf"));
	assert_int_equal(cf->cf_err.line, line);
	snprintf(want, sizeof(want), "%s: ", key);
	if (strncmp(cf->cf_err.msg, want, strlen(want)) != 0 ||
	    strstr(cf->cf_err.msg, part) == NULL)
		fail_msg("message \"%s\": want \"%s...%s\"", cf->cf_err.msg, want,
		    part);
}

static void expect_none(struct fixture *f, int rc)
{
	assert_int_equal(rc, 0);
	if (f->r.cr_n != 0)
		fail_msg("unexpected: %s:%d: %s", f->r.cr_f[0].cf_err.file,
		    f->r.cr_f[0].cf_err.line, f->r.cr_f[0].cf_err.msg);
}

static void test_clean(void **state)
{
	struct fixture *f = *state;

	expect_none(f, run(f, SERVER, "nat = { out_interface = \"eth0\"; };\n"
	    "listen = [ \"0.0.0.0:4433\", \"198.18.0.1:4433\" ];\n"));
}

static void test_key_readable(void **state)
{
	struct fixture *f = *state;

	put(f, "server.key", "k\n", 0640);
	assert_int_equal(run(f, SERVER, ""), -EINVAL);
	expect_one(f, CHECK_ERROR, NULL, 2, "key", "readable by its group (mode 0640)");
	put(f, "server.key", "k\n", 0604);
	assert_int_equal(run(f, SERVER, ""), -EINVAL);
	expect_one(f, CHECK_ERROR, NULL, 2, "key", "readable by others");
	put(f, "server.key", "k\n", 0400);
	expect_none(f, run(f, SERVER, ""));
}

static void test_client_key_readable(void **state)
{
	struct fixture *f = *state;
	const char *client = "mode = \"client\";\n"
	    "server = \"198.18.0.1:4433\";\n"
	    "server_fingerprint = \"" FP("0") "\";\n"
	    "key = \"client.key\";\n"
	    "cert = \"client.crt\";\n";

	expect_none(f, run(f, client, ""));
	put(f, "client.key", "k\n", 0644);
	assert_int_equal(run(f, client, ""), -EINVAL);
	expect_one(f, CHECK_ERROR, NULL, 4, "key", "readable by others");
}

static void test_allow_writable(void **state)
{
	struct fixture *f = *state;

	put(f, "peers.conf", "peers = ();\n", 0646);
	assert_int_equal(run(f, SERVER, ""), -EINVAL);
	expect_one(f, CHECK_ERROR, NULL, 5, "allow_list", "writable by others");
	/* group write: a warning, and no error */
	put(f, "peers.conf", "peers = ();\n", 0664);
	assert_int_equal(run(f, SERVER, ""), 0);
	expect_one(f, CHECK_WARNING, NULL, 5, "allow_list", "writable by its group");
	put(f, "peers.conf", "peers = ();\n", 0600);
	expect_none(f, run(f, SERVER, ""));
}

static void test_hook_writable(void **state)
{
	struct fixture *f = *state;
	char extra[256];

	snprintf(extra, sizeof(extra), "on_connect = \"%s\";\n",
	    put(f, "up.sh", "#!/bin/sh\n", 0757));
	assert_int_equal(run(f, SERVER, extra), -EINVAL);
	expect_one(f, CHECK_ERROR, NULL, 7, "on_connect", "writable by others");
	put(f, "up.sh", "#!/bin/sh\n", 0775);
	assert_int_equal(run(f, SERVER, extra), 0);
	expect_one(f, CHECK_WARNING, NULL, 7, "on_connect", "writable by its group");
	put(f, "up.sh", "#!/bin/sh\n", 0755);
	expect_none(f, run(f, SERVER, extra));
}

static void test_allow_dir_writable(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(chmod(f->dir, 0777), 0);
	assert_int_equal(run(f, SERVER, ""), -EINVAL);
	expect_one(f, CHECK_ERROR, NULL, 5, "allow_list", "its directory");
	assert_int_equal(chmod(f->dir, 01777), 0);	/* sticky, as /tmp */
	expect_none(f, run(f, SERVER, ""));
}

/* 10.8.0.0/29: 8 addresses less network, broadcast and the server's = 5. */
static void test_pool_too_small(void **state)
{
	struct fixture *f = *state;
	const char *s29 = "mode = \"server\";\n"
	    "key = \"server.key\";\n"
	    "cert = \"server.crt\";\n"
	    "network = \"10.8.0.0/29\";\n"
	    "allow_list = \"peers.conf\";\n";
	char peers[1024];

	put_peers(f, 5);
	expect_none(f, run(f, s29, ""));
	put_peers(f, 6);
	assert_int_equal(run(f, s29, ""), -EINVAL);
	expect_one(f, CHECK_ERROR, NULL, 4, "network", "leaves 5 pool addresses "
	    "(0 static) for 6 allow-list peers");
	/* a static address takes one from the pool; peers with one need none */
	snprintf(peers, sizeof(peers), "peers = (\n"
	    "{ name = \"s\"; fingerprint = \"%s\"; address = \"10.8.0.6\"; }",
	    FP("0"));
	for (int i = 1; i <= 5; i++)
		snprintf(peers + strlen(peers), sizeof(peers) - strlen(peers),
		    ",{ name = \"d%d\"; fingerprint = \"%s%d\"; }\n", i,
		    "sha256:2bd806c97f0e00af1a1fc3328fa763a9269723c8db8fac4f93af71db186d6e9", i);
	strcat(peers, ");\n");
	put(f, "peers.conf", peers, 0644);
	assert_int_equal(run(f, s29, ""), -EINVAL);
	expect_one(f, CHECK_ERROR, NULL, 4, "network", "leaves 4 pool addresses "
	    "(1 static) for 5 allow-list peers");
	put(f, "peers.conf", "peers = ( { name = \"s\"; fingerprint = \"" FP("0")
	    "\"; address = \"10.8.0.6\"; } );\n", 0644);
	expect_none(f, run(f, s29, ""));
}

static void test_network_overlaps_host(void **state)
{
	struct fixture *f = *state;

	host_addr(&f->host, "eth1", "10.8.0.5", 24);
	assert_int_equal(run(f, SERVER, ""), -EINVAL);
	expect_one(f, CHECK_ERROR, NULL, 4, "network",
	    "overlaps 10.8.0.5/24 on eth1");
	/* the same address on our own TUN device is ours */
	snprintf(f->host.addrs[f->host.naddrs - 1].ca_ifname, IFNAMSIZ, "vpn0");
	expect_none(f, run(f, SERVER, ""));
	/* a wider link prefix around the network: a warning */
	host_addr(&f->host, "eth1", "10.0.0.1", 8);
	assert_int_equal(run(f, SERVER, ""), 0);
	expect_one(f, CHECK_WARNING, NULL, 4, "network", "inside 10.0.0.1/8 on eth1");
}

static void test_nat_interface(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(run(f, SERVER, "nat = {\n out_interface = \"eth9\";\n};\n"), 0);
	expect_one(f, CHECK_WARNING, NULL, 8, "nat.out_interface", "no device \"eth9\"");
	expect_none(f, run(f, SERVER, "nat = { out_interface = \"eth0\"; };\n"));
}

static void test_listen_not_local(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(run(f, SERVER, "\nlisten = [ \"0.0.0.0:4433\", "
	    "\"198.18.9.9:4433\" ];\n"), 0);
	expect_one(f, CHECK_WARNING, NULL, 8, "listen",
	    "198.18.9.9:4433 is not an address of this host");
	assert_int_equal(f->host.nprobed, 1);	/* the wildcard is not asked */
	expect_none(f, run(f, SERVER, "listen = \"198.18.0.1:4433\";\n"));
}

static void test_user_nobody(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(run(f, SERVER, "user = \"nobody\";\n"), 0);
	expect_one(f, CHECK_WARNING, NULL, 7, "user", "\"nobody\" is shared");
	expect_none(f, run(f, SERVER, "user = \"root\";\n"));
}

/* A key set in an @included file is named at that file's line. */
static void test_line_in_include(void **state)
{
	struct fixture *f = *state;
	const char *head = "mode = \"server\";\n"
	    "cert = \"server.crt\";\n"
	    "network = \"10.8.0.0/24\";\n"
	    "allow_list = \"peers.conf\";\n"
	    "@include \"inc.conf\"\n";

	put(f, "inc.conf", "# the key\n\nkey = \"server.key\";\n", 0644);
	put(f, "server.key", "k\n", 0644);
	assert_int_equal(run(f, head, ""), -EINVAL);
	expect_one(f, CHECK_ERROR, "inc.conf", 3, "key", "readable by others");
}

/* Errors and warnings together: all counted, each kept. */
static void test_many(void **state)
{
	struct fixture *f = *state;

	put(f, "server.key", "k\n", 0644);
	put(f, "peers.conf", "peers = ();\n", 0666);
	assert_int_equal(run(f, SERVER, "nat = { out_interface = \"eth9\"; };\n"
	    "user = \"nobody\";\n"), -EINVAL);
	assert_int_equal(f->r.cr_errors, 2);
	assert_int_equal(f->r.cr_warnings, 2);
	assert_int_equal(f->r.cr_n, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_clean, setup_test),
		cmocka_unit_test_setup(test_key_readable, setup_test),
		cmocka_unit_test_setup(test_client_key_readable, setup_test),
		cmocka_unit_test_setup(test_allow_writable, setup_test),
		cmocka_unit_test_setup(test_allow_dir_writable, setup_test),
		cmocka_unit_test_setup(test_hook_writable, setup_test),
		cmocka_unit_test_setup(test_pool_too_small, setup_test),
		cmocka_unit_test_setup(test_network_overlaps_host, setup_test),
		cmocka_unit_test_setup(test_nat_interface, setup_test),
		cmocka_unit_test_setup(test_listen_not_local, setup_test),
		cmocka_unit_test_setup(test_user_nobody, setup_test),
		cmocka_unit_test_setup(test_line_in_include, setup_test),
		cmocka_unit_test_setup(test_many, setup_test),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
