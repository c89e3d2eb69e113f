/* vpnctl.c - administer a running vpnd through its control socket, and
 * make or inspect keys offline. The daemon does the work and renders the
 * answer; this program sends the words, prints the answer and exits with
 * the status the daemon gave (0 ok, 1 runtime failure, 2 usage). The
 * shape of each command (its words, arguments and options) is checked
 * here first, so a usage error exits 2 without contacting the daemon. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "conf/afile.h"
#include "conf/conf.h"
#include "crypto/fp.h"
#include "daemon/ctl.h"

/* What each option is, and which commands take it. */
enum {
	OPT_SOCKET  = 1 << 0,		/* -s, --socket: every daemon command */
	OPT_JSON    = 1 << 1,
	OPT_ADDRESS = 1 << 2,
	OPT_DIR     = 1 << 3,
	OPT_LONG    = 1 << 4,		/* -l, --long: the peers table in full */
};
#define LONG_JSON    0x100		/* getopt_long values of the long-only options */
#define LONG_ADDRESS 0x101
#define LONG_DIR     0x102

/* One command: its words, the arguments that must follow them, the
 * options it takes, and its line of usage (the SYNOPSIS of vpnctl(8)). */
struct command {
	const char *cm_words[2];	/* cm_words[1] NULL: a one-word command */
	const char *cm_args[2];		/* the arguments that follow, by name */
	unsigned    cm_opts;
	const char *cm_usage;		/* after "vpnctl " */
};

static const struct command commands[] = {
	{ { "status" }, { NULL }, OPT_SOCKET | OPT_JSON, "[-s SOCKET] status [--json]" },
	{ { "peers" }, { NULL }, OPT_SOCKET | OPT_JSON | OPT_LONG,
	  "[-s SOCKET] peers [-l] [--json]" },
	{ { "allow", "list" }, { NULL }, OPT_SOCKET | OPT_JSON,
	  "[-s SOCKET] allow list [--json]" },
	{ { "allow", "add" }, { "NAME", "FINGERPRINT" }, OPT_SOCKET | OPT_ADDRESS,
	  "[-s SOCKET] allow add NAME FINGERPRINT [--address IP[,IPv6]]" },
	{ { "allow", "remove" }, { "NAME" }, OPT_SOCKET, "[-s SOCKET] allow remove NAME" },
	{ { "kick" }, { "NAME" }, OPT_SOCKET, "[-s SOCKET] kick NAME" },
	{ { "reload" }, { NULL }, OPT_SOCKET, "[-s SOCKET] reload" },
	{ { "metrics" }, { NULL }, OPT_SOCKET, "[-s SOCKET] metrics" },
	{ { "events" }, { NULL }, OPT_SOCKET | OPT_JSON, "[-s SOCKET] events [--json]" },
	{ { "keygen" }, { "NAME" }, OPT_DIR, "keygen NAME [--dir DIR]" },
	{ { "fingerprint" }, { "FILE" }, 0, "fingerprint FILE" },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		fprintf(f, "%s vpnctl %s\n", i == 0 ? "usage:" : "      ",
		    commands[i].cm_usage);
	fprintf(f, "       vpnctl --help | --version\n"
	    "Options may come anywhere; -- ends them.\n");
}

