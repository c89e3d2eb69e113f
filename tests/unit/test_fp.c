/* test_fp.c - fingerprints, key loading and key generation. Keys of every
 * accepted kind are made with the openssl command in a temporary directory,
 * and each fingerprint is checked against the spec's reference pipeline
 * `openssl pkey -pubout -outform DER | sha256sum`. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "crypto/fp.h"
#include "fixture.h"

static char dir[FX_DIR_MAX];

/* NAME in the group's directory (fx_path: four buffers in turn). */
static const char *path(const char *name)
{
	return fx_path(dir, name);
}

/* The reference: sha256 of `openssl pkey -pubout -outform DER`. */
static void reference_fp(const char *key, char out[FP_STRLEN])
{
	char cmd[512], hex[65] = "";
	FILE *f;

	snprintf(cmd, sizeof(cmd), "openssl pkey -in '%s' -pubout -outform DER"
	    " | sha256sum", key);
	assert_non_null(f = popen(cmd, "r"));
	assert_int_equal(fscanf(f, "%64s", hex), 1);
	assert_int_equal(pclose(f), 0);
	assert_int_equal(strlen(hex), 64);
	memcpy(out, "sha256:", 7);
	memcpy(out + 7, hex, 65);
}

/* Keys made once for the whole group: NAME.key, NAME.crt, NAME.pub. */
static int make_set(const char *name, const char *genopts)
{
	const char *p = path(name);

	return fx_keypair(dir, name, genopts) ||
	    fx_sh("openssl pkey -in %s.key -pubout -out %s.pub", p, p) ? -1 : 0;
}

static int group_teardown(void **state)
{
	(void)state;
	return fx_rmtree(dir);
}

static int group_setup(void **state)
{
	(void)state;
	if (fx_tmpdir(dir, sizeof(dir), "fp") < 0)
		return -1;
	if (make_set("ed", "-algorithm ed25519") ||
	    make_set("ec", "-algorithm EC -pkeyopt ec_paramgen_curve:P-256") ||
	    make_set("rsa", "-algorithm RSA -pkeyopt rsa_keygen_bits:2048") ||
	    make_set("rsa1024", "-algorithm RSA -pkeyopt "
	    "rsa_keygen_bits:1024") ||
	    make_set("k1", "-algorithm EC -pkeyopt "
	    "ec_paramgen_curve:secp256k1") ||
	    make_set("ed448", "-algorithm ed448") ||
	    fx_sh("openssl pkey -in %s -traditional -out %s", path("rsa.key"),
	    path("rsa-trad.key")) ||
	    fx_sh("openssl pkey -in %s -traditional -out %s", path("ec.key"),
	    path("ec-trad.key")) ||
	    fx_sh("openssl pkey -in %s -aes256 -passout pass:x -out %s",
	    path("ed.key"), path("ed-enc.key")) ||
	    fx_sh("cat %s %s > %s", path("ec.crt"), path("ec.key"),
	    path("ec.pem"))) {
		group_teardown(state);
		return -1;
	}
	return 0;
}

static void check_set(const char *name)
{
	char want[FP_STRLEN], got[FP_STRLEN], p[256];
	const char *ext[] = { "key", "crt", "pub" };
	size_t i;

	snprintf(p, sizeof(p), "%s.key", path(name));
	reference_fp(p, want);
	for (i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s.%s", path(name), ext[i]);
		memset(got, 'x', sizeof(got));
		assert_int_equal(fp_of_file(p, got), 0);
		assert_string_equal(got, want);
	}
}

static void test_fp_ed25519_matches_openssl(void **state)
{
	(void)state;
	check_set("ed");
}

static void test_fp_ec_p256_matches_openssl(void **state)
{
	(void)state;
	check_set("ec");
}

static void test_fp_rsa2048_matches_openssl(void **state)
{
	(void)state;
	check_set("rsa");
}

static void test_fp_traditional_and_combined_files(void **state)
{
	char want[FP_STRLEN], got[FP_STRLEN];

	(void)state;
	reference_fp(path("rsa.key"), want);
	assert_int_equal(fp_of_file(path("rsa-trad.key"), got), 0);
	assert_string_equal(got, want);
	reference_fp(path("ec.key"), want);
	assert_int_equal(fp_of_file(path("ec-trad.key"), got), 0);
	assert_string_equal(got, want);
	assert_int_equal(fp_of_file(path("ec.pem"), got), 0);
	assert_string_equal(got, want);
}

