#!/usr/bin/env bash
# Connection overhead of pg_tls_audit (the census, session-registry and
# served-certificate hooks run for every connection): pgbench -C over TLS
# against two identical throwaway clusters, one with the library preloaded and
# one without. Prints each round, the median ratio of the connection rates
# (preloaded / not) and, as the explanatory measure, the backends' minor page
# faults per connection (the postmaster's count for its reaped children).
# Targets: a ratio >= 0.99 and at most 8 extra faults per connection (the
# median over the rounds of with - without).
#
# How the noise is kept out (this machine's throughput swings +-15 % from one
# 3 s run to the next):
#  * Both sides run at the same time, CLIENTS connections each, sharing the
#    CPUs: every disturbance hits both, and a side that needs more CPU per
#    connection gets through fewer. Per-round ratios then spread about +-5 %
#    in the calibration, against +-15 % for back-to-back runs. SEQUENTIAL=1
#    runs the sides one after the other instead (the order flips every two
#    rounds).
#  * Each round restarts both clusters: a new postmaster means a new address-
#    space layout, which alone moves a backend's page-fault count by +-10, so
#    one long-running pair would measure one layout's luck.
#  * The library changes sides every round (the clusters are copies, both
#    with the extension created; only shared_preload_libraries differs), so a
#    difference between the two data directories or ports cancels out.
#
#   bench/connection_overhead.sh [ROUNDS=21] [SECONDS_PER_RUN=3] [CLIENTS=1]
#   AA=1 bench/connection_overhead.sh   calibration: both sides without the library
#   SEQUENTIAL=1 bench/connection_overhead.sh   alternate the sides instead
#   PRELOAD_CONF=$'tls_audit.enforce_floor = log' bench/connection_overhead.sh
#                                               more postgresql.conf lines on the preloaded side
#
# Needs the extension installed (make install) and PostgreSQL 15's binaries;
# run as a non-root user, or as root (it re-runs itself as `postgres`).
# Not part of CI.
set -euo pipefail

rounds=${1:-21}
seconds=${2:-3}
clients=${3:-1}
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
bindir=$("$PG_CONFIG" --bindir)
export PATH="$bindir:$PATH"

if [ "$(id -u)" = 0 ]; then
    copy=$(mktemp /tmp/connection_overhead.XXXXXX.sh)
    cp "$0" "$copy"
    chmod 755 "$copy"
    trap 'rm -f "$copy"' EXIT
    runuser -u postgres -- env PG_CONFIG="$PG_CONFIG" PRELOAD_CONF="${PRELOAD_CONF:-}" AA="${AA:-0}" SEQUENTIAL="${SEQUENTIAL:-0}" bash "$copy" "$rounds" "$seconds" "$clients"
    exit $?
fi

work=$(mktemp -d /tmp/pg_tls_audit-bench.XXXXXX)
base_port=$((20000 + RANDOM % 20000))
cleanup() {
    for side in 0 1; do pg_ctl -D "$work/data$side" -m immediate stop >/dev/null 2>&1 || true; done
    rm -rf "$work"
}
trap cleanup EXIT

# One cluster made once and copied: the sides differ only in port and in
# preload.conf, rewritten every round.
initdb -D "$work/data0" -A trust --no-sync >/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/data0/server.key" -out "$work/data0/server.crt" \
    -days 2 -subj "/CN=localhost" >/dev/null 2>&1
chmod 600 "$work/data0/server.key"
cat >>"$work/data0/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$work'
ssl = on
fsync = off
autovacuum = off
max_connections = 50
include_if_exists = 'port.conf'
include_if_exists = 'preload.conf'
CONF
printf 'hostssl all all 127.0.0.1/32 trust\n' >"$work/data0/pg_hba.conf.new"
cat "$work/data0/pg_hba.conf" >>"$work/data0/pg_hba.conf.new"
mv "$work/data0/pg_hba.conf.new" "$work/data0/pg_hba.conf"
cp -a "$work/data0" "$work/data1"
for side in 0 1; do echo "port = $((base_port + side))" >"$work/data$side/port.conf"; done

start_both() { for side in 0 1; do pg_ctl -D "$work/data$side" -l "$work/log$side" -w start >/dev/null; done; }
stop_both() { for side in 0 1; do pg_ctl -D "$work/data$side" -m fast -w stop >/dev/null; done; }

# preload SIDE: the library on SIDE only (on neither with AA=1, the calibration
# of the bench's own bias).
preload() {
    for side in 0 1; do
        if [ "$side" = "$1" ] && [ "${AA:-0}" != 1 ]; then
            echo "shared_preload_libraries = 'pg_tls_audit'" >"$work/data$side/preload.conf"
            # PRELOAD_CONF: more lines for the preloaded side, e.g.
            # $'tls_audit.role_min_protocol = \'*=TLSv1.2\'\ntls_audit.enforce_floor = on'
            if [ -n "${PRELOAD_CONF:-}" ]; then printf '%s\n' "$PRELOAD_CONF" >>"$work/data$side/preload.conf"; fi
        else
            : >"$work/data$side/preload.conf"
        fi
    done
}

