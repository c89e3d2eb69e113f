/* fp.c - keys, certificates and fingerprints. Files are read whole into a
 * buffer that is wiped afterwards (it may hold a private key) and decoded from
 * memory, so a FIFO or a huge file cannot stall or exhaust us. key_generate
 * builds the key and certificate in memory and only then creates the two
 * files, both O_EXCL, removing them again if anything fails. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "crypto/fp.h"

#define FP_FILE_MAX	(1 << 20)	/* bigger than any PEM key or cert */

int fp_of_pkey(const EVP_PKEY *pk, char out[FP_STRLEN])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char *der = NULL, md[32];
	unsigned int mdlen = 0;
	int len, ok, i;

	if (pk == NULL || (len = i2d_PUBKEY(pk, &der)) <= 0)
		return -EINVAL;
	ok = EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha256(), NULL);
	OPENSSL_free(der);
	if (!ok || mdlen != sizeof(md))
		return -EINVAL;
	memcpy(out, "sha256:", 7);
	for (i = 0; i < 32; i++) {
		out[7 + 2 * i] = hex[md[i] >> 4];
		out[8 + 2 * i] = hex[md[i] & 0xf];
	}
	out[71] = '\0';
	return 0;
}

int fp_of_x509(X509 *crt, char out[FP_STRLEN])
{
	if (crt == NULL)
		return -EINVAL;
	return fp_of_pkey(X509_get0_pubkey(crt), out);
}

static void wipe_free(char *buf, size_t len)
{
	if (buf == NULL)
		return;
	OPENSSL_cleanse(buf, len);
	free(buf);
}

/* Open a regular file and return its size; O_NONBLOCK so that a FIFO named
 * by mistake cannot block the open waiting for a writer. */
static int open_regular(const char *path, size_t *size)
{
	struct stat st;
	int fd, err = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		err = -errno;
	else if (S_ISDIR(st.st_mode))
		err = -EISDIR;
	else if (!S_ISREG(st.st_mode))
		err = -EINVAL;
	else if (st.st_size > FP_FILE_MAX)
		err = -EFBIG;
	if (err < 0) {
		close(fd);
		return err;
	}
	*size = (size_t)st.st_size;
	return fd;
}

/* Read a regular file of at most FP_FILE_MAX bytes, NUL-terminated; free
 * with wipe_free. */
static int read_file(const char *path, char **out, size_t *outlen)
{
	size_t size = 0, len = 0;
	ssize_t n = 1;
	char *buf;
	int fd, err = 0;

	if ((fd = open_regular(path, &size)) < 0)
		return fd;
	if ((buf = malloc(size + 1)) == NULL)
		err = -ENOMEM;
	while (err == 0 && len < size && n != 0) {	/* 0: it shrank */
		if ((n = read(fd, buf + len, size - len)) > 0)
			len += (size_t)n;
		else if (n < 0 && errno != EINTR)
			err = -errno;
	}
	close(fd);
	if (err < 0) {
		wipe_free(buf, len);
		return err;
	}
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	return 0;
}

/* Encrypted keys are not supported: fail instead of prompting on a tty. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

enum pem_kind { PEM_CRT, PEM_PRIVKEY, PEM_PUBKEY };

/* Decode the first PEM object of KIND in buf; PEM_* skip other blocks, so a
 * file holding a key and its certificate works for both. */
static void *pem_decode(const char *buf, size_t len, enum pem_kind kind)
{
	void *obj = NULL;
	BIO *bio;

	if (len > INT_MAX || (bio = BIO_new_mem_buf(buf, (int)len)) == NULL)
		return NULL;
	switch (kind) {
	case PEM_CRT:
		obj = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL);
		break;
	case PEM_PRIVKEY:
		obj = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
		break;
	case PEM_PUBKEY:
		obj = PEM_read_bio_PUBKEY(bio, NULL, no_passphrase, NULL);
		break;
	}
	BIO_free(bio);
	if (obj == NULL)
		ERR_clear_error();	/* a failed guess is not an error */
	return obj;
}

int fp_of_file(const char *path, char out[FP_STRLEN])
{
	EVP_PKEY *pk = NULL;
	X509 *crt;
	size_t len;
	char *buf;
	int err;

	if ((err = read_file(path, &buf, &len)) < 0)
		return err;
	if ((crt = pem_decode(buf, len, PEM_CRT)) != NULL) {
		err = fp_of_x509(crt, out);
		X509_free(crt);
	} else if ((pk = pem_decode(buf, len, PEM_PRIVKEY)) != NULL ||
	    (pk = pem_decode(buf, len, PEM_PUBKEY)) != NULL) {
		err = fp_of_pkey(pk, out);
		EVP_PKEY_free(pk);
	} else {
		err = -EINVAL;
	}
	wipe_free(buf, len);
	return err;
}

