/* fixture.c - fixtures shared by the unit tests; see fixture.h. */
#include <dirent.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "crypto/dtls.h"
#include "crypto/fp.h"
#include "crypto/tls.h"
#include "tunnel/vnet.h"
#include "fixture.h"

/* ---- files ---- */

int fx_tmpdir(char *dir, size_t len, const char *tag)
{
	if (snprintf(dir, len, "/tmp/vpnd-test-%s.XXXXXX", tag) >= (int)len ||
	    mkdtemp(dir) == NULL) {
		if (len > 0)
			dir[0] = '\0';
		return -1;
	}
	return 0;
}

static int rm_entry(const char *p, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

int fx_rmtree(const char *dir)
{
	if (dir[0] == '\0')
		return 0;
	return nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}

const char *fx_path(const char *dir, const char *name)
{
	static char buf[4][PATH_MAX];
	static unsigned n;
	char *p = buf[n++ % 4];

	assert_true(snprintf(p, PATH_MAX, "%s/%s", dir, name) < PATH_MAX);
	return p;
}

void fx_write_buf(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

void fx_write(const char *path, const char *text)
{
	fx_write_buf(path, text, strlen(text));
}

/* ---- commands and identities ---- */

int fx_sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (system(cmd) == 0)
		return 0;
	print_error("command failed: %s\n", cmd);
	return -1;
}

int fx_keypair(const char *dir, const char *name, const char *genopts)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return fx_sh("openssl genpkey %s -out %s.key 2>/dev/null", genopts, p) ||
	    fx_sh("openssl req -x509 -new -key %s.key -subj /CN=%s -days 1 "
	    "-out %s.crt 2>/dev/null", p, name, p) ? -1 : 0;
}

/* ---- TLS ---- */

/* DIR/NAME.key and DIR/NAME.crt. */
static void identity_paths(const char *dir, const char *name,
    char key[PATH_MAX], char crt[PATH_MAX])
{
	snprintf(key, PATH_MAX, "%s/%s.key", dir, name);
	snprintf(crt, PATH_MAX, "%s/%s.crt", dir, name);
}

int fx_tls_server(struct tls_ctx **out, const char *dir, const char *name)
{
	char key[PATH_MAX], crt[PATH_MAX], err[160] = "";
	int rc;

	identity_paths(dir, name, key, crt);
	rc = tls_ctx_server(out, key, crt, err, sizeof(err));
	if (rc < 0)
		print_error("tls_ctx_server %s: %s\n", name, err);
	return rc;
}

int fx_tls_client(struct tls_ctx **out, const char *dir, const char *name,
    const char *pin)
{
	char key[PATH_MAX], crt[PATH_MAX], err[160] = "";
	int rc;

	identity_paths(dir, name, key, crt);
	rc = tls_ctx_client(out, key, crt, pin, err, sizeof(err));
	if (rc < 0)
		print_error("tls_ctx_client %s: %s\n", name, err);
	return rc;
}

void fx_socketpair(int fds[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0, fds), 0);
}

void fx_tls_pair_open(struct fx_tls_pair *p)
{
	memset(p, 0, sizeof(*p));
	fx_socketpair(p->fds);
}

void fx_tls_pair_close(struct fx_tls_pair *p)
{
	SSL_free(p->srv);
	SSL_free(p->cli);
	if (p->fds[0] > 0)
		close(p->fds[0]);
	if (p->fds[1] > 0)
		close(p->fds[1]);
	ERR_clear_error();
	memset(p, 0, sizeof(*p));
}

int fx_tls_step(SSL *ssl)
{
	int r = SSL_do_handshake(ssl);

	if (r == 1)
		return 1;
	switch (SSL_get_error(ssl, r)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		return 0;
	default:
		return -1;
	}
}

void fx_tls_handshake(struct fx_tls_pair *p)
{
	int i;

	for (i = 0; i < FX_HANDSHAKE_ROUNDS; i++) {
		if (p->cli_rc == 0)
			p->cli_rc = fx_tls_step(p->cli);
		if (p->srv_rc == 0)
			p->srv_rc = fx_tls_step(p->srv);
		if (p->cli_rc != 0 && p->srv_rc != 0)
			break;
	}
}

void fx_list_dir(const char *dir, char *out, size_t len)
{
	struct dirent **names;
	int i, n;

	out[0] = '\0';
	assert_true((n = scandir(dir, &names, NULL, alphasort)) >= 0);
	for (i = 0; i < n; i++) {
		if (strcmp(names[i]->d_name, ".") != 0 &&
		    strcmp(names[i]->d_name, "..") != 0)
			snprintf(out + strlen(out), len - strlen(out), "%s%s",
			    out[0] != '\0' ? " " : "", names[i]->d_name);
		free(names[i]);
	}
	free(names);
}

/* ---- both ends ---- */

int fx_ends_close(struct fx_ends *e)
{
	dtls_ctx_free(e->dtls_cli);
	dtls_ctx_free(e->dtls_srv);
	tls_ctx_free(e->tls_cli);
	tls_ctx_free(e->tls_srv);
	e->dtls_cli = e->dtls_srv = NULL;
	e->tls_cli = e->tls_srv = NULL;
	return fx_rmtree(e->dir);
}

