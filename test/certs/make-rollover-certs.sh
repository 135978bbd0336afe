#!/usr/bin/env bash
# Certificates for a root CA migration with a cross-signed intermediate, into
# DIR (make-certs.sh calls this; it may also run alone):
#
#   rollover-old-root.crt    "Old Root" (self-signed)
#   rollover-new-root.crt    "New Root" (self-signed)
#   rollover-int-new.crt     "Rollover Intermediate", issued by New Root
#   rollover-int-cross.crt   the same subject and key, cross-signed by Old Root
#   rollover-server.crt/.key a leaf issued by the intermediate (localhost, 127.0.0.1)
#   rollover-a-chain.crt     server A: leaf + intermediate from New Root
#   rollover-b-chain.crt     server B: leaf + cross-signed intermediate
#   rollover-c-chain.crt     server C: leaf + both intermediates (alternate paths)
#   rollover-bundle-old.crt, rollover-bundle-new.crt, rollover-bundle-both.crt
set -euo pipefail

dir=${1:?usage: make-rollover-certs.sh DIR}
mkdir -p "$dir"
cd "$dir"
umask 077
export OPENSSL_CONF=/dev/null

cat >rollover-ext.cnf <<'CNF'
[ v3_ca ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ v3_server ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
CNF

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# issue OUT CSR_KEY SUBJECT CA_CERT CA_KEY EXT
issue() {
    openssl req -new -key "$2" -subj "$3" -out "$1.csr"
    openssl x509 -req -in "$1.csr" -CA "$4" -CAkey "$5" -set_serial "0x$(openssl rand -hex 12)" \
        -days 700 -sha256 -extfile rollover-ext.cnf -extensions "$6" -out "$1" 2>/dev/null
    rm -f "$1.csr"
}

for r in old new; do
    key "rollover-$r-root.key"
    openssl req -x509 -new -key "rollover-$r-root.key" -sha256 -days 3650 \
        -subj "/CN=pg_tls_audit Rollover ${r^} Root/O=pg_tls_audit tests" \
        -addext "basicConstraints=critical,CA:true" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -out "rollover-$r-root.crt"
done
key rollover-int.key
int_subject="/CN=pg_tls_audit Rollover Intermediate/O=pg_tls_audit tests"
issue rollover-int-new.crt rollover-int.key "$int_subject" rollover-new-root.crt rollover-new-root.key v3_ca
issue rollover-int-cross.crt rollover-int.key "$int_subject" rollover-old-root.crt rollover-old-root.key v3_ca
key rollover-server.key
issue rollover-server.crt rollover-server.key "/CN=localhost/O=pg_tls_audit rollover" \
    rollover-int-new.crt rollover-int.key v3_server
cat rollover-server.crt rollover-int-new.crt >rollover-a-chain.crt
cat rollover-server.crt rollover-int-cross.crt >rollover-b-chain.crt
cat rollover-server.crt rollover-int-new.crt rollover-int-cross.crt >rollover-c-chain.crt
cp rollover-old-root.crt rollover-bundle-old.crt
cp rollover-new-root.crt rollover-bundle-new.crt
cat rollover-old-root.crt rollover-new-root.crt >rollover-bundle-both.crt
chmod 644 rollover-*.crt rollover-ext.cnf
