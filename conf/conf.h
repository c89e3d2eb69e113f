/* conf.h - the daemon's configuration file (libconfig syntax), parsed and
 * validated into a typed struct. Errors name the file, the line and the key;
 * this module never prints. The allow-list file has its own module, allow.h. */
#ifndef VPND_CONF_H
#define VPND_CONF_H

#define CONF_LEASE_FILE "leases"	/* the lease file's name inside state_dir */

#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "conf/err.h"
#include "crypto/fp.h"

#define CONF_MAX_LISTEN  8
#define CONF_MAX_ROUTES  64
#define CONF_MAX_SERVERS 8
#define CONF_FP_LEN      FP_STRLEN	/* crypto/fp.h owns the syntax */
#define CONF_MAX_LINES   48	/* keys remembered with their line */
#define CONF_MAX_FILES   4	/* @included files those lines may be in */
#define CONF_MAX_DNS     8	/* dns: resolvers pushed to clients */
#define CONF_MAX_SEARCH  8	/* dns_search: domains pushed with them */
#define CONF_DOMAIN_MAX  254	/* "~" and a 253-character name */

/* An IPv4 prefix; addr holds the network address (host bits zero). */
struct cidr {
	struct in_addr addr;
	int            plen;	/* 0..32 */
};

/* An IPv6 prefix (network6, IPv6 routes); addr is the network address. */
struct cidr6 {
	struct in6_addr addr;
	int             plen;	/* 0..128 */
};

/* A resolver pushed to clients: an IPv4 or IPv6 address. */
struct conf_dns {
	int     cd_family;		/* AF_INET or AF_INET6 */
	uint8_t cd_addr[16];		/* network order; 4 bytes for AF_INET */
};

enum conf_mode { CONF_SERVER, CONF_CLIENT };
enum conf_transport { CONF_TRANSPORT_AUTO, CONF_TRANSPORT_TLS, CONF_TRANSPORT_DTLS };

struct conf_server_addr {	/* a client's "host:port" */
	char host[256];
	char port[8];
};

/* Where a key was set, so checks made after conf_load (conf/check.h) can
 * name file:line:key as conf_load's own errors do. Top-level keys by name,
 * a group's members as "group.member" ("nat.out_interface"). */
struct conf_line {
	char kl_key[32];
	int  kl_line;
	int  kl_file;			/* -1: c_path, else an index into c_files */
};

struct conf {
	enum conf_mode c_mode;
	char c_path[PATH_MAX];		/* the file this came from */
	char c_key[PATH_MAX];		/* relative paths are resolved against */
	char c_cert[PATH_MAX];		/* the config file's directory */
	char c_tun_name[IFNAMSIZ];	/* default "vpn0" */
	int  c_tun_mtu;			/* 576..9000; 0 on a client = take the server's */
	char c_control_socket[PATH_MAX];/* default /run/vpnd/{server,client}.sock */
	char c_user[64];		/* "" = stay root */
	uid_t c_uid;
	gid_t c_gid;			/* group, else the user's primary group */
	bool c_has_group;
	char c_control_group[64];	/* "" = none: only root uses vpnctl */
	gid_t c_control_gid;		/* its gid; (gid_t)-1 when none */
	int  c_keepalive;		/* seconds, 1..3600, default 10 */
	int  c_dead_peer_timeout;	/* seconds, > keepalive, <= 86400, default 30 */
	struct sockaddr_storage c_metrics_listen;	/* the /metrics endpoint */
	bool c_has_metrics;		/* metrics_listen set */
	char c_on_connect[PATH_MAX];	/* hooks: "" = none; absolute executables */
	char c_on_disconnect[PATH_MAX];

