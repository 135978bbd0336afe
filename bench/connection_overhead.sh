#!/usr/bin/env bash
# Connection overhead of pg_tls_audit (the census and session hooks run for
# every connection): pgbench -C over TLS against two identical throwaway
# clusters, one with the library preloaded and one without, both running the
# whole time. Short runs alternate between them (the order flips each round)
# so that drift on a busy machine hits both sides alike; prints each round and
# the median ratio of the connection rates (preloaded / not). Target: >= 0.99.
#
#   bench/connection_overhead.sh [ROUNDS=15] [SECONDS_PER_RUN=3] [CLIENTS=2]
#   AA=1 bench/connection_overhead.sh   calibration: both sides without the library
#
# Needs the extension installed (make install) and PostgreSQL 15's binaries;
# run as a non-root user, or as root (it re-runs itself as `postgres`).
# Not part of CI.
set -euo pipefail

rounds=${1:-15}
seconds=${2:-3}
clients=${3:-2}
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
bindir=$("$PG_CONFIG" --bindir)
export PATH="$bindir:$PATH"

if [ "$(id -u)" = 0 ]; then
    copy=$(mktemp /tmp/connection_overhead.XXXXXX.sh)
    cp "$0" "$copy"
    chmod 755 "$copy"
    trap 'rm -f "$copy"' EXIT
    runuser -u postgres -- env PG_CONFIG="$PG_CONFIG" AA="${AA:-0}" bash "$copy" "$rounds" "$seconds" "$clients"
    exit $?
fi

work=$(mktemp -d /tmp/pg_tls_audit-bench.XXXXXX)
base_port=$((20000 + RANDOM % 20000))
cleanup() {
    for mode in 0 1; do pg_ctl -D "$work/data$mode" -m immediate stop >/dev/null 2>&1 || true; done
    rm -rf "$work"
}
trap cleanup EXIT

# One cluster made once, copied, so that both sides are the same but for
# shared_preload_libraries.
initdb -D "$work/data0" -A trust --no-sync >/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/data0/server.key" -out "$work/data0/server.crt" \
    -days 2 -subj "/CN=localhost" >/dev/null 2>&1
chmod 600 "$work/data0/server.key"
cat >>"$work/data0/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$work'
ssl = on
fsync = off
max_connections = 50
include_if_exists = 'bench.conf'
CONF
printf 'hostssl all all 127.0.0.1/32 trust\n' >"$work/data0/pg_hba.conf.new"
cat "$work/data0/pg_hba.conf" >>"$work/data0/pg_hba.conf.new"
mv "$work/data0/pg_hba.conf.new" "$work/data0/pg_hba.conf"
cp -a "$work/data0" "$work/data1"
echo "port = $base_port" >"$work/data0/bench.conf"
if [ "${AA:-0}" = 1 ]; then
    # Calibration: both sides without the library; the ratio shows the bench's own bias.
    echo "port = $((base_port + 1))" >"$work/data1/bench.conf"
else
    printf "port = %s\nshared_preload_libraries = 'pg_tls_audit'\n" $((base_port + 1)) >"$work/data1/bench.conf"
fi
for mode in 0 1; do pg_ctl -D "$work/data$mode" -l "$work/log$mode" -w start >/dev/null; done
[ "${AA:-0}" = 1 ] || PGOPTIONS='-c client_min_messages=warning' psql -X -h "$work" -p $((base_port + 1)) -d postgres \
    -qc 'CREATE EXTENSION pg_tls_audit' >/dev/null
echo 'SELECT 1;' >"$work/select.sql"

rate() {  # MODE SECONDS: connections per second over TLS
    PGSSLMODE=require PGHOST=127.0.0.1 PGPORT=$((base_port + $1)) PGAPPNAME=bench \
        pgbench -n -C -c "$clients" -j "$clients" -T "$2" -f "$work/select.sql" postgres 2>/dev/null |
        awk '/^tps = / { print $3 }'
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

for mode in 0 1; do rate "$mode" 2 >/dev/null; done  # warm up both
echo "pgbench -C over TLS: $clients clients, ${seconds}s per run, $rounds rounds, $(nproc) CPUs"
printf '%-6s %14s %14s %8s\n' round with/s without/s ratio
with_all=() without_all=() ratios=()
for round in $(seq 1 "$rounds"); do
    if [ $((round % 2)) = 1 ]; then order="1 0"; else order="0 1"; fi
    declare -A r=()
    for mode in $order; do r[$mode]=$(rate "$mode" "$seconds"); done
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
