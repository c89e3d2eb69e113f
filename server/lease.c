/* lease.c - reads and writes the lease file: the fingerprint that last held
 * each pool address, so peers get the same address back after a restart.
 * The format is one "sha256:<64 hex> <IPv4>" per line, in address order,
 * with '#' comment lines; vpnd rewrites the whole file whenever an address
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

#include "conf/allow.h"
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
    struct in_addr *a)
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
	if (allow_fp_normalise(tok_fp, fp) < 0 ||
	    inet_pton(AF_INET, tok_addr, a) != 1)
		return -EINVAL;
	return 1;
}

int lease_load(struct pool *p, const char *path)
{
	char *line = NULL, fp[CONF_FP_LEN];
	struct in_addr a;
	size_t cap = 0;
	ssize_t n;
	int rc, skipped = 0;
	FILE *f;

	if ((f = fopen(path, "re")) == NULL)
		return errno == ENOENT ? 0 : -errno;
	while ((n = getline(&line, &cap, f)) >= 0) {
		rc = lease_parse(line, (size_t)n, fp, &a);
		if ((rc < 0 || (rc > 0 && pool_remember(p, a, fp) < 0)) &&
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

char *lease_render(const struct pool *p, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f;
	int rc;

	if ((f = open_memstream(&buf, &n)) == NULL)
		return NULL;
	rc = fputs(LEASE_HEADER, f) == EOF ? -ENOMEM :
	    pool_foreach_owner(p, lease_render_one, f);
	if (fclose(f) == EOF || rc < 0) {
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}

/* dir = the directory of path, tmp = "dir/.base.vpnd-XXXXXX": a name of
 * our own, so a crash's leftovers can be told from anyone else's files. */
static int lease_temp_name(const char *path, char dir[PATH_MAX],
    char tmp[PATH_MAX])
{
	const char *slash = strrchr(path, '/');
	int n, m;

	if (slash == NULL)
		n = snprintf(dir, PATH_MAX, ".");
	else if (slash == path)
		n = snprintf(dir, PATH_MAX, "/");
	else
		n = snprintf(dir, PATH_MAX, "%.*s", (int)(slash - path), path);
	m = snprintf(tmp, PATH_MAX, "%s/.%s.vpnd-XXXXXX", dir,
	    slash != NULL ? slash + 1 : path);
	if (n < 0 || n >= PATH_MAX || m < 0 || m >= PATH_MAX)
		return -ENAMETOOLONG;
	return 0;
}

static int lease_write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Fill and sync the temp file fd, close it, rename it over path. */
static int lease_write_temp(int fd, const char *tmp, const char *path,
    const char *buf, size_t len)
{
	int rc = 0;

	if (fchmod(fd, 0600) < 0)	/* mkstemp's mode is subject to umask */
		rc = -errno;
	if (rc == 0)
		rc = lease_write_all(fd, buf, len);
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	return rc;
}

static int lease_sync_dir(const char *dir)
{
	int fd, rc = 0;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -errno;
	if (fsync(fd) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

int lease_write(const char *path, const char *buf, size_t len)
{
	char dir[PATH_MAX], tmp[PATH_MAX];
	int fd, rc;

	if ((rc = lease_temp_name(path, dir, tmp)) < 0)
		return rc;
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0)
		return -errno;
	if ((rc = lease_write_temp(fd, tmp, path, buf, len)) < 0) {
		unlink(tmp);
		return rc;
	}
	return lease_sync_dir(dir);
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
