/* dl.h - a shared library loaded when a feature first needs it instead of
 * linked: a process that never uses the feature never maps the library and
 * the ones it brings (libmicrohttpd and GnuTLS for metrics, libnftables
 * and its four for the server's NAT). */
#ifndef VPND_DL_H
#define VPND_DL_H

#include <stddef.h>

/* Load soname into *lib (a loaded *lib is reused) and resolve the n names
 * into api, a struct of n function pointers in the names' order (size: its
 * sizeof, checked against n). 0, or -ELIBACC when the library or one of the
 * symbols is missing (then nothing stays loaded and api is untouched), or
 * -EINVAL when size does not match. */
int dl_load(void **lib, const char *soname, const char *const names[], size_t n,
            void *api, size_t size);
/* Unload what dl_load loaded (*lib NULL is fine) and set *lib to NULL: for
 * a library used now and then, so that it is not resident in between. The
 * symbols resolved from it are invalid from here on. */
void dl_unload(void **lib);

#endif
