/* scratch.h - a private directory for harnesses whose parser reads files
 * (conf_load, allow_load): made once per process, removed at exit. */
#ifndef VPND_SCRATCH_H
#define VPND_SCRATCH_H

#include <limits.h>
#include <stddef.h>

/* The directory, made on the first call under $TMPDIR, else /dev/shm (tmpfs:
 * allow_save's fsyncs cost nothing there), else /tmp. Aborts on failure:
 * a harness cannot run without it. */
const char *scratch_dir(void);
/* dir "/" name into out; returns out. */
char *scratch_path(const char *name, char out[PATH_MAX]);
/* Create or replace the file name with len bytes of p; returns its path in
 * out. Aborts on failure. */
char *scratch_write(const char *name, const void *p, size_t len,
                    char out[PATH_MAX]);

#endif
