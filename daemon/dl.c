/* dl.c - see dl.h. */
#include <dlfcn.h>
#include <errno.h>

#include "daemon/dl.h"

int dl_load(void **lib, const char *soname, const char *const names[], void *syms[],
            size_t n)
{
	void *h = *lib;
	size_t i;

	if (h == NULL && (h = dlopen(soname, RTLD_NOW | RTLD_LOCAL)) == NULL)
		return -ELIBACC;
	for (i = 0; i < n; i++)
		if ((syms[i] = dlsym(h, names[i])) == NULL) {
			if (*lib == NULL)
				dlclose(h);
			return -ELIBACC;
		}
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
