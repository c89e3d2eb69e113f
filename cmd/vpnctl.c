/* vpnctl.c - administer a running vpnd through its control socket, and
 * make or inspect keys offline. The daemon does the work and renders the
 * answer; this program sends the words, prints the answer and exits with
 * the status the daemon gave (0 ok, 1 runtime failure, 2 usage). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "conf/conf.h"
#include "crypto/fp.h"
#include "daemon/ctl.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: vpnctl [-s SOCKET] status [--json]\n"
	    "       vpnctl [-s SOCKET] peers [--json]\n"
	    "       vpnctl [-s SOCKET] allow list [--json]\n"
	    "       vpnctl [-s SOCKET] allow add NAME FINGERPRINT [--address IP]\n"
	    "       vpnctl [-s SOCKET] allow remove NAME\n"
	    "       vpnctl [-s SOCKET] kick NAME\n"
	    "       vpnctl [-s SOCKET] reload\n"
	    "       vpnctl keygen NAME [--dir DIR]\n"
	    "       vpnctl fingerprint FILE\n"
	    "       vpnctl -V | -h\n");
}

static int cmd_keygen(int argc, char **argv)
{
	const char *dir = ".";
	char fp[FP_STRLEN];
	int err;

	if (argc == 4 && strcmp(argv[2], "--dir") == 0)
		dir = argv[3];
	else if (argc != 2) {
		usage(stderr);
		return 2;
	}
	if ((err = key_generate(dir, argv[1], fp)) < 0) {
		if (err == -EEXIST)
			fprintf(stderr, "vpnctl: keygen: %s/%s.key or .crt exists already\n",
			    dir, argv[1]);
		else if (err == -EINVAL)
			fprintf(stderr, "vpnctl: keygen: %s: invalid name "
			    "(1-63 of A-Z a-z 0-9 . _ -)\n", argv[1]);
		else
			fprintf(stderr, "vpnctl: keygen: %s: %s\n", dir, strerror(-err));
		return err == -EINVAL ? 2 : 1;
	}
	printf("%s\n", fp);
	return 0;
}

static int cmd_fingerprint(int argc, char **argv)
{
	char fp[FP_STRLEN];
	int err;

	if (argc != 2) {
		usage(stderr);
		return 2;
	}
	if ((err = fp_of_file(argv[1], fp)) < 0) {
		fprintf(stderr, "vpnctl: %s: %s\n", argv[1], err == -EINVAL ?
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
		fprintf(stderr, "vpnctl: %s: %s (is vpnd running?)\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int send_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
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

static int cmd_remote(const char *sock, int argc, char **argv)
{
	char req[CTL_MAX_REQ];
	size_t n = 0;
	int i, fd, rc;

	for (i = 0; i < argc; i++) {
		size_t l = strlen(argv[i]);

		if (strchr(argv[i], '\t') != NULL || strchr(argv[i], '\n') != NULL ||
		    n + l + 2 > sizeof(req)) {
			fprintf(stderr, "vpnctl: invalid argument\n");
			return 2;
		}
		memcpy(req + n, argv[i], l);
		n += l;
		req[n++] = i + 1 < argc ? '\t' : '\n';
	}
	if ((fd = ctl_connect(sock)) < 0)
		return 1;
	if (send_all(fd, req, n) < 0 && errno != EPIPE) {
		fprintf(stderr, "vpnctl: %s: %s\n", sock, strerror(errno));
		close(fd);
		return 1;
	}	/* EPIPE: the daemon answered early (a refusal); read it */
	shutdown(fd, SHUT_WR);
	rc = read_answer(fd);
	close(fd);
	return rc;
}

int main(int argc, char **argv)
{
	const char *sock = NULL;
	int ch;

	while ((ch = getopt(argc, argv, "+s:Vh")) != -1) {
		switch (ch) {
		case 's': sock = optarg; break;
		case 'V': printf("vpnctl %s\n", VPND_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default:  usage(stderr); return 2;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[0], "keygen") == 0)
		return cmd_keygen(argc, argv);
	if (strcmp(argv[0], "fingerprint") == 0)
		return cmd_fingerprint(argc, argv);
	if (strcmp(argv[0], "status") && strcmp(argv[0], "peers") &&
	    strcmp(argv[0], "allow") && strcmp(argv[0], "kick") &&
	    strcmp(argv[0], "reload")) {
		usage(stderr);
		return 2;
	}
	return cmd_remote(sock ? sock : default_socket(), argc, argv);
}
