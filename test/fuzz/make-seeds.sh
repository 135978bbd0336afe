#!/usr/bin/env bash
# Build the fuzzers' seed corpora from make-certs.sh output, at test time.
#
#   test/fuzz/make-seeds.sh CERTDIR OUTDIR [PROBE_FUZZ_BINARY]
#
# Writes OUTDIR/x509 (every certificate as PEM and DER, chains, a key mixed
# with certificates, TRUSTED/old PEM labels, CRL as PEM and DER, damaged
# input), OUTDIR/protocol (protocol names with the floor/transport byte, and
# setting values: host allow-lists, severities, listen_addresses) and
# OUTDIR/probe (answers to SSLRequest: 'N', 'E' + ErrorResponse, junk, and the
# real server side of TLS 1.0/1.2/1.3 handshakes captured from openssl s_server
# through a small relay that plays the PostgreSQL SSLRequest step), and
# OUTDIR/conninfo (connection strings around a known secret). With
# PROBE_FUZZ_BINARY the client of those handshakes is the probe itself, in the
# fuzzer's capture mode (fixed randomness, see probe_fuzz.cpp), so replaying a
# seed completes the handshake; without it, openssl s_client.
# Nothing here is secret: the certificates and keys are the throwaway test ones.
set -euo pipefail

certs=$(cd "${1:?usage: make-seeds.sh CERTDIR OUTDIR}" && pwd)
out=${2:?usage: make-seeds.sh CERTDIR OUTDIR}
probe_fuzz=${3:-}
[ -z "$probe_fuzz" ] || probe_fuzz=$(cd "$(dirname "$probe_fuzz")" && pwd)/$(basename "$probe_fuzz")
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -rf "$out/x509" "$out/protocol" "$out/probe" "$out/conninfo"
mkdir -p "$out/x509" "$out/protocol" "$out/probe" "$out/conninfo"
export OPENSSL_CONF=/dev/null  # the system config must not change what we make

