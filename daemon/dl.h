/* dl.h - a shared library loaded when a feature first needs it instead of
 * linked: a process that never uses the feature never maps the library and
 * the ones it brings (libmicrohttpd and GnuTLS for metrics, libnftables
 * and its four for the server's NAT). */
#ifndef VPND_DL_H
#define VPND_DL_H

#include <stddef.h>

/* Load soname into *lib (once: a loaded *lib is reused) and resolve the n
 * names into syms. The caller copies each symbol into its function pointer
 * with memcpy, as POSIX allows for dlsym's result. 0, or -ELIBACC when the
 * library or one of the symbols is missing; then nothing stays loaded. */
int dl_load(void **lib, const char *soname, const char *const names[], void *syms[],
            size_t n);
/* Unload what dl_load loaded (*lib NULL is fine) and set *lib to NULL: for
 * a library used now and then, so that it is not resident in between. The
 * symbols resolved from it are invalid from here on. */
void dl_unload(void **lib);

#endif
