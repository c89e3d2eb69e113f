/* conf.c - read vpnd.conf (libconfig syntax) into a struct conf and check it.
 * "mode" is read first since it decides which keys are allowed and the
 * defaults; then every top-level setting is dispatched, in file order,
 * through the key table to a handler that checks its type and value; last,
 * finish() checks required keys and the rules that tie two keys together.
 * Relative paths (key, cert, allow_list, state_dir, control_socket) are
 * resolved against the directory of the config file, made absolute, so a
 * later chdir() does not change their meaning. Every error fills struct
 * conf_err with the file, the line of the offending setting and a message
 * that starts with the key.
 *
 * An @include is looked up in the config file's directory too (libconfig 1.5
 * then cannot include an absolute path). libconfig 1.5 gives a list element
 * the line of the token after it, so an error in a list element is reported
 * at the line of the list's key. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "conf/conf.h"
#include "conf/include.h"

#define M_SERVER 0x1
#define M_CLIENT 0x2
#define M_BOTH   (M_SERVER | M_CLIENT)

struct parse {
	struct conf     *p_c;
	struct conf_err *p_err;
	const char      *p_path;	/* as the caller gave it */
	char             p_dir[PATH_MAX];/* absolute directory of p_path */
	int              p_mode;	/* M_SERVER or M_CLIENT */
	bool             p_reread;	/* conf_reread: files not opened */
};

struct key {
	const char *k_name;
	int         k_modes;
	int       (*k_fn)(struct parse *, const config_setting_t *);
};

static int fail(struct parse *p, const config_setting_t *s, int errnum,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Fill *err at setting s (NULL: line 0) and return -errnum (< 0). */
static int fail(struct parse *p, const config_setting_t *s, int errnum,
    const char *fmt, ...)
{
	const char *file = p->p_path;
	va_list ap;
	int rc;

	if (s != NULL && config_setting_source_file(s) != NULL)
		file = config_setting_source_file(s);	/* an @include */
	va_start(ap, fmt);
	rc = conf_err_vset(p->p_err, file, s != NULL ? (int)config_setting_source_line(s) : 0,
	    errnum, fmt, ap);
	va_end(ap);
	return rc;
}

/* A short decimal number (port, prefix length): digits only, in lo..hi. */
static int parse_num(const char *s, size_t len, long lo, long hi, long *out)
{
	char buf[8], *end;
	long v;

	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (!isdigit((unsigned char)buf[0]))
		return -EINVAL;
	errno = 0;
	v = strtol(buf, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

/* "a.b.c.d/n" (AF_INET) or "x:y::/n" (AF_INET6) without the host-bits
 * check: the address into addr, the length into *plen. */
static int parse_prefix_af(const char *s, int af, void *addr, int *plen)
{
	char a[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	long n;

	if (slash == NULL || (size_t)(slash - s) >= sizeof(a))
		return -EINVAL;
	memcpy(a, s, (size_t)(slash - s));
	a[slash - s] = '\0';
	if (inet_pton(af, a, addr) != 1 ||
	    parse_num(slash + 1, strlen(slash + 1), 0, af == AF_INET ? 32 : 128, &n) < 0)
		return -EINVAL;
	*plen = (int)n;
	return 0;
}

static int parse_prefix(const char *s, struct cidr *out)
{
	return parse_prefix_af(s, AF_INET, &out->addr, &out->plen);
}

static uint32_t prefix_mask(int plen)
{
	return plen == 0 ? 0 : htonl(~(uint32_t)0 << (32 - plen));
}

int conf_parse_cidr(const char *s, struct cidr *out)
{
	struct cidr c;

	if (parse_prefix(s, &c) < 0 ||
	    (c.addr.s_addr & ~prefix_mask(c.plen)) != 0)
		return -EINVAL;
	*out = c;
	return 0;
}

bool cidr_contains(const struct cidr *c, struct in_addr a)
{
	uint32_t mask = prefix_mask(c->plen);

	return (a.s_addr & mask) == (c->addr.s_addr & mask);
}

/* ---- IPv6 prefixes ---- */

static int parse_prefix6(const char *s, struct cidr6 *out)
{
	return parse_prefix_af(s, AF_INET6, &out->addr, &out->plen);
}

/* a with the bits past plen cleared. */
static struct in6_addr mask6(const struct in6_addr *a, int plen)
{
	struct in6_addr m = *a;
	int i;

	for (i = 0; i < 16; i++, plen -= 8)
		if (plen <= 0)
			m.s6_addr[i] = 0;
		else if (plen < 8)
			m.s6_addr[i] &= (uint8_t)(0xff << (8 - plen));
	return m;
}

int conf_parse_cidr6(const char *s, struct cidr6 *out)
{
	struct cidr6 c;
	struct in6_addr m;

	if (parse_prefix6(s, &c) < 0)
		return -EINVAL;
	m = mask6(&c.addr, c.plen);
	if (memcmp(&m, &c.addr, 16) != 0)
		return -EINVAL;
	*out = c;
	return 0;
}

bool cidr6_contains(const struct cidr6 *c, const struct in6_addr *a)
{
	struct in6_addr x = mask6(a, c->plen), y = mask6(&c->addr, c->plen);

	return memcmp(&x, &y, 16) == 0;
}

int cidr6_host(const struct cidr6 *c, uint64_t n, struct in6_addr *out)
{
	int hostbits = 128 - c->plen, i;

	if (hostbits < 64 && n >> hostbits != 0)
		return -ERANGE;
	*out = c->addr;
	for (i = 15; i >= 8; i--, n >>= 8)
		out->s6_addr[i] |= (uint8_t)(n & 0xff);
	return 0;
}

int conf_check_domain(const char *s)
{
	size_t n, label = 0;

	if (*s == '~')
		s++;
	n = strlen(s);
	if (n > 0 && s[n - 1] == '.')
		n--;			/* "corp.example." is absolute, same name */
	if (n == 0 || n > 253)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (label == 0)
				return -EINVAL;
			label = 0;
		} else if (isascii((unsigned char)s[i]) &&
		    (isalnum((unsigned char)s[i]) || s[i] == '-')) {
			if (++label > 63)
				return -EINVAL;
		} else
			return -EINVAL;
	}
	return label == 0 ? -EINVAL : 0;
}

static bool host_char_ok(int ch)
{
	return isalnum(ch) || ch == '.' || ch == '-' || ch == '_';
}

int conf_parse_hostport(const char *s, struct conf_server_addr *out)
{
	struct conf_server_addr a;
	struct in6_addr a6;
	const char *colon = strrchr(s, ':'), *host = s;
	size_t hlen;
	long port;

	if (colon == NULL ||
	    parse_num(colon + 1, strlen(colon + 1), 1, 65535, &port) < 0)
		return -EINVAL;
	hlen = (size_t)(colon - s);
	if (s[0] == '[') {		/* "[v6]:port" */
		if (hlen < 3 || s[hlen - 1] != ']')
			return -EINVAL;
		host++;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= sizeof(a.host))
		return -EINVAL;
	memcpy(a.host, host, hlen);
	a.host[hlen] = '\0';
	if (host != s && inet_pton(AF_INET6, a.host, &a6) != 1)
		return -EINVAL;
	for (size_t i = 0; host == s && i < hlen; i++)
		if (!host_char_ok((unsigned char)a.host[i]))
			return -EINVAL;
	snprintf(a.port, sizeof(a.port), "%ld", port);
	*out = a;
	return 0;
}

int conf_parse_sockaddr(const char *s, struct sockaddr_storage *out)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	struct conf_server_addr a;
	long port;

	if (conf_parse_hostport(s, &a) < 0 ||
	    parse_num(a.port, strlen(a.port), 1, 65535, &port) < 0)
		return -EINVAL;
	if (s[0] == '[') {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, a.host, &sin6->sin6_addr) != 1)
			return -EINVAL;
	} else {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, a.host, &sin->sin_addr) != 1)
			return -EINVAL;
	}
	*out = ss;
	return 0;
}

