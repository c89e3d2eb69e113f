/* nat.c - IPv4 forwarding, masquerade and TCP MSS clamping for the tunnel
 * network, and the same for network6 in a second table, "ip6 vpnd". The rules live in an nftables table of vpnd's own, "ip vpnd",
 * written through libnftables in-process as one transaction: "add table;
 * delete table; table { ... }" replaces whatever a crashed run left behind,
 * atomically, and never touches another table. ip_forward is read and
 * written through /proc. libnftables is loaded (daemon/dl.c) for each
 * transaction and unloaded after it, not linked: a client never maps it
 * and the four libraries it brings, and a server only while it writes its
 * tables (at start, at a reload, at exit). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>

#include <nftables/libnftables.h>

#include "daemon/dl.h"
#include "server/nat.h"

#define IPFWD_PATH "/proc/sys/net/ipv4/ip_forward"
#define IPFWD6_PATH "/proc/sys/net/ipv6/conf/all/forwarding"

/* The interface name goes into nft's command text, so it is held to the
 * characters interface names use in practice: no quotes, spaces or ';'. */
static bool nat_ifname_ok(const char *s)
{
	size_t len = strlen(s);

	if (len >= IFNAMSIZ)
		return false;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._-@:") == len;
}

static void nat_set_err(char *err, size_t errlen, const char *msg)
{
	size_t len;

	if (err == NULL || errlen == 0)
		return;
	len = strcspn(msg, "\n");
	if (len >= errlen)
		len = errlen - 1;
	memcpy(err, msg, len);
	err[len] = '\0';
}

/* nft reports kernel errors as strerror() text ("Could not process rule: No
 * such file or directory"); give the caller the errno back where we can. */
static int nat_errno(const char *msg)
{
	static const int known[] = { EPERM, ENOENT, EEXIST, ENOMEM, EBUSY,
	    EOPNOTSUPP, EAFNOSUPPORT, ENOSPC, EINVAL };
	size_t i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strstr(msg, strerror(known[i])) != NULL)
			return -known[i];
	return -EIO;
}

/* The part of libnftables' API used here, resolved by nat_load in the
 * order of its names. */
static struct {
	struct nft_ctx *(*ctx_new)(uint32_t flags);
	void (*ctx_free)(struct nft_ctx *ctx);
	int (*ctx_buffer_output)(struct nft_ctx *ctx);
	int (*ctx_buffer_error)(struct nft_ctx *ctx);
	const char *(*ctx_get_error_buffer)(struct nft_ctx *ctx);
	int (*run_cmd_from_buffer)(struct nft_ctx *nft, const char *buf);
} nft;

static void *nat_lib;

/* 0, or -ELIBACC when the library (libnftables1) is not installed. */
static int nat_load(void)
{
	static const char *const names[] = { "nft_ctx_new", "nft_ctx_free",
	    "nft_ctx_buffer_output", "nft_ctx_buffer_error", "nft_ctx_get_error_buffer",
	    "nft_run_cmd_from_buffer" };

	return dl_load(&nat_lib, "libnftables.so.1", names, sizeof(names) / sizeof(names[0]),
	    &nft, sizeof(nft));
}

/* Run CMD as one nft transaction; on failure the first line of nft's error
 * goes to err (may be NULL). 0 or -errno. */
static int nat_run(const char *cmd, char *err, size_t errlen)
{
	struct nft_ctx *ctx;
	const char *msg;
	int ret = 0;

	if (nat_load() < 0) {
		nat_set_err(err, errlen, "libnftables.so.1 is not installed (libnftables1)");
		return -ELIBACC;
	}
	if ((ctx = nft.ctx_new(NFT_CTX_DEFAULT)) == NULL) {
		dl_unload(&nat_lib);
		nat_set_err(err, errlen, "cannot create nftables context");
		return -ENOMEM;
	}
	if (nft.ctx_buffer_output(ctx) != 0 || nft.ctx_buffer_error(ctx) != 0) {
		nat_set_err(err, errlen, "cannot buffer nftables output");
		ret = -ENOMEM;
	} else if (nft.run_cmd_from_buffer(ctx, cmd) != 0) {
		msg = nft.ctx_get_error_buffer(ctx);
		if (msg == NULL || *msg == '\0')
			msg = "nftables command failed";
		nat_set_err(err, errlen, msg);
		ret = nat_errno(msg);
	}
	nft.ctx_free(ctx);
	dl_unload(&nat_lib);
	return ret;
}

