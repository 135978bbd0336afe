#!/usr/bin/env bash
# Benchmark: shared memory per census entry. Starts a throwaway cluster with
# pg_tls_audit preloaded once per tls_audit.census_max value and reads
# pg_shmem_allocations; the bytes per entry of a value are the growth over
# the smallest census_max (10) divided by the entries added, so everything
# that does not grow with the census (shared_buffers, the rest of the
# extension) cancels out. Printed side by side, per census_max:
#   segment    the whole segment (every row, the free remainder included:
#              what the operator pays)
#   allocated  the allocated rows only (named and anonymous)
#   hash       the census hash's named header and directory
#   texts      the census key texts' area
# Target: segment bytes per entry <= 400.
#
#   bench/census_memory.sh [CENSUS_MAX...]      (default 1000 5000 20000 100000)
#
# Needs the extension installed into PG_CONFIG's server (default PostgreSQL
# 15 of the system). Runs as the OS user `postgres` when started as root. The
# numbers do not depend on load; nothing is timed. Not part of the test suite.
set -euo pipefail

sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000 5000 20000 100000)
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
bindir=$("$PG_CONFIG" --bindir)
export PATH="$bindir:$PATH"

if [ "$(id -u)" = 0 ]; then
    # Clusters do not run as root: redo everything as postgres from a copy.
    copy=$(mktemp -d /tmp/census-memory-bench.XXXXXX)
    mkdir -p "$copy/bench"
    cp "$0" "$copy/bench/census_memory.sh"
    chown -R postgres: "$copy"
    trap 'rm -rf "$copy"' EXIT
    runuser -u postgres -- env PG_CONFIG="$PG_CONFIG" bash "$copy/bench/census_memory.sh" "${sizes[@]}"
    exit $?
fi

work=$(mktemp -d /tmp/census-memory-run.XXXXXX)
port=$((20000 + RANDOM % 20000))
cleanup() {
    set +e
    [ -f "$work/data/postmaster.pid" ] && pg_ctl -D "$work/data" -m immediate stop >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT

initdb -D "$work/data" -A trust >/dev/null
cat >>"$work/data/postgresql.conf" <<CONF
port = $port
listen_addresses = ''
unix_socket_directories = '$work'
shared_buffers = 16MB
shared_preload_libraries = 'pg_tls_audit'
tls_audit.census_save_interval = 0
log_min_messages = warning
CONF

# segment allocated hash texts (bytes) at one census_max.
measure() {
    printf 'tls_audit.census_max = %s\n' "$1" >"$work/data/census.conf"
    grep -q "include 'census.conf'" "$work/data/postgresql.conf" ||
        echo "include 'census.conf'" >>"$work/data/postgresql.conf"
    pg_ctl -D "$work/data" -l "$work/log" -w start >/dev/null
    local got
    got=$(psql -X -q -At -h "$work" -p "$port" -d postgres -F ' ' -c "
        SELECT current_setting('tls_audit.census_max'),
               sum(allocated_size),
               sum(allocated_size) FILTER (WHERE name IS NOT NULL),
               coalesce(sum(allocated_size) FILTER (WHERE name = 'pg_tls_audit census hash'), 0),
               coalesce(sum(allocated_size) FILTER (WHERE name = 'pg_tls_audit census texts'), 0)
          FROM pg_shmem_allocations")
    pg_ctl -D "$work/data" -m fast -w stop >/dev/null
    [ "${got%% *}" = "$1" ] || { echo "census_max $1 was not applied: $got" >&2; exit 1; }
    echo "${got#* }"
}

read -r base_seg base_alloc base_hash base_texts < <(measure 10)
printf '%10s %16s %16s %12s %12s\n' census_max "segment B/entry" "allocated B/entry" "hash B/entry" "texts B/entry"
for n in "${sizes[@]}"; do
    read -r seg alloc hash texts < <(measure "$n")
    awk -v n="$n" -v s="$((seg - base_seg))" -v a="$((alloc - base_alloc))" -v h="$((hash - base_hash))" \
        -v t="$((texts - base_texts))" \
        'BEGIN { d = n - 10; printf "%10d %16.1f %16.1f %12.1f %12.1f\n", n, s / d, a / d, h / d, t / d }'
done
echo
echo "bytes per entry = growth of pg_shmem_allocations over census_max = 10, divided by (census_max - 10)"
echo "(hash: the named header and directory only; its entries are anonymous allocations, in allocated)"
