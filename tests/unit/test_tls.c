/* test_tls.c - TLS contexts: handshakes over a non-blocking socketpair, both
 * ends driven in one loop. Identities come from key_generate (Ed25519) and the
 * openssl command (EC, RSA); peers the API refuses to build (no certificate,
 * TLS 1.2 only, a weak key) are raw SSL_CTXs made here. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "crypto/tls.h"
#include "fixture.h"

static char dir[FX_DIR_MAX];
static char fp_srv[FP_STRLEN], fp_cli[FP_STRLEN], fp_other[FP_STRLEN];

/* NAME in the group's directory (fx_path: four buffers in turn). */
static const char *path(const char *name)
{
	return fx_path(dir, name);
}

static int group_teardown(void **state)
{
	(void)state;
	return fx_rmtree(dir);
}

static int group_setup(void **state)
{
	if (fx_tmpdir(dir, sizeof(dir), "tls") < 0)
		return -1;
	if (key_generate(dir, "server", fp_srv) < 0 ||
	    key_generate(dir, "client", fp_cli) < 0 ||
	    key_generate(dir, "other", fp_other) < 0 ||
	    fx_keypair(dir, "ec", "-algorithm EC -pkeyopt "
	    "ec_paramgen_curve:P-256") ||
	    fx_keypair(dir, "rsa", "-algorithm RSA -pkeyopt "
	    "rsa_keygen_bits:2048") ||
	    fx_keypair(dir, "rsa1024", "-algorithm RSA -pkeyopt "
	    "rsa_keygen_bits:1024")) {
		group_teardown(state);
		return -1;
	}
	return 0;
}

static struct tls_ctx *server_ctx(void)
{
	char err[160] = "";
	struct tls_ctx *t = NULL;

	assert_int_equal(tls_ctx_server(&t, path("server.key"),
	    path("server.crt"), err, sizeof(err)), 0);
	assert_string_equal(err, "");
	return t;
}

static struct tls_ctx *client_ctx(const char *name, const char *pin)
{
	char key[256], crt[256], err[160] = "";
	struct tls_ctx *t = NULL;

	snprintf(key, sizeof(key), "%s.key", path(name));
	snprintf(crt, sizeof(crt), "%s.crt", path(name));
	assert_int_equal(tls_ctx_client(&t, key, crt, pin, err, sizeof(err)),
	    0);
	return t;
}

/* Send one message each way over an established pair. An SSL_write's
 * records wait in the SSL's write buffer until tls_flush. */
