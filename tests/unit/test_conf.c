/* test_conf.c - conf_load on whole files written to a mkdtemp directory:
 * valid server and client files with their defaults, then one test per kind
 * of error, each checking the return code, the exact line and the message;
 * last, the public parsing helpers on their own. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/conf.h"
#include "fixture.h"

#define HEX_A "2bd806c97f0e00af1a1fc3328fa763a9269723c8db8fac4f93af71db186d6e90"
#define FP_A  "sha256:" HEX_A

/* Lines 1-5 of a valid server file; tests append from line 6. */
#define MIN_SERVER \
	"mode = \"server\";\n" \
	"key = \"server.key\";\n" \
	"cert = \"server.crt\";\n" \
	"network = \"10.8.0.0/24\";\n" \
	"allow_list = \"peers.conf\";\n"

/* Lines 1-5 of a valid client file. */
#define MIN_CLIENT \
	"mode = \"client\";\n" \
	"server = \"vpn.example.org:4433\";\n" \
	"server_fingerprint = \"" FP_A "\";\n" \
	"key = \"client.key\";\n" \
	"cert = \"client.crt\";\n"

struct fixture {
	char dir[FX_DIR_MAX];	/* "/tmp/vpnd-test-conf.XXXXXX" */
};

/* Write TEXT to dir/NAME; returns its path (fx_path: four buffers in turn). */
static const char *put(struct fixture *f, const char *name, const char *text)
{
	const char *path = fx_path(f->dir, name);

	fx_write(path, text);
	return path;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	if (fx_tmpdir(f->dir, sizeof(f->dir), "conf") < 0)
		return -1;
	put(f, "server.key", "k\n");
	put(f, "server.crt", "c\n");
	put(f, "client.key", "k\n");
	put(f, "client.crt", "c\n");
	put(f, "peers.conf", "");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	fx_rmtree(f->dir);
	free(f);
	return 0;
}