/* --- typed getters; key is the name used in messages ("tun.mtu") --- */

static int get_string(struct parse *p, const config_setting_t *s,
    const char *key, const char **out)
{
	*out = "";
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return fail(p, s, EINVAL, "%s: expected a string", key);
	*out = config_setting_get_string(s);
	return 0;
}

/* libconfig 1.5 truncates an unsuffixed literal beyond 32 bits itself;
 * nothing here can see that. */
static int get_int(struct parse *p, const config_setting_t *s,
    const char *key, long long lo, long long hi, int *out)
{
	long long v;

	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64)
		return fail(p, s, EINVAL, "%s: expected an integer", key);
	v = config_setting_get_int64(s);
	if (v < lo || v > hi)
		return fail(p, s, EINVAL, "%s: %lld is out of range %lld..%lld",
		    key, v, lo, hi);
	*out = (int)v;
	return 0;
}

static int get_bool(struct parse *p, const config_setting_t *s,
    const char *key, bool *out)
{
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return fail(p, s, EINVAL, "%s: expected true or false", key);
	*out = config_setting_get_bool(s) != 0;
	return 0;
}

/* A string resolved against the config file's directory into out. */
static int get_path(struct parse *p, const config_setting_t *s,
    const char *key, char out[PATH_MAX])
{
	const char *v;
	int err, n;

	if ((err = get_string(p, s, key, &v)) < 0)
		return err;
	if (v[0] == '\0')
		return fail(p, s, EINVAL, "%s: empty path", key);
	if (v[0] == '/')
		n = snprintf(out, PATH_MAX, "%s", v);
	else
		n = snprintf(out, PATH_MAX, "%s%s%s", p->p_dir,
		    strcmp(p->p_dir, "/") == 0 ? "" : "/", v);
	if (n < 0 || n >= PATH_MAX)
		return fail(p, s, ENAMETOOLONG, "%s: path too long", key);
	return 0;
}

/* A path that must name a readable regular file. */
static int get_file(struct parse *p, const config_setting_t *s,
    const char *key, char out[PATH_MAX])
{
	struct stat st;
	int err;

	if ((err = get_path(p, s, key, out)) < 0 || p->p_reread)
		return err;
	if (stat(out, &st) < 0 || access(out, R_OK) < 0)
		return fail(p, s, errno, "%s: cannot read %s: %s", key, out,
		    strerror(errno));
	if (!S_ISREG(st.st_mode))
		return fail(p, s, EINVAL, "%s: %s is not a regular file", key,
		    out);
	return 0;
}