/* The curves TLS 1.3 can sign with (RFC 8446 4.2.3). */
static int ec_curve_ok(const EVP_PKEY *pk)
{
	char name[64];
	int nid;

	if (!EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME,
	    name, sizeof(name), NULL))
		return 0;		/* explicit parameters: no thanks */
	nid = OBJ_txt2nid(name);
	return nid == NID_X9_62_prime256v1 || nid == NID_secp384r1 ||
	    nid == NID_secp521r1;
}

int key_check(const EVP_PKEY *pk)
{
	int ok;

	if (pk == NULL)
		return -EINVAL;
	switch (EVP_PKEY_get_base_id(pk)) {
	case EVP_PKEY_ED25519:
		ok = 1;
		break;
	case EVP_PKEY_EC:
		ok = ec_curve_ok(pk);
		break;
	case EVP_PKEY_RSA:
		ok = EVP_PKEY_get_bits(pk) >= 2048;
		break;
	default:
		ok = 0;
		break;
	}
	ERR_clear_error();
	return ok ? 0 : -EINVAL;
}

/* Read path and decode its first PEM object of kind; NULL with *err set
 * (-errno for I/O, -EINVAL for content). */
static void *load_pem(const char *path, enum pem_kind kind, int *err)
{
	void *obj;
	size_t len;
	char *buf;

	if ((*err = read_file(path, &buf, &len)) < 0)
		return NULL;
	obj = pem_decode(buf, len, kind);
	wipe_free(buf, len);
	*err = obj != NULL ? 0 : -EINVAL;
	return obj;
}

int key_load(EVP_PKEY **out, const char *path)
{
	EVP_PKEY *pk;
	int err;

	if ((pk = load_pem(path, PEM_PRIVKEY, &err)) == NULL)
		return err;
	if (key_check(pk) < 0) {
		EVP_PKEY_free(pk);
		return -EINVAL;
	}
	*out = pk;
	return 0;
}

int crt_load(X509 **out, const char *path)
{
	X509 *crt;
	int err;

	if ((crt = load_pem(path, PEM_CRT, &err)) == NULL)
		return err;
	if (X509_get0_pubkey(crt) == NULL) {
		X509_free(crt);
		ERR_clear_error();
		return -EINVAL;
	}
	*out = crt;
	return 0;
}

int key_matches_crt(EVP_PKEY *pk, X509 *crt)
{
	EVP_PKEY *pub;
	int eq;

	if (pk == NULL || crt == NULL ||
	    (pub = X509_get0_pubkey(crt)) == NULL) {
		ERR_clear_error();
		return -EINVAL;
	}
	eq = EVP_PKEY_eq(pk, pub);
	ERR_clear_error();
	return eq == 1 ? 0 : -EINVAL;
}

bool fp_name_valid(const char *name)
{
	static const char ok[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-";
	size_t n = name != NULL ? strlen(name) : 0;

	return n >= 1 && n < FP_NAME_MAX && strspn(name, ok) == n;
}

int fp_normalise(const char *in, char out[FP_STRLEN])
{
	static const char hex[] = "0123456789abcdefABCDEF";
	char fp[FP_STRLEN];
	size_t i;

	if (in == NULL || strlen(in) != FP_STRLEN - 1 || strncasecmp(in, "sha256:", 7) != 0 ||
	    strspn(in + 7, hex) != FP_STRLEN - 8)
		return -EINVAL;
	memcpy(fp, "sha256:", 7);
	for (i = 7; i < FP_STRLEN - 1; i++)
		fp[i] = (char)(in[i] | 0x20);	/* ASCII hex digits: lowercase */
	fp[i] = '\0';
	memcpy(out, fp, sizeof(fp));
	return 0;
}

/* 128 random bits; a BIGNUM is never negative, so neither is the serial. */
static int set_random_serial(X509 *crt)
{
	unsigned char rnd[16];
	BIGNUM *bn = NULL;
	int ok;

	ok = RAND_bytes(rnd, sizeof(rnd)) == 1 &&
	    (bn = BN_bin2bn(rnd, sizeof(rnd), NULL)) != NULL &&
	    !BN_is_zero(bn) &&
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(crt)) != NULL;
	BN_free(bn);
	return ok;
}

/* notBefore an hour back (clock skew), notAfter ten calendar years on. */
static int set_validity(X509 *crt)
{
	time_t now = time(NULL), end;
	struct tm tm;

	if (gmtime_r(&now, &tm) == NULL)
		return 0;
	tm.tm_year += 10;
	if ((end = timegm(&tm)) == (time_t)-1)
		return 0;
	return X509_gmtime_adj(X509_getm_notBefore(crt), -3600) != NULL &&
	    ASN1_TIME_set(X509_getm_notAfter(crt), end) != NULL;
}