/* Load TEXT as t.conf and expect rc, line and a message containing msg. */
static void expect_err(void **state, const char *text, int rc, int line,
    const char *msg)
{
	struct fixture *f = *state;
	struct conf c;
	struct conf_err err;
	const char *path = put(f, "t.conf", text);

	assert_int_equal(conf_load(&c, path, &err), rc);
	assert_string_equal(err.file, path);
	if (strstr(err.msg, msg) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", err.msg, msg);
	assert_int_equal(err.line, line);
}

static void assert_sockaddr(const struct sockaddr_storage *ss, int family,
    const char *addr, int port)
{
	char buf[INET6_ADDRSTRLEN];
	const void *a;
	int p;

	assert_int_equal(ss->ss_family, family);
	if (family == AF_INET) {
		a = &((const struct sockaddr_in *)ss)->sin_addr;
		p = ntohs(((const struct sockaddr_in *)ss)->sin_port);
	} else {
		a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
		p = ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	}
	assert_non_null(inet_ntop(family, a, buf, sizeof(buf)));
	assert_string_equal(buf, addr);
	assert_int_equal(p, port);
}

static void assert_cidr(const struct cidr *c, const char *addr, int plen)
{
	char buf[INET_ADDRSTRLEN];

	assert_non_null(inet_ntop(AF_INET, &c->addr, buf, sizeof(buf)));
	assert_string_equal(buf, addr);
	assert_int_equal(c->plen, plen);
}

static void test_server_full(void **state)
{
	struct fixture *f = *state;
	struct conf c;
	struct conf_err err;
	char want[PATH_MAX];
	const char *path = put(f, "t.conf",
	    "mode = \"server\";\n"
	    "listen = [ \"0.0.0.0:4433\", \"[::]:4434\" ];\n"
	    "key = \"server.key\";\n"
	    "cert = \"" "server.crt" "\";\n"
	    "tun = { name = \"vpn7\"; mtu = 1380; };\n"
	    "network = \"10.8.0.0/24\";\n"
	    "routes = [ \"0.0.0.0/0\", \"192.168.10.0/24\" ];\n"
	    "nat = { out_interface = \"eth1\"; };\n"
	    "allow_list = \"peers.conf\";\n"
	    "control_socket = \"server.sock\";\n"
	    "keepalive = 15;\n"
	    "dead_peer_timeout = 45;\n"
	    "client_to_client = true;\n"
	    "state_dir = \"/var/lib/vpnd\";\n");

	assert_int_equal(conf_load(&c, path, &err), 0);
	assert_int_equal(c.c_mode, CONF_SERVER);
	assert_string_equal(c.c_path, path);
	snprintf(want, sizeof(want), "%s/server.key", f->dir);
	assert_string_equal(c.c_key, want);
	snprintf(want, sizeof(want), "%s/server.crt", f->dir);
	assert_string_equal(c.c_cert, want);
	snprintf(want, sizeof(want), "%s/peers.conf", f->dir);
	assert_string_equal(c.c_allow_list, want);
	snprintf(want, sizeof(want), "%s/server.sock", f->dir);
	assert_string_equal(c.c_control_socket, want);
	assert_int_equal(c.c_nlisten, 2);
	assert_sockaddr(&c.c_listen[0], AF_INET, "0.0.0.0", 4433);
	assert_sockaddr(&c.c_listen[1], AF_INET6, "::", 4434);
	assert_string_equal(c.c_tun_name, "vpn7");
	assert_int_equal(c.c_tun_mtu, 1380);
	assert_cidr(&c.c_network, "10.8.0.0", 24);
	assert_int_equal(c.c_nroutes, 2);
	assert_cidr(&c.c_routes[0], "0.0.0.0", 0);
	assert_cidr(&c.c_routes[1], "192.168.10.0", 24);
	assert_string_equal(c.c_nat_out, "eth1");
	assert_int_equal(c.c_keepalive, 15);
	assert_int_equal(c.c_dead_peer_timeout, 45);
	assert_true(c.c_client_to_client);
	assert_string_equal(c.c_state_dir, "/var/lib/vpnd");
	assert_int_equal(c.c_nservers, 0);
}

static void test_server_defaults(void **state)
{
	struct fixture *f = *state;
	struct conf c;
	struct conf_err err;

	assert_int_equal(conf_load(&c, put(f, "t.conf", MIN_SERVER), &err), 0);
	assert_int_equal(c.c_nlisten, 1);
	assert_sockaddr(&c.c_listen[0], AF_INET, "0.0.0.0", 4433);
	assert_string_equal(c.c_tun_name, "vpn0");
	assert_int_equal(c.c_tun_mtu, 1400);
	assert_string_equal(c.c_control_socket, CONF_DEFAULT_SERVER_SOCKET);
	assert_int_equal(c.c_keepalive, 10);
	assert_int_equal(c.c_dead_peer_timeout, 30);
	assert_false(c.c_client_to_client);
	assert_int_equal(c.c_nroutes, 0);
	assert_string_equal(c.c_nat_out, "");
	assert_string_equal(c.c_state_dir, "");
	assert_string_equal(c.c_control_group, "");
	assert_int_equal(c.c_control_gid, (gid_t)-1);	/* not root's group 0 */
}

/* control_group: a group name, resolved now, on a server or a client; an
 * unknown group is an error that names the line and the key. */
static void test_control_group(void **state)
{
	struct fixture *f = *state;
	struct conf c;
	struct conf_err err;
	char buf[PATH_MAX + 200];
	const struct group *gr = getgrgid(0);

	assert_non_null(gr);
	snprintf(buf, sizeof(buf), MIN_SERVER "control_group = \"%s\";\n", gr->gr_name);
	assert_int_equal(conf_load(&c, put(f, "t.conf", buf), &err), 0);
	assert_string_equal(c.c_control_group, gr->gr_name);
	assert_int_equal(c.c_control_gid, 0);
	snprintf(buf, sizeof(buf), MIN_CLIENT "control_group = \"%s\";\n", gr->gr_name);
	assert_int_equal(conf_load(&c, put(f, "t.conf", buf), &err), 0);
	assert_int_equal(c.c_control_gid, 0);

	expect_err(state, MIN_SERVER "control_group = \"no-such-group-here\";\n",
	    -EINVAL, 6, "control_group: no such group \"no-such-group-here\"");
	expect_err(state, MIN_SERVER "\ncontrol_group = 0;\n", -EINVAL, 7,
	    "control_group: expected a string");
	expect_err(state, MIN_SERVER "control_group = \"\";\n", -EINVAL, 6,
	    "control_group: no such group");
}

/* Hooks: absolute paths to executable regular files, on both modes. */
static void test_hooks(void **state)
{
	struct fixture *f = *state;
	struct conf c;
	struct conf_err err;
	char buf[PATH_MAX * 2 + 200];
	const char *up = put(f, "up.sh", "#!/bin/sh\n");
	char upc[PATH_MAX];

	snprintf(upc, sizeof(upc), "%s", up);
	assert_int_equal(chmod(upc, 0755), 0);
	snprintf(buf, sizeof(buf), MIN_SERVER "on_connect = \"%s\";\non_disconnect = \"%s\";\n",
	    upc, upc);
	assert_int_equal(conf_load(&c, put(f, "t.conf", buf), &err), 0);
	assert_string_equal(c.c_on_connect, upc);
	assert_string_equal(c.c_on_disconnect, upc);
	snprintf(buf, sizeof(buf), MIN_CLIENT "on_connect = \"%s\";\n", upc);
	assert_int_equal(conf_load(&c, put(f, "t.conf", buf), &err), 0);
	assert_string_equal(c.c_on_connect, upc);

	expect_err(state, MIN_SERVER "on_connect = \"up.sh\";\n", -EINVAL, 6,
	    "on_connect: \"up.sh\" is not an absolute path");
	expect_err(state, MIN_SERVER "on_disconnect = \"/nonexistent/down.sh\";\n",
	    -ENOENT, 6, "on_disconnect: /nonexistent/down.sh: No such file");
	expect_err(state, MIN_SERVER "on_connect = \"/\";\n", -EACCES, 6,
	    "on_connect: / is not an executable file");
	assert_int_equal(chmod(upc, 0644), 0);
	snprintf(buf, sizeof(buf), MIN_SERVER "\non_connect = \"%s\";\n", upc);
	expect_err(state, buf, -EACCES, 7, "is not an executable file");
	expect_err(state, MIN_SERVER "on_connect = 1;\n", -EINVAL, 6,
	    "on_connect: expected a string");
}

/* The example from SPEC, with the config path relative to the cwd. */
static void test_spec_example(void **state)
{
	struct fixture *f = *state;
	char cwd[PATH_MAX], buf[PATH_MAX + 200], want[PATH_MAX];
	struct conf c;
	struct conf_err err;

	put(f, "server.conf", "mode = \"server\";\n"
	    "listen = \"0.0.0.0:4433\";\n"
	    "key = \"server.key\";\n"
	    "cert = \"server.crt\";\n"
	    "tun = { name = \"vpn0\"; mtu = 1400; };\n"
	    "\n"
	    "network = \"10.8.0.0/33\";\n"
	    "allow_list = \"peers.conf\";\n");
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(f->dir), 0);
	assert_int_equal(conf_load(&c, "server.conf", &err), -EINVAL);
	assert_string_equal(conf_err_str(&err, buf, sizeof(buf)),
	    "server.conf:7: network: \"10.8.0.0/33\" is not a CIDR prefix");
	put(f, "server.conf", MIN_SERVER);
	assert_int_equal(conf_load(&c, "server.conf", &err), 0);
	assert_int_equal(chdir(cwd), 0);
	snprintf(want, sizeof(want), "%s/server.key", f->dir);
	assert_string_equal(c.c_key, want);	/* absolute, not cwd-relative */
}