start_both
for side in 0 1; do
    PGOPTIONS='-c client_min_messages=warning' psql -X -h "$work" -p $((base_port + side)) -d postgres \
        -qc 'CREATE EXTENSION pg_tls_audit' >/dev/null
done
stop_both
echo 'SELECT 1;' >"$work/select.sql"

pgbench_c() {  # SIDE pgbench-args...: pgbench -C over TLS against one side
    local side=$1
    shift
    PGSSLMODE=require PGHOST=127.0.0.1 PGPORT=$((base_port + side)) PGAPPNAME=bench \
        pgbench -n -C -c "$clients" -j "$clients" -f "$work/select.sql" "$@" postgres 2>/dev/null
}

# Minor page faults of the side's reaped backends so far (field 11 of the
# postmaster's /proc/PID/stat: cminflt).
child_faults() { awk '{ print $11 }' "/proc/$(head -1 "$work/data$1/postmaster.pid")/stat"; }

run() {  # SIDE SECONDS: prints "connections/s faults-per-connection"
    local before out
    before=$(child_faults "$1")
    out=$(pgbench_c "$1" -T "$2")
    awk -v before="$before" -v after="$(child_faults "$1")" '
        /^number of transactions actually processed:/ { n = $NF + 0 }
        /^tps = / { tps = $3 }
        END { printf "%s %.1f\n", tps, n ? (after - before) / n : 0 }' <<<"$out"
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
mean() { awk '{ s += $1 } END { printf "%.1f", NR ? s / NR : 0 }'; }

if [ "${SEQUENTIAL:-0}" = 1 ]; then how="one side after the other"; else how="both sides at once"; fi
echo "pgbench -C over TLS: $clients client(s) per side, $how, ${seconds}s per run, $rounds rounds (clusters restarted each round), $(nproc) CPUs"
[ "${AA:-0}" != 1 ] || echo "AA calibration: the library on neither side"
printf '%-6s %12s %12s %8s %14s %14s\n' round with/s without/s ratio faults/c-with faults/c-without
with_all=() without_all=() ratios=() faults_with=() faults_without=()
for round in $(seq 1 "$rounds"); do
    with=$((round % 2)) without=$((1 - round % 2))
    preload "$with"
    start_both
    for side in 0 1; do pgbench_c "$side" -t 10 >/dev/null; done  # warm up
    declare -A rate=() faults=()
    if [ "${SEQUENTIAL:-0}" = 1 ]; then
        # with first in rounds 1, 2, 5, 6, ...; without first in 3, 4, 7, 8, ...
        if [ $(((round - 1) / 2 % 2)) = 0 ]; then order="$with $without"; else order="$without $with"; fi
        for side in $order; do read -r "rate[$side]" "faults[$side]" < <(run "$side" "$seconds"); done
    else
        for side in 0 1; do run "$side" "$seconds" >"$work/run$side" & done
        wait
        for side in 0 1; do read -r "rate[$side]" "faults[$side]" <"$work/run$side"; done
    fi
    stop_both
    ratio=$(awk -v a="${rate[$with]}" -v b="${rate[$without]}" 'BEGIN { printf "%.4f", a / b }')
    printf '%-6s %12.1f %12.1f %8s %14s %14s\n' "$round" "${rate[$with]}" "${rate[$without]}" "$ratio" \
        "${faults[$with]}" "${faults[$without]}"
    with_all+=("${rate[$with]}") without_all+=("${rate[$without]}") ratios+=("$ratio")
    faults_with+=("${faults[$with]}") faults_without+=("${faults[$without]}")
    unset rate faults
done
ratio=$(printf '%s\n' "${ratios[@]}" | median)
printf 'median %12.1f %12.1f %8s %14s %14s  (faults: mean)\n' \
    "$(printf '%s\n' "${with_all[@]}" | median)" \
    "$(printf '%s\n' "${without_all[@]}" | median)" "$ratio" \
    "$(printf '%s\n' "${faults_with[@]}" | mean)" "$(printf '%s\n' "${faults_without[@]}" | mean)"
# Extra faults per connection: the median over the rounds of (with - without),
# each round's two sides measured at the same time on fresh postmasters.
extra=$(for i in "${!faults_with[@]}"; do
            awk -v a="${faults_with[$i]}" -v b="${faults_without[$i]}" 'BEGIN { printf "%.1f\n", a - b }'
        done | median)
echo "median ratio (preloaded / not): $ratio   target >= 0.99"
echo "median extra page faults per connection: $extra   target <= 8"
if [ "$(awk -v r="$ratio" -v e="$extra" 'BEGIN { print (r >= 0.99 && e <= 8) }')" = 1 ]; then
    echo "within target"
else
    echo "below target"
fi
