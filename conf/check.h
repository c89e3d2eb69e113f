/* check.h - what `vpnd -t` checks beyond syntax, on a configuration that
 * conf_load accepted: the mistakes that parse but bite once the daemon
 * runs (a key others can read, an allow-list others can rewrite, a pool
 * too small, a tunnel network that clashes with the host's own addresses,
 * a NAT interface or listen address that is not there, a shared user).
 * Each finding is an error or a warning with the file, the line and the
 * key; this module never prints. What it asks of the host (interface
 * addresses, whether a device exists, whether an address is local) goes
 * through struct check_probe, so tests can fake the host. */
#ifndef VPND_CHECK_H
#define VPND_CHECK_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "conf/conf.h"

#define CHECK_MAX_FINDINGS 16
#define CHECK_MAX_ADDRS    256	/* interface addresses looked at */

enum check_level { CHECK_WARNING, CHECK_ERROR };

struct check_finding {
	enum check_level cf_level;
	struct conf_err  cf_err;	/* file, line of the key, "key: ..." */
};

struct check_report {
	struct check_finding cr_f[CHECK_MAX_FINDINGS];
	int cr_n;			/* findings kept (the first ones) */
	int cr_errors, cr_warnings;	/* all of them, kept or not */
};

/* An IPv4 address on one of the host's interfaces. */
struct check_addr {
	char           ca_ifname[IFNAMSIZ];
	struct in_addr ca_addr;
	int            ca_plen;
};

/* The host as the checks see it; check_probe_host is the real one. */
struct check_probe {
	/* The IPv4 addresses on the host's interfaces, at most max: the count
	 * or -errno. */
	int  (*cp_addrs)(void *arg, struct check_addr *out, int max);
	/* Whether a network device of that name exists. */
	bool (*cp_if_exists)(void *arg, const char *ifname);
	/* Whether the daemon could bind ss now: 0 yes, -EADDRNOTAVAIL not a
	 * local address, other -errno when it cannot tell. */
	int  (*cp_local)(void *arg, const struct sockaddr_storage *ss);
	void  *cp_arg;
};

extern const struct check_probe check_probe_host;

/* Run every check on c (loaded by conf_load) against the host PROBE
 * (NULL: check_probe_host) into *r (zeroed first). A server's allow-list
 * is read again here; a list that does not load is an error finding.
 * 0 when there is no error (warnings allowed), -EINVAL when there is one. */
int check_conf(const struct conf *c, const struct check_probe *probe,
               struct check_report *r);

#endif
