/* test_nat.c - nat.c against the real nftables and /proc, inside a private
 * network namespace made at start with unshare(CLONE_NEWNET): the ruleset and
 * ip_forward there are the namespace's own, so the machine's firewall is never
 * touched. Results are checked through libnftables "list" output: the
 * masquerade rule and the TCP MSS clamp on the TUN device. Without
 * root (or netns support) it prints SKIP and exits 77. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <cmocka.h>
#include <nftables/libnftables.h>

#include "server/nat.h"

/* Run CMD through libnftables; its output (malloc'd, caller frees) or NULL
 * if the command failed. */
static char *nft(const char *cmd)
{
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	char *out = NULL;

	assert_non_null(ctx);
	assert_int_equal(nft_ctx_buffer_output(ctx), 0);
	assert_int_equal(nft_ctx_buffer_error(ctx), 0);
	if (nft_run_cmd_from_buffer(ctx, cmd) == 0)
		out = strdup(nft_ctx_get_output_buffer(ctx));
	nft_ctx_free(ctx);
	return out;
}

/* Can this kernel run nftables at all? (No cmocka asserts: runs in main.) */
static bool nft_works(void)
{
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	bool ok;

	if (ctx == NULL)
		return false;
	ok = nft_ctx_buffer_output(ctx) == 0 && nft_ctx_buffer_error(ctx) == 0 &&
	    nft_run_cmd_from_buffer(ctx, "list tables") == 0;
	nft_ctx_free(ctx);
	return ok;
}