int fx_ends_open(struct fx_ends *e, const char *tag)
{
	char fp_srv[FP_STRLEN], fp_cli[FP_STRLEN];

	memset(e, 0, sizeof(*e));
	if (fx_tmpdir(e->dir, sizeof(e->dir), tag) < 0)
		return -1;
	if (key_generate(e->dir, "server", fp_srv) < 0 ||
	    key_generate(e->dir, "client", fp_cli) < 0 ||
	    fx_tls_server(&e->tls_srv, e->dir, "server") < 0 ||
	    fx_tls_client(&e->tls_cli, e->dir, "client", fp_srv) < 0 ||
	    dtls_ctx_new(&e->dtls_srv, 1) < 0 || dtls_ctx_new(&e->dtls_cli, 0) < 0) {
		fx_ends_close(e);
		return -1;
	}
	return 0;
}

/* ---- packets ---- */

static void fx_put16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }

/* A super-packet: IPv4 or IPv6, TCP (20 + opt bytes) or UDP, payload
 * bytes i % 251; the L4 checksum field seeded with the pseudo-header sum,
 * as the kernel leaves it with NEEDS_CSUM. */
size_t fx_tcpudp_pkt(uint8_t *p, int ipv, int proto, size_t payload, int opt,
    uint8_t tcpflags, struct virtio_net_hdr *h, uint16_t gso)
{
	size_t l3 = ipv == 4 ? 20 : 40, l4 = proto == IPPROTO_TCP ? 20 + (size_t)opt : 8;
	size_t len = l3 + l4 + payload, i;
	uint8_t *t = p + l3;
	uint32_t ps;

	memset(p, 0, l3 + l4);
	if (ipv == 4) {
		p[0] = 0x45;
		fx_put16(p + 2, (uint32_t)len);
		fx_put16(p + 4, 0xfffe);		/* the ID wraps within the run */
		p[6] = 0x40;			/* DF */
		p[8] = 64;
		p[9] = (uint8_t)proto;
		memcpy(p + 12, "\x0a\x08\x00\x0a\xc6\x13\x00\x02", 8);
		fx_put16(p + 10, (uint16_t)~vnet_csum_fold(vnet_csum_add(0, p, 20)));
	} else {
		p[0] = 0x60;
		fx_put16(p + 4, (uint32_t)(len - 40));
		p[6] = (uint8_t)proto;
		p[7] = 64;
		memcpy(p + 8, "\xfd\x00\x00\x08\0\0\0\0\0\0\0\0\0\0\0\x0a", 16);
		memcpy(p + 24, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x02", 16);
	}
	fx_put16(t, 40000);
	fx_put16(t + 2, 5201);
	if (proto == IPPROTO_TCP) {
		t[4] = 0xff; t[5] = 0xff; t[6] = 0xf0; t[7] = 0x00;	/* seq wraps too */
		t[12] = (uint8_t)((l4 / 4) << 4);
		t[13] = tcpflags;
		fx_put16(t + 14, 512);
		for (i = 20; i < l4; i++)
			t[i] = 1;	/* NOPs */
	} else
		fx_put16(t + 4, (uint32_t)(l4 + payload));
	for (i = 0; i < payload; i++)
		p[l3 + l4 + i] = (uint8_t)(i % 251);
	ps = (ipv == 4 ? vnet_csum_add(0, p + 12, 8) : vnet_csum_add(0, p + 8, 32)) +
	    (uint32_t)proto + (uint32_t)(l4 + payload);
	fx_put16(t + (proto == IPPROTO_TCP ? 16 : 6), vnet_csum_fold(ps));
	memset(h, 0, sizeof(*h));
	h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h->csum_start = (uint16_t)l3;
	h->csum_offset = proto == IPPROTO_TCP ? 16 : 6;
	h->hdr_len = (uint16_t)(l3 + l4);
	if (gso) {
		h->gso_size = gso;
		h->gso_type = proto == IPPROTO_UDP ? VIRTIO_NET_HDR_GSO_UDP_L4 :
		    ipv == 4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6;
	}
	return len;
}

/* Is the L4 checksum of packet p right (and the IPv4 header's)? */
void fx_assert_csums(const uint8_t *p, size_t len)
{
	int ipv = p[0] >> 4;
	size_t l3 = ipv == 4 ? (size_t)(p[0] & 15) * 4 : 40;
	int proto = ipv == 4 ? p[9] : p[6];
	uint32_t s;

	if (ipv == 4)
		assert_int_equal(vnet_csum_fold(vnet_csum_add(0, p, l3)), 0xffff);
	s = (ipv == 4 ? vnet_csum_add(0, p + 12, 8) : vnet_csum_add(0, p + 8, 32)) +
	    (uint32_t)proto + (uint32_t)(len - l3);
	assert_int_equal(vnet_csum_fold(s + vnet_csum_add(0, p + l3, len - l3)), 0xffff);
}

void fx_segs_collect(void *arg, const uint8_t *seg, size_t len)
{
	struct fx_segs *s = arg;

	assert_true(s->n < FX_SEGS_MAX);
	assert_true(len <= sizeof(s->pkt[0]));
	memcpy(s->pkt[s->n], seg, len);
	s->len[s->n++] = len;
}