/* Linux's rules for a device name (dev_valid_name), and IFNAMSIZ. */
static int get_ifname(struct parse *p, const config_setting_t *s,
    const char *key, char out[IFNAMSIZ])
{
	const char *v;
	int err;

	if ((err = get_string(p, s, key, &v)) < 0)
		return err;
	if (strlen(v) >= IFNAMSIZ)
		return fail(p, s, EINVAL, "%s: \"%.32s\" is longer than %d "
		    "characters", key, v, IFNAMSIZ - 1);
	if (v[0] == '\0' || strcmp(v, ".") == 0 || strcmp(v, "..") == 0 ||
	    strpbrk(v, "/: \t\n") != NULL)
		return fail(p, s, EINVAL, "%s: \"%s\" is not a valid interface "
		    "name", key, v);
	snprintf(out, IFNAMSIZ, "%s", v);
	return 0;
}

/* A CIDR prefix, with a message that says which way it is wrong. */
static int get_cidr(struct parse *p, const config_setting_t *s,
    const char *key, const char *v, struct cidr *out)
{
	char net[INET_ADDRSTRLEN];
	struct in_addr a;

	if (parse_prefix(v, out) < 0)
		return fail(p, s, EINVAL, "%s: \"%.64s\" is not a CIDR prefix",
		    key, v);
	a.s_addr = out->addr.s_addr & prefix_mask(out->plen);
	if (a.s_addr != out->addr.s_addr) {
		inet_ntop(AF_INET, &a, net, sizeof(net));
		return fail(p, s, EINVAL, "%s: \"%s\" has host bits set "
		    "(%s/%d?)", key, v, net, out->plen);
	}
	return 0;
}

/* The same for an IPv6 prefix. */
static int get_cidr6(struct parse *p, const config_setting_t *s,
    const char *key, const char *v, struct cidr6 *out)
{
	char net[INET6_ADDRSTRLEN];
	struct in6_addr a;

	if (parse_prefix6(v, out) < 0)
		return fail(p, s, EINVAL, "%s: \"%.64s\" is not a CIDR prefix",
		    key, v);
	a = mask6(&out->addr, out->plen);
	if (memcmp(&a, &out->addr, 16) != 0) {
		inet_ntop(AF_INET6, &a, net, sizeof(net));
		return fail(p, s, EINVAL, "%s: \"%s\" has host bits set "
		    "(%s/%d?)", key, v, net, out->plen);
	}
	return 0;
}

/* A string, or a list or array of strings: calls fn on each. */
static int for_each_string(struct parse *p, const config_setting_t *s,
    const char *key, int max,
    int (*fn)(struct parse *, const config_setting_t *, const char *))
{
	const config_setting_t *e;
	int i, n, err;

	if (config_setting_type(s) == CONFIG_TYPE_STRING)
		return fn(p, s, config_setting_get_string(s));
	if (!config_setting_is_aggregate(s) || config_setting_is_group(s))
		return fail(p, s, EINVAL, "%s: expected a string or a list of "
		    "strings", key);
	if ((n = config_setting_length(s)) > max)
		return fail(p, s, EINVAL, "%s: more than %d entries", key, max);
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(s, (unsigned)i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING)
			return fail(p, s, EINVAL, "%s: expected a string or a "
			    "list of strings", key);
		if ((err = fn(p, s, config_setting_get_string(e))) < 0)
			return err;
	}
	return 0;
}

/* --- one handler per top-level key --- */

static int h_mode(struct parse *p, const config_setting_t *s)
{
	(void)p;
	(void)s;		/* read before dispatch, by read_mode() */
	return 0;
}

static int add_listen(struct parse *p, const config_setting_t *s,
    const char *v)
{
	struct conf *c = p->p_c;

	if (conf_parse_sockaddr(v, &c->c_listen[c->c_nlisten]) < 0)
		return fail(p, s, EINVAL, "listen: \"%.64s\" is not a numeric "
		    "address:port", v);
	c->c_nlisten++;
	return 0;
}

static int h_listen(struct parse *p, const config_setting_t *s)
{
	int err;

	if ((err = for_each_string(p, s, "listen", CONF_MAX_LISTEN,
	    add_listen)) < 0)
		return err;
	if (p->p_c->c_nlisten == 0)
		return fail(p, s, EINVAL, "listen: empty list");
	return 0;
}

static int h_key(struct parse *p, const config_setting_t *s)
{
	return get_file(p, s, "key", p->p_c->c_key);
}

static int h_cert(struct parse *p, const config_setting_t *s)
{
	return get_file(p, s, "cert", p->p_c->c_cert);
}

static int h_allow_list(struct parse *p, const config_setting_t *s)
{
	return get_file(p, s, "allow_list", p->p_c->c_allow_list);
}

static int h_state_dir(struct parse *p, const config_setting_t *s)
{
	return get_path(p, s, "state_dir", p->p_c->c_state_dir);
}

/* A hook runs as root: an absolute path to an executable regular file, so
 * what runs does not depend on the directory vpnd was started in. */
static int get_hook(struct parse *p, const config_setting_t *s,
    const char *key, char out[PATH_MAX])
{
	struct stat st;
	const char *v;
	int err;

	if ((err = get_string(p, s, key, &v)) < 0)
		return err;
	if (v[0] != '/')
		return fail(p, s, EINVAL, "%s: \"%.64s\" is not an absolute path", key, v);
	if ((err = get_path(p, s, key, out)) < 0)
		return err;
	if (stat(out, &st) < 0)
		return fail(p, s, errno, "%s: %s: %s", key, out, strerror(errno));
	if (!S_ISREG(st.st_mode) || access(out, X_OK) < 0)
		return fail(p, s, EACCES, "%s: %s is not an executable file", key, out);
	return 0;
}

static int h_on_connect(struct parse *p, const config_setting_t *s)
{
	return get_hook(p, s, "on_connect", p->p_c->c_on_connect);
}

