/* test_reload.c - what a reload compares (conf/reload.c), on configurations
 * read with conf_reread from files in a mkdtemp directory: a base server
 * file, and the same file with one key changed. For every key the tests
 * check that it alone shows as changed, its class (live, pushed to
 * clients, or restart), that reload_take copies the live ones and leaves
 * everything else of the running configuration as it was, and how the
 * values read in the messages. Also: conf_reread does not open the key
 * pair or the allow-list, which conf_load does. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "conf/reload.h"
#include "fixture.h"

/* The base file, one key a line; a change replaces the line of its key. */
static const char *const base[] = {
	"mode = \"server\";",
	"listen = \"0.0.0.0:4433\";",
	"key = \"server.key\";",
	"cert = \"server.crt\";",
	"tun = { name = \"vpn0\"; mtu = 1400; };",
	"network = \"10.8.0.0/24\";",
	"network6 = \"fd00:8::/64\";",
	"routes = [ \"0.0.0.0/0\", \"198.19.6.0/24\" ];",
	"nat = { out_interface = \"eth0\"; };",
	"allow_list = \"peers.conf\";",
	"control_socket = \"/run/vpnd/t.sock\";",
	"keepalive = 10;",
	"dead_peer_timeout = 30;",
	"client_to_client = false;",
	"state_dir = \"/var/lib/vpnd\";",
	NULL
};

struct fixture {
	char         dir[FX_DIR_MAX];
	struct conf *cur, *next;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL || fx_tmpdir(f->dir, sizeof(f->dir), "reload") < 0 ||
	    (f->cur = malloc(sizeof(*f->cur))) == NULL ||
	    (f->next = malloc(sizeof(*f->next))) == NULL)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	fx_rmtree(f->dir);
	free(f->cur);
	free(f->next);
	free(f);
	return 0;
}

/* The base file with the line of change's key replaced by change (NULL:
 * unchanged; a key not in the base is added), read with conf_reread. */
static void load(struct fixture *f, struct conf *c, const char *change)
{
	char text[4096] = "", msg[512];
	const char *path = fx_path(f->dir, "t.conf");
	size_t klen = change ? strcspn(change, " ") : 0;
	struct conf_err err;
	bool done = false;
	int i;

	for (i = 0; base[i] != NULL; i++) {
		bool mine = change && strncmp(base[i], change, klen) == 0 && base[i][klen] == ' ';

		strcat(text, mine ? change : base[i]);
		strcat(text, "\n");
		done |= mine;
	}
	if (change && !done)
		strcat(strcat(text, change), "\n");
	fx_write(path, text);
	if (conf_reread(c, path, &err) < 0)
		fail_msg("%s: %s", change ? change : "base", conf_err_str(&err, msg, sizeof(msg)));
}

/* Change one key; it alone differs, with class cls. */
static void expect_one(void **state, const char *change, enum reload_key k,
    enum reload_class cls)
{
	struct fixture *f = *state;
	struct reload_diff d;

	load(f, f->cur, NULL);
	load(f, f->next, change);
	reload_diff(f->cur, f->next, &d);
	if (d.rd_changed != 1u << k)
		fail_msg("%s: changed %#x, want %#x (%s)", change, d.rd_changed, 1u << k,
		    reload_key_name(k));
	assert_true(reload_changed(&d, k));
	assert_int_equal(reload_class_of(k), cls);
	assert_true(reload_any(&d, cls));
}

/* reload_take: a restart key leaves cur exactly as it was; a live one
 * makes cur equal next on every key. */
static void expect_take(void **state, const char *change, bool live)
{
	struct fixture *f = *state;
	struct conf *before = malloc(sizeof(*before));
	struct reload_diff d, after;

	assert_non_null(before);
	load(f, f->cur, NULL);
	load(f, f->next, change);
	memcpy(before, f->cur, sizeof(*before));
	reload_diff(f->cur, f->next, &d);
	reload_take(f->cur, f->next, &d);
	reload_diff(f->cur, f->next, &after);
	if (live)
		assert_int_equal(after.rd_changed, 0);
	else {
		assert_memory_equal(before, f->cur, sizeof(*before));
		assert_int_equal(after.rd_changed, d.rd_changed);
	}
	free(before);
}

