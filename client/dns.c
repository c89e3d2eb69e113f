/* dns.c - pushed resolvers on the tunnel device (see dns.h). The
 * systemd-resolved back-end makes the calls resolvectl makes: SetLinkDNS,
 * SetLinkDomains, SetLinkDefaultRoute, and RevertLink to take them back.
 * The resolvconf back-end is openresolv's interface record, added with
 * `resolvconf -a tun.IFNAME -m 0 -x` and a resolv.conf fragment on stdin,
 * deleted with `resolvconf -d tun.IFNAME -f`, as wg-quick does. Both run
 * only when the tunnel comes up, changes or goes: never per packet.
 * libsystemd's sd-bus is loaded (daemon/sysd.c) by the first look for
 * resolved. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client/dns.h"
#include "daemon/sysd.h"

#define RESOLVE_NAME  "org.freedesktop.resolve1"
#define RESOLVE_PATH  "/org/freedesktop/resolve1"
#define RESOLVE_IFACE "org.freedesktop.resolve1.Manager"
#define BUS_TIMEOUT_US (5 * 1000000ull)
#define RUN_LIMIT_MS   10000

void dns_init(struct dns *d, const char *ifname, int ifindex,
    const struct dns_ops *ops, void *arg)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->d_ifname, sizeof(d->d_ifname), "%s", ifname);
	d->d_ifindex = ifindex;
	d->d_ops = ops;
	d->d_arg = arg;
	d->d_path = DNS_PATH;
}

const char *dns_backend_name(enum dns_backend b)
{
	return b == DNS_RESOLVED ? "systemd-resolved" :
	    b == DNS_RESOLVCONF ? "resolvconf" : "none";
}

/* ---- systemd-resolved ---- */

/* libsystemd, loaded by resolved_bus: every other resolved_ call works on
 * the bus it returned. */
static const struct sysd *sd;

/* The system bus, if resolved is on it: 1 with *out, 0 without. A bus
 * that cannot be reached means no resolved (a host without D-Bus), as does
 * a host without libsystemd. */
static int resolved_bus(sd_bus **out)
{
	sd_bus_message *r = NULL;
	sd_bus *bus = NULL;
	int has = 0;

	*out = NULL;
	if (sd == NULL && (sd = sysd_get()) == NULL)
		return 0;
	if (sd->bus_open_system(&bus) < 0)
		return 0;
	/* NameHasOwner, not a call to resolve1: that would bus-activate it */
	if (sd->bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
	    "org.freedesktop.DBus", "NameHasOwner", NULL, &r, "s",
	    RESOLVE_NAME) < 0 || sd->bus_message_read(r, "b", &has) < 0)
		has = 0;
	sd->bus_message_unref(r);
	if (!has) {
		sd->bus_flush_close_unref(bus);
		return 0;
	}
	*out = bus;
	return 1;
}

static int resolved_call(sd_bus *bus, sd_bus_message *m)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	int err;

	err = sd->bus_call(bus, m, BUS_TIMEOUT_US, &e, NULL);
	if (err < 0 && sd->bus_error_is_set(&e) && sd->bus_error_get_errno(&e) > 0)
		err = -sd->bus_error_get_errno(&e);
	sd->bus_error_free(&e);
	return err < 0 ? err : 0;
}

static int resolved_new(sd_bus *bus, sd_bus_message **m, const char *method,
    int ifindex)
{
	int err;

	if ((err = sd->bus_message_new_method_call(bus, m, RESOLVE_NAME,
	    RESOLVE_PATH, RESOLVE_IFACE, method)) < 0 ||
	    (err = sd->bus_message_append(*m, "i", ifindex)) < 0)
		return err;
	return 0;
}

