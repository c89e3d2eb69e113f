/* allow.c - the allow-list: an array of (name, fingerprint, optional static
 * address) entries, read from a libconfig file with libconfig and written
 * back by hand in the same format. Loading and allow_add go through one
 * check (entry_check), so a list in memory never holds a bad or duplicate
 * entry, and a list edited and saved always loads again.
 * Saving is atomic: a temp file in the same directory is written, synced,
 * given the old file's mode and renamed over it, then the directory is
 * synced, so a crash leaves either the old list or the new one. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/afile.h"
#include "conf/allow.h"
#include "conf/include.h"
#include "crypto/fp.h"


const struct allow_entry *allow_find_name(const struct allow_list *al,
    const char *name)
{
	for (size_t i = 0; i < al->al_n; i++)
		if (strcmp(al->al_e[i].ae_name, name) == 0)
			return &al->al_e[i];
	return NULL;
}

const struct allow_entry *allow_find_fp(const struct allow_list *al,
    const char *fp)
{
	char norm[CONF_FP_LEN];

	if (fp_normalise(fp, norm) < 0)
		return NULL;
	for (size_t i = 0; i < al->al_n; i++)
		if (strcmp(al->al_e[i].ae_fp, norm) == 0)
			return &al->al_e[i];
	return NULL;
}

static const struct allow_entry *find_addr(const struct allow_list *al,
    struct in_addr a)
{
	for (size_t i = 0; i < al->al_n; i++)
		if (al->al_e[i].ae_has_addr && al->al_e[i].ae_addr.s_addr == a.s_addr)
			return &al->al_e[i];
	return NULL;
}

static const struct allow_entry *find_addr6(const struct allow_list *al,
    const struct in6_addr *a)
{
	for (size_t i = 0; i < al->al_n; i++)
		if (al->al_e[i].ae_has_addr6 && memcmp(&al->al_e[i].ae_addr6, a, 16) == 0)
			return &al->al_e[i];
	return NULL;
}

/* Which key of e clashes with an entry already listed, or NULL. */
static const char *clash(const struct allow_list *al,
    const struct allow_entry *e)
{
	if (allow_find_name(al, e->ae_name) != NULL)
		return "name";
	if (allow_find_fp(al, e->ae_fp) != NULL)
		return "fingerprint";
	if (e->ae_has_addr && find_addr(al, e->ae_addr) != NULL)
		return "address";
	if (e->ae_has_addr6 && find_addr6(al, &e->ae_addr6) != NULL)
		return "address6";
	return NULL;
}

static int append(struct allow_list *al, const struct allow_entry *e)
{
	struct allow_entry *n;
	size_t cap;

	if (al->al_n == al->al_cap) {
		if (al->al_cap > SIZE_MAX / 2 / sizeof(*n))
			return -ENOMEM;
		cap = al->al_cap != 0 ? al->al_cap * 2 : 8;
		if ((n = realloc(al->al_e, cap * sizeof(*n))) == NULL)
			return -ENOMEM;
		al->al_e = n;
		al->al_cap = cap;
	}
	al->al_e[al->al_n++] = *e;
	return 0;
}

/* The value of key k of e, for a message. */
static const char *clash_value(const struct allow_entry *e, const char *k,
    char buf[INET6_ADDRSTRLEN])
{
	if (strcmp(k, "name") == 0)
		return e->ae_name;
	if (strcmp(k, "fingerprint") == 0)
		return e->ae_fp;
	if (strcmp(k, "address6") == 0)
		return inet_ntop(AF_INET6, &e->ae_addr6, buf, INET6_ADDRSTRLEN);
	return inet_ntop(AF_INET, &e->ae_addr, buf, INET6_ADDRSTRLEN);
}

/* A static address must be a host of net (not its network or broadcast
 * address, nor the first host, which the server takes). No net: no check. */
int allow_addr_check(const struct cidr *net, struct in_addr a,
    struct conf_err *err)
{
	char abuf[INET_ADDRSTRLEN], nbuf[INET_ADDRSTRLEN];
	uint32_t host, last;