static void exchange(struct fx_tls_pair *p)
{
	char buf[16];

	assert_int_equal(SSL_write(p->cli, "ping", 4), 4);
	assert_int_equal(tls_flush(p->cli), 0);	/* records wait in its buffer */
	assert_int_equal(SSL_read(p->srv, buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "ping", 4);
	assert_int_equal(SSL_write(p->srv, "pong", 4), 4);
	assert_true(tls_wpending(p->srv));		/* not written yet */
	assert_int_equal(tls_flush(p->srv), 0);
	assert_false(tls_wpending(p->srv));
	assert_int_equal(SSL_read(p->cli, buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "pong", 4);
}

static void test_tls_pinned_handshake_succeeds(void **state)
{
	struct tls_ctx *s = server_ctx(), *c = client_ctx("client", fp_srv);
	char fp[FP_STRLEN];
	struct fx_tls_pair p;

	(void)state;
	fx_tls_pair_open(&p);
	assert_non_null(p.srv = tls_ssl_new(s, p.fds[0]));
	assert_non_null(p.cli = tls_ssl_new(c, p.fds[1]));
	assert_int_equal(tls_peer_fp(p.srv, fp), -ENOKEY);
	assert_string_equal(tls_seen_fp(p.cli), "");
	fx_tls_handshake(&p);
	assert_int_equal(p.cli_rc, 1);
	assert_int_equal(p.srv_rc, 1);
	assert_int_equal(SSL_version(p.srv), TLS1_3_VERSION);
	assert_int_equal(SSL_version(p.cli), TLS1_3_VERSION);
	assert_int_equal(tls_peer_fp(p.srv, fp), 0);
	assert_string_equal(fp, fp_cli);
	assert_int_equal(tls_peer_fp(p.cli, fp), 0);
	assert_string_equal(fp, fp_srv);
	assert_false(tls_pin_mismatch(p.cli));
	assert_string_equal(tls_seen_fp(p.cli), fp_srv);
	exchange(&p);
	fx_tls_pair_close(&p);
	tls_ctx_free(c);
	tls_ctx_free(s);
}

static void test_tls_wrong_pin_fails_and_names_server(void **state)
{
	struct tls_ctx *s = server_ctx(), *c = client_ctx("client", fp_other);
	char why[256], fp[FP_STRLEN];
	struct fx_tls_pair p;

	(void)state;
	fx_tls_pair_open(&p);
	assert_non_null(p.srv = tls_ssl_new(s, p.fds[0]));
	assert_non_null(p.cli = tls_ssl_new(c, p.fds[1]));
	fx_tls_handshake(&p);
	assert_int_equal(p.cli_rc, -1);
	assert_int_equal(p.srv_rc, -1);		/* it got the alert */
	assert_true(tls_pin_mismatch(p.cli));
	assert_string_equal(tls_seen_fp(p.cli), fp_srv);
	assert_int_equal(SSL_get_verify_result(p.cli),
	    X509_V_ERR_APPLICATION_VERIFICATION);
	assert_int_equal(tls_peer_fp(p.srv, fp), -ENOKEY);
	assert_string_not_equal(tls_errstr(why, sizeof(why)), "unknown error");
	assert_string_equal(tls_errstr(why, sizeof(why)), "unknown error");
	fx_tls_pair_close(&p);
	tls_ctx_free(c);
	tls_ctx_free(s);
}

static void test_tls_pin_is_case_insensitive(void **state)
{
	char upper[FP_STRLEN];
	struct tls_ctx *s = server_ctx(), *c;
	struct fx_tls_pair p;
	size_t i;

	(void)state;
	for (i = 0; i < FP_STRLEN; i++)
		upper[i] = (char)(fp_srv[i] >= 'a' && fp_srv[i] <= 'z' ?
		    fp_srv[i] - 'a' + 'A' : fp_srv[i]);
	c = client_ctx("client", upper);
	fx_tls_pair_open(&p);
	assert_non_null(p.srv = tls_ssl_new(s, p.fds[0]));
	assert_non_null(p.cli = tls_ssl_new(c, p.fds[1]));
	fx_tls_handshake(&p);
	assert_int_equal(p.cli_rc, 1);
	assert_int_equal(p.srv_rc, 1);
	fx_tls_pair_close(&p);
	tls_ctx_free(c);
	tls_ctx_free(s);
}

/* EC and RSA keys made by the openssl command work as client identities. */
static void test_tls_openssl_made_keys_work(void **state)
{
	const char *names[] = { "ec", "rsa" };
	char want[FP_STRLEN], fp[FP_STRLEN], crt[256];
	struct tls_ctx *s = server_ctx(), *c;
	struct fx_tls_pair p;
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		snprintf(crt, sizeof(crt), "%s.crt", path(names[i]));
		assert_int_equal(fp_of_file(crt, want), 0);
		c = client_ctx(names[i], fp_srv);
		fx_tls_pair_open(&p);
		assert_non_null(p.srv = tls_ssl_new(s, p.fds[0]));
		assert_non_null(p.cli = tls_ssl_new(c, p.fds[1]));
		fx_tls_handshake(&p);
		assert_int_equal(p.cli_rc, 1);
		assert_int_equal(p.srv_rc, 1);
		assert_int_equal(tls_peer_fp(p.srv, fp), 0);
		assert_string_equal(fp, want);
		fx_tls_pair_close(&p);
		tls_ctx_free(c);
	}
	tls_ctx_free(s);
}

/* A raw client SSL_CTX: no certificate unless KEY is given; MAXV caps the
 * version; security level 0 lets it load a key the API would refuse. */
static SSL_CTX *raw_client(const char *key, int maxv)
{
	char crt[256];
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	assert_non_null(ctx);
	SSL_CTX_set_security_level(ctx, 0);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	assert_int_equal(SSL_CTX_set_max_proto_version(ctx, maxv), 1);
	if (key != NULL) {
		snprintf(crt, sizeof(crt), "%s.crt", path(key));
		assert_int_equal(SSL_CTX_use_certificate_file(ctx, crt,
		    SSL_FILETYPE_PEM), 1);
		snprintf(crt, sizeof(crt), "%s.key", path(key));
		assert_int_equal(SSL_CTX_use_PrivateKey_file(ctx, crt,
		    SSL_FILETYPE_PEM), 1);
	}
	return ctx;
}

/* The server's handshake with a raw client must fail. */
static void server_refuses(SSL_CTX *raw)
{
	struct tls_ctx *s = server_ctx();
	char fp[FP_STRLEN];
	struct fx_tls_pair p;

	fx_tls_pair_open(&p);
	assert_non_null(p.srv = tls_ssl_new(s, p.fds[0]));
	assert_non_null(p.cli = SSL_new(raw));
	assert_int_equal(SSL_set_fd(p.cli, p.fds[1]), 1);
	SSL_set_connect_state(p.cli);
	fx_tls_handshake(&p);
	assert_int_equal(p.srv_rc, -1);
	assert_int_equal(tls_peer_fp(p.srv, fp), -ENOKEY);
	/* A foreign SSL has no record: no mismatch, nothing seen. */
	assert_false(tls_pin_mismatch(p.cli));
	assert_string_equal(tls_seen_fp(p.cli), "");
	fx_tls_pair_close(&p);
	SSL_CTX_free(raw);
	tls_ctx_free(s);
}

static void test_tls_server_requires_client_certificate(void **state)
{
	(void)state;
	server_refuses(raw_client(NULL, TLS1_3_VERSION));
}

static void test_tls_server_refuses_tls12(void **state)
{
	(void)state;
	server_refuses(raw_client("client", TLS1_2_VERSION));
}

static void test_tls_server_refuses_weak_client_key(void **state)
{
	(void)state;
	server_refuses(raw_client("rsa1024", TLS1_3_VERSION));
}

static void test_tls_ctx_reports_bad_identity(void **state)
{
	struct tls_ctx *t = NULL;
	char err[160];

	(void)state;
	assert_int_equal(tls_ctx_server(&t, path("server.key"),
	    path("client.crt"), err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "key and certificate do not match");
	assert_int_equal(tls_ctx_client(&t, path("client.key"),
	    path("server.crt"), fp_srv, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "key and certificate do not match");
	assert_int_equal(tls_ctx_server(&t, path("missing.key"),
	    path("server.crt"), err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "missing.key"));
	assert_int_equal(tls_ctx_server(&t, path("server.crt"),
	    path("server.crt"), err, sizeof(err)), -EINVAL);
	assert_int_equal(tls_ctx_server(&t, path("rsa1024.key"),
	    path("rsa1024.crt"), err, sizeof(err)), -EINVAL);
	assert_int_equal(tls_ctx_server(&t, path("server.key"),
	    path("server.key"), err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "certificate"));
	assert_null(t);
	assert_int_equal(ERR_peek_error(), 0);
	tls_ctx_free(NULL);
}

static void test_tls_ctx_client_rejects_bad_pin(void **state)
{
	const char *bad[] = { "", "sha256:", "md5:abc", fp_srv + 7,
	    "sha256:zz2c3d4e5f60718293a4b5c6d7e8f901"
	    "12233445566778899aabbccddeeff0",
	    NULL };
	struct tls_ctx *t = NULL;
	char err[160];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(tls_ctx_client(&t, path("client.key"),
		    path("client.crt"), bad[i], err, sizeof(err)), -EINVAL);
	assert_null(t);
	assert_non_null(strstr(err, "sha256:"));
}

/* No resumption state may exist: every connection proves its key. */
static void test_tls_contexts_disable_tickets_and_cache(void **state)
{
	struct tls_ctx *s = server_ctx(), *c = client_ctx("client", fp_srv);
	struct tls_ctx *both[] = { s, c };
	const uint64_t opts = SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_NO_TICKET;
	struct fx_tls_pair p;
	SSL_CTX *ctx;
	SSL *ssl;
	size_t i;

	(void)state;
	fx_tls_pair_open(&p);
	for (i = 0; i < 2; i++) {
		assert_non_null(ssl = tls_ssl_new(both[i], p.fds[i]));
		ctx = SSL_get_SSL_CTX(ssl);
		assert_int_equal(SSL_CTX_get_options(ctx) & opts, opts);
		assert_int_equal(SSL_CTX_get_num_tickets(ctx), 0);
		assert_int_equal(SSL_CTX_get_session_cache_mode(ctx),
		    SSL_SESS_CACHE_OFF);
		assert_int_equal(SSL_CTX_get_min_proto_version(ctx),
		    TLS1_3_VERSION);
		assert_int_equal(SSL_CTX_get_max_proto_version(ctx),
		    TLS1_3_VERSION);
		assert_true(SSL_get_mode(ssl) & SSL_MODE_ENABLE_PARTIAL_WRITE);
		assert_int_equal(SSL_is_server(ssl), i == 0);
		SSL_free(ssl);
	}
	fx_tls_pair_close(&p);
	tls_ctx_free(c);
	tls_ctx_free(s);
}

static void test_tls_errstr_empty_queue(void **state)
{
	char buf[64];

	(void)state;
	ERR_clear_error();
	assert_string_equal(tls_errstr(buf, sizeof(buf)), "unknown error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tls_pinned_handshake_succeeds),
		cmocka_unit_test(test_tls_wrong_pin_fails_and_names_server),
		cmocka_unit_test(test_tls_pin_is_case_insensitive),
		cmocka_unit_test(test_tls_openssl_made_keys_work),
		cmocka_unit_test(test_tls_server_requires_client_certificate),
		cmocka_unit_test(test_tls_server_refuses_tls12),
		cmocka_unit_test(test_tls_server_refuses_weak_client_key),
		cmocka_unit_test(test_tls_ctx_reports_bad_identity),
		cmocka_unit_test(test_tls_ctx_client_rejects_bad_pin),
		cmocka_unit_test(test_tls_contexts_disable_tickets_and_cache),
		cmocka_unit_test(test_tls_errstr_empty_queue),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