static void test_client(void **state)
{
	struct fixture *f = *state;
	struct conf c;
	struct conf_err err;
	char want[PATH_MAX];
	const char *path = put(f, "t.conf",
	    "mode = \"client\";\n"
	    "servers = [ \"a.example.org:4433\", \"[2001:db8::1]:443\" ];\n"
	    "server_fingerprint = \"SHA256:2BD806C97F0E00AF1A1FC3328FA763A9"
	    "269723C8DB8FAC4F93AF71DB186D6E90\";\n"
	    "key = \"client.key\";\n"
	    "cert = \"client.crt\";\n"
	    "tun = { name = \"tun9\"; };\n"
	    "transport = \"dtls\";\n"
	    "block_ipv6 = false;\n");

	assert_int_equal(conf_load(&c, path, &err), 0);
	assert_int_equal(c.c_mode, CONF_CLIENT);
	assert_int_equal(c.c_nservers, 2);
	assert_string_equal(c.c_servers[0].host, "a.example.org");
	assert_string_equal(c.c_servers[0].port, "4433");
	assert_string_equal(c.c_servers[1].host, "2001:db8::1");
	assert_string_equal(c.c_servers[1].port, "443");
	assert_string_equal(c.c_server_fp, FP_A);
	snprintf(want, sizeof(want), "%s/client.key", f->dir);
	assert_string_equal(c.c_key, want);
	assert_string_equal(c.c_tun_name, "tun9");
	assert_int_equal(c.c_tun_mtu, 0);
	assert_int_equal(c.c_transport, CONF_TRANSPORT_DTLS);
	assert_false(c.c_block_ipv6);
	assert_string_equal(c.c_control_socket, CONF_DEFAULT_CLIENT_SOCKET);
	assert_int_equal(c.c_keepalive, 10);
	assert_int_equal(c.c_dead_peer_timeout, 30);
	assert_int_equal(c.c_nlisten, 0);
}

static void test_client_defaults(void **state)
{
	struct fixture *f = *state;
	struct conf c;
	struct conf_err err;

	assert_int_equal(conf_load(&c, put(f, "t.conf", MIN_CLIENT), &err), 0);
	assert_int_equal(c.c_nservers, 1);
	assert_string_equal(c.c_servers[0].host, "vpn.example.org");
	assert_string_equal(c.c_servers[0].port, "4433");
	assert_int_equal(c.c_transport, CONF_TRANSPORT_AUTO);
	assert_true(c.c_block_ipv6);
	assert_string_equal(c.c_tun_name, "vpn0");
	assert_int_equal(c.c_tun_mtu, 0);
}

static void test_syntax_error(void **state)
{
	expect_err(state, MIN_SERVER "keepalive = ;\n", -EINVAL, 6,
	    "syntax error");
	expect_err(state, MIN_SERVER "keepalive = 5;\nkeepalive = 6;\n",
	    -EINVAL, 7, "duplicate setting");
}

static void test_unknown_key(void **state)
{
	expect_err(state, MIN_SERVER "\nfoo = 1;\n", -EINVAL, 7,
	    "foo: unknown key");
	expect_err(state, MIN_SERVER "tun = {\n  name = \"vpn0\";\n"
	    "  colour = \"red\";\n};\n", -EINVAL, 8, "tun.colour: unknown key");
	expect_err(state, MIN_SERVER "nat = {\n  out_if = \"eth0\";\n};\n",
	    -EINVAL, 7, "nat.out_if: unknown key");
}

static void test_wrong_type(void **state)
{
	expect_err(state, MIN_SERVER "keepalive = \"10\";\n", -EINVAL, 6,
	    "keepalive: expected an integer");
	expect_err(state, MIN_SERVER "tun = 5;\n", -EINVAL, 6,
	    "tun: expected a group");
	expect_err(state, MIN_SERVER "client_to_client = 1;\n", -EINVAL, 6,
	    "client_to_client: expected true or false");
	expect_err(state, MIN_SERVER "routes = \"0.0.0.0/0\";\n", -EINVAL, 6,
	    "routes: expected a list");
	expect_err(state, MIN_SERVER "listen = [ 4433 ];\n", -EINVAL, 6,
	    "listen: expected a string or a list of strings");
	expect_err(state, "mode = 1;\n", -EINVAL, 1, "mode: expected a string");
}