/* The masquerade rule for nat_format(), "" without an out_if; 0 or -EINVAL
 * if it does not fit. */
static int nat_masq_rule(char *buf, size_t len, const struct cidr *net,
                         const char *out_if)
{
	char addr[INET_ADDRSTRLEN];
	struct in_addr a = net->addr;
	int n;

	buf[0] = '\0';
	if (*out_if == '\0')
		return 0;
	if (net->plen < 32)	/* host bits zero, else nft rejects the prefix */
		a.s_addr &= htonl(net->plen ? ~0u << (32 - net->plen) : 0);
	if (inet_ntop(AF_INET, &a, addr, sizeof(addr)) == NULL)
		return -EINVAL;
	n = snprintf(buf, len, "\t\tip saddr %s/%d oifname \"%s\" masquerade\n",
	    addr, net->plen, out_if);
	return n < 0 || (size_t)n >= len ? -EINVAL : 0;
}

/* The table FAMILY vpnd (ip or ip6), replaced whole: RULE (a masquerade
 * line, or "") and the MSS clamp both ways through TUN_IF. 0, or -EINVAL
 * if it does not fit. */
static int nat_table_text(char *buf, size_t len, const char *family, const char *rule,
                          const char *tun_if)
{
	int n = snprintf(buf, len,
	    "table %s " NAT_TABLE "\n"
	    "delete table %s " NAT_TABLE "\n"
	    "table %s " NAT_TABLE " {\n"
	    "\tchain postrouting {\n"
	    "\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
	    "%s"
	    "\t}\n"
	    "\tchain forward {\n"
	    "\t\ttype filter hook forward priority mangle; policy accept;\n"
	    "\t\toifname \"%s\" tcp flags syn tcp option maxseg size set rt mtu\n"
	    "\t\tiifname \"%s\" tcp flags syn tcp option maxseg size set rt mtu\n"
	    "\t}\n"
	    "}\n", family, family, family, rule, tun_if, tun_if);

	return n < 0 || (size_t)n >= len ? -EINVAL : 0;
}

/* The transaction text for nat_setup(); 0, or -EINVAL if it does not fit.
 * "set rt mtu" lowers (never raises) the MSS to fit the route the packet
 * takes. "tcp flags syn" matches SYN and SYN-ACK, and there is a rule for
 * each direction, so both ends learn the smaller MSS whichever side opened
 * the connection. */
static int nat_format(char *buf, size_t len, const struct cidr *net,
                      const char *out_if, const char *tun_if)
{
	char rule[128];

	if (nat_masq_rule(rule, sizeof(rule), net, out_if) < 0)
		return -EINVAL;
	return nat_table_text(buf, len, "ip", rule, tun_if);
}

int nat_setup(const struct cidr *net, const char *out_if, const char *tun_if,
              char *err, size_t errlen)
{
	char cmd[1024];

	if (net == NULL || net->plen < 0 || net->plen > 32) {
		nat_set_err(err, errlen, "network: not an IPv4 prefix");
		return -EINVAL;
	}
	if (out_if == NULL || !nat_ifname_ok(out_if)) {
		nat_set_err(err, errlen, "out_interface: not an interface name");
		return -EINVAL;
	}
	if (tun_if == NULL || *tun_if == '\0' || !nat_ifname_ok(tun_if)) {
		nat_set_err(err, errlen, "tun: not an interface name");
		return -EINVAL;
	}
	if (nat_format(cmd, sizeof(cmd), net, out_if, tun_if) < 0) {
		nat_set_err(err, errlen, "nftables command too long");
		return -EINVAL;
	}
	return nat_run(cmd, err, errlen);
}

