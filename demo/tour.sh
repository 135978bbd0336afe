#!/usr/bin/env bash
# The five-minute tour: starts a throwaway TLS cluster with generated
# certificates, connects clients at several TLS versions, and runs what a DBA
# would type, printing each query and its psql output.
#
#   demo/tour.sh               plain output (what demo/demo.sh shows)
#   demo/tour.sh --markdown    the whole tour as Markdown (doc/tour.md's body)
#   demo/tour.sh --update      rewrite the tour in doc/tour.md and its short
#                              version in README.md (the steps marked below)
#   demo/tour.sh --check       fail (and show a diff) if either is not current
#
# Needs the extension installed (make install) and, as root, the postgres OS
# user to run the cluster. Every output shown is chosen to be the same on
# every run and every day (no pids, times, dates, serials or ports).
set -euo pipefail

mode=${1:-plain}
repo=$(cd "$(dirname "$0")/.." && pwd)
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
bindir=$("$PG_CONFIG" --bindir)

case $mode in
--update | --check)
    full=$(mktemp)
    short=$(mktemp)
    TOUR_SHORT_OUT=$short "$0" --markdown >"$full"
    python3 - "$repo" "$full" "$short" "$mode" <<'PY2'
import sys, difflib
repo, full, short, mode = sys.argv[1:5]
begin, end = "<!-- tour:begin -->\n", "<!-- tour:end -->"
status = 0
for target, generated in (("README.md", short), ("doc/tour.md", full)):
    path = repo + "/" + target
    text = open(path).read()
    head, rest = text.split(begin, 1)
    current, tail = rest.split(end, 1)
    new = open(generated).read()
    if mode == "--update":
        open(path, "w").write(head + begin + new + end + tail)
        print(target + ": tour updated")
    elif current != new:
        sys.stdout.writelines(difflib.unified_diff(current.splitlines(True), new.splitlines(True),
                                                   target + " (tour)", "demo/tour.sh output"))
        print(target + "'s tour is not current: run demo/tour.sh --update")
        status = 1
    else:
        print(target + "'s tour is current")
sys.exit(status)
PY2
    status=$?
    rm -f "$full" "$short"
    exit $status
    ;;
plain | --markdown) ;;
*)
    echo "usage: demo/tour.sh [--markdown | --update | --check]" >&2
    exit 2
    ;;
esac