# --- certificate parsing -----------------------------------------------------
x=$out/x509
for c in "$certs"/*.crt; do
    n=$(basename "$c" .crt)
    cp "$c" "$x/$n.pem"
    # DER holds the first certificate of a bundle only.
    openssl x509 -in "$c" -outform DER -out "$x/$n.der"
done
cat "$certs/server.key" "$certs/server-chain.crt" >"$x/key-and-chain.pem"
cat "$certs/server.crt" "$certs/intermediate.crl" "$certs/root.crt" >"$x/cert-crl-cert.pem"
cp "$certs/intermediate.crl" "$x/crl-only.pem"
openssl crl -in "$certs/intermediate.crl" -outform DER -out "$x/crl.der"
openssl x509 -in "$certs/server.crt" -trustout -addtrust serverAuth >"$x/trusted.pem"
sed -e 's/BEGIN CERTIFICATE/BEGIN X509 CERTIFICATE/' -e 's/END CERTIFICATE/END X509 CERTIFICATE/' \
    "$certs/server.crt" >"$x/old-label.pem"
cp "$certs/garbage.txt" "$x/garbage.txt"
cp "$certs/truncated.pem" "$x/truncated.pem"
{ cat "$x/server.der"; printf 'trailing'; } >"$x/der-trailing.der"
head -c 200 "$x/server.der" >"$x/der-truncated.der"

# --- connection strings around a secret (first byte: where the password goes;
# after a NUL: bytes appended to the secret) ----------------------------------
c=$out/conninfo
i=0
for s in 'Xhost=db sslmode=require' 'Xhost=db port=5432 user=app' "Xhost='unterminated" 'Xa b c' \
    'Xpostgresql://app@db/prod?sslmode=require' 'Xhost="q"x"' 'X= ='; do
    printf '%s' "$s" >"$c/seed$i"
    printf '%s\0%s' "$s" '"horse battery"staple' >"$c/seed${i}q"
    i=$((i + 1))
done

# --- protocol names (first byte: transport % 4 and floor / 4 % 5) -------------
p=$out/protocol
i=0
for name in SSLv3 TLSv1 TLSv1.1 TLSv1.2 TLSv1.3 tlsv1.2 TLSV1.3 TLSv1.4 TLS1.2 ''; do
    for sel in '\x02' '\x0e' '\x12' '\x01' '\x00'; do  # tls/TLSv1, tls/TLSv1.2, tls/TLSv1.3, tcp, unix
        printf "$sel%s" "$name" >"$p/seed-$i"
        i=$((i + 1))
    done
done

# Setting values: allow-lists, severities, outcomes, listen_addresses.
for v in 'db.example.com, *.example.org,127.0.0.1' '*.a.b' ' DB.Example.COM ' ',x' '*' 'a b' '::1,fe80::1' \
    warning critical info ok accepted rejected '*' 'localhost, 10.0.0.1' '0.0.0.0' '::' ''; do
    printf '%s' "$v" >"$p/seed-$i"
    i=$((i + 1))
done

# --- server replies to the probe (first byte: mode, see probe_fuzz.cpp) -------
q=$out/probe
printf '\x00N' >"$q/refuse-n"
printf '\x00X' >"$q/junk-byte"
printf '\x00HTTP/1.1 400 Bad Request\r\n\r\n' >"$q/http"
printf '\x00S' >"$q/s-then-eof"
printf '\x00S\x15\x03\x03\x00\x02\x02\x28' >"$q/s-alert"
printf '\x06S\x16\x03\x03\x00\x04\x02\x00\x00\x00' >"$q/s-short-hello"
# 'E' then an ErrorResponse: int32 length, fields, terminating NUL.
body='SFATAL\0C28000\0Mno pg_hba.conf entry for host "127.0.0.1"\0\0'
len=$(($(printf "$body" | wc -c) + 4))
printf "\x00E\x00\x00\x00\\x$(printf %02x "$len")$body" >"$q/refuse-e"
printf '\x00E\x00\x00\x00\x05' >"$q/refuse-e-truncated"

tmp=$(mktemp -d)
server_pid=
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

# Plays the server side of SSLRequest for openssl s_client -starttls postgres,
# then relays to s_server and records what the server sent.
cat >"$tmp/relay.pl" <<'PERL'
use strict;
use warnings;
use IO::Socket::UNIX;
use IO::Select;
my ($front, $back, $outfile, $mode) = @ARGV;
$SIG{ALRM} = sub { die "relay: timed out\n" };
$SIG{PIPE} = 'IGNORE';  # the client may close first (the probe does right after its handshake)
alarm 15;
my $listen = IO::Socket::UNIX->new(Type => SOCK_STREAM(), Local => $front, Listen => 1)
    or die "relay: listen: $!\n";
my $client = $listen->accept or die "relay: accept: $!\n";
my $req = '';
while (length($req) < 8) {
    my $n = sysread($client, $req, 8 - length($req), length($req));
    die "relay: no SSLRequest\n" unless $n;
}
die "relay: not an SSLRequest\n" unless $req eq "\x00\x00\x00\x08\x04\xd2\x16\x2f";
syswrite($client, 'S');
my $server = IO::Socket::UNIX->new(Type => SOCK_STREAM(), Peer => $back)
    or die "relay: connect: $!\n";
my $recorded = '';
my $sel = IO::Select->new($client, $server);
LOOP: while (my @ready = $sel->can_read(3)) {
    for my $fh (@ready) {
        my $n = sysread($fh, my $buf, 65536);
        last LOOP unless $n;
        if ($fh == $server) {
            $recorded .= $buf;
            syswrite($client, $buf);
        } else {
            syswrite($server, $buf);
        }
    }
}
die "relay: the server sent nothing\n" unless length $recorded;
open(my $fh, '>:raw', $outfile) or die "relay: $outfile: $!\n";
print $fh chr($mode) . 'S' . $recorded;
close $fh;
PERL

captured=0
# capture NAME MODE CERT KEY "S_SERVER_OPTS" "S_CLIENT_OPTS"
capture() {
    local name=$1 mode=$2 cert=$3 key=$4 sopts=$5 copts=$6
    local front=$tmp/front.sock back=$tmp/back.sock
    rm -f "$front" "$back"
    # shellcheck disable=SC2086
    openssl s_server -quiet -naccept 1 -unix "$back" -cert "$certs/$cert" -key "$certs/$key" \
        -cert_chain "$certs/intermediate.crt" $sopts </dev/null >"$tmp/server.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 50); do [ -S "$back" ] && break; sleep 0.1; done
    perl "$tmp/relay.pl" "$front" "$back" "$q/$name" "$mode" 2>"$tmp/relay.log" &
    local relay_pid=$!
    for _ in $(seq 50); do [ -S "$front" ] && break; sleep 0.1; done
    if [ -n "$probe_fuzz" ]; then
        TLS_AUDIT_PROBE_CAPTURE=$front TLS_AUDIT_PROBE_CAPTURE_MODE=$mode TLS_AUDIT_FUZZ_CA=$certs/ca-bundle.crt \
            timeout 15 "$probe_fuzz" >"$tmp/client.log" 2>&1 || true
        cp "$tmp/client.log" "$tmp/client-$name.log"
    else
        # shellcheck disable=SC2086
        timeout 15 openssl s_client -unix "$front" -starttls postgres -servername localhost -no_ticket \
            $copts </dev/null >"$tmp/client.log" 2>&1 || true
    fi
    if wait "$relay_pid" && [ -s "$q/$name" ]; then
        captured=$((captured + 1))
    else
        echo "make-seeds: could not capture $name: $(cat "$tmp/relay.log" "$tmp/server.log" "$tmp/client.log")" >&2
        rm -f "$q/$name"
    fi
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=
}
capture tls12-rsa-kx 0 server.crt server.key "-tls1_2 -cipher AES128-SHA256" "-tls1_2 -cipher ALL:@SECLEVEL=0"
capture tls12-ecdhe-rsa 0 server.crt server.key "-tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256" "-tls1_2"
capture tls12-ecdhe-ecdsa 6 p384.crt p384.key "-tls1_2 -cipher ECDHE-ECDSA-AES256-GCM-SHA384" "-tls1_2"
capture tls10-rsa 4 server.crt server.key "-tls1 -cipher AES128-SHA:@SECLEVEL=0" "-tls1 -cipher AES128-SHA:@SECLEVEL=0"
capture tls13 0 server.crt server.key "-tls1_3" "-tls1_3"
capture tls13-ed25519 7 ed25519.crt ed25519.key "-tls1_3" "-tls1_3"
capture tls13-hello-retry 0 server.crt server.key "-tls1_3 -groups P-384" "-tls1_3"
capture tls12-cert-request 0 server.crt server.key "-tls1_2 -verify 1" "-tls1_2"
if [ -n "$probe_fuzz" ]; then  # what the probe concluded on each recorded handshake
    for f in "$tmp"/client-*.log; do
        n=${f##*/client-}
        echo "  ${n%.log}: $(sed -n 's/^probe_fuzz: //p' "$f" | head -1)"
    done
fi
if [ "$captured" -eq 0 ]; then
    echo "make-seeds: no TLS handshake could be captured" >&2
    exit 1
fi
echo "seeds written to $out: $(ls "$x" | wc -l) x509, $(ls "$p" | wc -l) protocol, $(ls "$q" | wc -l) probe ($captured captured handshakes), $(ls "$c" | wc -l) conninfo"
