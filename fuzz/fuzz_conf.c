/* fuzz_conf.c - conf_load on an arbitrary vpnd.conf. The input is written
 * to one file in a scratch directory that also holds a key "k", a cert "c",
 * an allow-list "a", an include file "inc" and a directory "d", so inputs
 * naming them (relative paths resolve against the config's directory) get
 * past the file checks. A load that succeeds must hold what conf.h
 * promises; one that fails must say why. LeakSanitizer checks that a
 * failed load, at any point, frees what libconfig allocated. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conf/allow.h"
#include "conf/conf.h"
#include "fuzz/fuzz.h"
#include "fuzz/scratch.h"

static char conf_path[PATH_MAX];

const char *__lsan_default_suppressions(void)
{
	return FUZZ_LSAN_LIBCONFIG;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char pem[] = "-----BEGIN PRIVATE KEY-----\n"
	    "-----END PRIVATE KEY-----\n";
	static const char allow[] = "peers = ( { name = \"alice\"; fingerprint = "
	    "\"sha256:2bd806c97f0e00af1a1fc3328fa763a9269723c8db8fac4f93af71db186d6e90\"; } );\n";
	static const char inc[] = "keepalive = 5;\n";
	char p[PATH_MAX];

	(void)argc;
	(void)argv;
	scratch_write("k", pem, sizeof(pem) - 1, p);
	scratch_write("c", pem, sizeof(pem) - 1, p);
	scratch_write("a", allow, sizeof(allow) - 1, p);
	scratch_write("inc", inc, sizeof(inc) - 1, p);
	if (mkdir(scratch_path("d", p), 0700) < 0)
		abort();
	scratch_path("vpnd.conf", conf_path);
	return 0;
}

static bool is_abs(const char *path)
{
	return path[0] == '/' && strlen(path) < PATH_MAX;
}

/* What a loaded configuration guarantees its users (conf.h, vpnd.conf(5)). */
static void check_loaded(const struct conf *c)
{
	char fp[CONF_FP_LEN];
	int i;

	if (!is_abs(c->c_key) || !is_abs(c->c_cert) ||
	    !is_abs(c->c_control_socket) || c->c_tun_name[0] == '\0' ||
	    c->c_keepalive < 1 || c->c_keepalive > 3600 ||
	    c->c_dead_peer_timeout <= c->c_keepalive ||
	    c->c_dead_peer_timeout > 86400 ||
	    strcmp(c->c_path, conf_path) != 0)
		abort();
	if (c->c_mode == CONF_SERVER) {
		if (c->c_tun_mtu < 576 || c->c_tun_mtu > 9000 ||
		    c->c_nlisten < 1 || c->c_nlisten > CONF_MAX_LISTEN ||
		    c->c_network.plen < 16 || c->c_network.plen > 30 ||
		    c->c_nroutes < 0 || c->c_nroutes > CONF_MAX_ROUTES ||
		    !is_abs(c->c_allow_list) || c->c_nservers != 0 ||
		    (c->c_state_dir[0] != '\0' && !is_abs(c->c_state_dir)))
			abort();
		for (i = 0; i < c->c_nroutes; i++)
			if (c->c_routes[i].plen < 0 || c->c_routes[i].plen > 32)
				abort();
		for (i = 0; i < c->c_nlisten; i++)
			if (c->c_listen[i].ss_family != AF_INET &&
			    c->c_listen[i].ss_family != AF_INET6)
				abort();
	} else if (c->c_mode == CONF_CLIENT) {
		if ((c->c_tun_mtu != 0 && (c->c_tun_mtu < 576 || c->c_tun_mtu > 9000)) ||
		    c->c_nservers < 1 || c->c_nservers > CONF_MAX_SERVERS ||
		    c->c_nlisten != 0 || c->c_nroutes != 0 ||
		    fp_normalise(c->c_server_fp, fp) != 0 ||
		    strcmp(fp, c->c_server_fp) != 0)
			abort();
		for (i = 0; i < c->c_nservers; i++)
			if (c->c_servers[i].host[0] == '\0' ||
			    c->c_servers[i].port[0] == '\0')
				abort();
	} else
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct conf c;
	struct conf_err err;
	char p[PATH_MAX], msg[PATH_MAX + 200];

	scratch_write("vpnd.conf", data, size, p);
	if (conf_load(&c, conf_path, &err) == 0) {
		check_loaded(&c);
		return 0;
	}
	if (err.msg[0] == '\0')		/* every failure says why */
		abort();
	conf_err_str(&err, msg, sizeof(msg));
	return 0;
}