static int h_on_disconnect(struct parse *p, const config_setting_t *s)
{
	return get_hook(p, s, "on_disconnect", p->p_c->c_on_disconnect);
}

static int h_control_socket(struct parse *p, const config_setting_t *s)
{
	struct sockaddr_un sun;
	int err;

	if ((err = get_path(p, s, "control_socket",
	    p->p_c->c_control_socket)) < 0)
		return err;
	if (strlen(p->p_c->c_control_socket) >= sizeof(sun.sun_path))
		return fail(p, s, ENAMETOOLONG, "control_socket: %s is longer "
		    "than %zu bytes", p->p_c->c_control_socket,
		    sizeof(sun.sun_path) - 1);
	return 0;
}

/* tun.mtu: 576..9000; a client may also say 0, "take the server's". */
static int get_mtu(struct parse *p, const config_setting_t *s)
{
	if (p->p_mode == M_CLIENT &&
	    config_setting_type(s) == CONFIG_TYPE_INT &&
	    config_setting_get_int(s) == 0) {
		p->p_c->c_tun_mtu = 0;
		return 0;
	}
	return get_int(p, s, "tun.mtu", 576, 9000, &p->p_c->c_tun_mtu);
}

/* tun = { name; mtu; }; */
static int h_tun(struct parse *p, const config_setting_t *s)
{
	const config_setting_t *e;
	const char *name;
	int i, err = 0;

	if (!config_setting_is_group(s))
		return fail(p, s, EINVAL, "tun: expected a group { name; mtu; }");
	for (i = 0; err == 0 && i < config_setting_length(s); i++) {
		e = config_setting_get_elem(s, (unsigned)i);
		name = config_setting_name(e);
		if (strcmp(name, "name") == 0)
			err = get_ifname(p, e, "tun.name", p->p_c->c_tun_name);
		else if (strcmp(name, "mtu") == 0)
			err = get_mtu(p, e);
		else
			err = fail(p, e, EINVAL, "tun.%s: unknown key", name);
	}
	return err;
}

static int h_network(struct parse *p, const config_setting_t *s)
{
	struct cidr *net = &p->p_c->c_network;
	const char *v;
	int err;

	if ((err = get_string(p, s, "network", &v)) < 0 ||
	    (err = get_cidr(p, s, "network", v, net)) < 0)
		return err;
	if (net->plen < 16 || net->plen > 30)
		return fail(p, s, EINVAL, "network: prefix length /%d is out of "
		    "range 16..30", net->plen);
	return 0;
}

/* network6 = "fd00:8::/64": /64 (the usual LAN size) to /120 (256
 * addresses, enough for the pool and small enough to be a choice). */
static int h_network6(struct parse *p, const config_setting_t *s)
{
	struct cidr6 *net = &p->p_c->c_network6;
	const char *v;
	int err;

	if ((err = get_string(p, s, "network6", &v)) < 0 ||
	    (err = get_cidr6(p, s, "network6", v, net)) < 0)
		return err;
	if (net->plen < 64 || net->plen > 120)
		return fail(p, s, EINVAL, "network6: prefix length /%d is out of "
		    "range 64..120", net->plen);
	p->p_c->c_has_network6 = true;
	return 0;
}

static int add_route(struct parse *p, const config_setting_t *s,
    const char *v)
{
	struct conf *c = p->p_c;
	int err;

	if (strchr(v, ':') != NULL) {		/* an IPv6 prefix */
		if ((err = get_cidr6(p, s, "routes", v, &c->c_routes6[c->c_nroutes6])) < 0)
			return err;
		c->c_nroutes6++;
		return 0;
	}
	if ((err = get_cidr(p, s, "routes", v, &c->c_routes[c->c_nroutes])) < 0)
		return err;
	c->c_nroutes++;
	return 0;
}

static int h_routes(struct parse *p, const config_setting_t *s)
{
	if (config_setting_type(s) != CONFIG_TYPE_ARRAY &&
	    config_setting_type(s) != CONFIG_TYPE_LIST)
		return fail(p, s, EINVAL, "routes: expected a list of strings");
	return for_each_string(p, s, "routes", CONF_MAX_ROUTES, add_route);
}

/* dns = [ "10.8.0.1", "fd00:8::1" ]; numeric addresses only: a client
 * cannot look a resolver up by name. */
static int add_dns(struct parse *p, const config_setting_t *s, const char *v)
{
	struct conf_dns *d = &p->p_c->c_dns[p->p_c->c_ndns];

	if (inet_pton(AF_INET, v, d->cd_addr) == 1)
		d->cd_family = AF_INET;
	else if (inet_pton(AF_INET6, v, d->cd_addr) == 1)
		d->cd_family = AF_INET6;
	else
		return fail(p, s, EINVAL, "dns: \"%.64s\" is not an IPv4 or "
		    "IPv6 address", v);
	p->p_c->c_ndns++;
	return 0;
}

static int h_dns(struct parse *p, const config_setting_t *s)
{
	return for_each_string(p, s, "dns", CONF_MAX_DNS, add_dns);
}

static int add_search(struct parse *p, const config_setting_t *s,
    const char *v)
{
	struct conf *c = p->p_c;

	if (conf_check_domain(v) < 0)
		return fail(p, s, EINVAL, "dns_search: \"%.64s%s\" is not a "
		    "domain name", v, strlen(v) > 64 ? "..." : "");
	snprintf(c->c_dns_search[c->c_ndns_search++], CONF_DOMAIN_MAX + 1,
	    "%s", v);
	return 0;
}

