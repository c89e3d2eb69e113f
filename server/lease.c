/* lease.c - reads and writes the lease file: the fingerprint that last held
 * each pool address, so peers get the same address back after a restart.
 * The format is one "sha256:<64 hex> <IPv4>" per line, in address order,
 * then one "sha256:<64 hex> <IPv6>" per network6 owner, with '#' comment
 * lines (a file from before network6 has IPv4 lines only and reads as it
 * did); vpnd rewrites the whole file whenever an address
 * gets a new owner (pool_changed), never in place. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/fp.h"
#include "conf/afile.h"
#include "server/lease.h"
#include "server/pool.h"

#define LEASE_HEADER \
	"# vpnd leases: the fingerprint that last held each tunnel address.\n" \
	"# Rewritten by vpnd; edits made while it runs are lost.\n"
#define LEASE_SPACE " \t\r\n"

/* One line: 1 and fp/a filled for an entry, 0 for a blank or comment line,
 * -EINVAL if malformed. n is the length getline read (a NUL inside the line
 * makes it malformed). line is cut up. */
static int lease_parse(char *line, size_t n, char fp[CONF_FP_LEN],
    struct in_addr *a, struct in6_addr *a6, int *family)
{
	char *save = NULL, *tok_fp, *tok_addr;

	if (strlen(line) != n)
		return -EINVAL;
	if ((tok_fp = strtok_r(line, LEASE_SPACE, &save)) == NULL ||
	    tok_fp[0] == '#')
		return 0;
	if ((tok_addr = strtok_r(NULL, LEASE_SPACE, &save)) == NULL ||
	    strtok_r(NULL, LEASE_SPACE, &save) != NULL)
		return -EINVAL;
	if (fp_normalise(tok_fp, fp) < 0)
		return -EINVAL;
	if (inet_pton(AF_INET, tok_addr, a) == 1)
		*family = AF_INET;
	else if (inet_pton(AF_INET6, tok_addr, a6) == 1)
		*family = AF_INET6;
	else
		return -EINVAL;
	return 1;
}

int lease_load(struct pool *p, const char *path)
{
	return lease_load6(p, NULL, path);
}

/* Remember one line's owner in the pool of its family; no pool6: skipped. */
static int lease_remember(struct pool *p, struct pool6 *p6, int family,
    struct in_addr a, const struct in6_addr *a6, const char *fp)
{
	if (family == AF_INET)
		return pool_remember(p, a, fp);
	return p6 != NULL ? pool6_remember(p6, a6, fp) : -EINVAL;
}

int lease_load6(struct pool *p, struct pool6 *p6, const char *path)
{
	char *line = NULL, fp[CONF_FP_LEN];
	struct in_addr a;
	struct in6_addr a6;
	size_t cap = 0;
	ssize_t n;
	int rc, family = AF_INET, skipped = 0;
	FILE *f;

	if ((f = fopen(path, "re")) == NULL)
		return errno == ENOENT ? 0 : -errno;
	while ((n = getline(&line, &cap, f)) >= 0) {
		rc = lease_parse(line, (size_t)n, fp, &a, &a6, &family);
		if ((rc < 0 || (rc > 0 && lease_remember(p, p6, family, a, &a6, fp) < 0)) &&
		    skipped < INT_MAX)
			skipped++;
	}
	/* getline returns -1 at the end and on errors (ENOMEM, EISDIR). */
	rc = feof(f) ? skipped : (errno != 0 ? -errno : -EIO);
	free(line);
	fclose(f);
	return rc;
}

static int lease_render_one(void *arg, struct in_addr a, const char *fp)
{
	char s[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &a, s, sizeof(s));	/* cannot fail for AF_INET */
	return fprintf(arg, "%s %s\n", fp, s) < 0 ? -ENOMEM : 0;
}

static int lease_render_one6(void *arg, const struct in6_addr *a, const char *fp)
{
	char s[INET6_ADDRSTRLEN];

	inet_ntop(AF_INET6, a, s, sizeof(s));
	return fprintf(arg, "%s %s\n", fp, s) < 0 ? -ENOMEM : 0;
}

char *lease_render(const struct pool *p, size_t *len)
{
	return lease_render6(p, NULL, len);
}

char *lease_render6(const struct pool *p, const struct pool6 *p6, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f;
	int rc;

	if ((f = open_memstream(&buf, &n)) == NULL)
		return NULL;
	rc = fputs(LEASE_HEADER, f) == EOF ? -ENOMEM :
	    pool_foreach_owner(p, lease_render_one, f);
	if (rc == 0 && p6 != NULL)
		rc = pool6_foreach_owner(p6, lease_render_one6, f);
	if (fclose(f) == EOF || rc < 0) {
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}

int lease_write(const char *path, const char *buf, size_t len)
{
	const char *what;

	return afile_write(path, buf, len, 0600, false, &what);
}

int lease_save(const struct pool *p, const char *path)
{
	size_t len;
	char *buf;
	int rc;

	if ((buf = lease_render(p, &len)) == NULL)
		return -ENOMEM;
	rc = lease_write(path, buf, len);
	free(buf);
	return rc;
}
