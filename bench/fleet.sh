#!/usr/bin/env bash
# A simulated fleet on loopback only: CLUSTERS local PostgreSQL clusters, each
# listening on ADDRESSES addresses of 127.0.0.0/8 (127.0.<cluster>.1 ...), so
# that the targets are distinct address:port pairs; the list is repeated up to
# TARGETS entries. Prints the time and the peak RSS of
#   pg_tls_check --jobs JOBS --format tap --targets FILE          (versions + chain)
# for TARGETS (default 1000; 0 skips) and BIG (default 10000; 0 skips) targets, and the
# rate of --enumerate over ENUM_TARGETS (default 32) targets.
#
#   su postgres -c "bash bench/fleet.sh"      (from a directory postgres owns)
#
# Environment: TLS_AUDIT_TEST_CERTS (test/certs/make-certs.sh), PATH with
# initdb/pg_ctl and pg_tls_check (PG_TLS_CHECK=path overrides), JOBS (16),
# CLUSTERS (4), ADDRESSES (50, at most 63: PostgreSQL's MAXLISTEN). Never
# touches an address outside 127.0.0.0/8. Needs GNU time (/usr/bin/time).
set -euo pipefail

PG_TLS_CHECK=${PG_TLS_CHECK:-pg_tls_check}
JOBS=${JOBS:-16}
CLUSTERS=${CLUSTERS:-4}
ADDRESSES=${ADDRESSES:-50}
TARGETS=${TARGETS:-1000}
BIG=${BIG:-10000}
ENUM_TARGETS=${ENUM_TARGETS:-32}
CERTS=${TLS_AUDIT_TEST_CERTS:?set TLS_AUDIT_TEST_CERTS to the generated certificates}
for tool in initdb pg_ctl "$PG_TLS_CHECK" /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "$tool not found" >&2; exit 2; }
done
(( ADDRESSES >= 1 && ADDRESSES <= 63 && CLUSTERS >= 1 && CLUSTERS <= 250 )) || { echo "bad CLUSTERS/ADDRESSES" >&2; exit 2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/pg_tls_fleet.XXXXXX")
cleanup() {
    for d in "$WORK"/data*; do
        [[ -f $d/postmaster.pid ]] && pg_ctl -D "$d" -m immediate -w stop >/dev/null 2>&1
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
cp "$CERTS"/{server-chain.crt,server.key} "$WORK/"
chmod 600 "$WORK/server.key"
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

: >"$WORK/unique"
for c in $(seq "$CLUSTERS"); do
    port=
    for _ in $(seq 200); do
        p=$((20000 + RANDOM % 30000))
        port_in_use "$p" || { port=$p; break; }
    done
    [[ -n $port ]] || { echo "no free port" >&2; exit 2; }
    addrs=$(for a in $(seq "$ADDRESSES"); do printf '127.0.%d.%d,' "$c" "$a"; done)
    initdb -D "$WORK/data$c" -A trust --no-sync >/dev/null
    cat >"$WORK/data$c/postgresql.auto.conf" <<CONF
listen_addresses = '${addrs%,}'
port = $port
unix_socket_directories = '$WORK'
max_connections = 200
ssl = on
ssl_cert_file = '$WORK/server-chain.crt'
ssl_key_file = '$WORK/server.key'
ssl_min_protocol_version = 'TLSv1.2'
CONF
    pg_ctl -D "$WORK/data$c" -l "$WORK/server$c.log" -w start >/dev/null
    for a in $(seq "$ADDRESSES"); do echo "127.0.$c.$a:$port"; done >>"$WORK/unique"
done
unique=$(wc -l <"$WORK/unique")
targets_file() {  # targets_file N FILE: the unique targets repeated up to N lines
    local n=$1 out=$2
    : >"$out"
    while (( $(wc -l <"$out") < n )); do cat "$WORK/unique" >>"$out"; done
    head -n "$n" "$out" >"$out.tmp" && mv "$out.tmp" "$out"
}
echo "$CLUSTERS clusters x $ADDRESSES loopback addresses = $unique distinct targets; --jobs $JOBS; $(nproc) CPUs"

run() {  # run LABEL N ARGS...: time and peak RSS of one pg_tls_check run over N targets
    local label=$1 n=$2
    shift 2
    targets_file "$n" "$WORK/targets"
    /usr/bin/time -f '%e %M' -o "$WORK/time" "$PG_TLS_CHECK" --jobs "$JOBS" --format tap --timeout 20000 "$@" \
        --targets "$WORK/targets" >"$WORK/out.tap" 2>"$WORK/err" || true
    # GNU time writes "Command exited with non-zero status N" first when the
    # status is not 0 (WARNING and worse are); the numbers are the last line.
    read -r secs kb < <(tail -n 1 "$WORK/time")
    local ok notok
    ok=$(grep -c '^ok ' "$WORK/out.tap" || true)
    notok=$(grep -c '^not ok ' "$WORK/out.tap" || true)
    printf '%-34s %6d targets  %8.2f s  %7.1f targets/s  peak RSS %6.1f MB  (ok %d, not ok %d)\n' \
        "$label" "$n" "$secs" "$(awk -v n="$n" -v s="$secs" 'BEGIN {print n / (s > 0 ? s : 1)}')" \
        "$(awk -v k="$kb" 'BEGIN {print k / 1024}')" "$ok" "$notok"
    grep -m3 '^not ok' "$WORK/out.tap" || true
}

(( TARGETS > 0 )) && run "versions + chain" "$TARGETS"
(( BIG > 0 )) && run "versions + chain" "$BIG"
(( ENUM_TARGETS > 0 )) && run "--enumerate" "$ENUM_TARGETS" --enumerate
exit 0