	if (net == NULL)
		return 0;
	inet_ntop(AF_INET, &a, abuf, sizeof(abuf));
	inet_ntop(AF_INET, &net->addr, nbuf, sizeof(nbuf));
	if (!cidr_contains(net, a))
		return conf_err_set(err, "", 0, EINVAL, "address: %s is outside %s/%d",
		    abuf, nbuf, net->plen);
	if (net->plen > 30)		/* no room for those three */
		return 0;
	last = 0xffffffffu >> net->plen;
	host = ntohl(a.s_addr) & last;
	if (host == 0)
		return conf_err_set(err, "", 0, EINVAL, "address: %s is the network "
		    "address of %s/%d", abuf, nbuf, net->plen);
	if (host == 1)
		return conf_err_set(err, "", 0, EINVAL, "address: %s is the server's "
		    "(the first host of %s/%d)", abuf, nbuf, net->plen);
	if (host == last)
		return conf_err_set(err, "", 0, EINVAL, "address: %s is the broadcast "
		    "address of %s/%d", abuf, nbuf, net->plen);
	return 0;
}

int allow_addr6_check(const struct cidr6 *net6, const struct in6_addr *a,
    struct conf_err *err)
{
	char abuf[INET6_ADDRSTRLEN], nbuf[INET6_ADDRSTRLEN];
	struct in6_addr h;

	if (net6 == NULL)
		return 0;
	inet_ntop(AF_INET6, a, abuf, sizeof(abuf));
	inet_ntop(AF_INET6, &net6->addr, nbuf, sizeof(nbuf));
	if (!cidr6_contains(net6, a))
		return conf_err_set(err, "", 0, EINVAL, "address6: %s is outside %s/%d",
		    abuf, nbuf, net6->plen);
	if (memcmp(a, &net6->addr, 16) == 0)
		return conf_err_set(err, "", 0, EINVAL, "address6: %s is the network "
		    "address of %s/%d", abuf, nbuf, net6->plen);
	if (cidr6_host(net6, 1, &h) == 0 && memcmp(a, &h, 16) == 0)
		return conf_err_set(err, "", 0, EINVAL, "address6: %s is the server's "
		    "(::1 of %s/%d)", abuf, nbuf, net6->plen);
	return 0;
}

/* The one check an entry passes before it joins a list, whether it comes
 * from the file (allow_load) or from an edit (allow_add): so an edit can
 * never write a file that the next start refuses. Fills *e, normalised;
 * on error *key names the key at fault (name, fingerprint, address). */
static int entry_check(const struct allow_list *al, const struct cidr *net,
    const struct cidr6 *net6, const char *name, const char *fp,
    const struct in_addr *addr, const struct in6_addr *addr6,
    struct allow_entry *e, struct conf_err *err, const char **key)
{
	char buf[INET6_ADDRSTRLEN];
	int rc;

	memset(e, 0, sizeof(*e));
	*key = "name";
	if (!fp_name_valid(name))
		return conf_err_set(err, "", 0, EINVAL, "name: \"%.64s\" is not 1..63 "
		    "of A-Z a-z 0-9 . _ -", name != NULL ? name : "");
	*key = "fingerprint";
	if (fp_normalise(fp, e->ae_fp) < 0)
		return conf_err_set(err, "", 0, EINVAL, "fingerprint: \"%.80s\" is not "
		    "sha256: and 64 hex digits", fp != NULL ? fp : "");
	snprintf(e->ae_name, sizeof(e->ae_name), "%s", name);
	if ((e->ae_has_addr = addr != NULL)) {
		e->ae_addr = *addr;
		*key = "address";
		if ((rc = allow_addr_check(net, *addr, err)) < 0)
			return rc;
	}
	if ((e->ae_has_addr6 = addr6 != NULL)) {
		e->ae_addr6 = *addr6;
		*key = "address6";
		if ((rc = allow_addr6_check(net6, addr6, err)) < 0)
			return rc;
	}
	if ((*key = clash(al, e)) != NULL)
		return conf_err_set(err, "", 0, EEXIST, "%s: %s is already listed",
		    *key, clash_value(e, *key, buf));
	return 0;
}

static int add_entry(struct allow_list *al, const struct cidr *net,
    const struct cidr6 *net6, const char *name, const char *fp,
    const struct in_addr *addr, const struct in6_addr *addr6,
    struct conf_err *err, const char **key)
{
	struct allow_entry e;
	int rc;

	if ((rc = entry_check(al, net, net6, name, fp, addr, addr6, &e, err, key)) < 0)
		return rc;
	*key = "name";			/* clash() left it NULL: the entry's line */
	if (append(al, &e) < 0)
		return conf_err_set(err, "", 0, ENOMEM, "%s", strerror(ENOMEM));
	return 0;
}

int allow_add(struct allow_list *al, const struct cidr *net, const char *name,
    const char *fp, const struct in_addr *addr, struct conf_err *err)
{
	return allow_add6(al, net, NULL, name, fp, addr, NULL, err);
}

