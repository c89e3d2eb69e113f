/* nat.h - IPv4 forwarding, masquerade and TCP MSS clamping for the tunnel
 * network, in an nftables table of vpnd's own ("ip vpnd", through libnftables
 * in-process), leaving every other table alone. Setting up replaces a stale
 * table left by a crash, so there is never more than one. */
#ifndef VPND_NAT_H
#define VPND_NAT_H

#include <stdbool.h>
#include <stddef.h>

#include "conf/conf.h"

#define NAT_TABLE "vpnd"

/* Replace table ip vpnd with: a postrouting nat chain masquerading saddr
 * NET out of OUT_IF (no masquerade rule if out_if is ""), and a forward
 * chain (priority mangle) clamping the TCP MSS of SYNs into and out of
 * TUN_IF to the route's MTU, so TCP through the tunnel never sends segments
 * the tunnel must drop. -EINVAL for a bad prefix or interface name (tun_if
 * may not be ""); else 0 or -errno with the nft message in err. */
int nat_setup(const struct cidr *net, const char *out_if, const char *tun_if,
              char *err, size_t errlen);
/* The same for network6 in table ip6 vpnd: MSS clamping on tun_if, and
 * with masq (nat.ipv6) masquerade of net6 out of out_if (none if out_if
 * is ""). -EINVAL for a bad prefix or name; else 0 or -errno with nft's
 * message in err. */
int nat6_setup(const struct cidr6 *net6, bool masq, const char *out_if,
               const char *tun_if, char *err, size_t errlen);
/* Delete tables ip vpnd and ip6 vpnd if present; 0 also when there were
 * none. */
int nat_teardown(void);
/* Write 1 to /proc/sys/net/ipv4/ip_forward; *was gets the previous value
 * (0/1) so shutdown can restore it. 0 or -errno. */
int ipfwd_enable(int *was);
int ipfwd_restore(int was);
/* The same for net.ipv6.conf.all.forwarding. */
int ipfwd6_enable(int *was);
int ipfwd6_restore(int was);

#endif
