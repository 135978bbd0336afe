#!/usr/bin/env bash
# Benchmark: what one sample of the pooler sample worker costs with CLIENTS
# clients held open through a real pgbouncer. Starts a throwaway cluster with
# pg_tls_audit preloaded and a pgbouncer in front of it (127.0.0.1, TLS
# towards clients with a certificate made here, transaction pooling so that
# a few server connections carry every client), opens CLIENTS TLS client
# connections with pgbench (each connects once, then sleeps between short
# transactions), sets tls_audit.pooler_sample_interval = 1 s and measures
# SAMPLES samples:
#   wall ms     the worker's own timing of a sample (connect to the admin
#               console, SHOW CLIENTS, parse, count the new connections into
#               the census), from its DEBUG1 line; the first sample, which
#               finds every client new, apart from the steady ones
#   cpu ms      the worker's CPU time (user + system, /proc) over the
#               steady samples, per sample
#   per client  both divided by the clients listed
# It also checks that the census counted each client once.
#
#   bench/pooler_sample.sh [CLIENTS [SAMPLES]]      (default 1000 20)
#   (the clients stay connected for 3 s per sample plus BENCH_SECONDS, default 60)
#
# Needs pgbouncer and the extension installed into PG_CONFIG's server
# (default PostgreSQL 15 of the system); pgbench and psql from that server.
# Runs as the OS user `postgres` when started as root. Not part of the test
# suite.
set -euo pipefail

clients=${1:-1000}
samples=${2:-20}
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
bindir=$("$PG_CONFIG" --bindir)
export PATH="$bindir:$PATH"
pgbouncer=$(command -v pgbouncer || true)
[ -n "$pgbouncer" ] || { echo "pgbouncer is not installed" >&2; exit 1; }

if [ "$(id -u)" = 0 ]; then
    # Clusters do not run as root: redo everything as postgres from a copy.
    copy=$(mktemp -d /tmp/pooler-sample-bench.XXXXXX)
    mkdir -p "$copy/bench"
    cp "$0" "$copy/bench/pooler_sample.sh"
    chown -R postgres: "$copy"
    trap 'rm -rf "$copy"' EXIT
    runuser -u postgres -- env PG_CONFIG="$PG_CONFIG" bash "$copy/bench/pooler_sample.sh" "$clients" "$samples"
    exit $?
fi