static void test_fp_format_is_sha256_lowercase_hex(void **state)
{
	char got[FP_STRLEN];
	size_t i;

	(void)state;
	assert_int_equal(fp_of_file(path("ed.crt"), got), 0);
	assert_int_equal(strlen(got), FP_STRLEN - 1);
	assert_memory_equal(got, "sha256:", 7);
	for (i = 7; i < FP_STRLEN - 1; i++)
		assert_non_null(strchr("0123456789abcdef", got[i]));
}

static void test_fp_of_file_rejects_garbage_and_missing(void **state)
{
	char got[FP_STRLEN];

	(void)state;
	fx_write(path("garbage"), "-----BEGIN CERTIFICATE-----\nnope\n"
	    "-----END CERTIFICATE-----\nhello\n");
	fx_write(path("empty"), "");
	assert_int_equal(fp_of_file(path("garbage"), got), -EINVAL);
	assert_int_equal(fp_of_file(path("empty"), got), -EINVAL);
	assert_int_equal(fp_of_file(path("missing"), got), -ENOENT);
	assert_int_equal(fp_of_file(dir, got), -EISDIR);
	/* Encrypted keys fail rather than prompt for a passphrase. */
	assert_int_equal(fp_of_file(path("ed-enc.key"), got), -EINVAL);
	assert_int_equal(ERR_peek_error(), 0);
	if (geteuid() != 0) {		/* root reads anything */
		assert_int_equal(chmod(path("garbage"), 0), 0);
		assert_int_equal(fp_of_file(path("garbage"), got), -EACCES);
	}
}

static void test_key_load_accepts_supported_keys(void **state)
{
	const char *ok[] = { "ed.key", "ec.key", "rsa.key", "rsa-trad.key",
	    "ec-trad.key", "ec.pem" };
	EVP_PKEY *pk;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		pk = NULL;
		assert_int_equal(key_load(&pk, path(ok[i])), 0);
		assert_non_null(pk);
		EVP_PKEY_free(pk);
	}
}

static void test_key_load_rejects_weak_and_unsupported(void **state)
{
	const char *bad[] = { "rsa1024.key", "k1.key", "ed448.key", "ed.pub",
	    "ed.crt", "ed-enc.key", "garbage2" };
	EVP_PKEY *pk = NULL;
	size_t i;

	(void)state;
	fx_write(path("garbage2"), "not a key\n");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(key_load(&pk, path(bad[i])), -EINVAL);
	assert_null(pk);
	assert_int_equal(key_load(&pk, path("nonexistent.key")), -ENOENT);
	assert_int_equal(ERR_peek_error(), 0);
}

static void test_crt_load_and_key_matches_crt(void **state)
{
	EVP_PKEY *ed, *ec;
	X509 *crt = NULL;

	(void)state;
	assert_int_equal(key_load(&ed, path("ed.key")), 0);
	assert_int_equal(key_load(&ec, path("ec.key")), 0);
	assert_int_equal(crt_load(&crt, path("ed.key")), -EINVAL);
	assert_int_equal(crt_load(&crt, path("nope.crt")), -ENOENT);
	assert_int_equal(crt_load(&crt, path("ed.crt")), 0);
	assert_int_equal(key_matches_crt(ed, crt), 0);
	assert_int_equal(key_matches_crt(ec, crt), -EINVAL);
	assert_int_equal(ERR_peek_error(), 0);
	X509_free(crt);
	EVP_PKEY_free(ed);
	EVP_PKEY_free(ec);
}

static void check_generated_crt(const char *crtpath, const char *name)
{
	BASIC_CONSTRAINTS *bc;
	char cn[80];
	X509 *crt;
	int days, secs, crit;

	assert_int_equal(crt_load(&crt, crtpath), 0);
	assert_int_equal(X509_get_version(crt), X509_VERSION_3);
	assert_true(X509_NAME_get_text_by_NID(X509_get_subject_name(crt),
	    NID_commonName, cn, sizeof(cn)) > 0);
	assert_string_equal(cn, name);
	assert_int_equal(X509_NAME_cmp(X509_get_subject_name(crt),
	    X509_get_issuer_name(crt)), 0);
	assert_int_equal(X509_verify(crt, X509_get0_pubkey(crt)), 1);
	bc = X509_get_ext_d2i(crt, NID_basic_constraints, &crit, NULL);
	assert_non_null(bc);
	assert_int_equal(bc->ca, 0);
	BASIC_CONSTRAINTS_free(bc);
	assert_int_equal(ASN1_TIME_diff(&days, &secs, NULL,
	    X509_get0_notBefore(crt)), 1);
	assert_true(days == 0 && secs <= -3590 && secs >= -3610);
	assert_int_equal(ASN1_TIME_diff(&days, &secs, NULL,
	    X509_get0_notAfter(crt)), 1);
	assert_true(days >= 3651 && days <= 3654);
	X509_free(crt);
}