static void test_same_file_no_change(void **state)
{
	struct fixture *f = *state;
	struct reload_diff d;
	char names[256];

	load(f, f->cur, NULL);
	load(f, f->next, NULL);
	reload_diff(f->cur, f->next, &d);
	assert_int_equal(d.rd_changed, 0);
	assert_false(reload_any(&d, RELOAD_RESTART));
	assert_false(reload_any(&d, RELOAD_LIVE));
	assert_false(reload_any(&d, RELOAD_PUSHED));
	assert_string_equal(reload_names(&d, RELOAD_PUSHED, names, sizeof(names)), "");
}

/* Pushed to connected clients in a CONFIG. */
static void test_pushed_keys(void **state)
{
	static const struct { const char *change; enum reload_key k; } t[] = {
		{ "routes = [ \"0.0.0.0/0\", \"198.19.5.0/24\" ];", RK_ROUTES },
		{ "routes = [ \"198.19.6.0/24\", \"0.0.0.0/0\" ];", RK_ROUTES },
		{ "routes = [ \"0.0.0.0/0\" ];", RK_ROUTES },
		{ "routes = [ \"0.0.0.0/0\", \"198.19.6.0/24\", \"::/0\" ];", RK_ROUTES },
		{ "keepalive = 5;", RK_KEEPALIVE },
		{ "dead_peer_timeout = 60;", RK_DEAD_PEER_TIMEOUT },
		{ "dns = [ \"10.8.0.1\" ];", RK_DNS },
		{ "dns_search = [ \"corp.example\" ];", RK_DNS_SEARCH },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		expect_one(state, t[i].change, t[i].k, RELOAD_PUSHED);
		expect_take(state, t[i].change, true);
	}
}

/* Taken at once by the server alone. */
static void test_live_keys(void **state)
{
	static const struct { const char *change; enum reload_key k; } t[] = {
		{ "client_to_client = true;", RK_CLIENT_TO_CLIENT },
		{ "nat = { out_interface = \"eth1\"; };", RK_NAT },
		{ "nat = { out_interface = \"eth0\"; ipv6 = true; };", RK_NAT },
		{ "on_connect = \"/bin/true\";", RK_ON_CONNECT },
		{ "on_disconnect = \"/bin/true\";", RK_ON_DISCONNECT },
		{ "metrics_listen = \"127.0.0.1:9586\";", RK_METRICS_LISTEN },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		expect_one(state, t[i].change, t[i].k, RELOAD_LIVE);
		expect_take(state, t[i].change, true);
	}
}

static void test_restart_keys(void **state)
{
	static const struct { const char *change; enum reload_key k; } t[] = {
		{ "listen = \"0.0.0.0:4434\";", RK_LISTEN },
		{ "listen = [ \"0.0.0.0:4433\", \"[::]:4433\" ];", RK_LISTEN },
		{ "tun = { name = \"vpn1\"; mtu = 1400; };", RK_TUN },
		{ "tun = { name = \"vpn0\"; mtu = 1380; };", RK_TUN },
		{ "network = \"10.9.0.0/24\";", RK_NETWORK },
		{ "network6 = \"fd00:9::/64\";", RK_NETWORK6 },
		{ "network6 = \"fd00:8::/96\";", RK_NETWORK6 },
		{ "key = \"other.key\";", RK_KEY },
		{ "cert = \"other.crt\";", RK_CERT },
		{ "user = \"root\";", RK_USER },
		{ "control_socket = \"/run/vpnd/u.sock\";", RK_CONTROL_SOCKET },
		{ "control_group = \"root\";", RK_CONTROL_GROUP },
		{ "state_dir = \"/var/lib/vpnd2\";", RK_STATE_DIR },
		{ "allow_list = \"other.conf\";", RK_ALLOW_LIST },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		expect_one(state, t[i].change, t[i].k, RELOAD_RESTART);
		expect_take(state, t[i].change, false);
	}
}

/* A live and a restart key together: the live one is taken, the other
 * keeps its old value. */
