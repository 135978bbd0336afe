#!/usr/bin/env bash
# Benchmark: SELECT * FROM tls_audit.sessions against the seed query
#   SELECT * FROM pg_stat_ssl JOIN pg_stat_activity USING (pid)
# with 100 and then 500 idle TLS backends, the two queries timed in
# interleaved rounds (the order alternates each round), printing the median
# latency of each and the ratio of the medians. Target: ratio <= 1.0 at both
# (the view costs no more than the query it replaces).
#
#   bench/sessions_view.sh [ROUNDS [TRANSACTIONS_PER_ROUND]]     (default 15 200)
#
# Starts its own throwaway cluster (with the installed pg_tls_audit preloaded)
# in a temporary directory, as the OS user `postgres` when run as root. Not
# part of the test suite.
set -euo pipefail

rounds=${1:-15}
per_round=${2:-200}
repo=$(cd "$(dirname "$0")/.." && pwd)
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
bindir=$("$PG_CONFIG" --bindir)
export PATH="$bindir:$PATH"

if [ "$(id -u)" = 0 ]; then
    # Clusters do not run as root: redo everything as postgres from a copy.
    copy=$(mktemp -d /tmp/sessions-bench.XXXXXX)
    mkdir -p "$copy/bench" "$copy/test/certs"
    cp "$0" "$copy/bench/sessions_view.sh"
    cp "$repo"/test/certs/*.sh "$copy/test/certs/"  # make-certs.sh calls its siblings
    chown -R postgres: "$copy"
    trap 'rm -rf "$copy"' EXIT
    runuser -u postgres -- env PG_CONFIG="$PG_CONFIG" bash "$copy/bench/sessions_view.sh" "$rounds" "$per_round"
    exit $?
fi

work=$(mktemp -d /tmp/sessions-bench-run.XXXXXX)
port=$((20000 + RANDOM % 20000))
holder=
cleanup() {
    set +e  # the holder's exit status must not stop the cleanup
    if [ -n "$holder" ]; then
        kill "$holder" 2>/dev/null
        wait "$holder" 2>/dev/null
    fi
    [ -d "$work/data" ] && pg_ctl -D "$work/data" -m immediate stop >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT

echo "setting up a cluster in $work (port $port)"
bash "$repo/test/certs/make-certs.sh" "$work/certs" >"$work/certs.log" 2>&1 || { echo "make-certs.sh failed:"; tail -5 "$work/certs.log"; exit 1; }
initdb -D "$work/data" -A trust >/dev/null
cp "$work/certs/server-chain.crt" "$work/data/server.crt"
cp "$work/certs/server.key" "$work/data/server.key"
chmod 600 "$work/data/server.key"
cat >>"$work/data/postgresql.conf" <<CONF
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$work'
max_connections = 560
shared_buffers = 64MB
ssl = on
ssl_cert_file = 'server.crt'
ssl_key_file = 'server.key'
shared_preload_libraries = 'pg_tls_audit'
log_min_messages = warning
CONF
pg_ctl -D "$work/data" -l "$work/log" -w start >/dev/null
psql_q() { psql -X -q -At -h "$work" -p "$port" -d postgres -c "$1"; }
psql_q 'CREATE EXTENSION pg_tls_audit'
[ "$(psql_q 'SELECT tls_audit.preloaded()')" = t ] || { echo "registry not active"; exit 1; }

echo '\sleep 3600 s' >"$work/idle.sql"
echo 'SELECT * FROM tls_audit.sessions;' >"$work/view.sql"
echo 'SELECT * FROM pg_stat_ssl JOIN pg_stat_activity USING (pid);' >"$work/seed.sql"

# Average latency (ms) of one pgbench run of a script over the unix socket.
latency() {
    pgbench -n -h "$work" -p "$port" -c 1 -t "$per_round" -f "$1" postgres 2>&1 |
        sed -n 's/^latency average = \([0-9.]*\) ms$/\1/p'
}
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

printf '\n%8s %5s %8s %14s %14s %7s %16s\n' backends tls registry "view ms (med)" "seed ms (med)" ratio "per-round (med)"
for backends in 100 500; do
    # Idle TLS backends: pgbench clients that connect, then sleep.
    if [ -n "$holder" ]; then
        kill "$holder" 2>/dev/null || true
        wait "$holder" 2>/dev/null || true
        holder=
    fi
    PGSSLMODE=require pgbench -n -h 127.0.0.1 -p "$port" -c "$backends" -j 2 -T 3600 -f "$work/idle.sql" postgres \
        >"$work/holder.log" 2>&1 &
    holder=$!
    for _ in $(seq 1 600); do
        n=$(psql_q "SELECT count(*) FROM pg_stat_ssl WHERE ssl")
        [ "$n" -ge "$backends" ] && break
        sleep 0.2
    done
    n=$(psql_q "SELECT count(*) FROM pg_stat_ssl WHERE ssl")
    [ "$n" -ge "$backends" ] || { echo "only $n TLS backends came up"; cat "$work/holder.log"; exit 1; }
    with_registry=$(psql_q "SELECT count(*) FROM tls_audit.sessions WHERE key_exchange_group IS NOT NULL")

    : >"$work/view.ms"
    : >"$work/seed.ms"
    : >"$work/ratio"
    for r in $(seq 1 "$rounds"); do
        if [ $((r % 2)) = 1 ]; then
            v=$(latency "$work/view.sql"); s=$(latency "$work/seed.sql")
        else
            s=$(latency "$work/seed.sql"); v=$(latency "$work/view.sql")
        fi
        echo "$v" >>"$work/view.ms"
        echo "$s" >>"$work/seed.ms"
        awk -v v="$v" -v s="$s" 'BEGIN { printf "%.3f\n", v / s }' >>"$work/ratio"
    done
    mv=$(median <"$work/view.ms")
    ms=$(median <"$work/seed.ms")
    printf '%8s %5s %8s %14.3f %14.3f %7.2f %16.2f\n' "$backends" "$n" "$with_registry" "$mv" "$ms" \
        "$(awk -v v="$mv" -v s="$ms" 'BEGIN { print v / s }')" "$(median <"$work/ratio")"
done
echo
echo "rounds: $rounds x $per_round transactions per query; ratio = median view latency / median seed latency"
