/* dl.c - see dl.h. */
#include <dlfcn.h>
#include <errno.h>
#include <string.h>

#include "daemon/dl.h"

#define DL_MAX_SYMS 32

typedef void dl_fn(void);

int dl_load(void **lib, const char *soname, const char *const names[], size_t n,
            void *api, size_t size)
{
	void *h = *lib, *sym[DL_MAX_SYMS];
	size_t i;

	if (n > DL_MAX_SYMS || size != n * sizeof(dl_fn *))
		return -EINVAL;
	if (h == NULL && (h = dlopen(soname, RTLD_NOW | RTLD_LOCAL)) == NULL)
		return -ELIBACC;
	for (i = 0; i < n; i++)
		if ((sym[i] = dlsym(h, names[i])) == NULL) {
			if (*lib == NULL)
				dlclose(h);
			return -ELIBACC;
		}
	/* POSIX: a data pointer from dlsym converts to a function pointer;
	 * on the platforms vpnd runs on both have one size and representation,
	 * so the members take the pointers' bytes in order. */
	for (i = 0; i < n; i++)
		memcpy((char *)api + i * sizeof(dl_fn *), &sym[i], sizeof(dl_fn *));
	*lib = h;
	return 0;
}

void dl_unload(void **lib)
{
	if (*lib == NULL)
		return;
	dlclose(*lib);
	*lib = NULL;
}