static void test_bad_cidr(void **state)
{
	expect_err(state, "mode = \"server\";\nkey = \"server.key\";\n"
	    "network = \"10.8.0.0/33\";\n", -EINVAL, 3,
	    "network: \"10.8.0.0/33\" is not a CIDR prefix");
	expect_err(state, "mode = \"server\";\nnetwork = \"10.8.0.1/24\";\n",
	    -EINVAL, 2, "network: \"10.8.0.1/24\" has host bits set");
	expect_err(state, "mode = \"server\";\nnetwork = \"10.0.0.0/8\";\n",
	    -EINVAL, 2, "network: prefix length /8 is out of range 16..30");
	expect_err(state, "mode = \"server\";\nnetwork = \"10.8.0.0\";\n",
	    -EINVAL, 2, "is not a CIDR prefix");
	expect_err(state, MIN_SERVER "routes = [ \"0.0.0.0/0\",\n"
	    "  \"192.168.1.1/24\" ];\n", -EINVAL, 6,
	    "routes: \"192.168.1.1/24\" has host bits set");
}

static void test_bad_listen(void **state)
{
	expect_err(state, MIN_SERVER "listen = [ \"0.0.0.0:4433\",\n"
	    "  \"1.2.3.4\" ];\n", -EINVAL, 6,
	    "listen: \"1.2.3.4\" is not a numeric address:port");
	expect_err(state, MIN_SERVER "listen = \"localhost:4433\";\n", -EINVAL,
	    6, "listen: \"localhost:4433\" is not a numeric address:port");
	expect_err(state, MIN_SERVER "listen = \"0.0.0.0:65536\";\n", -EINVAL,
	    6, "is not a numeric address:port");
	expect_err(state, MIN_SERVER "listen = [ \"1.1.1.1:1\", \"1.1.1.1:2\", "
	    "\"1.1.1.1:3\", \"1.1.1.1:4\", \"1.1.1.1:5\", \"1.1.1.1:6\", "
	    "\"1.1.1.1:7\", \"1.1.1.1:8\", \"1.1.1.1:9\" ];\n", -EINVAL, 6,
	    "listen: more than 8");
}

/* metrics_listen: numeric like listen, on either mode; unset by default. */
static void test_metrics_listen(void **state)
{
	struct fixture *f = *state;
	struct conf c;
	struct conf_err err;

	assert_int_equal(conf_load(&c, put(f, "t.conf", MIN_SERVER), &err), 0);
	assert_false(c.c_has_metrics);
	assert_int_equal(conf_load(&c, put(f, "t.conf", MIN_SERVER
	    "metrics_listen = \"127.0.0.1:9586\";\n"), &err), 0);
	assert_true(c.c_has_metrics);
	assert_sockaddr(&c.c_metrics_listen, AF_INET, "127.0.0.1", 9586);
	assert_int_equal(conf_load(&c, put(f, "t.conf", MIN_CLIENT
	    "metrics_listen = \"[::1]:9587\";\n"), &err), 0);
	assert_true(c.c_has_metrics);
	assert_sockaddr(&c.c_metrics_listen, AF_INET6, "::1", 9587);
	expect_err(state, MIN_SERVER "metrics_listen = \"localhost:9586\";\n", -EINVAL,
	    6, "metrics_listen: \"localhost:9586\" is not a numeric address:port");
	expect_err(state, MIN_SERVER "metrics_listen = \"127.0.0.1\";\n", -EINVAL,
	    6, "metrics_listen: \"127.0.0.1\" is not a numeric address:port");
	expect_err(state, MIN_SERVER "metrics_listen = 9586;\n", -EINVAL,
	    6, "metrics_listen: expected a string");
}

static void test_missing_required(void **state)
{
	expect_err(state, "mode = \"server\";\nkey = \"server.key\";\n"
	    "cert = \"server.crt\";\nallow_list = \"peers.conf\";\n", -EINVAL,
	    0, "network: missing (required in server mode)");
	expect_err(state, "key = \"server.key\";\n", -EINVAL, 0,
	    "mode: missing");
	expect_err(state, "mode = \"client\";\nkey = \"client.key\";\n",
	    -EINVAL, 0, "server: missing");
	expect_err(state, "mode = \"client\";\nserver = \"a:1\";\n"
	    "key = \"client.key\";\ncert = \"client.crt\";\n", -EINVAL, 0,
	    "server_fingerprint: missing (required in client mode)");
	expect_err(state, "mode = \"server\";\nnat = { };\n", -EINVAL, 2,
	    "nat.out_interface: missing");
}

static void test_file_missing(void **state)
{
	struct fixture *f = *state;
	char want[PATH_MAX + 80];

	snprintf(want, sizeof(want), "key: cannot read %s/nope.key: No such "
	    "file or directory", f->dir);
	expect_err(state, "mode = \"server\";\nkey = \"nope.key\";\n", -ENOENT,
	    2, want);
	expect_err(state, "mode = \"server\";\nkey = \"server.key\";\n"
	    "cert = \"/nonexistent/x.crt\";\n", -ENOENT, 3, "cert: cannot read /nonexistent/x.crt: No such file");
	expect_err(state, "mode = \"server\";\nallow_list = \"none.conf\";\n",
	    -ENOENT, 2, "allow_list: cannot read");
	snprintf(want, sizeof(want), "key: %s/. is not a regular file", f->dir);
	expect_err(state, "mode = \"server\";\nkey = \".\";\n", -EINVAL, 2,
	    want);
}