/* A usage error: what is wrong, the usage of the command (or all), 2. */
static int usage_error(const struct command *cm, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int usage_error(const struct command *cm, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "vpnctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	if (cm != NULL)
		fprintf(stderr, "usage: vpnctl %s\n", cm->cm_usage);
	else
		usage(stderr);
	return 2;
}

static int cmd_keygen(const char *name, const char *dir)
{
	char fp[FP_STRLEN];
	int err;

	if ((err = key_generate(dir, name, fp)) < 0) {
		if (err == -EEXIST)
			fprintf(stderr, "vpnctl: keygen: %s/%s.key or .crt exists already\n",
			    dir, name);
		else if (err == -EINVAL)
			fprintf(stderr, "vpnctl: keygen: %s: invalid name "
			    "(1-63 of A-Z a-z 0-9 . _ -)\n", name);
		else
			fprintf(stderr, "vpnctl: keygen: %s: %s\n", dir, strerror(-err));
		return err == -EINVAL ? 2 : 1;
	}
	printf("%s\n", fp);
	return 0;
}

static int cmd_fingerprint(const char *file)
{
	char fp[FP_STRLEN];
	int err;

	if ((err = fp_of_file(file, fp)) < 0) {
		fprintf(stderr, "vpnctl: %s: %s\n", file, err == -EINVAL ?
		    "not a PEM key or certificate" : strerror(-err));
		return 1;
	}
	printf("%s\n", fp);
	return 0;
}

/* Default socket: the server's; failing that, a client's if one runs. */
static const char *default_socket(void)
{
	struct stat sb;

	if (stat(CONF_DEFAULT_SERVER_SOCKET, &sb) < 0 &&
	    stat(CONF_DEFAULT_CLIENT_SOCKET, &sb) == 0)
		return CONF_DEFAULT_CLIENT_SOCKET;
	return CONF_DEFAULT_SERVER_SOCKET;
}

static int ctl_connect(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "vpnctl: %s: path too long\n", path);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		int e = errno;

		fprintf(stderr, "vpnctl: %s: %s (%s)\n", path, strerror(e),
		    e == ENOENT ? "is vpnd running?" :
		    e == ECONNREFUSED ? "vpnd is not running: the socket is stale" :
		    e == EACCES || e == EPERM ? "vpnd serves root and its control_group only" :
		    "is vpnd running?");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Read the whole answer: "ok\n" + body, or "error N\n" + message. */
static int read_answer(int fd)
{
	char *buf = NULL, *p;
	size_t len = 0, cap = 0;
	ssize_t r;
	int status = 1;

	for (;;) {
		if (len + 4096 > cap) {
			cap = cap ? cap * 2 : 8192;
			if ((p = realloc(buf, cap)) == NULL)
				break;
			buf = p;
		}
		if ((r = read(fd, buf + len, cap - len - 1)) <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			break;
		}
		len += (size_t)r;
	}
	if (buf == NULL || len == 0 || (p = memchr(buf, '\n', len)) == NULL) {
		fprintf(stderr, "vpnctl: no answer from vpnd\n");
		free(buf);
		return 1;
	}
	buf[len] = '\0';
	*p++ = '\0';
	if (strcmp(buf, "ok") == 0) {
		fwrite(p, 1, len - (size_t)(p - buf), stdout);
		status = 0;
	} else if (sscanf(buf, "error %d", &status) == 1)
		fprintf(stderr, "vpnctl: %s", p);
	free(buf);
	return status;
}

/* vpnctl events: "ok\n", then lines as they come, each passed on at once
 * (stdout is flushed per read), until the daemon ends or vpnctl is
 * interrupted. An error answer is read whole, as any other. */
static int read_stream(int fd)
{
	char buf[8192], *nl;
	size_t len = 0;
	ssize_t r;
	int status = 1;

	while (len < sizeof(buf) - 1 && (nl = memchr(buf, '\n', len)) == NULL) {
		if ((r = read(fd, buf + len, sizeof(buf) - 1 - len)) < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			fprintf(stderr, "vpnctl: no answer from vpnd\n");
			return 1;
		}
		len += (size_t)r;
	}
	buf[len] = '\0';
	if ((nl = memchr(buf, '\n', len)) == NULL || strncmp(buf, "ok\n", 3) != 0) {
		if (nl != NULL && sscanf(buf, "error %d", &status) == 1)
			fprintf(stderr, "vpnctl: %s", nl + 1);
		return status;
	}
	fwrite(buf + 3, 1, len - 3, stdout);
	fflush(stdout);
	while ((r = read(fd, buf, sizeof(buf))) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return 1;
		if (fwrite(buf, 1, (size_t)r, stdout) != (size_t)r || fflush(stdout) != 0)
			return 1;	/* the reader went away (EPIPE) */
	}
	return 0;
}

/* Send the words as one request line (tab-separated) and relay the answer. */
static int cmd_remote(const char *sock, int argc, const char *const *argv)
{
	char req[CTL_MAX_REQ];
	size_t n = 0;
	int i, fd, rc, err;

	for (i = 0; i < argc; i++) {
		size_t l = strlen(argv[i]);

		if (l == 0 || strchr(argv[i], '\t') != NULL ||
		    strchr(argv[i], '\n') != NULL || n + l + 2 > sizeof(req)) {
			fprintf(stderr, "vpnctl: invalid argument\n");
			return 2;
		}
		memcpy(req + n, argv[i], l);
		n += l;
		req[n++] = i + 1 < argc ? '\t' : '\n';
	}
	if ((fd = ctl_connect(sock)) < 0)
		return 1;
	if ((err = afile_write_all(fd, req, n)) < 0 && err != -EPIPE) {
		fprintf(stderr, "vpnctl: %s: %s\n", sock, strerror(-err));
		close(fd);
		return 1;
	}	/* EPIPE: the daemon answered early (a refusal); read it */
	if (strcmp(argv[0], "events") == 0) {
		rc = read_stream(fd);	/* our end stays open: closing it ends the watch */
		close(fd);
		return rc;
	}
	shutdown(fd, SHUT_WR);
	rc = read_answer(fd);
	close(fd);
	return rc;
}

/* The command line, options taken out wherever they stand. */
struct cmdline {
	char       *cl_socket, *cl_address, *cl_dir;
	bool        cl_json;
	unsigned    cl_given;		/* OPT_ bits of the options seen */
	bool        cl_long;
	const char *cl_opt_name[5];	/* by OPT_ bit, for messages */
	char       *cl_args[CTL_MAX_ARGS];	/* the words that are not options */
	int         cl_nargs;
};

static const struct option long_opts[] = {
	{ "socket",  required_argument, NULL, 's' },
	{ "json",    no_argument,       NULL, LONG_JSON },
	{ "address", required_argument, NULL, LONG_ADDRESS },
	{ "dir",     required_argument, NULL, LONG_DIR },
	{ "long",    no_argument,       NULL, 'l' },
	{ "help",    no_argument,       NULL, 'h' },
	{ "version", no_argument,       NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static void given(struct cmdline *cl, unsigned bit, const char *name)
{
	cl->cl_given |= bit;
	cl->cl_opt_name[__builtin_ctz(bit)] = name;
}

/* 0 to go on, -1 when done (help, version), or 2 (a usage error). "-"
 * first in the option string returns each non-option as argument 1, in
 * order: options are taken anywhere whatever POSIXLY_CORRECT says, and
 * "--" ends them; ":" then reports a missing option argument as ':'. */
static int parse_cmdline(int argc, char **argv, struct cmdline *cl)
{
	int ch;

	opterr = 0;			/* the messages below name vpnctl, not argv[0] */
	while ((ch = getopt_long(argc, argv, "-:s:lhV", long_opts, NULL)) != -1) {
		switch (ch) {
		case 1:
			if (cl->cl_nargs == CTL_MAX_ARGS)
				return usage_error(NULL, "too many arguments");
			cl->cl_args[cl->cl_nargs++] = optarg;
			break;
		case 's':	  cl->cl_socket = optarg; given(cl, OPT_SOCKET, "-s"); break;
		case LONG_JSON:	  cl->cl_json = true; given(cl, OPT_JSON, "--json"); break;
		case LONG_ADDRESS: cl->cl_address = optarg; given(cl, OPT_ADDRESS, "--address"); break;
		case LONG_DIR:	  cl->cl_dir = optarg; given(cl, OPT_DIR, "--dir"); break;
		case 'l':	  cl->cl_long = true; given(cl, OPT_LONG, "-l"); break;
		case 'h':	  usage(stdout); return -1;
		case 'V':	  printf("vpnctl %s\n", VPND_VERSION); return -1;
		case ':':	  return usage_error(NULL, "%s: missing argument", argv[optind - 1]);
		default:	/* a long one as typed; a short one may be in a group */
			if (strncmp(argv[optind - 1], "--", 2) == 0)
				return usage_error(NULL, "%s: not a valid option",
				    argv[optind - 1]);
			return usage_error(NULL, "-%c: not a valid option", optopt);
		}
	}
	for (; optind < argc; optind++) {		/* after "--" */
		if (cl->cl_nargs == CTL_MAX_ARGS)
			return usage_error(NULL, "too many arguments");
		cl->cl_args[cl->cl_nargs++] = argv[optind];
	}
	return 0;
}

/* The command the words name, or NULL (*nwords: how many words it took). */
static const struct command *find_command(const struct cmdline *cl, int *nwords)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++) {
		const struct command *cm = &commands[i];

		if (cl->cl_nargs < 1 || strcmp(cl->cl_args[0], cm->cm_words[0]) != 0)
			continue;
		if (cm->cm_words[1] == NULL) {
			*nwords = 1;
			return cm;
		}
		if (cl->cl_nargs >= 2 && strcmp(cl->cl_args[1], cm->cm_words[1]) == 0) {
			*nwords = 2;
			return cm;
		}
	}
	return NULL;
}

static int nargs_of(const struct command *cm)
{
	return cm->cm_args[0] == NULL ? 0 : cm->cm_args[1] == NULL ? 1 : 2;
}

/* Every check of a command's shape is made here, before connecting: a
 * usage error exits 2 and contacts no one. */
static int check_command(const struct cmdline *cl, const struct command **out,
    int *nwords)
{
	const struct command *cm;
	char name[32];
	unsigned extra;
	int have, want;

	if (cl->cl_nargs == 0)
		return usage_error(NULL, "no command");
	if ((cm = find_command(cl, nwords)) == NULL) {
		if (strcmp(cl->cl_args[0], "allow") == 0)
			return usage_error(NULL, "allow: %s list, add or remove",
			    cl->cl_nargs < 2 ? "missing" : "expected");
		return usage_error(NULL, "%s: unknown command", cl->cl_args[0]);
	}
	have = cl->cl_nargs - *nwords;
	want = nargs_of(cm);
	snprintf(name, sizeof(name), "%s%s%s", cm->cm_words[0],
	    cm->cm_words[1] ? " " : "", cm->cm_words[1] ? cm->cm_words[1] : "");
	if (have < want)
		return usage_error(cm, "%s: missing %s", name, cm->cm_args[have]);
	if (have > want)
		return usage_error(cm, "%s: unexpected argument \"%s\"", name,
		    cl->cl_args[*nwords + want]);
	if ((extra = cl->cl_given & ~cm->cm_opts) != 0)
		return usage_error(cm, "%s: %s is not one of its options", name,
		    cl->cl_opt_name[__builtin_ctz(extra)]);
	*out = cm;
	return 0;
}

int main(int argc, char **argv)
{
	struct cmdline cl = { .cl_nargs = 0 };
	const struct command *cm = NULL;
	const char *words[CTL_MAX_ARGS + 3];
	int rc, n, nwords, i;

	if ((rc = parse_cmdline(argc, argv, &cl)) != 0)
		return rc < 0 ? 0 : rc;
	if ((rc = check_command(&cl, &cm, &nwords)) != 0)
		return rc;
	if (strcmp(cm->cm_words[0], "keygen") == 0)
		return cmd_keygen(cl.cl_args[1], cl.cl_dir ? cl.cl_dir : ".");
	if (strcmp(cm->cm_words[0], "fingerprint") == 0)
		return cmd_fingerprint(cl.cl_args[1]);
	signal(SIGPIPE, SIG_IGN);
	for (n = 0, i = 0; i < cl.cl_nargs; i++)	/* the daemon's order */
		words[n++] = cl.cl_args[i];
	if (cl.cl_address != NULL) {
		words[n++] = "--address";
		words[n++] = cl.cl_address;
	}
	if (cl.cl_long)
		words[n++] = "--long";
	if (cl.cl_json)
		words[n++] = "--json";
	return cmd_remote(cl.cl_socket ? cl.cl_socket : default_socket(), n, words);
}
