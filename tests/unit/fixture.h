/* fixture.h - fixtures shared by the unit tests: a temporary directory and
 * files in it, shell commands, openssl-made identities, and TLS contexts and
 * sessions over a socketpair. The Makefile links every .c file in tests/unit
 * other than the test_*.c ones into each test binary, fixture.c among them.
 *
 * Functions that return an int report failure (0 or -1, or a negative errno)
 * and never assert: they are safe in group setups, which clean up and return
 * -1. The others assert with cmocka, inside a test or a setup. Nothing here
 * checks what a test is about; that stays in the test. */
#ifndef TESTS_UNIT_FIXTURE_H
#define TESTS_UNIT_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include <linux/virtio_net.h>

#include <openssl/ssl.h>

struct tls_ctx;
struct dtls_ctx;

/* Big enough for fx_tmpdir's directory names. */
#define FX_DIR_MAX 64

/* Handshake steps per side fx_tls_handshake allows before it gives up. */
#define FX_HANDSHAKE_ROUNDS 64

/* ---- files ---- */

/* Make a fresh directory /tmp/vpnd-test-TAG.XXXXXX (mode 0700) into DIR, of
 * LEN bytes (FX_DIR_MAX will do). 0, or -1 with DIR set to "". */
int fx_tmpdir(char *dir, size_t len, const char *tag);

/* Remove DIR and everything under it, not following links. "" is nothing to
 * remove (a fx_tmpdir that failed). 0, or -1 if anything was left. */
int fx_rmtree(const char *dir);

/* "DIR/NAME" in one of four static buffers used in turn: it stays valid
 * until the fourth call after. Asserts that it fits. */
const char *fx_path(const char *dir, const char *name);

/* Create or truncate PATH and write TEXT (or LEN bytes of BUF) to it;
 * asserts every step. */
void fx_write(const char *path, const char *text);
void fx_write_buf(const char *path, const void *buf, size_t len);
/* The names in DIR other than "." and "..", sorted, space-separated into
 * out (fails the test if DIR cannot be read). */
void fx_list_dir(const char *dir, char *out, size_t len);

/* ---- commands and identities ---- */

/* Run a shell command made with printf-style FMT: 0 if it exited 0, else -1
 * after printing the command. */
__attribute__((format(printf, 1, 2)))
int fx_sh(const char *fmt, ...);

/* An identity made by the openssl command, as an operator might:
 * DIR/NAME.key from `openssl genpkey GENOPTS` and DIR/NAME.crt, a one-day
 * self-signed certificate with CN=NAME. 0 or -1. (key_generate makes the
 * Ed25519 identities vpnd itself would.) */
int fx_keypair(const char *dir, const char *name, const char *genopts);

/* ---- TLS ---- */

/* tls_ctx_server / tls_ctx_client on DIR/NAME.key and DIR/NAME.crt; the
 * client pins PIN. 0 or -errno, the error printed. */
int fx_tls_server(struct tls_ctx **out, const char *dir, const char *name);
int fx_tls_client(struct tls_ctx **out, const char *dir, const char *name,
    const char *pin);

/* A non-blocking AF_UNIX stream socketpair into FDS; asserts. */
void fx_socketpair(int fds[2]);

/* Two ends of one TLS session. The test makes the SSLs, on fds[0] for the
 * server and fds[1] for the client; the pair frees them. */
struct fx_tls_pair {
	int  fds[2];		/* [0] server, [1] client */
	SSL *srv, *cli;
	int  srv_rc, cli_rc;	/* 1 done, -1 failed, 0 still going */
};

/* Zero P and open its socketpair (fx_socketpair). */
void fx_tls_pair_open(struct fx_tls_pair *p);

/* Free both SSLs, close both fds, clear OpenSSL's error queue and zero P.
 * A zeroed pair that was never opened is fine. */
void fx_tls_pair_close(struct fx_tls_pair *p);

/* One handshake step: 1 done, -1 failed, 0 wants I/O. */
int fx_tls_step(SSL *ssl);

/* Drive both ends, client first, until each has finished or failed, or
 * FX_HANDSHAKE_ROUNDS are spent (a side left waiting on a peer that gave
 * up stays at 0); the results are in p->srv_rc and p->cli_rc. */
void fx_tls_handshake(struct fx_tls_pair *p);

/* ---- both ends ---- */

/* What a test of a session needs at both ends: server.key/.crt and
 * client.key/.crt made by key_generate in a fresh directory, their TLS
 * contexts (the client pins the server) and DTLS contexts. */
struct fx_ends {
	char             dir[FX_DIR_MAX];
	struct tls_ctx  *tls_srv, *tls_cli;
	struct dtls_ctx *dtls_srv, *dtls_cli;
};

/* 0, or -1 with everything undone (safe in a group setup). */
int fx_ends_open(struct fx_ends *e, const char *tag);
/* Free the contexts and remove the directory: 0, or -1 if files stayed. */
int fx_ends_close(struct fx_ends *e);

/* ---- packets ---- */

/* Build into p an IPv4 (10.8.0.10 -> 198.19.0.2, ID 0xfffe, DF) or IPv6
 * (fd00:8::a -> 2001:db8::2) packet carrying TCP (port 40000 -> 5201, seq
 * 0xfffff000, OPT bytes of NOP options, TCPFLAGS) or UDP, PAYLOAD bytes of
 * i % 251; the L4 checksum field holds the pseudo-header sum and *h asks
 * for the rest (NEEDS_CSUM), as a TUN device with offloads hands packets
 * over; GSO > 0 makes *h a TSO/USO header of that segment size. Returns
 * the packet's length. */
size_t fx_tcpudp_pkt(uint8_t *p, int ipv, int proto, size_t payload, int opt,
    uint8_t tcpflags, struct virtio_net_hdr *h, uint16_t gso);
/* Segments a vnet_segment run emitted, copied: fx_segs_collect is its
 * vnet_emit_fn (arg a struct fx_segs, zeroed first); asserts they fit. */
#define FX_SEGS_MAX 64
struct fx_segs {
	int     n;
	size_t  len[FX_SEGS_MAX];
	uint8_t pkt[FX_SEGS_MAX][2048];
};
void fx_segs_collect(void *arg, const uint8_t *seg, size_t len);

/* Assert that packet p's IPv4 header and L4 checksums are right. */
void fx_assert_csums(const uint8_t *p, size_t len);

#endif