	/* server */
	struct sockaddr_storage c_listen[CONF_MAX_LISTEN];
	int  c_nlisten;			/* default one: 0.0.0.0:4433 */
	struct cidr c_network;		/* required; plen 16..30 */
	struct cidr c_routes[CONF_MAX_ROUTES];
	int  c_nroutes;
	bool c_has_network6;		/* network6 set: IPv6 inside the tunnel */
	struct cidr6 c_network6;	/* plen 64..120; the server takes ::1 */
	struct cidr6 c_routes6[CONF_MAX_ROUTES];	/* the IPv6 entries of routes */
	int  c_nroutes6;		/* c_nroutes + c_nroutes6 <= CONF_MAX_ROUTES */
	bool c_nat_ipv6;		/* nat.ipv6: masquerade network6 too */
	char c_nat_out[IFNAMSIZ];	/* "" = no masquerade */
	char c_allow_list[PATH_MAX];	/* required */
	char c_state_dir[PATH_MAX];	/* "" = none; holds CONF_LEASE_FILE */
	bool c_client_to_client;	/* default false */
	struct conf_dns c_dns[CONF_MAX_DNS];
	int  c_ndns;
	char c_dns_search[CONF_MAX_SEARCH][CONF_DOMAIN_MAX + 1];
	int  c_ndns_search;		/* "~name": a routing-only domain */

	/* client */
	struct conf_server_addr c_servers[CONF_MAX_SERVERS];
	int  c_nservers;		/* "server" or "servers", at least one */
	char c_server_fp[CONF_FP_LEN];	/* normalised lowercase */
	enum conf_transport c_transport;/* default auto */
	bool c_block_ipv6;		/* default true: client/routes.h */

	struct conf_line c_lines[CONF_MAX_LINES];
	int  c_nlines;
	char c_files[CONF_MAX_FILES][PATH_MAX];	/* @included files named by c_lines */
	int  c_nfiles;
};

#define CONF_DEFAULT_SERVER_SOCKET "/run/vpnd/server.sock"
#define CONF_DEFAULT_CLIENT_SOCKET "/run/vpnd/client.sock"

/* Parse and validate PATH into *c (zeroed first). Checks that key and cert
 * are readable files, and on a server that allow_list exists; loading the
 * key material itself is crypto's job. 0, or -EINVAL/-ENOENT/... with *err. */
int conf_load(struct conf *c, const char *path, struct conf_err *err);
/* The same for a reload by the running daemon: key, cert and allow_list
 * are resolved but not opened. A daemon that dropped privileges may no
 * longer read them, and a reload does not use them: the key pair needs a
 * restart, and the allow-list is read by the privileged side. */
int conf_reread(struct conf *c, const char *path, struct conf_err *err);

/* "10.8.0.0/24" -> cidr. Rejects host bits set, plen > 32, junk. 0 or -EINVAL. */
int conf_parse_cidr(const char *s, struct cidr *out);
/* "1.2.3.4:4433", "[::]:4433" -> sockaddr (numeric only). 0 or -EINVAL. */
int conf_parse_sockaddr(const char *s, struct sockaddr_storage *out);
/* "host:port" or "[v6]:port" -> host/port strings. 0 or -EINVAL. */
int conf_parse_hostport(const char *s, struct conf_server_addr *out);
/* A dns_search entry: a DNS name of at most 253 characters, labels of
 * 1-63 [A-Za-z0-9-] separated by dots (one trailing dot allowed), with an
 * optional leading "~" (routing-only, as resolvectl writes it). 0 or
 * -EINVAL. The client checks pushed names with it too. */
int conf_check_domain(const char *s);
bool cidr_contains(const struct cidr *c, struct in_addr a);
/* "fd00:8::/64" -> cidr6; host bits must be zero. 0 or -EINVAL. */
int  conf_parse_cidr6(const char *s, struct cidr6 *out);
bool cidr6_contains(const struct cidr6 *c, const struct in6_addr *a);
/* The network's host number n (n = 1: the server's ::1) into *out;
 * -ERANGE if n does not fit the host bits. */
int  cidr6_host(const struct cidr6 *c, uint64_t n, struct in6_addr *out);
/* The line KEY ("network", "nat.out_interface") was set at, and its file
 * into *file (c_path, or an @included file); 0 with *file = c_path when
 * the file does not set it (a default). */
int  conf_key_line(const struct conf *c, const char *key, const char **file);
/* The inverse of conf_parse_sockaddr, for logs and vpnctl; returns buf. */
const char *conf_sockaddr_str(const struct sockaddr_storage *ss, char *buf, size_t len);


#endif