# Every client holds a socket in pgbench and in pgbouncer.
ulimit -n $((clients * 2 + 200)) 2>/dev/null || ulimit -n "$(ulimit -Hn)"
work=$(mktemp -d /tmp/pooler-sample-run.XXXXXX)
port=$((20000 + RANDOM % 20000))
bport=$((port + 1))
bench_pid=
cleanup() {
    set +e
    [ -n "$bench_pid" ] && kill "$bench_pid" 2>/dev/null
    [ -f "$work/pgbouncer.pid" ] && kill "$(cat "$work/pgbouncer.pid")" 2>/dev/null
    [ -f "$work/data/postmaster.pid" ] && pg_ctl -D "$work/data" -m immediate stop >/dev/null 2>&1
    wait 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=127.0.0.1 \
    -keyout "$work/pooler.key" -out "$work/pooler.crt" 2>/dev/null
chmod 600 "$work/pooler.key"

initdb -D "$work/data" -A trust >/dev/null
cat >>"$work/data/postgresql.conf" <<CONF
port = $port
listen_addresses = ''
unix_socket_directories = '$work'
shared_buffers = 16MB
shared_preload_libraries = 'pg_tls_audit'
tls_audit.census_save_interval = 0
tls_audit.poolers = 'edge=host=127.0.0.1 port=$bport dbname=pgbouncer user=$(id -un) sslmode=require'
tls_audit.pooler_sample_interval = 0
log_min_messages = debug1
CONF
pg_ctl -D "$work/data" -l "$work/log" -w start >/dev/null
psql -X -q -h "$work" -p "$port" -d postgres -c 'CREATE EXTENSION pg_tls_audit' >/dev/null

echo "\"$(id -un)\" \"\"" >"$work/users.txt"
cat >"$work/pgbouncer.ini" <<INI
[databases]
postgres = host=$work port=$port dbname=postgres
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $bport
unix_socket_dir =
auth_type = trust
auth_file = $work/users.txt
admin_users = $(id -un)
pool_mode = transaction
default_pool_size = 4
max_client_conn = $((clients + 100))
log_connections = 0
log_disconnections = 0
logfile = $work/pgbouncer.log
pidfile = $work/pgbouncer.pid
client_tls_sslmode = require
client_tls_cert_file = $work/pooler.crt
client_tls_key_file = $work/pooler.key
INI
"$pgbouncer" -d "$work/pgbouncer.ini"
for _ in $(seq 1 100); do
    pg_isready -q -h 127.0.0.1 -p "$bport" -d postgres && break
    sleep 0.1
done

# The clients: pgbench connects each once, then runs a short transaction and
# sleeps, for as long as the measurement may take.
printf 'SELECT 1;\n\\sleep 2 s\n' >"$work/script.sql"
PGSSLMODE=require pgbench -n -h 127.0.0.1 -p "$bport" -c "$clients" -j 2 -T $((samples * 3 + ${BENCH_SECONDS:-60})) \
    -f "$work/script.sql" postgres >"$work/pgbench.log" 2>&1 &
bench_pid=$!

q() { psql -X -q -At -h "$work" -p "$port" -d postgres -c "$1"; }
listed() { q "SELECT count(*) FROM tls_audit.pooler_clients() WHERE datname = 'postgres' AND protocol IS NOT NULL"; }
# (A failing query, e.g. an extension without the pooler functions, ends the script: set -e.)
n=0
for _ in $(seq 1 600); do
    n=$(listed)
    [ "$n" -ge "$clients" ] && break
    kill -0 "$bench_pid" 2>/dev/null || {
        cat "$work/pgbench.log" >&2
        q "SELECT coalesce(error, 'listed: ' || count(*)) FROM tls_audit.pooler_clients() GROUP BY error" >&2
        exit 1
    }
    sleep 0.5
done
[ "$n" -ge "$clients" ] || { echo "only $n of $clients clients connected" >&2; exit 1; }

# Sampling on; the worker's DEBUG1 lines say what each sample cost.
# The worker has no database connection, so no pg_stat_activity row: the
# postmaster's child with its title.
postmaster=$(head -1 "$work/data/postmaster.pid")
worker=
for p in $(pgrep -P "$postmaster"); do
    tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q 'pg_tls_audit pooler sample' && worker=$p
done
[ -n "$worker" ] || { echo "the pooler sample worker is not running" >&2; exit 1; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$worker/stat"; }
lines() { grep -c 'sampled pooler "edge"' "$work/log" || true; }
q "ALTER SYSTEM SET tls_audit.pooler_sample_interval = 1" >/dev/null
q "SELECT pg_reload_conf()" >/dev/null
for _ in $(seq 1 100); do [ "$(lines)" -ge 1 ] && break; sleep 0.2; done
cpu0=$(cpu_ticks)
for _ in $(seq 1 $((samples * 5 + 50))); do [ "$(lines)" -ge $((samples + 1)) ] && break; sleep 0.2; done
cpu1=$(cpu_ticks)
[ "$(lines)" -ge $((samples + 1)) ] || { echo "the worker did not sample $samples times" >&2; exit 1; }
q "ALTER SYSTEM SET tls_audit.pooler_sample_interval = 0" >/dev/null
q "SELECT pg_reload_conf()" >/dev/null

counted=$(q "SELECT coalesce(sum(connections), 0) FROM tls_audit.census WHERE source = 'edge'")
hz=$(getconf CLK_TCK)
grep 'sampled pooler "edge"' "$work/log" | head -n $((samples + 1)) |
    sed -E 's/.*: ([0-9]+) clients, ([0-9]+) new, ([0-9.]+) ms.*/\1 \2 \3/' >"$work/samples"
# The steady samples' wall times, sorted, for the median (mawk has no sort).
tail -n +2 "$work/samples" | awk '{ print $3 }' | sort -n >"$work/steady_ms"
median=$(awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }' "$work/steady_ms")
awk -v cpu=$((cpu1 - cpu0)) -v hz="$hz" -v n="$samples" -v counted="$counted" -v med="$median" -v clients="$clients" '
        NR == 1 { first_clients = $1; first_new = $2; first_ms = $3; next }
        { listed += $1; fresh += $2 }
        END {
            per = listed / n
            cpu_ms = cpu * 1000 / hz / n
            printf "first sample: %d rows listed (the admin console included), %d new, %.2f ms wall (%.1f us per row)\n",
                first_clients, first_new, first_ms, first_ms * 1000 / first_clients
            printf "steady samples (%d): %.0f rows listed, %d new in all\n", n, per, fresh
            printf "  wall per sample: median %.2f ms (%.1f us per row)\n", med, med * 1000 / per
            printf "  worker cpu per sample: %.2f ms (%.1f us per row; %d ticks of 1/%d s in all)\n",
                cpu_ms, cpu_ms * 1000 / per, cpu, hz
            printf "census: %d connections counted under source edge, for %d clients\n", counted, clients
        }' "$work/samples"
