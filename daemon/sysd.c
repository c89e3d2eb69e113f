/* sysd.c - see sysd.h. */
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
	static struct sysd api;
	static void *lib;

	if (lib == NULL && dl_load(&lib, "libsystemd.so.0", names,
	    sizeof(names) / sizeof(names[0]), &api, sizeof(api)) < 0)
		return NULL;
	return &api;
}
