/* scratch.c - the harnesses' temp directory. Files are written with plain
 * write(2) and replaced in place, so one path serves every input; the
 * directory and whatever is left in it go at exit (libFuzzer exits with
 * exit(), so atexit runs after -max_total_time and -runs). */
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz/scratch.h"

static char scratch[PATH_MAX];

static int rm_one(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void scratch_remove(void)
{
	if (scratch[0] != '\0')
		nftw(scratch, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

static const char *scratch_base(void)
{
	const char *t = getenv("TMPDIR");

	if (t != NULL && t[0] == '/')
		return t;
	return access("/dev/shm", W_OK | X_OK) == 0 ? "/dev/shm" : "/tmp";
}

const char *scratch_dir(void)
{
	if (scratch[0] != '\0')
		return scratch;
	if (snprintf(scratch, sizeof(scratch), "%s/vpnd-fuzz.XXXXXX",
	    scratch_base()) >= (int)sizeof(scratch) || mkdtemp(scratch) == NULL) {
		perror("scratch: mkdtemp");
		abort();
	}
	atexit(scratch_remove);
	return scratch;
}

char *scratch_path(const char *name, char out[PATH_MAX])
{
	if (snprintf(out, PATH_MAX, "%s/%s", scratch_dir(), name) >= PATH_MAX)
		abort();
	return out;
}

char *scratch_write(const char *name, const void *p, size_t len,
    char out[PATH_MAX])
{
	const char *b = p;
	ssize_t n;
	int fd;

	scratch_path(name, out);
	if ((fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0) {
		perror(out);
		abort();
	}
	while (len > 0) {
		if ((n = write(fd, b, len)) <= 0) {
			perror(out);
			abort();
		}
		b += n;
		len -= (size_t)n;
	}
	close(fd);
	return out;
}