static int h_dns_search(struct parse *p, const config_setting_t *s)
{
	return for_each_string(p, s, "dns_search", CONF_MAX_SEARCH, add_search);
}

/* nat = { out_interface = "eth0"; ipv6 = true; }; */
static int h_nat(struct parse *p, const config_setting_t *s)
{
	const config_setting_t *e;
	int i, err = 0;

	if (!config_setting_is_group(s))
		return fail(p, s, EINVAL, "nat: expected a group "
		    "{ out_interface; }");
	for (i = 0; err == 0 && i < config_setting_length(s); i++) {
		e = config_setting_get_elem(s, (unsigned)i);
		if (strcmp(config_setting_name(e), "out_interface") == 0)
			err = get_ifname(p, e, "nat.out_interface",
			    p->p_c->c_nat_out);
		else if (strcmp(config_setting_name(e), "ipv6") == 0)
			err = get_bool(p, e, "nat.ipv6", &p->p_c->c_nat_ipv6);
		else
			err = fail(p, e, EINVAL, "nat.%s: unknown key",
			    config_setting_name(e));
	}
	if (err == 0 && p->p_c->c_nat_out[0] == '\0')
		err = fail(p, s, EINVAL, "nat.out_interface: missing");
	return err;
}

static int h_keepalive(struct parse *p, const config_setting_t *s)
{
	return get_int(p, s, "keepalive", 1, 3600, &p->p_c->c_keepalive);
}

static int h_dead_peer_timeout(struct parse *p, const config_setting_t *s)
{
	return get_int(p, s, "dead_peer_timeout", 1, 86400,
	    &p->p_c->c_dead_peer_timeout);
}

static int h_client_to_client(struct parse *p, const config_setting_t *s)
{
	return get_bool(p, s, "client_to_client", &p->p_c->c_client_to_client);
}

static int add_server(struct parse *p, const config_setting_t *s,
    const char *v)
{
	struct conf *c = p->p_c;

	if (conf_parse_hostport(v, &c->c_servers[c->c_nservers]) < 0)
		return fail(p, s, EINVAL, "%s: \"%.64s\" is not host:port",
		    config_setting_name(s), v);
	c->c_nservers++;
	return 0;
}

static int h_server(struct parse *p, const config_setting_t *s)
{
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return fail(p, s, EINVAL, "server: expected a string "
		    "(use servers for a list)");
	return add_server(p, s, config_setting_get_string(s));
}

static int h_servers(struct parse *p, const config_setting_t *s)
{
	if (config_setting_type(s) != CONFIG_TYPE_ARRAY &&
	    config_setting_type(s) != CONFIG_TYPE_LIST)
		return fail(p, s, EINVAL, "servers: expected a list of strings");
	if (config_setting_length(s) == 0)
		return fail(p, s, EINVAL, "servers: empty list");
	return for_each_string(p, s, "servers", CONF_MAX_SERVERS, add_server);
}

static int h_server_fingerprint(struct parse *p, const config_setting_t *s)
{
	const char *v;
	int err;

	if ((err = get_string(p, s, "server_fingerprint", &v)) < 0)
		return err;
	if (fp_normalise(v, p->p_c->c_server_fp) < 0)
		return fail(p, s, EINVAL, "server_fingerprint: \"%.80s\" is not "
		    "sha256: and 64 hex digits", v);
	return 0;
}

static int h_transport(struct parse *p, const config_setting_t *s)
{
	static const char *const names[] = { "auto", "tls", "dtls" };
	const char *v;
	int err;

	if ((err = get_string(p, s, "transport", &v)) < 0)
		return err;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(v, names[i]) == 0) {
			p->p_c->c_transport = (enum conf_transport)i;
			return 0;
		}
	return fail(p, s, EINVAL, "transport: \"%.64s\" is not auto, tls or "
	    "dtls", v);
}

static int h_block_ipv6(struct parse *p, const config_setting_t *s)
{
	return get_bool(p, s, "block_ipv6", &p->p_c->c_block_ipv6);
}

/* user, group: whom the daemon runs as once set up; they must exist now.
 * (That account is never served on the control socket; control_group.) */
static int h_user(struct parse *p, const config_setting_t *s)
{
	const struct passwd *pw;
	const char *v;
	int err;

	if ((err = get_string(p, s, "user", &v)) < 0)
		return err;
	if ((pw = getpwnam(v)) == NULL)
		return fail(p, s, EINVAL, "user: no such user \"%.64s\"", v);
	if (snprintf(p->p_c->c_user, sizeof(p->p_c->c_user), "%s", v) >=
	    (int)sizeof(p->p_c->c_user))
		return fail(p, s, EINVAL, "user: name too long");
	p->p_c->c_uid = pw->pw_uid;
	if (!p->p_c->c_has_group)
		p->p_c->c_gid = pw->pw_gid;
	return 0;
}

/* A group that must exist now: its gid, and its name into name (len). */
static int get_group(struct parse *p, const config_setting_t *s, const char *key,
    gid_t *gid, char *name, size_t len)
{
	const struct group *gr;
	const char *v;
	int err;

	if ((err = get_string(p, s, key, &v)) < 0)
		return err;
	if ((gr = getgrnam(v)) == NULL)
		return fail(p, s, EINVAL, "%s: no such group \"%.64s\"", key, v);
	if (name != NULL && snprintf(name, len, "%s", v) >= (int)len)
		return fail(p, s, EINVAL, "%s: name too long", key);
	*gid = gr->gr_gid;
	return 0;
}

