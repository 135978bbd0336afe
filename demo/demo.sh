#!/usr/bin/env bash
# pg_tls_audit demo: installs what it needs, builds and installs the
# extension, starts a throwaway TLS-enabled PostgreSQL 15 cluster with freshly
# generated certificates, connects clients at several TLS versions and with a
# client certificate, and shows what the extension sees. Run as root on
# Debian 12:   bash demo/demo.sh        (KEEP=1 leaves the cluster running)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
export PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}

echo "== installing dependencies (apt) =="
bash "$repo/test/deps.sh"
bindir=$("$PG_CONFIG" --bindir)

echo "== building and installing pg_tls_audit =="
make -C "$repo" -s -j"$(nproc)" >/dev/null
make -C "$repo" -s install >/dev/null

demo=$(mktemp -d /tmp/pg_tls_audit-demo.XXXXXX)
chmod 755 "$demo"
as_pg() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
[ "$(id -u)" = 0 ] && chown postgres: "$demo"
port=${PORT:-$(( 20000 + RANDOM % 20000 ))}
data="$demo/data"

cleanup() {
    if [ "${KEEP:-0}" = 1 ]; then
        echo "cluster left running: psql -h 127.0.0.1 -p $port -U postgres (data in $data)"
        return
    fi
    jobs -p | xargs -r kill 2>/dev/null || true
    as_pg "$bindir/pg_ctl" -D "$data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$demo"
}
trap cleanup EXIT

echo "== generating certificates (root CA, intermediate, server, client) =="
as_pg bash "$repo/test/certs/make-certs.sh" "$demo/certs" >/dev/null

echo "== starting a TLS cluster on 127.0.0.1:$port =="
as_pg "$bindir/initdb" -D "$data" -A trust -U postgres >/dev/null
as_pg cp "$demo/certs/server-chain.crt" "$data/server.crt"
as_pg cp "$demo/certs/server.key" "$data/server.key"
as_pg cp "$demo/certs/ca-bundle.crt" "$data/root.crt"
as_pg chmod 600 "$data/server.key"
as_pg tee -a "$data/postgresql.conf" >/dev/null <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$demo'
ssl = on
ssl_cert_file = 'server.crt'
ssl_key_file = 'server.key'
ssl_ca_file = 'root.crt'
# Old protocols allowed on purpose, so that the demo can show old clients.
ssl_min_protocol_version = 'TLSv1'
ssl_ciphers = 'ALL:@SECLEVEL=0'
shared_preload_libraries = 'pg_tls_audit'
CONF
as_pg "$bindir/pg_ctl" -D "$data" -l "$demo/server.log" -w start >/dev/null
as_pg "$bindir/psql" -X -q -h "$demo" -p "$port" -U postgres -c 'CREATE EXTENSION pg_tls_audit'

# Clients: libpq over TCP with TLS. Old protocol versions need a client-side
# OpenSSL configuration that allows them (Debian's default refuses < TLSv1.2).
cat >"$demo/legacy-openssl.cnf" <<'CNF'
openssl_conf = openssl_init
[openssl_init]
ssl_conf = ssl_sect
[ssl_sect]
system_default = system_default_sect
[system_default_sect]
MinProtocol = TLSv1
CipherString = ALL:@SECLEVEL=0
CNF
cp "$demo/certs/client.key" "$demo/client.key"
chmod 600 "$demo/client.key"
[ "$(id -u)" = 0 ] && chown postgres: "$demo/client.key" "$demo/legacy-openssl.cnf"
conn() {  # conn VERSION [extra conninfo]
    echo "host=localhost port=$port user=postgres dbname=postgres sslmode=require ssl_min_protocol_version=$1 ssl_max_protocol_version=$1 application_name=demo-$1 ${2:-}"
}
psql_tls() {  # psql_tls VERSION SQL [extra conninfo]
    as_pg env OPENSSL_CONF="$demo/legacy-openssl.cnf" "$bindir/psql" -X "$(conn "$1" "${3:-}")" -c "$2"
}

q_connection="SELECT ssl, protocol, cipher, sni, key_exchange_group, client_cert_present, client_subject, client_not_after FROM tls_audit.connection()"
for v in TLSv1.2 TLSv1.3; do
    echo
    echo "== a client at $v asks: SELECT ... FROM tls_audit.connection() =="
    psql_tls "$v" "$q_connection"
done
echo
echo "== a client with a certificate (TLSv1.3) =="
psql_tls TLSv1.3 "$q_connection" "sslcert=$demo/certs/client.crt sslkey=$demo/client.key application_name=demo-client-cert"

has() {  # has OBJECT: does the installed extension provide it?
    [ "$(as_pg "$bindir/psql" -X -At -h "$demo" -p "$port" -U postgres -c "SELECT to_regclass('$1') IS NOT NULL OR to_regproc('$1') IS NOT NULL")" = t ]
}
local_psql() {
    as_pg "$bindir/psql" -X -h "$demo" -p "$port" -U postgres -c "$1"
}

# Keep a few sessions open at different versions, then look at them all.
for v in TLSv1.1 TLSv1.2 TLSv1.3; do
    psql_tls "$v" "SELECT pg_sleep(20)" >/dev/null 2>&1 &
done
sleep 1

if has tls_audit.sessions; then
    echo
    echo "== every session, flagged against the floor tls_audit.min_protocol: SELECT ... FROM tls_audit.sessions =="
    local_psql "SELECT pid, application_name, transport, protocol, cipher, client_subject, below_floor, floor_reason FROM tls_audit.sessions ORDER BY application_name"
fi
if has tls_audit.server_tls; then
    echo
    echo "== the server's own certificate and key: SELECT * FROM tls_audit.server_tls() =="
    local_psql "\\x on" -c "SELECT * FROM tls_audit.server_tls()" 2>/dev/null ||
        as_pg "$bindir/psql" -X -x -h "$demo" -p "$port" -U postgres -c "SELECT * FROM tls_audit.server_tls()"
fi
if has tls_audit.server_certificates; then
    echo
    echo "== the served chain: SELECT ... FROM tls_audit.server_certificates =="
    local_psql "SELECT source, position, subject, not_after, days_left, key_type, key_bits FROM tls_audit.server_certificates ORDER BY source, position"
fi
if has tls_audit.run_checks; then
    echo
    echo "== what is wrong with this server: SELECT * FROM tls_audit.run_checks() WHERE severity <> 'ok' =="
    local_psql "SELECT check, severity, object, message FROM tls_audit.run_checks() WHERE severity <> 'ok'"
fi
if has tls_audit.floor_readiness; then
    echo
    echo "== who would break at TLSv1.3: SELECT * FROM tls_audit.floor_readiness('TLSv1.3') =="
    local_psql "SELECT usename, application_name, protocol, connections, reason FROM tls_audit.floor_readiness('TLSv1.3')"
fi
echo
echo "demo finished"
