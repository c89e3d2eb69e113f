/* dns.h - the resolvers and search domains a server pushes, applied to the
 * client's tunnel device and taken back. Two back-ends, chosen at each
 * apply: systemd-resolved when it owns org.freedesktop.resolve1 on the
 * system bus (per-link servers and domains over D-Bus, as resolvectl sets
 * them), else openresolv's resolvconf (an interface record "tun.IFNAME",
 * as wg-quick writes it). This module never logs; the caller does, once. */
#ifndef VPND_DNS_H
#define VPND_DNS_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"

/* Where resolvconf is looked for: a fixed list, never the daemon's PATH. */
#define DNS_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define DNS_RESOLVCONF_MAX 4096		/* the fragment: 8 servers, 8 domains */

enum dns_backend { DNS_NONE, DNS_RESOLVED, DNS_RESOLVCONF };

/* What is pushed; all zero = nothing. */
struct dns_set {
	struct conf_dns ds_servers[CONF_MAX_DNS];
	int  ds_nservers;
	char ds_domains[CONF_MAX_SEARCH][CONF_DOMAIN_MAX + 1];	/* "~x": routing only */
	int  ds_ndomains;
	bool ds_full_tunnel;	/* resolved: "~." and DefaultRoute, all names here */
};

/* The seam through which resolvconf runs: in-process (dns_run_exec), or,
 * in a worker whose seccomp filter forbids exec, through a privileged
 * helper. run() starts argv[0] (an absolute path) with argv, an
 * environment holding only PATH=DNS_PATH, and in (len bytes) on its stdin,
 * and returns its exit status (0 = success, > 0 = failed) or -errno. */
struct dns_ops {
	int (*run)(void *arg, char *const argv[], const char *in, size_t len);
};
extern const struct dns_ops dns_exec_ops;	/* fork + execve, 10 s limit */

/* One tunnel device's DNS. Embedded by the caller; dns_init, then any
 * number of dns_apply, then dns_remove before the device goes. */
struct dns {
	char                  d_ifname[IFNAMSIZ];
	int                   d_ifindex;
	const struct dns_ops *d_ops;		/* borrowed */
	void                 *d_arg;
	const char           *d_path;		/* searched for resolvconf: DNS_PATH */
	enum dns_backend      d_applied;	/* DNS_NONE: nothing in place */
	struct dns_set        d_set;		/* what is in place */
};

void dns_init(struct dns *d, const char *ifname, int ifindex,
    const struct dns_ops *ops, void *arg);
/* Put s in place of whatever is applied (an empty s removes it; the same s
 * again does nothing). *used says which back-end holds it now. 0, or
 * -ENOTSUP when neither back-end is there (nothing changed), or -errno
 * (a D-Bus error, resolvconf failing: -EIO). */
int  dns_apply(struct dns *d, const struct dns_set *s, enum dns_backend *used);
/* Take back what dns_apply put in place, on the back-end that holds it.
 * 0 or -errno; either way nothing is recorded as applied afterwards. */
int  dns_remove(struct dns *d);
const char *dns_backend_name(enum dns_backend b);

/* A client that runs as its user cannot exec resolvconf (seccomp) nor talk
 * to systemd-resolved as root: it sends this to its privileged helper
 * (priv_ext), where dns_helper applies it. */
enum { DNS_REQ_APPLY = 1, DNS_REQ_REMOVE = 2 };
struct dns_req {
	uint32_t       dr_op;
	struct dns_set dr_set;		/* APPLY: what to put in place */
};
/* The helper's side, a priv_ext_fn: arg is a struct dns that dns_init set
 * up before the fork with the device's name and index (so the worker never
 * names a device); req is checked as untrusted input (its size, the op,
 * the counts, each family, each domain by conf_check_domain) before
 * anything runs. req NULL: the worker is gone, remove what is applied.
 * Returns the back-end that holds the set now (enum dns_backend, >= 0),
 * or -errno as dns_apply does (-EINVAL: a request that fails the checks). */
int  dns_helper(void *arg, const void *req, size_t len);

/* resolvconf's input for s: "nameserver A" lines and one "search" line;
 * routing-only ("~") domains have no resolv.conf form and are left out.
 * Length, or -ENOSPC. */
int  dns_resolvconf_text(const struct dns_set *s, char *buf, size_t cap);

#endif