work=$(mktemp -d /tmp/pg_tls_audit-tour.XXXXXX)
chmod 755 "$work"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres: "$work"
data="$work/data"
port=${PORT:-$(( 20000 + RANDOM % 20000 ))}
cleanup() {
    jobs -p | xargs -r kill 2>/dev/null || true
    if [ "${KEEP:-0}" = 1 ]; then
        echo "cluster left running: psql -h $work -p $port -U postgres" >&2
        return
    fi
    as_pg "$bindir/pg_ctl" -D "$data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

# Copied: the postgres user may not be able to read this checkout (and
# make-certs.sh runs the scripts beside it).
mkdir -p "$work/certs-scripts"
cp "$repo"/test/certs/*.sh "$work/certs-scripts/"
chmod -R a+rX "$work/certs-scripts"
as_pg bash "$work/certs-scripts/make-certs.sh" "$work/certs" >/dev/null
as_pg "$bindir/initdb" -D "$data" -A trust -U postgres >/dev/null
for f in server-chain.crt:server.crt server.key:server.key ca-bundle.crt:root.crt; do
    as_pg cp "$work/certs/${f%%:*}" "$data/${f##*:}"
done
as_pg chmod 600 "$data/server.key"
as_pg tee -a "$data/postgresql.conf" >/dev/null <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$work'
ssl = on
ssl_cert_file = 'server.crt'
ssl_key_file = 'server.key'
ssl_ca_file = 'root.crt'
# Old protocol versions are allowed here on purpose, to show old clients.
ssl_min_protocol_version = 'TLSv1'
ssl_ciphers = 'ALL:@SECLEVEL=0'
shared_preload_libraries = 'pg_tls_audit'
CONF
# Plain TCP is allowed too (for the "no TLS" client below).
as_pg sed -i '1i host all all 127.0.0.1/32 trust' "$data/pg_hba.conf"
as_pg "$bindir/pg_ctl" -D "$data" -l "$work/server.log" -w start >/dev/null
as_pg "$bindir/psql" -X -q -h "$work" -p "$port" -U postgres -c 'CREATE EXTENSION pg_tls_audit'

as_pg cp "$work/certs/client.key" "$work/client.key"
as_pg chmod 600 "$work/client.key"
tls="host=localhost port=$port user=postgres dbname=postgres sslmode=verify-full sslrootcert=$work/certs/root.crt"
client_cert="sslcert=$work/certs/client.crt sslkey=$work/client.key"

# Old protocol versions need a client-side OpenSSL configuration that allows
# them (made by make-certs.sh).
client() {  # client CONNINFO SQL: run as an application would
    as_pg env OPENSSL_CONF="$work/certs/legacy-openssl.cnf" "$bindir/psql" -X -q "$1" -c "$2"
}
# Applications that stay connected while the DBA looks around.
background() {  # background APP CONNINFO
    as_pg env OPENSSL_CONF="$work/certs/legacy-openssl.cnf" "$bindir/psql" -X -q \
        "$2 application_name=$1" -c "SELECT pg_sleep(600)" >/dev/null 2>&1 &
}

markdown=false
[ "$mode" = --markdown ] && markdown=true
# The steps between `short on` and `short off` are also written to
# $TOUR_SHORT_OUT: the README's one-screen tour (the whole one is doc/tour.md).
in_short=false
short() { if [ "$1" = on ]; then in_short=true; else in_short=false; fi; }
emit() {  # emit TEXT: to stdout, and to the short tour when a short step
    printf '%s' "$1"
    if $in_short && [ -n "${TOUR_SHORT_OUT:-}" ]; then printf '%s' "$1" >>"$TOUR_SHORT_OUT"; fi
}
say() {  # a paragraph of the story
    if $markdown; then emit "$(printf '%s\n\n' "$*")"$'\n\n'; else printf '\n== %s\n' "$*"; fi
}
shell() {  # show and run a shell command
    if $markdown; then emit "$(printf '```sh\n$ %s\n```' "$1")"$'\n\n'; else printf '$ %s\n' "$1"; fi
    eval "$2"
}
query() {  # query [CONNINFO-LABEL CONNINFO] SQL: show a psql session
    local label="psql (unix socket, as postgres)" conn="host=$work port=$port user=postgres dbname=postgres"
    if [ $# -eq 3 ]; then label=$1; conn=$2; shift 2; fi
    local out
    out=$(as_pg env OPENSSL_CONF="$work/certs/legacy-openssl.cnf" "$bindir/psql" -X -q "$conn" -c "$1" 2>&1)
    if $markdown; then
        emit "$(printf '```\n-- %s\n=# %s\n%s\n```' "$label" "$1" "$out")"$'\n\n'
    else
        printf -- '-- %s\n=# %s\n%s\n\n' "$label" "$1" "$out"
    fi
}

say "Each client sees its own connection. A client at TLSv1.2, then one at TLSv1.3 with a client certificate:"
query 'psql "host=localhost sslmode=verify-full ssl_max_protocol_version=TLSv1.2 ..."' \
    "$tls ssl_max_protocol_version=TLSv1.2" \
    "SELECT ssl, protocol, cipher, sni, client_cert_present FROM tls_audit.connection();"
query 'psql "host=localhost sslmode=verify-full sslcert=client.crt sslkey=client.key ..."' \
    "$tls ssl_min_protocol_version=TLSv1.3 $client_cert" \
    "SELECT protocol, cipher, key_exchange_group, client_subject, client_issuer FROM tls_audit.connection();"

background billing "$tls ssl_min_protocol_version=TLSv1.1 ssl_max_protocol_version=TLSv1.1"
background reports "$tls ssl_max_protocol_version=TLSv1.2"
background etl "$tls ssl_min_protocol_version=TLSv1.3 $client_cert"
background legacy "host=127.0.0.1 port=$port user=postgres dbname=postgres sslmode=disable"
# Wait for them in one session, so that the census counts the same every run.
as_pg "$bindir/psql" -X -q -h "$work" -p "$port" -U postgres -c "DO \$\$
BEGIN
    FOR i IN 1..100 LOOP
        PERFORM pg_catalog.pg_stat_clear_snapshot();
        EXIT WHEN (SELECT count(*) FROM pg_catalog.pg_stat_activity
                    WHERE application_name IN ('billing', 'reports', 'etl', 'legacy')) = 4;
        PERFORM pg_catalog.pg_sleep(0.1);
    END LOOP;
END \$\$"

short on
say "Four applications are connected: billing (TLSv1.1), reports (TLSv1.2), etl (TLSv1.3 with a client certificate) and legacy (no TLS). The floor \`tls_audit.min_protocol\` is TLSv1.2 by default:"
query "SELECT application_name, transport, protocol, client_subject, client_days_left, below_floor, floor_reason
  FROM tls_audit.sessions WHERE application_name IN ('billing', 'reports', 'etl', 'legacy')
 ORDER BY application_name;"

say "Who would break if the floor were raised to TLSv1.3 — including clients that connected earlier and left (the census):"
query "SELECT application_name, protocol, connections, reason
  FROM tls_audit.floor_readiness('TLSv1.3') ORDER BY application_name;"
short off
query "SELECT target, connections_total, connections_ready, clients_not_ready
  FROM tls_audit.floor_readiness_summary('TLSv1.3');"

say "The server's own certificate, as on disk and as served:"
query "SELECT source, position, subject, days_left, key_type, key_bits, is_ca
  FROM tls_audit.server_certificates ORDER BY source, position;"
query "SELECT leaf_subject, days_left, key_matches_cert, key_file_mode, key_file_permissions_ok,
       chain_complete, reload_pending, served_source
  FROM tls_audit.server_tls();"

say "A renewed certificate is copied over the old one, but nobody reloads the server:"
shell "cp server-renewed-chain.crt \$PGDATA/server.crt" \
    "as_pg cp '$work/certs/server-renewed-chain.crt' '$data/server.crt'"
query "SELECT days_left, served_days_left, reload_pending FROM tls_audit.server_tls();"
query "SELECT pg_reload_conf();"
client "$tls" "SELECT 1" >/dev/null
query "SELECT days_left, served_days_left, reload_pending FROM tls_audit.server_tls();"

short on
say "What is wrong with this server, as rows for pg_cron (old protocols and weak ciphers are allowed here on purpose):"
query "SELECT \"check\", severity, count(*) AS findings
  FROM tls_audit.run_checks() WITH ORDINALITY WHERE severity <> 'ok'
 GROUP BY \"check\", severity ORDER BY min(ordinality);"
short off
query "SELECT worst_severity, critical, warning, server_cert_days_left, sessions_below_floor
  FROM tls_audit.summary;"

say "The same server probed from outside, over STARTTLS, one handshake per version:"
query "SELECT protocol, accepted, cipher FROM tls_audit.probe('localhost', current_setting('port')::int);"

say "Metrics for Prometheus:"
query "SELECT metric, labels, value FROM tls_audit.metrics
 WHERE metric IN ('tls_audit_sessions', 'tls_audit_sessions_below_floor')
 ORDER BY metric, labels::text;"
