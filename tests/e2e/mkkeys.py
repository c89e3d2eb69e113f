#!/usr/bin/env python3
"""mkkeys.py - key material for load tests, made in one process.

  mkkeys.py DIR N [PREFIX]
Writes DIR/PREFIXi.key and DIR/PREFIXi.crt for i = 0..N-1 (PREFIX defaults
to "p") in the form `vpnctl keygen` writes them: an Ed25519 key as PKCS#8
PEM (mode 0600) and a self-signed certificate, CN = the name, CA:FALSE
(critical), valid from an hour ago for 10 years. Prints "NAME FINGERPRINT"
a line, the fingerprint as vpnd computes it ("sha256:" + the SHA-256 of
the DER SubjectPublicKeyInfo). A thousand `vpnctl keygen` runs under ASan
take minutes on a busy machine; this takes about a second.
"""
import datetime, hashlib, os, sys

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.x509.oid import NameOID


def identity(name, now):
    key = ed25519.Ed25519PrivateKey.generate()
    cn = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    crt = (x509.CertificateBuilder()
           .subject_name(cn).issuer_name(cn)
           .public_key(key.public_key())
           .serial_number(x509.random_serial_number())
           .not_valid_before(now - datetime.timedelta(hours=1))
           .not_valid_after(now + datetime.timedelta(days=3652))
           .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
           .sign(key, None))                       # Ed25519: no digest
    spki = key.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    return pem, crt.public_bytes(serialization.Encoding.PEM), "sha256:" + hashlib.sha256(spki).hexdigest()


def write(path, data, mode):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__.split("\n")[2])
    d, n = sys.argv[1], int(sys.argv[2])
    prefix = sys.argv[3] if len(sys.argv) == 4 else "p"
    now = datetime.datetime.now(datetime.timezone.utc)
    out = []
    for i in range(n):
        name = f"{prefix}{i}"
        key, crt, fp = identity(name, now)
        write(f"{d}/{name}.key", key, 0o600)
        write(f"{d}/{name}.crt", crt, 0o644)
        out.append(f"{name} {fp}\n")
    sys.stdout.write("".join(out))


main()