static void test_config_missing(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX + 16], buf[PATH_MAX + 200], want[PATH_MAX + 64];
	struct conf c;
	struct conf_err err;

	snprintf(path, sizeof(path), "%s/absent.conf", f->dir);
	assert_int_equal(conf_load(&c, path, &err), -ENOENT);
	assert_int_equal(err.line, 0);
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	assert_string_equal(conf_err_str(&err, buf, sizeof(buf)), want);
}

static void test_path_too_long(void **state)
{
	char text[PATH_MAX + 64];

	snprintf(text, sizeof(text), "mode = \"server\";\nkey = \"%0*d\";\n",
	    PATH_MAX - 4, 0);
	expect_err(state, text, -ENAMETOOLONG, 2, "key: path too long");
}

static void test_out_of_range(void **state)
{
	expect_err(state, MIN_SERVER "keepalive = 0;\n", -EINVAL, 6,
	    "keepalive: 0 is out of range 1..3600");
	expect_err(state, MIN_SERVER "dead_peer_timeout = 86401;\n", -EINVAL,
	    6, "dead_peer_timeout: 86401 is out of range 1..86400");
	expect_err(state, MIN_SERVER "tun = { mtu = 575; };\n", -EINVAL, 6,
	    "tun.mtu: 575 is out of range 576..9000");
	expect_err(state, MIN_SERVER "tun = { mtu = 0; };\n", -EINVAL, 6,
	    "tun.mtu: 0 is out of range 576..9000");
	expect_err(state, MIN_SERVER "tun = { name = \"abcdefghijklmnop\"; };\n",
	    -EINVAL, 6, "tun.name: \"abcdefghijklmnop\" is longer than 15");
	expect_err(state, MIN_SERVER "tun = { name = \"a/b\"; };\n", -EINVAL,
	    6, "tun.name: \"a/b\" is not a valid interface name");
}

static void test_keepalive_vs_dead_peer(void **state)
{
	expect_err(state, MIN_SERVER "keepalive = 30;\n"
	    "dead_peer_timeout = 30;\n", -EINVAL, 7,
	    "dead_peer_timeout: 30 must be greater than keepalive (30)");
	expect_err(state, MIN_SERVER "dead_peer_timeout = 5;\n", -EINVAL, 6,
	    "dead_peer_timeout: 5 must be greater than keepalive (10)");
	expect_err(state, MIN_CLIENT "keepalive = 40;\n", -EINVAL, 6,
	    "keepalive: 40 must be less than dead_peer_timeout (30)");
}

static void test_wrong_mode(void **state)
{
	expect_err(state, MIN_CLIENT "network = \"10.8.0.0/24\";\n", -EINVAL,
	    6, "network: not allowed in client mode");
	expect_err(state, MIN_SERVER "server_fingerprint = \"" FP_A "\";\n",
	    -EINVAL, 6, "server_fingerprint: not allowed in server mode");
	expect_err(state, MIN_SERVER "block_ipv6 = true;\n", -EINVAL, 6,
	    "block_ipv6: not allowed in server mode");
	expect_err(state, "mode = \"peer\";\n", -EINVAL, 1,
	    "mode: \"peer\" is not \"server\" or \"client\"");
}

static void test_server_and_servers(void **state)
{
	expect_err(state, MIN_CLIENT "servers = [ \"b:1\" ];\n", -EINVAL, 6,
	    "servers: cannot be used together with server");
	expect_err(state, "mode = \"client\";\nservers = [ \"b:1\" ];\n"
	    "server = \"a:1\";\n", -EINVAL, 3,
	    "server: cannot be used together with servers");
}

static void test_client_values(void **state)
{
	expect_err(state, "mode = \"client\";\nserver_fingerprint = \"sha256:"
	    "abc\";\n", -EINVAL, 2, "server_fingerprint: \"sha256:abc\" is not");
	expect_err(state, MIN_CLIENT "transport = \"quic\";\n", -EINVAL, 6,
	    "transport: \"quic\" is not auto, tls or dtls");
	expect_err(state, MIN_CLIENT "block_ipv6 = \"yes\";\n", -EINVAL, 6,
	    "block_ipv6: expected true or false");
	expect_err(state, "mode = \"client\";\nserver = \"example.org\";\n",
	    -EINVAL, 2, "server: \"example.org\" is not host:port");
	expect_err(state, "mode = \"client\";\nservers = [ ];\n", -EINVAL, 2,
	    "servers: empty list");
}

static void test_parse_cidr(void **state)
{
	static const char *const bad[] = { "10.8.0.0", "10.8.0.0/", "10.8.0.0/33",
	    "10.8.0.1/24", "10.8.0.0/-1", "10.8.0.0/+8", "10.8.0.0/ 8",
	    "10.8.0/24", "x/8", "/8", "10.8.0.0/24x", "", NULL };
	struct cidr c;

	(void)state;
	assert_int_equal(conf_parse_cidr("10.8.0.0/24", &c), 0);
	assert_cidr(&c, "10.8.0.0", 24);
	assert_int_equal(conf_parse_cidr("0.0.0.0/0", &c), 0);
	assert_int_equal(conf_parse_cidr("10.8.0.7/32", &c), 0);
	for (const char *const *s = bad; *s != NULL; s++)
		if (conf_parse_cidr(*s, &c) != -EINVAL)
			fail_msg("\"%s\" accepted", *s);
}