int allow_add6(struct allow_list *al, const struct cidr *net, const struct cidr6 *net6,
    const char *name, const char *fp, const struct in_addr *addr,
    const struct in6_addr *addr6, struct conf_err *err)
{
	const char *key;

	return add_entry(al, net, net6, name, fp, addr, addr6, err, &key);
}

int allow_remove(struct allow_list *al, const char *name)
{
	const struct allow_entry *e = allow_find_name(al, name);
	size_t i;

	if (e == NULL)
		return -ENOENT;
	i = (size_t)(e - al->al_e);
	memmove(&al->al_e[i], &al->al_e[i + 1],
	    (al->al_n - i - 1) * sizeof(al->al_e[0]));
	al->al_n--;
	return 0;
}

void allow_free(struct allow_list *al)
{
	if (al == NULL)
		return;
	free(al->al_e);
	al->al_e = NULL;
	al->al_n = al->al_cap = 0;
}

/* --- loading --- */

struct load {
	struct allow_list *l_al;
	const char        *l_path;
	const struct cidr *l_net;
	const struct cidr6 *l_net6;
	struct conf_err   *l_err;
};

static int load_fail(struct load *l, const config_setting_t *s, int errnum,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int load_fail(struct load *l, const config_setting_t *s, int errnum,
    const char *fmt, ...)
{
	const char *file = l->l_path;
	va_list ap;

	if (s != NULL && config_setting_source_file(s) != NULL)
		file = config_setting_source_file(s);
	snprintf(l->l_err->file, sizeof(l->l_err->file), "%s", file);
	l->l_err->line = s != NULL ? (int)config_setting_source_line(s) : 0;
	va_start(ap, fmt);
	vsnprintf(l->l_err->msg, sizeof(l->l_err->msg), fmt, ap);
	va_end(ap);
	return errnum > 0 ? -errnum : -EINVAL;
}

/* A member of an entry that must be a string, if present. */
static int member_string(struct load *l, const config_setting_t *g,
    const char *key, bool required, const config_setting_t **s,
    const char **v)
{
	*s = config_setting_get_member(g, key);
	*v = NULL;
	if (*s == NULL)
		return required ? load_fail(l, g, EINVAL, "%s: missing", key) : 0;
	if (config_setting_type(*s) != CONFIG_TYPE_STRING)
		return load_fail(l, *s, EINVAL, "%s: expected a string", key);
	*v = config_setting_get_string(*s);
	return 0;
}

static int check_keys(struct load *l, const config_setting_t *g)
{
	const config_setting_t *e;
	const char *k;

	for (int i = 0; i < config_setting_length(g); i++) {
		e = config_setting_get_elem(g, (unsigned)i);
		k = config_setting_name(e);
		if (strcmp(k, "name") != 0 && strcmp(k, "fingerprint") != 0 &&
		    strcmp(k, "address") != 0 && strcmp(k, "address6") != 0)
			return load_fail(l, e, EINVAL, "%s: unknown key", k);
	}
	return 0;
}

static int load_entry(struct load *l, const config_setting_t *g)
{
	const config_setting_t *sn, *sf, *sa, *sa6, *at;
	const char *name, *fp, *addr, *addr6, *key;
	struct in_addr a;
	struct in6_addr a6;
	int err;

	if (!config_setting_is_group(g))
		return load_fail(l, g, EINVAL, "peers: expected a list of "
		    "{ name; fingerprint; address; } groups");
	if ((err = check_keys(l, g)) < 0 ||
	    (err = member_string(l, g, "name", true, &sn, &name)) < 0 ||
	    (err = member_string(l, g, "fingerprint", true, &sf, &fp)) < 0 ||
	    (err = member_string(l, g, "address", false, &sa, &addr)) < 0 ||
	    (err = member_string(l, g, "address6", false, &sa6, &addr6)) < 0)
		return err;
	if (addr != NULL && inet_pton(AF_INET, addr, &a) != 1)
		return load_fail(l, sa, EINVAL, "address: \"%.64s\" is not an "
		    "IPv4 address", addr);
	if (addr6 != NULL && inet_pton(AF_INET6, addr6, &a6) != 1)
		return load_fail(l, sa6, EINVAL, "address6: \"%.64s\" is not an "
		    "IPv6 address", addr6);
	err = add_entry(l->l_al, l->l_net, l->l_net6, name, fp, addr != NULL ? &a : NULL,
	    addr6 != NULL ? &a6 : NULL, l->l_err, &key);
	if (err < 0) {		/* add_entry knows no file: point at the key */
		at = strcmp(key, "name") == 0 ? sn :
		    strcmp(key, "fingerprint") == 0 ? sf :
		    strcmp(key, "address6") == 0 ? sa6 : sa;
		snprintf(l->l_err->file, sizeof(l->l_err->file), "%s",
		    config_setting_source_file(at) != NULL ?
		    config_setting_source_file(at) : l->l_path);
		l->l_err->line = (int)config_setting_source_line(at);
	}
	return err;
}

static int load_root(struct load *l, const config_setting_t *root)
{
	const config_setting_t *s, *peers = NULL;
	int i, err = 0;

	for (i = 0; i < config_setting_length(root); i++) {
		s = config_setting_get_elem(root, (unsigned)i);
		if (strcmp(config_setting_name(s), "peers") != 0)
			return load_fail(l, s, EINVAL, "%s: unknown key",
			    config_setting_name(s));
		peers = s;
	}
	if (peers == NULL)
		return 0;
	if (config_setting_type(peers) != CONFIG_TYPE_LIST)
		return load_fail(l, peers, EINVAL, "peers: expected a list ( ... )");
	for (i = 0; err == 0 && i < config_setting_length(peers); i++)
		err = load_entry(l, config_setting_get_elem(peers, (unsigned)i));
	return err;
}

int allow_load(struct allow_list *al, const char *path, const struct cidr *net,
    struct conf_err *err)
{
	return allow_load6(al, path, net, NULL, err);
}

int allow_load6(struct allow_list *al, const char *path, const struct cidr *net,
    const struct cidr6 *net6, struct conf_err *err)
{
	struct load l = { .l_al = al, .l_path = path, .l_net = net, .l_net6 = net6,
	    .l_err = err };
	config_t cf;
	FILE *f;
	int rc;

	memset(al, 0, sizeof(*al));
	memset(err, 0, sizeof(*err));
	if ((rc = include_check(path, NULL, err)) < 0)
		return rc;
	if ((f = fopen(path, "r")) == NULL)
		return load_fail(&l, NULL, errno, "%s", strerror(errno));
	config_init(&cf);
	if (config_read(&cf, f) == CONFIG_TRUE) {
		rc = load_root(&l, config_root_setting(&cf));
	} else {
		rc = conf_err_set(err, config_error_file(&cf) != NULL ?
		    config_error_file(&cf) : path, config_error_line(&cf),
		    EINVAL, "%s", config_error_text(&cf));
	}
	config_destroy(&cf);
	fclose(f);
	if (rc < 0)
		allow_free(al);
	return rc;
}

/* --- saving --- */

static int write_list(const struct allow_list *al, FILE *f)
{
	const struct allow_entry *e;
	char a[INET6_ADDRSTRLEN];

	fprintf(f, "# vpnd allow-list, written by vpnd/vpnctl "
	    "(\"vpnctl allow add/remove\"); comments are not kept.\n"
	    "peers = (\n");
	for (size_t i = 0; i < al->al_n; i++) {
		e = &al->al_e[i];
		fprintf(f, "  { name = \"%s\"; fingerprint = \"%s\";", e->ae_name,
		    e->ae_fp);
		if (e->ae_has_addr)
			fprintf(f, " address = \"%s\";", inet_ntop(AF_INET,
			    &e->ae_addr, a, sizeof(a)));
		if (e->ae_has_addr6)
			fprintf(f, " address6 = \"%s\";", inet_ntop(AF_INET6,
			    &e->ae_addr6, a, sizeof(a)));
		fprintf(f, " }%s\n", i + 1 < al->al_n ? "," : "");
	}
	fprintf(f, ");\n");
	return fflush(f) == EOF || ferror(f) ? -ENOMEM : 0;
}

int allow_save(const struct allow_list *al, const char *path,
    struct conf_err *err)
{
	const char *what;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	if (err != NULL)
		memset(err, 0, sizeof(*err));
	if ((f = open_memstream(&buf, &len)) == NULL)
		return conf_err_set(err, path, 0, errno, "%s", strerror(errno));
	rc = write_list(al, f);
	if (fclose(f) == EOF && rc == 0)
		rc = -errno;
	if (rc == 0 && (rc = afile_write(path, buf, len, 0644, true, &what)) < 0)
		conf_err_set(err, path, 0, -rc, "%s: %s", what, strerror(-rc));
	else if (rc < 0)
		conf_err_set(err, path, 0, -rc, "%s", strerror(-rc));
	free(buf);
	return rc;
}