/* Adding the table first makes the delete succeed whether or not it was
 * there, in one transaction, so no "list" round trip is needed. */
int nat_teardown(void)
{
	return nat_run("table ip " NAT_TABLE "\n"
	    "delete table ip " NAT_TABLE "\n"
	    "table ip6 " NAT_TABLE "\n"
	    "delete table ip6 " NAT_TABLE "\n", NULL, 0);
}

/* ---- IPv6: table ip6 vpnd ---- */

/* The transaction text for nat6_setup, as nat_format's. */
static int nat6_format(char *buf, size_t len, const struct cidr6 *net6, bool masq,
                const char *out_if, const char *tun_if)
{
	char addr[INET6_ADDRSTRLEN], rule[160] = "";
	int n;

	if (inet_ntop(AF_INET6, &net6->addr, addr, sizeof(addr)) == NULL)
		return -EINVAL;
	if (masq && *out_if != '\0') {
		n = snprintf(rule, sizeof(rule),
		    "\t\tip6 saddr %s/%d oifname \"%s\" masquerade\n",
		    addr, net6->plen, out_if);
		if (n < 0 || (size_t)n >= sizeof(rule))
			return -EINVAL;
	}
	return nat_table_text(buf, len, "ip6", rule, tun_if);
}

int nat6_setup(const struct cidr6 *net6, bool masq, const char *out_if,
               const char *tun_if, char *err, size_t errlen)
{
	char cmd[1024];

	if (net6 == NULL || net6->plen < 0 || net6->plen > 128) {
		nat_set_err(err, errlen, "network6: not an IPv6 prefix");
		return -EINVAL;
	}
	if (out_if == NULL || !nat_ifname_ok(out_if) ||
	    tun_if == NULL || *tun_if == '\0' || !nat_ifname_ok(tun_if)) {
		nat_set_err(err, errlen, "not an interface name");
		return -EINVAL;
	}
	if (nat6_format(cmd, sizeof(cmd), net6, masq, out_if, tun_if) < 0) {
		nat_set_err(err, errlen, "nftables command too long");
		return -EINVAL;
	}
	return nat_run(cmd, err, errlen);
}

/* Read the current value (0/1) of ip_forward from FD at offset 0. */
static int ipfwd_read(int fd, int *val)
{
	char buf[8];
	ssize_t n;

	if ((n = pread(fd, buf, sizeof(buf) - 1, 0)) < 0)
		return -errno;
	buf[n] = '\0';
	if (buf[0] != '0' && buf[0] != '1')
		return -EINVAL;
	*val = buf[0] - '0';
	return 0;
}

/* Sysctl files want the value written at offset 0 (sysctl_writes_strict). */
static int ipfwd_write(int fd, int val)
{
	const char *s = val ? "1\n" : "0\n";
	ssize_t n;

	if ((n = pwrite(fd, s, 2, 0)) < 0)
		return -errno;
	return n == 2 ? 0 : -EIO;
}

static int fwd_sysctl_enable(const char *path, int *was)
{
	int fd, err, old = 0;

	if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0)
		return -errno;
	if ((err = ipfwd_read(fd, &old)) == 0 && (err = ipfwd_write(fd, 1)) == 0 &&
	    was != NULL)
		*was = old;
	close(fd);
	return err;
}

static int fwd_sysctl_restore(const char *path, int was)
{
	int fd, err;

	if (was != 0 && was != 1)
		return -EINVAL;
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0)
		return -errno;
	err = ipfwd_write(fd, was);
	close(fd);
	return err;
}

int ipfwd_enable(int *was)
{
	return fwd_sysctl_enable(IPFWD_PATH, was);
}

int ipfwd_restore(int was)
{
	return fwd_sysctl_restore(IPFWD_PATH, was);
}

int ipfwd6_enable(int *was)
{
	return fwd_sysctl_enable(IPFWD6_PATH, was);
}

int ipfwd6_restore(int was)
{
	return fwd_sysctl_restore(IPFWD6_PATH, was);
}