static void test_parse_addresses(void **state)
{
	static const char *const bad[] = { "1.2.3.4", "1.2.3.4:", "1.2.3.4:0",
	    "1.2.3.4:x", "[::1]", "[::1:4433", "::1:4433", "host:4433",
	    "1.2.3.4:-1", "[]:1", "", NULL };
	struct sockaddr_storage ss;
	struct conf_server_addr a;

	(void)state;
	assert_int_equal(conf_parse_sockaddr("192.0.2.1:4433", &ss), 0);
	assert_sockaddr(&ss, AF_INET, "192.0.2.1", 4433);
	assert_int_equal(conf_parse_sockaddr("[2001:db8::5]:65535", &ss), 0);
	assert_sockaddr(&ss, AF_INET6, "2001:db8::5", 65535);
	for (const char *const *s = bad; *s != NULL; s++)
		if (conf_parse_sockaddr(*s, &ss) != -EINVAL)
			fail_msg("\"%s\" accepted", *s);
	assert_int_equal(conf_parse_hostport("vpn.example.org:4433", &a), 0);
	assert_string_equal(a.host, "vpn.example.org");
	assert_string_equal(a.port, "4433");
	assert_int_equal(conf_parse_hostport("[::1]:1", &a), 0);
	assert_string_equal(a.host, "::1");
	assert_int_equal(conf_parse_hostport("a b:1", &a), -EINVAL);
	assert_int_equal(conf_parse_hostport("a:99999", &a), -EINVAL);
	assert_int_equal(conf_parse_hostport(":1", &a), -EINVAL);
}

static void test_cidr_contains(void **state)
{
	struct cidr c;
	struct in_addr a;

	(void)state;
	assert_int_equal(conf_parse_cidr("10.8.0.0/24", &c), 0);
	inet_pton(AF_INET, "10.8.0.255", &a);
	assert_true(cidr_contains(&c, a));
	inet_pton(AF_INET, "10.8.1.0", &a);
	assert_false(cidr_contains(&c, a));
	assert_int_equal(conf_parse_cidr("0.0.0.0/0", &c), 0);
	assert_true(cidr_contains(&c, a));
}

static void test_err_str(void **state)
{
	struct conf_err err = { .file = "a.conf", .line = 3, .msg = "x: y" };
	char buf[64];

	(void)state;
	assert_string_equal(conf_err_str(&err, buf, sizeof(buf)), "a.conf:3: x: y");
	err.line = 0;
	assert_string_equal(conf_err_str(&err, buf, sizeof(buf)), "a.conf: x: y");
	err.file[0] = '\0';
	assert_string_equal(conf_err_str(&err, buf, sizeof(buf)), "x: y");
	assert_string_equal(conf_err_str(&err, buf, 3), "x:");
}

static void test_dns(void **state)
{
	struct fixture *f = *state;
	struct conf c;
	struct conf_err err;
	char a[INET6_ADDRSTRLEN];
	const char *path = put(f, "t.conf", MIN_SERVER
	    "dns = [ \"10.8.0.1\", \"fd00:8::1\" ];\n"
	    "dns_search = [ \"corp.example\", \"~lab.example.\" ];\n");

	assert_int_equal(conf_load(&c, path, &err), 0);
	assert_int_equal(c.c_ndns, 2);
	assert_int_equal(c.c_dns[0].cd_family, AF_INET);
	assert_string_equal(inet_ntop(AF_INET, c.c_dns[0].cd_addr, a, sizeof(a)), "10.8.0.1");
	assert_int_equal(c.c_dns[1].cd_family, AF_INET6);
	assert_string_equal(inet_ntop(AF_INET6, c.c_dns[1].cd_addr, a, sizeof(a)), "fd00:8::1");
	assert_int_equal(c.c_ndns_search, 2);
	assert_string_equal(c.c_dns_search[0], "corp.example");
	assert_string_equal(c.c_dns_search[1], "~lab.example.");
	/* one string is a list of one, as for listen */
	path = put(f, "t.conf", MIN_SERVER "dns = \"10.8.0.53\";\n");
	assert_int_equal(conf_load(&c, path, &err), 0);
	assert_int_equal(c.c_ndns, 1);
	assert_int_equal(c.c_ndns_search, 0);
}