static int set_names_and_ext(X509 *crt, const char *cn)
{
	BASIC_CONSTRAINTS *bc;
	X509_NAME *name;
	int ok;

	if ((name = X509_NAME_new()) == NULL)
		return 0;
	ok = X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0) == 1 &&
	    X509_set_subject_name(crt, name) == 1 &&
	    X509_set_issuer_name(crt, name) == 1;
	X509_NAME_free(name);
	if (!ok || (bc = BASIC_CONSTRAINTS_new()) == NULL)
		return 0;
	bc->ca = 0;				/* CA:FALSE, critical */
	ok = X509_add1_ext_i2d(crt, NID_basic_constraints, bc, 1,
	    X509V3_ADD_DEFAULT) == 1;
	BASIC_CONSTRAINTS_free(bc);
	return ok;
}

static X509 *make_self_signed(EVP_PKEY *pk, const char *cn)
{
	X509 *crt;

	if ((crt = X509_new()) == NULL)
		return NULL;
	if (X509_set_version(crt, X509_VERSION_3) != 1 ||
	    !set_random_serial(crt) || !set_validity(crt) ||
	    !set_names_and_ext(crt, cn) || X509_set_pubkey(crt, pk) != 1 ||
	    X509_sign(crt, pk, NULL) <= 0) {	/* Ed25519: no digest */
		X509_free(crt);
		return NULL;
	}
	return crt;
}

/* PEM of the new key (PKCS#8, in a wiped-on-free BIO) and certificate. */
static int make_identity(const char *name, BIO *keypem, BIO *crtpem,
    char fp[FP_STRLEN])
{
	EVP_PKEY *pk;
	X509 *crt = NULL;
	int ok;

	if ((pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) == NULL)
		return -ENOMEM;
	ok = (crt = make_self_signed(pk, name)) != NULL &&
	    PEM_write_bio_PrivateKey(keypem, pk, NULL, NULL, 0, NULL, NULL) &&
	    PEM_write_bio_X509(crtpem, crt) && fp_of_pkey(pk, fp) == 0;
	X509_free(crt);
	EVP_PKEY_free(pk);
	return ok ? 0 : -ENOMEM;
}

static int write_all(int fd, BIO *pem)
{
	char *p;
	long len;
	ssize_t n;

	if ((len = BIO_get_mem_data(pem, &p)) <= 0)
		return -EINVAL;
	while (len > 0) {
		if ((n = write(fd, p, (size_t)len)) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= n;
	}
	return fsync(fd) < 0 ? -errno : 0;
}

/* Both files are created (O_EXCL) before either is written, so an existing
 * one stops us with nothing written; on any failure both are removed. */
static int write_identity(const char *keypath, const char *crtpath,
    BIO *keypem, BIO *crtpem)
{
	int kfd, cfd, err;

	if ((kfd = open(keypath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) < 0)
		return -errno;
	if ((cfd = open(crtpath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0644)) < 0) {
		err = -errno;
		close(kfd);
		unlink(keypath);
		return err;
	}
	err = write_all(kfd, keypem);
	if (close(kfd) < 0 && err == 0)
		err = -errno;
	if (err == 0)
		err = write_all(cfd, crtpem);
	if (close(cfd) < 0 && err == 0)
		err = -errno;
	if (err < 0) {
		unlink(keypath);
		unlink(crtpath);
	}
	return err;
}

int key_generate(const char *dir, const char *name, char fp[FP_STRLEN])
{
	char keypath[PATH_MAX], crtpath[PATH_MAX];
	BIO *keypem, *crtpem;
	int n, m, err;

	if (dir == NULL || *dir == '\0')
		dir = ".";
	if (!fp_name_valid(name))
		return -EINVAL;
	n = snprintf(keypath, sizeof(keypath), "%s/%s.key", dir, name);
	m = snprintf(crtpath, sizeof(crtpath), "%s/%s.crt", dir, name);
	if (n < 0 || m < 0 || (size_t)n >= sizeof(keypath) ||
	    (size_t)m >= sizeof(crtpath))
		return -ENAMETOOLONG;
	keypem = BIO_new(BIO_s_secmem());	/* cleansed when freed */
	crtpem = BIO_new(BIO_s_mem());
	if (keypem == NULL || crtpem == NULL)
		err = -ENOMEM;
	else if ((err = make_identity(name, keypem, crtpem, fp)) == 0)
		err = write_identity(keypath, crtpath, keypem, crtpem);
	BIO_free(keypem);
	BIO_free(crtpem);
	ERR_clear_error();
	return err;
}
