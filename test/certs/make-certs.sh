#!/usr/bin/env bash
# Generate every certificate the tests and the demo use, into DIR.
#
#   test/certs/make-certs.sh DIR
#
# Nothing here is a secret: keys are made fresh on each run and never
# committed. The layout mirrors a real deployment: a root CA, an intermediate
# CA that signs the server and client certificates, and deliberately bad
# certificates for the checks (expired, expiring, SHA-1, RSA-1024, ...).
set -euo pipefail

dir=${1:?usage: make-certs.sh DIR}
script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$dir"
cd "$dir"
rm -rf ca-db && mkdir -p ca-db
umask 077

export OPENSSL_CONF=/dev/null  # the system config must not change what we make

# An openssl ca date N days (N may be negative) after the Unix time NOW. One
# NOW for both ends of a certificate makes its lifetime exactly END - START
# days: a profile's lifetime limit is compared to the second.
days_from_now() {
    date -u -d "@$(($2 + $1 * 86400))" +%Y%m%d%H%M%SZ
}

# One minimal openssl-ca database per signing CA.
ca_config() {  # NAME
    local name=$1
    mkdir -p "ca-db/$name/new"
    : >"ca-db/$name/index.txt"
    # Random serials, so that renewed certificates differ.
    openssl rand -hex 16 >"ca-db/$name/serial"
    cat >"ca-db/$name.cnf" <<CNF
[ ca ]
default_ca = this_ca
[ this_ca ]
dir = ca-db/$name
database = \$dir/index.txt
new_certs_dir = \$dir/new
serial = \$dir/serial
certificate = $name.crt
private_key = $name.key
policy = policy_any
default_md = sha256
unique_subject = no
copy_extensions = none
[ policy_any ]
commonName = supplied
organizationName = optional
organizationalUnitName = optional
countryName = optional
localityName = optional
emailAddress = optional
[ v3_ca ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ v3_server ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ v3_client ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ crl_ext ]
authorityKeyIdentifier = keyid:always
CNF
}

new_key() {  # FILE TYPE   (rsa2048 | rsa1024 | p256 | p384 | ed25519)
    case $2 in
    rsa*) openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:${2#rsa}" -out "$1" 2>/dev/null ;;
    p256) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" ;;
    p384) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$1" ;;
    ed25519) openssl genpkey -algorithm ED25519 -out "$1" ;;
    *) echo "unknown key type $2" >&2; exit 1 ;;
    esac
    chmod 600 "$1"
}

# sign NAME SIGNER KEYFILE SUBJECT EXTENSION [START_DAYS END_DAYS [MD]]
sign() {
    local name=$1 signer=$2 key=$3 subj=$4 ext=$5 start=${6:-0} end=${7:-365} md=${8:-sha256}
    # UTF8=1: the subject is UTF-8 text (stored as UTF8String).
    local utf8=${UTF8:+-utf8}
    local now
    now=$(date +%s)
    openssl req -new $utf8 -key "$key" -subj "$subj" -out "$name.csr"
    openssl ca -batch -notext $utf8 -config "ca-db/$signer.cnf" -extensions "$ext" -md "$md" \
        -startdate "$(days_from_now "$start" "$now")" -enddate "$(days_from_now "$end" "$now")" \
        -in "$name.csr" -out "$name.crt" 2>/dev/null
    rm -f "$name.csr"
    chmod 644 "$name.crt"
}

# Root CA (self-signed) and intermediate CA.
new_key root.key rsa2048
openssl req -x509 -new -key root.key -sha256 -days 3650 -subj "/CN=pg_tls_audit Test Root CA/O=pg_tls_audit tests" \
    -addext "basicConstraints=critical,CA:true" -addext "keyUsage=critical,keyCertSign,cRLSign" -out root.crt
ca_config root
new_key intermediate.key rsa2048
sign intermediate root intermediate.key "/CN=pg_tls_audit Test Intermediate CA/O=pg_tls_audit tests" v3_ca -1 1825
ca_config intermediate