static int h_group(struct parse *p, const config_setting_t *s)
{
	int err = get_group(p, s, "group", &p->p_c->c_gid, NULL, 0);

	p->p_c->c_has_group = err == 0;
	return err;
}

/* metrics_listen: numeric, like listen; the HTTP endpoint binds it. */
static int h_metrics_listen(struct parse *p, const config_setting_t *s)
{
	const char *v;
	int err;

	if ((err = get_string(p, s, "metrics_listen", &v)) < 0)
		return err;
	if (conf_parse_sockaddr(v, &p->p_c->c_metrics_listen) < 0)
		return fail(p, s, EINVAL, "metrics_listen: \"%.64s\" is not a numeric "
		    "address:port", v);
	p->p_c->c_has_metrics = true;
	return 0;
}

/* control_group: who besides root may use the control socket. */
static int h_control_group(struct parse *p, const config_setting_t *s)
{
	return get_group(p, s, "control_group", &p->p_c->c_control_gid,
	    p->p_c->c_control_group, sizeof(p->p_c->c_control_group));
}

static const struct key keys[] = {
	{ "mode",               M_BOTH,   h_mode },
	{ "listen",             M_SERVER, h_listen },
	{ "key",                M_BOTH,   h_key },
	{ "cert",               M_BOTH,   h_cert },
	{ "tun",                M_BOTH,   h_tun },
	{ "network",            M_SERVER, h_network },
	{ "routes",             M_SERVER, h_routes },
	{ "network6",           M_SERVER, h_network6 },
	{ "nat",                M_SERVER, h_nat },
	{ "allow_list",         M_SERVER, h_allow_list },
	{ "control_socket",     M_BOTH,   h_control_socket },
	{ "keepalive",          M_BOTH,   h_keepalive },
	{ "dead_peer_timeout",  M_BOTH,   h_dead_peer_timeout },
	{ "client_to_client",   M_SERVER, h_client_to_client },
	{ "dns",                M_SERVER, h_dns },
	{ "dns_search",         M_SERVER, h_dns_search },
	{ "state_dir",          M_SERVER, h_state_dir },
	{ "server",             M_CLIENT, h_server },
	{ "servers",            M_CLIENT, h_servers },
	{ "server_fingerprint", M_CLIENT, h_server_fingerprint },
	{ "transport",          M_CLIENT, h_transport },
	{ "block_ipv6",         M_CLIENT, h_block_ipv6 },
	{ "user",               M_BOTH,   h_user },
	{ "group",              M_BOTH,   h_group },
	{ "control_group",      M_BOTH,   h_control_group },
	{ "metrics_listen",     M_BOTH,   h_metrics_listen },
	{ "on_connect",         M_BOTH,   h_on_connect },
	{ "on_disconnect",      M_BOTH,   h_on_disconnect },
};

/* Remember where s was set, under KEY; a file or table that is full just
 * leaves the key at line 0 (its message then names the file alone). */
static void remember_line(struct parse *p, const config_setting_t *s,
    const char *key)
{
	struct conf *c = p->p_c;
	struct conf_line *l;
	const char *file = config_setting_source_file(s);
	int i = -1;

	if (c->c_nlines == CONF_MAX_LINES)
		return;
	if (file != NULL && strcmp(file, p->p_path) != 0) {
		for (i = 0; i < c->c_nfiles && strcmp(c->c_files[i], file) != 0; i++)
			;
		if (i == CONF_MAX_FILES)
			return;
		if (i == c->c_nfiles)
			snprintf(c->c_files[c->c_nfiles++], PATH_MAX, "%s", file);
	}
	l = &c->c_lines[c->c_nlines++];
	snprintf(l->kl_key, sizeof(l->kl_key), "%s", key);
	l->kl_line = (int)config_setting_source_line(s);
	l->kl_file = i;
}

/* A top-level key and, for a group, each of its members. */
static void remember_lines(struct parse *p, const config_setting_t *s)
{
	const config_setting_t *e;
	char key[32];
	int i;

	remember_line(p, s, config_setting_name(s));
	for (i = 0; config_setting_is_group(s) && i < config_setting_length(s); i++) {
		e = config_setting_get_elem(s, (unsigned)i);
		snprintf(key, sizeof(key), "%.15s.%.15s", config_setting_name(s),
		    config_setting_name(e));
		remember_line(p, e, key);
	}
}

int conf_key_line(const struct conf *c, const char *key, const char **file)
{
	for (int i = 0; i < c->c_nlines; i++)
		if (strcmp(c->c_lines[i].kl_key, key) == 0) {
			*file = c->c_lines[i].kl_file < 0 ? c->c_path :
			    c->c_files[c->c_lines[i].kl_file];
			return c->c_lines[i].kl_line;
		}
	*file = c->c_path;
	return 0;
}

static const char *mode_name(int mode)
{
	return mode == M_SERVER ? "server" : "client";
}

static int dispatch(struct parse *p, const config_setting_t *s)
{
	const char *name = config_setting_name(s);

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strcmp(name, keys[i].k_name) != 0)
			continue;
		if (!(keys[i].k_modes & p->p_mode))
			return fail(p, s, EINVAL, "%s: not allowed in %s mode",
			    name, mode_name(p->p_mode));
		remember_lines(p, s);
		return keys[i].k_fn(p, s);
	}
	return fail(p, s, EINVAL, "%s: unknown key", name);
}