static void test_dns_errors(void **state)
{
	char big[400], label[80];

	expect_err(state, MIN_SERVER "dns = [ \"10.8.0.1\",\n \"dns.example\" ];\n",
	    -EINVAL, 6, "dns: \"dns.example\" is not an IPv4 or IPv6 address");
	expect_err(state, MIN_SERVER "dns = [ \"1.1.1.1\", \"1.1.1.2\", \"1.1.1.3\", "
	    "\"1.1.1.4\", \"1.1.1.5\", \"1.1.1.6\", \"1.1.1.7\", \"1.1.1.8\", "
	    "\"1.1.1.9\" ];\n", -EINVAL, 6, "dns: more than 8 entries");
	expect_err(state, MIN_SERVER "dns = [ 1 ];\n", -EINVAL, 6,
	    "dns: expected a string or a list of strings");
	expect_err(state, MIN_SERVER "dns_search = [ \"corp example\" ];\n",
	    -EINVAL, 6, "dns_search: \"corp example\" is not a domain name");
	expect_err(state, MIN_SERVER "\ndns_search = \"a..b\";\n",
	    -EINVAL, 7, "dns_search: \"a..b\" is not a domain name");
	expect_err(state, MIN_SERVER "dns_search = [ \"x\", \"x\", \"x\", \"x\", "
	    "\"x\", \"x\", \"x\", \"x\", \"x\" ];\n", -EINVAL, 6,
	    "dns_search: more than 8 entries");
	memset(label, 'a', 64);
	snprintf(label + 64, sizeof(label) - 64, ".example");
	snprintf(big, sizeof(big), MIN_SERVER "dns_search = \"%s\";\n", label);
	expect_err(state, big, -EINVAL, 6, "is not a domain name");
	expect_err(state, MIN_CLIENT "dns = [ \"10.8.0.1\" ];\n", -EINVAL, 6,
	    "dns: not allowed in client mode");
}

/* Four domains of 250 characters and one more do not fit the CONFIG
 * message: 28 fixed bytes, the GSO flag (2), 4 * 252 + 3 = 1041. */
static void test_dns_search_budget(void **state)
{
	static char text[4096];
	char name[251];
	size_t off;
	int i;

	for (i = 0; i < 250; i++)
		name[i] = i % 50 == 49 ? '.' : 'a';
	name[250] = '\0';
	off = (size_t)snprintf(text, sizeof(text), MIN_SERVER "dns_search = [\n");
	for (i = 0; i < 4; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off,
		    "\"%s\",\n", name);
	snprintf(text + off, sizeof(text) - off, "\"x\" ];\n");
	expect_err(state, text, -EINVAL, 6, "dns_search: routes, dns and "
	    "dns_search take 1041 bytes, more than the 1024 a client is sent");
}

static void test_check_domain(void **state)
{
	char n[300];

	(void)state;
	assert_int_equal(conf_check_domain("corp.example"), 0);
	assert_int_equal(conf_check_domain("~corp.example"), 0);
	assert_int_equal(conf_check_domain("corp.example."), 0);
	assert_int_equal(conf_check_domain("xn--bcher-kva.example"), 0);
	assert_int_equal(conf_check_domain("localdomain"), 0);
	assert_int_equal(conf_check_domain(""), -EINVAL);
	assert_int_equal(conf_check_domain("."), -EINVAL);
	assert_int_equal(conf_check_domain("~"), -EINVAL);
	assert_int_equal(conf_check_domain("~."), -EINVAL);
	assert_int_equal(conf_check_domain(".corp"), -EINVAL);
	assert_int_equal(conf_check_domain("a..b"), -EINVAL);
	assert_int_equal(conf_check_domain("a_b.example"), -EINVAL);
	assert_int_equal(conf_check_domain("a\nnameserver 1.2.3.4"), -EINVAL);
	assert_int_equal(conf_check_domain("~~a"), -EINVAL);
	/* 253 characters is the most; labels up to 63 */
	memset(n, 'a', sizeof(n));
	for (int i = 63; i < 253; i += 64)
		n[i] = '.';
	n[253] = '\0';
	assert_int_equal(conf_check_domain(n), 0);
	n[253] = 'a';
	n[254] = '\0';
	assert_int_equal(conf_check_domain(n), -EINVAL);
	memset(n, 'a', 64);
	n[64] = '\0';
	assert_int_equal(conf_check_domain(n), -EINVAL);
	n[63] = '\0';
	assert_int_equal(conf_check_domain(n), 0);
}

/* ---- IPv6 inside the tunnel ---- */

static void assert_cidr6(const struct cidr6 *c, const char *addr, int plen)
{
	char buf[INET6_ADDRSTRLEN];

	assert_non_null(inet_ntop(AF_INET6, &c->addr, buf, sizeof(buf)));
	assert_string_equal(buf, addr);
	assert_int_equal(c->plen, plen);
}

/* network6, IPv6 prefixes among routes (kept apart, in order), nat.ipv6. */
static void test_network6(void **state)
{
	struct fixture *f = *state;
	struct conf c;
	struct conf_err err;
	struct in6_addr h;
	char a[INET6_ADDRSTRLEN];
	const char *path = put(f, "t.conf", MIN_SERVER
	    "network6 = \"fd00:8::/64\";\n"
	    "routes = [ \"0.0.0.0/0\", \"::/0\", \"10.9.0.0/16\", \"2001:db8::/32\" ];\n"
	    "nat = { out_interface = \"eth0\"; ipv6 = true; };\n");

	assert_int_equal(conf_load(&c, path, &err), 0);
	assert_true(c.c_has_network6);
	assert_cidr6(&c.c_network6, "fd00:8::", 64);
	assert_int_equal(c.c_nroutes, 2);
	assert_cidr(&c.c_routes[1], "10.9.0.0", 16);
	assert_int_equal(c.c_nroutes6, 2);
	assert_cidr6(&c.c_routes6[0], "::", 0);
	assert_cidr6(&c.c_routes6[1], "2001:db8::", 32);
	assert_true(c.c_nat_ipv6);
	assert_int_equal(cidr6_host(&c.c_network6, 1, &h), 0);
	assert_string_equal(inet_ntop(AF_INET6, &h, a, sizeof(a)), "fd00:8::1");
	assert_true(cidr6_contains(&c.c_network6, &h));
	assert_int_equal(inet_pton(AF_INET6, "fd00:9::1", &h), 1);
	assert_false(cidr6_contains(&c.c_network6, &h));
	/* without them: no IPv6, and nat.ipv6 defaults to false */
	path = put(f, "t.conf", MIN_SERVER "nat = { out_interface = \"eth0\"; };\n");
	assert_int_equal(conf_load(&c, path, &err), 0);
	assert_false(c.c_has_network6);
	assert_false(c.c_nat_ipv6);
	assert_int_equal(c.c_nroutes6, 0);
}