# Server: leaf alone, leaf + intermediate, a renewal with the same key, and a
# certificate whose key is a different one (a renewal copied without its key).
new_key server.key rsa2048
sign server intermediate server.key "/CN=localhost/O=pg_tls_audit tests" v3_server -1 365
cat server.crt intermediate.crt >server-chain.crt
sign server-renewed intermediate server.key "/CN=localhost/O=pg_tls_audit tests" v3_server 0 730
cat server-renewed.crt intermediate.crt >server-renewed-chain.crt
new_key server-newkey.key rsa2048
sign server-newkey intermediate server-newkey.key "/CN=localhost/O=pg_tls_audit tests" v3_server 0 730

# What a server trusts for client certificates, and what a client trusts.
cat intermediate.crt root.crt >ca-bundle.crt

# Clients.
new_key client.key rsa2048
sign client intermediate client.key "/CN=tls_audit_client/O=pg_tls_audit tests" v3_client -1 365
new_key client-longdn.key p256
sign client-longdn intermediate client-longdn.key \
    "/CN=tls_audit_client_with_a_rather_long_common_name/OU=Department of Transport Layer Security Audits/O=pg_tls_audit tests" \
    v3_client -1 365

# A client whose subject is not ASCII (PostgreSQL's peer_dn escapes it as \C3\A9).
new_key client-utf8.key p256
UTF8=1 sign client-utf8 intermediate client-utf8.key "/CN=Renée Müller/O=pg_tls_audit tests" v3_client -1 365

# Deliberately bad or unusual server certificates (each with its own key).
new_key expired.key rsa2048
sign expired intermediate expired.key "/CN=localhost/O=expired" v3_server -400 -10
new_key expiring-3d.key rsa2048
sign expiring-3d intermediate expiring-3d.key "/CN=localhost/O=expiring in 3 days" v3_server -30 3
new_key sha1.key rsa2048
sign sha1 intermediate sha1.key "/CN=localhost/O=sha1 signed" v3_server -1 365 sha1
new_key rsa1024.key rsa1024
sign rsa1024 intermediate rsa1024.key "/CN=localhost/O=rsa 1024" v3_server -1 365
new_key p384.key p384
sign p384 intermediate p384.key "/CN=localhost/O=ec p384" v3_server -1 365
new_key p256.key p256
sign p256 intermediate p256.key "/CN=localhost/O=ec p256" v3_server -1 365
new_key ed25519.key ed25519
sign ed25519 intermediate ed25519.key "/CN=localhost/O=ed25519" v3_server -1 365
new_key selfsigned.key rsa2048
openssl req -x509 -new -key selfsigned.key -sha256 -days 365 -subj "/CN=localhost/O=self signed" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -out selfsigned.crt
for c in expired expiring-3d sha1 rsa1024 p384 p256 ed25519; do
    cat "$c.crt" intermediate.crt >"$c-chain.crt"
done

# A CRL from the intermediate (empty, next update in 30 days).
openssl ca -batch -config ca-db/intermediate.cnf -gencrl -crldays 30 -out intermediate.crl 2>/dev/null
# And one from the root (empty): with both, every CA of ca-bundle.crt has a
# CRL (crl_coverage, test/t/022_reload_preflight.pl).
openssl ca -batch -config ca-db/root.cnf -gencrl -crldays 30 -out root.crl 2>/dev/null

# The OpenSSL configuration a client needs to speak TLSv1 or TLSv1.1 (Debian's
# default refuses anything below TLSv1.2 and SHA-1 signatures in the handshake).
cat >legacy-openssl.cnf <<'CNF'
openssl_conf = openssl_init
[openssl_init]
ssl_conf = ssl_sect
[ssl_sect]
system_default = system_default_sect
[system_default_sect]
MinProtocol = TLSv1
CipherString = ALL:@SECLEVEL=0
CNF

# Garbage for the error paths.
printf 'this is not a certificate\n' >garbage.txt
head -c 300 server.crt >truncated.pem
chmod 644 ./*.crt ./*.crl garbage.txt truncated.pem legacy-openssl.cnf
# A root CA migration with a cross-signed intermediate (trust-store readiness).
bash "$script_dir/make-rollover-certs.sh" .

echo "certificates written to $dir"
