#!/usr/bin/env bash
# Time pg_tls_check (all four versions + the chain) against
# `testssl --starttls postgres -p` (protocols only) on the same local server,
# in interleaved runs, and show both tools' protocol verdicts side by side.
#
#   su postgres -c "bash bench/probe_vs_testssl.sh"      (from a directory postgres owns)
#
# Environment: TLS_AUDIT_TEST_CERTS (from test/certs/make-certs.sh), PATH with
# initdb/pg_ctl and pg_tls_check (PG_TLS_CHECK=path overrides), RUNS (default 3),
# MIN_PROTOCOL (the server's ssl_min_protocol_version, default TLSv1), TESTSSL
# (default testssl, Debian's name for testssl.sh). Not part of CI: testssl
# takes tens of seconds per run.
set -euo pipefail

PG_TLS_CHECK=${PG_TLS_CHECK:-pg_tls_check}
TESTSSL=${TESTSSL:-testssl}
RUNS=${RUNS:-3}
MIN_PROTOCOL=${MIN_PROTOCOL:-TLSv1}
CERTS=${TLS_AUDIT_TEST_CERTS:?set TLS_AUDIT_TEST_CERTS to the generated certificates}
for tool in initdb pg_ctl jq "$PG_TLS_CHECK" "$TESTSSL"; do
    command -v "$tool" >/dev/null || { echo "$tool not found in PATH" >&2; exit 2; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/probe_vs_testssl.XXXXXX")
DATA=$WORK/data
cleanup() {
    [[ -f $DATA/postmaster.pid ]] && pg_ctl -D "$DATA" -m immediate -w stop >/dev/null 2>&1
    rm -rf "$WORK"
}
trap cleanup EXIT

cp "$CERTS"/{server-chain.crt,server.key} "$WORK/"
chmod 600 "$WORK/server.key"
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
PORT=
for _ in $(seq 200); do
    p=$((20000 + RANDOM % 30000))
    port_in_use "$p" || { PORT=$p; break; }
done
[[ -n $PORT ]] || { echo "no free port" >&2; exit 2; }
initdb -D "$DATA" -A trust --no-sync >/dev/null
cat >"$DATA/postgresql.auto.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$WORK'
ssl = on
ssl_cert_file = '$WORK/server-chain.crt'
ssl_key_file = '$WORK/server.key'
ssl_min_protocol_version = '$MIN_PROTOCOL'
ssl_ciphers = 'ALL:@SECLEVEL=0'
CONF
pg_ctl -D "$DATA" -l "$WORK/server.log" -w start >/dev/null
echo "server 127.0.0.1:$PORT, ssl_min_protocol_version = $MIN_PROTOCOL; $RUNS interleaved runs"

now_ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : int((a[NR / 2] + a[NR / 2 + 1]) / 2)}'; }

mine_ms=() theirs_ms=()
printf '%-5s %16s %12s\n' run pg_tls_check testssl
for i in $(seq "$RUNS"); do
    t0=$(now_ms)
    "$PG_TLS_CHECK" --format json --min-protocol TLSv1 "127.0.0.1:$PORT" >"$WORK/mine.json" || true
    t1=$(now_ms)
    rm -f "$WORK/theirs.json"
    "$TESTSSL" --quiet --color 0 --warnings off --jsonfile "$WORK/theirs.json" \
        --starttls postgres -p "127.0.0.1:$PORT" >"$WORK/theirs.out" 2>&1 || true
    t2=$(now_ms)
    mine_ms+=($((t1 - t0)))
    theirs_ms+=($((t2 - t1)))
    printf '%-5s %13s ms %9s ms\n' "$i" "$((t1 - t0))" "$((t2 - t1))"
done
m=$(printf '%s\n' "${mine_ms[@]}" | median)
t=$(printf '%s\n' "${theirs_ms[@]}" | median)
echo "median: pg_tls_check ${m} ms, testssl ${t} ms; testssl / pg_tls_check = $(awk -v a="$t" -v b="$m" 'BEGIN {printf "%.1f", a / (b > 0 ? b : 1)}')x"

# Verdicts of the last run, side by side.
echo
printf '%-9s %-44s %s\n' protocol pg_tls_check testssl
agree=0
declare -A TESTSSL_ID=([TLSv1]=TLS1 [TLSv1.1]=TLS1_1 [TLSv1.2]=TLS1_2 [TLSv1.3]=TLS1_3)
for v in TLSv1 TLSv1.1 TLSv1.2 TLSv1.3; do
    mine=$(jq -r --arg v "$v" '.targets[0].protocols[$v] // {} |
        if .accepted == true then "accepted (\(.cipher))" elif .accepted == false then "refused" else "error" end' "$WORK/mine.json")
    theirs=$(jq -r --arg id "${TESTSSL_ID[$v]}" '[.[] | select(.id == $id) | .finding][0] // "?"' "$WORK/theirs.json" 2>/dev/null || echo "?")
    [[ ($mine == accepted* && $theirs == offered*) || ($mine == refused && $theirs == "not offered"*) ]] && agree=$((agree + 1))
    printf '%-9s %-44s %s\n' "$v" "$mine" "$theirs"
done
echo "verdicts agree on $agree of 4 versions"