static void test_network6_errors(void **state)
{
	expect_err(state, MIN_SERVER "network6 = \"fd00:8::1/64\";\n", -EINVAL, 6,
	    "network6: \"fd00:8::1/64\" has host bits set (fd00:8::/64?)");
	expect_err(state, MIN_SERVER "network6 = \"fd00:8::/129\";\n", -EINVAL, 6,
	    "network6: \"fd00:8::/129\" is not a CIDR prefix");
	expect_err(state, MIN_SERVER "network6 = \"fd00:8::/48\";\n", -EINVAL, 6,
	    "network6: prefix length /48 is out of range 64..120");
	expect_err(state, MIN_SERVER "network6 = \"fd00:8::/124\";\n", -EINVAL, 6,
	    "network6: prefix length /124 is out of range 64..120");
	expect_err(state, MIN_SERVER "network6 = \"10.8.0.0/24\";\n", -EINVAL, 6,
	    "network6: \"10.8.0.0/24\" is not a CIDR prefix");
	expect_err(state, MIN_SERVER "network6 = \"fd00:8::/64\";\n"
	    "routes = [ \"2001:db8::1/32\" ];\n", -EINVAL, 7,
	    "routes: \"2001:db8::1/32\" has host bits set");
	expect_err(state, MIN_SERVER "routes = [ \"0.0.0.0/0\", \"::/0\" ];\n", -EINVAL, 6,
	    "routes: \"::/0\" is an IPv6 prefix, but network6 is not set");
	expect_err(state, MIN_SERVER "nat = { out_interface = \"eth0\"; ipv6 = true; };\n",
	    -EINVAL, 6, "nat.ipv6: needs network6");
	expect_err(state, MIN_SERVER "network6 = \"fd00:8::/64\";\n"
	    "nat = { out_interface = \"eth0\"; ipv6 = 1; };\n", -EINVAL, 7, "nat.ipv6");
	expect_err(state, MIN_SERVER "network6 = \"fd00:8::/64\";\n"
	    "tun = { name = \"vpn0\"; mtu = 1200; };\n", -EINVAL, 7,
	    "tun.mtu: 1200 is below 1280, the least IPv6 inside the tunnel");
	expect_err(state, MIN_CLIENT "network6 = \"fd00:8::/64\";\n", -EINVAL, 6,
	    "network6: not allowed in client mode");
}

/* 64 IPv6 routes do not fit the CONFIG message: 19 bytes each. */
static void test_network6_push_budget(void **state)
{
	static char text[8192];
	size_t off;
	int i;

	off = (size_t)snprintf(text, sizeof(text), MIN_SERVER
	    "network6 = \"fd00:8::/64\";\nroutes = [\n");
	for (i = 0; i < 64; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off,
		    "%s\"2001:db8:%x::/48\"", i ? ", " : "", i);
	snprintf(text + off, sizeof(text) - off, " ];\n");
	expect_err(state, text, -EINVAL, 7, "routes: routes and dns take 1283 bytes, "
	    "more than the 1024");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hooks),
		cmocka_unit_test(test_server_full),
		cmocka_unit_test(test_server_defaults),
		cmocka_unit_test(test_control_group),
		cmocka_unit_test(test_spec_example),
		cmocka_unit_test(test_client),
		cmocka_unit_test(test_client_defaults),
		cmocka_unit_test(test_syntax_error),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_wrong_type),
		cmocka_unit_test(test_bad_cidr),
		cmocka_unit_test(test_bad_listen),
		cmocka_unit_test(test_metrics_listen),
		cmocka_unit_test(test_missing_required),
		cmocka_unit_test(test_file_missing),
		cmocka_unit_test(test_config_missing),
		cmocka_unit_test(test_path_too_long),
		cmocka_unit_test(test_out_of_range),
		cmocka_unit_test(test_keepalive_vs_dead_peer),
		cmocka_unit_test(test_wrong_mode),
		cmocka_unit_test(test_server_and_servers),
		cmocka_unit_test(test_client_values),
		cmocka_unit_test(test_parse_cidr),
		cmocka_unit_test(test_parse_addresses),
		cmocka_unit_test(test_cidr_contains),
		cmocka_unit_test(test_err_str),
		cmocka_unit_test(test_dns),
		cmocka_unit_test(test_dns_errors),
		cmocka_unit_test(test_dns_search_budget),
		cmocka_unit_test(test_check_domain),
		cmocka_unit_test(test_network6),
		cmocka_unit_test(test_network6_errors),
		cmocka_unit_test(test_network6_push_budget),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
