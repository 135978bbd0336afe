#!/usr/bin/env bash
# End-to-end cost of tls_audit.report() on a server that is as full as the
# report is designed for: a census of ENTRIES distinct keys (one TLS
# connection per application name, made by a small libpq client) and SESSIONS
# TLS sessions open while the report runs. bench/report.sh times the
# rendering alone on a model; this one adds what the glue does on a real
# server (reading the session registry and the census, running the checks,
# the pg_hba analysis) and the transfer to the client. Out of CI.
#
# Prints the median of 5 runs per format, the report's size, and how full the
# server was (sessions seen by the report, census entries). Targets from
# doc/report.md: under 1 s and under 2 MB.
#
#   bench/report_end_to_end.sh [ENTRIES=5000] [SESSIONS=500]
#
# Needs the extension installed (make install) into PG_CONFIG's server
# (default PostgreSQL 15); run as a non-root user, or as root (it re-runs
# itself as `postgres`).
set -euo pipefail

entries=${1:-5000}
sessions=${2:-500}
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
bindir=$("$PG_CONFIG" --bindir)
export PATH="$bindir:$PATH"

if [ "$(id -u)" = 0 ]; then
    copy=$(mktemp /tmp/report_end_to_end.XXXXXX.sh)
    cp "$0" "$copy"
    chmod 755 "$copy"
    trap 'rm -f "$copy"' EXIT
    runuser -u postgres -- env PG_CONFIG="$PG_CONFIG" bash "$copy" "$entries" "$sessions"
    exit $?
fi

work=$(mktemp -d /tmp/pg_tls_audit-report.XXXXXX)
port=$((20000 + RANDOM % 20000))
client_pid=
cleanup() {
    [ -n "$client_pid" ] && kill "$client_pid" 2>/dev/null || true
    pg_ctl -D "$work/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

initdb -D "$work/data" -A trust --no-sync >/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/data/server.key" -out "$work/data/server.crt" \
    -days 30 -subj "/CN=localhost" >/dev/null 2>&1
chmod 600 "$work/data/server.key"
cat >>"$work/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$work'
ssl = on
fsync = off
autovacuum = off
max_connections = $((sessions + 20))
shared_preload_libraries = 'pg_tls_audit'
tls_audit.census_max = $((entries + sessions + 100))
CONF
printf 'hostssl all all 127.0.0.1/32 trust\n' >"$work/data/pg_hba.conf.new"
cat "$work/data/pg_hba.conf" >>"$work/data/pg_hba.conf.new"
mv "$work/data/pg_hba.conf.new" "$work/data/pg_hba.conf"
pg_ctl -D "$work/data" -l "$work/log" -w start >/dev/null
psql -X -h "$work" -p "$port" -d postgres -qc 'CREATE EXTENSION pg_tls_audit' >/dev/null

# The client: ENTRIES short TLS connections, each with its own application
# name (one census key each), then SESSIONS connections held open until its
# standard input closes.
cat >"$work/client.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <libpq-fe.h>
int main(int argc, char **argv) {
    const char *base = argv[1];
    int entries = atoi(argv[2]), sessions = atoi(argv[3]);
    char conninfo[512];
    for (int i = 0; i < entries; ++i) {
        snprintf(conninfo, sizeof conninfo, "%s application_name=census-%d", base, i);
        PGconn *c = PQconnectdb(conninfo);
        if (PQstatus(c) != CONNECTION_OK) { fprintf(stderr, "connect: %s", PQerrorMessage(c)); return 1; }
        PQfinish(c);
    }
    PGconn **held = calloc((size_t)sessions, sizeof *held);
    for (int i = 0; i < sessions; ++i) {
        snprintf(conninfo, sizeof conninfo, "%s application_name=held-%d", base, i);
        held[i] = PQconnectdb(conninfo);
        if (PQstatus(held[i]) != CONNECTION_OK) { fprintf(stderr, "hold: %s", PQerrorMessage(held[i])); return 1; }
    }
    printf("ready\n");
    fflush(stdout);
    while (getchar() != EOF) {}
    for (int i = 0; i < sessions; ++i) PQfinish(held[i]);
    return 0;
}
C
gcc -O2 -I"$("$PG_CONFIG" --includedir)" "$work/client.c" -L"$("$PG_CONFIG" --libdir)" -lpq -o "$work/client"

mkfifo "$work/hold"
start=$(date +%s)
"$work/client" "host=127.0.0.1 port=$port dbname=postgres sslmode=require" "$entries" "$sessions" \
    <"$work/hold" >"$work/client.out" &
client_pid=$!
exec 3>"$work/hold"    # keeps the client's standard input open
for _ in $(seq 1 600); do
    grep -q ready "$work/client.out" 2>/dev/null && break
    kill -0 "$client_pid" 2>/dev/null || { echo "the client failed" >&2; exit 1; }
    sleep 1
done
grep -q ready "$work/client.out" || { echo "the client was not ready after 600 s" >&2; exit 1; }
echo "filled in $(($(date +%s) - start)) s: $(psql -XAt -h "$work" -p "$port" -d postgres \
    -c "SELECT (SELECT count(*) FROM tls_audit.sessions) || ' sessions, ' || (SELECT count(*) FROM tls_audit.census) || ' census entries'")"

time_report() {  # FORMAT: prints "median_ms bytes"
    local times=() size=0 t0 t1
    for _ in 1 2 3 4 5; do
        t0=$(date +%s%N)
        size=$(psql -XAt -h "$work" -p "$port" -d postgres -c "SELECT length(tls_audit.report('$1'))")
        t1=$(date +%s%N)
        times+=($(((t1 - t0) / 1000000)))
    done
    printf '%s\n' "${times[@]}" | sort -n | sed -n 3p | tr '\n' ' '
    echo "$size"
}
read -r html_ms html_bytes < <(time_report html)
read -r md_ms md_bytes < <(time_report markdown)
printf 'tls_audit.report(%-10s median of 5: %6d ms (psql included), %8d bytes\n' "'html'):" "$html_ms" "$html_bytes"
printf 'tls_audit.report(%-10s median of 5: %6d ms (psql included), %8d bytes\n' "'markdown'):" "$md_ms" "$md_bytes"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
exec 3>&-
wait "$client_pid" || true
client_pid=
[ "$html_ms" -lt 1000 ] && [ "$html_bytes" -lt 2000000 ]