/* mode decides everything else, so it is read before the rest. */
static int read_mode(struct parse *p, const config_setting_t *root)
{
	const config_setting_t *s = config_setting_get_member(root, "mode");
	const char *v;
	int err;

	if (s == NULL)
		return fail(p, NULL, EINVAL, "mode: missing (\"server\" or "
		    "\"client\")");
	if ((err = get_string(p, s, "mode", &v)) < 0)
		return err;
	if (strcmp(v, "server") == 0)
		p->p_mode = M_SERVER;
	else if (strcmp(v, "client") == 0)
		p->p_mode = M_CLIENT;
	else
		return fail(p, s, EINVAL, "mode: \"%.64s\" is not \"server\" or "
		    "\"client\"", v);
	p->p_c->c_mode = p->p_mode == M_SERVER ? CONF_SERVER : CONF_CLIENT;
	return 0;
}

static void set_defaults(struct parse *p)
{
	struct conf *c = p->p_c;
	bool server = p->p_mode == M_SERVER;

	snprintf(c->c_tun_name, sizeof(c->c_tun_name), "vpn0");
	c->c_tun_mtu = server ? 1400 : 0;
	snprintf(c->c_control_socket, sizeof(c->c_control_socket), "%s",
	    server ? CONF_DEFAULT_SERVER_SOCKET : CONF_DEFAULT_CLIENT_SOCKET);
	c->c_control_gid = (gid_t)-1;
	c->c_keepalive = 10;
	c->c_dead_peer_timeout = 30;
	c->c_transport = CONF_TRANSPORT_AUTO;
	c->c_block_ipv6 = !server;
}

/* Each name in the NULL-terminated list must be present. */
static int require(struct parse *p, const config_setting_t *root,
    const char *const *names)
{
	for (; *names != NULL; names++)
		if (config_setting_get_member(root, *names) == NULL)
			return fail(p, NULL, EINVAL, "%s: missing (required in "
			    "%s mode)", *names, mode_name(p->p_mode));
	return 0;
}

/* The CONFIG message holds what is pushed and must fit one control frame
 * (FRAME_CTRL_MAX, docs/protocol.md section 4): 28 bytes of fixed TLVs, 7
 * per route, 6 or 18 per resolver, 2 + length per domain. Routes and
 * resolvers at their maximum fit; long domains may not. */
#define PUSH_MAX 1024

static int check_push_size(struct parse *p, const config_setting_t *root)
{
	const struct conf *c = p->p_c;
	size_t n = 28 + 2 + 7 * (size_t)c->c_nroutes;	/* 2: the GSO flag */
	int i;

	if (c->c_has_network6)		/* ADDR6 and GATEWAY6, 19 per IPv6 route */
		n += 19 + 18 + 19 * (size_t)c->c_nroutes6;
	for (i = 0; i < c->c_ndns; i++)
		n += c->c_dns[i].cd_family == AF_INET ? 6 : 18;
	for (i = 0; i < c->c_ndns_search; i++)
		n += 2 + strlen(c->c_dns_search[i]);
	if (n <= PUSH_MAX)
		return 0;
	if (c->c_ndns_search == 0)	/* routes alone: IPv6 ones take 19 bytes each */
		return fail(p, config_setting_get_member(root, "routes"), EINVAL,
		    "routes: routes and dns take %zu bytes, more than the %d a "
		    "client is sent", n, PUSH_MAX);
	return fail(p, config_setting_get_member(root, "dns_search"), EINVAL,
	    "dns_search: routes, dns and dns_search take %zu bytes, more than "
	    "the %d a client is sent", n, PUSH_MAX);
}

/* IPv6 routes and nat.ipv6 need an IPv6 address for the client: network6. */
static int check_ipv6(struct parse *p, const config_setting_t *root)
{
	const struct conf *c = p->p_c;
	char a[INET6_ADDRSTRLEN];

	if (c->c_has_network6 && c->c_tun_mtu < 1280)	/* RFC 8200's minimum link MTU */
		return fail(p, config_setting_get_member(root, "tun"), EINVAL,
		    "tun.mtu: %d is below 1280, the least IPv6 inside the tunnel "
		    "(network6) needs", c->c_tun_mtu);
	if (c->c_has_network6)
		return 0;
	if (c->c_nroutes6 > 0) {
		inet_ntop(AF_INET6, &c->c_routes6[0].addr, a, sizeof(a));
		return fail(p, config_setting_get_member(root, "routes"), EINVAL,
		    "routes: \"%s/%d\" is an IPv6 prefix, but network6 is not set",
		    a, c->c_routes6[0].plen);
	}
	if (c->c_nat_ipv6)
		return fail(p, config_setting_get_member(root, "nat"), EINVAL,
		    "nat.ipv6: needs network6");
	return 0;
}

static int finish_server(struct parse *p, const config_setting_t *root)
{
	static const char *const req[] = { "key", "cert", "network",
	    "allow_list", NULL };
	struct conf *c = p->p_c;
	int err;

	if ((err = require(p, root, req)) < 0 ||
	    (err = check_ipv6(p, root)) < 0 ||
	    (err = check_push_size(p, root)) < 0)
		return err;
	if (c->c_nlisten == 0 &&
	    conf_parse_sockaddr("0.0.0.0:4433", &c->c_listen[0]) == 0)
		c->c_nlisten = 1;
	return 0;
}

