/* check.c - the checks `vpnd -t` (and vpnd at start) runs on a loaded
 * configuration: each one looks at one thing that parses yet bites later,
 * and adds an error or a warning at the line of the key it is about
 * (conf_key_line). Errors are what would leak a key, let another user
 * rewrite who may connect, or leave peers without a working address;
 * warnings are what may be fine on another day (an interface not up yet,
 * a failover address not here yet) or is merely unwise. */
#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <ifaddrs.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/allow.h"
#include "conf/check.h"

static void add(struct check_report *r, enum check_level level,
    const struct conf *c, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* A finding at KEY's line; fmt's text follows "key: ". */
static void add(struct check_report *r, enum check_level level,
    const struct conf *c, const char *key, const char *fmt, ...)
{
	struct check_finding *f;
	const char *file;
	char msg[sizeof(f->cf_err.msg)];
	int line = conf_key_line(c, key, &file);
	va_list ap;

	if (level == CHECK_ERROR)
		r->cr_errors++;
	else
		r->cr_warnings++;
	if (r->cr_n == CHECK_MAX_FINDINGS)
		return;
	f = &r->cr_f[r->cr_n++];
	f->cf_level = level;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	conf_err_set(&f->cf_err, file, line, EINVAL, "%s: %s", key, msg);
}

/* A private key others can read is no longer private: its holder can be
 * the server (or this client) to anyone. Both modes. */
static void check_key(const struct conf *c, struct check_report *r)
{
	struct stat st;

	if (stat(c->c_key, &st) < 0) {
		add(r, CHECK_ERROR, c, "key", "cannot stat %s: %s", c->c_key,
		    strerror(errno));
		return;
	}
	if (st.st_mode & (S_IRGRP | S_IROTH))
		add(r, CHECK_ERROR, c, "key", "readable by %s (mode %04o): "
		    "chmod 600 %s", (st.st_mode & S_IROTH) ? "others" : "its group",
		    (unsigned)(st.st_mode & 07777), c->c_key);
}

/* Whoever can write the allow-list decides who may connect. Others: an
 * error. Its group: a warning, since a group of administrators may be
 * meant to (SPEC: only root and control_group use the control socket;
 * the file itself is written by the root helper, so vpnd needs no group
 * write). A directory others can write lets them replace the file. */
static void check_allow_mode(const struct conf *c, struct check_report *r)
{
	char dir[PATH_MAX];
	char *slash;
	struct stat st;

	if (stat(c->c_allow_list, &st) < 0) {
		add(r, CHECK_ERROR, c, "allow_list", "cannot stat %s: %s",
		    c->c_allow_list, strerror(errno));
		return;
	}
	if (st.st_mode & S_IWOTH)
		add(r, CHECK_ERROR, c, "allow_list", "writable by others (mode "
		    "%04o), who can let themselves in: chmod o-w %s",
		    (unsigned)(st.st_mode & 07777), c->c_allow_list);
	else if (st.st_mode & S_IWGRP)
		add(r, CHECK_WARNING, c, "allow_list", "writable by its group "
		    "(mode %04o), whose members decide who may connect: %s",
		    (unsigned)(st.st_mode & 07777), c->c_allow_list);
	snprintf(dir, sizeof(dir), "%s", c->c_allow_list);
	if ((slash = strrchr(dir, '/')) == NULL)
		return;
	slash[slash == dir ? 1 : 0] = '\0';
	if (stat(dir, &st) == 0 && (st.st_mode & S_IWOTH) &&
	    !(st.st_mode & S_ISVTX))
		add(r, CHECK_ERROR, c, "allow_list", "its directory is writable "
		    "by others (mode %04o), who can replace the file: %s",
		    (unsigned)(st.st_mode & 07777), dir);
}

/* Addresses a peer can be given: the network's hosts less the server's
 * (the first one), as server/pool.c hands them out. */
static unsigned pool_hosts(const struct cidr *net)
{
	return net->plen >= 31 ? 0 : (1u << (32 - net->plen)) - 3;
}

/* Every allow-list peer without a static address needs one of the pool's:
 * the ones left after the statics. More peers than that and the last to
 * connect is refused for want of an address, on a busy day. */
static void check_pool(const struct conf *c, struct check_report *r)
{
	struct allow_list al = { 0 };
	struct conf_err ce;
	char net[INET_ADDRSTRLEN];
	unsigned nstatic = 0, ndyn = 0, hosts = pool_hosts(&c->c_network);

	if (allow_load6(&al, c->c_allow_list, &c->c_network,
	    c->c_has_network6 ? &c->c_network6 : NULL, &ce) < 0) {
		r->cr_errors++;		/* its own file:line: key */
		if (r->cr_n < CHECK_MAX_FINDINGS)
			r->cr_f[r->cr_n++] = (struct check_finding){
				.cf_level = CHECK_ERROR, .cf_err = ce };
		return;
	}
	for (size_t i = 0; i < al.al_n; i++) {
		if (al.al_e[i].ae_has_addr)
			nstatic++;
		else
			ndyn++;
	}
	allow_free(&al);
	if (ndyn <= hosts - nstatic)	/* statics are distinct, inside */
		return;
	inet_ntop(AF_INET, &c->c_network.addr, net, sizeof(net));
	add(r, CHECK_ERROR, c, "network", "%s/%d leaves %u pool address%s "
	    "(%u static) for %u allow-list peers without an address; use a "
	    "larger network", net, c->c_network.plen, hosts - nstatic,
	    hosts - nstatic == 1 ? "" : "es", nstatic, ndyn);
}

/* The tunnel network must be the daemon's alone: a host address inside it
 * (other than on our own TUN device, which holds the server's address
 * while vpnd runs) is one a peer may be given, and the two then shadow
 * each other. An interface prefix that merely contains the network is a
 * warning: the TUN route is the longer one and wins, yet hosts on that
 * link in the range are out of reach. */
static void check_network(const struct conf *c, const struct check_probe *pr,
    struct check_report *r)
{
	static struct check_addr a[CHECK_MAX_ADDRS];	/* not on the stack */
	char net[INET_ADDRSTRLEN], host[INET_ADDRSTRLEN];
	struct cidr ifnet;
	int i, n;

	inet_ntop(AF_INET, &c->c_network.addr, net, sizeof(net));
	if ((n = pr->cp_addrs(pr->cp_arg, a, CHECK_MAX_ADDRS)) < 0) {
		add(r, CHECK_WARNING, c, "network", "cannot list this host's "
		    "addresses to compare: %s", strerror(-n));
		return;
	}
	for (i = 0; i < n; i++) {
		if (strcmp(a[i].ca_ifname, c->c_tun_name) == 0)
			continue;
		inet_ntop(AF_INET, &a[i].ca_addr, host, sizeof(host));
		ifnet.addr = a[i].ca_addr;
		ifnet.plen = a[i].ca_plen;
		if (cidr_contains(&c->c_network, a[i].ca_addr))
			add(r, CHECK_ERROR, c, "network", "%s/%d overlaps %s/%d "
			    "on %s, an address of this host", net,
			    c->c_network.plen, host, a[i].ca_plen, a[i].ca_ifname);
		else if (a[i].ca_plen > 0 && a[i].ca_plen < c->c_network.plen &&
		    cidr_contains(&ifnet, c->c_network.addr))
			add(r, CHECK_WARNING, c, "network", "%s/%d lies inside "
			    "%s/%d on %s: hosts there in that range become "
			    "unreachable", net, c->c_network.plen, host,
			    a[i].ca_plen, a[i].ca_ifname);
	}
}

static void check_nat(const struct conf *c, const struct check_probe *pr,
    struct check_report *r)
{
	if (c->c_nat_out[0] != '\0' && !pr->cp_if_exists(pr->cp_arg, c->c_nat_out))
		add(r, CHECK_WARNING, c, "nat.out_interface", "no device \"%s\" "
		    "on this host now; nothing is masqueraded until it exists",
		    c->c_nat_out);
}

static bool is_wildcard(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_addr.s_addr ==
		    htonl(INADDR_ANY);
	return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

/* A listen address that is not local now: vpnd binds it anyway
 * (IP_FREEBIND, tunnel/sock.c), for a failover address that comes here
 * later; a typo would go unnoticed as well, so it is said. */
static void check_listen(const struct conf *c, const struct check_probe *pr,
    struct check_report *r)
{
	char buf[INET6_ADDRSTRLEN + 8];

	for (int i = 0; i < c->c_nlisten; i++) {
		if (is_wildcard(&c->c_listen[i]) ||
		    pr->cp_local(pr->cp_arg, &c->c_listen[i]) != -EADDRNOTAVAIL)
			continue;
		add(r, CHECK_WARNING, c, "listen", "%s is not an address of "
		    "this host; vpnd listens on it anyway and serves it once "
		    "it is (a failover address)",
		    conf_sockaddr_str(&c->c_listen[i], buf, sizeof(buf)));
	}
}

/* A hook runs as root: whoever can rewrite it is root. Others: an error;
 * its group: a warning (a group of administrators may be meant to). */
static void check_hook(const struct conf *c, const char *key, const char *path,
    struct check_report *r)
{
	struct stat st;

	if (path[0] == '\0')
		return;
	if (stat(path, &st) < 0) {
		add(r, CHECK_ERROR, c, key, "cannot stat %s: %s", path, strerror(errno));
		return;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		add(r, st.st_mode & S_IWOTH ? CHECK_ERROR : CHECK_WARNING, c, key,
		    "%s is writable by %s (mode %04o), and it runs as root: chmod go-w %s",
		    path, (st.st_mode & S_IWOTH) ? "others" : "its group",
		    (unsigned)(st.st_mode & 07777), path);
}

/* Valid, but unwise. */
static void check_user(const struct conf *c, struct check_report *r)
{
	gid_t g[256];
	int i, n = (int)(sizeof(g) / sizeof(g[0]));

	if (c->c_user[0] == '\0')
		return;
	if (strcmp(c->c_user, "nobody") == 0 || c->c_uid == 65534)
		add(r, CHECK_WARNING, c, "user", "\"%s\" is shared with other "
		    "services, whose processes could signal or inspect vpnd; use "
		    "a user of its own such as \"vpnd\"", c->c_user);
	if (c->c_control_group[0] == '\0' ||
	    getgrouplist(c->c_user, c->c_gid, g, &n) < 0)
		return;
	for (i = 0; i < n && g[i] != c->c_control_gid; i++)
		;
	if (i < n)
		add(r, CHECK_WARNING, c, "control_group", "user \"%s\" is a "
		    "member of \"%s\", yet vpnd's own user is always refused on "
		    "the control socket", c->c_user, c->c_control_group);
}

int check_conf(const struct conf *c, const struct check_probe *probe,
    struct check_report *r)
{
	const struct check_probe *pr = probe != NULL ? probe : &check_probe_host;

	memset(r, 0, sizeof(*r));
	check_key(c, r);
	if (c->c_mode == CONF_SERVER) {
		check_allow_mode(c, r);
		check_pool(c, r);
		check_network(c, pr, r);
		check_nat(c, pr, r);
		check_listen(c, pr, r);
	}
	check_hook(c, "on_connect", c->c_on_connect, r);
	check_hook(c, "on_disconnect", c->c_on_disconnect, r);
	check_user(c, r);
	return r->cr_errors > 0 ? -EINVAL : 0;
}

/* --- the real host --- */

static int host_addrs(void *arg, struct check_addr *out, int max)
{
	struct ifaddrs *ifa, *i;
	int n = 0;
	uint32_t m;

	(void)arg;
	if (getifaddrs(&ifa) < 0)
		return -errno;
	for (i = ifa; i != NULL && n < max; i = i->ifa_next) {
		if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET)
			continue;
		snprintf(out[n].ca_ifname, IFNAMSIZ, "%s", i->ifa_name);
		out[n].ca_addr = ((struct sockaddr_in *)i->ifa_addr)->sin_addr;
		m = i->ifa_netmask != NULL ?
		    ntohl(((struct sockaddr_in *)i->ifa_netmask)->sin_addr.s_addr) : ~0u;
		out[n].ca_plen = __builtin_popcount(m);
		n++;
	}
	freeifaddrs(ifa);
	return n;
}

static bool host_if_exists(void *arg, const char *ifname)
{
	(void)arg;
	return if_nametoindex(ifname) != 0;
}

/* bind() to port 0 asks the kernel itself, with its view of local
 * addresses (a whole 127/8, ip_nonlocal_bind): exactly what the
 * daemon's own bind will meet. */
static int host_local(void *arg, const struct sockaddr_storage *ss)
{
	struct sockaddr_storage a = *ss;
	socklen_t len;
	int fd, rc = 0;

	(void)arg;
	if (a.ss_family == AF_INET) {
		((struct sockaddr_in *)&a)->sin_port = 0;
		len = sizeof(struct sockaddr_in);
	} else {
		((struct sockaddr_in6 *)&a)->sin6_port = 0;
		len = sizeof(struct sockaddr_in6);
	}
	if ((fd = socket(a.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&a, len) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

const struct check_probe check_probe_host = {
	.cp_addrs     = host_addrs,
	.cp_if_exists = host_if_exists,
	.cp_local     = host_local,
	.cp_arg       = NULL,
};