static void test_mixed_take(void **state)
{
	struct fixture *f = *state;
	struct reload_diff d;
	char names[256], v[64];

	load(f, f->cur, NULL);
	load(f, f->next, "listen = \"0.0.0.0:4434\";");
	f->next->c_keepalive = 4;
	reload_diff(f->cur, f->next, &d);
	assert_int_equal(d.rd_changed, 1u << RK_KEEPALIVE | 1u << RK_LISTEN);
	assert_string_equal(reload_names(&d, RELOAD_RESTART, names, sizeof(names)), "listen");
	assert_string_equal(reload_names(&d, RELOAD_PUSHED, names, sizeof(names)), "keepalive");
	reload_take(f->cur, f->next, &d);
	assert_int_equal(f->cur->c_keepalive, 4);
	assert_string_equal(reload_value_str(f->cur, RK_LISTEN, v, sizeof(v)), "0.0.0.0:4433");
}

static void test_mode_change(void **state)
{
	struct fixture *f = *state;
	struct reload_diff d;

	load(f, f->cur, NULL);
	*f->next = *f->cur;
	f->next->c_mode = CONF_CLIENT;
	reload_diff(f->cur, f->next, &d);
	assert_true(reload_changed(&d, RK_MODE));
	assert_int_equal(reload_class_of(RK_MODE), RELOAD_RESTART);
}

static void test_value_strings(void **state)
{
	struct fixture *f = *state;
	char v[256];

	load(f, f->cur, NULL);
	assert_string_equal(reload_value_str(f->cur, RK_ROUTES, v, sizeof(v)),
	    "[ 0.0.0.0/0, 198.19.6.0/24 ]");
	assert_string_equal(reload_value_str(f->cur, RK_LISTEN, v, sizeof(v)), "0.0.0.0:4433");
	assert_string_equal(reload_value_str(f->cur, RK_TUN, v, sizeof(v)), "vpn0 mtu 1400");
	assert_string_equal(reload_value_str(f->cur, RK_NETWORK, v, sizeof(v)), "10.8.0.0/24");
	assert_string_equal(reload_value_str(f->cur, RK_NAT, v, sizeof(v)), "eth0");
	assert_string_equal(reload_value_str(f->cur, RK_KEEPALIVE, v, sizeof(v)), "10");
	assert_string_equal(reload_value_str(f->cur, RK_CLIENT_TO_CLIENT, v, sizeof(v)), "false");
	assert_string_equal(reload_key_name(RK_NAT), "nat.out_interface");
	/* cut short, never past the buffer */
	assert_string_equal(reload_value_str(f->cur, RK_ROUTES, v, 12), "[ 0.0.0....");
	f->cur->c_nroutes = 0;
	assert_string_equal(reload_value_str(f->cur, RK_ROUTES, v, sizeof(v)), "[ ]");
}

/* Every key has a name and a class, and every class is used. */
static void test_table_complete(void **state)
{
	unsigned seen = 0;

	(void)state;
	for (int k = 0; k < RK_COUNT; k++) {
		assert_non_null(reload_key_name((enum reload_key)k));
		seen |= 1u << reload_class_of((enum reload_key)k);
	}
	assert_int_equal(seen, 1u << RELOAD_RESTART | 1u << RELOAD_LIVE | 1u << RELOAD_PUSHED);
}

/* A reload by a daemon that dropped privileges cannot open the key or the
 * allow-list: conf_reread does not try; conf_load does. */
static void test_reread_opens_no_files(void **state)
{
	struct fixture *f = *state;
	struct conf_err err;

	load(f, f->cur, NULL);		/* none of the files exist */
	assert_string_equal(f->cur->c_key, fx_path(f->dir, "server.key"));
	assert_int_equal(conf_load(f->next, fx_path(f->dir, "t.conf"), &err), -ENOENT);
	assert_int_equal(err.line, 3);
	assert_non_null(strstr(err.msg, "key: cannot read"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_file_no_change),
		cmocka_unit_test(test_pushed_keys),
		cmocka_unit_test(test_live_keys),
		cmocka_unit_test(test_restart_keys),
		cmocka_unit_test(test_mixed_take),
		cmocka_unit_test(test_mode_change),
		cmocka_unit_test(test_value_strings),
		cmocka_unit_test(test_table_complete),
		cmocka_unit_test(test_reread_opens_no_files),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