static int finish_client(struct parse *p, const config_setting_t *root)
{
	static const char *const req[] = { "key", "cert",
	    "server_fingerprint", NULL };
	const config_setting_t *one = config_setting_get_member(root, "server");
	const config_setting_t *many = config_setting_get_member(root, "servers");

	if (one != NULL && many != NULL) {
		if (config_setting_source_line(one) >
		    config_setting_source_line(many))
			return fail(p, one, EINVAL, "server: cannot be used "
			    "together with servers");
		return fail(p, many, EINVAL, "servers: cannot be used together "
		    "with server");
	}
	if (one == NULL && many == NULL)
		return fail(p, NULL, EINVAL, "server: missing (required in "
		    "client mode; or servers)");
	return require(p, root, req);
}

static int finish(struct parse *p, const config_setting_t *root)
{
	const config_setting_t *ka = config_setting_get_member(root, "keepalive");
	const config_setting_t *dpt = config_setting_get_member(root,
	    "dead_peer_timeout");
	struct conf *c = p->p_c;
	int err;

	err = p->p_mode == M_SERVER ? finish_server(p, root) :
	    finish_client(p, root);
	if (err == 0 && c->c_has_group && c->c_user[0] == '\0')
		return fail(p, config_setting_get_member(root, "group"), EINVAL,
		    "group: has no effect without user");
	if (err < 0 || c->c_dead_peer_timeout > c->c_keepalive)
		return err;
	if (dpt != NULL || ka == NULL)
		return fail(p, dpt, EINVAL, "dead_peer_timeout: %d must be "
		    "greater than keepalive (%d)", c->c_dead_peer_timeout,
		    c->c_keepalive);
	return fail(p, ka, EINVAL, "keepalive: %d must be less than "
	    "dead_peer_timeout (%d)", c->c_keepalive, c->c_dead_peer_timeout);
}

/* The absolute directory of p_path, for resolving relative paths. */
static int set_dir(struct parse *p)
{
	char cwd[PATH_MAX], dir[PATH_MAX];
	const char *slash = strrchr(p->p_path, '/');
	int n;

	if (slash == p->p_path) {
		snprintf(p->p_dir, sizeof(p->p_dir), "/");
		return 0;
	}
	n = snprintf(dir, sizeof(dir), "%.*s",
	    slash != NULL ? (int)(slash - p->p_path) : 0, p->p_path);
	if (n < 0 || (size_t)n >= sizeof(dir))
		return fail(p, NULL, ENAMETOOLONG, "path too long");
	if (dir[0] == '/') {
		memcpy(p->p_dir, dir, sizeof(dir));
		return 0;
	}
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return fail(p, NULL, errno, "cannot get the working directory: "
		    "%s", strerror(errno));
	n = snprintf(p->p_dir, sizeof(p->p_dir), "%s%s%s", cwd,
	    dir[0] != '\0' && strcmp(cwd, "/") != 0 ? "/" : "", dir);
	if (n < 0 || (size_t)n >= sizeof(p->p_dir))
		return fail(p, NULL, ENAMETOOLONG, "path too long");
	return 0;
}

/* Open and parse the file; syntax errors carry libconfig's line and text. */
static int read_file(struct parse *p, config_t *cf)
{
	struct stat st;
	FILE *f;
	int ok;

	if ((f = fopen(p->p_path, "r")) == NULL)
		return fail(p, NULL, errno, "%s", strerror(errno));
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		fclose(f);
		return fail(p, NULL, EISDIR, "%s", strerror(EISDIR));
	}
	if ((ok = include_check(p->p_path, p->p_dir, p->p_err)) < 0) {
		fclose(f);
		return ok;
	}
	config_set_include_dir(cf, p->p_dir);
	ok = config_read(cf, f);
	fclose(f);
	if (ok == CONFIG_TRUE)
		return 0;
	snprintf(p->p_err->file, sizeof(p->p_err->file), "%s",
	    config_error_file(cf) != NULL ? config_error_file(cf) : p->p_path);
	p->p_err->line = config_error_line(cf);
	snprintf(p->p_err->msg, sizeof(p->p_err->msg), "%s",
	    config_error_text(cf));
	return -EINVAL;
}

static int load(struct conf *c, const char *path, bool reread, struct conf_err *err)
{
	struct parse p = { .p_c = c, .p_err = err, .p_path = path, .p_reread = reread };
	const config_setting_t *root;
	config_t cf;
	int i, rc;

	memset(c, 0, sizeof(*c));
	memset(err, 0, sizeof(*err));
	if (snprintf(c->c_path, sizeof(c->c_path), "%s", path) >=
	    (int)sizeof(c->c_path))
		return fail(&p, NULL, ENAMETOOLONG, "path too long");
	if ((rc = set_dir(&p)) < 0)
		return rc;
	config_init(&cf);
	if ((rc = read_file(&p, &cf)) == 0) {
		root = config_root_setting(&cf);
		rc = read_mode(&p, root);
		if (rc == 0)
			set_defaults(&p);
		for (i = 0; rc == 0 && i < config_setting_length(root); i++)
			rc = dispatch(&p, config_setting_get_elem(root,
			    (unsigned)i));
		if (rc == 0)
			rc = finish(&p, root);
	}
	config_destroy(&cf);
	return rc;
}

int conf_load(struct conf *c, const char *path, struct conf_err *err)
{
	return load(c, path, false, err);
}

int conf_reread(struct conf *c, const char *path, struct conf_err *err)
{
	return load(c, path, true, err);
}

/* The inverse of conf_parse_sockaddr: "1.2.3.4:4433" or "[::1]:4433". */
const char *conf_sockaddr_str(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(sin->sin_port));
	} else {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, ntohs(sin6->sin6_port));
	}
	return buf;
}
