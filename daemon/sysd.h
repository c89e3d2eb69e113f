/* sysd.h - the part of libsystemd vpnd uses: sd_notify for the service
 * manager (daemon/notify.c) and sd-bus for systemd-resolved (client/dns.c).
 * The library is loaded (daemon/dl.c) by the first caller that has work
 * for it, not linked: a daemon outside systemd whose client pushes no DNS
 * to resolved never maps libsystemd and the six libraries it brings (about
 * 1 MB of resident pages per process). */
#ifndef VPND_SYSD_H
#define VPND_SYSD_H

#include <stdint.h>

#include <systemd/sd-bus.h>

struct sysd {
	int (*notify)(int unset_environment, const char *state);
	int (*bus_open_system)(sd_bus **ret);
	sd_bus *(*bus_flush_close_unref)(sd_bus *bus);
	int (*bus_call)(sd_bus *bus, sd_bus_message *m, uint64_t usec, sd_bus_error *ret_error,
	    sd_bus_message **reply);
	int (*bus_call_method)(sd_bus *bus, const char *destination, const char *path,
	    const char *interface, const char *member, sd_bus_error *ret_error,
	    sd_bus_message **reply, const char *types, ...);
	int (*bus_message_new_method_call)(sd_bus *bus, sd_bus_message **m,
	    const char *destination, const char *path, const char *interface,
	    const char *member);
	int (*bus_message_append)(sd_bus_message *m, const char *types, ...);
	int (*bus_message_append_array)(sd_bus_message *m, char type, const void *ptr,
	    size_t size);
	int (*bus_message_open_container)(sd_bus_message *m, char type,
	    const char *contents);
	int (*bus_message_close_container)(sd_bus_message *m);
	int (*bus_message_read)(sd_bus_message *m, const char *types, ...);
	sd_bus_message *(*bus_message_unref)(sd_bus_message *m);
	int (*bus_error_is_set)(const sd_bus_error *e);
	int (*bus_error_get_errno)(const sd_bus_error *e);
	void (*bus_error_free)(sd_bus_error *e);
};

/* libsystemd's API, loaded at the first call and kept; NULL when the
 * library (libsystemd0) or one of its symbols is missing. */
const struct sysd *sysd_get(void);

#endif
