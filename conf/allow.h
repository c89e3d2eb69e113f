/* allow.h - the allow-list: which peer keys the server admits, by name and
 * fingerprint, with an optional static tunnel address. Loaded from and saved
 * to a libconfig file; saving is atomic (temp file, fsync, rename, fsync dir).
 * This module never prints. */
#ifndef VPND_ALLOW_H
#define VPND_ALLOW_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

#include "conf/conf.h"

#define ALLOW_NAME_MAX FP_NAME_MAX	/* fp_name_valid() */

struct allow_entry {
	char           ae_name[ALLOW_NAME_MAX];
	char           ae_fp[CONF_FP_LEN];	/* normalised lowercase */
	bool           ae_has_addr;
	struct in_addr ae_addr;
	bool           ae_has_addr6;		/* address6: a static IPv6 address */
	struct in6_addr ae_addr6;
};

struct allow_list {
	struct allow_entry *al_e;
	size_t              al_n, al_cap;
};

/* Load PATH into *al (initialised by this call). Duplicate names, duplicate
 * fingerprints, bad names/fingerprints/addresses are errors with the line.
 * If net is not NULL a static address must be a peer address of it: inside
 * it, and neither its network address, nor the server's (the first host),
 * nor its broadcast address. A missing file is -ENOENT. */
int  allow_load(struct allow_list *al, const char *path, const struct cidr *net,
                struct conf_err *err);
/* The same with network6 (net6; NULL: no address6 check): an address6
 * must lie inside it and be neither its network address nor the
 * server's ::1, and no two entries may share one. */
int  allow_load6(struct allow_list *al, const char *path, const struct cidr *net,
                 const struct cidr6 *net6, struct conf_err *err);
/* A static IPv6 address a peer may hold in net6 (the rules above). NULL
 * net6: 0. */
int  allow_addr6_check(const struct cidr6 *net6, const struct in6_addr *a,
                       struct conf_err *err);
/* Write atomically; keeps the mode of an existing file, else 0644. */
int  allow_save(const struct allow_list *al, const char *path, struct conf_err *err);
void allow_free(struct allow_list *al);		/* leaves it empty, reusable */

/* Validating edits. add runs the very check allow_load runs on each entry,
 * with the same net (NULL: no address check), so a list loaded and edited
 * with one net saves as a file that loads with it: -EINVAL bad name,
 * fingerprint or address (msg in err), -EEXIST name or fingerprint or
 * address already listed; the list is unchanged on error. remove: -ENOENT
 * unknown name. */
/* A static address a peer may hold in net: inside it, not its network, server
 * (first host) or broadcast address. 0 or -EINVAL with err. NULL net: 0. */
int  allow_addr_check(const struct cidr *net, struct in_addr a, struct conf_err *err);
int  allow_add(struct allow_list *al, const struct cidr *net, const char *name,
               const char *fp, const struct in_addr *addr, struct conf_err *err);
/* The same with network6: ADDR6 (NULL: none) passes allow_addr6_check
 * and is unique, as allow_load6 wants. */
int  allow_add6(struct allow_list *al, const struct cidr *net, const struct cidr6 *net6,
                const char *name, const char *fp, const struct in_addr *addr,
                const struct in6_addr *addr6, struct conf_err *err);
int  allow_remove(struct allow_list *al, const char *name);

const struct allow_entry *allow_find_fp(const struct allow_list *al, const char *fp);
const struct allow_entry *allow_find_name(const struct allow_list *al, const char *name);


#endif