static int count(const char *hay, const char *needle)
{
	int n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

static bool table_exists(void)
{
	char *out = nft("list table ip " NAT_TABLE);

	free(out);
	return out != NULL;
}

static struct cidr net(const char *addr, int plen)
{
	struct cidr c = { .plen = plen };

	assert_int_equal(inet_pton(AF_INET, addr, &c.addr), 1);
	return c;
}

static int read_ipfwd(void)
{
	char c = 0;
	int fd = open("/proc/sys/net/ipv4/ip_forward", O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(read(fd, &c, 1), 1);
	close(fd);
	return c - '0';
}

static int teardown(void **state)
{
	(void)state;
	free(nft("flush ruleset"));
	return 0;
}

static void test_setup_creates_masquerade(void **state)
{
	struct cidr n = net("10.8.0.0", 24);
	char err[160] = "", *out;

	(void)state;
	assert_int_equal(nat_setup(&n, "eth0", "vpn0", err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_non_null(out = nft("list table ip " NAT_TABLE));
	assert_non_null(strstr(out, "hook postrouting"));
	assert_non_null(strstr(out, "ip saddr 10.8.0.0/24 oifname \"eth0\" masquerade"));
	free(out);
}

static void test_setup_twice_leaves_one_table(void **state)
{
	struct cidr a = net("10.8.0.0", 24), b = net("10.9.0.0", 16);
	char err[160], *out;

	(void)state;
	assert_int_equal(nat_setup(&a, "eth0", "vpn0", err, sizeof(err)), 0);
	assert_int_equal(nat_setup(&b, "wan.42", "vpn0", err, sizeof(err)), 0);
	assert_non_null(out = nft("list tables"));
	assert_int_equal(count(out, "table ip " NAT_TABLE "\n"), 1);
	free(out);
	assert_non_null(out = nft("list table ip " NAT_TABLE));
	assert_int_equal(count(out, "masquerade"), 1);
	assert_non_null(strstr(out, "ip saddr 10.9.0.0/16 oifname \"wan.42\""));
	assert_null(strstr(out, "10.8.0.0"));
	free(out);
}

static void test_setup_without_out_if_has_no_rule(void **state)
{
	struct cidr n = net("10.8.0.0", 24);
	char err[160], *out;

	(void)state;
	assert_int_equal(nat_setup(&n, "", "vpn0", err, sizeof(err)), 0);
	assert_non_null(out = nft("list table ip " NAT_TABLE));
	assert_non_null(strstr(out, "chain postrouting"));
	assert_null(strstr(out, "masquerade"));
	free(out);
}

static void test_setup_rejects_bad_interface(void **state)
{
	struct cidr n = net("10.8.0.0", 24);
	char err[160] = "";

	(void)state;
	assert_int_equal(nat_setup(&n, "eth0\"; drop", "vpn0", err, sizeof(err)), -EINVAL);
	assert_true(strlen(err) > 0);
	assert_int_equal(nat_setup(&n, "eth 0", "vpn0", err, sizeof(err)), -EINVAL);
	assert_int_equal(nat_setup(&n, "a-name-of-16-chr", "vpn0", err, sizeof(err)), -EINVAL);
	assert_int_equal(nat_setup(&n, NULL, "vpn0", err, sizeof(err)), -EINVAL);
	assert_false(table_exists());
}

#define CLAMP "tcp flags syn tcp option maxseg size set rt mtu"

/* SYNs both into and out of the TUN device get their MSS clamped to the
 * route MTU, in a forward chain that runs before filtering (mangle). */
static void test_setup_clamps_mss_on_tun(void **state)
{
	struct cidr n = net("10.8.0.0", 24);
	char err[160] = "", *out;

	(void)state;
	assert_int_equal(nat_setup(&n, "eth0", "vpn7", err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_non_null(out = nft("list chain ip " NAT_TABLE " forward"));
	assert_non_null(strstr(out, "type filter hook forward priority mangle; "
	    "policy accept;"));
	assert_non_null(strstr(out, "oifname \"vpn7\" " CLAMP "\n"));
	assert_non_null(strstr(out, "iifname \"vpn7\" " CLAMP "\n"));
	assert_int_equal(count(out, "maxseg"), 2);
	free(out);
	/* The masquerade chain is still there, in the same table. */
	assert_non_null(out = nft("list table ip " NAT_TABLE));
	assert_non_null(strstr(out, "oifname \"eth0\" masquerade"));
	free(out);
}

/* Without masquerading the clamp is still wanted; a second setup replaces
 * the chain rather than adding to it. */
static void test_setup_clamps_without_out_if_and_replaces(void **state)
{
	struct cidr n = net("10.8.0.0", 24);
	char err[160], *out;

	(void)state;
	assert_int_equal(nat_setup(&n, "eth0", "vpn0", err, sizeof(err)), 0);
	assert_int_equal(nat_setup(&n, "", "tun.1", err, sizeof(err)), 0);
	assert_non_null(out = nft("list table ip " NAT_TABLE));
	assert_null(strstr(out, "masquerade"));
	assert_int_equal(count(out, "chain forward"), 1);
	assert_int_equal(count(out, CLAMP), 2);
	assert_non_null(strstr(out, "oifname \"tun.1\" " CLAMP));
	assert_non_null(strstr(out, "iifname \"tun.1\" " CLAMP));
	assert_null(strstr(out, "vpn0"));
	free(out);
}

static void test_setup_rejects_bad_tun_interface(void **state)
{
	static const char *bad[] = { "", "vpn0\"; drop", "vpn 0", "vpn0;",
	    "a-name-of-16-chr", "vpn\n0" };
	struct cidr n = net("10.8.0.0", 24);
	char err[160];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(nat_setup(&n, "eth0", bad[i], err, sizeof(err)),
		    -EINVAL);
		assert_non_null(strstr(err, "tun"));
	}
	assert_int_equal(nat_setup(&n, "eth0", NULL, err, sizeof(err)), -EINVAL);
	assert_false(table_exists());
	/* The longest name a device can have is fine. */
	assert_int_equal(nat_setup(&n, "eth0", "a-name-of-15-ch", err,
	    sizeof(err)), 0);
}

static void test_setup_rejects_bad_prefix_and_truncates_err(void **state)
{
	struct cidr n = net("10.8.0.0", 33);
	char err[8];

	(void)state;
	assert_int_equal(nat_setup(&n, "eth0", "vpn0", err, sizeof(err)), -EINVAL);
	assert_int_equal(strlen(err), sizeof(err) - 1);
	assert_int_equal(nat_setup(&n, "eth0", "vpn0", NULL, 0), -EINVAL);
	assert_false(table_exists());
}

static void test_teardown_removes_table(void **state)
{
	struct cidr n = net("10.8.0.0", 24);
	char err[160];

	(void)state;
	assert_int_equal(nat_setup(&n, "eth0", "vpn0", err, sizeof(err)), 0);
	assert_true(table_exists());
	assert_int_equal(nat_teardown(), 0);
	assert_false(table_exists());
}

static void test_teardown_when_absent_is_fine(void **state)
{
	(void)state;
	assert_false(table_exists());
	assert_int_equal(nat_teardown(), 0);
	assert_int_equal(nat_teardown(), 0);
}

static void test_other_tables_are_left_alone(void **state)
{
	struct cidr n = net("10.8.0.0", 24);
	char err[160], *out;

	(void)state;
	assert_non_null(out = nft("table ip other {\n"
	    "\tchain c { type filter hook forward priority 0; policy accept; }\n"
	    "}\n"));
	free(out);
	assert_int_equal(nat_setup(&n, "eth0", "vpn0", err, sizeof(err)), 0);
	assert_int_equal(nat_teardown(), 0);
	assert_non_null(out = nft("list tables"));
	assert_non_null(strstr(out, "table ip other"));
	assert_null(strstr(out, "table ip " NAT_TABLE));
	free(out);
}

/* A table "owned" by another netlink socket (here a libnftables context we
 * keep open) cannot be replaced: the kernel's error comes back as -EPERM
 * with nft's first line of text. */
static void test_setup_reports_nft_error(void **state)
{
	struct nft_ctx *owner = nft_ctx_new(NFT_CTX_DEFAULT);
	struct cidr n = net("10.8.0.0", 24);
	char err[160] = "";

	(void)state;
	assert_non_null(owner);
	assert_int_equal(nft_ctx_buffer_error(owner), 0);
	if (nft_run_cmd_from_buffer(owner,
	    "table ip " NAT_TABLE " { flags owner; }\n") != 0) {
		nft_ctx_free(owner);	/* kernel < 5.12 */
		skip();
	}
	assert_int_equal(nat_setup(&n, "eth0", "vpn0", err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "Operation not permitted"));
	assert_null(strchr(err, '\n'));
	assert_int_equal(nat_teardown(), -EPERM);
	nft_ctx_free(owner);		/* the owned table goes with its socket */
	assert_false(table_exists());
}

static void test_ipfwd_enable_and_restore(void **state)
{
	int was = -1;

	(void)state;
	assert_int_equal(ipfwd_restore(0), 0);
	assert_int_equal(read_ipfwd(), 0);
	assert_int_equal(ipfwd_enable(&was), 0);
	assert_int_equal(was, 0);
	assert_int_equal(read_ipfwd(), 1);
	assert_int_equal(ipfwd_enable(&was), 0);
	assert_int_equal(was, 1);
	assert_int_equal(ipfwd_restore(0), 0);
	assert_int_equal(read_ipfwd(), 0);
	assert_int_equal(ipfwd_restore(2), -EINVAL);
	assert_int_equal(read_ipfwd(), 0);
}

/* ---- network6: table ip6 vpnd ---- */

/* With nat.ipv6: masquerade of network6 out of out_if and the MSS clamp
 * both ways on the TUN device; without it, the clamp alone (IPv6 is
 * routed). Replacing keeps one table; teardown removes ip and ip6. */
static void test_nat6_setup_and_teardown(void **state)
{
	struct cidr6 n6 = { .plen = 64 };
	struct cidr n = net("10.8.0.0", 24);
	char err[160], *out;

	(void)state;
	assert_int_equal(inet_pton(AF_INET6, "fd00:8::", &n6.addr), 1);
	assert_int_equal(nat_setup(&n, "eth0", "vpn0", err, sizeof(err)), 0);
	assert_int_equal(nat6_setup(&n6, true, "eth0", "vpn0", err, sizeof(err)), 0);
	assert_non_null(out = nft("list table ip6 " NAT_TABLE));
	assert_non_null(strstr(out, "ip6 saddr fd00:8::/64 oifname \"eth0\" masquerade"));
	assert_int_equal(count(out, "tcp option maxseg size set rt mtu"), 2);
	free(out);
	assert_int_equal(nat6_setup(&n6, false, "eth0", "vpn0", err, sizeof(err)), 0);
	assert_non_null(out = nft("list table ip6 " NAT_TABLE));
	assert_null(strstr(out, "masquerade"));
	assert_int_equal(count(out, "tcp option maxseg size set rt mtu"), 2);
	free(out);
	assert_int_equal(nat6_setup(&n6, true, "eth0\"; drop", "vpn0", err, sizeof(err)), -EINVAL);
	assert_int_equal(nat_teardown(), 0);
	assert_false(table_exists());
	assert_null(out = nft("list table ip6 " NAT_TABLE));
}

static void test_ipfwd6_enable_and_restore(void **state)
{
	char c = 0;
	int was = -1, fd;

	(void)state;
	assert_int_equal(ipfwd6_enable(&was), 0);
	assert_true(was == 0 || was == 1);
	assert_true((fd = open("/proc/sys/net/ipv6/conf/all/forwarding", O_RDONLY)) >= 0);
	assert_int_equal(read(fd, &c, 1), 1);
	assert_int_equal(c, '1');
	assert_int_equal(ipfwd6_restore(0), 0);
	assert_int_equal(pread(fd, &c, 1, 0), 1);
	assert_int_equal(c, '0');
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_setup_creates_masquerade, teardown),
		cmocka_unit_test_teardown(test_setup_twice_leaves_one_table, teardown),
		cmocka_unit_test_teardown(test_setup_without_out_if_has_no_rule, teardown),
		cmocka_unit_test_teardown(test_setup_rejects_bad_interface, teardown),
		cmocka_unit_test_teardown(test_setup_clamps_mss_on_tun, teardown),
		cmocka_unit_test_teardown(test_setup_clamps_without_out_if_and_replaces, teardown),
		cmocka_unit_test_teardown(test_setup_rejects_bad_tun_interface, teardown),
		cmocka_unit_test_teardown(test_setup_rejects_bad_prefix_and_truncates_err, teardown),
		cmocka_unit_test_teardown(test_teardown_removes_table, teardown),
		cmocka_unit_test_teardown(test_teardown_when_absent_is_fine, teardown),
		cmocka_unit_test_teardown(test_other_tables_are_left_alone, teardown),
		cmocka_unit_test_teardown(test_setup_reports_nft_error, teardown),
		cmocka_unit_test(test_ipfwd_enable_and_restore),
		cmocka_unit_test_teardown(test_nat6_setup_and_teardown, teardown),
		cmocka_unit_test(test_ipfwd6_enable_and_restore),
	};

	if (geteuid() != 0 || unshare(CLONE_NEWNET) < 0) {
		printf("SKIP: needs root\n");
		return 77;
	}
	if (!nft_works()) {
		printf("SKIP: no nftables in the kernel\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
