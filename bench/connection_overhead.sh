#!/usr/bin/env bash
# Connection overhead of pg_tls_audit (the census and session hooks run for
# every connection): pgbench -C over TLS against one throwaway cluster, with
# the library preloaded and without it, restarting in between. Runs are
# interleaved (the order alternates each round) so that drift on a busy
# machine hits both sides; prints each round and the median ratio of the
# connection rates (preloaded / not). Target: >= 0.99.
#
#   bench/connection_overhead.sh [ROUNDS=7] [SECONDS_PER_RUN=10] [CLIENTS=4]
#
# Needs the extension installed (make install) and PostgreSQL 15's binaries;
# run as a non-root user, or as root (it re-runs itself as `postgres`).
# Not part of CI.
set -euo pipefail

rounds=${1:-7}
seconds=${2:-10}
clients=${3:-4}
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
bindir=$("$PG_CONFIG" --bindir)
export PATH="$bindir:$PATH"

if [ "$(id -u)" = 0 ]; then
    copy=$(mktemp /tmp/connection_overhead.XXXXXX.sh)
    cp "$0" "$copy"
    chmod 755 "$copy"
    trap 'rm -f "$copy"' EXIT
    runuser -u postgres -- env PG_CONFIG="$PG_CONFIG" bash "$copy" "$rounds" "$seconds" "$clients"
    exit $?
fi

work=$(mktemp -d /tmp/pg_tls_audit-bench.XXXXXX)
data="$work/data"
port=$((20000 + RANDOM % 20000))
cleanup() {
    pg_ctl -D "$data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

initdb -D "$data" -A trust --no-sync >/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$data/server.key" -out "$data/server.crt" \
    -days 2 -subj "/CN=localhost" >/dev/null 2>&1
chmod 600 "$data/server.key"
cat >>"$data/postgresql.conf" <<CONF
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$work'
ssl = on
fsync = off
max_connections = 50
include_if_exists = 'preload.conf'
CONF
printf 'hostssl all all 127.0.0.1/32 trust\n' >"$data/pg_hba.conf.new"
cat "$data/pg_hba.conf" >>"$data/pg_hba.conf.new"
mv "$data/pg_hba.conf.new" "$data/pg_hba.conf"
echo 'SELECT 1;' >"$work/select.sql"

start_with() {  # 1 = preloaded, 0 = not
    if [ "$1" = 1 ]; then
        echo "shared_preload_libraries = 'pg_tls_audit'" >"$data/preload.conf"
    else
        : >"$data/preload.conf"
    fi
    pg_ctl -D "$data" -l "$work/log" -w stop >/dev/null 2>&1 || true
    pg_ctl -D "$data" -l "$work/log" -w start >/dev/null
    if [ "$1" = 1 ]; then
        PGOPTIONS='-c client_min_messages=warning' psql -X -h "$work" -p "$port" -d postgres -qc 'CREATE EXTENSION IF NOT EXISTS pg_tls_audit' >/dev/null
    fi
}

rate() {  # connections per second over TLS for SECONDS
    PGSSLMODE=require PGHOST=127.0.0.1 PGPORT=$port PGAPPNAME=bench \
        pgbench -n -C -c "$clients" -j 2 -T "$1" -f "$work/select.sql" postgres 2>/dev/null |
        awk '/^tps = / { print $3 }'
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "pgbench -C over TLS: $clients clients, ${seconds}s per run, $rounds rounds, $(nproc) CPUs"
printf '%-6s %14s %14s %8s\n' round with/s without/s ratio
with_all=() without_all=() ratios=()
for round in $(seq 1 "$rounds"); do
    if [ $((round % 2)) = 1 ]; then order="1 0"; else order="0 1"; fi
    declare -A r=()
    for mode in $order; do
        start_with "$mode"
        rate 2 >/dev/null  # warm up: caches, session tickets off anyway
        r[$mode]=$(rate "$seconds")
    done
    ratio=$(awk -v a="${r[1]}" -v b="${r[0]}" 'BEGIN { printf "%.4f", a / b }')
    printf '%-6s %14s %14s %8s\n' "$round" "${r[1]}" "${r[0]}" "$ratio"
    with_all+=("${r[1]}") without_all+=("${r[0]}") ratios+=("$ratio")
    unset r
done
printf 'median %14s %14s %8s\n' \
    "$(printf '%s\n' "${with_all[@]}" | median)" \
    "$(printf '%s\n' "${without_all[@]}" | median)" \
    "$(printf '%s\n' "${ratios[@]}" | median)"
echo "median ratio (preloaded / not): $(printf '%s\n' "${ratios[@]}" | median)   target >= 0.99"
if [ "$(printf '%s\n' "${ratios[@]}" | median | awk '{ print ($1 >= 0.99) }')" = 1 ]; then
    echo "within target"
else
    echo "below target"
fi
