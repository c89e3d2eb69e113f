/* fp.h - keys, certificates and their fingerprints. A fingerprint is
 * "sha256:" + lowercase hex SHA-256 of the DER SubjectPublicKeyInfo, the same
 * as `openssl pkey -in K -pubout -outform DER | sha256sum`. Accepted keys:
 * Ed25519, ECDSA (P-256 and up), RSA >= 2048 bits. Never prints. */
#ifndef VPND_FP_H
#define VPND_FP_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <stdbool.h>

#define FP_STRLEN   72	/* "sha256:" + 64 + NUL */
#define FP_NAME_MAX 64	/* a peer's name: [A-Za-z0-9._-], 1..63 chars, + NUL */

/* Accept "sha256:" + 64 hex digits in either case; write it lowercased.
 * 0 or -EINVAL (out untouched). The one parser of the syntax: the
 * allow-list, server_fingerprint, leases and vpnctl all call it. */
int  fp_normalise(const char *in, char out[FP_STRLEN]);
/* A peer's name as an allow-list, a certificate's CN and a key file's name
 * take it: 1..63 of [A-Za-z0-9._-], safe in a path and a log line. */
bool fp_name_valid(const char *name);

int fp_of_pkey(const EVP_PKEY *pk, char out[FP_STRLEN]);	/* 0 or -EINVAL */
int fp_of_x509(X509 *crt, char out[FP_STRLEN]);
/* A PEM certificate, private key or public key file. 0, -ENOENT, -EACCES,
 * -EINVAL (not a key or certificate). */
int fp_of_file(const char *path, char out[FP_STRLEN]);

/* Load a PEM private key / certificate; -EINVAL for unreadable content or a
 * weak key (RSA < 2048), -errno for I/O. Caller frees with EVP_PKEY_free /
 * X509_free. */
int key_load(EVP_PKEY **out, const char *path);
int crt_load(X509 **out, const char *path);
/* 0 if the certificate's public key is the private key's, else -EINVAL. */
int key_matches_crt(EVP_PKEY *pk, X509 *crt);
/* 0 if PK is an accepted key (Ed25519; ECDSA P-256, P-384, P-521; RSA >= 2048
 * bits), else -EINVAL. key_load and both TLS peers apply it. */
int key_check(const EVP_PKEY *pk);

/* Write DIR/NAME.key (Ed25519, PKCS#8 PEM, mode 0600) and DIR/NAME.crt
 * (self-signed, CN=NAME, valid 10 years), fingerprint into fp. Refuses to
 * overwrite an existing file (-EEXIST); leaves no partial file behind. */
int key_generate(const char *dir, const char *name, char fp[FP_STRLEN]);

#endif