/* SetLinkDNS(i ifindex, a(iay) addresses) */
static int resolved_servers(sd_bus *bus, const struct dns *d,
    const struct dns_set *s)
{
	sd_bus_message *m = NULL;
	int i, err;

	if ((err = resolved_new(bus, &m, "SetLinkDNS", d->d_ifindex)) < 0 ||
	    (err = sd->bus_message_open_container(m, 'a', "(iay)")) < 0)
		goto out;
	for (i = 0; i < s->ds_nservers; i++) {
		const struct conf_dns *a = &s->ds_servers[i];

		if ((err = sd->bus_message_open_container(m, 'r', "iay")) < 0 ||
		    (err = sd->bus_message_append(m, "i", a->cd_family)) < 0 ||
		    (err = sd->bus_message_append_array(m, 'y', a->cd_addr,
		    a->cd_family == AF_INET ? 4 : 16)) < 0 ||
		    (err = sd->bus_message_close_container(m)) < 0)
			goto out;
	}
	if ((err = sd->bus_message_close_container(m)) < 0)
		goto out;
	err = resolved_call(bus, m);
out:
	sd->bus_message_unref(m);
	return err;
}

/* SetLinkDomains(i ifindex, a(sb) domains): routing-only as a flag, the
 * "~" stripped, as resolvectl does; a full tunnel adds "~." so that every
 * name without a more specific link goes to the tunnel's servers. */
static int resolved_domains(sd_bus *bus, const struct dns *d,
    const struct dns_set *s)
{
	sd_bus_message *m = NULL;
	int i, err;

	if ((err = resolved_new(bus, &m, "SetLinkDomains", d->d_ifindex)) < 0 ||
	    (err = sd->bus_message_open_container(m, 'a', "(sb)")) < 0)
		goto out;
	for (i = 0; i < s->ds_ndomains; i++) {
		const char *n = s->ds_domains[i];
		int routing = n[0] == '~';

		if ((err = sd->bus_message_append(m, "(sb)", n + routing, routing)) < 0)
			goto out;
	}
	if (s->ds_full_tunnel && (err = sd->bus_message_append(m, "(sb)", ".", 1)) < 0)
		goto out;
	if ((err = sd->bus_message_close_container(m)) < 0)
		goto out;
	err = resolved_call(bus, m);
out:
	sd->bus_message_unref(m);
	return err;
}

static int resolved_simple(sd_bus *bus, const struct dns *d, const char *method,
    int with_bool, int b)
{
	sd_bus_message *m = NULL;
	int err;

	if ((err = resolved_new(bus, &m, method, d->d_ifindex)) >= 0 &&
	    (!with_bool || (err = sd->bus_message_append(m, "b", b)) >= 0))
		err = resolved_call(bus, m);
	sd->bus_message_unref(m);
	return err;
}

static int resolved_apply(sd_bus *bus, const struct dns *d,
    const struct dns_set *s)
{
	int err;

	if ((err = resolved_servers(bus, d, s)) < 0 ||
	    (err = resolved_domains(bus, d, s)) < 0)
		return err;
	if (s->ds_full_tunnel)
		return resolved_simple(bus, d, "SetLinkDefaultRoute", 1, 1);
	return 0;
}

/* ---- resolvconf ---- */

int dns_resolvconf_text(const struct dns_set *s, char *buf, size_t cap)
{
	char a[INET6_ADDRSTRLEN];
	size_t off = 0;
	int i, n, nsearch = 0;

	buf[0] = '\0';
	for (i = 0; i < s->ds_nservers; i++) {
		inet_ntop(s->ds_servers[i].cd_family, s->ds_servers[i].cd_addr, a,
		    sizeof(a));
		n = snprintf(buf + off, cap - off, "nameserver %s\n", a);
		if (n < 0 || (size_t)n >= cap - off)
			return -ENOSPC;
		off += (size_t)n;
	}
	for (i = 0; i < s->ds_ndomains; i++) {
		if (s->ds_domains[i][0] == '~')
			continue;
		n = snprintf(buf + off, cap - off, "%s%s", nsearch++ ? " " : "search ",
		    s->ds_domains[i]);
		if (n < 0 || (size_t)n >= cap - off)
			return -ENOSPC;
		off += (size_t)n;
	}
	if (nsearch > 0) {
		if (cap - off < 2)
			return -ENOSPC;
		buf[off++] = '\n';
		buf[off] = '\0';
	}
	return (int)off;
}

