/* afile.h - replace a file atomically: write ".NAME.vpnd-XXXXXX" beside it,
 * fsync, rename it over NAME, fsync the directory. A crash at any moment
 * leaves the old file or the new one, never a mix; at worst a temp file of
 * that name, which afile_clean removes. Used for the allow-list and the
 * leases. Never prints. */
#ifndef VPND_AFILE_H
#define VPND_AFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Write buf as path's new content with mode (or, if keep_mode, the old
 * file's mode when there is one). 0, or -errno with *what naming the step
 * that failed ("cannot write", "cannot rename the temp file", ...). */
int afile_write(const char *path, const void *buf, size_t len, mode_t mode,
                bool keep_mode, const char **what);
/* Write all len bytes of buf to fd, resuming after EINTR and short writes.
 * 0 or -errno. (afile_write's own loop; vpnctl's request uses it too.) */
int afile_write_all(int fd, const void *buf, size_t len);
/* Remove temp files an interrupted afile_write left beside path; calls
 * fn(arg, name) for each one removed (fn may be NULL). */
void afile_clean(const char *path, void (*fn)(void *arg, const char *name), void *arg);

#endif
