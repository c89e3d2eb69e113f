/* vpnd.c - the daemon's entry point: parse flags, load and check the
 * configuration (and the keys, certificates and allow-list it names), then
 * run the server or the client in the foreground, logging to stderr.
 * Exit status: 0 success, 1 runtime failure, 2 usage or configuration. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/cli.h"
#include "conf/allow.h"
#include "conf/check.h"
#include "conf/conf.h"
#include "crypto/tls.h"
#include "daemon/log.h"
#include "server/srv.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: vpnd [-tvq] -c FILE\n"
	    "       vpnd -V | -h\n"
	    "  -c FILE  configuration file (mode = \"server\" or \"client\")\n"
	    "  -t       check the configuration, the files it names and this host\n"
	    "           against it, then exit\n"
	    "  -v, -q   more, less logging\n"
	    "  -V       print the version\n"
	    "  -h       this help\n");
}

/* What -t checks beyond conf_load: the key pair loads into a TLS context
 * and, on a server, the allow-list parses against the tunnel network. */
static int check_files(const struct conf *c)
{
	struct tls_ctx *t = NULL;
	struct allow_list al = { 0 };
	struct conf_err ce;
	char msg[512];
	int err;

	if (c->c_mode == CONF_SERVER)
		err = tls_ctx_server(&t, c->c_key, c->c_cert, msg, sizeof(msg));
	else
		err = tls_ctx_client(&t, c->c_key, c->c_cert, c->c_server_fp,
		    msg, sizeof(msg));
	tls_ctx_free(t);
	if (err < 0) {
		fprintf(stderr, "%s: key/cert: %s\n", c->c_path, msg);
		return -1;
	}
	if (c->c_mode == CONF_SERVER) {
		err = allow_load6(&al, c->c_allow_list, &c->c_network,
		    c->c_has_network6 ? &c->c_network6 : NULL, &ce);
		allow_free(&al);
		if (err < 0) {
			fprintf(stderr, "%s\n", conf_err_str(&ce, msg, sizeof(msg)));
			return -1;
		}
	}
	return 0;
}

/* What conf/check.c finds: errors on stderr; warnings there too under -t
 * ("warning: FILE:LINE: KEY: ..."), else in the log. An error refuses to
 * start as it fails -t: vpnd runs nothing that vpnd -t calls wrong.
 * 0, or -1 when there was an error. */
static int check_config(const struct conf *c, bool test)
{
	static struct check_report r;
	char msg[PATH_MAX + 256];
	int i;

	check_conf(c, NULL, &r);
	for (i = 0; i < r.cr_n; i++) {
		conf_err_str(&r.cr_f[i].cf_err, msg, sizeof(msg));
		if (r.cr_f[i].cf_level == CHECK_ERROR)
			fprintf(stderr, "%s\n", msg);
		else if (test)
			fprintf(stderr, "warning: %s\n", msg);
		else
			log_warnx("%s", msg);
	}
	if (r.cr_n < r.cr_errors + r.cr_warnings)
		fprintf(stderr, "%s: %d more findings not shown\n", c->c_path,
		    r.cr_errors + r.cr_warnings - r.cr_n);
	return r.cr_errors > 0 ? -1 : 0;
}

/* One loop for the whole run, in either mode; what is left open in it at
 * the end is a bug worth a line. */
static int run(const struct conf *c)
{
	uv_loop_t loop;
	int rc;

	signal(SIGPIPE, SIG_IGN);	/* a closed peer is an error return, not a death */
	if (uv_loop_init(&loop) != 0)
		fatalx("cannot start the event loop");
	rc = c->c_mode == CONF_SERVER ? srv_run(&loop, c) : cli_run(&loop, c);
	if (uv_loop_close(&loop) != 0)
		log_warnx("event loop: handles left open at exit");
	return rc;
}

int main(int argc, char **argv)
{
	static struct conf conf;	/* large; lives for the whole run */
	const char *path = NULL;
	struct conf_err ce;
	char msg[512];
	int ch, test = 0;

	/* libuv 1.45 to 1.47 (and later ones asked to) make io_uring rings at
	 * uv_loop_init, before the privilege drop, then need io_uring_enter,
	 * which its seccomp filter denies (daemon/priv.c): epoll only. */
	if (setenv("UV_USE_IO_URING", "0", 1) < 0)
		fatal("setenv");

	while ((ch = getopt(argc, argv, "c:tvqVh")) != -1) {
		switch (ch) {
		case 'c': path = optarg; break;
		case 't': test = 1; break;
		case 'v': log_verbosity++; break;
		case 'q': log_verbosity--; break;
		case 'V': printf("vpnd %s\n", VPND_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default:  usage(stderr); return 2;
		}
	}
	if (path == NULL || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (conf_load(&conf, path, &ce) < 0) {
		fprintf(stderr, "%s\n", conf_err_str(&ce, msg, sizeof(msg)));
		return 2;
	}
	if (check_files(&conf) < 0 || check_config(&conf, test) < 0)
		return 2;
	if (test) {
		printf("configuration OK\n");
		return 0;
	}
	return run(&conf);
}