static void test_key_generate_writes_key_and_cert(void **state)
{
	char fp[FP_STRLEN], got[FP_STRLEN];
	EVP_PKEY *pk;
	struct stat st;

	(void)state;
	assert_int_equal(key_generate(dir, "alice.example-1", fp), 0);
	assert_int_equal(stat(path("alice.example-1.key"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(path("alice.example-1.crt"), &st), 0);
	assert_int_equal(st.st_mode & 0022, 0);	/* at most 0644 (umask) */
	assert_int_equal(fp_of_file(path("alice.example-1.key"), got), 0);
	assert_string_equal(got, fp);
	assert_int_equal(fp_of_file(path("alice.example-1.crt"), got), 0);
	assert_string_equal(got, fp);
	reference_fp(path("alice.example-1.key"), got);
	assert_string_equal(got, fp);
	assert_int_equal(key_load(&pk, path("alice.example-1.key")), 0);
	assert_int_equal(EVP_PKEY_get_base_id(pk), EVP_PKEY_ED25519);
	EVP_PKEY_free(pk);
	assert_int_equal(fx_sh("grep -q 'BEGIN PRIVATE KEY' %s",
	    path("alice.example-1.key")), 0);
	check_generated_crt(path("alice.example-1.crt"), "alice.example-1");
}

static void test_key_generate_refuses_to_overwrite(void **state)
{
	char fp[FP_STRLEN], again[FP_STRLEN];
	struct stat st;

	(void)state;
	assert_int_equal(key_generate(dir, "bob", fp), 0);
	assert_int_equal(key_generate(dir, "bob", again), -EEXIST);
	assert_int_equal(fp_of_file(path("bob.key"), again), 0);
	assert_string_equal(again, fp);
	/* Only the certificate is there: no key file may appear. */
	fx_write(path("carol.crt"), "mine\n");
	assert_int_equal(key_generate(dir, "carol", fp), -EEXIST);
	assert_int_equal(stat(path("carol.key"), &st), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(fx_sh("grep -qx mine %s", path("carol.crt")), 0);
	/* Only the key is there. */
	fx_write(path("dave.key"), "mine\n");
	assert_int_equal(key_generate(dir, "dave", fp), -EEXIST);
	assert_int_equal(stat(path("dave.crt"), &st), -1);
	assert_int_equal(fx_sh("grep -qx mine %s", path("dave.key")), 0);
}

static void test_key_generate_validates_name_and_dir(void **state)
{
	char fp[FP_STRLEN], long_name[80];

	(void)state;
	memset(long_name, 'a', 64);
	long_name[64] = '\0';
	assert_int_equal(key_generate(dir, "", fp), -EINVAL);
	assert_int_equal(key_generate(dir, "a/b", fp), -EINVAL);
	assert_int_equal(key_generate(dir, "a b", fp), -EINVAL);
	assert_int_equal(key_generate(dir, "caf\xc3\xa9", fp), -EINVAL);
	assert_int_equal(key_generate(dir, long_name, fp), -EINVAL);
	long_name[63] = '\0';
	assert_int_equal(key_generate(dir, long_name, fp), 0);
	assert_int_equal(key_generate(path("no-such-dir"), "x", fp), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fp_ed25519_matches_openssl),
		cmocka_unit_test(test_fp_ec_p256_matches_openssl),
		cmocka_unit_test(test_fp_rsa2048_matches_openssl),
		cmocka_unit_test(test_fp_traditional_and_combined_files),
		cmocka_unit_test(test_fp_format_is_sha256_lowercase_hex),
		cmocka_unit_test(test_fp_of_file_rejects_garbage_and_missing),
		cmocka_unit_test(test_key_load_accepts_supported_keys),
		cmocka_unit_test(test_key_load_rejects_weak_and_unsupported),
		cmocka_unit_test(test_crt_load_and_key_matches_crt),
		cmocka_unit_test(test_key_generate_writes_key_and_cert),
		cmocka_unit_test(test_key_generate_refuses_to_overwrite),
		cmocka_unit_test(test_key_generate_validates_name_and_dir),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