/* resolvconf's path in d_path's directories, or -ENOENT. */
static int resolvconf_find(const struct dns *d, char *out, size_t cap)
{
	const char *p = d->d_path, *colon;
	size_t len;
	int n;

	for (; *p != '\0'; p = *colon ? colon + 1 : colon) {
		colon = strchrnul(p, ':');
		len = (size_t)(colon - p);
		n = snprintf(out, cap, "%.*s/resolvconf", (int)len, p);
		if (len > 0 && n > 0 && (size_t)n < cap && access(out, X_OK) == 0)
			return 0;
	}
	return -ENOENT;
}

static int resolvconf_run(const struct dns *d, char *path, bool add,
    const char *in, size_t len)
{
	char record[IFNAMSIZ + 8];
	char *add_argv[] = { path, "-a", record, "-m", "0", "-x", NULL };
	char *del_argv[] = { path, "-d", record, "-f", NULL };
	int rc;

	snprintf(record, sizeof(record), "tun.%s", d->d_ifname);
	rc = d->d_ops->run(d->d_arg, add ? add_argv : del_argv, in, len);
	return rc > 0 ? -EIO : rc;
}

/* Wait for pid, at most RUN_LIMIT_MS; a program that hangs is killed. */
static int run_wait(pid_t pid)
{
	struct timespec tick = { 0, 10 * 1000000L };
	int st, ms;

	for (ms = 0; ms < RUN_LIMIT_MS; ms += 10) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		if (r < 0 && errno != EINTR)
			return -errno;
		nanosleep(&tick, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -ETIMEDOUT;
}

/* posix_spawn, not fork: a forked child runs the process's atfork handlers,
 * and libuv's re-creates its signal pipe there, on whatever descriptor
 * numbers it once had (in the privileged helper, which closed them, those
 * are this function's pipe: the child's stdin became libuv's pipe). The
 * child: stdin from the pipe, stdout to /dev/null (resolvconf's complaints
 * on stderr reach the daemon's log), signals as a fresh process has them,
 * an environment of PATH alone; every other descriptor is close-on-exec. */
static int run_exec(void *arg, char *const argv[], const char *in, size_t len)
{
	static char *const envp[] = { "PATH=" DNS_PATH, NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	int inp[2], rc;
	pid_t pid;

	(void)arg;
	if (pipe2(inp, O_CLOEXEC) < 0)
		return -errno;
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	posix_spawn_file_actions_adddup2(&fa, inp[0], 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &all);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawn(&pid, argv[0], &fa, &at, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(inp[0]);
	if (rc != 0) {
		close(inp[1]);
		return -rc;			/* exec failed: say why */
	}
	/* a fragment is far below a pipe's 64 KiB: this write cannot block
	 * on a child that does not read */
	if (len > 0 && write(inp[1], in, len) < 0 && errno != EPIPE)
		rc = -errno;
	close(inp[1]);
	return rc < 0 ? rc : run_wait(pid);
}

const struct dns_ops dns_exec_ops = { .run = run_exec };

/* ---- choosing and switching ---- */

static bool set_equal(const struct dns_set *a, const struct dns_set *b)
{
	int i;

	if (a->ds_nservers != b->ds_nservers || a->ds_ndomains != b->ds_ndomains ||
	    a->ds_full_tunnel != b->ds_full_tunnel)
		return false;
	for (i = 0; i < a->ds_nservers; i++)
		if (a->ds_servers[i].cd_family != b->ds_servers[i].cd_family ||
		    memcmp(a->ds_servers[i].cd_addr, b->ds_servers[i].cd_addr, 16) != 0)
			return false;
	for (i = 0; i < a->ds_ndomains; i++)
		if (strcmp(a->ds_domains[i], b->ds_domains[i]) != 0)
			return false;
	return true;
}

int dns_remove(struct dns *d)
{
	enum dns_backend was = d->d_applied;
	char path[PATH_MAX];
	sd_bus *bus;
	int err = 0;

	d->d_applied = DNS_NONE;
	memset(&d->d_set, 0, sizeof(d->d_set));
	if (was == DNS_RESOLVED) {
		if (resolved_bus(&bus) == 1) {
			err = resolved_simple(bus, d, "RevertLink", 0, 0);
			sd->bus_flush_close_unref(bus);
		}			/* resolved gone: it forgot the link itself */
	} else if (was == DNS_RESOLVCONF) {
		if ((err = resolvconf_find(d, path, sizeof(path))) == 0)
			err = resolvconf_run(d, path, false, NULL, 0);
	}
	return err;
}

int dns_apply(struct dns *d, const struct dns_set *s, enum dns_backend *used)
{
	char path[PATH_MAX], text[DNS_RESOLVCONF_MAX];
	enum dns_backend to = DNS_NONE;
	sd_bus *bus = NULL;
	int n, err;

	*used = d->d_applied;
	if (s->ds_nservers == 0 && s->ds_ndomains == 0) {
		*used = DNS_NONE;
		return dns_remove(d);
	}
	if (d->d_applied != DNS_NONE && set_equal(&d->d_set, s))
		return 0;
	if (resolved_bus(&bus) == 1)
		to = DNS_RESOLVED;
	else if (resolvconf_find(d, path, sizeof(path)) == 0)
		to = DNS_RESOLVCONF;
	else
		return -ENOTSUP;
	if (d->d_applied != DNS_NONE && d->d_applied != to)
		(void)dns_remove(d);	/* the old back-end's record must not linger */
	if (to == DNS_RESOLVED) {
		err = resolved_apply(bus, d, s);
		sd->bus_flush_close_unref(bus);
	} else if ((n = dns_resolvconf_text(s, text, sizeof(text))) < 0)
		err = n;
	else
		err = resolvconf_run(d, path, true, text, (size_t)n);
	if (err < 0)
		return err;
	d->d_applied = to;
	d->d_set = *s;
	*used = to;
	return 0;
}

/* ---- the privileged helper's side ---- */

static int dns_req_check(const struct dns_req *r)
{
	const struct dns_set *s = &r->dr_set;
	int i;

	if ((r->dr_op != DNS_REQ_APPLY && r->dr_op != DNS_REQ_REMOVE) ||
	    s->ds_nservers < 0 || s->ds_nservers > CONF_MAX_DNS ||
	    s->ds_ndomains < 0 || s->ds_ndomains > CONF_MAX_SEARCH)
		return -EINVAL;
	for (i = 0; i < s->ds_nservers; i++)
		if (s->ds_servers[i].cd_family != AF_INET &&
		    s->ds_servers[i].cd_family != AF_INET6)
			return -EINVAL;
	for (i = 0; i < s->ds_ndomains; i++)
		if (memchr(s->ds_domains[i], '\0', sizeof(s->ds_domains[i])) == NULL ||
		    conf_check_domain(s->ds_domains[i]) < 0)
			return -EINVAL;
	return 0;
}

int dns_helper(void *arg, const void *req, size_t len)
{
	struct dns *d = arg;
	struct dns_req r;
	enum dns_backend used = DNS_NONE;
	int err;

	if (req == NULL)
		return d->d_applied == DNS_NONE ? 0 : dns_remove(d);
	if (len != sizeof(r))
		return -EINVAL;
	memcpy(&r, req, sizeof(r));
	if ((err = dns_req_check(&r)) < 0)
		return err;
	if (r.dr_op == DNS_REQ_REMOVE)
		return (err = dns_remove(d)) < 0 ? err : DNS_NONE;
	return (err = dns_apply(d, &r.dr_set, &used)) < 0 ? err : (int)used;
}
