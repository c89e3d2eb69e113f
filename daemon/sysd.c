/* sysd.c - see sysd.h. */
#include <string.h>

#include "daemon/dl.h"
#include "daemon/sysd.h"

const struct sysd *sysd_get(void)
{
	/* In the order of struct sysd's members. */
	static const char *const names[] = { "sd_notify", "sd_bus_open_system",
	    "sd_bus_flush_close_unref", "sd_bus_call", "sd_bus_call_method",
	    "sd_bus_message_new_method_call", "sd_bus_message_append",
	    "sd_bus_message_append_array", "sd_bus_message_open_container",
	    "sd_bus_message_close_container", "sd_bus_message_read",
	    "sd_bus_message_unref", "sd_bus_error_is_set", "sd_bus_error_get_errno",
	    "sd_bus_error_free" };
	void *fn[sizeof(names) / sizeof(names[0])];
	static struct sysd api;
	static void *lib;

	_Static_assert(sizeof(api) == sizeof(fn), "one name per member of struct sysd");
	if (lib != NULL)
		return &api;
	if (dl_load(&lib, "libsystemd.so.0", names, fn, sizeof(names) / sizeof(names[0])) < 0)
		return NULL;
	/* POSIX: dlsym's data pointers convert to function pointers; the
	 * members are function pointers of one size, in the names' order. */
	memcpy(&api, fn, sizeof(api));
	return &api;
}
