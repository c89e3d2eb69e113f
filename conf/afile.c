/* afile.c - atomic file replacement; see afile.h. */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/afile.h"

#define TEMP_TAG ".vpnd-"

/* dir = the directory of path; tmp = "dir/.base" TEMP_TAG + suffix. */
static int split(const char *path, const char *suffix, char dir[PATH_MAX],
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
	m = snprintf(tmp, PATH_MAX, "%s/.%s%s%s", dir, slash ? slash + 1 : path,
	    TEMP_TAG, suffix);
	return n < 0 || n >= PATH_MAX || m < 0 || m >= PATH_MAX ? -ENAMETOOLONG : 0;
}

int afile_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, p, len)) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int sync_dir(const char *dir)
{
	int fd, rc = 0;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -errno;
	if (fsync(fd) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

/* Fill, chmod (mkstemp's mode is subject to the umask) and sync the temp
 * file, close it, rename it over path. */
static int fill(int fd, const char *tmp, const char *path, const void *buf,
    size_t len, mode_t mode, const char **what)
{
	int rc;

	*what = "cannot write";
	if ((rc = fchmod(fd, mode) < 0 ? -errno : 0) == 0 &&
	    (rc = afile_write_all(fd, buf, len)) == 0 && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) < 0) {
		*what = "cannot rename the temp file";
		rc = -errno;
	}
	return rc;
}

int afile_write(const char *path, const void *buf, size_t len, mode_t mode,
    bool keep_mode, const char **what)
{
	char dir[PATH_MAX], tmp[PATH_MAX];
	struct stat st;
	int fd, rc;

	*what = "path too long";
	if ((rc = split(path, "XXXXXX", dir, tmp)) < 0)
		return rc;
	if (keep_mode && stat(path, &st) == 0)
		mode = st.st_mode & 07777;
	*what = "cannot create a temp file";
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0)
		return -errno;
	if ((rc = fill(fd, tmp, path, buf, len, mode, what)) < 0) {
		unlink(tmp);
		return rc;
	}
	*what = "cannot sync the directory";
	return sync_dir(dir);
}

void afile_clean(const char *path, void (*fn)(void *arg, const char *name), void *arg)
{
	char dir[PATH_MAX], pre[PATH_MAX], full[PATH_MAX];
	const char *slash;
	struct dirent *d;
	size_t plen;
	DIR *dp;

	if (split(path, "", dir, pre) < 0 || (dp = opendir(dir)) == NULL)
		return;
	slash = strrchr(pre, '/');
	plen = strlen(slash + 1);		/* ".NAME.vpnd-" */
	while ((d = readdir(dp)) != NULL) {
		if (strncmp(d->d_name, slash + 1, plen) != 0 ||
		    strlen(d->d_name) != plen + 6)
			continue;
		if (snprintf(full, sizeof(full), "%s/%s", dir, d->d_name) >= (int)sizeof(full))
			continue;
		if (unlink(full) == 0 && fn != NULL)
			fn(arg, full);
	}
	closedir(dp);
}
